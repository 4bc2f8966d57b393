"""Instant-runoff voting over rankings: pure maths, no I/O.

Each round counts every ballot for its highest-ranked choice still in the race.
A choice with more than half of the ballots still in play (not exhausted) wins;
otherwise one choice is eliminated and its ballots move to their next choice.
A ballot whose ranked choices are all eliminated is *exhausted* (a ranking of the
top N only can run out): it no longer counts towards the majority.

Ties are broken deterministically, so the same ballots always give the same rounds:
the choice eliminated is the one with the fewest votes this round; among equals,
the one with the fewest Borda points over all ballots (as the ranking's results
count them: the number of choices minus the position); among equals still, the one
listed last in the topic's choices.

The caller (runoffs.py) reads the ballots from the stored vote records of a closed
topic and stores the result on the topic as `runoff`.
"""

from __future__ import annotations


def borda_points(choices: list[str], ballots: list[list[str]]) -> dict[str, int]:
    """Points per choice: (number of choices - position) on each ballot that ranks it."""
    points = dict.fromkeys(choices, 0)
    for ballot in ballots:
        for position, choice in enumerate(ballot):
            if choice in points:
                points[choice] += len(choices) - position
    return points


def instant_runoff(choices: list[str], ballots: list[list[str]]) -> dict:
    """{"winner": id | None, "rounds": [...], "ballots": n} of the ballots (best first).

    Each round is {"counts": {id: votes of each choice still in the race},
    "exhausted": ballots that rank none of them, "eliminated": [the id that goes]};
    the last round eliminates nobody. No ballots: no winner and no rounds. Choices a
    ballot names that are not in `choices` are skipped (the topic lost them).
    """
    result: dict = {"winner": None, "rounds": [], "ballots": len(ballots)}
    if not ballots or not choices:
        return result
    order = {choice: index for index, choice in enumerate(choices)}
    points = borda_points(choices, ballots)
    running = list(choices)
    while True:
        counts = dict.fromkeys(running, 0)
        exhausted = 0
        for ballot in ballots:
            top = next((c for c in ballot if c in counts), None)
            if top is None:
                exhausted += 1
            else:
                counts[top] += 1
        in_play = len(ballots) - exhausted
        leader = max(running, key=lambda c: (counts[c], points[c], -order[c]))
        rounds = result["rounds"]
        if counts[leader] * 2 > in_play or len(running) == 1:
            rounds.append({"counts": counts, "exhausted": exhausted, "eliminated": []})
            result["winner"] = leader if counts[leader] else None
            return result
        loser = min(running, key=lambda c: (counts[c], points[c], -order[c]))
        rounds.append({"counts": counts, "exhausted": exhausted, "eliminated": [loser]})
        running.remove(loser)
