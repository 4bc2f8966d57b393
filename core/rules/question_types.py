"""Question types: what each type's vote carries, how it is checked, and what it counts.

Pure functions shared by intake (Voting.cast checks an answer), the worker
(a counted vote's tally deltas come from `counters`), repair and results.
The types themselves are described in README's API section; their tally
counters in docs/data.md.

A vote's *payload* is the one answer field its type takes:
    single, game: choice_id      multiple: choice_ids     ranking: ranking
    rating: rating (int, or {choice_id: int} when rate_each)     text: text
    quiz: choice_id (quiz.py: correct choices, a time limit, points)
"""

from __future__ import annotations

from typing import Literal

from core.rules.errors import AnswerInvalid, ChoiceNotInTopic, RulesInvalid
from core.rules.formats.quiz import QUIZ, correct_ids, quiz_rules
from core.rules.text_answers import answer_refusal, is_blocked, moderation_key, typed_answer

QuestionType = Literal["single", "multiple", "ranking", "rating", "text", "game", "quiz"]
SINGLE: QuestionType = "single"
ANSWER_FIELD = {
    "single": "choice_id",
    "game": "choice_id",
    QUIZ: "choice_id",
    "multiple": "choice_ids",
    "ranking": "ranking",
    "rating": "rating",
    "text": "text",
}
ANSWER_FIELDS = ("choice_id", "choice_ids", "ranking", "rating", "text")
# Counter names besides a choice's own "<choice_id>" (choice ids never hold ":" or "#").
VOTERS = ":voters"
# A text answer's counter is this prefix and its moderation key (text_answers): its
# group, what it is counted, hidden and blocked as. Each spelling of the group has a
# counter too, "spelt:<key>\x1f<spelling as typed>": the group's results show the
# spelling given most. (A key holds no control character, so \x1f ends it.)
TEXT_COUNTER = "text:"
SPELLING_COUNTER = "spelt:"
SPELLING_SEPARATOR = "\x1f"
MAX_RANKED_CHOICES = 20
MAX_RATED_CHOICES = 20


def rules_of(topic: dict) -> dict:
    """What a type's counting and checking depend on. Stamped into each queued vote
    (so the worker counts without reading the topic) and locked once the topic has
    votes (an update changing them is refused, Voting.update_topic)."""
    kind = topic.get("type", SINGLE)
    rules: dict = {"type": kind}
    if kind == "multiple":
        rules |= {key: topic.get(key) for key in ("min_choices", "max_choices")}
    elif kind == "ranking":
        # Borda points run from the number of choices down: it is part of the rules.
        rules |= {"choices": len(topic["choices"]), "rank_top": topic.get("rank_top")}
    elif kind == "rating":
        rules |= {
            "scale": [topic.get("scale_min", 1), topic.get("scale_max", 5)],
            "rate_each": bool(topic.get("rate_each")),
        }
    elif kind == QUIZ:
        rules |= quiz_rules(topic)
    return rules


def takes_choices(kind: str | None, rate_each: bool | None) -> bool:
    """Whether a question of `kind` has choices: every type but open text and a rating
    of the question itself (a rating without rate_each)."""
    if kind == "rating":
        return bool(rate_each)
    return kind != "text"


def check_rules(topic: dict) -> None:
    """RulesInvalid unless the topic's question settings fit its type and choices."""
    kind, choices = topic.get("type", SINGLE), len(topic["choices"])
    if kind in ("single", "multiple", "ranking", "game", QUIZ) and choices < 2:
        raise RulesInvalid(
            "choices", f"List should have at least 2 items after validation, not {choices}",
            kind="too_short",
        )  # fmt: skip
    if kind == "ranking" and choices > MAX_RANKED_CHOICES:
        raise RulesInvalid("choices", f"a ranking has at most {MAX_RANKED_CHOICES} choices")
    if kind == "ranking" and not 1 <= (topic.get("rank_top") or choices) <= choices:
        raise RulesInvalid("rank_top", f"rank_top is between 1 and the {choices} choices")
    if kind == "multiple":
        low, high = topic.get("min_choices") or 1, topic.get("max_choices") or choices
        if not low <= high <= choices:
            raise RulesInvalid(
                "max_choices", f"min_choices <= max_choices <= the {choices} choices"
            )
    if kind == "rating":
        if topic.get("scale_min", 1) >= topic.get("scale_max", 5):
            raise RulesInvalid("scale_max", "scale_max must be above scale_min")
        if topic.get("rate_each") and not 1 <= choices <= MAX_RATED_CHOICES:
            raise RulesInvalid("choices", f"rate each of 1 to {MAX_RATED_CHOICES} choices")
    if not takes_choices(kind, topic.get("rate_each")) and choices:
        raise RulesInvalid("choices", f"a {kind} question takes no choices")
    if kind == "game" and topic.get("vote_limit") == "changeable":
        raise RulesInvalid("vote_limit", "a game takes unlimited or one_per_voter votes")
    if kind == QUIZ and not correct_ids(topic):
        raise RulesInvalid("choices", "a quiz question marks at least one choice correct: true")
    if kind != QUIZ and correct_ids(topic):
        raise RulesInvalid("choices", "only a quiz question's choices are marked correct")


