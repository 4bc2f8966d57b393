"""Embeds (/t/<id>/embed): the one page another site may frame.

Its Content-Security-Policy takes frame-ancestors from EMBED_ORIGINS (any
site by default) and it carries no X-Frame-Options; every other page keeps
frame-ancestors 'none' and DENY. It votes without cookies or a CSRF token on
topics where every vote counts, and links out on topics that limit voters.
"""

from __future__ import annotations

import re

import pytest

from tests.helpers.api import HX, make_topic, sign_in, vote_counts
from tests.helpers.queued import record_queued
from webapp import create_app


def _frame_ancestors(response) -> str:
    return re.search(r"frame-ancestors ([^;]+)", response.headers["Content-Security-Policy"])[1]


def test_only_the_embed_may_be_framed_by_default_by_any_site(client):
    topic = make_topic(client)
    embed = client.get(f"/t/{topic['id']}/embed")
    assert embed.status_code == 200
    assert _frame_ancestors(embed) == "*"
    assert "X-Frame-Options" not in embed.headers
    # The rest of the policy is the strict one.
    assert "script-src 'self'" in embed.headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in embed.headers["Content-Security-Policy"]
    for path in (
        "/",
        f"/t/{topic['id']}",
        f"/t/{topic['id']}/present",
        f"/t/{topic['id']}/results",
        "/admin/login",
        "/t/no-such-topic/embed",  # an error page is not an embed
    ):
        other = client.get(path)
        assert _frame_ancestors(other) == "'none'", path
        assert other.headers["X-Frame-Options"] == "DENY", path


@pytest.mark.env(EMBED_ORIGINS="https://blog.example, https://*.school.example:8443")
def test_embed_origins_come_from_the_setting(client):
    topic = make_topic(client)
    embed = client.get(f"/t/{topic['id']}/embed")
    assert _frame_ancestors(embed) == "https://blog.example https://*.school.example:8443"
    assert _frame_ancestors(client.get(f"/t/{topic['id']}")) == "'none'"


@pytest.mark.parametrize(
    "origins", ["https://a.example; script-src *", "javascript:alert(1)", "https://a b", " , "]
)
def test_a_bad_embed_origin_stops_the_app_at_start(aws_env, monkeypatch, origins):
    monkeypatch.setenv("EMBED_ORIGINS", origins)
    with pytest.raises(ValueError, match="EMBED_ORIGINS"):
        create_app({"TESTING": True})


def test_embed_votes_without_cookies_or_csrf_token_on_an_unlimited_topic(app, voting):
    client = app.test_client(use_cookies=False)
    topic = make_topic(client, choices=("Tea", "Coffee"))
    page = client.get(f"/t/{topic['id']}/embed").text
    # Minimal chrome: no site header or language bar, the ballot posts to the embed.
    assert 'class="site-header"' not in page and 'class="languages"' not in page
    vote_url = f"/t/{topic['id']}/embed/vote"
    assert f'action="{vote_url}"' in page and f'hx-post="{vote_url}"' in page
    choice = {"choice_id": topic["choices"][1]["id"]}
    with_htmx = client.post(vote_url, data=choice, headers=HX)
    assert with_htmx.status_code == 202 and "waiting to be counted" in with_htmx.text
    assert f'href="/t/{topic["id"]}/embed"' in with_htmx.text  # "Vote again" stays in the embed
    without_js = client.post(vote_url, data=choice)
    assert without_js.status_code == 303
    assert re.fullmatch(rf"/t/{topic['id']}/embed\?vote=[\w-]+", without_js.headers["Location"])
    state = client.get(without_js.headers["Location"])
    assert state.status_code == 200 and _frame_ancestors(state) == "*"
    assert record_queued(voting) == 2
    assert vote_counts(client, topic["id"]) == [0, 2]


def test_embed_links_out_on_a_topic_that_limits_voters(client, voting):
    topic = make_topic(client, vote_limit="one_per_voter")
    page = client.get(f"/t/{topic['id']}/embed").text
    assert "<form" not in page.split('id="vote"')[1].split("</section>")[0]
    assert re.search(
        rf'href="http://localhost/t/{topic["id"]}" target="_blank" rel="noopener"', page
    )
    refused = client.post(
        f"/t/{topic['id']}/embed/vote", data={"choice_id": topic["choices"][0]["id"]}, headers=HX
    )
    assert refused.status_code == 409 and "own page" in refused.text
    assert record_queued(voting) == 0


def test_embed_refuses_bad_and_closed_votes_with_a_message(client, voting):
    topic = make_topic(client)
    bad = client.post(f"/t/{topic['id']}/embed/vote", data={"choice_id": ""}, headers=HX)
    assert bad.status_code == 422 and "Pick one of the choices." in bad.text
    # A choice the topic does not hold: 409, as everywhere (the topic's state refuses it).
    other = client.post(f"/t/{topic['id']}/embed/vote", data={"choice_id": "nope"}, headers=HX)
    assert other.status_code == 409 and "Pick again." in other.text
    closed = make_topic(client, active=False)
    shut = client.post(
        f"/t/{closed['id']}/embed/vote", data={"choice_id": closed["choices"][0]["id"]}
    )
    assert shut.status_code == 409 and "closed" in shut.text and _frame_ancestors(shut) == "*"
    assert record_queued(voting) == 0


def test_the_other_pages_still_need_their_csrf_token(client, voting):
    topic = make_topic(client)
    forged = client.post(f"/t/{topic['id']}/vote", data={"choice_id": topic["choices"][0]["id"]})
    assert forged.status_code == 400
    assert record_queued(voting) == 0


def test_admin_edit_page_offers_a_copy_paste_snippet(client):
    topic = make_topic(client, title='Say "hi" <b>')
    sign_in(client)
    page = client.get(f"/admin/topics/{topic['id']}/edit").text
    snippet = re.search(
        r'<textarea id="embed-code" rows="3" readonly>(.*?)</textarea>', page, re.S
    )[1]
    # Shown as text; once pasted, the title is a safe attribute value.
    assert snippet == (
        f'&lt;iframe src="http://localhost/t/{topic["id"]}/embed" '
        'title="Say &amp;#34;hi&amp;#34; &amp;lt;b&amp;gt;" width="100%" height="560" '
        'style="border:0" loading="lazy"&gt;&lt;/iframe&gt;'
    )
