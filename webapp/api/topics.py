"""The JSON API of the original service: same paths, shapes and status codes."""

from __future__ import annotations

from flask import Blueprint, Response, abort, g, request
from pydantic import TypeAdapter

from core.rules.errors import DuplicateChoice, UnknownChoice, VotesWouldBeDropped
from core.rules.fields import Id
from core.schemas.runoffs import RunoffOut
from core.schemas.topics import (
    HiddenAnswerIn,
    NewTopicIn,
    TopicCleared,
    TopicIn,
    TopicOut,
    TopicQuery,
    TopicUpdateQuery,
)
from core.schemas.votes import VoteAccepted, VoteIn, VoteListQuery, VotePage, VoteRecord, VoterQuery
from core.services.csv_export import csv_filename
from webapp import services
from webapp.access import request_actor
from webapp.api.openapi import doc
from webapp.audience import ballot_box
from webapp.body import parse
from webapp.limits import limit_votes
from webapp.metrics import counts_votes

bp = Blueprint("api", __name__)

_valid_id = TypeAdapter(Id)


def _check_id(value: str) -> str:
    """Ids in paths that could never exist are plain 404s, not store errors."""
    try:
        return _valid_id.validate_python(value)
    except ValueError:
        abort(404, "Not found")


def dropped_votes_message(exc: VotesWouldBeDropped) -> str:
    """'Removing "Rust" (2 votes) would drop its votes', for every such choice."""
    named = ", ".join(
        f'"{choice["description"]}" ({count} vote{"" if count == 1 else "s"})'
        for choice, count in exc.dropped
    )
    return f"Removing {named} would drop {'its' if len(exc.dropped) == 1 else 'their'} votes"


def _query(model):
    return model.model_validate(request.args.to_dict())


@bp.post("/topics")
@doc("Create a topic", body=NewTopicIn, responses={201: TopicOut}, status=201)
def create_topic():
    """Create a topic; each choice gets a new id."""
    data = parse(NewTopicIn)
    topic = services.topics().create(data)
    return TopicOut.render(topic, admin=True), 201


@bp.put("/topics/<topic_id>")
@doc(
    "Replace a topic's title, state and choices",
    body=TopicIn,
    query=TopicUpdateQuery,
    responses={200: None},
    errors=(404, 409),
)
def update_topic(topic_id):
    """Choices with a known id keep it (and their votes); new rows get an id.

    Leaving out a choice that has votes would drop them: 409 unless
    `?drop_votes=true`.
    """
    _check_id(topic_id)
    query = _query(TopicUpdateQuery)
    data = parse(TopicIn)
    try:
        services.topics().update(topic_id, data, drop_votes=query.drop_votes)
    except UnknownChoice as exc:
        abort(409, f"Choice {exc} is not a choice of this topic")  # the topic's state
    except DuplicateChoice as exc:
        abort(422, f"Choice {exc} is listed twice")
    except VotesWouldBeDropped as exc:
        abort(409, dropped_votes_message(exc) + ". Send drop_votes=true to remove them anyway")
    return services.json_null()


@bp.post("/topics/<topic_id>/reset")
@doc(
    "Reset a topic's results: its votes, ballots and tallies go (admin)",
    responses={200: TopicCleared},
    errors=(404, 409),
)
def reset_topic(topic_id):
    """Votes still queued are recorded as rejected (`reset`), never counted."""
    _check_id(topic_id)
    return services.topics().reset(topic_id)


@bp.delete("/topics/<topic_id>")
@doc(
    "Delete a topic with its votes, ballots and tallies (admin)",
    responses={200: TopicCleared},
    errors=(404, 409),
)
def delete_topic(topic_id):
    """Votes still queued for it go to the dead-letter queue (unknown topic)."""
    _check_id(topic_id)
    return services.topics().delete(topic_id)


@bp.get("/topics")
@doc("List topics", query=TopicQuery, responses={200: list[TopicOut]})
def list_topics():
    """All topics, open first, newest first."""
    query = _query(TopicQuery)
    return [_with_results(t, query) for t in services.topics().all()]


@bp.get("/topics/<topic_id>")
@doc("Get a topic", query=TopicQuery, responses={200: TopicOut}, errors=(404,))
def get_topic(topic_id):
    """One topic; with include_votes, its results (one GetItem + one Query)."""
    _check_id(topic_id)
    query = _query(TopicQuery)
    return _with_results(services.topics().get(topic_id, fresh=True), query)


def _manages(topic: dict) -> bool:
    """Does the request's key or token manage this topic (the operator, an admin, its
    organiser)? They see what its results_visibility hides from others."""
    if "topic_manager" not in g:  # a list of topics reads the caller's events once
        g.topic_manager = services.access().topic_manager(request_actor())
    return g.topic_manager(topic)


