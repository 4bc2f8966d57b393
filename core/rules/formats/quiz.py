"""The quiz (a topic of type `quiz`): correct choices, a time limit, points for speed.

A quiz question is asked in an event. Its choices carry `correct: true` (at least one),
its `time_limit` is 5-300 seconds (default 20). Every answer is one player's vote
(one_per_voter, the player's voter id). The clock that decides is the server's:

- the question opens at `opened_at` (stamped by the write that opens the topic, and by
  the opening that binds it to its event, `event_id`);
- intake stamps that `opened_at` into each queued answer beside its `queued_at`;
- the worker scores an answer from those two alone (`plan_scores`) and its transaction
  requires the topic's `opened_at` to be still that one, so the points are counted
  against the period the answer was queued in (a reopening restarts the clock);
- a correct answer scores round(500 + 500 * (1 - elapsed / time_limit)), half up, from
  1000 at 0 s to 500 at the limit; a wrong one 0; one queued after the limit is
  refused (`too_late`) and never scores.

`answer_shown` is the one rule of when `correct` is public: once the question was asked
and is over (closed, or its time is up). Every public read (API, pages, embeds, exports)
asks it. Pure functions: no I/O.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from core.rules.clock import iso, utc_now
from core.rules.errors import FieldInvalid
from core.rules.text_answers import answer_refusal, is_blocked, moderation_key, typed_answer

QUIZ = "quiz"
MIN_TIME_LIMIT, MAX_TIME_LIMIT, DEFAULT_TIME_LIMIT = 5, 300, 20
MIN_POINTS, MAX_POINTS = 500, 1000
TOO_LATE = "too_late"
# A nickname: 1 to 20 characters as typed (NFC code points, spaces collapsed).
MAX_NAME_LENGTH = 20
MAX_TEAMS = 12
MAX_TEAM_LENGTH = 30
_MICROS = 1_000_000


def is_quiz(topic_or_rules: dict | None) -> bool:
    """A quiz topic, or the rules stamped into a quiz answer."""
    return (topic_or_rules or {}).get("type") == QUIZ


def correct_ids(topic: dict) -> list[str]:
    """The ids of the choices marked correct, in the topic's order."""
    return [c["id"] for c in topic.get("choices", []) if c.get("correct")]


def time_limit_of(topic: dict) -> int:
    return topic.get("time_limit") or DEFAULT_TIME_LIMIT


def quiz_rules(topic: dict) -> dict:
    """What a quiz answer is scored by, stamped into it at intake (question_types.rules_of):
    the time limit, the correct choices and the event it is asked in."""
    return {
        "time_limit": time_limit_of(topic),
        "correct": sorted(correct_ids(topic)),
        "event_id": topic.get("event_id"),
    }


def deadline(topic: dict) -> str | None:
    """The moment the current open period's time runs out (ISO, the clock's format), or
    None for a question never opened."""
    opened_at = topic.get("opened_at")
    if opened_at is None:
        return None
    return iso(_moment(opened_at) + timedelta(seconds=time_limit_of(topic)))


def elapsed_micros(opened_at: str, queued_at: str) -> int:
    """Microseconds from the question's opening to an answer's queue time (negative: the
    answer was queued before this open period)."""
    return (_moment(queued_at) - _moment(opened_at)) // timedelta(microseconds=1)


def in_time(elapsed: int, time_limit: int) -> bool:
    """Was an answer queued `elapsed` µs after the opening inside the time limit? At the
    limit exactly it is."""
    return 0 <= elapsed <= time_limit * _MICROS


def points(elapsed: int, time_limit: int, correct: bool) -> int:
    """An answer's points: 500 + 500 * (1 - elapsed / time_limit) rounded half up for a
    correct answer in time (1000 at 0 s, 500 at the limit), else 0. Whole microseconds,
    so no float rounding decides a tie."""
    if not correct or not in_time(elapsed, time_limit):
        return 0
    limit = time_limit * _MICROS
    bonus = (2 * MIN_POINTS * (limit - elapsed) + limit) // (2 * limit)  # half up
    return MIN_POINTS + bonus


