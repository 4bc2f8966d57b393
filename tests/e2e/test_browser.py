"""The browser experience in headless Chromium, against real web and worker processes.

An admin signs in and creates a topic, a voter on a phone-sized screen votes
and sees the vote counted, and a second page (the projector view) updates
its bars without reloading; a closed topic refuses votes; the present view's
QR code decodes to the voting URL; the pages work without JavaScript; and
no page trips the Content-Security-Policy. Screenshots land in build/screenshots
(docs/screenshots with `make screenshots`).
"""

from __future__ import annotations

import re

import zxingcpp
from playwright.sync_api import expect

from tests.e2e.png import grey
from tests.helpers.api import ADMIN_KEY, make_topic, vote_counts
from tests.helpers.browser import DESKTOP, PHONE, expect_focused, screenshot_path
from tests.helpers.waiting import wait_until

CHOICES = ["Lightning talks", "Workshops", "Panels"]


def sign_in(page, base):
    page.goto(f"{base}/admin")
    expect(page).to_have_url(re.compile(r"/admin/login\?next=/admin$"))
    page.get_by_label("Password", exact=True).fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/admin")


def topic_id_from_admin(page, title) -> str:
    link = (
        page.get_by_role("row").filter(has_text=title).get_by_role("link", name=title, exact=True)
    )
    return link.get_attribute("href").rsplit("/", 1)[1]


def test_admin_creates_voter_votes_and_results_update_live(stack, contexts, console, api):
    base = stack.base

    # The admin signs in and creates a topic with three choices, adding the
    # third row with htmx.
    admin = console.watch(contexts(**DESKTOP).new_page())
    sign_in(admin, base)
    admin.get_by_role("link", name="New topic").click()
    admin.get_by_label("Question").fill("Which talk format do you prefer?")
    rows = admin.locator("input[name=choice]")
    expect(rows).to_have_count(2)
    rows.nth(0).fill(CHOICES[0])
    rows.nth(1).fill(CHOICES[1])
    admin.get_by_role("button", name="Add another choice").click()
    expect(rows).to_have_count(3)
    expect_focused(rows.nth(2))  # the new row, ready to type into
    expect(admin).to_have_url(f"{base}/admin/topics/new")  # htmx: no page load
    rows.nth(2).fill(CHOICES[2])
    # The form defaults to one changeable vote per voter; this topic takes
    # the API's anonymous votes below, so it is unlimited on purpose.
    admin.get_by_label("Votes per voter").select_option("unlimited")
    admin.screenshot(path=screenshot_path("admin-form.png"), full_page=True)
    admin.get_by_role("button", name="Create topic").click()
    expect(admin).to_have_url(f"{base}/admin")
    expect(admin.locator(".flashes")).to_contain_text("Created “Which talk format do you prefer?”")
    topic_id = topic_id_from_admin(admin, "Which talk format do you prefer?")
    topic_url = f"{base}/t/{topic_id}"

    # A second page, opened before anyone votes: the projector view.
    screen = console.watch(contexts(viewport={"width": 1280, "height": 720}).new_page())
    streams, results_polls = [], []
    screen.on("response", lambda r: "/stream" in r.url and r.status == 200 and streams.append(r))
    screen.on("request", lambda r: "/results" in r.url and results_polls.append(r.url))
    screen.goto(f"{topic_url}/present")
    expect(screen.locator(".results-total strong")).to_have_text("0")
    screen.evaluate("window.__stillTheSamePage = true")

    # A voter on a phone-sized screen taps a choice.
    phone = console.watch(contexts(**PHONE).new_page())
    phone.goto(topic_url)
    expect(phone.get_by_role("heading", level=1)).to_have_text("Which talk format do you prefer?")
    phone.screenshot(path=screenshot_path("voter.png"), full_page=True)
    status_polls = []
    phone.on("request", lambda r: "/votes/" in r.url and status_polls.append(r.url))
    phone.get_by_role("button", name=CHOICES[1]).click()
    status = phone.locator("#vote-status")
    expect(status).to_contain_text("Your vote for Workshops was counted.")
    expect(status).not_to_have_attribute("hx-trigger", re.compile(".*"))
    assert status_polls, "the queued state should have been polled"
    polls_when_counted = len(status_polls)
    expect(phone.locator("#results .results-total strong")).to_have_text("1")

    # The projector view updated by itself, without a reload.
    expect(screen.locator(".results-total strong")).to_have_text("1")
    workshops = screen.locator(".bar").filter(has_text="Workshops")
    expect(workshops).to_have_class(re.compile("is-leading"))
    expect(workshops.locator(".bar-numbers")).to_have_text("1 vote · 100%")
    assert screen.evaluate("window.__stillTheSamePage") is True

    # More votes arrive over the API; both pages follow.
    topic = api.get(f"{base}/topics/{topic_id}").json()
    for index in (0, 0, 1, 0, 2):
        vote = api.post(
            f"{base}/votes",
            json={"topic_id": topic_id, "choice_id": topic["choices"][index]["id"]},
        )
        assert vote.status_code == 202
    expect(screen.locator(".results-total strong")).to_have_text("6")
    lightning = screen.locator(".bar").filter(has_text="Lightning talks")
    expect(lightning.locator(".bar-numbers")).to_have_text("3 votes · 50%")
    expect(lightning).to_have_class(re.compile("is-leading"))
    expect(lightning.locator("rect.bar-fill")).to_have_attribute("width", "50")
    expect(phone.locator("#results .results-total strong")).to_have_text("6")
    assert screen.evaluate("window.__stillTheSamePage") is True
    # Both followed through their event streams: the projector never polled its results.
    assert streams and not results_polls
    assert len(status_polls) == polls_when_counted  # the vote partial stopped polling

    screen.screenshot(path=screenshot_path("present.png"))
    phone.locator(".results-section").screenshot(path=screenshot_path("results.png"))
    phone.screenshot(path=screenshot_path("voter-counted.png"), full_page=True)
    admin.reload()
    expect(admin.locator(f"#topic-{topic_id} td.num")).to_have_text("6")
    admin.screenshot(path=screenshot_path("admin-topics.png"))
    assert vote_counts(api, topic_id, base=api.base) == [3, 2, 1]


