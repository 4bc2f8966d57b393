"""Every question type in the browser: a phone votes with JavaScript and a
phone without it, and the projector shows the matching results view.

Per type (multiple select, ranking, rating, open text, game) the phone's
ballot is the type's own (checkboxes, rank selects, a rating scale, a text
box, a button per choice), each vote is counted by the real worker, the
present view draws the type's results (shares of voters, points, the
distribution and mean, a word cloud, standing with cast and taken) and still
fits the projector. A refused answer shows its message next to the form, with
and without JavaScript. Screenshots (phone ballot and projector per type)
land in build/screenshots, or docs/screenshots with `make screenshots`. Each
type's present view, with a long title and a full room, fits 800x600 and 1080p.
"""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import expect

from tests.helpers.api import ADMIN, make_topic
from tests.helpers.browser import (
    PHONE,
    expect_focused,
    fits_the_projector,
    screenshot_path,
    sign_in_browser,
    wait_until_counted,
)

PROJECTOR = {"viewport": {"width": 1280, "height": 720}}
FRUIT = ["Apples", "Bananas", "Cherries", "Dates"]


def open_phone(contexts, console, url, javascript=True):
    page = contexts(**PHONE, java_script_enabled=javascript).new_page()
    if javascript:
        console.watch(page)
    page.goto(url)
    return page


@pytest.fixture
def screen(contexts, console):
    """The projector: opens a topic's present view."""

    def open_(base, topic):
        page = console.watch(contexts(**PROJECTOR).new_page())
        page.goto(f"{base}/t/{topic['id']}/present")
        return page

    return open_


def test_multiple_select(stack, contexts, console, api, screen):
    topic = make_topic(api, "Which fruit do you like?", FRUIT, base=api.base,
                       type="multiple", min_choices=1, max_choices=2)  # fmt: skip
    url = f"{stack.base}/t/{topic['id']}"
    projector = screen(stack.base, topic)
    phone = open_phone(contexts, console, url)
    expect(phone.locator("legend")).to_contain_text("Choose 1 to 2")
    phone.get_by_label("Apples").check()
    phone.get_by_label("Cherries").check()
    # The most allowed are ticked: the others wait (JavaScript only).
    expect(phone.get_by_label("Bananas")).to_be_disabled()
    phone.screenshot(path=screenshot_path("type-multiple-phone.png"), full_page=True)
    phone.get_by_role("button", name="Vote").click()
    wait_until_counted(phone, True)
    expect(phone.locator("#vote-status")).to_contain_text("Apples, Cherries")

    plain = open_phone(contexts, console, url, javascript=False)
    for name in ("Apples", "Bananas", "Dates"):
        plain.get_by_label(name).check()
    plain.get_by_role("button", name="Vote").click()
    # Three where two is the most: refused, the message next to the form, the picks kept.
    expect(plain.locator("[data-error-message]")).to_contain_text("Choose between 1 and 2")
    expect(plain.get_by_label("Dates")).to_be_checked()
    plain.get_by_label("Dates").uncheck()
    plain.get_by_role("button", name="Vote").click()
    wait_until_counted(plain, False)

    apples = projector.locator(".bar").filter(has_text="Apples")
    expect(apples.locator(".bar-numbers")).to_have_text("2 voters · 100%")
    expect(projector.locator(".results-total strong")).to_have_text("2")
    expect(projector.locator(".results-note")).to_contain_text("more than 100%")
    fits_the_projector(projector)
    projector.screenshot(path=screenshot_path("type-multiple-present.png"))


