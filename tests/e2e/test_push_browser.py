"""Event streams in headless Chromium, against real web and worker processes: a phone keeps
what it is filling in when the presenter reveals the results, and a phone whose stream is
blocked polls instead and still follows the room. (Playwright's expect waits: a wait,
not a timing assertion.)"""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import expect

from tests.helpers.api import make_event, make_topic, move
from tests.helpers.browser import PHONE


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
    # A stage that follows its stream never asks for itself: a tap inside it (htmx's
    # default trigger, click, were the stage to name none) would refetch it.
    stage_fetches = []
    phone.on("request", lambda r: urlsplit(r.url).path.endswith("/stage")
             and stage_fetches.append(r.url))  # fmt: skip
    phone.goto(f"{stack.base}/{event['code']}")
    expect(phone.locator(".stage-waiting")).to_be_visible()

    move(api, event, base=stack.base)
    expect(phone.locator("#question")).to_have_text("Which fruits?")
    phone.get_by_label("Pear").check()
    reveal(api, event)
    expect(phone.locator("#stage-results h2")).to_have_text("Results")
    expect(phone.get_by_label("Pear")).to_be_checked()
    # The pushed ballot votes with the page's token (a header): accepted.
    phone.get_by_role("button", name="Vote").click()
    expect(phone.locator("#vote-status")).to_be_visible()

    move(api, event, base=stack.base)
    expect(phone.locator("#question")).to_have_text("One word for today?")
    phone.get_by_label("Your answer").fill("sunny")
    reveal(api, event)
    expect(phone.locator("#stage-results h2")).to_have_text("Results")
    expect(phone.get_by_label("Your answer")).to_have_value("sunny")
    # It followed through its stream all along: the stage never started polling.
    expect(phone.locator("#stage")).to_have_attribute("data-poll-trigger", "every 1s")
    assert stage_fetches == []
    # Sent before htmx takes a pushed ballot over (a tap just after the swap: here a copy
    # htmx never saw), the browser posts the form itself, with the page's token.
    phone.evaluate("() => { const f = document.querySelector('form.ballot');"
                   " f.replaceWith(f.cloneNode(true)); }")  # fmt: skip
    with phone.expect_navigation() as posted:
        phone.locator("form.ballot [type=submit]").first.click()
    assert posted.value.status == 200, posted.value.url



def test_a_phone_is_told_when_the_presenter_moves_on_from_an_answer_it_did_not_send(
    stack, contexts, console, api
):
    # Checkboxes: an answer begun before it is sent (a single choice's tap sends it).
    topics = [make_topic(api, q, ["Yes", "No"], base=stack.base, active=False,
                         type="multiple", max_choices=2)
              for q in ("Coffee first?", "Tea after?")]  # fmt: skip
    event = make_event(api, topics, base=stack.base)
    phone = console.watch(contexts(**PHONE).new_page())
    phone.goto(f"{stack.base}/{event['code']}")
    move(api, event, base=stack.base)
    expect(phone.locator("#question")).to_have_text("Coffee first?")
    phone.get_by_label("Yes").check()  # begun, never sent
    move(api, event, base=stack.base)
    expect(phone.locator("#question")).to_have_text("Tea after?")
    expect(phone.locator("[data-unsent-notice]")).to_have_text(
        "Your answer to “Coffee first?” was not sent: the presenter moved on."
    )
    # An answer sent before the move leaves nothing to say.
    phone.get_by_label("No").check()
    phone.get_by_role("button", name="Vote").click()
    expect(phone.locator("#vote-status")).to_be_visible()
    move(api, event, "previous", base=stack.base)
    expect(phone.locator("#question")).to_have_text("Coffee first?")
    expect(phone.locator("[data-unsent-notice]")).to_have_count(0)

def test_a_phone_whose_stream_is_blocked_polls_and_still_follows(stack, contexts, api):
    topics = [make_topic(api, f"Question {n}", base=stack.base, active=False) for n in (1, 2)]
    event = make_event(api, topics, base=stack.base)
    phone = contexts(**PHONE).new_page()
    phone.route("**/stream?**", lambda route: route.abort())  # a network that refuses it
    phone.goto(f"{stack.base}/{event['code']}")
    # Three failed connections, or no hello within 10 s of loading: it polls.
    expect(phone.locator("#stage")).to_have_attribute("hx-trigger", "every 1s")
    move(api, event, base=stack.base)
    expect(phone.locator("#question")).to_have_text("Question 1")
    move(api, event, base=stack.base)
    expect(phone.locator("#question")).to_have_text("Question 2")


def test_a_tap_while_the_phones_own_ballot_is_on_its_way_is_a_vote(stack, contexts, console, api):
    """A pushed question makes the phone ask for its own ballot (a topic that shows each
    voter their counted ballot); a tap before that answer arrives is a vote that leaves
    and is shown (htmx queues it behind that request on the same form: the older answer
    must not replace the form and drop it)."""
    topic = make_topic(api, "Coffee or tea?", ["Coffee", "Tea"], base=stack.base,
                       active=False, vote_limit="one_per_voter")  # fmt: skip
    event = make_event(api, [topic], base=stack.base)
    phone = console.watch(contexts(**PHONE).new_page())
    held = []

    def hold_own_ballot(route):
        if route.request.method == "GET":
            held.append(route)  # answered only after the tap
        else:
            route.continue_()

    phone.route(f"**/{event['code']}/vote/**", hold_own_ballot)
    phone.goto(f"{stack.base}/{event['code']}")
    expect(phone.locator(".stage-waiting")).to_be_visible()
    with phone.expect_request(lambda r: r.method == "GET" and "/vote/" in r.url):
        move(api, event, base=stack.base)
    phone.get_by_role("button", name="Coffee").click()  # queued behind the held request
    with phone.expect_request(lambda r: r.method == "POST" and "/vote/" in r.url):
        held.pop().continue_()
    expect(phone.locator("#vote-status")).to_contain_text("Coffee")
