"""Liveness and readiness probes."""

from __future__ import annotations

from flask import Blueprint, jsonify

from . import services

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """200 while the process can answer at all."""
    return {"status": "ok"}


@bp.get("/readyz")
def readyz():
    """200 when DynamoDB's tables and the SQS queue answer; 503 naming what does not."""
    problems = services.voting().readiness()
    if problems:
        response = jsonify(status="unavailable", detail=problems)
        response.status_code = 503
        return response
    return {"status": "ready"}
