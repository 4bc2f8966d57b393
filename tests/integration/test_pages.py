"""Voter pages with the Flask test client, against the moto server.

Full pages vs htmx partials, ETags and 304s, polling that stops, the no-JS
vote flow (counted by the real worker code), CSRF refusals, escaping,
security headers and the voter cookie.
"""

from __future__ import annotations

import re

from tests.helpers.api import (
    ADMIN_KEY,
    HX,
    api_vote,
    make_topic,
    make_topic_past_its_deadline,
    token_from,
)
from tests.helpers.queued import queued_vote, record_queued
from webapp import voter


def vote_from_page(client, topic, index, headers=None):
    page = client.get(f"/t/{topic['id']}")
    return client.post(
        f"/t/{topic['id']}/vote",
        data={"csrf_token": token_from(page.text), "choice_id": topic["choices"][index]["id"]},
        headers=headers or {},
    )


# -- topic list -------------------------------------------------------------------


def test_index_lists_open_first_newest_first_with_totals(client, voting):
    older = make_topic(client, "Older open")
    closed = make_topic(client, "Closed one", active=False)
    newer = make_topic(client, "Newer open")
    api_vote(client, older, 0)
    api_vote(client, older, 1)
    api_vote(client, newer, 0)
    assert record_queued(voting) == 3

    page = client.get("/")
    assert page.status_code == 200
    html = page.text
    positions = [html.index(t) for t in ("Newer open", "Older open", "Closed one")]
    assert positions == sorted(positions)
    cards = re.findall(r'<li class="topic-card[^"]*">.*?</li>', html, re.S)
    assert len(cards) == 3
    by_title = {re.search(r'">([^<]+)</a>', c).group(1): c for c in cards}
    assert "2 votes" in by_title["Older open"] and "Open" in by_title["Older open"]
    assert "1 vote<" in by_title["Newer open"]
    assert "Closed" in by_title["Closed one"] and "is-closed" in by_title["Closed one"]
    assert f'href="/t/{closed["id"]}"' in by_title["Closed one"]


# -- results: page vs partial, ETag, polling -------------------------------------------


