"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, jsonify

from . import services
from .queue import QueueUnavailable
from .store import StoreUnavailable

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 while the process can answer at all."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """200 when DynamoDB's tables and the SQS queue answer; 503 naming what does not."""
    voting = services.voting()
    problems = {}
    try:
        voting.store.check()
    except StoreUnavailable as exc:
        problems["dynamodb"] = _short(exc)
    try:
        voting.queue.check()
    except QueueUnavailable as exc:
        problems["sqs"] = _short(exc)
    if problems:
        response = jsonify(status="unavailable", detail=problems)
        response.status_code = 503
        return response
    return {"status": "ready"}


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]