def test_closed_topic_refuses_votes(stack, contexts, console, api):
    base = stack.base
    topic = make_topic(api, "Close me?", ["Yes", "No"], base=api.base)
    topic_url = f"{base}/t/{topic['id']}"

    # A voter opens the page while the topic is open...
    phone = console.watch(contexts(**PHONE).new_page())
    phone.goto(topic_url)
    expect(phone.get_by_role("button", name="Yes")).to_be_enabled()

    # ...the admin closes it with one click (htmx swaps the row)...
    admin = console.watch(contexts(**DESKTOP).new_page())
    sign_in(admin, base)
    row = admin.locator(f"#topic-{topic['id']}")
    row.get_by_role("button", name=re.compile("^Close")).click()
    expect(row.locator(".badge")).to_have_text("Closed")
    reopen = row.get_by_role("button", name=re.compile("^Reopen"))
    expect(reopen).to_be_visible()
    expect_focused(reopen)  # focus follows the swapped row

    # ...the voter's open page learns it from its results poll, which stops,
    # and its ballot closes too: no button left that could only be refused.
    expect(phone.locator("#results")).to_contain_text("Voting closed")
    expect(phone.locator("#results")).not_to_have_attribute("hx-trigger", re.compile(".*"))
    expect(phone.get_by_text("Voting on this topic is closed.")).to_be_visible()
    for name in ("Yes", "No"):
        expect(phone.get_by_role("button", name=name)).to_be_disabled()
    expect(phone.get_by_role("alert")).to_have_count(0)

    # A fresh visit shows the buttons disabled and says why.
    phone.reload()
    expect(phone.get_by_text("Voting on this topic is closed.")).to_be_visible()
    for name in ("Yes", "No"):
        expect(phone.get_by_role("button", name=name)).to_be_disabled()
    phone.screenshot(path=screenshot_path("closed.png"), full_page=True)
    assert vote_counts(api, topic["id"], base=api.base) == [0, 0]


def test_present_view_qr_code_decodes_to_the_voting_url(stack, contexts, console, api):
    topic = make_topic(api, "Scan me", ["A", "B"], base=api.base)
    page = console.watch(contexts(viewport={"width": 1280, "height": 720}).new_page())
    page.goto(f"{stack.base}/t/{topic['id']}/present")
    voting_url = f"{stack.base}/t/{topic['id']}"
    expect(page.locator(".present-url")).to_have_text(voting_url)
    width, height, pixels = grey(page.locator("#qr svg").screenshot())
    codes = zxingcpp.read_barcodes(memoryview(pixels).cast("B", (height, width)))
    assert [c.text for c in codes] == [voting_url]
    assert codes[0].format == zxingcpp.BarcodeFormat.QRCode


def test_voting_works_without_javascript(stack, contexts, api):
    topic = make_topic(api, "No script?", ["Plain", "Fancy"], base=api.base)
    page = contexts(**PHONE, java_script_enabled=False).new_page()
    page.goto(f"{stack.base}/t/{topic['id']}")
    page.get_by_role("button", name="Plain").click()
    expect(page).to_have_url(re.compile(rf"/t/{topic['id']}\?vote=[0-9a-f-]+$"))

    def counted():
        if page.locator(".vote-status.is-counted").count():
            return True
        page.get_by_role("link", name="Check again").click()  # the no-JS way to poll
        return False

    wait_until(counted, timeout=30, interval=0.5)
    expect(page.locator("#vote-status")).to_contain_text("Your vote for Plain was counted.")
    expect(page.locator("#results .results-total strong")).to_have_text("1")
    assert vote_counts(api, topic["id"], base=api.base) == [1, 0]


def test_topic_list_and_dark_mode(stack, contexts, console, api):
    make_topic(api, "An open question", ["A", "B"], base=api.base)
    make_topic(api, "A closed question", ["A", "B"], active=False, base=api.base)
    page = console.watch(contexts(**PHONE, color_scheme="dark").new_page())
    page.goto(f"{stack.base}/")
    cards = page.locator(".topic-card")
    expect(cards.first).to_contain_text("An open question")
    expect(cards.filter(has_text="A closed question").locator(".badge")).to_have_text("Closed")
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(17, 19, 24)"  # the dark scheme's --bg
    page.get_by_role("link", name="An open question").click()
    # Tab only once the topic page is there (under load the list could still be).
    expect(page.get_by_role("heading", level=1)).to_have_text("An open question")
    # And its stylesheets too: the focus ring is theirs (a fresh-clone run read
    # Chromium's default `auto` once, before style.css had applied).
    page.wait_for_load_state("load")
    page.keyboard.press("Tab")  # skip link
    page.keyboard.press("Tab")  # brand
    page.keyboard.press("Tab")  # first choice
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "A"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus ring
    page.screenshot(path=screenshot_path("voter-dark.png"), full_page=True)


def test_swagger_ui_renders_under_the_csp(stack, contexts, console):
    page = console.watch(contexts(**DESKTOP).new_page())
    page.goto(f"{stack.base}/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Voting Game API")
    expect(page.locator(".opblock").first).to_be_visible()
