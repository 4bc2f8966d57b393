"""A quiz as a client plays it: an event of quiz questions, players joining, answers."""

from __future__ import annotations

from tests.helpers.api import ADMIN, json_of, make_event, move

# Each question: a title and its choices, the correct one marked with a leading "*".
QUESTIONS = (
    ("Capital of France?", ("*Paris", "Rome", "Berlin")),
    ("2 + 2?", ("3", "*4", "5")),
    ("Largest ocean?", ("Atlantic", "Indian", "*Pacific")),
)


def quiz_topic(client, title: str, choices, base: str = "", **settings) -> dict:
    """A closed quiz question (an event opens it); `*` marks the correct choices. As the
    admin's answer shows it (its choices' `correct` too)."""
    body = {"title": title, "type": "quiz", "is_active": False, **settings,
            "choices": [{"description": c.lstrip("*"), **({"correct": True} if c[0] == "*" else {})}
                        for c in choices]}  # fmt: skip
    answer = client.post(f"{base}/topics", json=body, headers=ADMIN)
    assert answer.status_code == 201, json_of(answer)
    return json_of(answer)


def quiz_event(client, questions=QUESTIONS, base: str = "", teams=(), **settings) -> dict:
    """An event of quiz questions in its lobby (`["topics"]`, with their correct choices)."""
    topics = [quiz_topic(client, title, choices, base, **settings) for title, choices in questions]
    return make_event(client, topics, base=base, **({"teams": list(teams)} if teams else {}))


def join(client, event: dict, name: str, voter_id: str | None = None, base: str = "",
         status: int = 201, **extra) -> dict:  # fmt: skip
    """POST /events/code/{code}/players; the player (or the refusal) as answered."""
    body = {"name": name, **({"voter_id": voter_id} if voter_id else {}), **extra}
    answer = client.post(f"{base}/events/code/{event['code']}/players", json=body)
    assert answer.status_code == status, json_of(answer)
    return json_of(answer)


def answer_quiz(client, topic: dict, voter_id: str, index: int, base: str = "",
                status: int = 202) -> dict:  # fmt: skip
    """POST /votes: the player's answer to a quiz question (choice `index`)."""
    body = {"topic_id": topic["id"], "choice_id": topic["choices"][index]["id"],
            "voter_id": voter_id}  # fmt: skip
    answer = client.post(f"{base}/votes", json=body)
    assert answer.status_code == status, json_of(answer)
    return json_of(answer)


def correct_index(topic: dict) -> int:
    return next(i for i, c in enumerate(topic["choices"]) if c.get("correct"))


def leaderboard(client, event: dict, base: str = "", **query) -> dict:
    """GET /events/code/{code}/leaderboard (`query`: voter_id, limit)."""
    path = f"{base}/events/code/{event['code']}/leaderboard"
    answer = client.get(path, params=query) if base else client.get(path, query_string=query)
    assert answer.status_code == 200, json_of(answer)
    return json_of(answer)


# A full room for the projector: long questions that wrap, twelve players with the
# longest nicknames (20 characters, no space to break at), so the top 10 is full.
WIDE_NAMES = tuple(f"MegaWinnerWolfgang{n:02d}" for n in range(12))
LONG_QUESTIONS = tuple(
    (f"Question {n}: which of these is the longest river that flows through the most "
     "countries of Europe?", ("*Danube", "Rhine", "Volga"))
    for n in (1, 2, 3)
)  # fmt: skip


def play_revealed(client, event: dict, voter_ids, right: int, base: str = "") -> dict:
    """The presenter opens the next question, every player answers it (the first `right`
    correctly, the rest wrongly), time is up and the answer revealed; the question's topic."""
    topic = event["topics"][move(client, event, "next", base=base)["position"]]
    correct = correct_index(topic)
    wrong = (correct + 1) % len(topic["choices"])
    for n, voter_id in enumerate(voter_ids):
        answer_quiz(client, topic, voter_id, correct if n < right else wrong, base)
    for path, body in (("voting", {"open": False}), ("results", {"shown": True})):
        answer = client.post(f"{base}/events/{event['id']}/{path}", json=body, headers=ADMIN)
        assert answer.status_code == 200, json_of(answer)
    return topic
