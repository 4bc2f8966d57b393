"""webapp/push/siblings.py: a change made through one process reaches its siblings' streams
at once (two hubs over real Unix sockets), a dead sibling's socket is cleared, and what
is heard or trusted is checked."""

from __future__ import annotations

import socket
import time

import pytest

from tests.helpers.waiting import wait_until
from tests.unit.test_push_hub import Feed, events
from webapp.push import hub as push
from webapp.push.hub import Hub
from webapp.push.siblings import FOLDER_VARIABLE, Siblings, keys_in


@pytest.fixture
def folder(tmp_path, monkeypatch):
    # Reads only when poked: what reaches a stream was told, not read on the reader's turn.
    monkeypatch.setattr(push, "READ_SECONDS", 60.0)
    shared = tmp_path / "siblings"
    shared.mkdir(mode=0o700)
    monkeypatch.setenv(FOLDER_VARIABLE, str(shared))
    return shared


def test_a_change_made_through_one_process_reaches_a_siblings_streams_at_once(folder):
    here, sibling, feed = Hub(max_streams=10), Hub(max_streams=10), Feed()
    feed.key = ("event", "e1")  # keys are strings, as the app's feeds' are
    streams = [sibling.subscribe(feed, "view", None) for _ in range(3)]
    for stream in streams:
        stream.channel.take(stream)  # the page as it is now
        stream.wake.clear()
    assert len(list(folder.glob("*.sock"))) == 1  # the sibling with streams listens

    feed.state["part"] = "p2"
    told = time.monotonic()
    here.changed([feed.key, ("event", "another")])
    for stream in streams:
        assert stream.wake.wait(10), "the sibling's stream never heard of the change"
        assert [name for name, *_ in events(stream.channel.take(stream))] == ["part"]
    # Read from the store: a copy read a moment before the change would not hold it.
    assert feed.reads[-1] is not None and feed.reads[-1] >= told
    sibling.close()
    here.close()
    assert not list(folder.glob("*.sock"))  # a stopping process takes its socket away


def test_a_socket_no_one_listens_on_is_cleared_and_the_others_still_hear(folder):
    heard = []
    listening = Siblings(folder, heard.append)
    listening.listen()
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    dead.bind(str(folder / "999999-dead.sock"))
    dead.close()  # a process that died without taking its socket away

    Siblings(folder, heard.append).tell([("event", "e1")])
    assert not (folder / "999999-dead.sock").exists()
    wait_until(lambda: heard, timeout=10, interval=0.01, message="the listener heard nothing")
    listening.close()
    assert heard == [[("event", "e1")]]


def test_without_a_folder_or_with_one_others_may_write_to_there_are_no_siblings(
    tmp_path, monkeypatch
):
    monkeypatch.delenv(FOLDER_VARIABLE, raising=False)
    assert Siblings.from_environment(print) is None
    shared = tmp_path / "open"
    shared.mkdir()
    shared.chmod(0o777)
    monkeypatch.setenv(FOLDER_VARIABLE, str(shared))
    assert Siblings.from_environment(print) is None
    shared.chmod(0o700)
    assert Siblings.from_environment(print) is not None


@pytest.mark.parametrize(
    "datagram, keys",
    [
        (b'[["event", "e1"], ["presenter", "e1"]]', [("event", "e1"), ("presenter", "e1")]),
        (b"not json", []),
        (b'{"event": "e1"}', []),
        (b'[["event", 1], [], "event", ["presenter", "e2"]]', [("presenter", "e2")]),
        (b"\xff\xfe", []),
    ],
)
def test_a_datagram_names_feeds_or_nothing(datagram, keys):
    assert keys_in(datagram) == keys
