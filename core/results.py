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
