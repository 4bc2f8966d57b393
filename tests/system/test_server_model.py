"""The web server model with real gunicorn processes (gevent): event streams across
processes, resume, the cap, SIGTERM with streams open, and clients that hold connections.

Votes grouping and every 202 queued (test_intake.py) and a 503 with nothing queued
(test_faults.py test 7) run on this same server model.
"""

from __future__ import annotations

import selectors
import signal
import socket
import threading
import time
from urllib.parse import urlsplit

import requests

from tests.helpers.api import ADMIN, make_event, make_topic, move
from tests.helpers.queued import queued_bodies
from tests.helpers.waiting import wait_until


class RawStream:
    """An event stream read off a plain socket (so a test can hold many, and see how each ends)."""

    def __init__(self, base: str, path: str, last_id: str | None = None):
        url = urlsplit(base)
        self.sock = socket.create_connection((url.hostname, url.port), timeout=30)
        extra = f"Last-Event-ID: {last_id}\r\n" if last_id else ""
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {url.netloc}\r\n"
                          f"Accept: text/event-stream\r\n{extra}\r\n".encode())  # fmt: skip
        self.sock.setblocking(False)
        self.text = ""
        self.ended = False

    def take(self) -> None:
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if data:
            self.text += data.decode(errors="replace")
        else:
            self.ended = True

    def last_id(self) -> str:
        return [line for line in self.text.split("\n") if line.startswith("id: ")][-1][4:].strip()

    def close(self) -> None:
        self.sock.close()


def read_until(streams: list[RawStream], done, timeout: float = 60.0) -> None:
    """Read every stream until `done(stream)` holds for each (or they end), within `timeout`."""
    selector = selectors.DefaultSelector()
    for stream in streams:
        selector.register(stream.sock, selectors.EVENT_READ, stream)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if all(done(s) or s.ended for s in streams):
                return
            for key, _ in selector.select(timeout=0.5):
                key.data.take()
    finally:
        selector.close()


def closed_by_server(sock: socket.socket) -> bool:
    """Does the server close this connection without an answer (EOF or reset)?"""
    try:
        return sock.recv(1024) == b""
    except ConnectionResetError:
        return True


def event_with_topics(base: str) -> dict:
    with requests.Session() as http:
        topics = [make_topic(http, base=base, title=f"Question {n}", active=False)
                  for n in (1, 2)]  # fmt: skip
        return make_event(http, topics, base=base)


def test_a_change_reaches_every_stream_of_two_processes_and_a_resume_misses_nothing(procs):
    one, two = procs.web(workers=1), procs.web(workers=1)
    event = event_with_topics(one)
    path = f"/{event['code']}/stream"
    streams = [RawStream(base, path) for base in (one, two) for _ in range(60)]
    read_until(streams, lambda s: "event: hello" in s.text)
    assert all("event: hello" in s.text for s in streams)
    with requests.Session() as http:
        move(http, event, base=one)
    first = f'data-topic-id="{event["topics"][0]["id"]}"'
    read_until(streams, lambda s: first in s.text)
    missed = [i for i, s in enumerate(streams) if first not in s.text]
    assert not missed, f"{len(missed)} of {len(streams)} streams never got the new question"

    # A phone of process two drops; the presenter reveals through process one meanwhile.
    dropped = streams[-1]
    held = dropped.last_id()
    dropped.close()
    shown = requests.post(f"{one}/events/{event['id']}/results", json={"shown": True},
                          headers=ADMIN, timeout=30)  # fmt: skip
    assert shown.status_code == 200
    resumed = RawStream(two, f"/{event['code']}/stream", last_id=held)
    # The reveal, at once if process two has read it already, else with its next read;
    # never the whole stage again (the phone holds the question).
    read_until([resumed], lambda s: "event: results" in s.text)
    assert "event: results" in resumed.text and "event: question" not in resumed.text
    for stream in [*streams[:-1], resumed]:
        stream.close()


def test_streams_past_the_cap_get_a_503_and_the_rest_keep_theirs(procs):
    base = procs.web(workers=1, MAX_STREAMS_PER_PROCESS="3")
    topic = make_topic(requests.Session(), base=base)
    streams = [RawStream(base, f"/t/{topic['id']}/stream") for _ in range(3)]
    read_until(streams, lambda s: "event: hello" in s.text)
    refused = requests.get(f"{base}/t/{topic['id']}/stream", timeout=30)
    assert refused.status_code == 503 and refused.headers["Retry-After"] == "5"
    assert all("event: hello" in s.text and not s.ended for s in streams)
    for stream in streams:
        stream.close()


