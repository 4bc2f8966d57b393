"""No English left on a page in another language.

Every page a voter, a presenter or an admin meets (the topic pages in each
vote state, the events' audience and presenter pages, the admin forms with
their errors, the confirmations and flashes after a reset or a deletion,
error pages, embeds) is rendered in Arabic and German, and every word a
person sees or hears (text, aria-label, title, placeholder, hx-confirm) is
checked: in Arabic, no Latin word but the user's own text, the brand, the
language names and codes; in German, none of the English words the pages'
catalogue is made of. A string someone forgets to wrap in `_()` fails here.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.helpers.api import ADMIN, HX, api_vote, make_topic, sign_in, token_from
from tests.helpers.queued import record_queued

# What the people who made the topics typed (German, so an English word stands out).
TITLE, OTHER, CHOICES, EVENT = "Frage eins", "Frage zwei", ("Ja", "Nein"), "Treffen"
ASKED = "Frage aus dem Saal"
# Words that are no translation's job: the brand, the language names of the
# switcher, file formats and services, the example code, and what the test typed.
NOT_TRANSLATED = (
    "Voting Game", "English", "Deutsch", "Español", "Français", "QR", "CSV", "SQS", "UTC",
    "HTML", "localhost", "K7M2QX", "ZZZZZZ", TITLE, OTHER, EVENT, ASKED, *CHOICES,
)  # fmt: skip
# Words of the pages' English that no German sentence of theirs uses.
ENGLISH = {
    "the", "your", "you", "and", "with", "vote", "votes", "voted", "results", "delete",
    "reset", "duplicate", "question", "topic", "topics", "not", "found", "cancel", "waiting",
    "actions", "choice", "choices", "error", "please", "again", "this", "that", "has", "have",
    "counted", "closed", "open", "event", "events", "remove", "edit", "save", "share",
    "for", "its", "goes", "went", "unknown", "where", "send", "form",
}  # fmt: skip
# Attributes whose words are shown or read out.
SPOKEN = {"aria-label", "title", "placeholder", "alt", "hx-confirm", "data-label"}
# Elements whose content is not prose: code to copy, keys, scripts.
NOT_PROSE = {"script", "style", "textarea", "kbd", "code", "pre"}


class _Words(HTMLParser):
    """The words a page shows or reads out, one string per text node or attribute."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._inside = 0

    def handle_starttag(self, tag, attrs):
        if tag in NOT_PROSE:
            self._inside += 1
        self.found += [value for name, value in attrs if name in SPOKEN and value]

    def handle_endtag(self, tag):
        if tag in NOT_PROSE:
            self._inside -= 1

    def handle_data(self, data):
        if not self._inside and data.strip():
            self.found.append(data.strip())


def _words(html: str, also_allowed: tuple[str, ...]) -> list[str]:
    parser = _Words()
    parser.feed(html)
    said = []
    for text in parser.found:
        text = re.sub(r"https?://\S+|/[\w/?=&.-]+", " ", text)  # links and paths
        for allowed in (*NOT_TRANSLATED, *also_allowed):
            text = text.replace(allowed, " ")
        said.append(text)
    return said


