"""The embedded local AWS endpoint: moto's server with contained fixes applied.

`make run`, the tests and the benchmarks all start the local endpoint through
this module (`local.launcher.start_moto` runs `python -m local.moto_server`),
so they all get the same moto. On real AWS none of this is loaded.

Why: moto 5.2.5 does work proportional to everything it stores on paths we
use for every vote, so the embedded mode slowed to a crawl as votes piled up
(docs/architecture.md has the measurements). The fixes live beside this
module, one service each:

- local/moto_dynamodb.py: an undo journal instead of whole-table copies in
  TransactWriteItems (fix 1), one lock around every DynamoDB request (fix 2),
  quick key comparisons (fix 5), Scan and Query items written as JSON (fix 6).
- local/moto_sqs.py: no rescans of the queue per send, receive or delete (fix 3).

This module holds the one fix that is the server's own (4): it finds each
request's service under one lock, listing moto's package directory (about
200 isdir calls) every time. Fix: remember the backend per host. It also
starts werkzeug's access log switched off (`--access-log` turns it on).

The fixes target moto 5.2.5 exactly (the version pyproject.toml pins): on
any other version `apply()` refuses, so an upgrade is a conscious review, not
a silent change of behaviour. `python -m local.moto_server --stock` runs moto
unchanged, which the benchmarks use to measure the difference.
"""

from __future__ import annotations

import argparse
import logging
import sys
import threading
from typing import Any

from local import moto_dynamodb, moto_sqs

MOTO_VERSION = "5.2.5"

_applied = False
_apply_lock = threading.Lock()

# moto's own methods, saved as the routing patch replaces them.
_stock: dict[str, Any] = {}


def apply() -> None:
    """Install the fixes into moto's classes (idempotent)."""
    global _applied
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise RuntimeError(
            f"local.moto_server fixes moto {MOTO_VERSION}, found {moto.__version__}: review "
            "local/moto_*.py against the new moto before using it"
        )
    with _apply_lock:
        if _applied:
            return
        # Each patch replaces its own methods of its own classes: none reads
        # another's, so the order does not matter.
        moto_dynamodb.patch()
        moto_sqs.patch()
        _patch_routing()
        _applied = True


# -- Routing --------------------------------------------------------------------


def _patch_routing() -> None:
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication

    stock_backend_for_host = DomainDispatcherApplication.get_backend_for_host
    _stock["get_backend_for_host"] = stock_backend_for_host

    def get_backend_for_host(self, host):
        # Only called under the dispatcher's own lock, so the dict needs no other.
        known = self.__dict__.setdefault("_local_aws_backends", {})
        if host not in known:
            known[host] = stock_backend_for_host(self, host)
        return known[host]

    DomainDispatcherApplication.get_backend_for_host = get_backend_for_host


# -- entry point -------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=(
            "The embedded local AWS endpoint: moto's server (same options as "
            "`python -m moto.server`) with local.moto_server's fixes applied."
        ),
        add_help=False,
    )
    parser.add_argument(
        "--stock", action="store_true", help="run moto unchanged (for before/after benchmarks)"
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (werkzeug's access log; off by default: it costs moto about "
        "a tenth of its CPU and floods make run's console)",
    )
    args, rest = parser.parse_known_args(argv if argv is not None else sys.argv[1:])
    if not args.stock:
        apply()
    if not args.access_log:
        # werkzeug keeps a level set before its first request; errors still show.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from moto.server import main as moto_main

    # moto falls back to sys.argv when given no arguments: keep --stock out of it.
    sys.argv = [sys.argv[0], *rest]
    moto_main(rest)


if __name__ == "__main__":
    main()
