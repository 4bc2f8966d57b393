"""What every benchmark needs: a local AWS endpoint, app stacks on it, real processes, figures.

A `Lab` owns one moto server (with local/moto_server.py's fixes, or `stock` for
the before figures) and everything it started; `with Lab() as lab:` stops it all. Each
stack is a TABLE_PREFIX on that server: its own tables and queue.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench import awscount
from core.aws.codec import to_item
from core.services.assembly import Services
from core.settings import Settings
from local import launcher

ROOT = launcher.ROOT
PYTHON = sys.executable
ADMIN_KEY = "bench-admin-key-0123456789"
# Every rate limit the app has, off (an empty value): read from the settings, so
# a limit added there is off here too.
LIMITS_OFF = {field.validation_alias: "" for name, field in Settings.model_fields.items()
              if name.startswith("rate_limit_")}  # fmt: skip


class Lab:
    def __init__(self, stock: bool = False, name: str = "bench"):
        self.dir = Path(tempfile.mkdtemp(prefix=f"{name}-"))
        self.stock = stock
        self.processes: list[subprocess.Popen] = []
        self.moto: subprocess.Popen | None = None
        self.endpoint = ""

    def __enter__(self) -> Lab:
        log = open(self.dir / "moto.log", "wb")  # noqa: SIM115 - the child keeps it
        self.moto = launcher.start_moto(
            launcher.free_port(), stock=self.stock, stdout=log, stderr=subprocess.STDOUT
        )
        self.endpoint = f"http://127.0.0.1:{self.moto.args[-1]}"
        return self

    def __exit__(self, *exc) -> None:
        launcher.stop(self.processes, timeout=10)
        self.processes.clear()
        if self.moto is not None:
            launcher.stop([self.moto], timeout=10)

    # -- stacks and processes ---------------------------------------------------------

    def env(self, **extra: str) -> dict[str, str]:
        """A new stack's environment (new TABLE_PREFIX), provisioned."""
        env = {
            **os.environ,
            "DYNAMODB_ENDPOINT_URL": self.endpoint,
            "AWS_SQS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
            "AWS_REGION": "us-east-1",
            "TABLE_PREFIX": f"b{uuid.uuid4().hex[:10]}-",
            "API_KEY": ADMIN_KEY,
            "SECRET_KEY": "bench-secret-key",
            # Rate limits off, as in the tests: one address sends all the load, and
            # limits 5.8.0's in-memory storage can fail a request with a 500 when
            # two threads hit a fresh counter at once (its timer is started twice;
            # fixed upstream in alisaifee/limits#352, after 5.8.0). With every
            # limit off the app switches Flask-Limiter off (webapp/limits.py),
            # so the limiter's own cost is not in the figures.
            **LIMITS_OFF,
            "METRICS_PORT": "0",
            "LOG_LEVEL": "WARNING",
        }
        env.update(extra)
        provision(env)
        return env

    def spawn(self, name: str, command: list[str], env: dict, count_dir: Path | None = None):
        if count_dir is not None:
            # python -m bench.awscount DIR <the same arguments after the interpreter>
            command = [PYTHON, "-m", "bench.awscount", str(count_dir), *command[1:]]
        log = open(self.dir / f"{name}-{len(self.processes)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.processes.append(process)
        return process

    def web(self, env: dict, workers: int = 2, count_dir=None, app=None):
        """gunicorn on a free port (`app` swaps the WSGI app); returns (process, base URL)."""
        port = launcher.free_port()
        command = launcher.gunicorn_command("127.0.0.1", port, workers)
        if app:
            command[-1] = app
        process = self.spawn("web", command, env, count_dir)
        base = f"http://127.0.0.1:{port}"
        launcher.wait_for_http(f"{base}/healthz", timeout=60, process=process)
        return process, base

    def worker(self, env: dict, count_dir=None, command=None):
        return self.spawn("worker", command or launcher.worker_command(), env, count_dir)

    def stop(self, process: subprocess.Popen) -> None:
        launcher.stop([process], timeout=10)
        self.processes.remove(process)


def provision(env: dict[str, str]) -> None:
    """The stack's tables and queue, as `flask init-aws` creates them."""
    voting = voting_for(env)
    voting.tables.create()
    voting.queue.create(voting.settings.visibility_timeout, voting.settings.max_receive_count)


@contextlib.contextmanager
def _environ(env: dict[str, str]):
    saved = dict(os.environ)
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def voting_for(env: dict[str, str]):
    """The app's own Voting (and through it Store/Tables/VoteQueue) for a stack, in this
    process (not counted)."""
    with _environ(env):  # boto3 reads the credentials when the clients are made
        return Services.connect(Settings.from_env()).voting


# -- topics, votes and seeding --------------------------------------------------------


def create_topic(base: str, choices: int = 3, **extra) -> dict:
    body = {
        "title": "Benchmark topic",
        "choices": [{"description": f"choice {i}"} for i in range(choices)],
        **extra,
    }
    answer = requests.post(f"{base}/topics", json=body, headers={"X-API-Key": ADMIN_KEY})
    answer.raise_for_status()
    return answer.json()


def seed_votes(env: dict, topic: dict, count: int, threads: int = 4) -> None:
    """Store `count` counted votes on `topic` directly: vote records plus tallies.

    The items are the ones worker.py writes (same attributes), put with
    BatchWriteItem so that filling a store does not take the time the
    benchmark is about. Shard 0 holds the seeded tallies.
    """
    voting = voting_for(env)
    client, table = voting.store.client, voting.store.names.votes
    choices = [c["id"] for c in topic["choices"]]
    per_choice = {c: 0 for c in choices}

    def record(i: int) -> dict:
        choice = choices[i % len(choices)]
        return {
            "id": str(uuid.uuid4()),
            "topic_id": topic["id"],
            "choice_id": choice,
            "queued_at": f"2026-01-01T00:00:00.{i % 1000000:06d}",
            "created": f"2026-01-01T00:00:01.{i % 1000000:06d}",
            "status": "counted",
            "shard": 0,
        }

    def write(start: int) -> None:
        batch = [record(i) for i in range(start, min(start + 25, count))]
        request = {table: [{"PutRequest": {"Item": to_item(r)}} for r in batch]}
        while request:
            request = client.batch_write_item(RequestItems=request).get("UnprocessedItems")

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(write, range(0, count, 25)))
    for i in range(count):
        per_choice[choices[i % len(choices)]] += 1
    for choice, n in per_choice.items():
        if n:
            client.update_item(
                TableName=voting.store.names.tallies,
                Key={"topic_id": {"S": topic["id"]}, "slot": {"S": f"{choice}#0"}},
                UpdateExpression="ADD #c :n SET choice_id = :c",
                ExpressionAttributeNames={"#c": "count"},
                ExpressionAttributeValues={":n": {"N": str(n)}, ":c": {"S": choice}},
            )


