"""Two organisers in two browsers (headless Chromium, real web and worker processes):
each sees only their own events; one makes the other a co-host, who then presents
that event. And axe-core (WCAG 2.1 AA) on the accounts pages, light and dark."""

from __future__ import annotations

import re

import requests
from playwright.sync_api import expect

from tests.helpers.accounts import PASSWORD, bearer, make_user
from tests.helpers.browser import DESKTOP, in_both_schemes, sign_in_browser


def sign_in(page, base: str, email: str, password: str = PASSWORD) -> None:
    page.goto(f"{base}/admin/login?next=/admin/events")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{base}/admin/events")


def create_event(page, title: str, question: str) -> None:
    page.get_by_label("New event").fill(title)
    page.get_by_role("button", name="Create event").click()
    page.get_by_label("Question", exact=True).fill(question)
    page.get_by_label("Choices, one per line").fill("Yes\nNo")
    page.get_by_role("button", name="Add new question").click()
    expect(page.locator(".event-questions")).to_contain_text(question)


def test_two_organisers_see_their_own_and_a_co_host_presents(stack, contexts, console, api):
    base = stack.base
    for email in ("ada@example.org", "bob@example.org"):
        make_user(api, email, base=base)
    ada = console.watch(contexts(**DESKTOP).new_page())
    bob = console.watch(contexts(**DESKTOP).new_page())
    sign_in(ada, base, "ada@example.org")
    sign_in(bob, base, "bob@example.org")
    create_event(ada, "Ada keynote", "Coffee or tea?")
    ada_event = ada.url
    create_event(bob, "Bob workshop", "Tabs or spaces?")
    for page, own, other in ((ada, "Ada keynote", "Bob workshop"),
                             (bob, "Bob workshop", "Ada keynote")):  # fmt: skip
        page.goto(f"{base}/admin/events")
        expect(page.locator(".event-table")).to_contain_text(own)
        expect(page.locator(".event-table")).not_to_contain_text(other)
    # Bob cannot open Ada's event by its address (asked with his cookies, off the page).
    assert bob.request.get(ada_event).status == 404

    ada.goto(ada_event)
    ada.get_by_label("Add a co-host by their account's email").fill("bob@example.org")
    ada.get_by_role("button", name="Add co-host").click()
    expect(ada.locator("#hosts")).to_contain_text("bob@example.org")

    bob.goto(f"{base}/admin/events")
    expect(bob.locator(".event-table")).to_contain_text("Ada keynote")
    bob.get_by_role("link", name="Present “Ada keynote”").click()
    expect(bob.locator(".stage-waiting")).to_be_visible()
    bob.get_by_role("button", name="Next →").click()
    expect(bob.locator("#question")).to_have_text("Coffee or tea?")
    event_id = ada_event.rsplit("/", 1)[1]
    assert api.get(f"{base}/events/{event_id}").json()["position"] == 0


def test_the_accounts_pages_pass_axe(stack, contexts, api):
    base = stack.base
    make_user(api, "carol@example.org", base=base)
    carol = bearer(api, "carol@example.org", base=base)
    make_user(api, "dan@example.org", base=base)
    # Carol's own calls: not through `api`, whose session sends the operator key.
    event = requests.post(f"{base}/events", json={"title": "Carol talk"}, headers=carol,
                          timeout=10).json()  # fmt: skip
    requests.post(f"{base}/events/{event['id']}/hosts", json={"email": "dan@example.org"},
                  headers=carol, timeout=10).raise_for_status()  # fmt: skip
    # One browser walks the pages once; each state is checked with every rule in the light
    # scheme and again in the dark (the same page, its scheme switched).
    problems = {}
    page = contexts(**DESKTOP).new_page()

    def axe_in_light_and_dark(name: str) -> None:
        problems[name] = in_both_schemes(page, dark_rules=None)

    page.goto(f"{base}/admin/login")
    axe_in_light_and_dark("sign-in")
    page.get_by_label("Email").fill("carol@example.org")
    page.get_by_label("Password", exact=True).fill("wrong password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("#sign-in-error")).to_be_visible()
    axe_in_light_and_dark("sign-in error")
    sign_in(page, base, "carol@example.org")
    page.goto(f"{base}/admin/events/{event['id']}")
    expect(page.locator("#hosts")).to_contain_text("dan@example.org")
    axe_in_light_and_dark("event with co-hosts")
    page.goto(f"{base}/admin/tokens")
    page.get_by_label("Name").fill("laptop")
    page.get_by_role("button", name="Create token").click()
    expect(page.locator("#new-token")).to_have_value(re.compile(r"^vg_"))
    axe_in_light_and_dark("my tokens")
    # The operator: the same browser without Carol's session (cookies cleared), signed in.
    page.context.clear_cookies()
    sign_in_browser(page, base)
    page.goto(f"{base}/admin/users")
    expect(page.locator(".admin-table")).to_contain_text("carol@example.org")
    axe_in_light_and_dark("users")
    found = {name: found for name, found in problems.items() if found}
    assert found == {}, "\n".join(f"{k}: {v}" for k, v in found.items())
