"""What a topic is: its fields, the defaults of its settings (stated here only), and its rules.

A topic is a plain dict as stored in the topics table (PK id):
    id, created, last_upd, is_active, title, choices [{id, description}],
    vote_limit, results_visibility, closes_at, tally_shards, opened_at
    (once the topic was opened: when its current open period began; every opening
    stamps it, a topic created open its creation),
    closed_at (only once an open topic was closed: when its last open period
    ended), generation (only once its results were reset: see `generation_of`),
    results_held (only while an event's presenter holds its results back:
    see `results_held`) and, for a quiz, time_limit, `correct` on its choices and
    event_id (quiz.py).
Topics written before a setting existed lack it, so every topic read from the
store goes through `with_defaults` once; after that every field is present and
no other module restates a default.

Voter policies (`vote_limit`):
- unlimited:      every vote counts (the original game).
- one_per_voter:  a voter's first vote counts; later ones are rejected.
- changeable:     a voter's latest vote counts (policy.py says how "latest" is judged).
"""

from __future__ import annotations

import math
import unicodedata
from datetime import datetime
from typing import Literal, NotRequired, TypedDict

from core.rules.clock import new_id
from core.rules.errors import DuplicateChoice, UnknownChoice
from core.rules.formats.quiz import DEFAULT_TIME_LIMIT

MIN_CHOICES = 2
MAX_CHOICES = 50
# A hot topic's tallies: shards x choices items, read by one Query (1 MB a page).
MAX_TALLY_SHARDS = 100

VoteLimit = Literal["unlimited", "one_per_voter", "changeable"]
ResultsVisibility = Literal["always", "after_vote", "after_close"]

UNLIMITED: VoteLimit = "unlimited"
# The one place each setting's default is stated. `tally_shards` None means
# "the server's TALLY_SHARDS"; `closes_at` None means no deadline; `listed`
# False keeps a topic off the home page (reachable by its link or code only).
DEFAULT_VOTE_LIMIT: VoteLimit = UNLIMITED
DEFAULT_RESULTS_VISIBILITY: ResultsVisibility = "always"
SETTING_DEFAULTS = {
    "vote_limit": DEFAULT_VOTE_LIMIT,
    "results_visibility": DEFAULT_RESULTS_VISIBILITY,
    "closes_at": None,
    "tally_shards": None,
    "listed": True,
    # Question types (question_types.py): single is the original's plain vote.
    "type": "single",
    "min_choices": 1,
    "max_choices": None,  # None: up to every choice
    "rank_top": None,  # None: rank every choice
    "scale_min": 1,
    "scale_max": 5,
    "rate_each": False,
    "blocked_answers": [],
    "hidden_answers": [],
    "runoff": None,  # a ranking's instant runoff, once computed on the closed topic
    "time_limit": DEFAULT_TIME_LIMIT,  # a quiz's seconds to answer
}
# The settings of the question itself: kept as stored when an update leaves them out.
QUESTION_SETTINGS = (
    "type", "min_choices", "max_choices", "rank_top", "scale_min", "scale_max", "rate_each",
    "blocked_answers", "time_limit",
)  # fmt: skip


class Choice(TypedDict):
    id: str
    description: str
    correct: NotRequired[bool]  # a quiz's correct choices only


class Topic(TypedDict):
    id: str
    created: str
    last_upd: str
    is_active: bool
    title: str
    choices: list[Choice]
    vote_limit: VoteLimit
    results_visibility: ResultsVisibility
    closes_at: str | None
    tally_shards: int | None
    listed: bool
    type: str
    min_choices: int
    max_choices: int | None
    rank_top: int | None
    scale_min: int
    scale_max: int
    rate_each: bool
    blocked_answers: list[str]
    hidden_answers: list[str]
    runoff: dict | None
    time_limit: int
    opened_at: NotRequired[str]
    closed_at: NotRequired[str]
    generation: NotRequired[int]
    event_id: NotRequired[str]


def with_defaults(stored: dict) -> Topic:
    """The topic with every setting present: stored values win, defaults fill the rest
    (lists copied, so no two topics share the default's list)."""
    topic = {**SETTING_DEFAULTS, **stored}
    for key in ("blocked_answers", "hidden_answers"):
        topic[key] = list(topic[key])
    return topic  # type: ignore[return-value]


def results_held(topic: dict) -> bool:
    """Does an event's presenter hold this topic's results back (its question's results
    hidden)? Then only the people who manage the topic see them, whatever its
    results_visibility says. Stored on the topic by the event's own transaction."""
    return bool(topic.get("results_held"))


def with_results_held(topic: dict, held: bool) -> dict:
    """A copy of `topic` held back (or not): the field is absent unless held."""
    changed = {key: value for key, value in topic.items() if key != "results_held"}
    if held:
        changed["results_held"] = True
    return changed


