"""A quiz on the projector: the countdown, the answers once time is up, the board, the podium.

While a quiz question has time left the projector shows its choices and the seconds
left (static/quiz.js counts them down from the server's count); once time is up (or
the presenter skipped the rest), how the room answered, the correct choice marked by a
tick and words; once revealed, the top 10 (and the team board when the event has
teams), and after the last question the podium.
What changes without the presenter moving (time running out, answers being recorded,
scores arriving) goes into the stage's ETag through `fingerprint`.
"""

from __future__ import annotations

from webapp import services
from webapp.audience.quiz_stage import clock_view

BOARD_SIZE = 10
PODIUM_SIZE = 3


def projector_view(event: dict, question: dict, topic: dict) -> dict:
    """The quiz part of the projector's stage: the clock (quiz_stage.clock_view), whether
    it is `revealed`, the `board` (top 10, once revealed), the `teams` (the team board,
    once revealed, when the event has teams), the `podium` (the top 3, once the last
    question is revealed), and its `fingerprint`."""
    view = clock_view(topic)
    view["revealed"] = question["results"] == "shown"
    view["board"] = view["podium"] = view["teams"] = None
    if view["revealed"]:
        # The API's read (players.leaderboard): the top 10's Query, and with teams the
        # event's standings, each cached per process, so the projector adds no reads.
        leaders = services.players().leaderboard(event, BOARD_SIZE)
        view["board"], view["teams"] = leaders["players"], leaders.get("teams")
        if event["position"] + 1 >= len(event["questions"]):
            view["podium"] = [row for row in view["board"] if row["rank"] <= PODIUM_SIZE]
    # Once time is up the answers show, and the worker may still be recording some: their
    # counts (cached per process) are in the ETag, as the board's scores are.
    counts = services.topics().counts(topic["id"]) if view["time_up"] else {}
    board = [(r["name"], r["score"], r["rank"]) for r in view["board"] or ()]
    teams = [(r["team"], r["score"], r["rank"], r["members"]) for r in view["teams"] or ()]
    view["fingerprint"] = [view["time_up"], sorted(counts.items()), board, teams]
    return view
