"""Results maths: shares of the votes and who leads. Pure functions."""

from __future__ import annotations


def percentages(counts: list[int]) -> list[int]:
    """Each count as a whole percentage of the total, rounded half up; 0s when no votes.

    1 and 2 votes give 33 and 67, as the original reported.
    """
    total = sum(counts)
    if total <= 0:
        return [0 for _ in counts]
    # Integer arithmetic: round(100 * c / total) with halves going up, exactly.
    return [(200 * c + total) // (2 * total) for c in counts]


def leaders(counts: dict[str, int]) -> list[str]:
    """The ids with the most votes (several on a tie); nobody leads before the first vote."""
    top = max(counts.values(), default=0)
    return [choice_id for choice_id, n in counts.items() if top > 0 and n == top]


def shares_adding_to_100(counts: list[int]) -> list[int]:
    """Whole percentages that add up to exactly 100 (largest remainder); 0s when no votes.

    Pages show these, so three equal choices read 34/33/33, never 33/33/33 or
    a total of 101%. The API's `votes` keeps `percentages` (the original's rounding).
    Ties in the remainders go to the earlier choice, so the result is stable.
    """
    total = sum(counts)
    if total <= 0:
        return [0 for _ in counts]
    floors = [100 * c // total for c in counts]
    by_remainder = sorted(range(len(counts)), key=lambda i: (-(100 * counts[i] % total), i))
    for i in by_remainder[: 100 - sum(floors)]:
        floors[i] += 1
    return floors