def test_sigterm_ends_open_streams_and_loses_no_accepted_vote(procs, voting):
    base = procs.web(workers=1)
    web = procs.started[-1]
    event = event_with_topics(base)
    with requests.Session() as http:
        move(http, event, base=base)
    topic = event["topics"][0]
    streams = [RawStream(base, f"/{event['code']}/stream") for _ in range(30)]
    read_until(streams, lambda s: "event: hello" in s.text)

    answers, stop = [], threading.Event()

    def voter(n: int) -> None:
        with requests.Session() as http:
            while not stop.is_set():
                body = {"topic_id": topic["id"], "choice_id": topic["choices"][n % 2]["id"]}
                try:
                    answer = http.post(f"{base}/votes", json=body, timeout=60)
                except requests.ConnectionError:
                    return
                answers.append((answer.status_code, answer.json().get("id"), time.monotonic()))

    threads = [threading.Thread(target=voter, args=(n,)) for n in range(12)]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(answers) >= 60, timeout=60, message="the votes never got going")
    signalled = time.monotonic()
    web.send_signal(signal.SIGTERM)
    read_until(streams, lambda s: s.text.endswith("0\r\n\r\n"))  # each stream's last chunk
    # The stopping process takes no next request on a stream's connection (a browser's
    # reconnection would be refused there): it closes it, unanswered.
    probe = streams[0]
    answered_before = probe.text.count("HTTP/1.1 ")
    try:
        probe.sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
    except OSError:
        pass  # closed already
    read_until(streams, lambda s: False, timeout=60)  # until each ends
    assert probe.text.count("HTTP/1.1 ") == answered_before
    stop.set()
    for thread in threads:
        thread.join(90)
    assert web.wait(60) == 0

    # Each stream was ended by the server, cleanly (the chunked body's last chunk),
    # not cut when the process went.
    assert all(s.ended and s.text.endswith("0\r\n\r\n") for s in streams)
    accepted = {vote_id for status, vote_id, _ in answers if status == 202}
    assert any(at > signalled for status, _, at in answers if status == 202), (
        "no vote answered after SIGTERM: the test proved nothing"
    )
    missing = accepted - {b["id"] for b in queued_bodies(voting)}
    assert not missing, f"{len(missing)} votes answered 202 are not in the queue"
    for stream in streams:
        stream.close()


def test_idle_and_slow_header_connections_starve_no_one(procs):
    base = procs.web(workers=1)
    url = urlsplit(base)
    topic = make_topic(requests.Session(), base=base)
    idle = [socket.create_connection((url.hostname, url.port), timeout=30) for _ in range(100)]
    slow = [socket.create_connection((url.hostname, url.port), timeout=30) for _ in range(100)]
    for sock in slow:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHo")
    stop = threading.Event()

    def trickle() -> None:  # one more header byte a second from each, for up to 20 s
        for _ in range(20):
            if stop.wait(1):
                return
            for sock in slow:
                try:
                    sock.sendall(b"s")
                except OSError:
                    pass

    trickling = threading.Thread(target=trickle)
    trickling.start()
    try:
        with requests.Session() as http:
            for n in range(30):
                assert http.get(f"{base}/healthz", timeout=30).status_code == 200
                assert http.get(f"{base}/t/{topic['id']}", timeout=30).status_code == 200
                body = {"topic_id": topic["id"], "choice_id": topic["choices"][n % 2]["id"]}
                assert http.post(f"{base}/votes", json=body, timeout=30).status_code == 202
        # The server closes both kinds itself (the header deadline).
        for sock in idle + slow:
            assert closed_by_server(sock), "a connection that sent no whole request was kept"
    finally:
        stop.set()
        trickling.join()
        for sock in idle + slow:
            sock.close()


def test_connections_past_the_per_address_cap_are_closed(procs):
    base = procs.web(workers=1, MAX_CONNECTIONS_PER_ADDRESS="5")
    url = urlsplit(base)
    held = [socket.create_connection((url.hostname, url.port), timeout=30) for _ in range(5)]
    time.sleep(0.5)  # the server has accepted them (a cap counts open connections)
    extra = socket.create_connection((url.hostname, url.port), timeout=30)
    extra.sendall(f"GET /healthz HTTP/1.1\r\nHost: {url.netloc}\r\n\r\n".encode())
    assert closed_by_server(extra)  # unanswered
    for sock in held:
        sock.close()
    extra.close()
    wait_until(lambda: requests.get(f"{base}/healthz", timeout=30).status_code == 200,
               timeout=30)  # fmt: skip
