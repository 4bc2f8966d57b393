"""The present view on a projector: everything fits, results follow the audience's rule.

A projector cannot scroll, so every bar, the QR code and the join URL must be
inside the viewport whatever the number of choices and the title's length,
at 720p, 1080p and a narrow window (what 200% zoom leaves). Hidden results
stay hidden on the projector even for a signed-in presenter, until the
presenter reveals them. An event's projected view is the audience's: with
results hidden it shows the choices and how many answered, and no control
once the pointer rests.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.helpers.api import ADMIN, api_vote, make_event, make_topic, move
from tests.helpers.browser import screenshot_path, sign_in_browser, violations_on

PROJECTORS = [(1280, 720), (1920, 1080), (800, 600)]
LONG_TITLE = ("Which of these many options should the whole team adopt next quarter " * 5)[:300]


def _choices(count: int) -> list[str]:
    if count <= 6:
        return ["Python", "Rust", "Go", "Kotlin", "Swift", "Elixir"][:count]
    # Long names: 200 characters is what the API allows.
    return [f"Option {n}: " + ("a rather long description " * 8)[: 200 - 11] for n in range(count)]


def _outside(box: dict, width: int, height: int) -> bool:
    return (
        box["x"] < -0.5
        or box["y"] < -0.5
        or box["x"] + box["width"] > width + 0.5
        or box["y"] + box["height"] > height + 0.5
    )


@pytest.fixture(scope="module")
def topics(stack):
    api_session = requests.Session()
    api_session.headers.update(ADMIN)
    made = {}
    for count in (2, 6, 20):
        title = LONG_TITLE if count == 20 else f"Present {count} choices?"
        topic = make_topic(api_session, title, _choices(count), base=stack.base)
        for index in range(count):
            for _ in range(index % 3 + 1):
                api_vote(api_session, topic, index, base=stack.base)
        made[count] = topic
    api_session.close()
    return made


def test_every_bar_and_the_qr_code_fit_the_viewport(stack, contexts, console, subtests, topics):
    """Each topic (2, 6 and 20 choices) at each projector size, one subtest each (a failure
    names its size and count). One page loads each topic and is resized through the sizes:
    the layout is style.css's alone (viewport units, media and container queries, all
    applied again on a resize; no script measures the page)."""
    page = console.watch(contexts().new_page())
    for count, topic in topics.items():
        for n, (width, height) in enumerate(PROJECTORS):
            page.set_viewport_size({"width": width, "height": height})
            if n == 0:
                page.goto(f"{stack.base}/t/{topic['id']}/present")
            with subtests.test(msg=f"{width}x{height}, {count} choices"):
                _fits(page, count, width, height)


def _fits(page, count: int, width: int, height: int) -> None:
    bars = page.locator("#results .bar")
    expect(bars).to_have_count(count)

    scroll = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.scrollHeight]"
    )
    assert scroll == [width, height], "the page must not scroll"
    for locator in (page.locator("#qr svg"), page.locator(".present-url")):
        box = locator.bounding_box()
        assert box and not _outside(box, width, height), box
    lefts = set()
    for index in range(count):
        for part in (bars.nth(index), bars.nth(index).locator(".bar-track")):
            box = part.bounding_box()
            assert box and box["height"] > 0, f"bar {index} has no height"
            assert not _outside(box, width, height), f"bar {index} outside: {box}"
        lefts.add(round(bars.nth(index).bounding_box()["x"]))
        # The label stays inside its own bar: no row spills into the next.
        label = bars.nth(index).locator(".bar-label").bounding_box()
        row = bars.nth(index).bounding_box()
        assert (
            label["y"] >= row["y"] - 0.5
            and label["y"] + label["height"] <= row["y"] + row["height"] + 0.5
        )
    assert len(lefts) == (2 if count > 8 else 1), "two columns above 8 choices, one otherwise"

    # The title is clamped to three lines, whatever its length.
    lines = page.evaluate(
        """() => { const h = document.getElementById('question');
                   const s = getComputedStyle(h);
                   return h.getBoundingClientRect().height / parseFloat(s.lineHeight); }"""
    )
    assert lines <= 3.05
    # Text scales with the rows but stays readable from the back of the room.
    name_size = float(
        page.locator(".bar-name").first.evaluate("e => getComputedStyle(e).fontSize")[:-2]
    )
    assert name_size >= 9
    badge = page.locator(".bar .badge-lead").first
    badge_size = float(badge.evaluate("e => getComputedStyle(e).fontSize")[:-2])
    label_size = float(badge.evaluate("e => getComputedStyle(e.parentElement).fontSize")[:-2])
    assert badge_size == pytest.approx(label_size * 0.7, rel=0.02), "badges follow the text size"
    if count == 20 and (width, height) != (800, 600):
        page.screenshot(path=screenshot_path(f"present-{height}p-{count}.png"))


def test_hidden_results_stay_hidden_on_the_projector_until_revealed(stack, contexts, console, api):
    topic = make_topic(
        api, "Secret ballot?", ["Yes", "No"], base=api.base, results_visibility="after_close"
    )
    api_vote(api, topic, 0, base=api.base)
    api_vote(api, topic, 1, base=api.base)
    present_url = f"{stack.base}/t/{topic['id']}/present"

    # A signed-in presenter's projector follows the audience's rule...
    page = console.watch(contexts(viewport={"width": 1280, "height": 720}).new_page())
    sign_in_browser(page, stack.base)
    page.goto(present_url)
    expect(page.locator("#results")).to_contain_text("Results appear here when voting closes.")
    expect(page.locator("#results .bar")).to_have_count(0)
    reveal = page.get_by_role("link", name="Reveal results")
    expect(reveal).to_have_attribute("aria-keyshortcuts", "R")

    # ...until the presenter presses R (the "Reveal results" control's key).
    page.locator("body").press("r")
    expect(page).to_have_url(re.compile(r"/present\?reveal=1$"))
    expect(page.locator("#results .bar")).to_have_count(2)
    expect(page.locator("#results .results-total strong")).to_have_text("2")
    # The revealed view keeps polling in its own mode: a new vote shows up.
    api_vote(api, topic, 0, base=api.base)
    expect(page.locator("#results .results-total strong")).to_have_text("3")
    page.get_by_role("link", name="Hide results").click()
    expect(page.locator("#results .bar")).to_have_count(0)

    # Nobody else can reveal them by URL, and has no control to: the same browser without
    # the presenter's session (cookies cleared) is anybody else.
    stranger = page
    stranger.context.clear_cookies()
    stranger.goto(f"{present_url}?reveal=1")
    expect(stranger.locator("#results")).to_contain_text("Results appear here when voting closes.")
    expect(stranger.get_by_role("link", name="Reveal results")).to_have_count(0)
    hidden = stranger.request.get(f"{stack.base}/t/{topic['id']}/results?view=revealed")
    assert "results-total" not in hidden.text()

    # Closing the topic shows them to the room by itself.
    api.put(
        f"{api.base}/topics/{topic['id']}",
        json={"title": topic["title"], "is_active": False, "choices": topic["choices"]},
    ).raise_for_status()
    expect(stranger.locator("#results .results-total strong")).to_have_text("3")


def test_the_projected_event_view_is_the_audiences(stack, contexts, console, api):
    """An event's projected view with results hidden: the choices and the answer count
    (0, then 1 after a vote), no control once the pointer rests, a clicker's PageDown and
    B; axe-clean and readable from the back of the room at 720p and 1080p."""
    first = make_topic(api, "Coffee or tea?", ["Coffee", "Tea"], base=api.base, active=False)
    second = make_topic(api, "Stairs or lift?", ["Stairs", "Lift"], base=api.base, active=False)
    event = make_event(api, [first, second], base=api.base)
    move(api, event, "next", base=api.base)
    # Reduced motion: the controls' fade is then a switch, so axe never meets them half
    # faded (whenever the 3 s of rest end, as they may during a check on a busy machine).
    page = console.watch(contexts(viewport={"width": 1280, "height": 720},
                                  reduced_motion="reduce").new_page())  # fmt: skip
    sign_in_browser(page, stack.base)
    page.goto(f"{stack.base}/admin/events/{event['id']}/present")

    expect(page.locator(".present-choice")).to_have_text(["Coffee", "Tea"])
    count = page.locator("[data-answer-count]")
    expect(count).to_have_text("0")
    api_vote(api, first, 0, base=api.base)
    expect(count).to_have_text("1")  # pushed once the worker counted it
    expect(page.locator("#present-stage")).not_to_contain_text("vote")
    # The join URL breaks after its host if at all, never inside the code.
    assert page.locator(".present-url-path").evaluate("e => e.getClientRects().length") == 1

    # Once the pointer rests, nothing of the presenter's shows; a move brings it back.
    controls = page.locator(".control-bar").first
    for presenters_only in (controls, page.locator(".present-exit, .control-reset")):
        expect(presenters_only.first).to_have_css("opacity", "0")
        expect(presenters_only.last).to_have_css("opacity", "0")
    page.keyboard.press("Tab")  # the skip link, then a control: a keyboard user sees it
    page.keyboard.press("Tab")
    expect(page.locator(".control-bar:has(:focus-visible)")).to_have_css("opacity", "1")
    page.mouse.move(200, 200)
    expect(controls).to_have_css("opacity", "1")
    assert violations_on(page) == []
    page.screenshot(path=screenshot_path("event-projector-hidden-720p.png"))

    page.set_viewport_size({"width": 1920, "height": 1080})
    assert violations_on(page) == []
    small = page.evaluate(
        """() => { const small = [], walk = document.createTreeWalker(
                       document.querySelector('.present-grid'), NodeFilter.SHOW_TEXT);
                   while (walk.nextNode()) {
                     const el = walk.currentNode.parentElement;
                     const text = walk.currentNode.textContent.trim();
                     if (!text || !el.checkVisibility()) continue;
                     const size = parseFloat(getComputedStyle(el).fontSize);
                     if (size < 24) small.push(`${text.slice(0, 30)}: ${size}px`);
                   }
                   return small; }"""
    )
    assert small == [], "text too small for the back of the room"
    page.screenshot(path=screenshot_path("event-projector-hidden-1080p.png"))

    # A clicker: PageDown moves on, B blanks the screen and brings it back.
    page.keyboard.press("PageDown")
    expect(page.locator("#question")).to_have_text("Stairs or lift?")
    page.keyboard.press("b")
    expect(page.locator("#blank-screen")).to_be_visible()
    page.keyboard.press("b")
    expect(page.locator("#blank-screen")).to_be_hidden()
def test_the_console_drives_the_projected_view_and_is_axe_clean(stack, contexts, console, api):
    """The presenter console in a second window (webapp/presenter/console.py): its Next
    moves the projected view open beside it; WCAG 2.1 AA at 720p and 1080p."""
    topics = [make_topic(api, f"Console question {n}?", ["Yes", "No"], base=api.base,
                         active=False) for n in (1, 2)]  # fmt: skip
    event = make_event(api, topics, base=api.base)
    windows = contexts(viewport={"width": 1280, "height": 720})  # one sign-in, two windows
    projector = console.watch(windows.new_page())
    sign_in_browser(projector, stack.base)
    projector.goto(f"{stack.base}/admin/events/{event['id']}/present")
    desk = console.watch(windows.new_page())
    desk.goto(f"{stack.base}/admin/events/{event['id']}/console")
    desk.get_by_role("button", name=re.compile(r"^Next")).click()
    expect(projector.locator("#question")).to_have_text("Console question 1?")
    expect(desk.locator("[data-console-position]")).to_have_text("Question 1 of 2")
    expect(desk.locator("[data-console-current]")).to_have_text("Console question 1?")
    expect(desk.locator("[data-since]")).to_have_text(re.compile(r"^\d+:\d\d$"))
    assert violations_on(desk) == []
    desk.set_viewport_size({"width": 1920, "height": 1080})
    assert violations_on(desk) == []
    desk.screenshot(path=screenshot_path("console-1080p.png"))
