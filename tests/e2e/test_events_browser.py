"""An event in headless Chromium, against real web and worker processes.

A presenter builds an event with three questions in the console and opens
the presenter view; three phones join (two type the code on the home page,
one follows the QR code's URL); the presenter advances with the keyboard and
every phone shows the next question without a reload (Playwright's expect
waits for it: a wait, not a timing assertion); votes on a question whose
results are hidden stay off the projector until R is pressed. The console's
"Add a question" switches the chosen type's rules and choices as the type
changes, and adds a question of each type. Audience questions go from three phones
through the console's moderation queue to the projector's board. (A quiz, with its
phones and podium: test_quiz_browser.py.)
"""

from __future__ import annotations

import re

import zxingcpp
from playwright.sync_api import expect

from core.aws.codec import to_item
from core.aws.tables import Tables
from core.rules.clock import new_id
from core.rules.formats.qna import new_question
from tests.e2e.png import grey
from tests.helpers.api import ADMIN_KEY
from tests.helpers.browser import DESKTOP, PHONE, screenshot_path
from tests.helpers.stacks import aws_client
from webapp.qna.moderation import BOARD_SIZE

QUESTIONS = [
    ("Coffee or tea?", ["Coffee", "Tea"]),
    ("Tabs or spaces?", ["Tabs", "Spaces"]),
    ("Best season?", ["Spring", "Summer", "Autumn", "Winter"]),
]


def sign_in(page, base):
    page.goto(f"{base}/admin/login?next=/admin/events")
    page.get_by_label("Password", exact=True).fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base}/admin/events")


def build_event(page) -> str:
    """Create the event and its three questions in the console; its join code."""
    page.get_by_label("New event").fill("Friday keynote")
    page.get_by_role("button", name="Create event").click()
    for title, choices in QUESTIONS:
        page.get_by_label("Question", exact=True).fill(title)
        page.get_by_label("Choices, one per line").fill("\n".join(choices))
        page.get_by_role("button", name="Add new question").click()
        expect(page.locator(".event-questions")).to_contain_text(title)
    return page.locator(".event-join .event-code").inner_text()


def test_presenter_drives_three_phones(stack, contexts, console):
    base = stack.base
    presenter = console.watch(contexts(**DESKTOP).new_page())
    sign_in(presenter, base)
    code = build_event(presenter)
    assert re.fullmatch(r"[2-9A-HJKMNP-Z]{6}", code)
    presenter.get_by_role("link", name="Present").click()
    expect(presenter.locator("[data-join-code]")).to_have_text(code)

    # The QR code decodes to the short URL shown under it.
    join_url = f"{base}/{code}"
    expect(presenter.locator(".present-url")).to_have_text(join_url)
    width, height, pixels = grey(presenter.locator("#qr svg").screenshot())
    codes = zxingcpp.read_barcodes(memoryview(pixels).cast("B", (height, width)))
    assert [c.text for c in codes] == [join_url]

    # Two phones type the code (lower case: codes are case-insensitive), one follows the QR.
    phones = []
    for typed in (code.lower(), code):
        phone = console.watch(contexts(**PHONE).new_page())
        phone.goto(base)
        phone.get_by_label("Enter code").fill(typed)
        phone.get_by_role("button", name="Join").click()
        expect(phone).to_have_url(join_url)
        phones.append(phone)
    scanned = console.watch(contexts(**PHONE).new_page())
    scanned.goto(codes[0].text)
    phones.append(scanned)
    for phone in phones:
        expect(phone.locator(".stage-waiting")).to_contain_text("Waiting for the next question")
    loads = {id(phone): 0 for phone in phones}
    for phone in phones:
        phone.on("load", lambda _, p=phone: loads.__setitem__(id(p), loads[id(p)] + 1))

    # The presenter starts with the keyboard: every phone shows question 1.
    presenter.wait_for_load_state("domcontentloaded")  # the shortcuts' deferred script ran
    presenter.keyboard.press("ArrowRight")
    expect(presenter.locator("#question")).to_have_text(QUESTIONS[0][0])
    for phone in phones:
        expect(phone.locator("#question")).to_have_text(QUESTIONS[0][0])

    # Each phone votes; the results are hidden, so the projector shows none of it.
    for n, phone in enumerate(phones):
        phone.get_by_role("button", name=QUESTIONS[0][1][n % 2]).click()
        expect(phone.locator("#vote-status")).to_contain_text("was counted")
    phones[0].screenshot(path=screenshot_path("event-phone.png"), full_page=True)
    expect(presenter.locator("[data-results-hidden]")).to_be_visible()
    expect(presenter.locator(".bar-numbers")).to_have_count(0)
    assert "vote" not in presenter.locator("#present-stage h1 ~ div").first.inner_text().lower()

    # R reveals: the projector shows the three votes.
    presenter.keyboard.press("r")
    expect(presenter.locator(".results-total strong")).to_have_text("3")
    presenter.screenshot(path=screenshot_path("event-projector.png"))

    # Next (Space): every phone follows to question 2, without a reload, its form fresh.
    presenter.keyboard.press("Space")
    expect(presenter.locator("#question")).to_have_text(QUESTIONS[1][0])
    for phone in phones:
        expect(phone.locator("#question")).to_have_text(QUESTIONS[1][0])
        expect(phone.get_by_role("button", name="Tabs")).to_be_enabled()
    # Back (Left): question 1 again, closed, and each phone still shows its own vote.
    presenter.keyboard.press("ArrowLeft")
    for phone in phones:
        expect(phone.locator("#question")).to_have_text(QUESTIONS[0][0])
        expect(phone.locator("#vote-status")).to_contain_text("was counted")
    assert set(loads.values()) == {0}, "a phone reloaded instead of following"

    # C reopens voting; ? lists the shortcuts.
    expect(presenter.get_by_role("button", name="Open voting (C)")).to_be_visible()
    presenter.keyboard.press("c")
    expect(presenter.get_by_role("button", name="Close voting (C)")).to_be_visible()
    presenter.keyboard.press("?")
    expect(presenter.locator("#shortcuts")).to_be_visible()
    presenter.keyboard.press("q")
    expect(presenter.locator("#qr")).to_be_hidden()


