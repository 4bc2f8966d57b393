"""What the ballot shows of this browser's votes: a vote's state, and its counted ballot.

A vote cast from a page is queued (202) before the worker records it, so the
page shows where it is (templates/_vote_status.html polls it while queued):
queued, counted, replaced by a later one, or rejected with why. On a topic
that limits voters, the ballot shows the answer this browser's ballot holds.
"""

from __future__ import annotations

from flask_babel import lazy_gettext

from webapp import services, voter
from webapp.audience.ballot_forms import answer_of, described
from webapp.auth import signed_in

# Seconds between polls of a queued vote's state: quick at first (the worker
# usually records a vote within a second or two), then gentle, so a vote
# stuck in the queue does not keep a phone busy.
FAST_POLLS, FAST_DELAY, SLOW_DELAY = 20, 1, 5

REJECTION_REASONS = {
    "topic_closed": lazy_gettext("the topic closed before your vote could be counted"),
    "choice_removed": lazy_gettext("that choice was removed before your vote could be counted"),
    "duplicate_voter": lazy_gettext("you had already voted on this topic"),
    "changed_by_voter": lazy_gettext("you changed your vote since"),
    "voter_required": lazy_gettext(
        "this topic counts one vote per voter and your browser sent no voter id"
    ),
    "reset": lazy_gettext("the results were reset before your vote could be counted"),
}
UNKNOWN_REASON = lazy_gettext("it was refused")


def queued_state(topic: dict, vote_id: str, payload: dict) -> dict:
    """The state of a vote just queued, said in words (`payload`: its answer fields)."""
    return {"id": vote_id, "status": "queued", "polls": 0, "delay": FAST_DELAY,
            "choice": described(topic, payload)}  # fmt: skip


def vote_state(topic: dict, vote_id: str, polls: int = 0) -> dict:
    """Where a vote is: queued (not recorded yet), counted or rejected (with why)."""
    record = services.voting().vote(vote_id)
    if record is not None and record.get("topic_id") != topic["id"]:
        record = None  # a vote of another topic is nothing to show here
    state = {"id": vote_id, "status": "queued", "polls": polls}
    if record is not None:
        # counted, rejected, or replaced (a changeable vote changed later).
        state["status"] = record["status"]
        voting = services.voting()
        if voting.choice_visible(topic, record, voter.current(), is_admin=signed_in()):
            state["choice"] = described(topic, answer_of(record))
        reason = record.get("reason")
        if reason:
            state["reason"] = REJECTION_REASONS.get(reason, UNKNOWN_REASON)
    state["delay"] = FAST_DELAY if polls < FAST_POLLS else SLOW_DELAY
    return state


def ballot_view(topic: dict) -> dict:
    """What the ballot shows of this browser's counted ballot, on a topic that limits voters.

    `my_choice`: the choice id it holds. A one-per-voter voter sees "You voted
    for X" over disabled buttons (`already_voted`: they could only refuse); a
    changeable voter sees which choice is theirs to change. `my_answer`: the
    answer a ballot of another type holds, shown in the form.
    """
    ballot = None
    if topic["vote_limit"] != "unlimited":
        ballot = services.voting().ballot(topic["id"], voter.current())
    mine = ballot.get("choice_id") if ballot else None
    return {
        "my_choice": mine,
        "my_answer": answer_of(ballot) if ballot and not mine else None,
        "already_voted": bool(ballot) and topic["vote_limit"] == "one_per_voter",
    }