def body_rule_broken(
    kind: str | None, choices: int, rate_each: bool | None, vote_limit: str | None
) -> tuple[str, str] | None:
    """(field, message) of the first rule a topic body breaks by itself, or None.

    Only what the body alone decides (so JSON Schema states it too: `body_rules_schema`);
    a rule that needs the stored topic (a PUT leaving `type` or `rate_each` out) is
    Voting's, against the topic as it would be stored.
    """
    if kind in ("multiple", "ranking", "game", QUIZ) and choices < 2:
        return "choices", f"a {kind} question needs at least 2 choices"
    if kind == "ranking" and choices > MAX_RANKED_CHOICES:
        return "choices", f"a ranking has at most {MAX_RANKED_CHOICES} choices"
    if (kind == "text" or (kind == "rating" and rate_each is False)) and choices:
        return "choices", f"a {kind} question takes no choices"
    if kind == "rating" and rate_each and not 1 <= choices <= MAX_RATED_CHOICES:
        return "choices", f"rate each of 1 to {MAX_RATED_CHOICES} choices"
    if kind == "game" and vote_limit == "changeable":
        return "vote_limit", "a game takes unlimited or one_per_voter votes"
    if kind == QUIZ and vote_limit not in (None, "one_per_voter"):
        return "vote_limit", "a quiz takes one answer per player: one_per_voter"
    return None


def body_rules_schema(new: bool) -> list[dict]:
    """`body_rule_broken`'s rules in JSON Schema (if/then), for the OpenAPI document,
    and when `choices` may be left out: for a body whose `type` takes none (text, or
    rating without `rate_each: true`; core/schemas/topics.py's `_choices_left_out`).

    `new`: a new topic's body (a `rate_each` left out or null is false; on PUT it
    keeps the stored value, so only a given one decides).
    """

    def when(kinds: list[str], then: dict, **also) -> dict:
        needed = ["type", *(k for k in also if not new)]
        return {"if": {"properties": {"type": {"enum": kinds}, **also}, "required": needed},
                "then": then}  # fmt: skip

    def choices(**bounds) -> dict:
        return {"properties": {"choices": bounds}}

    return [
        # No type (or null) is single choice, as the original: at least 2 choices.
        {"if": {"properties": {"type": {"enum": [None, "single"]}}}, "then": choices(minItems=2)},
        # Required, as the original, unless the body names a type that takes none.
        {"if": {"properties": {"type": {"enum": ["text", "rating"]}}, "required": ["type"]},
         "else": {"required": ["choices"]}},
        {"if": {"properties": {"type": {"const": "rating"}, "rate_each": {"const": True}},
                "required": ["type", "rate_each"]},
         "then": {"required": ["choices"]}},
        when(["multiple", "game"], choices(minItems=2)),
        # A quiz marks at least one choice correct, and takes one answer per player.
        when([QUIZ], {"properties": {
            "choices": {"minItems": 2, "contains": {
                "properties": {"correct": {"const": True}}, "required": ["correct"]}},
            "vote_limit": {"enum": [None, "one_per_voter"]}}}),
        when(["ranking"], choices(minItems=2, maxItems=MAX_RANKED_CHOICES)),
        when(["text"], choices(maxItems=0)),
        when(["rating"], choices(maxItems=0),
             rate_each={"not": {"const": True}} if new else {"const": False}),
        when(["rating"], choices(minItems=1, maxItems=MAX_RATED_CHOICES),
             rate_each={"const": True}),
        when(["game"], {"properties": {"vote_limit": {"not": {"const": "changeable"}}}}),
        # Only a quiz marks choices correct (a new body without a type is single choice).
        {"if": {"properties": {"type": {"not": {"const": QUIZ}}},
                "required": [] if new else ["type"]},
         "then": choices(items={"properties": {"correct": {"not": {"const": True}}}})},
    ]  # fmt: skip


def payload_of(vote) -> dict:
    """The answer fields a vote (VoteIn or VoteMessage) carries, the None ones left out."""
    return {f: getattr(vote, f) for f in ANSWER_FIELDS if getattr(vote, f, None) is not None}


def check_answer(topic: dict, payload: dict) -> dict:
    """The answer as it will be queued ({field: value}, text as typed), or AnswerInvalid
    naming the field and the rule. A single/game choice_id the topic lacks is
    ChoiceNotInTopic (409), as the original service answered."""
    kind = topic.get("type", SINGLE)
    field = ANSWER_FIELD[kind]
    for other in payload:
        if other != field:
            raise AnswerInvalid(other, f"a {kind} question takes {field}, not {other}")
    if field not in payload:
        raise AnswerInvalid(field, f"a {kind} question needs {field}", kind="missing")
    value = payload[field]
    known = [c["id"] for c in topic["choices"]]
    if field == "choice_id":
        if value not in known:
            raise ChoiceNotInTopic(value)
        return {field: value}
    if field in ("choice_ids", "ranking"):
        _known_and_distinct(field, value, known)
        low, high = _list_bounds(topic, len(known))
        if not low <= len(value) <= high:
            rule = f"exactly {low}" if low == high else f"between {low} and {high}"
            raise AnswerInvalid(field, f"choose {rule} choices, not {len(value)}")
        return {field: list(value)}
    if field == "rating":
        return {field: _checked_rating(topic, value, known)}
    text = typed_answer(value)
    refusal = answer_refusal(text)
    if refusal:
        raise AnswerInvalid(field, refusal)
    if is_blocked(text, topic.get("blocked_answers") or ()):
        raise AnswerInvalid(field, "this answer is not accepted here")
    return {field: text}


