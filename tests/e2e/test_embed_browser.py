"""An embed inside another site's page, in real Chromium.

The host page comes from a small HTTP server of the test at
http://localhost:<port> (another origin than the app at 127.0.0.1): its
iframe of /t/<id>/embed shows the ballot, a tap votes and the vote is counted
inside the frame, with no cookies needed; its iframe of the topic's own page
stays empty (frame-ancestors 'none'). axe passes inside the frame.

An event's embed (/<CODE>/embed) follows the presenter in the same kind of
frame, and remembers its voter across a reload of the host page with every
cookie gone where the frame has storage (localStorage, per embedding site);
the voter never travels in a URL, so a frame without storage keeps only its
vote across a reload (the vote id in its URL), as a new voter.
"""

from __future__ import annotations

import http.server
import threading
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.helpers.api import make_topic, vote_counts
from tests.helpers.browser import DESKTOP, screenshot_path, violations_on
from tests.helpers.waiting import wait_until


@pytest.fixture(scope="module")
def host_site():
    """Another site: serves whatever HTML the test puts at a path."""
    pages: dict[str, bytes] = {}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            body = pages.get(self.path)
            # Nothing else (a favicon) is an empty 204, not a 404 in the console.
            self.send_response(200 if body else 204)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(body or b"")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def publish(path: str, frames: dict[str, str]) -> str:
        iframes = "".join(
            f'<iframe name="{name}" src="{src}" title="{name}" width="600" height="560"></iframe>'
            for name, src in frames.items()
        )
        pages[path] = f"<!doctype html><html lang='en'><title>Host</title>{iframes}</html>".encode()
        return f"http://localhost:{server.server_port}{path}"

    yield publish
    server.shutdown()
    server.server_close()


def test_embed_votes_inside_another_sites_page(stack, contexts, console, api, host_site):
    topic = make_topic(api, "Tea or coffee?", ["Tea", "Coffee"], base=api.base)
    host = host_site("/blog.html", {"poll": f"{stack.base}/t/{topic['id']}/embed"})
    page = console.watch(contexts(**DESKTOP).new_page())
    page.goto(host)
    poll = page.frame_locator("iframe[name=poll]")
    expect(poll.get_by_role("heading", level=1)).to_have_text("Tea or coffee?")
    poll.get_by_role("button", name="Coffee").click()
    expect(poll.locator("#vote-status")).to_contain_text("Your vote for Coffee was counted.")
    expect(poll.locator(".results-total")).to_contain_text("1 vote")
    wait_until(lambda: vote_counts(api, topic["id"], base=api.base) == [0, 1])
    page.screenshot(path=screenshot_path("embed.png"))
    frame = page.frame(name="poll")
    assert frame is not None and violations_on(frame) == []


def test_other_pages_refuse_to_be_framed(stack, contexts, api, host_site):
    topic = make_topic(api, "Framed?", ["Yes", "No"], base=api.base)
    base = f"{stack.base}/t/{topic['id']}"
    host = host_site("/both.html", {"page": base, "embed": f"{base}/embed"})
    # Not watched for console errors: Chromium logs the refused frame on purpose.
    page = contexts(**DESKTOP).new_page()
    refused = []
    page.on("console", lambda m: "frame-ancestors" in m.text and refused.append(m.text))
    page.goto(host)
    expect(page.frame_locator("iframe[name=embed]").locator("h1")).to_have_text("Framed?")
    wait_until(lambda: refused, message="Chromium never reported the refused frame")
    assert "frame-ancestors 'none'" in refused[0] and stack.base in refused[0]
    framed = page.frame(name="page")
    assert framed is None or framed.locator("#question").count() == 0


def _tea_party(api) -> tuple[dict, str]:
    """An event of two questions, results shown: a one-per-voter one, then an unlimited
    one. Returns it and its position URL."""
    tea = make_topic(api, "Tea or coffee?", ["Tea", "Coffee"], base=api.base,
                     vote_limit="one_per_voter")  # fmt: skip
    cake = make_topic(api, "Cake?", ["Yes", "No"], base=api.base)
    body = {"title": "Tea party", "questions": [tea["id"], cake["id"]], "results": "shown"}
    event = api.post(f"{api.base}/events", json=body).json()
    return {**event, "tea": tea}, f"{api.base}/events/{event['id']}/position"


