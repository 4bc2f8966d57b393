"""webapp/push/hub.py with a feed of its own: catch-up by versions, one render per change,
a lagging stream gets the latest state only, the id format, the cap and stopping."""

from __future__ import annotations

import contextlib

import pytest

from webapp.push import hub as push
from webapp.push.hub import Hub, data_lines, digest, join_ids, split_ids


class Feed:
    """Two regions: `whole` (holds `part`) and `part`, each a string in `state`."""

    regions = ("whole", "part")

    def __init__(self):
        self.key = ("fake", 1)
        self.state = {"whole": "w1", "part": "p1"}
        self.renders: list[tuple] = []
        self.reads: list = []  # each read's `since`

    def read(self, since=None):
        self.reads.append(since)
        return dict(self.state)

    def context(self, view):
        return contextlib.nullcontext()

    def versions(self, state, view):
        return digest(state["whole"]), digest(state["part"])

    def render(self, state, view, names):
        self.renders.append(tuple(names))
        return {name: f"<{name}>{state[name]}</{name}>" for name in names}


@pytest.fixture(autouse=True)
def slow_reads(monkeypatch):
    # The reader reads when poked, not on its own in the middle of a test.
    monkeypatch.setattr(push, "READ_SECONDS", 60.0)


def events(chunk: bytes) -> list[tuple[str, str, str]]:
    found = []
    for block in chunk.decode().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n") if ": " in line)
        if "event" in fields:
            found.append((fields["event"], fields["id"], fields.get("data", "")))
    return found


def changed(hub: Hub, feed: Feed, stream, **state) -> None:
    """Change the feed, poke its reader and wait until it woke `stream`."""
    stream.wake.clear()
    feed.state.update(state)
    hub.poke([feed.key])
    assert stream.wake.wait(10), "the reader never published"


def test_a_new_stream_gets_the_whole_then_hello_and_a_page_that_holds_it_only_hello():
    hub, feed = Hub(max_streams=10), Feed()
    fresh = hub.subscribe(feed, "view", None)
    got = events(fresh.channel.take(fresh))
    assert [(name, data) for name, _, data in got] == [("whole", "<whole>w1</whole>"),
                                                        ("hello", "")]  # fmt: skip
    current = got[-1][1]
    assert current == join_ids((digest("w1"), digest("p1")))
    holding = hub.subscribe(feed, "view", current)
    assert [name for name, *_ in events(holding.channel.take(holding))] == ["hello"]
    assert feed.renders == [("whole", "part")]  # one render for both streams
    fresh.close()
    holding.close()
    assert hub.open == 0


def test_a_change_of_the_part_alone_sends_the_part_once_for_every_stream():
    hub, feed = Hub(max_streams=10), Feed()
    streams = [hub.subscribe(feed, "view", None) for _ in range(5)]
    for stream in streams:
        stream.channel.take(stream)
    changed(hub, feed, streams[-1], part="p2")
    assert feed.reads[-1] is None  # a change made here is in this process's copies already
    chunks = {stream.channel.take(stream) for stream in streams}
    assert len(chunks) == 1  # the same bytes for all
    [(name, ids, data)] = events(chunks.pop())
    assert (name, data) == ("part", "<part>p2</part>")
    assert ids == join_ids((digest("w1"), digest("p2")))
    assert feed.renders[-1] == ("part",)
    for stream in streams:
        stream.close()


def test_a_lagging_stream_gets_the_latest_state_not_every_step():
    hub, feed = Hub(max_streams=10), Feed()
    quick, slow = hub.subscribe(feed, "view", None), hub.subscribe(feed, "view", None)
    quick.channel.take(quick)
    slow.channel.take(slow)
    for n in (2, 3, 4):
        changed(hub, feed, quick, part=f"p{n}")
        quick.channel.take(quick)  # the slow one takes nothing meanwhile
    assert [(name, data) for name, _, data in events(slow.channel.take(slow))] == [
        ("part", "<part>p4</part>")
    ]
    # A new whole replaces everything a page holds: sent alone.
    changed(hub, feed, quick, whole="w2", part="p5")
    assert [name for name, *_ in events(quick.channel.take(quick))] == ["whole"]
    quick.close()
    slow.close()


@pytest.mark.parametrize("last_id", ["", "a.b.c", "abc", "../x.y", "a b.c", "x" * 40 + ".y"])
def test_an_id_that_is_not_ours_holds_nothing(last_id):
    assert split_ids(last_id, 2) is None


def test_ids_round_trip_and_absent_regions():
    assert split_ids("0123abcd.-", 2) == ("0123abcd", "-")


def test_a_fragment_is_one_data_line_and_no_line_break_starts_a_field():
    # Line breaks with their indentation show as one space in HTML: one data line.
    assert data_lines("<p>\n  a\r\n  <b>b</b>\r</p>\nevent: x") == (
        b"data: <p> a <b>b</b> </p> event: x\n"
    )
    # Where line breaks matter (pre), each line is a data line of its own, never a field.
    assert data_lines("<pre>a\r\nb\revent: x</pre>") == (
        b"data: <pre>a\ndata: b\ndata: event: x</pre>\n"
    )


def test_the_cap_and_stopping():
    hub, feed = Hub(max_streams=1), Feed()
    first = hub.subscribe(feed, "view", None)
    assert hub.subscribe(feed, "view", None) is None
    first.close()
    second = hub.subscribe(feed, "view", None)
    assert second is not None
    hub.close()
    assert list(second) == [b"retry: %d\n: hello\n\n" % push.RETRY_MS]  # and it ends
    assert second.ended
    second.close()
    assert hub.open == 0 and hub.subscribe(feed, "view", None) is None
