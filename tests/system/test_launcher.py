"""`make run` (python -m local.launcher) as a real process: its secrets and its failures.

Ctrl-C and SIGHUP (closing the terminal) stop every process it started, free
the port and save every vote answered 202; started without SECRET_KEY (and
API_KEY), it keeps signing with the key it saved, so voter cookies and admin
sessions outlive the restart (one run, under load, checks both). A DATA_DIR it
cannot write is a clear message, not a traceback; a killed launcher takes its
children with it.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import threading
from pathlib import Path

import pytest
import requests

from local import kept_secrets
from tests.helpers.api import vote_counts
from tests.helpers.processes import descendants, tmpfs
from tests.helpers.waiting import wait_until


def _a_voter_and_a_signed_in_admin(run, data: Path) -> dict:
    """On a run started without secrets: the API key it made and kept, a one-per-voter
    topic, and a browser holding a voter cookie and a signed-in admin session."""
    kept = data / kept_secrets.FILE
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    key = json.loads(kept.read_text())["API_KEY"]
    wait_until(lambda: f"API_KEY (generated, kept in {kept}): {key}" in run.output())
    # On 127.0.0.1 (HOST unset) it says at start that phones cannot join, and the fix.
    said = run.output()
    assert "!! Phones cannot reach this app: it listens on 127.0.0.1" in said
    assert "HOST=0.0.0.0 make run" in said
    admin = {"X-API-Key": key}
    body = {"title": "Once", "vote_limit": "one_per_voter",
            "choices": [{"description": "a"}, {"description": "b"}]}  # fmt: skip
    topic = requests.post(f"{run.base}/topics", json=body, headers=admin, timeout=10).json()

    browser = requests.Session()
    assert browser.get(f"{run.base}/t/{topic['id']}", timeout=10).status_code == 200
    assert "voter" in browser.cookies
    page = browser.get(f"{run.base}/admin/login", timeout=10).text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    signed = browser.post(f"{run.base}/admin/login", data={"csrf_token": token, "password": key},
                          timeout=10, allow_redirects=False)  # fmt: skip
    assert signed.status_code in (302, 303)
    return {"kept": kept, "key": key, "topic": topic, "browser": browser,
            "voter_cookie": browser.cookies["voter"]}  # fmt: skip


def _still_the_same_voter_and_admin(run, made: dict) -> None:
    """After a restart without secrets: the key was not made anew, the voter cookie still
    verifies and the admin is still signed in."""
    assert json.loads(made["kept"].read_text())["API_KEY"] == made["key"]  # not made anew
    browser, topic = made["browser"], made["topic"]
    # The voter cookie still verifies: the page does not hand out a new voter id...
    page = browser.get(f"{run.base}/t/{topic['id']}", timeout=10)
    assert page.status_code == 200 and "voter" not in page.headers.get("Set-Cookie", "")
    assert browser.cookies["voter"] == made["voter_cookie"]
    # ...and the admin is still signed in (not sent to the sign-in page).
    console = browser.get(f"{run.base}/admin", timeout=10, allow_redirects=False)
    assert console.status_code == 200, console.headers.get("Location")


@pytest.fixture
def read_only_dir(tmp_path):
    """A read-only filesystem (a tmpfs mounted ro): root ignores permission bits."""
    where = tmp_path / "read-only"
    with tmpfs(where, "ro,size=64k") as mounted:
        if not mounted:
            where.chmod(0o555)  # not root: permission bits do the same
        yield where


@pytest.mark.parametrize("place", ["read-only filesystem", "a file in the way"])
def test_a_data_dir_it_cannot_use_is_a_clear_message(start, tmp_path, read_only_dir, place):
    if place == "a file in the way":
        (tmp_path / "file").write_text("not a directory")
        data = tmp_path / "file" / "data"
    else:
        data = read_only_dir / "data"
    run = start(data)
    assert run.process.wait(timeout=60) == 1
    output = run.output()
    assert "make run failed:" in output and str(data) in output, output
    assert "Traceback" not in output, output


# -- stopping under load: nothing left behind, the port free, nothing lost --------


def running(pid: int) -> bool:
    """Alive and not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def port_free(port: int) -> bool:
    """Could the next `make run` listen there? (As gunicorn binds: SO_REUSEADDR, so
    connections of the last run in TIME_WAIT do not count, a listener would.)"""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


class Load:
    """Threads voting as fast as they can until stopped; the ids of the votes answered 202."""

    def __init__(self, base: str, topic: dict, threads: int = 4):
        self.base, self.topic, self.accepted = base, topic, []
        self.done = threading.Event()
        self.threads = [threading.Thread(target=self._vote, daemon=True) for _ in range(threads)]
        for thread in self.threads:
            thread.start()

    def _vote(self):
        body = {"topic_id": self.topic["id"], "choice_id": self.topic["choices"][0]["id"]}
        with requests.Session() as http:
            while not self.done.is_set():
                try:
                    answer = http.post(f"{self.base}/votes", json=body, timeout=5)
                except requests.RequestException:
                    continue  # stopping: refused or cut, never a 202
                if answer.status_code == 202:
                    self.accepted.append(answer.json()["id"])

    def stop(self) -> list[str]:
        self.done.set()
        for thread in self.threads:
            thread.join(timeout=10)
        return self.accepted


def test_stops_under_load_lose_nothing_and_a_restart_keeps_the_secrets_it_made(start, tmp_path):
    """Ctrl-C, then a closed terminal (SIGHUP), each under load on the same data, started
    without secrets: the restart finds every vote answered 202 before a stop counted, and
    the secrets the first start made, so voter cookies and admin sessions still hold."""
    data, accepted, unset = tmp_path / "data", [], {"API_KEY": "", "SECRET_KEY": ""}
    run = start(data, **unset).ready()
    made = _a_voter_and_a_signed_in_admin(run, data)
    body = {"title": "Under load", "choices": [{"description": "a"}, {"description": "b"}]}
    topic = requests.post(f"{run.base}/topics", json=body, headers={"X-API-Key": made["key"]},
                          timeout=10).json()  # fmt: skip
    for signum in (signal.SIGINT, signal.SIGHUP):
        run = run if signum == signal.SIGINT else start(data, **unset).ready()
        load = Load(run.base, topic)
        wait_until(lambda load=load: len(load.accepted) >= 20, timeout=30)
        processes = descendants(run.process.pid)
        assert len(processes) >= 6  # launcher, moto, watcher, worker, gunicorn and its workers
        os.killpg(run.process.pid, signum)  # the terminal's signal, to its process group
        code = run.process.wait(timeout=90)
        accepted += load.stop()
        assert code == 0, run.output()
        wait_until(lambda ps=processes: not any(running(p) for p in ps), timeout=30,
                   message="a process of the stopped run is still there")  # fmt: skip
        assert port_free(run.port)
    again = start(data, **unset).ready()
    # Every vote answered 202 before a stop was saved, and counts after the restart.
    wait_until(lambda: vote_counts(requests, topic["id"], base=again.base)[0] == len(accepted),
               timeout=60)  # fmt: skip
    _still_the_same_voter_and_admin(again, made)
    assert again.ctrl_c() == 0


def test_a_killed_launcher_takes_its_children_with_it(start, tmp_path):
    run = start(tmp_path / "data").ready()
    processes = descendants(run.process.pid)
    os.kill(run.process.pid, signal.SIGKILL)  # a supervisor's kill: no chance to stop anything
    run.process.wait(timeout=10)
    wait_until(lambda: not any(running(p) for p in processes), timeout=30,
               message="children outlived the launcher")  # fmt: skip
    assert port_free(run.port)
