"""The fan-out of one web process: one reader per watched thing, the same bytes to every stream.

A *feed* (webapp/push/feeds.py) is something pages follow: an event's stage,
a topic's results, the presenter's projected stage. While at least one stream
follows it, one `Channel` reads it about every READ_SECONDS (a few DynamoDB
reads, through the services' caches, whatever the number of streams) and, for
each *view* in use (the feed as one kind of page shows it in one language),
works out the version of each region (cheap: from the data). Only a region
whose version moved is rendered, once per view, and its bytes are queued for
every stream of that view. A change made through this process (the presenter
moved) is read at once (`changed`), and the server's other processes are told
(webapp/push/siblings.py); other servers see it at their next read.

Every event names the region it replaces and carries as its id the versions of
every region the page then holds (`a.b.c`): a reconnecting browser sends it
back (Last-Event-ID) and gets exactly the regions that moved since, each whole,
so no change is missed. A stream that lags is never waited for: what it has
not taken yet is replaced by the regions it still lacks, at their latest state.

Streams per process are capped (`MAX_STREAMS_PER_PROCESS`): `subscribe`
answers None past it, and the view answers 503 (the page polls instead).
`close()` (SIGTERM) ends every stream at once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from collections.abc import Hashable, Iterator

from flask import Flask, current_app

from webapp.push.siblings import Siblings

log = logging.getLogger(__name__)

READ_SECONDS = 0.5  # how often a followed feed is read: about two reads a second
HEARTBEAT_SECONDS = 15.0  # a comment line, so proxies and phones keep an idle stream
RETRY_MS = 2000  # EventSource's wait before it reconnects after a stream ends
_LINE_BREAKS = re.compile(r"[ \t]*[\r\n]\s*")
ABSENT = "-"  # the version of a region the feed does not show now (the lobby's results)
UNKNOWN = "0"  # what a page holds of a region when it said nothing (never a version)


def digest(value) -> str:
    """A region's version: a short hash of what decides how it looks."""
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()[:12]


def join_ids(versions: tuple[str, ...]) -> str:
    return ".".join(versions)


def split_ids(last_id: str | None, count: int) -> tuple[str, ...] | None:
    """A Last-Event-ID back into its versions; None when it is not one of ours."""
    if not last_id:
        return None
    parts = tuple(last_id.split("."))
    if len(parts) != count or not all(0 < len(p) <= 32 and p.isalnum() or p == ABSENT
                                      for p in parts):  # fmt: skip
        return None
    return parts


def event_bytes(name: str, versions: tuple[str, ...], data: bytes) -> bytes:
    """One SSE event: its name, its id (the versions the page holds after it), its data."""
    return b"event: %s\nid: %s\n%s\n" % (name.encode(), join_ids(versions).encode(), data)


def data_lines(html: str) -> bytes:
    """A fragment as SSE data lines (the browser joins them with newlines).

    Whitespace holding a line break shows as one space in HTML (outside pre and
    textarea, which pushed fragments do not hold: those keep their lines), so it
    becomes one: a fragment is then one data line, fewer bytes to send and to parse.
    """
    text = html.strip()
    if "<pre" not in text and "<textarea" not in text:
        text = _LINE_BREAKS.sub(" ", text)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return b"".join(b"data: %s\n" % line.encode() for line in lines)


class Stream:
    """One open event stream: the bytes waiting for it, and what its page holds.

    Iterated by the WSGI server (each item written as it comes); `close()` is
    called by the server whatever happens, and leaves the channel.
    """

    def __init__(self, channel: Channel, view: Hashable, holds: tuple[str, ...] | None):
        self.channel, self.view = channel, view
        self.written = holds  # the versions the page holds (after what it took)
        self.holds = holds  # ... and once `pending` is written too
        self.pending = b""
        self.wake = threading.Event()
        self.ended = False

    def __iter__(self) -> Iterator[bytes]:
        yield b"retry: %d\n: hello\n\n" % RETRY_MS  # the headers and a first byte, at once
        while not self.ended:
            self.wake.wait(HEARTBEAT_SECONDS)
            chunk = self.channel.take(self)
            if chunk:
                yield chunk
            elif not self.ended:
                yield b": ping\n\n"

    def close(self) -> None:
        self.channel.leave(self)