def test_ranking(stack, contexts, console, api, screen):
    topic = make_topic(api, "Rank the fruit", FRUIT[:3], base=api.base, type="ranking")
    url = f"{stack.base}/t/{topic['id']}"
    projector = screen(stack.base, topic)
    phone = open_phone(contexts, console, url)
    rank = lambda name: phone.get_by_label(name, exact=True)  # noqa: E731
    names = phone.locator(".rank-name")
    vote = phone.get_by_role("button", name="Vote")
    # Nothing is ranked until the voter ranks it, and Vote waits until every choice is.
    expect(vote).to_be_disabled()
    expect(phone.locator("#ranking-progress")).to_have_text("0 of 3 ranked")
    rank("Cherries").select_option("1")
    expect(rank("Apples")).to_have_value("")
    expect(vote).to_be_disabled()
    phone.screenshot(path=screenshot_path("type-ranking-phone.png"), full_page=True)
    # Bananas to rank 1: it moves there and Cherries shifts to 2; the last one left
    # (Apples) can only be 3rd, so it is ranked too, and Vote is ready.
    rank("Bananas").select_option("1")
    expect(names).to_have_text(["Bananas", "Cherries", "Apples"])
    expect(rank("Apples")).to_have_value("3")
    expect(vote).to_be_enabled()
    # Apples to 1: a move, not a swap (a swap would leave Bananas 3rd).
    rank("Apples").select_option("1")
    expect(names).to_have_text(["Apples", "Bananas", "Cherries"])
    # By keyboard: the buttons move a choice by one place and keep the focus.
    up = phone.get_by_role("button", name="Move Cherries up")
    up.focus()
    phone.keyboard.press("Enter")
    expect(names).to_have_text(["Apples", "Cherries", "Bananas"])
    expect_focused(up)
    vote.click()
    wait_until_counted(phone, True)
    expect(phone.locator("#vote-status")).to_contain_text("1. Apples, 2. Cherries, 3. Bananas")

    plain = open_phone(contexts, console, url, javascript=False)
    plain.get_by_role("button", name="Vote").click()  # untouched: refused, nothing counted
    expect(plain.locator("[data-error-message]")).to_contain_text("nothing is ranked yet")
    plain.get_by_label("Bananas", exact=True).select_option("1")
    plain.get_by_label("Apples", exact=True).select_option("1")  # the same rank twice
    plain.get_by_role("button", name="Vote").click()
    expect(plain.locator("[data-error-message]")).to_contain_text("Give each rank to one choice")
    plain.get_by_label("Bananas", exact=True).select_option("1")
    plain.get_by_label("Apples", exact=True).select_option("2")
    plain.get_by_label("Cherries", exact=True).select_option("3")
    plain.get_by_role("button", name="Vote").click()
    wait_until_counted(plain, False)

    # Borda over the two ballots: Apples 3+2, Bananas 1+3, Cherries 2+1.
    for name, numbers in (("Apples", "5 points · 1 first choice"),
                          ("Bananas", "4 points · 1 first choice"),
                          ("Cherries", "3 points · 0 first choices")):
        bar = projector.locator(".bar").filter(has_text=name)
        expect(bar.locator(".bar-numbers")).to_have_text(numbers)
    fits_the_projector(projector)
    projector.screenshot(path=screenshot_path("type-ranking-present.png"))


def test_rating(stack, contexts, console, api, screen):
    topic = make_topic(api, "How was the talk?", [], base=api.base, type="rating",
                       scale_min=1, scale_max=5)  # fmt: skip
    url = f"{stack.base}/t/{topic['id']}"
    projector = screen(stack.base, topic)
    phone = open_phone(contexts, console, url)
    phone.get_by_role("radio", name="5").check()
    phone.screenshot(path=screenshot_path("type-rating-phone.png"), full_page=True)
    phone.get_by_role("button", name="Vote").click()
    wait_until_counted(phone, True)
    expect(phone.locator("#vote-status")).to_contain_text("5 out of 5")

    plain = open_phone(contexts, console, url, javascript=False)
    plain.get_by_role("button", name="Vote").click()  # no rating picked
    expect(plain.locator("[data-error-message]")).to_contain_text("Pick a rating from 1 to 5")
    plain.get_by_role("radio", name="2").check()
    plain.get_by_role("button", name="Vote").click()
    wait_until_counted(plain, False)

    expect(projector.locator(".results-total")).to_contain_text("Average: 3.5 out of 5")
    expect(projector.locator(".bar")).to_have_count(5)
    five = projector.locator(".bar").filter(has=projector.locator(".bar-name", has_text="5"))
    expect(five.locator(".bar-numbers")).to_have_text("1 rating")
    fits_the_projector(projector)
    projector.screenshot(path=screenshot_path("type-rating-present.png"))