def is_open(topic: dict, at: str) -> bool:
    """Does `topic` take a new vote at `at` (ISO time)? Intake's rule: open by its flag,
    inside its current open period (`opened_at`, stamped by every opening) and
    before its deadline (`closes_at`)."""
    if not topic.get("is_active", False):
        return False
    opened_at = topic.get("opened_at")
    if opened_at is not None and at < opened_at:
        return False
    closes_at = topic.get("closes_at")
    return closes_at is None or at < closes_at


def seconds_to_close(topic: dict, at: str) -> int | None:
    """Whole seconds from `at` (ISO time) to the topic's deadline (`closes_at`), rounded
    up; None when it has no deadline or `at` is past it."""
    closes_at = topic.get("closes_at")
    if closes_at is None or at >= closes_at:
        return None
    left = datetime.fromisoformat(closes_at) - datetime.fromisoformat(at)
    return math.ceil(left.total_seconds())


def counts_vote(topic: dict, queued_at: str) -> bool:
    """Does a vote queued at `queued_at` count on `topic` as it is now? The worker's rule:
    a vote queued (answered 202) before the topic closed counts, whenever it is recorded.

    - before a deadline (`closes_at`) and, when the topic is closed, before its close
      (`closed_at`, stamped by the closing write): a close by the presenter, the API or
      a move on counts what was queued before it, as a deadline does;
    - not before the current open period (`opened_at`): a vote queued while the topic
      was closed (a web process's stale copy) or before a close and a later reopen
      does not count in the reopened topic;
    - a topic closed without a `closed_at` stamp (one created closed) counts nothing
      more.
    """
    opened_at = topic.get("opened_at")
    if opened_at is not None and queued_at < opened_at:
        return False
    closes_at = topic.get("closes_at")
    if closes_at is not None and queued_at >= closes_at:
        return False
    if topic.get("is_active", False):
        return True
    closed_at = topic.get("closed_at")
    return closed_at is not None and queued_at < closed_at


def generation_of(topic: dict) -> int:
    """How many times the topic's results were reset (0: never; topics stored before
    resets existed lack the field). Intake stamps it into each queued vote, and the
    worker's transaction counts a vote only if the topic is still at that generation,
    so a vote queued before a reset can never count into the fresh tallies. Internal:
    the API's topic shape does not show it."""
    return topic.get("generation", 0)


def has_choice(topic: dict, choice_id: str) -> bool:
    return any(c["id"] == choice_id for c in topic.get("choices", []))


def refusal_reason(
    topic: dict, choice_id: str | set[str], queued_at: str, generation: int = 0
) -> str | None:
    """Why a vote may not count on `topic`, or None if it may (voter rules aside).

    `choice_id` is the vote's choice, or the set of every choice its answer names
    (question_types.choice_ids_of). `generation` is the topic's generation stamped
    into the vote at intake (a question's rules changing moves it on too).
    """
    if generation != generation_of(topic):
        return "reset"
    if not counts_vote(topic, queued_at):
        return "topic_closed"
    named = {choice_id} if isinstance(choice_id, str) else choice_id
    if not all(has_choice(topic, c) for c in named):
        return "choice_removed"
    return None


def same_choice_key(description: str) -> str:
    """What makes two choices the same: their text ignoring case and the spaces
    around it ("Rust", " rust ", "RUST"), in one Unicode form (é typed either way)."""
    return unicodedata.normalize("NFC", description.strip()).casefold()


def repeated_choice(descriptions: list[str]) -> int | None:
    """The index of the first choice that repeats an earlier one, or None.

    Two buttons reading the same split one answer's votes between them, so a
    topic's choices must differ by more than case or surrounding spaces.
    """
    seen = set()
    for index, description in enumerate(descriptions):
        key = same_choice_key(description)
        if key in seen:
            return index
        seen.add(key)
    return None


def merge_choices(old: list[dict], new: list) -> list[Choice]:
    """The choices after an update: known ids are kept, new rows get ids.

    `new` holds rows with `id` (None for a new choice), `description` and, for a
    quiz's correct choices, `correct`.
    Raises UnknownChoice when a row carries an id the topic does not have, and
    DuplicateChoice when the same id appears twice.
    """
    known = {choice["id"] for choice in old}
    merged, seen = [], set()
    for row in new:
        if row.id is not None and row.id not in known:
            raise UnknownChoice(row.id)
        choice_id = row.id or new_id()
        if choice_id in seen:
            raise DuplicateChoice(choice_id)
        seen.add(choice_id)
        choice = {"id": choice_id, "description": row.description}
        if getattr(row, "correct", None):
            choice["correct"] = True
        merged.append(choice)
    return merged


def voted_choices_removed(old: list[dict], new: list[dict], counts: dict[str, int]):
    """The choices of `old` missing from `new` that have votes: [(choice, count)].

    Removing a choice takes its votes off the results, so an update doing
    that silently is refused unless the caller confirms (Voting.update_topic).
    """
    kept = {choice["id"] for choice in new}
    return [
        (choice, counts.get(choice["id"], 0))
        for choice in old
        if choice["id"] not in kept and counts.get(choice["id"], 0) > 0
    ]
