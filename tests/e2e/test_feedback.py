"""What phones and screen readers are told, in Chromium against real processes.

Focus after every in-page swap, one short polite summary instead of a live
region around every bar, a vote's state said once, "You voted for X" and the
current choice marked, a deadline in the viewer's own time that closes an
open ballot when it passes, a Share button only when it can work, right-to-left
choices aligned right, and page percentages that add up to 100.
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import expect

from tests.helpers.api import api_vote, make_topic, vote_counts
from tests.helpers.browser import DESKTOP, PHONE, expect_focused, sign_in_browser
from tests.helpers.waiting import wait_until

# Records each text the results' live region takes, with when (ms).
WATCH_ANNOUNCER = """() => {
  window.__said = [];
  const region = document.getElementById('results-announcer');
  new MutationObserver(() => window.__said.push([Date.now(), region.textContent]))
    .observe(region, {childList: true, characterData: true, subtree: true});
}"""


def test_vote_moves_focus_is_said_once_and_results_follow(stack, contexts, console, api):
    choices = [f"Choice number {n}" for n in range(20)]
    topic = make_topic(api, "Twenty choices?", choices, base=api.base)
    phone = console.watch(contexts(**PHONE).new_page())
    phone.goto(f"{stack.base}/t/{topic['id']}")
    # No live region wraps the bars: only the one-line announcer is live.
    live = phone.locator("[aria-live], [role=status], [role=alert]:not([hidden])")
    assert sorted(live.evaluate_all("els => els.map(e => e.id)")) == [
        "results-announcer",
        "vote-announcer",
    ]
    expect(phone.locator("#results")).not_to_have_attribute("aria-live", re.compile(".*"))
    phone.evaluate(WATCH_ANNOUNCER)

    phone.get_by_role("button", name="Choice number 3").click()
    expect_focused(phone.locator(".vote-result"))  # focus went with the swap
    expect(phone.locator("#vote-status")).to_contain_text("was counted")
    expect(phone.locator("#vote-announcer")).to_have_text(
        "Your vote for Choice number 3 was counted."
    )
    # The results under "counted" include the vote.
    expect(phone.locator("#results .results-total strong")).to_have_text("1")
    expect(phone.locator("#results-announcer")).to_have_text(
        "1 vote, Choice number 3 leads with 100%"
    )

    # Votes keep arriving for 12 s; the summary changes at most every ~10 s.
    started, sent = time.monotonic(), 0
    while time.monotonic() - started < 12:
        api_vote(api, topic, 5, base=api.base)
        sent += 1
        time.sleep(1)
    # As many as were sent: a loaded machine sends fewer than 12 in 12 s.
    wait_until(lambda: vote_counts(api, topic["id"], base=api.base)[5] == sent, timeout=60)
    said = phone.evaluate("window.__said")
    assert 1 <= len(said) <= 3, said
    gaps = [later[0] - earlier[0] for earlier, later in zip(said, said[1:], strict=False)]
    assert all(gap >= 9_500 for gap in gaps), gaps
    assert all(len(text) < 80 for _, text in said), said  # a sentence, not 20 bars


def test_changeable_voter_sees_their_choice_and_the_deadline_in_local_time(
    stack, contexts, console, api
):
    closes = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3)
    topic = make_topic(
        api,
        "Tea or coffee?",
        ["Tea", "Coffee"],
        base=api.base,
        vote_limit="changeable",
        closes_at=closes.isoformat(),
    )
    phone = console.watch(contexts(**PHONE, timezone_id="Asia/Tokyo", locale="en-US").new_page())
    phone.goto(f"{stack.base}/t/{topic['id']}")
    local = closes.astimezone(ZoneInfo("Asia/Tokyo"))
    time_text = phone.locator("time[data-local-time]")
    expect(time_text).to_contain_text(f"{local.hour % 12 or 12}:{local.minute:02d}")
    expect(time_text).not_to_contain_text("UTC")
    expect(phone.locator("[data-countdown]")).to_have_text(re.compile(r"^ \(in [23] hours\)$"))

    phone.get_by_role("button", name="Coffee").click()
    expect(phone.locator("#vote-status")).to_contain_text("was counted")
    phone.get_by_role("link", name="Change your vote").click()
    expect(phone.locator("#my-vote")).to_have_text(
        "You voted for Coffee. Tap another choice to change your vote."
    )
    mine = phone.locator("button.choice.is-mine")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text("Coffee")
    expect(phone.locator(".notice-error")).to_have_count(0)


def test_a_passing_deadline_closes_an_open_phone(stack, contexts, console, api):
    closes = datetime.now(UTC) + timedelta(seconds=6)
    topic = make_topic(
        api, "Quick one?", ["Yes", "No"], base=api.base, closes_at=closes.isoformat()
    )
    phone = console.watch(contexts(**PHONE).new_page())
    phone.goto(f"{stack.base}/t/{topic['id']}")
    expect(phone.get_by_role("button", name="Yes")).to_be_enabled()
    expect(phone.get_by_text("Voting on this topic is closed.")).to_be_hidden()
    # Nobody reloads: the results poll brings the news.
    expect(phone.get_by_text("Voting on this topic is closed.")).to_be_visible()
    expect(phone.get_by_role("button", name="Yes")).to_be_disabled()
    expect(phone.locator(".closes-at")).to_be_hidden()


def test_removing_a_row_keeps_focus_and_added_rows_have_labels(stack, contexts, console):
    admin = console.watch(contexts(**DESKTOP).new_page())
    sign_in_browser(admin, stack.base)
    admin.goto(f"{stack.base}/admin/topics/new")
    add = admin.get_by_role("button", name="Add another choice")
    fields = admin.get_by_label("Choice", exact=True)
    for count in (3, 4):
        add.click()
        expect(fields).to_have_count(count)  # every added row has its own label
        # The new row's field takes the focus (htmx's autofocus, once the row settles):
        # typing before then could land in the field that takes it.
        expect_focused(fields.nth(count - 1))
    fields.nth(2).fill("third")
    fields.nth(3).fill("fourth")
    # Each row's Remove is named by its field's live value (a failure shows the name found).
    removes = admin.locator(".choice-row").get_by_role("button")
    expect(removes.nth(2)).to_have_accessible_name("Remove third")
    expect(removes.nth(3)).to_have_accessible_name("Remove fourth")
    admin.get_by_role("button", name="Remove third").click()
    expect(fields).to_have_count(3)
    expect_focused(fields.nth(2))  # the next row's field
    expect(fields.nth(2)).to_have_value("fourth")
    admin.get_by_role("button", name="Remove fourth").click()
    expect_focused(fields.nth(1))  # no next row: the one before


def test_share_button_only_when_it_can_work(stack, contexts, console, api):
    topic = make_topic(api, "Share me?", ["A", "B"], base=api.base)
    url = f"{stack.base}/t/{topic['id']}"
    no_script = contexts(**PHONE, java_script_enabled=False).new_page()
    no_script.goto(url)
    expect(no_script.locator("[data-share-url]")).to_be_hidden()
    # A plain-http network address: browsers offer neither share nor clipboard.
    context = contexts(**PHONE)
    context.add_init_script(
        "delete Navigator.prototype.share; delete Navigator.prototype.clipboard;"
    )
    insecure = console.watch(context.new_page())
    insecure.goto(url)
    assert insecure.evaluate("typeof navigator.share + typeof navigator.clipboard") == (
        "undefinedundefined"
    )
    expect(insecure.locator("[data-share-url]")).to_be_hidden()
    expect(insecure.get_by_role("link", name=url)).to_be_visible()  # the link stays


def test_rtl_choices_align_right_and_shares_add_up(stack, contexts, console, api):
    topic = make_topic(api, "Which one?", ["مرحبا بالعالم", "Hello", "Shalom"], base=api.base)
    for index in (0, 1, 2):
        api_vote(api, topic, index, base=api.base)
    wait_until(lambda: vote_counts(api, topic["id"], base=api.base) == [1, 1, 1])
    phone = console.watch(contexts(**PHONE).new_page())
    phone.goto(f"{stack.base}/t/{topic['id']}")
    arabic = phone.get_by_role("button", name="مرحبا بالعالم")
    assert arabic.evaluate("e => getComputedStyle(e).direction") == "rtl"
    # The text sits at the button's right edge.
    text_right, button_right = arabic.evaluate(
        """e => { const r = document.createRange(); r.selectNodeContents(e);
                  return [r.getBoundingClientRect().right, e.getBoundingClientRect().right]; }"""
    )
    assert button_right - text_right < 40
    english = phone.get_by_role("button", name="Hello")
    assert english.evaluate("e => getComputedStyle(e).direction") == "ltr"
    # 1/1/1 reads 34/33/33 on the page (the API keeps the original's 33/33/33).
    numbers = phone.locator("#results .bar-numbers")
    expect(numbers).to_have_text(["1 vote · 34%", "1 vote · 33%", "1 vote · 33%"])
    assert [
        c["votes"]
        for c in api.get(f"{api.base}/topics/{topic['id']}?include_votes=1").json()["choices"]
    ] == [33, 33, 33]