def test_presenter_resets_a_question_while_votes_are_in_flight(stack, contexts, console):
    """Rehearsal votes: two counted, two more held in the queue (the worker is stopped);
    the presenter presses Reset results (and confirms); two votes after it. With the
    worker back, the projector shows exactly the two votes cast after the reset (the
    held ones are rejected as `reset`: tests/system/test_reset.py reads the records)."""
    base = stack.base
    presenter = console.watch(contexts(**DESKTOP).new_page())
    sign_in(presenter, base)
    presenter.get_by_label("New event").fill("Rehearsal")
    presenter.get_by_role("button", name="Create event").click()
    presenter.get_by_label("Question", exact=True).fill("Ready?")
    presenter.get_by_label("Choices, one per line").fill("Yes\nNo")
    presenter.get_by_label("Show results from the start").check()
    presenter.get_by_role("button", name="Add new question").click()
    expect(presenter.locator(".event-questions")).to_contain_text("Ready?")
    code = presenter.locator(".event-join .event-code").inner_text()
    presenter.get_by_role("link", name="Present").click()
    expect(presenter.locator("[data-join-code]")).to_have_text(code)
    # The shortcuts' script is deferred: it listens once the document is parsed.
    presenter.wait_for_load_state("domcontentloaded")
    presenter.keyboard.press("ArrowRight")
    expect(presenter.locator("#question")).to_have_text("Ready?")

    def phone_votes(choice: str):
        phone = console.watch(contexts(**PHONE).new_page())
        phone.goto(f"{base}/{code}")
        phone.get_by_role("button", name=choice).click()
        expect(phone.locator("#vote-status")).to_be_visible()
        return phone

    for choice in ("Yes", "Yes"):
        status = phone_votes(choice).locator("#vote-status")
        expect(status).to_contain_text("was counted")
    expect(presenter.locator(".results-total strong")).to_have_text("2")

    worker = next(p for p in stack.processes.started if "worker" in str(p.log_path))
    worker.terminate()
    assert worker.wait(30) == 0
    try:
        held = [phone_votes("Yes"), phone_votes("No")]  # queued, not recorded
        presenter.once("dialog", lambda dialog: dialog.accept())
        presenter.get_by_role("button", name="Reset results").click()
        expect(presenter.locator(".results-total strong")).to_have_text("0")
        for choice in ("No", "No"):
            phone_votes(choice)
    finally:
        stack.processes.worker()
    expect(presenter.locator(".results-total strong")).to_have_text("2")
    expect(presenter.locator(".bar-numbers").first).to_contain_text("0")
    # The phones whose votes were held offer the question again, without a reload.
    for phone in held:
        expect(phone.locator("#vote-status")).to_have_count(0)
        expect(phone.get_by_role("button", name="Yes")).to_be_enabled()
    presenter.screenshot(path=screenshot_path("event-reset.png"))


