"""webapp/public_url.py: the URL phones are sent to, and what `make run` says about it.

Where gunicorn listens decides what `make run` says (a loopback bind: a warning
and a URL no phone can open; every address: this machine's network address,
found with a fallback; PUBLIC_URL wins over both), and in the app PUBLIC_URL
(else the request's address) makes the join URL.
"""

from __future__ import annotations

import socket

import pytest

from webapp import create_app
from webapp.public_url import JoinTarget, bind_advice, is_loopback, join_target, lan_address

LAN = "192.168.1.20"


def no_lan():
    raise AssertionError("PUBLIC_URL is set: no address is looked for")


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_a_loopback_bind_warns_that_phones_cannot_reach_it_and_how_to_fix_it(host):
    advice = bind_advice(host, 8000, None, lan=no_lan)
    assert not advice.reachable
    said = "\n".join(advice.lines)
    assert "Phones cannot reach this app" in said and "HOST=0.0.0.0 make run" in said
    assert all(line.startswith("!!") for line in advice.lines)  # stands out in the start log


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_every_address_sends_phones_to_this_machines_network_address(host):
    advice = bind_advice(host, 8000, None, lan=lambda: LAN)
    assert (advice.origin, advice.reachable) == (f"http://{LAN}:8000", True)
    assert f"http://{LAN}:8000/<CODE>" in advice.lines[0]


def test_every_address_without_a_network_address_found_says_to_set_public_url():
    advice = bind_advice("0.0.0.0", 8000, None, lan=lambda: None)
    assert not advice.reachable and "PUBLIC_URL" in "\n".join(advice.lines)


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0"])
def test_public_url_wins(host):
    advice = bind_advice(host, 8000, "https://vote.example.org", lan=no_lan)
    assert (advice.origin, advice.reachable) == ("https://vote.example.org", True)


def test_a_bind_to_one_network_address_is_that_address():
    advice = bind_advice("fd00::7", 8000, None, lan=no_lan)
    assert (advice.origin, advice.reachable) == ("http://[fd00::7]:8000", True)


def test_the_network_address_falls_back_to_the_host_name_then_to_none(monkeypatch):
    def no_route():
        raise OSError("Network is unreachable")

    assert lan_address(probe=lambda: "10.1.2.3") == "10.1.2.3"
    monkeypatch.setattr(socket, "gethostbyname", lambda name: "172.16.0.9")
    assert lan_address(probe=no_route) == "172.16.0.9"
    # Debian names the host 127.0.1.1: a loopback address is no answer.
    monkeypatch.setattr(socket, "gethostbyname", lambda name: "127.0.1.1")
    assert lan_address(probe=lambda: "127.0.0.1") is None
    assert lan_address(probe=no_route) is None


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.1.1", True), ("localhost", True), ("[::1]", True),
     ("0.0.0.0", True), ("192.168.1.20", False), ("vote.example.org", False),
     ("[fd00::7]", False)],
)  # fmt: skip
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


@pytest.mark.parametrize(
    ("public_url", "request_base", "expected"),
    [
        (None, "http://127.0.0.1:8000/", JoinTarget("http://127.0.0.1:8000/ABC234", False)),
        (None, "http://localhost:8000/", JoinTarget("http://localhost:8000/ABC234", False)),
        (None, f"http://{LAN}:8000/", JoinTarget(f"http://{LAN}:8000/ABC234", True)),
        ("https://vote.example.org", "http://127.0.0.1:8000/",
         JoinTarget("https://vote.example.org/ABC234", True)),
    ],
)  # fmt: skip
def test_the_join_url_is_on_public_url_else_the_requests_address(
    public_url, request_base, expected
):
    app = create_app({"TESTING": True, "public_url": public_url})
    with app.test_request_context("/admin/events", base_url=request_base):
        assert join_target({"code": "ABC234"}) == expected