def test_rating_each_choice(stack, contexts, console, api, screen):
    topic = make_topic(api, "Rate each talk", ["Keynote", "Workshop"], base=api.base,
                       type="rating", rate_each=True, scale_min=0, scale_max=10)  # fmt: skip
    url = f"{stack.base}/t/{topic['id']}"
    plain = open_phone(contexts, console, url, javascript=False)
    plain.get_by_role("radiogroup", name="Keynote").get_by_role("radio", name="8").check()
    plain.get_by_role("button", name="Vote").click()
    wait_until_counted(plain, False)
    projector = screen(stack.base, topic)
    keynote = projector.locator(".bar").filter(has_text="Keynote")
    expect(keynote.locator(".bar-numbers")).to_have_text("average 8.0 · 1 rating")
    expect(keynote.locator("rect.bar-fill")).to_have_attribute("width", "80.0")
    fits_the_projector(projector)


def test_open_text_word_cloud_and_hiding_an_answer(stack, contexts, console, api):
    topic = make_topic(api, "One word for this talk?", [], base=api.base, type="text")
    url = f"{stack.base}/t/{topic['id']}"
    phone = open_phone(contexts, console, url)
    box = phone.get_by_label("Your answer")
    expect(box).to_have_attribute("maxlength", "60")
    box.fill("Inspiring")
    expect(phone.locator("#answer-limit")).to_have_text("51 of 60 characters left")
    phone.screenshot(path=screenshot_path("type-text-phone.png"), full_page=True)
    phone.get_by_role("button", name="Send answer").click()
    wait_until_counted(phone, True)

    # Three phones without JavaScript in turn: one page, a new voter each (cookies cleared).
    plain = contexts(**PHONE, java_script_enabled=False).new_page()
    for answer in ("  inspiring ", "Long, but worth every single minute", "meh"):
        plain.context.clear_cookies()
        plain.goto(url)
        plain.get_by_label("Your answer").fill(answer)
        plain.get_by_role("button", name="Send answer").click()
        wait_until_counted(plain, False)

    # More of the room answers over the API.
    for text in ("fun", "Fun", "FUN ", "clear", "practical", "deep dive", "clear"):
        cast = api.post(f"{api.base}/votes", json={"topic_id": topic["id"], "text": text})
        assert cast.status_code == 202, cast.text

    presenter = contexts(**PROJECTOR).new_page()
    console.watch(presenter)
    sign_in_browser(presenter, stack.base)
    presenter.goto(f"{url}/present")
    cloud = presenter.locator(".word-cloud")
    expect(presenter.locator(".results-total strong")).to_have_text("11")
    # Case and spaces do not split an answer: "fun" three times is the biggest word,
    # shown as typed (a tie of three spellings: the first in code point order, "FUN"),
    # "Inspiring" (typed twice, differently) counted as one answer.
    expect(cloud.locator(".cloud-size-5")).to_have_text(re.compile(r"^FUN"))
    expect(cloud.locator("li").filter(has_text="Inspiring")).to_contain_text("(2 times)")
    expect(cloud.locator("li")).to_have_count(6)
    expect(presenter.locator(".answer-list")).to_contain_text("Long, but worth every single minute")
    fits_the_projector(presenter)
    presenter.screenshot(path=screenshot_path("type-text-present.png"))
    # The presenter hides an answer: gone from the screen (and from the audience's).
    presenter.get_by_role("button", name="Hide “meh” from the screen").click()
    expect(cloud.locator("li")).to_have_count(5)
    # The audience's view: the same browser without the presenter's session (cookies cleared).
    presenter.context.clear_cookies()
    presenter.goto(f"{url}/present")
    expect(presenter.locator(".word-cloud li")).to_have_count(5)
    expect(presenter.locator(".word-cloud")).not_to_contain_text("meh")
    expect(presenter.locator(".answer-control")).to_have_count(0)


