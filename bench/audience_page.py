"""What a phone reads from the audience page, as a browser with htmx would: pure helpers.

`parse_stage` finds, in a whole page or a stage fragment, what the page asks
of the browser (the stage's `hx-get` and the ETag in its `hx-headers`, an
`sse-connect` on the stage or an ancestor) and the question it shows (the
article's `data-topic-id`, the vote form's action, hidden fields and
choices). `SSEParser` reads text/event-stream as the HTML standard does, fed
in any chunks; `results_total` reads the count a results fragment shows.
Also the percentiles and the loopback check bench/room.py
uses, and `self_check()` (`python -m bench.room --self-check`): their checks,
no server needed.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

_TAG = re.compile(r"<([a-zA-Z][\w-]*)\b((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>")
_TOTAL = re.compile(r'class="results-total">.*?<strong>([^<]*)</strong>', re.S)
_ERROR = re.compile(r"<p\b[^>]*\bdata-error-message\b[^>]*>([^<]*)</p>")
_ATTR = re.compile(r"([^\s=/>\"']+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")


def tags(text: str):
    """(name, attributes, end offset) of every start tag, attribute values unescaped."""
    for match in _TAG.finditer(text):
        attrs = {}
        for name, dq, sq, bare in _ATTR.findall(match.group(2)):
            attrs[name.lower()] = html.unescape(dq or sq or bare)
        yield match.group(1).lower(), attrs, match.end()


@dataclass
class Stage:
    """What a page or stage fragment asks of the phone, and the question it shows."""

    poll_url: str | None = None  # the stage's hx-get
    etag: str | None = None  # the If-None-Match of its hx-headers
    sse_url: str | None = None  # sse-connect on the stage or an ancestor
    topic_id: str | None = None  # data-topic-id of the question shown
    action: str | None = None  # the vote form's action
    fields: dict = field(default_factory=dict)  # the form's hidden inputs
    choices: list = field(default_factory=list)  # choice_id values a tap can send
    headers: dict = field(default_factory=dict)  # hx-headers of elements before the stage


def parse_stage(text: str) -> Stage:
    stage, in_form, stage_seen = Stage(), False, False
    for name, attrs, end in tags(text):
        if "sse-connect" in attrs and not stage_seen:
            stage.sse_url = attrs["sse-connect"]
        if "hx-headers" in attrs and not stage_seen and attrs.get("id") != "stage":
            stage.headers.update(headers_of(attrs))  # htmx sends an ancestor's with each request
        if attrs.get("id") == "stage":
            stage_seen = True
            stage.poll_url = attrs.get("hx-get")
            stage.etag = headers_of(attrs).get("If-None-Match")
        if "data-topic-id" in attrs and stage.topic_id is None:
            stage.topic_id = attrs["data-topic-id"]
        if name == "form" and "/vote/" in (attrs.get("action") or "") and stage.action is None:
            stage.action, in_form = attrs["action"], True
            form_end = text.find("</form>", end)
            form_end = len(text) if form_end < 0 else form_end
        elif in_form and end > form_end:
            in_form = False
        if not in_form:
            continue
        if name == "input" and attrs.get("type") == "hidden" and "name" in attrs:
            stage.fields[attrs["name"]] = attrs.get("value", "")
        elif name == "fieldset" and "disabled" in attrs:
            stage.choices = []  # closed, or already voted: nothing to tap
            in_form = False
        elif attrs.get("name") == "choice_id" and (
            name == "button" or attrs.get("type") == "radio"
        ):
            stage.choices.append(attrs.get("value", ""))
    return stage


def results_total(text: str) -> int | None:
    """The vote count a results fragment shows (its digits: "1,234" is 1234), if any."""
    found = _TOTAL.search(text)
    digits = re.sub(r"\D", "", found.group(1)) if found else ""
    return int(digits) if digits else None


def headers_of(attrs: dict) -> dict:
    try:
        headers = json.loads(attrs.get("hx-headers") or "{}")
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in headers.items()} if isinstance(headers, dict) else {}


def error_message(text: str) -> str | None:
    """The refusal a vote fragment shows (its data-error-message), if any."""
    found = _ERROR.search(text)
    return html.unescape(found.group(1)).strip() if found else None


def has_stage(data: str) -> bool:
    """Does an SSE event's data hold a stage (the whole element, or a question in it)?"""
    return 'id="stage"' in data or "data-topic-id=" in data or "stage-waiting" in data


@dataclass
class Event:
    event: str
    data: str
    id: str | None


class SSEParser:
    """text/event-stream as the HTML standard parses it, fed text in any chunks."""

    def __init__(self):
        self.buffer = ""
        self.data: list[str] = []
        self.event = ""
        self.last_id: str | None = None
        self.retry: float | None = None

    def feed(self, chunk: str) -> list[Event]:
        self.buffer += chunk
        events = []
        while True:
            match = re.search(r"\r\n|\r|\n", self.buffer)
            # A lone CR at the end may be the first half of a CRLF: wait for more.
            if match is None or (match.group() == "\r" and match.end() == len(self.buffer)):
                return events
            line, self.buffer = self.buffer[: match.start()], self.buffer[match.end() :]
            if line == "":
                if self.data:
                    events.append(Event(self.event or "message", "\n".join(self.data),
                                        self.last_id))  # fmt: skip
                self.data, self.event = [], ""
                continue
            if line.startswith(":"):
                continue  # a comment (keep-alive)
            name, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if name == "data":
                self.data.append(value)
            elif name == "event":
                self.event = value
            elif name == "id" and "\0" not in value:
                self.last_id = value
            elif name == "retry" and value.isdigit():
                self.retry = int(value) / 1000


