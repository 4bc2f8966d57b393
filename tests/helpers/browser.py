"""What the browser tests (tests/e2e) share: viewports, signing in, screenshots, axe, where
the focus is, a vote counted on a phone, a present view fitting the projector."""

from __future__ import annotations

import os
import time
from pathlib import Path

from playwright.sync_api import expect

from tests.helpers.api import ADMIN_KEY
from tests.helpers.stacks import ROOT

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

# How long a browser test waits for an action or an expectation (tests/e2e/conftest.py):
# a page answers at once on a quiet machine, but CI's 2 cores also run the suite's other
# processes (servers starting, load tests), where Playwright's default for an expectation
# (5 s) would be a timing threshold.
PATIENCE_MS = 20_000


def sign_in_browser(page, base: str) -> None:
    """Sign a Playwright page in as the admin through the login form."""
    page.goto(f"{base}/admin")
    page.get_by_label("Password", exact=True).fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/admin")


WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def expect_focused(locator, timeout: float = PATIENCE_MS / 1000) -> None:
    """Wait until `locator`'s element is its document's active element: where the page put
    the focus. Not Playwright's to_be_focused, which also asks that the window hold the
    browser's focus (document.hasFocus()): in one CI run a headless Chromium answered no
    for two of a module's tests running one after the other, whatever the pages did."""
    focused = "el => el === el.getRootNode().activeElement"
    deadline = time.monotonic() + timeout
    while not locator.evaluate(focused):
        if time.monotonic() > deadline:
            where = locator.page.evaluate(
                "`${document.activeElement && document.activeElement.outerHTML.slice(0, 200)}"
                " (document.hasFocus(): ${document.hasFocus()})`"
            )
            raise AssertionError(f"{locator} is not focused; the focus is on {where}")
        time.sleep(0.1)


def violations_on(page, rules: list[str] | None = None) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations on a Playwright page, one line each
    (`rules`: only these axe rules). axe-core (570 kB) is injected once per document:
    a later check of the same document runs the copy already there (each run clears
    its own caches when it ends)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "rule", "values": rules}} if rules else WCAG_21_AA
    loaded = page.evaluate("typeof axe !== 'undefined'")
    results = (Axe(axe_script="void 0") if loaded else Axe()).run(page, options=options)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in results.response["violations"]
    ]


# axe's rules that read colours: contrast of text, and links told apart from text.
COLOUR_RULES = ["color-contrast", "link-in-text-block"]


def in_both_schemes(page, dark_rules: list[str] | None = COLOUR_RULES) -> list[str]:
    """axe's violations on the page as it is: every WCAG 2.1 A and AA rule in the light
    scheme, then `dark_rules` (the rules about colour; None: every rule) in the dark one
    (the same page, its colour scheme switched: what the scheme changes is style.css's
    colour variables, nothing else)."""
    found = [f"light: {line}" for line in violations_on(page)]
    page.emulate_media(color_scheme="dark")
    found += [f"dark: {line}" for line in violations_on(page, rules=dark_rules)]
    page.emulate_media(color_scheme="light")
    return found


def screenshot_path(name: str) -> str:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return str(SCREENSHOTS / name)


def off_screen(page, selector: str) -> list[str]:
    """Every element matching `selector` that reaches past the viewport's edges (a
    projector cannot scroll), as "text: its box"; [] when all are on screen."""
    return page.evaluate(
        """s => [...document.querySelectorAll(s)].map(e => [e, e.getBoundingClientRect()])
                .filter(([, r]) => r.left < -0.5 || r.top < -0.5 || r.right > innerWidth + 0.5
                                   || r.bottom > innerHeight + 0.5)
                .map(([e, r]) => `${e.textContent.trim().slice(0, 30)}: ${r.top}-${r.bottom}`)""",
        selector,
    )


def wait_until_counted(phone, javascript: bool) -> None:
    """Wait until the phone's vote is counted (without JS: follow "Check again")."""
    status = phone.locator("#vote-status")
    if javascript:
        expect(status).to_contain_text("was counted")
        return
    for _ in range(60):
        if "was counted" in status.inner_text():
            return
        phone.wait_for_timeout(500)
        phone.get_by_role("link", name="Check again").click()
    raise AssertionError(f"never counted: {status.inner_text()}")


def fits_the_projector(page) -> None:
    """The present view does not scroll at the page's viewport, and its QR code ends on screen."""
    size = page.viewport_size
    scroll = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    # Messages with the values: pytest rewrites the asserts of test modules, not of helpers.
    assert scroll == [size["width"], size["height"]], f"the present view must not scroll: {scroll}"
    box = page.locator("#qr svg").bounding_box()
    assert box and box["y"] + box["height"] <= size["height"] + 0.5, f"QR code off screen: {box}"