def test_the_console_adds_a_question_of_each_type(stack, contexts, console):
    """The type select shows only the chosen type's rules, and the choices box only
    while the type takes choices (static/app.js); each question added shows its type."""
    presenter = console.watch(contexts(**DESKTOP).new_page())
    sign_in(presenter, stack.base)
    presenter.get_by_label("New event").fill("Every type")
    presenter.get_by_role("button", name="Create event").click()
    kind = presenter.get_by_label("Type")
    choices = presenter.get_by_label("Choices, one per line")
    rules = presenter.locator("[data-rules-for]:visible")
    expect(presenter.get_by_role("button", name="Show this type's settings")).to_be_hidden()

    def add(title: str, lines: str | None = None) -> None:
        presenter.get_by_label("Question", exact=True).fill(title)
        if lines is not None:
            choices.fill(lines)
        presenter.get_by_role("button", name="Add new question").click()
        expect(presenter.locator(".event-question").last).to_contain_text(title)

    kind.select_option("ranking")
    expect(rules).to_have_count(1)
    expect(presenter.get_by_label("Rank the top")).to_be_visible()
    presenter.get_by_label("Rank the top").fill("2")
    add("Rank the talks", "Keynote\nPanel\nDemo")
    kind.select_option("text")
    expect(choices).to_be_hidden()  # open text takes no choices
    presenter.get_by_label("Blocked words and answers, one per line").fill("spam")
    add("One word for today")
    kind.select_option("rating")
    expect(choices).to_be_hidden()
    presenter.get_by_label("Rate each choice").check()
    expect(choices).to_be_visible()  # rating each choice: it takes them
    add("Rate each part", "Talk\nVenue")
    kind.select_option("multiple")
    add("Which topics?", "Cloud\nData\nSecurity")
    types = presenter.locator(".event-question .badge-type")
    expect(types).to_have_text(["Ranking", "Open text", "Rating scale", "Multiple select"])
    presenter.screenshot(path=screenshot_path("event-console.png"), full_page=True)


def _a_big_room(api, env: dict) -> dict:
    """An open Q&A event holding 200 questions, the first ten long: written straight into
    the questions table (BatchWriteItem, 25 a call) as 200 phones asking would leave them,
    in a fraction of the time 200 asks take."""
    event = api.post(f"{api.base}/events", json={"title": "Big room", "qna": "open"}).json()
    long = "Could you say more about " + "how the queue and the worker keep every count " * 6
    questions = [
        new_question(event["id"], new_id(), f"{long[:270]} #{n}" if n < 10 else f"Question {n}?",
                     "open", voter_id=f"room-{n}")
        for n in range(200)
    ]  # fmt: skip
    tables = Tables(aws_client("dynamodb", env["DYNAMODB_ENDPOINT_URL"]), env["TABLE_PREFIX"])
    assert tables.put_items("questions", [to_item(q) for q in questions]) == 200
    return {**event, "asked": [q["id"] for q in questions]}


