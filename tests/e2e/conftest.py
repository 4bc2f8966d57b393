"""Browser fixtures: one headless Chromium per session, one app per module.

The browser is Debian's /usr/bin/chromium (Playwright cannot download its
own here), driven by Playwright's Python package. Each test module gets its
own stack on the shared moto server and one gunicorn + one worker.py, real
processes, shared by the module's tests (each test makes its own topics).
"""

from __future__ import annotations

import os
import re
from types import SimpleNamespace

import pytest
import requests

from tests.browser_setup import CHROMIUM
from tests.helpers.api import ADMIN
from tests.helpers.browser import PATIENCE_MS
from tests.helpers.processes import Processes
from tests.helpers.stacks import new_stack

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=PATIENCE_MS)  # expectations wait as long as actions do

    if not os.path.exists(CHROMIUM):
        pytest.fail(f"{CHROMIUM} is missing: run `python -m tests.browser_setup` (make test does)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def stack(moto_endpoint, tmp_path_factory):
    """A fresh stack, the web app and the worker for this module's tests."""
    env = new_stack(moto_endpoint)
    processes = Processes(env, tmp_path_factory.mktemp("e2e"))
    base = processes.web(workers=1)
    processes.worker()
    yield SimpleNamespace(base=base, env=env, processes=processes)
    processes.stop_all()


class Console:
    """Collects what pages complain about: CSP violations and script errors."""

    def __init__(self):
        self.messages: list[str] = []

    def watch(self, page):
        page.on("console", lambda m: m.type == "error" and self.messages.append(m.text))
        page.on("pageerror", lambda e: self.messages.append(f"pageerror: {e}"))
        page.on("response", self._failed)
        return page

    def _failed(self, response):
        if response.status >= 400:
            self.messages.append(f"{response.status} for {response.url}")

    def problems(self) -> list[str]:
        # A 409 or 422 answer is logged by Chromium as a failed resource; that
        # is the app refusing a vote on purpose, not a fault of the page.
        expected = re.compile(r"(Failed to load resource: .* status of |^)(409|422)\b")
        return [m for m in self.messages if not expected.search(m)]


@pytest.fixture
def console():
    watcher = Console()
    yield watcher
    assert watcher.problems() == []


@pytest.fixture
def contexts(browser):
    """Open browser contexts (separate cookie jars); closed after the test."""
    opened = []

    def new(**options):
        context = browser.new_context(**options)
        context.set_default_timeout(PATIENCE_MS)
        opened.append(context)
        return context

    yield new
    for context in opened:
        context.close()


@pytest.fixture
def api(stack):
    """The JSON API over HTTP, as an admin."""
    with requests.Session() as session:
        session.headers.update(ADMIN)
        session.base = stack.base
        yield session
