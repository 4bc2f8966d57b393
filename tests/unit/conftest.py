"""Unit tests run in process only: no server, no moto server, no network.

A unit test that asks for a fixture starting or reaching a server (tests/conftest.py's
moto_endpoint, aws_env, app, client, voting, procs, http) fails at setup, and any
attempt to open a network connection fails the test. moto's in-process `mock_aws`
is the one stand-in for AWS allowed here (tests/unit/test_moto_patches.py).
"""

from __future__ import annotations

import socket

import pytest

SERVER_FIXTURES = {"moto_endpoint", "aws_env", "app", "client", "voting", "procs", "http"}


@pytest.fixture(autouse=True)
def in_process_only(request, monkeypatch):
    asked = sorted(SERVER_FIXTURES & set(request.fixturenames))
    if asked:
        pytest.fail(f"a unit test starts no server; move it to tests/integration: {asked}")
    connect = socket.socket.connect

    def refuse(sock, address):
        if sock.family == socket.AF_UNIX:
            return connect(sock, address)
        raise AssertionError(f"a unit test opens no network connection (to {address!r})")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
