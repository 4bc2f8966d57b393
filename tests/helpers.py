"""What the tests share that is not a fixture: constants, builders, waiting and reading.

Fixtures live in conftest.py files (tests/conftest.py for every layer, a
layer's own conftest.py for that layer); they and every test module import
their helpers from here, never from a conftest or from another test module.

The API helpers take either a Flask test client (paths as they are) or a
requests session (with `base`, the server's URL), so one helper serves the
in-process tests and the ones against real processes alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from functools import cache
from pathlib import Path

import boto3
import requests
from prometheus_client.parser import text_string_to_metric_families

from core.aws.backend import Backend
from core.rules.clock import new_id, utc_now
from core.rules.votes import VoteMessage
from core.services.worker import VoteWorker
from core.settings import Settings
from local import launcher as embedded

ROOT = embedded.ROOT
ADMIN_KEY = "test-admin-key-0123456789"
ADMIN = {"X-API-Key": ADMIN_KEY}
HX = {"HX-Request": "true"}
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
SAMPLE_TOPIC = {
    "title": "Tabs or spaces?",
    "choices": [{"description": "Tabs"}, {"description": "Spaces"}],
}


# -- environments, stacks, processes -----------------------------------------------------------


def make_env(endpoint: str, **extra: str) -> dict[str, str]:
    """The settings of a fresh stack (its own TABLE_PREFIX) on the AWS endpoint `endpoint`."""
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
        "RATE_LIMIT_VOTES_PER_VOTER": "",
        "RATE_LIMIT_VOTES_PER_ADDRESS": "",
        "RATE_LIMIT_LOGIN": "",
        # Many workers run at once: none binds the metrics port unless a test asks.
        "METRICS_PORT": "0",
    }
    env.update(extra)
    return env


def provision(env: dict[str, str]) -> dict[str, str]:
    """Create the tables and queue named by `env` (as `init-aws` does); returns `env`."""
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
    return env


def new_stack(endpoint: str, **extra: str) -> dict[str, str]:
    """A fresh, provisioned stack on the AWS endpoint `endpoint`: its settings."""
    return provision(make_env(endpoint, **extra))


def aws_client(service: str, endpoint: str):
    """A boto3 client for the moto server at `endpoint`, with the tests' credentials."""
    return boto3.client(
        service, endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id="test", aws_secret_access_key="test",
    )  # fmt: skip


def create_table(ddb, name: str, *keys: tuple[str, str]) -> None:
    """An on-demand table keyed by (attribute, type) pairs: the hash key, then any range key."""
    ddb.create_table(
        TableName=name,
        KeySchema=[
            {"AttributeName": attribute, "KeyType": role}
            for (attribute, _), role in zip(keys, ("HASH", "RANGE"), strict=False)
        ],
        AttributeDefinitions=[{"AttributeName": a, "AttributeType": t} for a, t in keys],
        BillingMode="PAY_PER_REQUEST",
    )


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


# -- make run as a process -------------------------------------------------------------------

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


# -- waiting -----------------------------------------------------------------------------------


def wait_until(check, timeout: float = 30.0, interval: float = 0.2, message: str = ""):
    """Poll `check()` until it returns something truthy; fail the test after `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(message or f"condition not met within {timeout:.0f}s")


def wait_for(check, timeout: float = 60.0, interval: float = 0.2, message: str = ""):
    """wait_until with a longer default: for tests that start whole stacks."""
    return wait_until(check, timeout, interval, message)


def try_get(url: str) -> requests.Response | None:
    """GET `url`, or None while nothing listens there."""
    try:
        return requests.get(url, timeout=5)
    except requests.ConnectionError:
        return None


# -- the API, through a Flask test client or a requests session --------------------------------


def json_of(answer):
    """The JSON body of a Flask test response or a requests response."""
    return answer.json() if callable(answer.json) else answer.json


def make_topic(
    client, title="Tabs or spaces?", choices=("Tabs", "Spaces"), active=True, base="", **settings
) -> dict:
    """POST /topics as the admin; the created topic."""
    body = {
        "title": title,
        "is_active": active,
        "choices": [{"description": c} for c in choices],
        **settings,
    }
    answer = client.post(f"{base}/topics", json=body, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    return json_of(answer)


def make_topic_past_its_deadline(client, base: str = "", **settings) -> dict:
    """A topic whose closes_at has passed: created open, then given a past deadline by
    PUT (POST /topics refuses a deadline in the past); the topic as updated."""
    topic = make_topic(client, base=base, **settings)
    body = {"title": topic["title"], "choices": topic["choices"], "closes_at": "2000-01-01T00:00Z"}
    answer = client.put(f"{base}/topics/{topic['id']}", json=body, headers=ADMIN)
    assert answer.status_code == 200, answer.text
    return json_of(client.get(f"{base}/topics/{topic['id']}"))


def api_vote(client, topic: dict, index: int = 0, base: str = "", **extra) -> str:
    """POST /votes for the topic's choice `index`; the id of the queued vote."""
    body = {"topic_id": topic["id"], "choice_id": topic["choices"][index]["id"], **extra}
    answer = client.post(f"{base}/votes", json=body)
    assert answer.status_code == 202, answer.text
    return json_of(answer)["id"]


