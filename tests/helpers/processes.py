"""Real processes for system tests: the web app, the worker, `flask` commands, `make run`."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
from pathlib import Path

from local import launcher as embedded
from tests.helpers.api import ADMIN_KEY
from tests.helpers.stacks import ROOT


def run_flask(args: list[str], env: dict, timeout: float = 180) -> subprocess.CompletedProcess:
    """`flask --app webapp ARGS` as its own process, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "webapp", *args],
        env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True, timeout=timeout,
    )  # fmt: skip


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
                cwd=ROOT,
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

    def web(self, workers: int = 2, **extra: str) -> str:
        """Start gunicorn on a free port; returns its base URL once /healthz answers."""
        port = embedded.free_port()
        process = self._spawn("web", embedded.gunicorn_command("127.0.0.1", port, workers), extra)
        base = f"http://127.0.0.1:{port}"
        embedded.wait_for_http(f"{base}/healthz", process=process)
        return base

    def logs(self) -> str:
        return "\n".join(Path(p.log_path).read_text(errors="replace") for p in self.started)

    def stop_all(self) -> None:
        embedded.stop(self.started)


# The variables that would point embedded.py at an outside endpoint (the
# test session's moto) instead of starting its own.
OUTSIDE = ("DYNAMODB_ENDPOINT_URL", "AWS_SQS_ENDPOINT_URL", "TABLE_PREFIX")


class Embedded:
    """`python -m local.launcher` in its own session, like a terminal running `make run`.

    `extra` adds to or overrides the environment; a variable set to "" counts as unset.
    """

    def __init__(self, data_dir: Path, logdir: Path, flags: tuple[str, ...] = (), **extra: str):
        self.port = embedded.free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if k not in OUTSIDE}
        env.update(
            API_KEY=ADMIN_KEY, SECRET_KEY="test-secret", WORKER_WAIT_SECONDS="1",
            TOPIC_CACHE_SECONDS="0", RESULTS_CACHE_SECONDS="0", METRICS_PORT="0",
            DATA_DIR=str(data_dir), SNAPSHOT_SECONDS="3600",
        )  # fmt: skip
        env.update(extra)
        self.log = logdir / f"embedded-{self.port}.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [embedded.PYTHON, "-m", "local.launcher", "--port", str(self.port), *flags],
                env=env, cwd=embedded.ROOT, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip

    def ready(self) -> Embedded:
        embedded.wait_for_http(f"{self.base}/healthz", timeout=60, process=self.process)
        return self

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def ctrl_c(self) -> int:
        """SIGINT to the foreground process group, as a terminal's Ctrl-C."""
        self.ctrl_c_no_wait()
        return self.process.wait(timeout=120)

    def ctrl_c_no_wait(self) -> None:
        os.killpg(self.process.pid, signal.SIGINT)

    def power_cut(self) -> None:
        """SIGKILL to every process of the run at once (moto runs in its own session)."""
        pids = descendants(self.process.pid)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.power_cut()


def descendants(pid: int) -> list[int]:
    """`pid` and every process below it, now (read from /proc)."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        todo += [int(c) for c in children]
    return found


@contextlib.contextmanager
def tmpfs(where: Path, options: str):
    """A tmpfs mounted at `where` (made if missing) for the block: a tiny or read-only disk.

    Yields whether it is mounted: mounting needs root (which permission bits do not stop).
    """
    where.mkdir(parents=True, exist_ok=True)
    command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)]
    mounted = subprocess.run(command, capture_output=True).returncode == 0
    try:
        yield mounted
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(where)], check=True)