def test_game(stack, contexts, console, api, screen):
    topic = make_topic(api, "Tug of war", ["Red", "Blue"], base=api.base, type="game")
    url = f"{stack.base}/t/{topic['id']}"
    projector = screen(stack.base, topic)
    phone = open_phone(contexts, console, url)
    phone.screenshot(path=screenshot_path("type-game-phone.png"), full_page=True)
    phone.get_by_role("button", name="Red").click()
    wait_until_counted(phone, True)
    plain = open_phone(contexts, console, url, javascript=False)
    plain.get_by_role("button", name="Blue").click()
    wait_until_counted(plain, False)
    # The projector draws the API's results (the worker's rival picks decide
    # what was taken; tests/integration covers that logic).
    result = api.get(f"{stack.base}/topics/{topic['id']}?include_votes=true").json()["results"]
    assert result["cast"] == 2
    taken = result["taken"]
    expect(projector.locator(".results-total")).to_contain_text(f"2 cast · {taken} taken")
    for row, name in zip(result["choices"], ("Red", "Blue"), strict=True):
        bar = projector.locator(".bar").filter(has_text=name)
        numbers = f"{row['standing']} standing · {row['cast']} cast, {row['taken']} taken"
        expect(bar.locator(".bar-numbers")).to_have_text(numbers)
    fits_the_projector(projector)
    projector.screenshot(path=screenshot_path("type-game-present.png"))


def test_an_event_question_of_another_type_on_phones_and_the_presenter_view(
    stack, contexts, console, api
):
    topic = make_topic(api, "Rank the sessions", FRUIT[:3], base=api.base, type="ranking")
    made = api.post(f"{api.base}/events", json={"title": "Fruit day", "questions": [topic["id"]]})
    assert made.status_code == 201, made.text
    event = made.json()
    for path, body in (("position", {"to": 0}), ("results", {"shown": True})):
        answer = api.post(f"{api.base}/events/{event['id']}/{path}", json=body)
        assert answer.status_code == 200, answer.text
    join_url = f"{stack.base}/{event['code']}"

    phone = open_phone(contexts, console, join_url)
    phone.get_by_label("Bananas", exact=True).select_option("1")
    phone.get_by_label("Apples", exact=True).select_option("2")  # Cherries: 3rd, the last left
    phone.get_by_role("button", name="Vote").click()
    wait_until_counted(phone, True)
    plain = open_phone(contexts, console, join_url, javascript=False)
    plain.get_by_label("Bananas", exact=True).select_option("1")
    plain.get_by_label("Apples", exact=True).select_option("2")
    plain.get_by_label("Cherries", exact=True).select_option("3")
    plain.get_by_role("button", name="Vote").click()
    expect(plain.locator("#vote-status")).to_be_visible()

    presenter = console.watch(contexts(**PROJECTOR).new_page())
    sign_in_browser(presenter, stack.base)
    presenter.goto(f"{stack.base}/admin/events/{event['id']}/present")
    bananas = presenter.locator(".bar").filter(has_text="Bananas")
    # Bananas first on both ballots: 3 points each, two first choices.
    expect(bananas.locator(".bar-numbers")).to_have_text("6 points · 2 first choices")
    expect(bananas).to_have_class(re.compile("is-leading"))
    # Every bar and the QR code on screen, and the page itself does not scroll.
    for part in presenter.locator("#results .bar").all():
        box = part.bounding_box()
        assert box and box["y"] + box["height"] <= PROJECTOR["viewport"]["height"], box
    fits_the_projector(presenter)
    presenter.screenshot(path=screenshot_path("type-ranking-event-present.png"))


