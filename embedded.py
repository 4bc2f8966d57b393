"""`make run`: the whole app on one box, with a local AWS endpoint when none is given.

Starts a moto server on 127.0.0.1 (unless DYNAMODB_ENDPOINT_URL and
AWS_SQS_ENDPOINT_URL are set), creates the tables and queue, then runs the web
app under gunicorn and the worker, in the foreground. Ctrl-C or SIGTERM stops
everything; if any process dies, the rest are stopped and the exit is non-zero.

The helpers here (free ports, starting moto, waiting for a URL) are also what
the tests and benchmarks use to start real processes.
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, timeout: float = 30.0, process: subprocess.Popen | None = None) -> None:
    """Poll `url` until it answers at all (any HTTP status), or raise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout:.0f}s")


def start_moto(port: int, **popen) -> subprocess.Popen:
    """A moto server on 127.0.0.1:port serving every AWS service (DynamoDB and SQS here)."""
    process = subprocess.Popen(
        [PYTHON, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], cwd=ROOT, **popen
    )
    wait_for_http(f"http://127.0.0.1:{port}/moto-api/", process=process)
    return process


def gunicorn_command(host: str, port: int, workers: int = 2, threads: int = 4) -> list[str]:
    """gunicorn with gunicorn.conf.py (as the Procfile and the image run it); flags override it."""
    return [
        PYTHON, "-m", "gunicorn",
        "--config", str(ROOT / "gunicorn.conf.py"),
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "webapp:create_app()",
    ]  # fmt: skip


def worker_command() -> list[str]:
    return [PYTHON, str(ROOT / "worker.py")]


def stop(processes: list[subprocess.Popen], timeout: float = 30.0) -> None:
    """SIGTERM each process (newest first), then SIGKILL what is left after `timeout`."""
    for process in reversed(processes):
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in reversed(processes):
        try:
            process.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=(
            "Run Voting Game on this machine: a local AWS endpoint (moto server) unless "
            "DYNAMODB_ENDPOINT_URL and AWS_SQS_ENDPOINT_URL are set, the tables and queue, "
            "the web app under gunicorn on HOST:PORT (127.0.0.1:8000) and the worker. "
            "Ctrl-C stops everything. API_KEY and SECRET_KEY are generated when unset."
        )
    )
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "0")),
        help="port of the embedded moto server (default: a free one)",
    )  # fmt: skip
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env = dict(os.environ)
    processes: list[subprocess.Popen] = []
    stopping = False

    def on_signal(signum, _frame):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        if not (env.get("DYNAMODB_ENDPOINT_URL") and env.get("AWS_SQS_ENDPOINT_URL")):
            moto_port = args.moto_port or free_port()
            # The child ignores Ctrl-C from the terminal: we stop it last, ourselves.
            processes.append(start_moto(moto_port, preexec_fn=_ignore_sigint))
            endpoint = f"http://127.0.0.1:{moto_port}"
            env.update(DYNAMODB_ENDPOINT_URL=endpoint, AWS_SQS_ENDPOINT_URL=endpoint)
            env.setdefault("AWS_ACCESS_KEY_ID", "embedded")
            env.setdefault("AWS_SECRET_ACCESS_KEY", "embedded")
            print(f"local AWS endpoint (moto): {endpoint}", flush=True)
        env.setdefault("AWS_REGION", "us-east-1")
        generated_key = not env.get("API_KEY")
        if generated_key:
            env["API_KEY"] = secrets.token_urlsafe(24)
        env.setdefault("SECRET_KEY", secrets.token_urlsafe(32))

        subprocess.run(
            [PYTHON, "-m", "flask", "--app", "webapp", "init-aws"], env=env, cwd=ROOT, check=True
        )
        processes.append(subprocess.Popen(worker_command(), env=env, cwd=ROOT, preexec_fn=_ignore_sigint))
        web = subprocess.Popen(
            gunicorn_command(args.host, args.port), env=env, cwd=ROOT, preexec_fn=_ignore_sigint
        )
        processes.append(web)
        wait_for_http(f"http://127.0.0.1:{args.port}/healthz", process=web)
        url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}"
        print(f"\nVoting Game is running at {url}/", flush=True)
        print(f"  admin:    {url}/admin/login", flush=True)
        print(f"  API docs: {url}/docs", flush=True)
        if generated_key:
            print(f"  API_KEY (generated for this run): {env['API_KEY']}", flush=True)
        print("Press Ctrl-C to stop.\n", flush=True)
        while not stopping:
            for process in processes:
                if process.poll() is not None:
                    print(f"{process.args[:3]} exited with {process.returncode}", file=sys.stderr)
                    return 1
            time.sleep(0.5)
        return 0
    except (subprocess.CalledProcessError, RuntimeError, TimeoutError) as exc:
        print(f"make run failed: {exc}", file=sys.stderr)
        return 1
    finally:
        print("stopping...", flush=True)
        stop(processes)


def _ignore_sigint():
    signal.signal(signal.SIGINT, signal.SIG_IGN)


if __name__ == "__main__":
    sys.exit(main())