def _pages(client, voting) -> tuple[dict[str, tuple[int, str]], str]:
    """Every page and fragment worth reading, in the client's language (name -> (status,
    html)), and the event's join code."""
    topic = make_topic(client, title=TITLE, choices=CHOICES)
    limited = make_topic(client, title=OTHER, choices=CHOICES, vote_limit="one_per_voter")
    counted = api_vote(client, topic, 0)
    record_queued(voting)
    # Listed on the home page (the event's questions wait unlisted there).
    make_topic(client, title=TITLE, choices=CHOICES)
    # A vote the reset overtook: rejected with the reason "reset".
    overtaken = api_vote(client, limited, 1, voter_id="phone-1")
    assert client.post(f"/topics/{limited['id']}/reset", headers=ADMIN).status_code == 200
    record_queued(voting)
    body = {"title": EVENT, "questions": [topic["id"], limited["id"]], "results": "shown",
            "qna": "moderated"}
    event = client.post("/events", json=body, headers=ADMIN).get_json()
    moved = client.post(f"/events/{event['id']}/position", json={"to": "next"}, headers=ADMIN)
    assert moved.status_code == 200
    t, e, code = topic["id"], event["id"], event["code"]
    pages = {}

    def get(path, name=None, **kwargs):
        answer = client.get(path, **kwargs)
        pages[name or path] = (answer.status_code, answer.get_data(as_text=True))
        return answer

    for path in (
        "/", f"/t/{t}", f"/t/{t}?vote={counted}", f"/t/{limited['id']}?vote={overtaken}",
        f"/t/{t}/results", f"/t/{t}/present", f"/t/{t}/embed", f"/t/{t}/embed?vote={counted}",
        f"/t/{limited['id']}/embed", "/j", "/j/ZZZZZZ", f"/{code}", f"/{code}/embed",
        "/t/no-such-topic",
        "/admin/login",
    ):  # fmt: skip
        get(path)
    get(f"/t/{t}/results", "results fragment", headers=HX)
    token = token_from(pages[f"/t/{t}"][1])
    choice = {"csrf_token": token, "choice_id": topic["choices"][1]["id"]}
    voted = client.post(f"/{code}/vote/{t}", data=choice)
    assert voted.status_code == 303
    get(f"/{code}/stage", "stage after a vote", headers=HX)
    # Audience questions: one asked (its asker sees it waiting), one refused, in the panel.
    asked = client.post(f"/{code}/qna", data={"csrf_token": token, "text": ASKED})
    assert asked.status_code == 303
    get(f"/{code}", "the Ask panel after a question")
    refused = client.post(f"/{code}/qna", data={"csrf_token": token, "text": " "}, headers=HX)
    pages["a question refused"] = (refused.status_code, refused.get_data(as_text=True))
    forged = client.post(f"/t/{t}/vote", data={"choice_id": topic["choices"][0]["id"]})
    pages["a form without its CSRF token"] = (forged.status_code, forged.get_data(as_text=True))

    sign_in(client)
    for path in (
        "/admin", "/admin/topics/new", f"/admin/topics/{t}/edit", "/admin/events",
        f"/admin/events/{e}", f"/admin/events/{e}/present",
        f"/admin/events/{e}/questions/0/reset", f"/admin/events/{e}/questions/0/delete",
        f"/admin/events/{e}/questions/0/remove",
        f"/admin/events/topics/{t}/delete", "/admin/events/no-such-event",
        "/admin/users", "/admin/tokens",
    ):  # fmt: skip
        get(path)
    # The moderation queue with the question waiting, then the projector's board with it
    # being answered, and the phone's list with it shown.
    question_id = client.get(f"/events/{e}/qna", headers=ADMIN).get_json()["pending"][0]["id"]
    for body in ({"state": "approved"}, {"pinned": True}):
        answer = client.post(f"/events/{e}/qna/{question_id}", json=body, headers=ADMIN)
        assert answer.status_code == 200
    get(f"/admin/events/{e}/present?show=qna")
    get(f"/admin/events/{e}/qna", "the moderation queue", headers=HX)
    get(f"/{code}/qna", "the room's questions", headers=HX)
    token = token_from(pages["/admin/topics/new"][1])

    def post(name, path, follow=False, **fields):
        answer = client.post(path, data={"csrf_token": token, **fields}, follow_redirects=follow)
        pages[name] = (answer.status_code, answer.get_data(as_text=True))

    post("a form with errors", "/admin/topics/new", title="", choice=["a", "A"],
         choice_id=["", ""], closes_at="2001-01-01T10:00")  # fmt: skip
    post("a deadline given as a number", "/admin/topics/new", title="x", choice=["a", "b"],
         choice_id=["", ""], closes_at="2030")  # fmt: skip
    post("a deadline out of range", "/admin/topics/new", title="x", choice=["a", "b"],
         choice_id=["", ""], closes_at="0001-01-01T00:00:00+01:00")  # fmt: skip
    post("one choice too many", "/admin/topics/new", title="x", choice=["c"] * 50,
         choice_id=[""] * 50, add="1")  # fmt: skip
    post("duplicated", f"/admin/events/{e}/questions/0/duplicate", follow=True)
    post("reset", f"/admin/events/{e}/questions/0/reset", follow=True)
    post("deleted", f"/admin/events/{e}/questions/1/delete", follow=True)
    post("a bad move", f"/admin/events/{e}/questions/0/move", to="up")
    post("an unknown control", f"/admin/events/{e}/control", action="explode")
    post("an event without a title", "/admin/events", follow=True, title="")
    post("a question refused", f"/admin/events/{e}/questions", title="", type="ranking",
         rank_top="9", choices="a\nb")  # fmt: skip
    post("a question added", f"/admin/events/{e}/questions", follow=True, title=OTHER,
         type="rating")  # fmt: skip
    return pages, code


@pytest.mark.parametrize("lang", ["ar", "de"])
def test_no_english_is_left_on_any_page(client, voting, lang):
    client.set_cookie("lang", lang)
    pages, code = _pages(client, voting)
    left = {}
    for name, (status, html) in pages.items():
        assert status < 500, name
        if "<html" in html:
            assert f'<html lang="{lang}"' in html, name
        for text in _words(html, also_allowed=(code,)):
            if lang == "ar":
                english = re.findall(r"[A-Za-z]{2,}", text)
            else:
                english = [w for w in re.findall(r"[A-Za-z]+", text) if w.lower() in ENGLISH]
            if english:
                left.setdefault(name, []).append(text)
    assert left == {}
    # The walk read what it meant to: each kind of message in the page's language.
    said = "\n".join(html for _, html in pages.values())
    expected = {
        "ar": ["أُعيد ضبط النتائج قبل أن يُحتسب صوتك", "تم تكرار السؤال", "الموضوع غير موجود",
               "بانتظار الموافقة", "تجري الإجابة عنه"],
        "de": ["die Ergebnisse wurden zurückgesetzt, bevor deine Stimme", "Frage dupliziert",
               "Thema nicht gefunden", "Ein neues Thema braucht ein Ende in der Zukunft",
               "außerhalb des gültigen Bereichs", "Wartet auf Freigabe",
               "Wird gerade beantwortet"],
    }[lang]  # fmt: skip
    for sentence in expected:
        assert sentence in said, sentence


def test_an_english_page_still_shows_the_servers_own_words(client):
    """The detail a page shows in English is the API's (the original's) wording."""
    missing = client.get("/t/no-such-topic")
    assert missing.status_code == 404 and "Topic not found" in missing.text
    german = client.get("/t/no-such-topic", headers={"Accept-Language": "de"})
    assert "Thema nicht gefunden" in german.text and "Topic not found" not in german.text
    api = client.get("/topics/no-such-topic", headers={"Accept-Language": "de"})
    assert api.get_json() == {"detail": "Topic not found"}