def test_results_partial_vs_page_and_304(client, voting):
    topic = make_topic(client)
    url = f"/t/{topic['id']}/results"

    partial = client.get(url, headers=HX)
    assert partial.status_code == 200
    assert "<html" not in partial.text and 'id="results"' in partial.text
    assert "HX-Request" in partial.headers["Vary"]
    assert partial.headers["Cache-Control"] == "no-cache"
    etag = partial.headers["ETag"]
    # The partial sends its own ETag back when it polls.
    assert f'"If-None-Match": "\\"{etag.strip(chr(34))}\\""' in partial.text
    assert 'hx-trigger="every 2s, vote-counted from:body"' in partial.text

    page = client.get(url)
    assert page.status_code == 200 and "<html" in page.text
    assert page.headers["ETag"] != etag

    unchanged = client.get(url, headers={**HX, "If-None-Match": etag})
    assert unchanged.status_code == 304 and unchanged.data == b""
    assert unchanged.headers["ETag"] == etag

    api_vote(client, topic, 1)
    record_queued(voting)
    changed = client.get(url, headers={**HX, "If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert "1 vote · 100%" in changed.text


def test_results_show_numbers_percentages_and_leader(client, voting):
    topic = make_topic(client, choices=("Red", "Green", "Blue"))
    for index in (1, 1, 0):
        api_vote(client, topic, index)
    record_queued(voting)
    html = client.get(f"/t/{topic['id']}/results", headers=HX).text
    bars = re.findall(r'<li class="bar( is-leading)?">(.*?)</li>', html, re.S)
    assert [(lead, re.search(r'bar-name" dir="auto">([^<]+)', b).group(1)) for lead, b in bars] == [
        ("", "Red"),
        (" is-leading", "Green"),
        ("", "Blue"),
    ]
    text = [re.search(r'bar-numbers">([^<]+)', b).group(1) for _, b in bars]
    assert text == ["1 vote · 33%", "2 votes · 67%", "0 votes · 0%"]
    assert [re.search(r'width="(\d+)"', b).group(1) for _, b in bars] == ["33", "67", "0"]
    assert "Leading: Green" in html and "<strong>3</strong> votes" in html


def test_closed_topic_results_stop_polling_and_buttons_are_disabled(client):
    topic = make_topic(client, active=False)
    partial = client.get(f"/t/{topic['id']}/results", headers=HX).text
    assert "hx-trigger" not in partial and "hx-get" not in partial
    assert "Voting closed" in partial
    page = client.get(f"/t/{topic['id']}").text
    assert re.search(r'<fieldset class="choices" disabled>', page)
    assert "Voting on this topic is closed" in page


def test_tied_leaders_are_all_marked(client, voting):
    topic = make_topic(client, choices=("A", "B", "C"))
    api_vote(client, topic, 0)
    api_vote(client, topic, 2)
    record_queued(voting)
    html = client.get(f"/t/{topic['id']}/results", headers=HX).text
    assert html.count('class="bar is-leading"') == 2
    assert "Tied: A, C" in html


# -- voting -----------------------------------------------------------------------


def test_no_js_vote_flow_post_redirect_then_counted(client, voting):
    topic = make_topic(client)
    answer = vote_from_page(client, topic, 1)
    assert answer.status_code == 303
    location = answer.headers["Location"]
    match = re.fullmatch(rf"/t/{topic['id']}\?vote=([0-9a-f-]+)", location)
    assert match, location
    vote_id = match.group(1)

    queued = client.get(location)
    assert queued.status_code == 200
    assert "waiting to be counted" in queued.text
    assert f"/t/{topic['id']}/votes/{vote_id}?n=1" in queued.text  # still polling
    assert "Check again" in queued.text  # the no-JS way to poll

    assert record_queued(voting) == 1
    counted = client.get(location)
    assert "Your vote for <strong>Spaces</strong> was counted." in counted.text
    assert 'hx-trigger="load' not in counted.text
    assert "1 vote · 100%" in counted.text


def test_htmx_vote_gets_202_partial_that_polls_until_counted(client, voting):
    topic = make_topic(client)
    answer = vote_from_page(client, topic, 0, headers=HX)
    assert answer.status_code == 202
    assert "<html" not in answer.text and 'id="vote"' in answer.text
    assert "Vote for <strong>Tabs</strong> received" in answer.text
    poll = re.search(r'hx-get="([^"]+)"\s+hx-trigger="load delay:1s"', answer.text)
    assert poll, answer.text
    poll_url = poll.group(1).replace("&amp;", "&")

    still = client.get(poll_url, headers=HX)
    assert still.status_code == 200 and 'hx-trigger="load delay:1s"' in still.text
    assert still.headers["Cache-Control"] == "no-store"

    record_queued(voting)
    done = client.get(poll_url, headers=HX)
    assert "was counted" in done.text
    assert "hx-trigger" not in done.text and "hx-get" not in done.text


def test_vote_status_backs_off_after_many_polls(client):
    topic = make_topic(client)
    vote_id = "0" * 8 + "-never-queued"
    fast = client.get(f"/t/{topic['id']}/votes/{vote_id}?n=3", headers=HX).text
    slow = client.get(f"/t/{topic['id']}/votes/{vote_id}?n=40", headers=HX).text
    assert 'hx-trigger="load delay:1s"' in fast
    assert 'hx-trigger="load delay:5s"' in slow and "n=41" in slow


def test_vote_status_without_htmx_redirects_to_the_page(client):
    topic = make_topic(client)
    answer = client.get(f"/t/{topic['id']}/votes/abc")
    assert answer.status_code == 303
    assert answer.headers["Location"] == f"/t/{topic['id']}?vote=abc"


def test_rejected_vote_shows_why(client, voting):
    topic = make_topic(client)
    client.put(
        f"/topics/{topic['id']}",
        json={"title": topic["title"], "is_active": False, "choices": topic["choices"]},
        headers={"X-API-Key": ADMIN_KEY},
    )
    # Queued after the close (a web process's stale copy): the worker records it rejected.
    late = queued_vote(topic, 0)
    voting.queue.send(late)
    vote_id = late["id"]
    record_queued(voting)
    html = client.get(f"/t/{topic['id']}/votes/{vote_id}", headers=HX).text
    assert "Your vote was not counted: the topic closed before your vote could be counted." in html
    assert "hx-trigger" not in html


def test_vote_on_closed_topic_is_refused_and_not_queued(client, voting):
    topic = make_topic(client, active=False)
    page = client.get(f"/t/{topic['id']}")
    data = {"csrf_token": token_from(page.text), "choice_id": topic["choices"][0]["id"]}
    answer = client.post(f"/t/{topic['id']}/vote", data=data)
    assert answer.status_code == 409
    assert "<html" in answer.text and "your vote was not taken" in answer.text
    partial = client.post(f"/t/{topic['id']}/vote", data=data, headers=HX)
    assert partial.status_code == 409
    assert "<html" not in partial.text and 'id="vote"' in partial.text
    assert "closed" in partial.text
    assert record_queued(voting) == 0


def test_vote_without_a_choice_is_a_422_and_for_another_a_409_with_a_message(client, voting):
    """An unreadable choice is the form's error (422); a choice the topic does not hold
    is refused by the topic's state (409, as the API answers it)."""
    topic = make_topic(client)
    token = token_from(client.get(f"/t/{topic['id']}").text)
    for choice_id, status in (("", 422), ("not-a-choice", 409), ("bad id!", 422)):
        answer = client.post(
            f"/t/{topic['id']}/vote", data={"csrf_token": token, "choice_id": choice_id}
        )
        assert answer.status_code == status, choice_id
        assert 'role="alert"' in answer.text and "Pick" in answer.text
    assert record_queued(voting) == 0


def test_vote_without_valid_csrf_token_is_400_and_nothing_queued(client, voting):
    topic = make_topic(client)
    client.get(f"/t/{topic['id']}")  # the session (and its CSRF secret) exists
    for token in (None, "", "forged-token"):
        data = {"choice_id": topic["choices"][0]["id"]}
        if token is not None:
            data["csrf_token"] = token
        answer = client.post(f"/t/{topic['id']}/vote", data=data)
        assert answer.status_code == 400, token
        assert "CSRF" in answer.text and "<html" in answer.text
    assert record_queued(voting) == 0


def test_csrf_token_of_another_session_is_refused(app, client, voting):
    topic = make_topic(client)
    other = app.test_client()
    foreign = token_from(other.get(f"/t/{topic['id']}").text)
    client.get(f"/t/{topic['id']}")
    answer = client.post(
        f"/t/{topic['id']}/vote",
        data={"csrf_token": foreign, "choice_id": topic["choices"][0]["id"]},
    )
    assert answer.status_code == 400
    assert record_queued(voting) == 0


def test_json_api_needs_no_csrf_token(client):
    topic = make_topic(client)
    answer = client.post(
        "/votes", json={"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
    )
    assert answer.status_code == 202


# -- voter id cookie ----------------------------------------------------------------


def test_voter_cookie_is_signed_httponly_lax_and_sent_with_votes(client, voting):
    topic = make_topic(client)
    first = client.get(f"/t/{topic['id']}")
    header = next(h for h in first.headers.getlist("Set-Cookie") if h.startswith("voter="))
    assert "HttpOnly" in header and "SameSite=Lax" in header and "Secure" not in header
    again = client.get(f"/t/{topic['id']}")
    assert not any(h.startswith("voter=") for h in again.headers.getlist("Set-Cookie"))

    ids = []
    for index in (0, 1):
        location = vote_from_page(client, topic, index).headers["Location"]
        ids.append(location.split("vote=")[1])
    record_queued(voting)
    voters = {voting.store.get_vote(i)["voter_id"] for i in ids}
    assert len(voters) == 1
    (voter_id,) = voters
    assert voter_id.startswith("b-") and len(voter_id) == 34
    # The cookie holds that id, signed: the raw value never appears unsigned.
    cookie = client.get_cookie(voter.COOKIE).value
    assert cookie != voter_id and voter_id[2:] in str(_unsigned(cookie))


def _unsigned(cookie: str):
    import base64

    payload = cookie.split(".")[0]
    return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))


def test_tampered_voter_cookie_is_replaced(client):
    topic = make_topic(client)
    client.set_cookie(voter.COOKIE, '"b-forged".not-a-signature')
    answer = client.get(f"/t/{topic['id']}")
    header = next(h for h in answer.headers.getlist("Set-Cookie") if h.startswith("voter="))
    assert "b-forged" not in header


def test_voter_cookie_is_secure_over_https(app, aws_env):
    client = app.test_client()
    answer = client.get("/", base_url="https://localhost")
    cookies = answer.headers.getlist("Set-Cookie")
    voter_cookie = next(h for h in cookies if h.startswith("voter="))
    assert "Secure" in voter_cookie


# -- 404s, escaping, headers, present view --------------------------------------------


def test_unknown_topic_is_a_friendly_404_page(client):
    for path in ("/t/does-not-exist", "/t/bad%20id!", "/t/x/present", "/t/x/results"):
        answer = client.get(path)
        assert answer.status_code == 404, path
        assert answer.mimetype == "text/html"
        assert (
            "We could not find that" in answer.text and "Check the link or QR code" in answer.text
        )


def test_json_api_keeps_its_json_404(client):
    answer = client.get("/topics/does-not-exist")
    assert answer.status_code == 404
    assert answer.mimetype == "application/json" and "detail" in answer.get_json()


def test_user_text_is_escaped_everywhere(client):
    evil = "<script>alert(1)</script>"
    topic = make_topic(client, title=evil, choices=(evil + "A", "<b>bold</b>"))
    for path in (
        "/",
        f"/t/{topic['id']}",
        f"/t/{topic['id']}/present",
        f"/t/{topic['id']}/results",
    ):
        html = client.get(path).text
        assert "<script>alert(1)" not in html, path
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html, path
        assert "<b>bold</b>" not in html


def test_pages_have_security_headers_and_no_inline_script(client):
    topic = make_topic(client)
    for path in ("/", f"/t/{topic['id']}", f"/t/{topic['id']}/present", "/docs", "/topics"):
        answer = client.get(path)
        csp = answer.headers["Content-Security-Policy"]
        assert (
            "script-src 'self'" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
        )
        assert "frame-ancestors 'none'" in csp
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
        if answer.mimetype == "text/html":
            scripts = re.findall(r"<script\b([^>]*)>(.*?)</script>", answer.text, re.S)
            assert scripts, path
            for attributes, body in scripts:
                assert 'src="/static/' in attributes and body.strip() == "", path
            assert " style=" not in answer.text, path


def test_present_view_has_big_question_qr_code_and_share_url(client):
    topic = make_topic(client, title="Best editor?")
    html = client.get(f"/t/{topic['id']}/present").text
    assert 'class="present-question">Best editor?</h1>' in html
    share_url = f"http://localhost/t/{topic['id']}"
    assert f'<p class="present-url">{share_url}</p>' in html
    assert re.search(
        r'<svg viewBox="0 0 \d+ \d+" class="qr-code"><title>QR code for ' + share_url, html
    )
    # Its event stream pushes the results; if the stream fails the projector asks twice a
    # second (phones every 2 s): tap to screen within 2 s at p95.
    assert f'sse-connect="/t/{topic["id"]}/stream?view=present' in html
    assert 'data-poll-trigger="every 0.5s, vote-counted from:body"' in html
    partial = client.get(f"/t/{topic['id']}/results?view=present", headers=HX).text
    assert 'hx-trigger="every 0.5s, vote-counted from:body"' in partial


def test_topic_page_has_share_link_and_present_link(client):
    topic = make_topic(client)
    html = client.get(f"/t/{topic['id']}").text
    assert f'data-share-url="http://localhost/t/{topic["id"]}"' in html
    assert f'href="/t/{topic["id"]}/present"' in html


# -- voter policies (vote_limit, closes_at, results_visibility) as the pages show them ----


def test_results_hidden_until_the_voter_has_voted(client, voting):
    topic = make_topic(client, results_visibility="after_vote")
    api_vote(client, topic, 0)  # someone else's vote
    record_queued(voting)
    url = f"/t/{topic['id']}/results"
    hidden = client.get(url, headers=HX)
    assert "Results appear here once your vote is counted." in hidden.text
    assert "bar-numbers" not in hidden.text and "<strong>1</strong>" not in hidden.text
    # Keeps asking: it shows once we voted.
    assert 'hx-trigger="every 2s, vote-counted from:body"' in hidden.text
    assert "Results hidden for now" in client.get("/").text

    vote_from_page(client, topic, 1)
    record_queued(voting)
    shown = client.get(url, headers={**HX, "If-None-Match": hidden.headers["ETag"]})
    assert shown.status_code == 200
    assert "<strong>2</strong> votes" in shown.text and "1 vote · 50%" in shown.text
    assert "2 votes" in client.get("/").text


def test_results_hidden_until_close(client, voting):
    topic = make_topic(client, results_visibility="after_close")
    vote_from_page(client, topic, 0)
    record_queued(voting)
    page = client.get(f"/t/{topic['id']}").text
    assert "Results appear here when voting closes." in page and "bar-numbers" not in page
    present = client.get(f"/t/{topic['id']}/present").text
    assert "Results appear here when voting closes." in present
    client.put(
        f"/topics/{topic['id']}",
        json={"title": topic["title"], "is_active": False, "choices": topic["choices"]},
        headers={"X-API-Key": ADMIN_KEY},
    )
    closed = client.get(f"/t/{topic['id']}/results", headers=HX).text
    assert "1 vote · 100%" in closed and "hx-trigger" not in closed


def test_one_vote_per_voter_page_says_so(client, voting):
    topic = make_topic(client, vote_limit="one_per_voter")
    location = vote_from_page(client, topic, 0).headers["Location"]
    assert "Vote again" not in client.get(location).text
    record_queued(voting)
    page = client.get(f"/t/{topic['id']}")
    # A neutral note that names the choice, not a red error box.
    voted = f'You voted for <strong dir="auto">{topic["choices"][0]["description"]}</strong>.'
    assert voted in page.text and 'class="notice notice-error"' not in page.text
    # Disabled for good: a stage that learns voting opened again leaves it so (data-voted).
    assert '<fieldset class="choices" disabled data-voted>' in page.text
    assert page.text.count('<span class="badge badge-mine">Your vote</span>') == 1
    again = client.post(
        f"/t/{topic['id']}/vote",
        data={"csrf_token": token_from(page.text), "choice_id": topic["choices"][1]["id"]},
        headers=HX,
    )
    assert again.status_code == 409 and voted in again.text
    assert record_queued(voting) == 0
    # Another browser still may vote.
    assert "already voted" not in voting_client(client).get(f"/t/{topic['id']}").text


def voting_client(client):
    return client.application.test_client()


def test_changeable_vote_shows_replaced_and_change_link(client, voting):
    topic = make_topic(client, vote_limit="changeable")
    first = vote_from_page(client, topic, 0).headers["Location"]
    assert "Change your vote" in client.get(first).text
    record_queued(voting)
    vote_from_page(client, topic, 1)
    record_queued(voting)
    html = client.get(first).text
    assert "Your vote for <strong>Tabs</strong> was replaced by a later vote of yours." in html
    assert "1 vote · 100%" in html


def test_topic_past_its_deadline_shows_closed(client, voting):
    topic = make_topic_past_its_deadline(client)
    page = client.get(f"/t/{topic['id']}").text
    assert '<fieldset class="choices" disabled>' in page
    assert "Voting on this topic is closed" in page
    assert "hx-trigger" not in client.get(f"/t/{topic['id']}/results", headers=HX).text
    assert "is-closed" in client.get("/").text


def test_future_deadline_is_shown(client):
    topic = make_topic(client, closes_at="2999-01-31T18:30:00Z")
    page = client.get(f"/t/{topic['id']}").text
    # UTC from the server, written as the page's language writes dates (Babel);
    # static/app.js shows it in the viewer's time with a countdown.
    assert (
        '<time datetime="2999-01-31T18:30:00Z" data-local-time>'
        "Jan 31, 2999, 6:30\u202fPM UTC</time>"
        '<span data-countdown="2999-01-31T18:30:00Z"></span>.'
    ) in page
    german = client.get(f"/t/{topic['id']}", headers={"Accept-Language": "de"}).text
    assert "Die Abstimmung endet am <time" in german
    assert "data-local-time>31.01.2999, 18:30 UTC</time>" in german
