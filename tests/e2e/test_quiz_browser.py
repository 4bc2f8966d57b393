"""A quiz in headless Chromium, against real web and worker processes.

Three phones with nicknames play three questions to the podium, the presenter
driving with S, K and R; a full room's board and podium fit the projector.
"""

from __future__ import annotations

from playwright.sync_api import expect

from tests.helpers.browser import (
    DESKTOP,
    PHONE,
    off_screen,
    screenshot_path,
    sign_in_browser,
)
from tests.helpers.quiz import (
    LONG_QUESTIONS,
    WIDE_NAMES,
    correct_index,
    join,
    leaderboard,
    play_revealed,
    quiz_event,
)


def test_a_quiz_with_three_phones_to_the_podium(stack, contexts, console, api):
    """Three phones pick nicknames and play three questions: the presenter starts each
    with S, skips the countdown with K once all answered and reveals with R. Ann and Bob
    answer right, Cy wrong: each phone says so with its rank, the projector shows the
    answers with the correct one ticked, the top 10 between questions, and the podium.
    Then a full room without teams (questions that wrap, twelve 20-character nicknames):
    the answers, the whole top 10, the podium and the controls fit 1280x720 and 1920x1080."""
    base = stack.base
    # The longest limit: three phones answer one after another, on a CI machine that may be
    # slow, and K ends each countdown once all have answered.
    event = quiz_event(api, base=api.base, time_limit=300)
    presenter = console.watch(contexts(**DESKTOP).new_page())
    sign_in_browser(presenter, base)
    presenter.goto(f"{base}/admin/events/{event['id']}/present")
    expect(presenter.get_by_role("button", name="Start the quiz (S)")).to_be_visible()
    presenter.wait_for_load_state("domcontentloaded")  # the shortcuts' deferred script ran
    phones = {}
    for name in ("Ann", "Bob", "Cy"):
        phone = console.watch(contexts(**PHONE).new_page())
        phone.goto(f"{base}/{event['code']}")
        phone.get_by_label("Nickname").fill(name)
        phone.get_by_role("button", name="Play").click()
        expect(phone.locator(".stage-waiting")).to_be_visible()
        phones[name] = phone
    own_parts = {name: 0 for name in phones}  # each phone's asks for its own part
    for name, phone in phones.items():
        phone.on("request", lambda r, n=name: own_parts.__setitem__(
            n, own_parts[n] + (f"/{event['code']}/quiz/" in r.url)))  # fmt: skip

    for number, topic in enumerate(event["topics"]):
        right = correct_index(topic)
        presenter.keyboard.press("s")
        expect(presenter.locator("#question")).to_have_text(topic["title"])
        expect(presenter.locator("[data-remaining]")).to_be_visible()
        for name, phone in phones.items():
            expect(phone.locator("#question")).to_have_text(topic["title"])
            expect(phone.locator("[data-remaining]")).to_contain_text("seconds left")
            index = right if name != "Cy" else (right + 1) % len(topic["choices"])
            phone.get_by_role("button", name=topic["choices"][index]["description"]).click()
            expect(phone.locator("#vote-status")).to_be_visible()
        if number == 0:
            phones["Ann"].screenshot(path=screenshot_path("quiz-phone-countdown.png"))
        presenter.keyboard.press("k")  # everyone answered: skip the rest of the countdown
        expect(presenter.locator(".results-total")).to_contain_text("Time is up")
        correct_bar = presenter.locator(".bars-quiz li", has_text="Correct answer")
        expect(correct_bar).to_contain_text("✓ " + topic["choices"][right]["description"])
        expect(presenter.locator(".results-total strong")).to_have_text("3")
        presenter.keyboard.press("r")
        for name, phone in phones.items():
            outcome = phone.locator("[data-outcome]")
            said = "Not this time" if name == "Cy" else "Correct, +"
            expect(outcome).to_contain_text(said)
        if number == 0:
            expect(presenter.locator("[data-leaderboard] tbody tr")).to_have_count(3)
            phones["Ann"].screenshot(path=screenshot_path("quiz-phone-result.png"))
            presenter.screenshot(path=screenshot_path("quiz-projector-leaderboard.png"))

    expect(phones["Cy"].locator(".quiz-rank")).to_contain_text("You are number 3, with 0")
    expect(presenter.locator("[data-leaderboard] tbody tr").last).to_contain_text("Cy")
    podium = presenter.locator("[data-podium] li")
    expect(podium).to_have_count(3)
    expect(presenter.locator("[data-podium]")).to_contain_text("Place 1")
    expect(podium.filter(has_text="Cy")).to_contain_text("Place 3")
    presenter.screenshot(path=screenshot_path("quiz-projector-podium.png"))
    # All followed through their streams (no stage started polling), and each phone asked
    # for its own part (its outcome and rank are in no pushed stage).
    for name, phone in phones.items():
        expect(phone.locator("#stage")).to_have_attribute("data-poll-trigger", "every 1s")
        assert own_parts[name] > 0, name
    expect(presenter.locator("#present-stage")).to_have_attribute("data-poll-trigger", "every 1s")
    scores = {r["name"]: r["score"] for r in leaderboard(api, event, base=api.base)["players"]}
    assert scores["Cy"] == 0 and min(scores["Ann"], scores["Bob"]) >= 3 * 500

    # A full room without teams, played through the API: questions that wrap, a top 10 of
    # 20-character nicknames. Its answers and board, then its podium, fit the projector.
    room = quiz_event(api, questions=LONG_QUESTIONS, base=api.base)
    players = [join(api, room, name, base=api.base)["voter_id"] for name in WIDE_NAMES]
    presenter.set_viewport_size({"width": 1280, "height": 720})
    for right in (3, 2, 1):  # the first 3, then 2, then 1 answer right: a podium of three
        play_revealed(api, room, players, right, base=api.base)
        if right == 3:
            presenter.goto(f"{base}/admin/events/{room['id']}/present")
            expect(presenter.locator(".results-total strong")).to_have_text("12")
            _fits_the_projector(presenter, "answers", ".results-total")
    expect(presenter.locator(".podium-3")).to_contain_text(WIDE_NAMES[2])
    _fits_the_projector(presenter, "podium", "[data-podium] li")


