"""Event streams in headless Chromium, against real web and worker processes: a phone keeps
what it is filling in when the presenter reveals the results, and a phone whose stream is
blocked polls instead and still follows the room. (Playwright's expect waits: a wait,
not a timing assertion.)"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.helpers.api import make_event, make_topic, move
from tests.helpers.browser import PHONE

FOLLOW_TIMEOUT_MS = 20_000


def reveal(api, event):
    answer = api.post(f"{api.base}/events/{event['id']}/results", json={"shown": True})
    assert answer.status_code == 200, answer.text


def test_a_reveal_keeps_the_ballot_a_phone_is_filling_in(stack, contexts, console, api):
    topics = [
        make_topic(api, "Which fruits?", ["Apple", "Pear", "Plum"], base=stack.base,
                   active=False, type="multiple", max_choices=2),
        make_topic(api, "One word for today?", [], base=stack.base, active=False, type="text"),
    ]  # fmt: skip
    event = make_event(api, topics, base=stack.base)
    phone = console.watch(contexts(**PHONE).new_page())
    phone.goto(f"{stack.base}/{event['code']}")
    expect(phone.locator(".stage-waiting")).to_be_visible()

    move(api, event, base=stack.base)
    expect(phone.locator("#question")).to_have_text("Which fruits?", timeout=FOLLOW_TIMEOUT_MS)
    phone.get_by_label("Pear").check()
    reveal(api, event)
    expect(phone.locator("#stage-results h2")).to_have_text("Results", timeout=FOLLOW_TIMEOUT_MS)
    expect(phone.get_by_label("Pear")).to_be_checked()
    # The pushed ballot votes with the page's token (a header): accepted.
    phone.get_by_role("button", name="Vote").click()
    expect(phone.locator("#vote-status")).to_be_visible()

    move(api, event, base=stack.base)
    expect(phone.locator("#question")).to_have_text("One word for today?",
                                                    timeout=FOLLOW_TIMEOUT_MS)  # fmt: skip
    phone.get_by_label("Your answer").fill("sunny")
    reveal(api, event)
    expect(phone.locator("#stage-results h2")).to_have_text("Results", timeout=FOLLOW_TIMEOUT_MS)
    expect(phone.get_by_label("Your answer")).to_have_value("sunny")
    # It followed through its stream all along: the stage never started polling.
    expect(phone.locator("#stage")).to_have_attribute("data-poll-trigger", "every 1s")
    # Sent before htmx takes a pushed ballot over (a tap just after the swap: here a copy
    # htmx never saw), the browser posts the form itself, with the page's token.
    phone.evaluate("() => { const f = document.querySelector('form.ballot');"
                   " f.replaceWith(f.cloneNode(true)); }")  # fmt: skip
    with phone.expect_navigation() as posted:
        phone.locator("form.ballot [type=submit]").first.click()
    assert posted.value.status == 200, posted.value.url


def test_a_phone_whose_stream_is_blocked_polls_and_still_follows(stack, contexts, api):
    topics = [make_topic(api, f"Question {n}", base=stack.base, active=False) for n in (1, 2)]
    event = make_event(api, topics, base=stack.base)
    phone = contexts(**PHONE).new_page()
    phone.route("**/stream?**", lambda route: route.abort())  # a network that refuses it
    phone.goto(f"{stack.base}/{event['code']}")
    # Three failed connections, or no hello within 10 s of loading: it polls.
    expect(phone.locator("#stage")).to_have_attribute("hx-trigger", "every 1s",
                                                      timeout=FOLLOW_TIMEOUT_MS)  # fmt: skip
    move(api, event, base=stack.base)
    expect(phone.locator("#question")).to_have_text("Question 1", timeout=FOLLOW_TIMEOUT_MS)
    move(api, event, base=stack.base)
    expect(phone.locator("#question")).to_have_text("Question 2", timeout=FOLLOW_TIMEOUT_MS)