def total_votes(voting, topic_id: str) -> int:
    return sum(voting.store.get_counts(topic_id).values())


def wait_for_total(voting, topic_id: str, target: int, timeout: float, poll: float = 0.05):
    """Wait until the topic's tallies reach `target`; returns (seconds waited, last total)."""
    start = time.perf_counter()
    total = total_votes(voting, topic_id)
    while total < target and time.perf_counter() - start < timeout:
        time.sleep(poll)
        total = total_votes(voting, topic_id)
    return time.perf_counter() - start, total


def post_votes(
    base: str, topic: dict, count: int, concurrency: int = 16, voters: bool = False
) -> list[int]:
    """POST /votes `count` times from `concurrency` threads; returns the status codes.
    With `voters`, each vote names a voter of its own (a room behind one address)."""
    choices = [c["id"] for c in topic["choices"]]
    sessions = {}
    room = uuid.uuid4().hex[:8]

    def one(i: int) -> int:
        session = sessions.setdefault(threading.get_ident(), requests.Session())
        body = {"topic_id": topic["id"], "choice_id": choices[i % len(choices)]}
        if voters:
            body["voter_id"] = f"v-{room}-{i}"
        answer = session.post(f"{base}/votes", json=body)
        return answer.status_code

    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        return list(pool.map(one, range(count)))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far, from /proc (0 once it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


_T0 = time.monotonic()


def log(message: str) -> None:
    """Progress on stderr (the runner shows it live; stdout is the report)."""
    print(f"[{time.monotonic() - _T0:6.1f}s] {message}", file=sys.stderr, flush=True)


def counts_when_idle(directory: Path, settle: float = 1.2) -> dict:
    """The summed request counts, read once every process has written its latest."""
    time.sleep(settle)
    return awscount.read(directory)


# -- figures -------------------------------------------------------------------------


def median(values) -> float:
    return statistics.median(values)


def table(headers: list[str], rows: list[list]) -> str:
    """A Markdown table (the runner pastes it into docs/benchmarks.md as is)."""

    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:,.3f}" if abs(value) < 10 else f"{value:,.1f}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def figures_line(**figures) -> str:
    """The last line every script prints: name=value pairs."""

    def fmt(value) -> str:
        return f"{value:.4g}" if isinstance(value, float) else str(value)

    return " ".join(f"{name}={fmt(value)}" for name, value in figures.items())
