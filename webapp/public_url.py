"""What URL phones use to reach this app: an event's join URL and QR code, share links.

In the web app (`join_target`, `public_url_for`), in this order:
- PUBLIC_URL (core/settings.py), when set: that origin, whatever address the
  presenter's browser used (`make run` sets it, below).
- Else the address the request came to, as `url_for` builds it (right behind a
  proxy that passes the public Host).
A URL on a loopback address (127.0.0.1, localhost, ::1) is one no phone can
open: `JoinTarget.reachable` says so, for the page to warn the presenter.

For `make run` (local/launcher.py), from where gunicorn listens (`bind_advice`):
- 127.0.0.1 (its default): a warning that phones cannot reach it, and how to
  fix it (HOST=0.0.0.0).
- every address (0.0.0.0, ::): this machine's address on its network
  (`lan_address`), which the launcher passes on as PUBLIC_URL; a warning if
  none is found.
- PUBLIC_URL set: it wins.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from flask import current_app, url_for

ALL_ADDRESSES = ("0.0.0.0", "::", "")
# Connecting a UDP socket sends nothing: it only picks the address this machine
# would send from, the one its network knows it by. TEST-NET-1 (RFC 5737) is
# routed like any outside address and never answers.
PROBE = ("192.0.2.1", 9)
FIX = "HOST=0.0.0.0 make run"


@dataclass(frozen=True)
class JoinTarget:
    """Where phones are sent, and whether a phone can open it at all."""

    url: str
    reachable: bool


def is_loopback(host: str | None) -> bool:
    """A host only this machine can reach: localhost, 127.x, ::1 (or the unspecified 0.0.0.0)."""
    if not host:
        return True
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False  # a name: the network's to resolve
    return address.is_loopback or address.is_unspecified


def target(url: str) -> JoinTarget:
    return JoinTarget(url, not is_loopback(urlsplit(url).hostname))


def public_url_for(endpoint: str, **values) -> str:
    """`url_for(endpoint, _external=True)`, on PUBLIC_URL's origin when it is set."""
    origin = current_app.config["SETTINGS"].public_url
    if origin:
        return origin + url_for(endpoint, **values)
    return url_for(endpoint, _external=True, **values)


def init_app(app) -> None:
    """Templates build share and embed links with `public_url_for` too."""
    app.jinja_env.globals["public_url_for"] = public_url_for


def join_target(event: dict) -> JoinTarget:
    """The event's join URL (its QR code's too), and whether phones can reach it."""
    return target(public_url_for("events_pages.audience", code=event["code"]))


# -- where `make run` listens -----------------------------------------------------------


def lan_address(probe: Callable[[], str] | None = None) -> str | None:
    """This machine's IPv4 address on its network, or None when none is found.

    The address a UDP socket would send from to the outside; failing that
    (no route), the address the host name resolves to; never a loopback one.
    """
    for find in (probe or _probe, _by_host_name):
        try:
            found = find()
        except OSError:
            continue
        if not is_loopback(found):
            return found
    return None


def _probe() -> str:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(PROBE)
        return sock.getsockname()[0]


def _by_host_name() -> str:
    return socket.gethostbyname(socket.gethostname())


@dataclass(frozen=True)
class Advice:
    """What `make run` says at start about the join URL, and the origin phones use."""

    origin: str
    reachable: bool
    lines: list[str]


def _origin(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def bind_advice(
    host: str, port: int, public_url: str | None, lan: Callable[[], str | None] = lan_address
) -> Advice:
    """The origin phones use when gunicorn listens on `host:port`, and what to say about it."""
    if public_url:
        origin = public_url.rstrip("/")
        return Advice(origin, not is_loopback(urlsplit(origin).hostname),
                      [f"  phones:   join at {origin}/<CODE> (PUBLIC_URL)"])  # fmt: skip
    if host in ALL_ADDRESSES:
        address = lan()
        if address:
            origin = _origin(address, port)
            return Advice(origin, True, [f"  phones:   join at {origin}/<CODE> (this machine's "
                                         "network address)"])  # fmt: skip
        return Advice(_origin("127.0.0.1", port), False, [
            "!! This machine's network address was not found: join URLs and QR codes say",
            "!! 127.0.0.1, which no phone can open. Set PUBLIC_URL to the address phones",
            f"!! reach this machine at (e.g. PUBLIC_URL=http://192.168.1.20:{port}).",
        ])  # fmt: skip
    if is_loopback(host):
        return Advice(_origin(host, port), False, [
            f"!! Phones cannot reach this app: it listens on {host} (this machine only),",
            "!! so an event's join URL and QR code point nowhere for them.",
            f"!! To run a talk, start it with {FIX} (or set PUBLIC_URL).",
        ])  # fmt: skip
    origin = _origin(host, port)
    return Advice(origin, True, [f"  phones:   join at {origin}/<CODE>"])