def percentile(values, q: float) -> float | None:
    """The q-th percentile (0-100), interpolated between ranks; None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def failure(exc: BaseException) -> str:
    """An exception as a report names it: "timeout", or its type (and errno)."""
    if isinstance(exc, TimeoutError):
        return "timeout"
    number = getattr(exc, "errno", None)
    return f"{type(exc).__name__}" + (f" errno {number}" if number else "")


def local_url(base: str, ref: str) -> str:
    """`ref` resolved against `base`; refused unless it stays on 127.0.0.1."""
    url = urljoin(base, ref)
    if urlsplit(url).hostname != "127.0.0.1":
        raise ValueError(f"not loopback: {url}")
    return url


STAGE = """<div class="stage-live" aria-live="polite">
<div id="stage" class="stage" data-position="1"
     hx-get="/QZ7KDM/stage" hx-trigger="every 1s"
     hx-target="this" hx-swap="outerHTML"
     hx-headers='{"If-None-Match": "\\"5c2f0e9a81d4b7c6e3a1f0d2\\""}'>
  <article class="topic" data-topic-id="6f1c9a52-4d3e-4b8f-9a10-2c7e5d4b3a21">
    <p class="stage-progress">Question 2 of 2</p>
    <h1 id="question" class="question">Tea &amp; biscuits &gt; coffee?</h1>
<section id="vote" class="vote" aria-labelledby="question" hx-target="this" hx-swap="outerHTML">
  <form class="ballot" method="post" action="/QZ7KDM/vote/6f1c9a52-4d3e-4b8f-9a10-2c7e5d4b3a21"
        hx-post="/QZ7KDM/vote/6f1c9a52-4d3e-4b8f-9a10-2c7e5d4b3a21">
    <input type="hidden" name="csrf_token" value="IjQ1ZDBh.aF3kLw.x-9_Q">
    <p class="notice notice-closed" data-closed-notice hidden>Voting on this topic is closed.</p>
    <fieldset class="choices">
      <legend class="visually-hidden">Pick one choice</legend>
      <button class="choice" type="submit" name="choice_id" value="c-1" dir="auto">Tea</button>
      <button class="choice" type="submit" name="choice_id" value="c-2"
              dir="auto">Coffee &gt; tea</button>
    </fieldset>
  </form>
</section>
    <p class="results-hidden stage-results-hidden">The presenter will show the results.</p>
  </article>
</div></div>"""


def self_check() -> None:
    topic = "6f1c9a52-4d3e-4b8f-9a10-2c7e5d4b3a21"
    stage = parse_stage(STAGE)
    assert stage.poll_url == "/QZ7KDM/stage", stage
    assert stage.etag == '"5c2f0e9a81d4b7c6e3a1f0d2"', stage.etag
    assert stage.topic_id == topic and stage.action == f"/QZ7KDM/vote/{topic}", stage
    assert stage.fields == {"csrf_token": "IjQ1ZDBh.aF3kLw.x-9_Q"}, stage.fields
    assert stage.choices == ["c-1", "c-2"] and stage.sse_url is None, stage
    pushed = parse_stage('<body hx-headers=\'{"X-CSRFToken": "t0"}\'><div hx-ext="sse" '
                         'sse-connect="/QZ7KDM/events?a=1&amp;b=2">' + STAGE)  # fmt: skip
    assert pushed.sse_url == "/QZ7KDM/events?a=1&b=2" and pushed.topic_id == topic
    assert pushed.headers == {"X-CSRFToken": "t0"} and stage.headers == {}, pushed.headers
    closed = parse_stage(STAGE.replace('class="choices"', 'class="choices" disabled'))
    assert closed.choices == [] and closed.action, closed
    waiting = parse_stage('<div id="stage" hx-get="/QZ7KDM/stage"><section class="stage-waiting">')
    assert waiting.topic_id is None and waiting.action is None and has_stage("stage-waiting")
    assert parse_stage("").poll_url is None and not has_stage("<p>hello</p>")
    total = '<p class="results-total">\n    <strong>1,234</strong> votes · Leading: Tea</p>'
    refused = '<p class="notice notice-error" role="alert" data-error-message>It&#39;s over.</p>'
    assert error_message(refused) == "It's over." and error_message(STAGE) is None
    assert results_total(total) == 1234 and results_total('<p class="results-hidden">') is None

    parser = SSEParser()
    whole = ': keep-alive\n\nevent: stage\nid: 7\ndata: <div id="stage">\ndata:  two\n\n'
    events = parser.feed(whole[:25]) + parser.feed(whole[25:40]) + parser.feed(whole[40:])
    assert events == [Event("stage", '<div id="stage">\n two', "7")], events
    events = parser.feed("data: a\r") + parser.feed("\n\r\ndata:b\rid\r\r") + parser.feed("\n")
    assert events == [Event("message", "a", "7"), Event("message", "b", "")], events
    assert parser.feed("retry: 1500\nevent: x\n\n") == [] and parser.retry == 1.5
    assert parser.feed("id: bad\0id\ndata\n\n") == [Event("message", "", "")]
    assert parser.feed("data: tail") == [] and parser.buffer == "data: tail"

    assert percentile([], 50) is None and percentile([3.0], 95) == 3.0
    assert percentile([1, 2, 3, 4], 50) == 2.5 and percentile(range(101), 95) == 95
    assert local_url("http://127.0.0.1:8000/AB", "/x") == "http://127.0.0.1:8000/x"
    for ref in ("http://example.com/x", "//10.0.0.1/x", "http://localhost:8000/"):
        try:
            local_url("http://127.0.0.1:8000/", ref)
        except ValueError:
            continue
        raise AssertionError(ref)