class Channel:
    """One followed feed in this process: its reader and its streams, by view."""

    def __init__(self, hub: Hub, feed):
        self.hub, self.feed = hub, feed
        self.lock = threading.Lock()
        self.streams: dict[Hashable, set[Stream]] = {}
        self.versions: dict[Hashable, tuple[str, ...]] = {}  # view -> current versions
        self.data: dict[Hashable, dict[str, bytes]] = {}  # view -> region -> data lines
        self.poked = threading.Event()
        self.read_after: float | None = None  # a sibling's change: read what was stored since
        self.reader: threading.Thread | None = None

    # -- streams ----------------------------------------------------------------------

    def join(self, view: Hashable, last_id: str | None) -> Stream:
        """A new stream of `view`: first the regions its page lacks, then a `hello` event."""
        with self.lock:
            if view not in self.versions and not self._refresh(view, self.feed.read()):
                raise LookupError(f"{self.feed.key} is gone")
            holds = split_ids(last_id, len(self.feed.regions))
            stream = Stream(self, view, holds)
            stream.pending = self._catch_up(view, holds)
            stream.holds = self.versions[view]
            stream.pending += event_bytes("hello", stream.holds, b"data: \n")
            stream.wake.set()
            self.streams.setdefault(view, set()).add(stream)
            if self.reader is None:
                self.reader = threading.Thread(target=self._read_while_followed, daemon=True)
                self.reader.start()
        return stream

    def take(self, stream: Stream) -> bytes:
        with self.lock:
            chunk, stream.pending = stream.pending, b""
            stream.written = stream.holds
            stream.wake.clear()
            return chunk

    def leave(self, stream: Stream) -> None:
        with self.lock:
            stream.ended = True
            streams = self.streams.get(stream.view)
            if streams is not None and stream in streams:
                streams.discard(stream)
                self.hub.left()
                if not streams:
                    del self.streams[stream.view]
                    self.versions.pop(stream.view, None)
                    self.data.pop(stream.view, None)
        stream.wake.set()

    def end_all(self) -> None:
        with self.lock:
            streams = [s for views in self.streams.values() for s in views]
        for stream in streams:
            stream.ended = True
            stream.wake.set()

    # -- reading and publishing ---------------------------------------------------------

    def _read_while_followed(self) -> None:
        while True:
            self.poked.wait(READ_SECONDS)
            self.poked.clear()
            with self.lock:
                if not self.streams:
                    self.reader = None
                    self.hub.forget(self)
                    return
                views = list(self.streams)
                since, self.read_after = self.read_after, None
            try:
                state = self.feed.read(since)
                with self.lock:
                    for view in views:
                        if view in self.streams:
                            self._publish(view, state)
            except Exception:  # a failed read or render: the next read tries again
                log.exception("reading %s for its streams failed", self.feed.key)

    def _publish(self, view: Hashable, state) -> None:
        """The regions of `view` that moved, rendered once, queued for each of its streams."""
        before = self.versions[view]
        if not self._refresh(view, state):
            return
        shared = self._catch_up(view, before)
        for stream in self.streams[view]:
            # A stream that took everything so far gets the shared bytes; one that
            # lags gets, instead of all it has not taken, the regions it still lacks.
            if stream.pending:
                stream.pending = self._catch_up(view, stream.written)
            else:
                stream.pending = shared
            stream.holds = self.versions[view]
            stream.wake.set()

    def _refresh(self, view: Hashable, state) -> bool:
        """Bring `view`'s versions and data up to `state`; True if a region moved."""
        if state is None:
            return False  # gone (deleted): its pages say so when they next load
        with self.feed.context(view):
            versions = self.feed.versions(state, view)
            old = self.versions.get(view)
            if versions == old:
                return False
            moved = [name for i, name in enumerate(self.feed.regions)
                     if old is None or old[i] != versions[i]]  # fmt: skip
            shown = [name for i, name in enumerate(self.feed.regions)
                     if name in moved and versions[i] != ABSENT]  # fmt: skip
            rendered = self.feed.render(state, view, shown) if shown else {}
        data = dict(self.data.get(view, {}))
        for name in moved:
            if name in rendered:
                data[name] = data_lines(rendered[name])
            else:
                data.pop(name, None)
        self.versions[view], self.data[view] = versions, data
        return True

    def _catch_up(self, view: Hashable, holds: tuple[str, ...] | None) -> bytes:
        """The events that bring a page holding `holds` (None: nothing known) to `view`'s
        current versions.

        The first region is the whole (it holds the others but the feed's `outside`):
        when it moved, it, then each outside region that moved.
        """
        now, data, regions = self.versions[view], self.data[view], self.feed.regions
        outside = getattr(self.feed, "outside", ())
        chunk, held = b"", list(holds) if holds is not None else [UNKNOWN] * len(now)
        if held[0] != now[0]:
            held = [v if name in outside else now[i] for i, (name, v) in
                    enumerate(zip(regions, held, strict=True))]  # fmt: skip
            chunk = event_bytes(regions[0], tuple(held), data[regions[0]])
        for i, name in enumerate(regions[1:], start=1):
            if held[i] != now[i] and name in data:
                held[i] = now[i]
                chunk += event_bytes(name, tuple(held), data[name])
        return chunk


