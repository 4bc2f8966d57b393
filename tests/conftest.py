"""Shared fixtures: a real moto server, per-test tables and queue, real processes.

- `moto_endpoint` (session): one moto server on a free loopback port.
- `aws_env`: a fresh TABLE_PREFIX per test, so tables and queue are new; the
  environment is set for in-process code and returned for subprocesses.
- `app` / `client`: the Flask app against that environment.
- `procs`: start the web app under gunicorn and `worker.py` as subprocesses;
  everything started is stopped at the end of the test.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests

from core.aws.backend import Backend
from core.settings import Settings
from local import launcher as embedded
from webapp import create_app, services

ADMIN_KEY = "test-admin-key-0123456789"


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    with open(tmp_path_factory.mktemp("moto") / "moto.log", "wb") as log:
        process = embedded.start_moto(embedded.free_port(), stdout=log, stderr=subprocess.STDOUT)
    yield f"http://127.0.0.1:{process.args[-1]}"
    embedded.stop([process])


def make_env(endpoint: str, **extra: str) -> dict[str, str]:
    env = {
        "DYNAMODB_ENDPOINT_URL": endpoint,
        "AWS_SQS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_REGION": "us-east-1",
        "TABLE_PREFIX": f"t{uuid.uuid4().hex[:12]}-",
        "API_KEY": ADMIN_KEY,
        "SECRET_KEY": "test-secret-key",
        "WORKER_WAIT_SECONDS": "1",
        "TOPIC_CACHE_SECONDS": "0",
        "RESULTS_CACHE_SECONDS": "0",
        "VISIBILITY_TIMEOUT": "30",
        # Tests send many votes from 127.0.0.1; test_limits.py turns limits on.
        "RATE_LIMIT_VOTES": "",
        "RATE_LIMIT_LOGIN": "",
        # Many workers run at once: none binds the metrics port unless a test asks.
        "METRICS_PORT": "0",
    }
    env.update(extra)
    return env


def provision(env: dict[str, str]) -> None:
    """Create the tables and queue named by `env` (as `init-aws` does)."""
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        settings = Settings.from_env()
        backend = Backend.connect(settings)
        backend.tables.create()
        backend.queue.create(settings.visibility_timeout, settings.max_receive_count)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@pytest.fixture
def aws_env(moto_endpoint, monkeypatch, request):
    """A fresh stack (tables + queue) on the shared moto server; env applied to os.environ.

    Mark a test `@pytest.mark.env(VISIBILITY_TIMEOUT="2")` to change settings.
    """
    marker = request.node.get_closest_marker("env")
    env = make_env(moto_endpoint, **(marker.kwargs if marker else {}))
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    provision(env)
    return env


@pytest.fixture
def app(aws_env):
    return create_app({"TESTING": True})


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def admin():
    """Headers that authenticate as admin on the JSON API."""
    return {"X-API-Key": ADMIN_KEY}


@pytest.fixture
def voting(app):
    """The app's Voting service (store + queue) for direct checks."""
    with app.app_context():
        return services.voting()


class Processes:
    """Starts real web and worker processes for one test and stops them after."""

    def __init__(self, env: dict[str, str], logdir: Path):
        self.env = {**os.environ, **env}
        self.logdir = logdir
        self.started: list[subprocess.Popen] = []

    def _spawn(self, name: str, command: list[str], extra: dict) -> subprocess.Popen:
        log_path = self.logdir / f"{name}-{len(self.started)}.log"
        with open(log_path, "wb") as log:  # the child keeps its own copy of the handle
            process = subprocess.Popen(
                command,
                env={**self.env, **extra},
                cwd=embedded.ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        process.log_path = log_path
        self.started.append(process)
        return process

    def worker(self, **extra: str) -> subprocess.Popen:
        return self._spawn("worker", embedded.worker_command(), extra)

    def faulty_worker(self, faults: str, **extra: str) -> subprocess.Popen:
        """worker.py with injected faults (see tests/faulty_worker.py)."""
        command = [sys.executable, "-m", "tests.faulty_worker"]
        return self._spawn("faulty-worker", command, {"FAULTS": faults, **extra})

    def web(self, workers: int = 2, threads: int = 4, **extra: str) -> str:
        """Start gunicorn on a free port; returns its base URL once /healthz answers."""
        port = embedded.free_port()
        process = self._spawn(
            "web", embedded.gunicorn_command("127.0.0.1", port, workers, threads), extra
        )
        base = f"http://127.0.0.1:{port}"
        embedded.wait_for_http(f"{base}/healthz", process=process)
        return base

    def logs(self) -> str:
        return "\n".join(Path(p.log_path).read_text(errors="replace") for p in self.started)

    def stop_all(self) -> None:
        embedded.stop(self.started)


@pytest.fixture
def procs(aws_env, tmp_path):
    processes = Processes(aws_env, tmp_path)
    yield processes
    processes.stop_all()


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def wait_until(check, timeout: float = 30.0, interval: float = 0.2, message: str = ""):
    """Poll `check()` until it returns something truthy; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout:.0f}s")


def queued_vote(topic: dict, choice_index: int = 0, **extra) -> dict:
    """A vote message for `topic`'s choice, as intake would queue it."""
    from core.clock import new_id, utc_now
    from core.votes import VoteMessage

    vote = VoteMessage(
        id=new_id(),
        topic_id=topic["id"],
        choice_id=topic["choices"][choice_index]["id"],
        queued_at=utc_now(),
        **extra,
    )
    return vote.model_dump(exclude_none=True)


def tallies_of(voting, topic: dict) -> list[int]:
    """The topic's counted votes, choice by choice, straight from the tallies table."""
    found = voting.store.get_counts(topic["id"])
    return [found.get(c["id"], 0) for c in topic["choices"]]


def queue_drained(voting) -> bool:
    """No message waiting or in flight in the votes queue (SQS's approximate counts)."""
    depth = voting.queue.message_counts()
    return depth["waiting"] == 0 and depth["in_flight"] == 0


def pytest_configure(config):
    config.addinivalue_line("markers", "env(**settings): extra environment for aws_env")
