"""Fixtures every layer may use: a real moto server, per-test stacks, the app, processes.

- `moto_endpoint` (session): one moto server on a free loopback port.
- `aws_env`: a fresh TABLE_PREFIX per test, so tables and queue are new; the
  environment is set for in-process code and returned for subprocesses.
- `app` / `client` / `voting`: the Flask app against that environment, and its
  Voting service.
- `procs`: start the web app under gunicorn and `worker.py` as subprocesses;
  everything started is stopped at the end of the test.

Plain helpers (make_env, wait_until, make_topic...) are in tests/helpers/, one module per job.
Layers: unit/ (no server), integration/ (the moto server), system/ (processes,
faults, deployment), e2e/ (a browser).
"""

from __future__ import annotations

import subprocess

import pytest
import requests

from local import launcher as embedded
from tests.helpers.api import ADMIN, make_event, make_topic
from tests.helpers.processes import Processes
from tests.helpers.stacks import new_stack
from tests.helpers.waiting import clear_of_a_minute_edge
from webapp import create_app, services


@pytest.fixture(scope="session")
def moto_endpoint(tmp_path_factory):
    with open(tmp_path_factory.mktemp("moto") / "moto.log", "wb") as log:
        process = embedded.start_moto(embedded.free_port(), stdout=log, stderr=subprocess.STDOUT)
    yield f"http://127.0.0.1:{process.args[-1]}"
    embedded.stop([process])


@pytest.fixture
def aws_env(moto_endpoint, monkeypatch, request):
    """A fresh stack (tables + queue) on the shared moto server; env applied to os.environ.

    Mark a test `@pytest.mark.env(VISIBILITY_TIMEOUT="2")` to change settings. A test
    marked with a limit "per minute" starts clear of a minute's end.
    """
    marker = request.node.get_closest_marker("env")
    env = new_stack(moto_endpoint, **(marker.kwargs if marker else {}))
    if marker and any("per minute" in str(v) for v in marker.kwargs.values()):
        clear_of_a_minute_edge()  # a limit's few requests all in one window
    for key, value in env.items():
        monkeypatch.setenv(key, value)
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
    return dict(ADMIN)


@pytest.fixture
def voting(app):
    """The app's Voting service (store + queue) for direct checks."""
    with app.app_context():
        return services.voting()


@pytest.fixture
def runner(app):
    """The app's `flask` commands, run in process."""
    return app.test_cli_runner()


@pytest.fixture
def event(client):
    """An event over two closed questions, in its lobby (`event["topics"]`: its topics)."""
    return make_event(client, [make_topic(client, title=f"Question {n}", active=False)
                               for n in (1, 2)])  # fmt: skip


@pytest.fixture
def procs(aws_env, tmp_path, request):
    processes = Processes(aws_env, tmp_path)
    yield processes
    processes.stop_all()
    outcome = getattr(request.node, "outcome_of_call", None)
    if outcome is not None and outcome.failed:
        # Shown under the failure ("Captured stdout teardown"): what the processes said,
        # since their log files go with the test's tmp_path.
        print("\n-- the last lines the test's processes logged --")
        print("\n".join(processes.logs().splitlines()[-80:]))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep the test's own outcome on its node, for fixtures to read in their teardown."""
    report = yield
    if report.when == "call":
        item.outcome_of_call = report
    return report


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def pytest_configure(config):
    config.addinivalue_line("markers", "env(**settings): extra environment for aws_env")
