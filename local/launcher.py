"""`make run`: the whole app on one box, with a local AWS endpoint when none is given.

Starts a moto server on 127.0.0.1 (unless DYNAMODB_ENDPOINT_URL and
AWS_SQS_ENDPOINT_URL are set), creates the tables and queue, then runs the web
app under gunicorn and the worker, in the foreground. At start it says where
phones join (webapp/public_url.py): on 127.0.0.1 (the default) a warning that
they cannot, and HOST=0.0.0.0 to fix it; on every address, this machine's
network address, passed to the web app as PUBLIC_URL. Ctrl-C, SIGTERM or SIGHUP
(the terminal closed) stops everything cleanly, with a final save; if any process
dies, the rest are stopped and the exit is non-zero. The children run out of the
terminal's reach and die with the launcher even if it is killed (local/children.py).

The embedded endpoint keeps its data in memory, so this launcher keeps a
snapshot of it in DATA_DIR (default .data/): restored on start before the web
app and worker run, saved every SNAPSHOT_SECONDS by a `local.snapshot_cli watch`
child, and saved once more on a clean stop, after the web app and the worker
have stopped (with the messages still waiting in the queues). A snapshot that
cannot be read stops the start, and the file is left alone. See docs/data.md.

The helpers here (free ports, starting moto, waiting for a URL) are also what
the tests and benchmarks use to start real processes.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from local import children, kept_secrets
from local.final_save import final_save
from webapp.public_url import bind_advice

ROOT = Path(__file__).resolve().parent.parent  # the project root
PYTHON = sys.executable
SNAPSHOT_FILE = "snapshot.jsonl"


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


def start_moto(port: int, stock: bool = False, **popen) -> subprocess.Popen:
    """A moto server on 127.0.0.1:port serving every AWS service (DynamoDB and SQS here).

    It runs through local/moto_server.py, which fixes moto's costs that grow with the data
    stored (docs/architecture.md); `stock=True` runs moto unchanged, for benchmarks.
    The port stays the last argument: callers read it from `process.args[-1]`.
    """
    flags = ["--stock"] if stock else []
    process = subprocess.Popen(
        [PYTHON, "-m", "local.moto_server", *flags, "-H", "127.0.0.1", "-p", str(port)],
        cwd=ROOT,
        **popen,
    )
    wait_for_http(f"http://127.0.0.1:{port}/moto-api/", process=process)
    return process


def gunicorn_command(host: str, port: int, workers: int = 2) -> list[str]:
    """gunicorn with gunicorn.conf.py (as the Procfile and the image run it); flags override it."""
    return [
        PYTHON, "-m", "gunicorn",
        "--config", str(ROOT / "gunicorn.conf.py"),
        "--bind", f"{host}:{port}",
        "--workers", str(workers),
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
            "Ctrl-C, SIGTERM or SIGHUP stops everything with a final save (if it fails, "
            "nothing is stopped without a choice). API_KEY and SECRET_KEY are generated "
            "when unset, once, and kept in DATA_DIR/secrets.json (mode 0600). "
            "With the local endpoint, its data is kept in DATA_DIR across restarts."
        )
    )
    parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument(
        "--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", "0")),
        help="port of the embedded moto server (default: a free one)",
    )  # fmt: skip
    parser.add_argument(
        "--data-dir", type=Path, default=Path(os.environ.get("DATA_DIR") or ROOT / ".data"),
        help="where the local endpoint's data is kept across restarts (DATA_DIR, default .data/)",
    )  # fmt: skip
    parser.add_argument(
        "--snapshot-seconds", type=float,
        default=float(os.environ.get("SNAPSHOT_SECONDS") or 30),
        help="save the local endpoint's data this often (SNAPSHOT_SECONDS, default 30); "
        "0: only when stopping",
    )  # fmt: skip
    parser.add_argument(
        "--discard", action="store_true",
        help="if the final save fails when stopping, stop anyway and lose what came after the "
        "last good save (without it: ask at a terminal, else retry until it works)",
    )  # fmt: skip
    return parser


def snapshot_command(*args) -> list[str]:
    return [PYTHON, "-m", "local.snapshot_cli", *map(str, args)]


def lock_data_dir(data_dir: Path):
    """Hold DATA_DIR for this run: two runs saving to one file would overwrite each other."""
    data_dir.mkdir(parents=True, exist_ok=True)
    handle = open(data_dir / ".lock", "w")  # held open (and locked) until the process exits
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise RuntimeError(f"{data_dir} is in use by another `make run`") from None
    return handle


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env = dict(os.environ)
    processes: list[subprocess.Popen] = []
    stopping = False
    snapshot: Path | None = None  # set once restored: only then may a save replace the file
    status = 1

    def on_signal(signum, _frame):
        nonlocal stopping
        stopping = True

    def on_hangup(signum, frame):
        # The terminal is gone: writing to it would fail, so say nothing more, and
        # stop cleanly with a final save as on Ctrl-C.
        _detach_console()
        on_signal(signum, frame)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_hangup)
    run_dir: Path | None = None
    try:
        run_dir = Path(tempfile.mkdtemp(prefix="voting-game-", dir=_RAM_DIR))
        local = not (env.get("DYNAMODB_ENDPOINT_URL") and env.get("AWS_SQS_ENDPOINT_URL"))
        if local:
            lock = lock_data_dir(args.data_dir)  # noqa: F841 - the lock lives as long as main
            moto_port = args.moto_port or free_port()
            # Out of the terminal's reach (local/children.py): Ctrl-C must not end it
            # before the final save. We stop it last.
            processes.append(start_moto(moto_port, **children.spawn_options()))
            endpoint = f"http://127.0.0.1:{moto_port}"
            env.update(DYNAMODB_ENDPOINT_URL=endpoint, AWS_SQS_ENDPOINT_URL=endpoint)
            env.setdefault("AWS_ACCESS_KEY_ID", "embedded")
            env.setdefault("AWS_SECRET_ACCESS_KEY", "embedded")
            # Polls cost nothing locally; a short wait lets Ctrl-C stop the
            # worker in ~2 s instead of waiting out a 20 s long poll.
            env.setdefault("WORKER_WAIT_SECONDS", "2")
            print(f"local AWS endpoint (moto): {endpoint}", flush=True)
        env.setdefault("AWS_REGION", "us-east-1")
        # Unset secrets come from DATA_DIR, generated once: cookies and admin
        # sessions stay valid across restarts.
        generated_key = not env.get("API_KEY")
        kept_secrets.fill(env, args.data_dir)

        subprocess.run(
            [PYTHON, "-m", "flask", "--app", "webapp", "init-aws"], env=env, cwd=ROOT, check=True
        )
        if local:
            path = args.data_dir / SNAPSHOT_FILE
            # A file that cannot be read fails here (exit 2), before anything could save over it.
            subprocess.run(snapshot_command("restore", path), env=env, cwd=ROOT, check=True)
            snapshot = path
            if args.snapshot_seconds > 0:
                # While saves fail (a full disk), the watcher writes why here and the
                # web app refuses votes (503), so fewer votes wait unsaved.
                pause = run_dir / "pause-votes"
                env["PAUSE_VOTES_FILE"] = str(pause)
                watch = snapshot_command(
                    "watch", path, "--every", args.snapshot_seconds, "--pause-file", pause
                )
                processes.append(
                    subprocess.Popen(watch, env=env, cwd=ROOT, **children.spawn_options())
                )
        # The origin phones join at: PUBLIC_URL, or this machine's network address when
        # listening on every address; on loopback only, a warning (webapp/public_url.py).
        phones = bind_advice(args.host, args.port, env.get("PUBLIC_URL"))
        if phones.reachable:
            env["PUBLIC_URL"] = phones.origin
        worker = subprocess.Popen(
            worker_command(), env=env, cwd=ROOT, **children.spawn_options()
        )
        processes.append(worker)
        web = subprocess.Popen(
            gunicorn_command(args.host, args.port), env=env, cwd=ROOT, **children.spawn_options()
        )
        processes.append(web)
        wait_for_http(f"http://127.0.0.1:{args.port}/healthz", process=web)
        url = f"http://{'127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host}:{args.port}"
        print(f"\nVoting Game is running at {url}/", flush=True)
        print(f"  admin:    {url}/admin/login", flush=True)
        print(f"  API docs: {url}/docs", flush=True)
        if not phones.reachable:
            print("", flush=True)
        print("\n".join(phones.lines), flush=True)
        if not phones.reachable:
            print("", flush=True)
        if generated_key:
            where = args.data_dir / kept_secrets.FILE
            print(f"  API_KEY (generated, kept in {where}): {env['API_KEY']}", flush=True)
        if snapshot:
            every = f"every {args.snapshot_seconds:g}s and " if args.snapshot_seconds > 0 else ""
            print(f"  data:     {snapshot} (saved {every}on Ctrl-C)", flush=True)
        print("Press Ctrl-C to stop.\n", flush=True)
        status = 0
        while not stopping and status == 0:
            for process in processes:
                if process.poll() is not None:
                    print(f"{process.args[:3]} exited with {process.returncode}", file=sys.stderr)
                    status = 1
            time.sleep(0.5)
    except OSError as exc:  # DATA_DIR read-only, full, or not a directory; a port in use
        where = f": {exc.filename}" if exc.filename else ""
        print(f"make run failed: {exc.strerror or exc}{where}", file=sys.stderr)
        status = 1
    except (subprocess.CalledProcessError, RuntimeError) as exc:  # TimeoutError is an OSError
        print(f"make run failed: {exc}", file=sys.stderr)
        status = 1
    finally:
        print("stopping...", flush=True)
        saved = snapshot is None or final_save(
            snapshot, processes, env,
            stop=stop, command=snapshot_command, cwd=ROOT, discard=args.discard,
        )  # fmt: skip
        stop(processes)
        if run_dir:
            shutil.rmtree(run_dir, ignore_errors=True)
        if not saved:
            status = 1
    return status


# The pause file lives in memory, not beside the data: a full disk must not stop it.
_RAM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") else None


def _detach_console() -> None:
    """Point stdin, stdout and stderr (ours, and our children's from now on) at /dev/null.

    So nothing fails writing to a closed terminal, and nobody is asked a question.
    """
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)


if __name__ == "__main__":
    sys.exit(main())