def _known_and_distinct(field: str, ids: list, known: list[str]) -> None:
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise AnswerInvalid(field, f"{unknown[0]} is not a choice of this topic")
    if len(set(ids)) != len(ids):
        raise AnswerInvalid(field, "each choice at most once")


def _list_bounds(topic: dict, choices: int) -> tuple[int, int]:
    """How many ids a multiple-choice or ranking answer lists: (at least, at most)."""
    if topic.get("type") == "ranking":
        size = topic.get("rank_top") or choices
        return size, size
    high = min(topic.get("max_choices") or choices, choices)
    return min(topic.get("min_choices") or 1, high), high


def _checked_rating(topic: dict, value, known: list[str]):
    low, high = topic.get("scale_min", 1), topic.get("scale_max", 5)

    def on_scale(number) -> int:
        if isinstance(number, bool) or not isinstance(number, int) or not low <= number <= high:
            raise AnswerInvalid("rating", f"a whole number from {low} to {high}")
        return number

    if not topic.get("rate_each"):
        if isinstance(value, dict):
            raise AnswerInvalid("rating", f"one number from {low} to {high}, not one per choice")
        return on_scale(value)
    if not isinstance(value, dict) or not value:
        raise AnswerInvalid("rating", "an object rating at least one choice: {choice_id: number}")
    _known_and_distinct("rating", list(value), known)
    return {choice_id: on_scale(number) for choice_id, number in value.items()}


def counters(rules: dict | None, payload: dict) -> dict[str, int]:
    """The tally deltas one counted vote adds: {counter: n} (docs/data.md lists them).

    Game's rival take is added by the batch planner, which knows the standings.
    """
    kind = (rules or {}).get("type", SINGLE)
    if kind == SINGLE:
        return {payload["choice_id"]: 1}
    if kind == "game":
        return {payload["choice_id"]: 1, f"cast:{payload['choice_id']}": 1}
    deltas: dict[str, int] = {}
    if kind == QUIZ:
        deltas = {payload["choice_id"]: 1}
    elif kind == "multiple":
        deltas = dict.fromkeys(payload["choice_ids"], 1)
    elif kind == "ranking":
        ranking, size = payload["ranking"], rules["choices"]
        deltas = {ranking[0]: 1}
        deltas |= {f"points:{c}": size - position for position, c in enumerate(ranking)}
    elif kind == "rating" and isinstance(payload["rating"], dict):
        for choice_id, value in payload["rating"].items():
            deltas[choice_id] = 1
            deltas[f"rating:{choice_id}:{value}"] = 1
    elif kind == "rating":
        deltas = {f"rating:{payload['rating']}": 1}
    elif kind == "text":
        deltas = text_counters(payload["text"])
    deltas[VOTERS] = 1
    return deltas


def text_counters(text: str) -> dict[str, int]:
    """A text answer's group counter and its spelling's: {"text:<key>": 1,
    "spelt:<key>\x1f<text>": 1}."""
    key = moderation_key(text)
    return {TEXT_COUNTER + key: 1, f"{SPELLING_COUNTER}{key}{SPELLING_SEPARATOR}{text}": 1}


def spelling_parts(counter: str) -> tuple[str, str] | None:
    """A spelling counter as (its group's text counter, the spelling); None for others."""
    if not counter.startswith(SPELLING_COUNTER):
        return None
    key, _, spelling = counter.removeprefix(SPELLING_COUNTER).partition(SPELLING_SEPARATOR)
    return TEXT_COUNTER + key, spelling


def votes_counted(topic: dict, counts: dict[str, int]) -> int:
    """How many counted votes the tallies hold: a single topic's choice counts added up
    (as the original), a game's votes cast, every other type's voters."""
    kind = topic.get("type", SINGLE)
    if kind == SINGLE:
        return sum(counts.values())
    if kind == "game":
        return sum(n for key, n in counts.items() if key.startswith("cast:"))
    return counts.get(VOTERS, 0)


def choice_ids_of(payload: dict) -> set[str]:
    """Every choice id an answer names (the batch's topic check wants each still there)."""
    if "choice_id" in payload:
        return {payload["choice_id"]}
    ids = payload.get("choice_ids") or payload.get("ranking") or []
    rating = payload.get("rating")
    return set(ids) | (set(rating) if isinstance(rating, dict) else set())