def test_audience_questions_from_three_phones_to_the_projector(stack, contexts, console, api):
    """A moderated Q&A: three phones ask, the presenter approves two and dismisses one
    in the console's queue, the phones upvote with one tap, the projector (A) shows the
    top question first, marked as being answered, then answered; each asker sees their
    own question's state. Then the board with 200 questions, long ones on top, at
    1280x720 and 1920x1080: the top BOARD_SIZE fit on screen, clamped."""
    base = stack.base
    event = api.post(f"{base}/events", json={"title": "Town hall", "qna": "moderated"}).json()
    queue = console.watch(contexts(**DESKTOP).new_page())
    sign_in(queue, base)
    queue.goto(f"{base}/admin/events/{event['id']}")
    # Its own window (a tab behind another gets its timers and frames late), signed in too.
    signed_in = queue.context.storage_state()
    projector = console.watch(contexts(**DESKTOP, storage_state=signed_in).new_page())
    projector.goto(f"{base}/admin/events/{event['id']}/present")
    projector.wait_for_load_state("domcontentloaded")  # the shortcuts' deferred script ran
    projector.keyboard.press("a")
    expect(projector.locator("#qna-board-heading")).to_be_visible()

    asked = {"Ada": "How does the queue count every upvote exactly once?",
             "Bo": "Is there a dark mode?", "Cy": "Buy cheap watches here?"}  # fmt: skip
    phones = {name: console.watch(contexts(**PHONE).new_page()) for name in asked}
    # A fourth phone only reads: its list follows the event stream and never polls.
    reader = console.watch(contexts(**PHONE).new_page())
    reader.goto(f"{base}/{event['code']}")
    polls = []
    reader.on("request", lambda r: polls.append(r.url) if "/qna" in r.url else None)
    for name, phone in phones.items():
        phone.goto(f"{base}/{event['code']}")
        phone.get_by_label("Your question").fill(asked[name])
        phone.get_by_label("Your name (optional)").fill(name)
        phone.get_by_role("button", name="Ask", exact=True).click()
    for phone in phones.values():
        expect(phone.locator(".qna-mine")).to_contain_text("Waiting for approval")
        expect(phone.get_by_label("Your question")).to_have_value("")

    def decide(text: str, button: str) -> None:
        item = queue.locator(".qna-mod-item", has_text=text)
        item.get_by_role("button", name=button).click()

    queue.reload()  # the queue also polls; a reload shows the three at once
    expect(queue.locator(".qna-mod-item")).to_have_count(3)
    decide(asked["Ada"], "Approve")
    decide(asked["Bo"], "Approve")
    decide(asked["Cy"], "Dismiss")
    expect(queue.locator(".qna-mod-item", has_text=asked["Cy"])).to_have_count(0)

    def question_on(phone, text):
        return phone.locator(".qna-question", has_text=text)

    for phone in phones.values():
        expect(question_on(phone, asked["Bo"])).to_be_visible()
        expect(question_on(phone, asked["Cy"])).to_have_count(0)
    expect(phones["Cy"].locator(".qna-mine")).to_contain_text("Not shown")
    # One tap each: Bo and Cy upvote Ada's question, Ada upvotes Bo's.
    for voter, text in (("Bo", asked["Ada"]), ("Cy", asked["Ada"]), ("Ada", asked["Bo"])):
        upvote = question_on(phones[voter], text).get_by_role("button", name=re.compile("Upvote"))
        upvote.click()
        expect(question_on(phones[voter], text).locator(".qna-upvote")).to_have_attribute(
            "aria-pressed", "true")  # fmt: skip

    reader_sees = question_on(reader, asked["Ada"]).locator(".qna-upvote")
    expect(reader_sees).to_contain_text("2")  # counted by the worker, pushed
    expect(question_on(reader, asked["Bo"])).to_be_visible()
    assert polls == [], "the reading phone's list came through its event stream, not polling"

    # The presenter answers Ada's: on the projector first (pinned), framed, said in words,
    # with its two upvotes once the worker counted them.
    decide(asked["Ada"], "Answer now")
    top = projector.locator(".qna-board-item").first
    expect(top).to_contain_text(asked["Ada"])
    expect(top).to_contain_text("Being answered")
    expect(top).to_have_class(re.compile("is-pinned"))
    expect(top).to_contain_text("2 upvotes")
    expect(question_on(phones["Ada"], asked["Ada"])).to_contain_text("Being answered")
    phones["Ada"].locator("#qna").screenshot(path=screenshot_path("qna-phone.png"))
    projector.screenshot(path=screenshot_path("qna-projector.png"))
    decide(asked["Ada"], "Mark answered")
    answered = projector.locator(".qna-board-item", has_text=asked["Ada"])
    expect(answered).to_contain_text("✓ Answered")
    expect(projector.locator(".qna-board-item.is-pinned")).to_have_count(0)
    mine = phones["Ada"].locator(".qna-mine")
    expect(mine).to_contain_text("Answered")
    projector.keyboard.press("a")  # back to the poll
    expect(projector.locator("#present-stage")).to_be_visible()

    # At the back of the room: 200 questions, the longest on top, one being answered.
    made = _a_big_room(api, stack.env)
    pinned = api.post(f"{base}/events/{made['id']}/qna/{made['asked'][3]}", json={"pinned": True})
    assert pinned.status_code == 200
    for width, height in ((1280, 720), (1920, 1080)):
        projector.set_viewport_size({"width": width, "height": height})
        projector.goto(f"{base}/admin/events/{made['id']}/present?show=qna")
        items = projector.locator(".qna-board-item")
        expect(items).to_have_count(BOARD_SIZE)
        expect(items.first).to_contain_text("Being answered")
        for n in range(BOARD_SIZE):
            box = items.nth(n).bounding_box()
            assert box["y"] + box["height"] <= height, f"item {n} runs off a {height}p screen"
        bar = projector.locator(".present-qna .control-bar").bounding_box()
        assert bar["y"] + bar["height"] <= height
        projector.screenshot(path=screenshot_path(f"qna-projector-{height}p-200.png"))