def was_asked(topic: dict) -> bool:
    """Was the quiz question asked: opened by its event (`event_id` and `opened_at`)? A
    quiz created open and then put in an event, closed, is still waiting to be asked."""
    return is_quiz(topic) and bool(topic.get("event_id")) and topic.get("opened_at") is not None


def answer_shown(topic: dict, now: str) -> bool:
    """Is the question's correct answer public at `now`? Once it was asked (`was_asked`)
    and is over: closed, or its time is up. A question waiting to be asked, or open
    with time left, shows no `correct` on any public read."""
    if not was_asked(topic):
        return False
    return not topic.get("is_active", False) or now > deadline(topic)


def public_quiz(topic: dict, choices: list[dict], admin: bool = False) -> dict:
    """A quiz topic as a read shows it: each of `choices` (the shown rows, in the topic's
    order) gets `correct` where `answer_shown` allows it now (an admin's read: always),
    and the read gets the question's `deadline`."""
    if admin or answer_shown(topic, utc_now()):
        marked = set(correct_ids(topic))
        for choice in choices:
            choice["correct"] = choice["id"] in marked
    return {"deadline": deadline(topic)}


def can_reopen(current: dict, opening: dict) -> bool:
    """May this write open the topic? A quiz question is asked once per generation: a
    closed one that was asked (its answer may be shown) is not opened again."""
    return not (
        was_asked(current)
        and opening.get("is_active")
        and not current.get("is_active")
        and current.get("closed_at") is not None
    )


def periods_of(votes: list, topics: dict[str, dict]) -> dict[str, str]:
    """The open period each quiz topic of a batch is assumed to be in: the stored topic's
    `opened_at` when the batch learned it, else the newest stamped into its answers. The
    batch's topic check requires it (a stale stamp re-plans with the stored topic)."""
    periods: dict[str, str] = {}
    for vote in votes:
        if not is_quiz(vote.rules):
            continue
        topic = topics.get(vote.topic_id)
        seen = topic.get("opened_at") if topic else vote.opened_at
        if seen is not None:
            periods[vote.topic_id] = max(periods.get(vote.topic_id, ""), seen)
    return periods


def refusal(vote, periods: dict[str, str]) -> str | None:
    """Why a quiz answer may not count in its topic's assumed period: queued before it
    (`topic_closed`, as a vote queued while a topic was closed) or after its time limit
    (`too_late`). None for other types' votes, or an answer in time."""
    if not is_quiz(vote.rules):
        return None
    opened_at = periods.get(vote.topic_id)
    if opened_at is None:
        return "topic_closed"
    elapsed = elapsed_micros(opened_at, vote.queued_at)
    if elapsed < 0:
        return "topic_closed"
    return None if in_time(elapsed, vote.rules["time_limit"]) else TOO_LATE


def plan_scores(writes: list, periods: dict[str, str]) -> None:
    """Give each counted quiz answer of a planned batch its `score`, in place: {event_id,
    points, correct, opened_at, seconds}. The batch transaction adds it to the player's
    tallies (score, correct, answered) with the answer's record, so exactly once."""
    for write in writes:
        vote = write.vote
        if not write.counted or not is_quiz(vote.rules):
            continue
        opened_at = periods[vote.topic_id]
        elapsed = elapsed_micros(opened_at, vote.queued_at)
        correct = vote.choice_id in vote.rules["correct"]
        write.score = {
            "event_id": vote.rules["event_id"],
            "points": points(elapsed, vote.rules["time_limit"], correct),
            "correct": correct,
            "opened_at": opened_at,
            "elapsed_us": elapsed,
        }
        if write.ballot is not None:  # the player's own answer shows its score once revealed
            write.ballot["score"] = write.score


def player_deltas(scores: list[dict]) -> dict[str, int]:
    """What a player's answers add to their item: score, correct answers, answers."""
    return {
        "score": sum(s["points"] for s in scores),
        "correct": sum(1 for s in scores if s["correct"]),
        "answered": len(scores),
    }


def seconds(elapsed_us: int) -> float:
    """Elapsed microseconds as seconds, to the millisecond (exports, pages)."""
    return round(elapsed_us / _MICROS, 3)


def nickname(typed: str) -> str:
    """A nickname as the player typed it: NFC, runs of whitespace one space (as a text
    answer is kept, text_answers.typed_answer)."""
    return typed_answer(typed)