def _fits_the_projector(page, screen: str, parts: str) -> None:
    """At 1280x720 and 1920x1080: the full top 10, the controls and the `parts` on screen,
    the board's rows at least the projector's own text size, the answers line clear of the
    board; a screenshot of the `screen` at each size."""
    for width, height in ((1280, 720), (1920, 1080)):
        page.set_viewport_size({"width": width, "height": height})
        expect(page.locator("[data-leaderboard] tbody tr")).to_have_count(10)
        on_screen = f"[data-leaderboard] tr, .control-bar, {parts}"
        assert off_screen(page, on_screen) == [], f"off a {width}x{height} projector"
        sizes = page.evaluate("""[getComputedStyle(document.querySelector('main')).fontSize,
            getComputedStyle(document.querySelector('[data-leaderboard] td')).fontSize]""")
        assert float(sizes[1][:-2]) >= float(sizes[0][:-2]), f"board rows {sizes} at {height}p"
        answers = page.locator(".live")
        if answers.count():
            boards = page.locator(".quiz-boards").bounding_box()
            assert not overlap(answers.bounding_box(), boards), f"answers over the board, {height}p"
        page.screenshot(path=screenshot_path(f"quiz-projector-{screen}-{height}p-full.png"))


def overlap(one: dict, other: dict) -> bool:
    """Whether two bounding boxes share any area (half a pixel of rounding allowed)."""
    return not (one["x"] + one["width"] <= other["x"] + 0.5
                or other["x"] + other["width"] <= one["x"] + 0.5
                or one["y"] + one["height"] <= other["y"] + 0.5
                or other["y"] + other["height"] <= one["y"] + 0.5)  # fmt: skip
