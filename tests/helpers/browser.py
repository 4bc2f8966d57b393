"""What the browser tests (tests/e2e) share: viewports, signing in, screenshots."""

from __future__ import annotations

import os
from pathlib import Path

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


def sign_in_browser(page, base: str) -> None:
    """Sign a Playwright page in as the admin through the login form."""
    page.goto(f"{base}/admin")
    page.get_by_label("Password", exact=True).fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/admin")


WCAG_21_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def violations_on(page, rules: list[str] | None = None) -> list[str]:
    """axe-core's WCAG 2.1 A and AA violations on a Playwright page, one line each
    (`rules`: only these axe rules)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "rule", "values": rules}} if rules else WCAG_21_AA
    results = Axe().run(page, options=options)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in results.response["violations"]
    ]


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