def test_the_admin_form_shows_the_chosen_types_rules(stack, contexts, console, api):
    admin = console.watch(contexts(viewport={"width": 1280, "height": 800}).new_page())
    sign_in_browser(admin, stack.base)
    admin.goto(f"{stack.base}/admin/topics/new")
    rules = admin.locator("[data-rules-for]")
    rows = admin.get_by_label("Choice", exact=True)
    expect(rules.filter(visible=True)).to_have_count(0)  # single choice has no rules
    expect(rows.filter(visible=True)).to_have_count(2)
    # The no-JavaScript way to switch types goes: the page switches by itself.
    expect(admin.get_by_role("button", name="Show this type's settings")).to_be_hidden()
    admin.get_by_label("Type").select_option("multiple")
    expect(rules.filter(visible=True)).to_have_count(1)
    expect(admin.get_by_label("At most")).to_be_visible()
    # A rating of the question takes no choices; rating each choice does.
    admin.get_by_label("Type").select_option("rating")
    expect(rows.filter(visible=True)).to_have_count(0)
    admin.get_by_label("Rate each choice").check()
    expect(rows.filter(visible=True)).to_have_count(2)
    admin.get_by_label("Type").select_option("text")
    expect(admin.get_by_label("At most")).to_be_hidden()
    expect(rows.filter(visible=True)).to_have_count(0)
    admin.get_by_label("Question", exact=True).fill("One word for the keynote?")
    admin.get_by_label("Blocked words and answers, one per line").fill("dull\nsnooze")
    admin.get_by_label("Votes per voter").select_option("unlimited")
    admin.screenshot(path=screenshot_path("type-admin-form.png"), full_page=True)
    admin.get_by_role("button", name="Create topic").click()
    expect(admin.locator(".flashes")).to_contain_text("Created “One word for the keynote?”")
    made = next(t for t in api.get(f"{api.base}/topics").json()
                if t["title"] == "One word for the keynote?")  # fmt: skip
    stored = api.get(f"{api.base}/topics/{made['id']}").json()
    assert stored["type"] == "text" and stored["choices"] == []
    assert stored["blocked_answers"] == ["dull", "snooze"]


@pytest.fixture(scope="module")
def full_topics(stack):
    """One topic of each type with answers in: the text one has 40 distinct answers,
    short and long, as a busy room gives."""
    with requests.Session() as api:
        api.headers.update(ADMIN)

        def made(title, choices, **rules):
            return make_topic(api, title, choices, base=stack.base, **rules)

        def vote(topic, **answer):
            cast = api.post(f"{stack.base}/votes", json={"topic_id": topic["id"], **answer})
            assert cast.status_code == 202, cast.text

        long_title = ("What should the whole team adopt as its next big thing? " * 3)[:170]
        eight = [f"Choice number {n} with a longer name" for n in range(8)]
        topics = {
            "multiple": made(long_title, eight, type="multiple", max_choices=3),
            "ranking": made(long_title, eight, type="ranking"),
            "rating": made(long_title, [], type="rating", scale_min=0, scale_max=10),
            "rate each": made(long_title, eight, type="rating", rate_each=True),
            "text": made(long_title, [], type="text"),
            "game": made(long_title, eight, type="game"),
        }
        ids = [c["id"] for c in topics["multiple"]["choices"]]
        vote(topics["multiple"], choice_ids=ids[:3])
        vote(topics["ranking"], ranking=[c["id"] for c in topics["ranking"]["choices"]])
        vote(topics["rating"], rating=7)
        vote(topics["rate each"], rating={c["id"]: 5 for c in topics["rate each"]["choices"]})
        for n in range(30):
            vote(topics["text"], text=f"word{n}" if n % 3 else f"two words{n}")
        for n in range(10):
            vote(topics["text"], text=f"a much longer answer that goes on, number {n}")
        vote(topics["game"], choice_id=topics["game"]["choices"][0]["id"])
    return topics


def test_every_types_present_view_fits_the_projector(stack, contexts, console, subtests,
                                                    full_topics):  # fmt: skip
    """Each type's present view at 800x600 and 1920x1080, one subtest each (a failure names
    its size and type). One page loads each type's view and is resized to the other size:
    the layout is style.css's alone (viewport units, media and container queries, all
    applied again on a resize; no script measures the page)."""
    page = console.watch(contexts().new_page())
    for kind, topic in full_topics.items():
        for n, (width, height) in enumerate(((800, 600), (1920, 1080))):
            page.set_viewport_size({"width": width, "height": height})
            if n == 0:
                page.goto(f"{stack.base}/t/{topic['id']}/present")
            with subtests.test(msg=f"{width}x{height}, {kind}"):
                expect(page.locator("#results .results-total")).to_be_visible()
                if kind == "text":
                    expect(page.locator(".word-cloud li").first).to_be_visible()
                fits_the_projector(page)
                for bar in page.locator("#results .bar").all():
                    box = bar.bounding_box()
                    assert box and box["height"] > 0, box
                    assert box["y"] + box["height"] <= height + 0.5, box
