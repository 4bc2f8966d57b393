"""Proof and repair: recount tallies (and a quiz's scores) from the vote records, and say
why a dead letter died.

The operator commands over these (`recount`, `dlq show`, `dlq redrive`) are
in webapp/cli.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pydantic import ValidationError

from core.aws.players import PlayerStore
from core.aws.store import Store
from core.rules.errors import Conflict
from core.rules.formats.quiz import is_quiz, player_deltas
from core.rules.question_types import choice_ids_of
from core.rules.tally_slots import choice_totals
from core.rules.topics import generation_of, has_choice
from core.rules.votes import VoteMessage, stored_counts

STABLE_ATTEMPTS = 5


@dataclass
class Recount:
    """A topic's tallies as stored and as the vote records prove them."""

    topic_id: str
    stored: dict[str, int]
    proven: dict[str, int]
    slots: dict[str, int] = field(default_factory=dict)
    # The topic's generation the recount was of (its results since its last reset).
    generation: int = 0
    # How many counted vote records it found.
    counted: int = 0

    @property
    def drift(self) -> dict[str, int]:
        """counter -> stored minus proven, for the counters that disagree (a single
        choice's counter is its choice id; docs/data.md lists the others)."""
        choices = set(self.stored) | set(self.proven)
        diff = {c: self.stored.get(c, 0) - self.proven.get(c, 0) for c in choices}
        return {c: d for c, d in sorted(diff.items()) if d}


def recount(store: Store, topic_id: str) -> Recount:
    """Count the topic's `counted` vote records and compare with its tallies, counter by
    counter, for every question type.

    Only the current generation's (topics.generation_of): a reset deletes the
    older generations' records, and any it has not reached yet (a purge cut
    short, an index not yet caught up) are ignored here, as their tallies are.

    Votes and tallies change together, in one transaction, so a count is
    consistent when the tallies read the same before and after the scan of
    the records; otherwise a vote landed meanwhile and the count is taken again.
    """
    generation = generation_of(store.get_topic(topic_id) or {})
    for _ in range(STABLE_ATTEMPTS):
        before = store.get_slot_counts(topic_id, generation, answers=True)
        proven: dict[str, int] = {}
        counted = 0
        for vote in store.topic_votes(topic_id):
            if vote.get("status") == "counted" and vote.get("generation", 0) == generation:
                counted += 1
                # Exactly what the vote added (its counts: every type's counters,
                # a game's rival take too), as its transaction wrote them.
                for counter, n in stored_counts(vote).items():
                    proven[counter] = proven.get(counter, 0) + n
        after = store.get_slot_counts(topic_id, generation, answers=True)
        if before == after:
            stored = {c: n for c, n in choice_totals(after).items() if n}
            proven = {c: n for c, n in proven.items() if n}
            return Recount(topic_id, stored, proven, after, generation, counted)
    raise Conflict(f"{topic_id}: votes kept landing during the recount; try when it is quieter")


def fix(store: Store, result: Recount) -> None:
    """Write the proven counts, conditioned on the tallies still being what was read."""
    for counter in result.drift:
        store.set_choice_tally(
            result.topic_id, counter, result.slots, result.proven.get(counter, 0),
            result.generation,
        )  # fmt: skip


TALLIES = ("score", "correct", "answered")
SCORE_FIELDS = ("voter_id", "status", "score")


@dataclass
class ScoreRecount:
    """A quiz event's player tallies as stored and as the answer records prove them:
    {voter_id: {"score", "correct", "answered"}}."""

    event_id: str
    stored: dict[str, dict[str, int]]
    proven: dict[str, dict[str, int]]
    # How many counted (scored) answer records it found.
    counted: int = 0

    @property
    def drift(self) -> dict[str, dict[str, int]]:
        """voter_id -> {tally: stored minus proven}, for the players that disagree."""
        zero = dict.fromkeys(TALLIES, 0)
        found = {}
        for voter in sorted(set(self.stored) | set(self.proven)):
            stored, proven = self.stored.get(voter, zero), self.proven.get(voter, zero)
            diff = {t: stored[t] - proven[t] for t in TALLIES if stored[t] != proven[t]}
            if diff:
                found[voter] = diff
        return found


def recount_scores(store: Store, players: PlayerStore, event_id: str) -> ScoreRecount:
    """Add up the points, correct answers and answers of every counted quiz answer asked
    in the event (the quiz topics bound to it, whichever questions the event lists now)
    and compare them with its players' tallies. As `recount`: consistent when the tallies
    read the same before and after the records were read."""
    topics = [t["id"] for t in store.list_topics() if is_quiz(t) and t.get("event_id") == event_id]
    for _ in range(STABLE_ATTEMPTS):
        before = _player_tallies(players, event_id)
        scores: dict[str, list[dict]] = {}
        for topic_id in topics:
            for record in store.topic_votes(topic_id, SCORE_FIELDS):
                score = record.get("score")
                if record.get("status") == "counted" and score and score["event_id"] == event_id:
                    scores.setdefault(record["voter_id"], []).append(score)
        if before == _player_tallies(players, event_id):
            proven = {voter: player_deltas(found) for voter, found in scores.items()}
            counted = sum(len(found) for found in scores.values())
            return ScoreRecount(event_id, before, proven, counted)
    raise Conflict(f"{event_id}: answers kept landing during the recount; try when it is quieter")


def fix_scores(players: PlayerStore, result: ScoreRecount) -> None:
    """Write the proven tallies of each drifting player, each conditioned on its tallies
    still being what was read."""
    zero = dict.fromkeys(TALLIES, 0)
    for voter in result.drift:
        players.set_tallies(
            result.event_id, voter, result.stored.get(voter, zero), result.proven.get(voter, zero)
        )


def _player_tallies(players: PlayerStore, event_id: str) -> dict[str, dict[str, int]]:
    return {p["voter_id"]: {t: p[t] for t in TALLIES} for p in players.players(event_id)}


def diagnose(body: str, store: Store) -> str:
    """Why a dead-lettered message could not be recorded, as far as can be told now."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return "not JSON"
    try:
        vote = VoteMessage.model_validate(data)
    except ValidationError as exc:
        return f"not a vote message ({exc.error_count()} field errors)"
    topic = store.get_topic(vote.topic_id)
    if topic is None:
        return "unknown topic"
    if not all(has_choice(topic, c) for c in choice_ids_of(vote.payload)):
        return "choice not in topic"
    return "looks valid now: it failed while something was down (redrive it)"