def nickname_refusal(name: str, blocked: list[str] | tuple[str, ...] = ()) -> str | None:
    """Why a nickname (`nickname`) is refused, or None: 1 to MAX_NAME_LENGTH characters,
    nothing a text answer may not hold, something that shows, and not blocked (the
    shipped block lists and `blocked`, compared as moderation keys)."""
    if not 1 <= len(name) <= MAX_NAME_LENGTH:
        return f"a nickname of 1 to {MAX_NAME_LENGTH} characters"
    refused = answer_refusal(name)
    if refused:
        return refused.replace("an answer", "a nickname")
    if is_blocked(name, blocked):
        return "this nickname is not accepted here"
    return None


def nickname_key(name: str) -> str:
    """What makes two nicknames the same in an event: their moderation key, so "Ana",
    "ANA" and "Аna" (a Cyrillic A) are one nickname."""
    return moderation_key(name)


def refused_team(teams: list[str]) -> tuple[str, str, str] | None:
    """The first rule an event's team names (each `nickname`-normalized) break, or None:
    (kind, the name, the answer rules' words), kind one of "too_many" (over MAX_TEAMS; no
    name), "length" (not 1 to MAX_TEAM_LENGTH characters), "refused" (a name a nickname
    could not hold: the words say why) and "twice" (alike one before it)."""
    if len(teams) > MAX_TEAMS:
        return "too_many", "", ""
    seen = set()
    for team in teams:
        if not 1 <= len(team) <= MAX_TEAM_LENGTH:
            return "length", team, ""
        refused = answer_refusal(team) or ("not accepted here" if is_blocked(team) else None)
        if refused:
            return "refused", team, refused
        if nickname_key(team) in seen:
            return "twice", team, ""
        seen.add(nickname_key(team))
    return None


def teams_refusal(teams: list[str]) -> str | None:
    """Why an event's team names (each `nickname`-normalized) are refused, or None: at most
    MAX_TEAMS, each 1 to MAX_TEAM_LENGTH characters a nickname could hold, no two alike."""
    found = refused_team(teams)
    if found is None:
        return None
    kind, team, words = found
    if kind == "too_many":
        return f"at most {MAX_TEAMS} teams"
    if kind == "length":
        return f"a team name of 1 to {MAX_TEAM_LENGTH} characters"
    if kind == "twice":
        return f"team {team!r} is listed twice"
    return f"team {team!r}: {words.replace('an answer', 'a name')}"


def ranked(rows: list[dict], key: str = "score", name: str = "name") -> list[dict]:
    """`rows` ordered by `key`, highest first (ties by `name`), each with its `rank`: equal
    scores share a rank and the next rank skips them (1, 2, 2, 4)."""
    ordered = sorted(rows, key=lambda r: (-r[key], r.get(name, "")))
    rank, previous = 0, None
    for position, row in enumerate(ordered, start=1):
        if row[key] != previous:
            rank, previous = position, row[key]
        row["rank"] = rank
    return ordered


def rank_of(score: int, scores_desc: list[int]) -> int:
    """1 + how many of `scores_desc` (every player's score, highest first) are higher."""
    low, high = 0, len(scores_desc)
    while low < high:  # the first position whose score is not above `score`
        middle = (low + high) // 2
        if scores_desc[middle] > score:
            low = middle + 1
        else:
            high = middle
    return low + 1


def team_board(players: list[dict]) -> list[dict]:
    """Teams ranked by their members' mean score: [{team, members, score, rank}], the
    mean to one decimal; players without a team are left out."""
    teams: dict[str, list[int]] = {}
    for player in players:
        if player.get("team"):
            teams.setdefault(player["team"], []).append(player["score"])
    rows = [
        {"team": team, "members": len(scores), "score": round(sum(scores) / len(scores), 1)}
        for team, scores in teams.items()
    ]
    return ranked(rows, name="team")


def _moment(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)


def checked_teams(teams: list[str]) -> list[str]:
    """Team names as typed (`nickname`), or FieldInvalid naming `teams`."""
    names = [nickname(team) for team in teams]
    refused = teams_refusal(names)
    if refused:
        raise FieldInvalid("teams", refused)
    return names