def vote_counts(client, topic_id: str, base: str = "", headers=None) -> list[int]:
    """The API's vote_count of each choice (GET /topics/{id}?include_votes=true)."""
    answer = client.get(f"{base}/topics/{topic_id}?include_votes=true", headers=headers or {})
    return [c["vote_count"] for c in json_of(answer)["choices"]]


def recorded(http, base: str, vote_ids) -> bool:
    """Has the worker recorded every one of these votes (GET /votes/{id} answers 200)?"""
    return all(http.get(f"{base}/votes/{v}").status_code == 200 for v in vote_ids)


def all_votes(get, topic_id: str) -> list[dict]:
    """Every vote record of a topic through GET /votes, following the cursor.

    `get(path, params)` returns a JSON answer of the API.
    """
    records, cursor = [], None
    while True:
        params = {"topic_id": topic_id, "limit": 100, **({"next": cursor} if cursor else {})}
        page = get("/votes", params)
        records += page["items"]
        cursor = page["next"]
        if not cursor:
            return records


def api_answers(http, base: str) -> dict:
    """Every read answer of the API for every topic and each of its votes, as clients see them."""
    get = lambda path, params=None: http.get(f"{base}{path}", params=params).json()  # noqa: E731
    answers = {"list": get("/topics", {"include_votes": "true"}), "plain": get("/topics")}
    for topic in answers["list"]:
        topic_id = topic["id"]
        answers[topic_id] = get(f"/topics/{topic_id}")
        answers[f"results {topic_id}"] = get(f"/topics/{topic_id}", {"include_votes": "true"})
        answers[f"votes {topic_id}"] = votes = all_votes(get, topic_id)
        for record in votes:
            answers[record["id"]] = get(f"/votes/{record['id']}")
    return answers


def populate(http, base: str) -> tuple[list[dict], list[str]]:
    """Through the API: "Lunch?" (open) and "Tabs or spaces?" (then closed), four votes
    recorded by the worker. Returns ([lunch, tabs], vote ids)."""
    lunch = make_topic(http, "Lunch?", ("Yes", "No"), base=base)
    tabs = make_topic(http, "Tabs or spaces?", ("Yes", "No"), base=base)
    picks = [(lunch, 0), (lunch, 1), (lunch, 0), (tabs, 1)]
    votes = [api_vote(http, topic, index, base=base) for topic, index in picks]
    wait_until(lambda: recorded(http, base, votes))
    closed = {**tabs, "is_active": False}
    assert http.put(f"{base}/topics/{tabs['id']}", json=closed, headers=ADMIN).ok
    return [lunch, tabs], votes


def token_from(html: str) -> str:
    """The CSRF token of a page's form."""
    match = TOKEN.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


def sign_in(client, secret: str = ADMIN_KEY, base: str = ""):
    """The admin sign-in form, filled in and posted; the answer to the post."""
    page = client.get(f"{base}/admin/login")
    return client.post(
        f"{base}/admin/login", data={"csrf_token": token_from(page.text), "password": secret}
    )


# -- votes in the queue and the store, in process ----------------------------------------------


def queued_vote(topic: dict, choice_index: int = 0, **extra) -> dict:
    """A vote message for `topic`'s choice, as intake would queue it (`extra` overrides)."""
    fields = {"id": new_id(), "queued_at": utc_now(), **extra}
    vote = VoteMessage(
        topic_id=topic["id"], choice_id=topic["choices"][choice_index]["id"], **fields
    )
    return vote.model_dump(exclude_none=True)


def queue_votes(voting, topic: dict, indexes) -> list[dict]:
    """Queue one vote per choice index in `indexes`; the message bodies sent."""
    bodies = [queued_vote(topic, index) for index in indexes]
    for body in bodies:
        voting.queue.send(body)
    return bodies


def record_queued(voting) -> int:
    """Run the worker's own batch code on what is queued; returns how many it received."""
    handled = 0
    while messages := voting.queue.receive(0):
        report = VoteWorker.over(voting.backend, voting.settings).process(messages)
        handled += report.received
    return handled


