"""A simulated phone for bench/room.py: what a browser does with the audience page.

A `Phone` is one aiohttp client (its own cookie jar and its own connections,
never a pool shared with other phones) that opens the event's short URL,
then follows the stage as the page asks: by polling the stage's `hx-get`
every second with its ETag (htmx `every 1s`; a poll still running when the
next is due is followed at once by one more, as htmx queues the last), or,
when the page's stage or an ancestor has `sse-connect` (htmx's SSE
extension), by reading that event stream, reconnecting with Last-Event-ID
after a drop and polling instead when the stream answers 503. Every stage
it is shown is checked for the question the presenter moved to: the first
time, the `Room` (what all phones share: the move, every count) notes the
latency and the phone's tap is set for a moment of the voting window; it then
votes through the form of the stage it shows at that moment (refused as
"no choices" when that stage's ballot is still closed). What a page says
is read by bench/audience_page.py; a pushed stage, the same bytes for every
phone, is parsed once (`pushed_stage`): a real phone parses it on its own
CPU, while 3,000 parses one after another here (about 0.15 ms each) would add
up to 0.4 s of this simulator's own to the follow latencies. Also the
projector (a browser polling the results fragment) and two watches:
gunicorn's accept queue, and this event loop's own lag (its latencies are
the simulator's too once it lags).
"""

from __future__ import annotations

import asyncio
import codecs
import functools
import random
import time
from collections import Counter

import aiohttp

from bench.audience_page import (
    SSEParser,
    Stage,
    error_message,
    failure,
    has_stage,
    local_url,
    parse_stage,
    results_total,
)

SSE_RETRY_SECONDS = 3.0  # EventSource's usual reconnection delay when the server sets none

# The stages pushed to every phone: a few distinct ones per room (Stage is never changed).
pushed_stage = functools.lru_cache(maxsize=64)(parse_stage)


class Room:
    """What the phones share: the event, the presenter's move, and every count."""

    def __init__(self, base: str, code: str, args):
        self.base, self.code, self.seed = base, code, args.seed
        self.mode, self.window = args.mode, args.window
        self.request_timeout = aiohttp.ClientTimeout(total=args.request_timeout)
        self.stream_idle = args.request_timeout + 30  # no byte for that long: a dropped stream
        self.done = asyncio.Event()
        self.target: str | None = None  # question 2's topic, once the presenter moves
        self.move_sent, self.following = 0.0, True
        self.joins, self.polls = Counter(), Counter()  # status (or failure) -> count
        self.streams, self.votes, self.refusals = Counter(), Counter(), Counter()
        self.poll_times: list[tuple[float, float]] = []  # (sent, seconds) of answered polls
        self.follow: list[float] = []
        self.last_accepted = 0.0
        self.retried = 0  # votes sent a second time after a connection closed under them
        self.tasks: set[asyncio.Task] = set()  # every phone's, and every vote's
        self.vote_tasks: list[asyncio.Task] = []
        self.lags: list[tuple[float, float]] = []  # (when, seconds late) of this loop's wakes
        self.queue_max = 0  # the most connections seen waiting for gunicorn to accept them

    def polled(self, status, started: float) -> None:
        self.polls[status] += 1
        if isinstance(status, int):
            self.poll_times.append((started, time.monotonic() - started))

    def saw(self, vote) -> None:
        """A phone shows the new question: its follow latency, and its vote (a coroutine)."""
        if not self.following:
            vote.close()  # seen after the follow timeout: too late to count
            return
        self.follow.append(time.monotonic() - self.move_sent)
        self.vote_tasks.append(asyncio.create_task(vote))
        self.tasks.add(self.vote_tasks[-1])

    def voted(self, status, why: str | None = None) -> None:
        self.votes[status] += 1
        if why:
            self.refusals[f"{status} {why}"] += 1
        if status == 202:
            self.last_accepted = time.monotonic()