class Hub:
    """This process's channels, the stream count and its cap."""

    def __init__(self, max_streams: int):
        self.max_streams = max_streams
        self.lock = threading.Lock()
        self.channels: dict[Hashable, Channel] = {}
        self.open = 0
        self.closing = False
        self.siblings = Siblings.from_environment(self.heard)

    def subscribe(self, feed, view: Hashable, last_id: str | None) -> Stream | None:
        """A stream of `feed` as `view` shows it, or None: over the cap, or stopping."""
        with self.lock:
            if self.closing or self.open >= self.max_streams:
                return None
            self.open += 1
            channel = self.channels.get(feed.key)
            if channel is None:
                channel = self.channels[feed.key] = Channel(self, feed)
        try:
            stream = channel.join(view, last_id)
        except BaseException:
            self.left()
            raise
        if self.siblings is not None:
            self.siblings.listen()  # this process has streams: its siblings' changes matter
        return stream

    def left(self) -> None:
        with self.lock:
            self.open -= 1

    def forget(self, channel: Channel) -> None:
        with self.lock:
            if self.channels.get(channel.feed.key) is channel:
                del self.channels[channel.feed.key]

    def poke(self, keys: list[Hashable], since: float | None = None) -> None:
        """These feeds changed: read each followed here now, not at its next turn; with
        `since` (a time.monotonic() moment), a read that starts then or later (a change
        made elsewhere: a copy read a moment before would not hold it)."""
        for key in keys:
            channel = self.channels.get(key)
            if channel is None:
                continue
            with channel.lock:
                if since is not None:
                    channel.read_after = max(since, channel.read_after or since)
            channel.poked.set()

    def heard(self, keys: list[Hashable]) -> None:
        """A sibling made a change: read it from the store, not from a copy read before."""
        self.poke(keys, since=time.monotonic())

    def changed(self, keys: list[tuple[str, ...]]) -> None:
        """A change made through this process: its streams and its siblings' hear of it now."""
        self.poke(keys)
        if self.siblings is not None:
            self.siblings.tell(keys)

    def close(self) -> None:
        """End every stream (the process is stopping): browsers reconnect elsewhere."""
        with self.lock:
            self.closing = True
            channels = list(self.channels.values())
        for channel in channels:
            channel.end_all()
        if self.siblings is not None:
            self.siblings.close()


def hub(app: Flask | None = None) -> Hub:
    """The app's hub (webapp/push/views.py makes it; the gevent worker closes it)."""
    return (app or current_app).extensions["push"]


def poke_event(event_id: str, app: Flask | None = None) -> None:
    """An event changed through this process: its streams, and its siblings', hear of it now."""
    hub(app).changed([("event", event_id), ("presenter", event_id)])
