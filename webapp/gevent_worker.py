"""The web processes' gunicorn worker: gevent, with limits on what a client may hold.

One process serves every connection from greenlets (gunicorn.conf.py sets
`worker_class` to `RoomWorker`), so an open event stream costs a socket and a
greenlet, not a thread. On top of gunicorn's gevent worker:

- **a request's headers**: gunicorn's gevent worker reads each request's
  headers under a `keepalive`-second timeout, from the connection's opening
  or the previous answer: a client that sends nothing, or trickles its
  headers, is closed then (gunicorn.conf.py's `keepalive`);
- **a request's body**: read whole, within REQUEST_BODY_SECONDS, before the
  app sees it (`BodyDeadline`), else 408; a body over the app's size limit
  is left for the app to refuse (413);
- **connections per client address**: at most MAX_CONNECTIONS_PER_ADDRESS
  open at once per process; a connection past it is closed unanswered;
- **stop**: SIGTERM ends every open event stream at once (webapp/push.py), so
  browsers reconnect, through the load balancer, to another process, while
  requests in flight (votes) finish within gunicorn's graceful timeout.
"""

from __future__ import annotations

import io
from collections import Counter

import gevent
from gunicorn.workers.ggevent import GeventWorker

from core.settings import Settings
from webapp import MAX_BODY_BYTES
from webapp.body import read_at_most


class RoomWorker(GeventWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        settings = Settings.from_env()
        self.per_address = settings.max_connections_per_address
        self.body_seconds = settings.request_body_seconds
        self.open_by_address: Counter = Counter()

    def load_wsgi(self):
        super().load_wsgi()
        self.app = self.wsgi  # the Flask app, for gunicorn.conf.py's worker_exit
        self.wsgi = BodyDeadline(self.wsgi, self.body_seconds, MAX_BODY_BYTES)

    def handle(self, listener, client, addr):
        address = addr[0] if isinstance(addr, tuple) else addr
        if self.open_by_address[address] >= self.per_address:
            client.close()  # over the cap: no greenlet is kept for it
            return
        self.open_by_address[address] += 1
        try:
            super().handle(listener, client, addr)
        finally:
            self.open_by_address[address] -= 1
            if not self.open_by_address[address]:
                del self.open_by_address[address]

    def handle_request(self, listener_name, req, sock, addr):
        super().handle_request(listener_name, req, sock, addr)
        if not self.alive:
            # Stopping: no next request on this connection (an event stream's
            # reconnection would find this process refusing it), so the browser
            # reconnects, through the load balancer, to a process that stays.
            raise StopIteration()

    def handle_exit(self, sig, frame):
        super().handle_exit(sig, frame)
        # Out of the signal handler, as gunicorn's own gevent handlers do.
        gevent.spawn(self.end_streams)

    def end_streams(self):
        hub = getattr(self, "app", None)
        hub = getattr(hub, "extensions", {}).get("push") if hub is not None else None
        if hub is not None:
            hub.close()


class BodyDeadline:
    """WSGI middleware: the request body, read whole within `seconds`, or 408.

    Only sized bodies up to `limit` bytes are read here: a larger one is the
    app's to refuse (413) without reading it, and a chunked one is read by
    webapp/body.py's WholeChunkedBody, inside the same deadline.
    """

    def __init__(self, app, seconds: float, limit: int):
        self.app, self.seconds, self.limit = app, seconds, limit

    def __call__(self, environ, start_response):
        length = environ.get("CONTENT_LENGTH") or ""
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not (chunked or (length.isdigit() and 0 < int(length) <= self.limit)):
            return self.app(environ, start_response)
        size = self.limit + 1 if chunked else int(length)
        body = None
        with gevent.Timeout(self.seconds, False):
            body = read_at_most(environ["wsgi.input"], size)
        if body is None:
            start_response("408 Request Timeout", [("Content-Type", "text/plain"),
                                                   ("Connection", "close")])  # fmt: skip
            return [b"The request body did not arrive in time.\n"]
        if chunked:
            environ["CONTENT_LENGTH"] = str(len(body))
            del environ["HTTP_TRANSFER_ENCODING"]
        environ["wsgi.input"] = io.BytesIO(body)
        return self.app(environ, start_response)

