"""The app the intake benchmark serves: the real app plus one baseline route.

`POST /_bench/send` only calls SendMessage (through the app's own VoteQueue)
with a message of the same fields as a queued vote (so SQS carries the same
bytes), and answers 202 like POST /votes.
Same app object, same middleware (logging, metrics, security headers), same
gunicorn settings and the same moto: the ratio between the two routes is
what our vote intake (parsing, validation against the cached topic, the
rate limiter, building the message) adds on top of the SQS call.
Benchmarks only: gunicorn "bench.baseline_app:create_app()".
"""

from __future__ import annotations

from flask import Blueprint, g

from core.rules.clock import new_id, utc_now
from webapp import access, services
from webapp import create_app as create_real_app
from webapp.security import csrf

bp = Blueprint("bench_baseline", __name__)
TOPIC = "00000000-0000-4000-8000-000000000000"
CHOICE = "00000000-0000-4000-8000-000000000001"


@bp.post("/_bench/send")
def send():
    body = {"id": new_id(), "topic_id": TOPIC, "choice_id": CHOICE, "queued_at": utc_now(),
            "request_id": g.get("request_id"), "vote_limit": "unlimited"}  # fmt: skip
    services.voting().queue.send(body)
    return {"id": body["id"]}, 202


def create_app():
    # Public, as POST /votes is: otherwise the gate (webapp/access.py) answers it 403
    # before any SendMessage, and the baseline measures a refusal.
    access.PUBLIC_ENDPOINTS.add("bench_baseline.send")
    app = create_real_app()
    csrf.exempt(bp)  # a JSON route, like the API's
    app.register_blueprint(bp)
    return app