def test_event_embed_follows_the_presenter_and_remembers_its_voter(
    stack, contexts, console, api, host_site
):
    """Cross-site, where Chromium gives the frame neither cookies nor storage."""
    event, position = _tea_party(api)
    host = host_site("/party.html", {"room": f"{stack.base}/{event['code']}/embed"})
    page = console.watch(contexts(**DESKTOP).new_page())
    # The frame follows its stream: its stage never asks for itself. (A tap inside a stage
    # naming no trigger, htmx's default click, refetched it; that answer replaced the
    # stage under the vote still on its way, whose own answer then found no #stage.)
    stage_fetches = []
    page.on("request", lambda r: urlsplit(r.url).path.endswith("/embed/stage")
            and stage_fetches.append(r.url))  # fmt: skip
    page.goto(host)
    room = page.frame_locator("iframe[name=room]")
    expect(room.locator(".stage-waiting h1")).to_be_visible()
    assert api.post(position, json={"to": "next"}).ok
    expect(room.get_by_role("heading", level=1)).to_have_text("Tea or coffee?")
    room.get_by_role("button", name="Coffee").click()
    expect(room.locator("#vote-status")).to_contain_text("Your vote for Coffee was counted.")
    wait_until(lambda: vote_counts(api, event["tea"]["id"], base=api.base) == [0, 1])
    frame = page.frame(name="room")
    assert frame is not None and violations_on(frame) == []
    assert api.post(position, json={"to": "next"}).ok
    expect(room.get_by_role("heading", level=1)).to_have_text("Cake?")
    room.get_by_role("button", name="Yes").click()
    expect(room.locator("#vote-status")).to_contain_text("Your vote for Yes was counted.")
    # Back to the first question: the frame sends its voter (a header), so it knows the
    # ballot (the audience page would need its cookie for that).
    assert api.post(position, json={"to": "previous"}).ok
    expect(room.locator("#my-vote")).to_contain_text("You voted for Coffee")
    expect(room.get_by_role("button", name="Tea")).to_be_disabled()
    assert stage_fetches == []
    # No storage here, and the voter is in no URL: a reload keeps the vote, not the voter.
    assert "voter=" not in frame.url
    frame.evaluate("location.reload()")
    expect(room.get_by_role("heading", level=1)).to_have_text("Tea or coffee?")
    assert api.post(position, json={"to": "next"}).ok  # the question its URL remembers
    expect(room.locator("#vote-status")).to_contain_text("was counted")
    page.screenshot(path=screenshot_path("event-embed.png"))
    assert console.problems() == []


def test_event_embed_keeps_its_voter_in_storage_where_the_frame_has_some(
    stack, contexts, console, api, host_site
):
    """A host of the same site (another port): the frame's localStorage keeps the voter
    across a reload of the host page, with every cookie gone."""
    event, position = _tea_party(api)
    host = host_site("/same-site.html", {"room": f"{stack.base}/{event['code']}/embed"})
    context = contexts(**DESKTOP)
    page = console.watch(context.new_page())
    assert api.post(position, json={"to": "next"}).ok
    page.goto(host.replace("localhost", "127.0.0.1"))
    room = page.frame_locator("iframe[name=room]")
    room.get_by_role("button", name="Tea").click()
    expect(room.locator("#vote-status")).to_contain_text("Your vote for Tea was counted.")
    context.clear_cookies()
    page.goto(host.replace("localhost", "127.0.0.1"))  # a new visit: the frame's src again
    expect(room.locator("#my-vote")).to_contain_text("You voted for Tea")
    frame = page.frame(name="room")
    kept = frame.evaluate(f"localStorage.getItem('voting-game-voter:{event['code']}')")
    assert kept and "voter=" not in frame.url
    assert console.problems() == []
