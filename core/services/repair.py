"""Proof and repair: recount tallies (and a quiz's scores) from the vote records, and say
why a dead letter died.

What counts as drift is said once here (`counter_drift`, `score_drift`, over what
`counts_now` and `scored_in` let in) and used by `recount`, `recount_scores` and
`Proof`, which applies the same rule to whole tables read item by item (the
`make run` snapshot's check, local/snapshot.py). The operator commands over these
(`recount`, `dlq show`, `dlq redrive`) are in webapp/cli.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from pydantic import ValidationError

from core.aws.codec import answer_counts, from_item, topic_from_item
from core.aws.players import PLAYER, PlayerStore, player_of
from core.aws.store import Store
from core.rules.errors import Conflict
from core.rules.formats.quiz import is_quiz, player_deltas
from core.rules.question_types import choice_ids_of
from core.rules.tally_slots import choice_totals, parse_tally_key
from core.rules.topics import generation_of, has_choice
from core.rules.votes import COUNTED, VoteMessage, scored, stored_counts

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
        return counter_drift(self.stored, self.proven)


def counts_now(vote: dict, generation: int) -> bool:
    """Does this vote record count in the topic's results at `generation` (its current
    one)? Counted, and of that generation: older ones' records and tallies are a reset's
    leftovers, which a purge deletes and nothing reads."""
    return vote.get("status") == COUNTED and vote.get("generation", 0) == generation


def prove(proven: dict[str, int], vote: dict) -> None:
    """Add what a counted vote added to the tallies (its counts: every type's counters, a
    game's rival take too, as its transaction wrote them) to `proven`, per counter."""
    for counter, n in stored_counts(vote).items():
        proven[counter] = proven.get(counter, 0) + n


def counter_drift(stored: dict[str, int], proven: dict[str, int]) -> dict[str, int]:
    """counter -> stored minus proven, for the counters that disagree: `stored` the
    tallies' counts per counter (tally_slots.choice_totals, shards added up), `proven`
    what the counted records added (`prove`). A counter at 0 on both sides is no drift."""
    diff = {c: stored.get(c, 0) - proven.get(c, 0) for c in set(stored) | set(proven)}
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
            if counts_now(vote, generation):
                counted += 1
                prove(proven, vote)
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
        return score_drift(self.stored, self.proven)


def scored_in(record: dict, event_id: str) -> dict | None:
    """A counted quiz answer's score (points, correct...) when it scored in `event_id`."""
    score = scored(record)
    return score if score and score["event_id"] == event_id else None


def score_drift(
    stored: dict[str, dict[str, int]], scores: dict[str, dict[str, int]]
) -> dict[str, dict[str, int]]:
    """voter_id -> {tally: stored minus proven}, for the players whose tallies (score,
    correct, answered) disagree with what their scored answers add up to (`scores`:
    quiz.player_deltas of each player's `scored_in` answers)."""
    zero = dict.fromkeys(TALLIES, 0)
    found = {}
    for voter in sorted(set(stored) | set(scores)):
        held, proven = stored.get(voter, zero), scores.get(voter, zero)
        diff = {t: held[t] - proven[t] for t in TALLIES if held[t] != proven[t]}
        if diff:
            found[voter] = diff
    return found


def recount_scores(
    store: Store, players: PlayerStore, event_id: str, topics: list[str] | None = None
) -> ScoreRecount:
    """Add up the points, correct answers and answers of every counted quiz answer asked
    in the event (the quiz topics bound to it, whichever questions the event lists now;
    `topics` their ids when known, `asked_in`) and compare them with its players'
    tallies. As `recount`: consistent when the tallies read the same before and after
    the records were read."""
    if topics is None:
        topics = asked_in(store.list_topics()).get(event_id, [])
    for _ in range(STABLE_ATTEMPTS):
        before = _player_tallies(players, event_id)
        scores: dict[str, list[dict]] = {}
        for topic_id in topics:
            for record in store.topic_votes(topic_id, SCORE_FIELDS):
                if score := scored_in(record, event_id):
                    scores.setdefault(record["voter_id"], []).append(score)
        if before == _player_tallies(players, event_id):
            proven = {voter: player_deltas(found) for voter, found in scores.items()}
            counted = sum(len(found) for found in scores.values())
            return ScoreRecount(event_id, before, proven, counted)
    raise Conflict(f"{event_id}: answers kept landing during the recount; try when it is quieter")


def asked_in(topics: list[dict]) -> dict[str, list[str]]:
    """event id -> the ids of the quiz topics bound to it (`event_id`, set when the event
    first opened them): the questions whose answers score in it."""
    asked: dict[str, list[str]] = {}
    for topic in topics:
        if is_quiz(topic) and topic.get("event_id"):
            asked.setdefault(topic["event_id"], []).append(topic["id"])
    return asked


def quiz_events(events: list[dict], topics: list[dict]) -> list[tuple[dict, list[str]]]:
    """The quiz events among `events`, oldest first, each with the quiz topics asked in
    it (`asked_in`): those a quiz question was asked in or that list one still to ask.
    What `recount --all` recounts the scores of."""
    asked = asked_in(topics)
    quizzes = {t["id"] for t in topics if is_quiz(t)}
    found = [
        (event, asked.get(event["id"], []))
        for event in events
        if event["id"] in asked or any(q["topic_id"] in quizzes for q in event["questions"])
    ]
    return sorted(found, key=lambda pair: pair[0]["created"])


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


class Proof:
    """`recount` and `recount_scores` of every topic and quiz event at once, over whole
    tables read item by item (typed items, as a Scan returns them): the same rule, so it
    finds drift exactly where they would.

    Give it every item of TABLES in that order (topics before the records, events before
    the players): a topic's current generation and a quiz question's event are known by
    the time its records come. Only counts are kept, never the records: per topic its
    proven and stored counters, per quiz event its players' tallies and what their
    answers add up to. What recount leaves out is left out here too: the older
    generations of a reset topic, whatever a deleted topic or event left behind (both
    are a purge's to delete, and nothing reads them).
    """

    def __init__(self):
        self._generations: dict[str, int] = {}  # topic id -> its current generation
        self._quiz_events: dict[str, str] = {}  # quiz topic id -> the event it is asked in
        self._events: set[str] = set()
        self._proven: dict[str, dict[str, int]] = {}
        self._slots: dict[str, dict[str, int]] = {}
        self._scores: dict[str, dict[str, dict[str, int]]] = {}
        self._players: dict[str, dict[str, dict[str, int]]] = {}

    def add(self, base: str, item: dict) -> None:
        """One typed item of table `base` (one of TABLES)."""
        if base == "topics":
            topic = topic_from_item(item)
            self._generations[topic["id"]] = generation_of(topic)
            if is_quiz(topic) and topic.get("event_id"):
                self._quiz_events[topic["id"]] = topic["event_id"]
        elif base == "votes" and item.get("status", {}).get("S") == COUNTED:
            self._vote(from_item(item))
        elif base == "tallies":
            topic_id, generation = parse_tally_key(item["topic_id"]["S"])
            if self._generations.get(topic_id) == generation:
                slots = self._slots.setdefault(topic_id, {})
                slots.update(answer_counts(item))  # one item per slot: nothing to add up
        elif base == "events":
            self._events.add(item["id"]["S"])
        elif base == "players" and item["player"]["S"].startswith(PLAYER):
            player = player_of(item)
            held = {t: player[t] for t in TALLIES}
            self._players.setdefault(player["event_id"], {})[player["voter_id"]] = held

    def _vote(self, vote: dict) -> None:
        topic_id = vote["topic_id"]
        if topic_id in self._generations and counts_now(vote, self._generations[topic_id]):
            prove(self._proven.setdefault(topic_id, {}), vote)
        event_id = self._quiz_events.get(topic_id)
        if event_id and (score := scored_in(vote, event_id)):
            totals = self._scores.setdefault(event_id, {}).setdefault(vote["voter_id"], {})
            for tally, n in player_deltas([score]).items():
                totals[tally] = totals.get(tally, 0) + n

    def drift(self) -> dict[str, dict]:
        """What disagrees: {topic id: Recount.drift, event id: ScoreRecount.drift}, only
        those with drift; empty when the tallies and the records agree."""
        found: dict[str, dict] = {}
        for topic_id in self._generations:
            stored = choice_totals(self._slots.get(topic_id, {}))
            if drift := counter_drift(stored, self._proven.get(topic_id, {})):
                found[topic_id] = drift
        for event_id in self._events:
            players, scores = self._players.get(event_id, {}), self._scores.get(event_id, {})
            if drift := score_drift(players, scores):
                found[event_id] = drift
        return found


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
