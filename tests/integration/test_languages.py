"""The pages in five languages: chosen from Accept-Language, switched by a
link that sticks (a cookie), right-to-left for Arabic, numbers by Babel,
and the JSON API untouched (the original's English contract)."""

from __future__ import annotations

import re

from tests.helpers.api import HX, api_vote, make_topic
from tests.helpers.queued import record_queued


def test_accept_language_picks_the_page_language(client):
    topic = make_topic(client)
    for header, lang, heading in [
        ("de-DE,de;q=0.9,en;q=0.5", "de", "Live-Ergebnisse"),
        ("es", "es", "Resultados en directo"),
        ("fr-CA, fr;q=0.8", "fr", "Résultats en direct"),
        ("ar-EG", "ar", "النتائج المباشرة"),
        ("ja, en;q=0.1", "en", "Live results"),
        ("", "en", "Live results"),
    ]:
        page = client.get(f"/t/{topic['id']}", headers={"Accept-Language": header})
        assert page.status_code == 200
        assert f'<html lang="{lang}" dir="{"rtl" if lang == "ar" else "ltr"}">' in page.text
        assert heading in page.text, header
        assert {"Accept-Language", "Cookie"} <= set(
            page.headers["Vary"].replace(" ", "").split(",")
        )


def test_the_switcher_sticks_in_a_cookie_over_accept_language(client):
    topic = make_topic(client)
    page = client.get(f"/t/{topic['id']}", headers={"Accept-Language": "de"})
    # Every language offered, each named in its own language, the current one marked.
    links = re.findall(
        r'<a href="([^"]+)" lang="(\w+)" hreflang="\w+"( aria-current="true")?>', page.text
    )
    assert [lang for _, lang, _ in links] == ["en", "de", "es", "fr", "ar"]
    assert [lang for _, lang, current in links if current] == ["de"]
    french = next(href for href, lang, _ in links if lang == "fr").replace("&amp;", "&")
    switched = client.get(french, headers={"Accept-Language": "de"})
    assert switched.status_code == 303 and switched.headers["Location"] == f"/t/{topic['id']}"
    cookie = switched.headers["Set-Cookie"]
    assert (
        cookie.startswith("lang=fr;") and "Max-Age=31536000" in cookie and "SameSite=Lax" in cookie
    )
    again = client.get(f"/t/{topic['id']}", headers={"Accept-Language": "de"})
    assert '<html lang="fr"' in again.text and "Résultats en direct" in again.text


def test_the_switcher_never_redirects_off_site_or_sets_an_unknown_language(client):
    for target in ("//evil.example/", "https://evil.example/", "\\\\evil", ""):
        answer = client.get("/lang/de", query_string={"next": target})
        assert answer.status_code == 303 and answer.headers["Location"] == "/"
    unknown = client.get("/lang/xx", query_string={"next": "/"})
    assert unknown.status_code == 303 and "Set-Cookie" not in unknown.headers
    # German (a known language) stuck despite the refused targets; "xx" changed nothing.
    assert '<html lang="de"' in client.get("/").text


def test_numbers_and_plurals_follow_the_language(client, voting):
    topic = make_topic(client, choices=("Rot", "Grün"))
    for index in (1, 1, 0):
        api_vote(client, topic, index)
    record_queued(voting)
    german = client.get(f"/t/{topic['id']}/results", headers={**HX, "Accept-Language": "de"}).text
    bars = re.findall(r'bar-numbers">([^<]+)', german)
    # German writes a space (no-break) before the percent sign.
    assert bars == ["1 Stimme · 33\xa0%", "2 Stimmen · 67\xa0%"]
    assert "Vorn: Grün" in german
    arabic = client.get(f"/t/{topic['id']}/results", headers={**HX, "Accept-Language": "ar"}).text
    assert re.findall(r'bar-numbers">([^<]+)', arabic)[1].startswith("2 صوتان")


def test_each_language_has_its_own_etag(client):
    topic = make_topic(client)
    url = f"/t/{topic['id']}/results"
    english = client.get(url, headers=HX)
    german = client.get(url, headers={**HX, "Accept-Language": "de"})
    assert english.headers["ETag"] != german.headers["ETag"]
    # The English tag does not let a German browser keep English text.
    again = client.get(
        url, headers={**HX, "Accept-Language": "de", "If-None-Match": english.headers["ETag"]}
    )
    assert again.status_code == 200 and "Stimmen" in again.text


def test_json_api_stays_english_whatever_the_browser_asks(client):
    topic = make_topic(client)
    for path in (f"/topics/{topic['id']}", "/topics/nope", "/topics"):
        german = client.get(path, headers={"Accept-Language": "de"})
        english = client.get(path)
        assert german.status_code == english.status_code
        assert german.get_data() == english.get_data(), path
        assert german.mimetype == "application/json"
        assert "Accept-Language" not in german.headers.get("Vary", "")


def test_admin_pages_are_translated(client):
    login = client.get("/admin/login", headers={"Accept-Language": "es"})
    assert "<h1>Entrar</h1>" in login.text and "Entrar</button>" in login.text
    assert "Correo electrónico" in login.text and "Contraseña" in login.text