def _with_results(topic: dict, query: TopicQuery) -> dict:
    """The topic, with its results when asked for and its results_visibility allows."""
    admin = _manages(topic)
    voting = services.voting()
    if not query.include_votes:
        body = TopicOut.render(topic, admin=admin)
        if body.get("runoff") and not voting.results_visible(topic, query.voter_id, admin):
            body["runoff"] = None  # a runoff is results: hidden with them
        return body
    if not voting.results_visible(topic, query.voter_id, is_admin=admin):
        return TopicOut.render(topic, hidden=True, admin=admin)
    return TopicOut.render(topic, services.topics().counts(topic["id"]), admin=admin)


@bp.post("/topics/<topic_id>/answers/hidden")
@doc(
    "Hide a text answer from the results (admin)",
    body=HiddenAnswerIn,
    responses={200: TopicOut},
    errors=(404, 409),
)
def hide_answer(topic_id):
    """The answer (as counted: case and spaces normalized) leaves the public results and
    the screen; its votes stay, and admins still see it marked hidden."""
    _check_id(topic_id)
    data = parse(HiddenAnswerIn)
    topic = services.topics().set_answer_hidden(topic_id, data.text, hidden=True)
    return TopicOut.render(topic, admin=True)


@bp.delete("/topics/<topic_id>/answers/hidden")
@doc(
    "Show a hidden text answer again (admin)",
    query=HiddenAnswerIn,
    responses={200: TopicOut},
    errors=(404, 409),
)
def show_answer(topic_id):
    _check_id(topic_id)
    query = _query(HiddenAnswerIn)
    topic = services.topics().set_answer_hidden(topic_id, query.text, hidden=False)
    return TopicOut.render(topic, admin=True)




@bp.post("/topics/<topic_id>/runoff")
@doc(
    "Compute a closed ranking's instant runoff and keep it on the topic (admin)",
    responses={200: RunoffOut},
    errors=(404, 409),
)
def compute_runoff(topic_id):
    """From the topic's counted rankings; 409 unless it is a closed ranking (README)."""
    _check_id(topic_id)
    return services.runoffs().compute(topic_id)


@bp.get("/topics/<topic_id>/export.csv")
@doc(
    "Download a topic's results and votes as CSV (admin)",
    responses={200: "text/csv"},
    errors=(404,),
)
def export_topic_csv(topic_id):
    """Results per choice, then one row per vote; streamed a page of votes at a time."""
    _check_id(topic_id)
    voting = services.voting()
    # Read first: a 404 before the first byte, not mid-stream.
    topic = services.topics().get(topic_id, fresh=True)
    response = Response(voting.csv_export([topic]), mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment", filename=csv_filename(topic))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/votes")
@doc(
    "Cast a vote (queued)",
    body=VoteIn,
    responses={202: VoteAccepted},
    status=202,
    errors=(404, 409, 429),
)
@counts_votes  # outermost, so a rate-limited vote counts as refused too
@limit_votes
def cast_vote():
    """Validate against the topic, queue through SQS, answer 202 once SQS stored it."""
    queued = ballot_box.cast(parse(VoteIn))
    return VoteAccepted.render(queued), 202


@bp.get("/votes/<vote_id>")
@doc("Get a recorded vote", query=VoterQuery, responses={200: VoteRecord}, errors=(404,))
def get_vote(vote_id):
    """404 while the vote is still queued; 200 once the worker recorded it."""
    _check_id(vote_id)
    query = _query(VoterQuery)
    voting = services.voting()
    record = voting.vote(vote_id)
    if record is None:
        abort(404, "Vote not found (it may still be queued)")
    topic = services.topics().get(record["topic_id"])
    shown = voting.choice_visible(topic, record, query.voter_id, is_admin=_manages(topic))
    return VoteRecord.render(record, hide_choice=not shown)


@bp.get("/votes")
@doc(
    "List a topic's votes, newest first",
    query=VoteListQuery,
    responses={200: VotePage},
    errors=(403, 404),
)
def list_votes():
    """403 while the topic hides its results from this viewer: the records would count them."""
    query = _query(VoteListQuery)
    voting = services.voting()
    topic = services.topics().get(query.topic_id)
    if not voting.results_visible(topic, query.voter_id, is_admin=_manages(topic)):
        abort(403, "This topic's votes are hidden, like its results (results_visibility)")
    records, cursor = voting.votes(query.topic_id, query.limit, query.next)
    return {"items": [VoteRecord.render(r) for r in records], "next": cursor}


@bp.delete("/votes/<vote_id>")
@doc(
    "Delete a vote and take it off the tally (admin); a scored quiz answer is final (409)",
    responses={200: VoteRecord},
    errors=(404, 409),
)
def delete_vote(vote_id):
    """409: a scored quiz answer (its points are its player's), or a vote changed meanwhile."""
    _check_id(vote_id)
    record = services.voting().delete_vote(vote_id)
    return VoteRecord.render(record)
