"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, jsonify

from webapp import pause, services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 while the process can answer at all."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """200 when DynamoDB's tables and the SQS queue answer and votes are not paused;
    503 naming what is wrong."""
    problems = services.voting().readiness()
    paused = pause.paused_reason()
    if paused:
        problems = {**problems, "votes": f"paused: {paused}"}
    if problems:
        response = jsonify(status="unavailable", detail=problems)
        response.status_code = 503
        return response
    return {"status": "ready"}
