"""The voter page in every language, in real Chromium.

Each language's phone (Playwright's `locale` sets Accept-Language) sees the
page translated, votes, and is told in its language that the vote counted;
axe-core still passes. Arabic is right to left: dir="rtl" on <html>, and the
layout mirrors (the header, the bars growing from the right, the numbers on
the left). The switcher's choice sticks across pages. The Arabic phone page
is docs/screenshots/voter-arabic.png, and each language's phone after its
vote is docs/screenshots/phone-<lang>-light.png and -dark.png (`make screenshots`).
"""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.helpers.api import api_vote, make_topic
from tests.helpers.browser import PHONE, screenshot_path, violations_on

# locale -> (html lang, the results heading, the counted vote's words, "1 vote")
LANGUAGES = {
    "en-US": ("en", "Live results", "Your vote for", "1 vote"),
    "de-DE": ("de", "Live-Ergebnisse", "Deine Stimme für", "1 Stimme"),
    "es-ES": ("es", "Resultados en directo", "Tu voto por", "1 voto"),
    "fr-FR": ("fr", "Résultats en direct", "Votre vote pour", "1 vote"),
    "ar-EG": ("ar", "النتائج المباشرة", "تم احتساب صوتك", "1 صوت"),
}


@pytest.mark.parametrize("locale", list(LANGUAGES))
def test_voter_page_is_translated(stack, contexts, console, api, locale):
    lang, heading, counted, one_vote = LANGUAGES[locale]
    topic = make_topic(api, "Kaffee, café, قهوة?", ["Espresso", "Filter"], base=api.base)
    phone = console.watch(contexts(**PHONE, locale=locale).new_page())
    phone.goto(f"{stack.base}/t/{topic['id']}")
    html = phone.locator("html")
    expect(html).to_have_attribute("lang", lang)
    expect(html).to_have_attribute("dir", "rtl" if lang == "ar" else "ltr")
    expect(phone.locator("#results-heading")).to_have_text(heading)
    expect(phone.locator(".languages [aria-current]")).to_have_attribute("lang", lang)
    phone.get_by_role("button", name="Filter").click()
    expect(phone.locator("#vote-status.is-counted")).to_contain_text(counted)
    expect(phone.locator(".results-total")).to_contain_text(one_vote)
    assert violations_on(phone) == []
    # The README's phone in each language, light and dark (`make screenshots`).
    background = "getComputedStyle(document.body).backgroundColor"
    light = phone.evaluate(background)
    phone.screenshot(path=screenshot_path(f"phone-{lang}-light.png"))
    phone.emulate_media(color_scheme="dark")
    assert phone.evaluate(background) != light, "the dark scheme did not apply"
    phone.screenshot(path=screenshot_path(f"phone-{lang}-dark.png"))


def test_arabic_page_is_right_to_left_and_mirrored(stack, contexts, console, api):
    topic = make_topic(api, "ما لغتك المفضلة؟", ["بايثون", "Rust", "Go"], base=api.base)
    for index in (0, 0, 1):
        api_vote(api, topic, index, base=api.base)
    phone = console.watch(contexts(**PHONE, locale="ar").new_page())
    phone.goto(f"{stack.base}/t/{topic['id']}")
    expect(phone.locator("html")).to_have_attribute("dir", "rtl")
    expect(phone.locator(".results-total")).to_contain_text("3 أصوات")
    width = PHONE["viewport"]["width"]

    def box(locator):
        found = locator.bounding_box()
        assert found is not None
        return found

    # The header reads from the right: the name of the app at the right edge.
    brand = box(phone.locator(".brand"))
    assert brand["x"] + brand["width"] > width * 0.6 and brand["x"] > width / 3
    # A bar grows from the right: its fill ends where the track ends, on the right.
    first = phone.locator(".bar").first
    track, fill = box(first.locator(".bar-track")), box(first.locator(".bar-fill"))
    assert abs((fill["x"] + fill["width"]) - (track["x"] + track["width"])) < 1.5
    assert fill["x"] > track["x"] + track["width"] * 0.2  # 67%: a third of the track is empty
    # The name on the right, the numbers at the other (left) end of the line.
    name, numbers = box(first.locator(".bar-name")), box(first.locator(".bar-numbers"))
    assert numbers["x"] + numbers["width"] <= name["x"]
    # A choice's text starts at the right, like the page.
    button = box(phone.get_by_role("button", name="بايثون"))
    label = phone.get_by_role("button", name="بايثون").evaluate(
        "b => { const r = document.createRange(); r.selectNodeContents(b);"
        " const t = r.getBoundingClientRect(); return [t.left, t.right]; }"
    )
    assert button["x"] + button["width"] - label[1] < label[0] - button["x"]
    phone.screenshot(path=screenshot_path("voter-arabic.png"), full_page=True)
    assert violations_on(phone) == []


def test_the_switcher_sticks_across_pages(stack, contexts, console, api):
    topic = make_topic(api, "Tee oder Kaffee?", ["Tee", "Kaffee"], base=api.base)
    page = console.watch(contexts(**PHONE, locale="en-US").new_page())
    page.goto(f"{stack.base}/t/{topic['id']}")
    expect(page.locator("#results-heading")).to_have_text("Live results")
    page.get_by_role("link", name="Deutsch").click()
    # Back on the same page, now German.
    page.wait_for_url(f"{stack.base}/t/{topic['id']}")
    expect(page.locator("#results-heading")).to_have_text("Live-Ergebnisse")
    page.goto(f"{stack.base}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Themen")
    page.get_by_role("link", name="العربية").click()
    expect(page.locator("html")).to_have_attribute("dir", "rtl")
    expect(page.get_by_role("heading", level=1)).to_have_text("المواضيع")
