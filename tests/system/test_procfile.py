"""The Procfile, run the way a Procfile platform runs it: `release`, then `web` and `worker`.

honcho (a Python foreman) reads the Procfile, gives `web` its PORT and runs
each line through the shell, as Heroku-style platforms do.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

from local import launcher as embedded
from tests.helpers.api import SAMPLE_TOPIC
from tests.helpers.observability import scrape, value
from tests.helpers.stacks import make_env
from tests.helpers.waiting import wait_for

HONCHO = [sys.executable, "-m", "honcho"]


def test_procfile_names_web_worker_and_release():
    lines = [ln for ln in (embedded.ROOT / "Procfile").read_text().splitlines() if ln.strip()]
    types = dict(line.split(":", 1) for line in lines)
    assert set(types) == {"web", "worker", "release"}
    assert "gunicorn.conf.py" in types["web"]
    assert "worker.py" in types["worker"]
    assert "init-aws" in types["release"]
    check = subprocess.run(HONCHO + ["check"], cwd=embedded.ROOT, capture_output=True, text=True)
    assert check.returncode == 0, check.stderr


def _env(moto_endpoint: str, **extra: str) -> dict[str, str]:
    # The shell resolves `gunicorn`, `python` and `flask` on PATH, as on a platform.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, **make_env(moto_endpoint), "PATH": path, **extra}


def _honcho(args: list[str], env: dict, **kwargs):
    return subprocess.run(
        HONCHO + args, env=env, cwd=embedded.ROOT, capture_output=True, text=True, **kwargs
    )


def test_release_creates_the_stack_and_is_idempotent(moto_endpoint):
    env = _env(moto_endpoint)
    first = _honcho(["start", "release"], env, timeout=120)
    assert first.returncode == 0, first.stderr
    assert f"created table {env['TABLE_PREFIX']}votes" in first.stdout
    second = _honcho(["start", "release"], env, timeout=120)
    assert second.returncode == 0, second.stderr
    assert "created table" not in second.stdout
    assert "queue ready" in second.stdout


def test_procfile_serves_and_counts_a_vote(moto_endpoint, tmp_path):
    port, metrics_port = embedded.free_port(), embedded.free_port()
    env = _env(moto_endpoint, METRICS_PORT=str(metrics_port), WEB_CONCURRENCY="1")
    assert _honcho(["start", "release"], env, timeout=120).returncode == 0
    log = open(tmp_path / "honcho.log", "wb")
    honcho = subprocess.Popen(
        HONCHO + ["start", "--port", str(port), "web", "worker"],
        env=env, cwd=embedded.ROOT, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        embedded.wait_for_http(f"{base}/readyz", timeout=60, process=honcho)
        assert requests.get(f"{base}/readyz", timeout=10).status_code == 200
        admin = {"X-API-Key": env["API_KEY"]}
        topic = requests.post(f"{base}/topics", json=SAMPLE_TOPIC, headers=admin, timeout=10).json()
        vote = requests.post(
            f"{base}/votes",
            json={"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]},
            timeout=10,
        )
        assert vote.status_code == 202
        wait_for(lambda: requests.get(f"{base}/votes/{vote.json()['id']}", timeout=10).ok)
        result = requests.get(
            f"{base}/topics/{topic['id']}", params={"include_votes": "true"}, timeout=10
        ).json()
        assert [c["vote_count"] for c in result["choices"]] == [1, 0]
        worker_metrics = scrape(f"http://127.0.0.1:{metrics_port}/metrics")
        assert value(worker_metrics, "voting_worker_votes_total", outcome="counted") == 1
        assert requests.get(f"http://127.0.0.1:{metrics_port}/healthz", timeout=10).ok
    finally:
        honcho.send_signal(signal.SIGTERM)  # honcho passes it on to web and worker
        try:
            honcho.wait(60)
        finally:
            if honcho.poll() is None:
                honcho.kill()
            log.close()
    output = (tmp_path / "honcho.log").read_text()
    assert "web.1" in output and "worker.1" in output
    assert "Traceback" not in output