class Phone:
    def __init__(self, room: Room, number: int):
        self.room = room
        self.rng = random.Random(room.seed * 100_003 + number)
        self.http: aiohttp.ClientSession | None = None
        self.page_url = local_url(room.base, f"/{room.code}")
        self.voted_on: set[str] = set()
        self.ballot: Stage | None = None  # the question's stage with its form, as last shown
        self.last_id: str | None = None  # the stream's Last-Event-ID, kept across reconnections
        self.retry = SSE_RETRY_SECONDS
        self.headers: dict = {}

    async def run(self) -> None:
        # Its own jar (unsafe: cookies for an IP address) and connector: one client.
        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True),
            connector=aiohttp.TCPConnector(limit=0, force_close=False, keepalive_timeout=60),
        )
        room = self.room
        try:
            async with self.http.get(self.page_url, timeout=room.request_timeout) as answer:
                page = await answer.text() if answer.status == 200 else ""
                room.joins[answer.status] += 1
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            room.joins[failure(exc)] += 1
            return
        if not page:
            return
        stage = parse_stage(page)
        self.headers = stage.headers  # the page's inherited hx-headers go with every request
        self.seen(stage)
        poll_url, etag, sse_url = stage.poll_url or f"/{room.code}/stage", stage.etag, None
        if room.mode == "auto":
            sse_url = stage.sse_url
        while not room.done.is_set():
            if sse_url:
                if await self.stream(local_url(self.page_url, sse_url)) == "poll":
                    sse_url = None
            else:
                sse_url = await self.poll(local_url(self.page_url, poll_url), etag)

    def seen(self, stage: Stage) -> None:
        room = self.room
        if not room.target or stage.topic_id != room.target:
            return
        if stage.action and stage.action.endswith(f"/vote/{room.target}"):
            self.ballot = stage  # what a tap finds: the stage as the phone last showed it
            if room.target not in self.voted_on:
                self.voted_on.add(room.target)
                room.saw(self.vote())

    async def poll(self, url: str, etag: str | None) -> str | None:
        """Poll until done (None) or a new stage asks for a stream (its URL)."""
        room, loop = self.room, asyncio.get_running_loop()
        while not room.done.is_set():
            due = loop.time() + 1.0
            headers = {**self.headers, "HX-Request": "true", "HX-Current-URL": self.page_url}
            if etag:
                headers["If-None-Match"] = etag
            started = time.monotonic()
            try:
                async with self.http.get(url, headers=headers, timeout=room.request_timeout) as r:
                    body = await r.text() if r.status == 200 else ""
                    status = r.status
                    etag = r.headers.get("ETag", etag) if status == 200 else etag
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                room.polled(failure(exc), started)
            else:
                room.polled(status, started)
                if status == 200:
                    stage = parse_stage(body)
                    self.seen(stage)
                    url = local_url(url, stage.poll_url) if stage.poll_url else url
                    if room.mode == "auto" and stage.sse_url:
                        return stage.sse_url
            await asyncio.sleep(max(0.0, due - loop.time()))
        return None

    async def stream(self, url: str) -> str | None:
        """Read the event stream once; "poll" when it answers 503 (the server says: poll)."""
        room = self.room
        headers = {**self.headers, "Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.last_id:
            headers["Last-Event-ID"] = self.last_id
        parser = SSEParser()
        parser.last_id = self.last_id
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=room.request_timeout.total,
                                        sock_read=room.stream_idle)  # fmt: skip
        try:
            async with self.http.get(url, headers=headers, timeout=timeout) as answer:
                room.streams[answer.status] += 1
                if answer.status == 503:
                    return "poll"
                if answer.status == 200:
                    decoder = codecs.getincrementaldecoder("utf-8")("replace")
                    async for chunk in answer.content.iter_any():
                        for event in parser.feed(decoder.decode(chunk)):
                            if has_stage(event.data):
                                self.seen(pushed_stage(event.data))
                        self.last_id = parser.last_id
                        if room.done.is_set():
                            return None
                    room.streams["dropped"] += 1
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            room.streams[failure(exc)] += 1
        self.retry = parser.retry or self.retry
        await asyncio.sleep(self.retry)
        return None

    async def vote(self) -> None:
        """Tap a choice at a random moment of the voting window, through the form of the
        stage the phone shows then (a later push may have replaced the first it showed)."""
        room = self.room
        await asyncio.sleep(self.rng.uniform(0, room.window))
        stage = self.ballot
        if not stage.choices:
            room.voted("no choices")
            return
        form = {**stage.fields, "choice_id": self.rng.choice(stage.choices)}
        headers = {**self.headers, "HX-Request": "true", "HX-Current-URL": self.page_url,
                   "HX-Target": "vote", "Origin": room.base}  # fmt: skip
        url = local_url(self.page_url, stage.action)
        for attempt in (1, 2):
            try:
                timeout = room.request_timeout
                async with self.http.post(url, data=form, headers=headers, timeout=timeout) as r:
                    body = await r.text()
                    room.voted(r.status, error_message(body) if 400 <= r.status < 500 else None)
                    return
            except aiohttp.ClientConnectorError as exc:
                room.voted(failure(exc))
                return
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                # Closed under the request with no answer: a browser sends it again
                # once (Chromium and Firefox do so on a reused keep-alive connection,
                # the race with gunicorn closing it); aiohttp retries only GETs.
                if attempt == 1:
                    room.retried += 1
                    continue
                room.voted(failure(exc))
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                room.voted(failure(exc))
                return

    async def close(self) -> None:
        if self.http is not None:
            await self.http.close()


# -- the projector, and what watches the room ---------------------------------------


async def projector(room: Room, topic_id: str, seen: dict) -> None:
    """Poll the results fragment as the projector does; note when each total first shows."""
    url, etag = local_url(room.base, f"/t/{topic_id}/results?view=present"), None
    async with aiohttp.ClientSession() as screen:  # a browser of its own, not signed in
        while not room.done.is_set():
            due = time.monotonic() + 0.5
            headers = {"HX-Request": "true", **({"If-None-Match": etag} if etag else {})}
            try:
                async with screen.get(url, headers=headers, timeout=room.request_timeout) as r:
                    if r.status == 200:
                        etag, total = r.headers.get("ETag"), results_total(await r.text())
                        if total is not None:
                            seen.setdefault(total, time.time())
            except (aiohttp.ClientError, TimeoutError, OSError):
                pass
            await asyncio.sleep(max(0.0, due - time.monotonic()))


async def watch_queue(room: Room) -> None:
    """The listening socket's queue (ss's Recv-Q: connections gunicorn has not accepted),
    every second, from ss in its own process: reading /proc/net/tcp here would stall
    this loop once tens of thousands of sockets are listed."""
    port = room.base.rsplit(":", 1)[1]
    while True:
        ss = await asyncio.create_subprocess_exec(
            "ss", "-ltnH", f"sport = :{port}", stdout=asyncio.subprocess.PIPE
        )
        fields = (await ss.communicate())[0].split()
        if len(fields) > 1 and fields[1].isdigit():
            room.queue_max = max(room.queue_max, int(fields[1]))
        await asyncio.sleep(1)


async def watch_lag(room: Room) -> None:
    """How late this loop wakes from a 0.1 s sleep: what the simulator adds to its latencies."""
    while True:
        due = time.monotonic() + 0.1
        await asyncio.sleep(0.1)
        room.lags.append((due, time.monotonic() - due))
