"""The embedded local AWS endpoint: moto's server with contained fixes applied.

`make run`, the tests and the benchmarks all start the local endpoint through
this module (`local.launcher.start_moto` runs `python -m local.moto_server`),
so they all get the same moto. On real AWS none of this is loaded.

Why: moto 5.2.5 does work proportional to everything it stores on paths we
use for every vote, so the embedded mode slowed to a crawl as votes piled up
(docs/architecture.md has the measurements). The fixes live beside this
module, one service each:

- local/moto_dynamodb.py: the undo journal (instead of whole-table copies in
  TransactWriteItems), the request lock (one around every DynamoDB request),
  quick key comparisons, answers written as JSON (Scan and Query items), and
  projections and sorts by value (without JSON round trips).
- local/moto_query.py: a Query handed only its candidates (the items it may
  answer with), found in sorted views of partitions and indexes that last
  until the next write, and light copies of what it returns.
- local/moto_sqs.py: SQS without rescans of the queue per send, receive or
  delete.

This module holds the fixes that are the server's own. Routing each host
once: moto finds each request's service under one lock, listing moto's
package directory (about 200 isdir calls) every time; we remember the
backend per host. Keep-alive connections: moto serves through werkzeug's
development server, which closes the connection after every response, so
every AWS call paid a new TCP connection and a new thread; we serve moto's
same WSGI app from gunicorn instead (already a dependency of the web app):
one process, since moto keeps its state in memory, many threads, and
keep-alive connections. `--dev-server` keeps werkzeug's. The access log is
off either way (`--access-log` turns it on).

The fixes target moto 5.2.5 exactly (the version pyproject.toml pins): on
any other version `apply()` refuses, so an upgrade is a conscious review, not
a silent change of behaviour. `python -m local.moto_server --stock` runs moto
unchanged (its own server included), which the benchmarks use to measure
the difference.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
from typing import Any

from local import moto_dynamodb, moto_query, moto_sqs

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
        moto_query.patch()
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


# -- Serving: keep-alive, threads -------------------------------------------------

# Worker long polls (ReceiveMessage, up to 20 s) each hold a thread for their
# whole wait, so the pool is large; a kept-alive idle connection holds none.
SERVER_THREADS = 64


def _moto_app():
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

    app = DomainDispatcherApplication(create_backend_app)
    app.debug = True  # as moto's own server sets it
    return app


def serve_keep_alive(host: str, port: int, access_log: bool) -> None:
    """moto's WSGI app under gunicorn (gthread): one process, many threads, keep-alive."""
    from gunicorn.app.base import BaseApplication

    options = {
        "bind": f"{host}:{port}",
        "workers": 1,  # moto's state lives in this one process
        "worker_class": "gthread",
        "threads": SERVER_THREADS,
        # botocore keeps its connections pooled between calls: keep them open
        # across a worker's 20 s long poll and the web app's idle seconds.
        "keepalive": 75,
        "timeout": 0,  # a long Scan of a big table is no hung worker
        "graceful_timeout": 1,  # nothing to finish: moto keeps no state on disk
        "accesslog": "-" if access_log else None,
        "loglevel": "warning",
        "control_socket_disable": True,
        "proc_name": "local-aws",
    }

    class KeepAliveServer(BaseApplication):
        def load_config(self):
            for key, value in options.items():
                self.cfg.set(key, value)

        def load(self):
            return _moto_app()

    os.environ.setdefault("MOTO_PORT", str(port))
    KeepAliveServer().run()


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
        "--dev-server",
        action="store_true",
        help="serve through werkzeug's development server, a new connection per request "
        "(moto's own; the default is gunicorn with keep-alive)",
    )
    parser.add_argument("-H", "--host", default="127.0.0.1", help="address to bind")
    parser.add_argument("-p", "--port", type=int, default=5000, help="port to bind")
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (the server's access log; off by default: it costs moto about "
        "a tenth of its CPU and floods make run's console)",
    )
    args, rest = parser.parse_known_args(argv if argv is not None else sys.argv[1:])
    if not args.stock:
        apply()
    if not (args.stock or args.dev_server or rest):
        serve_keep_alive(args.host, args.port, args.access_log)
        return
    rest = ["-H", args.host, "-p", str(args.port), *rest]
    if not args.access_log:
        # werkzeug keeps a level set before its first request; errors still show.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    from moto.server import main as moto_main

    # moto falls back to sys.argv when given no arguments: keep --stock out of it.
    sys.argv = [sys.argv[0], *rest]
    moto_main(rest)


if __name__ == "__main__":
    main()
