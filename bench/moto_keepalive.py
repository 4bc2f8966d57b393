"""The local endpoint with keep-alive (gunicorn) against werkzeug's development server.

Two local endpoints run side by side, both with local/moto_server.py's fixes:
the default (moto's app under gunicorn, keep-alive connections) and
`--dev-server` (werkzeug's development server, which closes the connection
after every response). One botocore SQS client per server, 8 threads each
sending SendMessage (what every vote cost the web app before group commit),
the two servers in turn, ABBA. Per run: requests/s, the endpoint's CPU per
request (the server process and its children, from /proc) and the client's
(this process). Figures: medians over pairs of keep-alive / dev-server.

    .venv/bin/python -m bench.moto_keepalive [--pairs 4] [--requests 1000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import boto3

from bench.common import PYTHON, ROOT, cpu_seconds, figures_line, log, median, table
from local import launcher

THREADS = 8


def start(flags: list[str], logfile) -> tuple[subprocess.Popen, str]:
    port = launcher.free_port()
    command = [PYTHON, "-m", "local.moto_server", *flags, "-H", "127.0.0.1", "-p", str(port)]
    process = subprocess.Popen(command, cwd=ROOT, stdout=logfile, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{port}"
    launcher.wait_for_http(f"{endpoint}/moto-api/", process=process)
    return process, endpoint


def server_cpu(process: subprocess.Popen) -> float:
    """CPU seconds of the server and its children (gunicorn's worker)."""
    found = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True)
    return sum(cpu_seconds(pid) for pid in [process.pid, *map(int, found.stdout.split())])


def run(process, sqs, url: str, count: int) -> dict:
    per_thread = count // THREADS

    def send():
        for _ in range(per_thread):
            sqs.send_message(QueueUrl=url, MessageBody='{"vote": "x"}' * 10)

    threads = [threading.Thread(target=send) for _ in range(THREADS)]
    server_before, client_before = server_cpu(process), time.process_time()
    start_time = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - start_time
    sent = per_thread * THREADS
    return {
        "rps": sent / seconds,
        "server_cpu_ms": 1000 * (server_cpu(process) - server_before) / sent,
        "client_cpu_ms": 1000 * (time.process_time() - client_before) / sent,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    servers = {}
    logdir = Path(tempfile.mkdtemp(prefix="keepalive-"))
    try:
        for name, flags in (("keep-alive", []), ("dev-server", ["--dev-server"])):
            with open(logdir / f"moto-{name}.log", "wb") as logfile:
                process, endpoint = start(flags, logfile)
            sqs = boto3.client(
                "sqs", endpoint_url=endpoint, region_name="us-east-1",
                aws_access_key_id="bench", aws_secret_access_key="bench",
            )  # fmt: skip
            url = sqs.create_queue(QueueName="keepalive")["QueueUrl"]
            run(process, sqs, url, THREADS * 10)  # warm-up: imports, connections
            servers[name] = (process, sqs, url)
        runs = []
        for pair in range(args.pairs):
            order = ("dev-server", "keep-alive") if pair % 2 == 0 else ("keep-alive", "dev-server")
            runs.append({name: run(*servers[name], args.requests) for name in order})
            log(", ".join(
                f"{n} {r['rps']:.0f} req/s, server {r['server_cpu_ms']:.2f} ms, "
                f"client {r['client_cpu_ms']:.2f} ms" for n, r in runs[-1].items()
            ))  # fmt: skip
    finally:
        launcher.stop([process for process, _, _ in servers.values()], timeout=10)

    def ratios(key):
        return [r["keep-alive"][key] / r["dev-server"][key] for r in runs]

    print("## The local endpoint with keep-alive\n")
    print(
        f"{THREADS} threads x SendMessage through one botocore client, {args.requests} requests "
        f"per run, {args.pairs} pairs (ABBA) against two local endpoints running side by side: "
        "gunicorn with keep-alive (the default) and werkzeug's development server "
        "(`--dev-server`). CPU per request from /proc (endpoint) and of this process (client).\n"
    )
    rows = [
        [i + 1, r["dev-server"]["rps"], r["keep-alive"]["rps"], r["dev-server"]["server_cpu_ms"],
         r["keep-alive"]["server_cpu_ms"], r["dev-server"]["client_cpu_ms"],
         r["keep-alive"]["client_cpu_ms"]]
        for i, r in enumerate(runs)
    ]  # fmt: skip
    print(table(["pair", "dev-server req/s", "keep-alive req/s", "dev-server endpoint CPU ms",
                 "keep-alive endpoint CPU ms", "dev-server client CPU ms",
                 "keep-alive client CPU ms"], rows))  # fmt: skip
    figures = dict(
        keepalive_throughput_ratio=median(ratios("rps")),
        keepalive_server_cpu_ratio=median(ratios("server_cpu_ms")),
        keepalive_client_cpu_ratio=median(ratios("client_cpu_ms")),
    )
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "runs": runs}))
    print()
    print(figures_line(**figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