def queued_bodies(voting) -> list[dict]:
    """Every message in the votes queue, read (and left invisible) while no worker runs."""
    bodies = []
    while batch := voting.queue.receive(wait_seconds=0):
        bodies += [json.loads(m.body) for m in batch]
    return bodies


def tallies_of(voting, topic: dict) -> list[int]:
    """The topic's counted votes since its last reset, choice by choice, straight from
    the tallies table."""
    stored = voting.store.get_topic(topic["id"]) or {}
    found = voting.store.get_counts(topic["id"], stored.get("generation", 0))
    return [found.get(c["id"], 0) for c in topic["choices"]]


def add_to_tally(voting, topic_id: str, slot: str, n: int) -> None:
    """Add `n` to one tally slot ("<counter>#<shard>") behind the app's back, as a buggy
    writer would: the drift recount must find."""
    voting.store.client.update_item(
        TableName=voting.store.names.tallies,
        Key={"topic_id": {"S": topic_id}, "slot": {"S": slot}},
        UpdateExpression="ADD #c :n",
        ExpressionAttributeNames={"#c": "count"},
        ExpressionAttributeValues={":n": {"N": str(n)}},
    )


def queue_drained(voting) -> bool:
    """No message waiting or in flight in the votes queue (SQS's approximate counts)."""
    depth = voting.queue.message_counts()
    return depth["waiting"] == 0 and depth["in_flight"] == 0


def wait_drained(voting, procs, timeout: float = 120.0) -> None:
    """Wait for the votes queue to drain; on failure, say what is left and what the
    processes logged last (a drain that stalls once in a CI run must explain itself)."""
    try:
        wait_until(lambda: queue_drained(voting), timeout=timeout)
    except AssertionError:
        raise AssertionError(
            f"queue not drained within {timeout:.0f}s: {queue_report(voting, procs)}"
        ) from None


def queue_report(voting, procs) -> str:
    """The votes queue's and the DLQ's counts, and the last 60 lines the processes logged."""
    tail = "\n".join(procs.logs().splitlines()[-60:])
    dead = voting.queue.message_counts(dead_letters=True)
    return f"queue {voting.queue.message_counts()}, dead letters {dead}\n{tail}"


# -- metrics and logs --------------------------------------------------------------------------


def samples(text: str) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted label items): value} from a Prometheus text exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(text: str, name: str, **labels) -> float | None:
    return samples(text).get((name, tuple(sorted(labels.items()))))


def scrape(url: str) -> str:
    """GET a /metrics URL on a new connection (so any server process may answer)."""
    answer = requests.get(url, timeout=10, headers={"Connection": "close"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/plain")
    return answer.text


def json_lines(path: Path | str) -> list[dict]:
    """Every non-empty line of a log file, parsed; fails on a line that is not JSON."""
    entries = []
    for number, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError as exc:
            raise AssertionError(f"{path}:{number} is not a JSON log line: {line!r}") from exc
        assert isinstance(entry, dict), line
        entries.append(entry)
    return entries


# -- the CloudFormation template (ddl/stack.yaml) ----------------------------------------------


@cache
def stack_template() -> dict:
    """ddl/stack.yaml as cfn-lint reads it (its short forms expanded)."""
    from cfnlint.decode import decode_str

    template, matches = decode_str((ROOT / "ddl" / "stack.yaml").read_text())
    assert not matches, matches
    return template


def policy_statements(policy: str) -> list[dict]:
    return stack_template()["Resources"][policy]["Properties"]["PolicyDocument"]["Statement"]


def granted(policy: str) -> set[str]:
    """Every IAM action a policy of the template allows."""
    return {action for s in policy_statements(policy) for action in s["Action"]}


# -- the browser tests (tests/e2e) -------------------------------------------------------------

# `make screenshots` points this at docs/screenshots; a plain test run writes
# to build/screenshots (git-ignored), so `make test` leaves the tree clean.
SCREENSHOTS = Path(os.environ.get("SCREENSHOTS_DIR") or ROOT / "build" / "screenshots")
PHONE = {
    "viewport": {"width": 360, "height": 740},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 800}}


def sign_in_browser(page, base: str) -> None:
    """Sign a Playwright page in as the admin through the login form."""
    page.goto(f"{base}/admin")
    page.get_by_label("Admin key or password").fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/admin")


def screenshot_path(name: str) -> str:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / name)


# -- unit tests --------------------------------------------------------------------------------


class Clock:
    """A clock a test moves by hand: pass it where code takes `clock=time.monotonic`."""

    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self) -> float:
        return self.now
