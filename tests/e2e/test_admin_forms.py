"""The admin's forms in Chromium: safe defaults, and edits that never drop votes silently.

A topic made in the form counts one (changeable) vote per phone, so a phone
is offered "Change your vote", never "Vote again"; editing a live topic
shows each choice's votes and asks before a removal drops any.
"""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.helpers.api import api_vote, make_topic, vote_counts
from tests.helpers.browser import DESKTOP, PHONE, screenshot_path, sign_in_browser
from tests.helpers.waiting import wait_until


def test_form_topic_counts_one_changeable_vote_per_phone(stack, contexts, console, api):
    admin = console.watch(contexts(**DESKTOP).new_page())
    sign_in_browser(admin, stack.base)
    admin.goto(f"{stack.base}/admin/topics/new")
    expect(admin.get_by_label("Votes per voter")).to_have_value("changeable")
    admin.get_by_label("Question").fill("Lunch today?")
    rows = admin.locator("input[name=choice]")
    rows.nth(0).fill("Pizza")
    rows.nth(1).fill("Salad")
    admin.get_by_role("button", name="Create topic").click()
    expect(admin).to_have_url(f"{stack.base}/admin")
    link = admin.get_by_role("link", name="Lunch today?", exact=True)
    topic_id = link.get_attribute("href").rsplit("/", 1)[1]
    assert api.get(f"{api.base}/topics/{topic_id}").json()["vote_limit"] == "changeable"

    phone = console.watch(contexts(**PHONE).new_page())
    phone.goto(f"{stack.base}/t/{topic_id}")
    phone.get_by_role("button", name="Pizza").click()
    expect(phone.locator("#vote-status")).to_contain_text("Pizza")
    expect(phone.get_by_role("link", name="Change your vote")).to_be_visible()
    expect(phone.get_by_role("link", name="Vote again")).to_have_count(0)


def test_edit_shows_votes_and_confirms_a_removal_that_drops_them(stack, contexts, console, api):
    topic = make_topic(api, "Languages?", ["Python", "Rust", "Go"], base=api.base)
    for index in (0, 1, 1):
        api_vote(api, topic, index, base=api.base)
    # Wait until the worker counted them, so the form has counts to show.
    wait_until(lambda: vote_counts(api, topic["id"], base=api.base) == [1, 2, 0])

    admin = console.watch(contexts(**DESKTOP).new_page())
    sign_in_browser(admin, stack.base)
    admin.goto(f"{stack.base}/admin/topics/{topic['id']}/edit")
    rows = admin.locator(".choice-row")
    expect(rows.locator(".choice-votes")).to_have_text(["1 vote", "2 votes", "0 votes"])

    # Dismissing the dialog keeps the row; accepting it removes the row.
    dialogs = []
    admin.once("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    admin.get_by_role("button", name="Remove Rust").click()
    expect(rows).to_have_count(3)
    admin.once("dialog", lambda d: (dialogs.append(d.message), d.accept()))
    admin.get_by_role("button", name="Remove Rust").click()
    expect(admin.locator("input[name=choice]")).to_have_count(2)
    assert dialogs == ["Remove “Rust” and its 2 votes?"] * 2
    # Go has no votes: removed without a question.
    admin.get_by_role("button", name="Remove Go").click()
    expect(admin.locator("input[name=choice]")).to_have_count(1)
    admin.get_by_role("button", name="Add another choice").click()
    admin.locator("input[name=choice]").nth(1).fill("Zig")
    admin.get_by_role("button", name="Save changes").click()
    expect(admin).to_have_url(f"{stack.base}/admin")
    stored = api.get(f"{api.base}/topics/{topic['id']}?include_votes=true").json()
    assert [c["description"] for c in stored["choices"]] == ["Python", "Zig"]
    assert stored["total_votes"] == 1


def test_without_javascript_a_voted_removal_is_confirmed_on_save(stack, contexts, api):
    topic = make_topic(api, "Editors?", ["Vim", "Emacs"], base=api.base)
    api_vote(api, topic, 1, base=api.base)
    wait_until(lambda: vote_counts(api, topic["id"], base=api.base) == [0, 1])
    page = contexts(**DESKTOP, java_script_enabled=False).new_page()
    sign_in_browser(page, stack.base)
    page.goto(f"{stack.base}/admin/topics/{topic['id']}/edit")
    page.get_by_role("button", name="Add another choice").click()
    page.locator("input[name=choice]").nth(2).fill("Nano")
    page.get_by_role("button", name="Remove Emacs").click()
    page.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("Saving would remove choices that have votes")
    assert vote_counts(api, topic["id"], base=api.base) == [0, 1]  # nothing changed yet
    page.get_by_label("Remove “Emacs” and its 1 vote").check()
    page.get_by_role("button", name="Save changes").click()
    expect(page).to_have_url(re.compile(r"/admin$"))
    stored = api.get(f"{api.base}/topics/{topic['id']}").json()
    assert [c["description"] for c in stored["choices"]] == ["Vim", "Nano"]


def test_admin_table_buttons_are_on_screen_on_a_phone(stack, contexts, console, api):
    """At 390 px every action of a row is on screen, no sideways scrolling needed."""
    make_topic(api, "A rather long question about " + "lunch " * 8, ["A", "B"], base=api.base)
    phone = console.watch(
        contexts(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True).new_page()
    )
    sign_in_browser(phone, stack.base)
    row = phone.locator(".admin-table tbody tr").first
    actions = row.locator(".actions a, .actions button")
    assert actions.count() == 4
    for index in range(actions.count()):
        box = actions.nth(index).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, index
        assert box["height"] >= 40  # still a finger-sized target
    # Nothing is cut off: neither the page nor the table scrolls sideways.
    widths = phone.evaluate(
        "() => [document.documentElement.scrollWidth, innerWidth,"
        " document.querySelector('.table-wrap').scrollWidth,"
        " document.querySelector('.table-wrap').clientWidth]"
    )
    assert widths[0] <= widths[1] and widths[2] <= widths[3], widths
    # The votes figure keeps its meaning without its column heading on screen.
    label = row.locator("td.num").evaluate("td => getComputedStyle(td, '::before').content")
    assert label == '"Votes: "'  # the heading is hidden on phones
    phone.screenshot(path=screenshot_path("admin-phone.png"), full_page=True)
