"""gunicorn settings for the web app: shared by the Procfile, the Dockerfile, `make run` and tests.

Everything comes from the environment through core.settings.Settings (where
each default is stated): PORT, WEB_CONCURRENCY processes of WEB_CONNECTIONS
connections each, TRUSTED_PROXIES, LOG_LEVEL, and the client limits the worker
applies (webapp/gevent_worker.py). Command-line flags (`--bind`, `--workers`)
still win over this file.
"""

# First, before anything imports ssl or botocore: gevent must replace the
# blocking parts of the standard library (sockets, ssl, locks, sleeps) in every
# module, or botocore's sockets block the whole process and ssl, imported
# before the patch, recurses without end on every AWS call.
from gevent import monkey  # isort: skip

monkey.patch_all()

import os  # noqa: E402  (after the patch, as everything below)
import shutil  # noqa: E402
import tempfile  # noqa: E402

# Multi-process metrics: prometheus_client decides at import time whether to
# keep values in files, so the directory must be in the environment before
# any process imports it. One private directory per server unless the
# operator chose one.
_own_metrics_dir = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="voting-metrics-")
METRICS_DIR = os.environ["PROMETHEUS_MULTIPROC_DIR"]
# The processes of this server tell each other of a change made through one of
# them (a presenter's move) in a private folder of their own: webapp/push/siblings.py
# reads this variable (FOLDER_VARIABLE there).
_own_push_dir = not os.environ.get("VOTING_PUSH_SIBLINGS")
if _own_push_dir:
    os.environ["VOTING_PUSH_SIBLINGS"] = tempfile.mkdtemp(prefix="voting-push-")
PUSH_DIR = os.environ["VOTING_PUSH_SIBLINGS"]

import resource  # noqa: E402

from core.aws.clients import CLIENT_CONFIG  # noqa: E402  (after the metrics directory is set)
from core.logs import JsonFormatter  # noqa: E402
from core.settings import Settings  # noqa: E402

_settings = Settings.from_env()

wsgi_app = "webapp:create_app()"
bind = [f"0.0.0.0:{_settings.port}"]
# Requests spend their time waiting on SQS and DynamoDB, and an open event stream
# waits on the next change: greenlets (gevent) hold thousands of them per process;
# a few processes add crash isolation and use every core.
workers = _settings.web_concurrency
worker_class = "webapp.gevent_worker.RoomWorker"
worker_connections = _settings.web_connections
# Every connection is a file descriptor: let each process open as many as the
# hard limit allows (often 1,024 soft, too few for a room).
_soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if _hard != resource.RLIM_INFINITY and _soft < _hard:
    resource.setrlimit(resource.RLIMIT_NOFILE, (_hard, _hard))
# A vote is answered only after SQS stored it. On SIGTERM, let a request that
# is inside an SQS send finish: one attempt can take connect + read timeout.
graceful_timeout = CLIENT_CONFIG.connect_timeout + CLIENT_CONFIG.read_timeout + 5
timeout = 2 * graceful_timeout
# Also the deadline for a request's headers: a connection that has not sent a
# whole request head within this many seconds of opening (or of its last
# answer) is closed (gunicorn's gevent worker reads each head under it).
keepalive = 5
# X-Forwarded-Proto/-For are believed only from these addresses (the TLS proxy).
forwarded_allow_ips = _settings.trusted_proxies
loglevel = _settings.log_level.lower()
# gunicorn's runtime control socket sits at one path per user: several servers
# on a host (tests, `honcho -c web=2`) would fight over it, and we never use it.
control_socket_disable = True

# JSON lines for gunicorn's own messages, its access log and the app's loggers.
# The access line is rebuilt by JsonFormatter from gunicorn's fields, without
# request headers other than the request id (no cookies, no API key).
accesslog = "-"
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": JsonFormatter, "service": "web"}},
    "handlers": {
        "json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
    },
    "root": {"level": _settings.log_level, "handlers": ["json"]},
    "loggers": {
        "gunicorn.error": {"level": _settings.log_level, "handlers": ["json"], "propagate": False},
        "gunicorn.access": {"level": "INFO", "handlers": ["json"], "propagate": False},
        "botocore": {"level": "WARNING"},
        "urllib3": {"level": "WARNING"},
    },
}


def on_starting(server):
    """Start from zero: stale files of an earlier run would be added to our counters."""
    for name in os.listdir(METRICS_DIR):
        if name.endswith(".db"):
            os.remove(os.path.join(METRICS_DIR, name))


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def worker_exit(server, worker):
    """Send any vote still waiting for its batch before this process goes.

    gunicorn has already let the requests in progress finish (up to
    graceful_timeout), and each pending vote is sent by its own request, so
    normally nothing is left; whatever is gets sent here, not dropped.
    """
    app = getattr(worker, "app", None)
    if app is None or not hasattr(app, "extensions"):
        return
    from webapp import services

    unsent = services.close(app, timeout=CLIENT_CONFIG.read_timeout)
    if unsent:
        server.log.error("%d votes still waiting for their batch at exit: not sent", unsent)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(METRICS_DIR, ignore_errors=True)
    if _own_push_dir:
        shutil.rmtree(PUSH_DIR, ignore_errors=True)
