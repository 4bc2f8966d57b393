"""Peak memory of exporting a topic with 100,000 votes, against a same-run baseline.

    .venv/bin/python bench/export_memory.py [--votes 100000] [--small 10000] [--backup]

Starts its own moto server, writes one topic with --small votes and one with
--votes votes (vote records and tallies, as the worker leaves them), then
measures, with tracemalloc (Python allocations, in this process):

- the streamed CSV export (export.csv_chunks, what the download route and the
  CLI send) of both topics: flat memory means the big/small ratio stays near 1;
- the baseline: the same CSV built the naive way, every vote record read into
  a list first; the streamed/naive ratio is the saving;
- with --backup, also the jsonl backup (export.write_export), its import
  (load_export) into a fresh stack, and an embedded snapshot save;

and, over real HTTP, the peak resident memory (VmHWM) of the single gunicorn
worker before and after it streamed the big topic's CSV download.

Figures depend on the machine; the ratios are what to compare between runs.
The wall times are mostly moto's: it serialises every item it answers slowly
(a few hundred to a few thousand items a second), so a 100,000-vote run takes
minutes per pass; real DynamoDB answers the same pages far faster.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import embedded  # noqa: E402
from webapp import export, snapshot  # noqa: E402
from webapp.aws import clients_for  # noqa: E402
from webapp.config import Settings  # noqa: E402
from webapp.models import topic_json  # noqa: E402
from webapp.store import Store, slot, to_item  # noqa: E402

MB = 1024 * 1024
API_KEY = "bench-admin-key"


def fill(store: Store, topic_id: str, votes: int) -> None:
    """A topic with `votes` counted vote records over two choices, and matching tallies."""
    store.put_new_topic(
        {"id": topic_id, "created": "2026-01-01T00:00:00.000000",
         "last_upd": "2026-01-01T00:00:00.000000", "is_active": True,
         "title": f"Bench topic with {votes} votes",
         "choices": [{"id": "yes", "description": "Yes"}, {"id": "no", "description": "No"}]}
    )  # fmt: skip

    def record(i: int) -> dict:
        stamp = f"2026-01-01T{i // 3600000 % 24:02d}:{i // 60000 % 60:02d}:{i // 1000 % 60:02d}"
        stamp += f".{i % 1000:03d}000"
        return to_item(
            {"id": f"{topic_id}-{i:07d}", "topic_id": topic_id, "choice_id": ("yes", "no")[i % 2],
             "queued_at": stamp, "created": stamp, "status": "counted", "shard": 0}
        )  # fmt: skip

    def write(start: int) -> int:
        return store.put_items("votes", (record(i) for i in range(start, min(start + 2500, votes))))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(0, votes, 2500)))
    store.put_items(
        "tallies",
        [to_item({"topic_id": topic_id, "slot": slot(c, 0), "choice_id": c,
                  "count": votes // 2 + (votes % 2 if c == "yes" else 0)}) for c in ("yes", "no")],
    )  # fmt: skip


def measured(label: str, work) -> dict:
    """Run `work()` under tracemalloc; its peak allocation and wall time."""
    tracemalloc.start()
    started = time.perf_counter()
    size = work()
    seconds = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"  {label:<44} peak {peak / MB:8.2f} MB   {seconds:6.1f} s   output {size / MB:7.1f} MB")
    return {"peak": peak, "seconds": seconds, "size": size}


def streamed_csv(store: Store, topic: dict) -> int:
    return sum(len(chunk.encode()) for chunk in export.csv_chunks(store, [topic]))


def naive_csv(store: Store, topic: dict) -> int:
    """The baseline: every vote record in a list, the whole CSV in one string."""
    votes = list(store.topic_votes(topic["id"]))
    results = topic_json(topic, store.get_counts(topic["id"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(export.HEADER)
    for choice in results["choices"]:
        writer.writerow(("result", topic["id"], topic["title"], choice["id"], choice["description"],
                         "", "", "", "", choice["vote_count"], choice["votes"]))  # fmt: skip
    for vote in votes:
        writer.writerow(("vote", topic["id"], topic["title"], vote["choice_id"], "", vote["id"],
                         vote["created"], vote["status"], "", "", ""))  # fmt: skip
    return len(buffer.getvalue().encode())


def dir_size(path: Path) -> int:
    return sum(p.stat().st_size for p in path.iterdir())


def vm_hwm(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM")


def gunicorn_worker(master: int) -> int:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    return int(children[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--backup", action="store_true", help="also jsonl export/import, snapshot")
    args = parser.parse_args()

    port = embedded.free_port()
    moto = embedded.start_moto(port, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    env = {
        **os.environ, "DYNAMODB_ENDPOINT_URL": endpoint, "AWS_SQS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_REGION": "us-east-1",
        "TABLE_PREFIX": f"b{uuid.uuid4().hex[:8]}-", "API_KEY": API_KEY, "METRICS_PORT": "0",
    }  # fmt: skip
    os.environ.update(env)
    processes = [moto]
    try:
        settings = Settings.from_env()
        store = Store(clients_for(settings).dynamodb, settings.table_prefix)
        store.create_tables()
        started = time.perf_counter()
        fill(store, "small", args.small)
        fill(store, "big", args.votes)
        print(
            f"wrote {args.small + args.votes} vote records in {time.perf_counter() - started:.0f} s"
        )
        small, big = store.get_topic("small"), store.get_topic("big")

        print("\nCSV of one topic (tracemalloc, this process):")
        s_small = measured(f"streamed, {args.small} votes", lambda: streamed_csv(store, small))
        s_big = measured(f"streamed, {args.votes} votes", lambda: streamed_csv(store, big))
        n_big = measured(f"baseline: naive, {args.votes} votes", lambda: naive_csv(store, big))

        backups = {}
        if args.backup:
            print("\nBackup and restore of every table (tracemalloc):")
            work = Path(tempfile.mkdtemp(prefix="bench-export-"))
            backup, snap = work / "backup", work / "snap.jsonl"
            backups["jsonl export"] = measured(
                f"jsonl export, {args.small + args.votes} votes",
                lambda: (export.write_export(store, backup), dir_size(backup))[1],
            )
            fresh = Store(store.client, f"f{uuid.uuid4().hex[:8]}-")
            fresh.create_tables()
            backups["jsonl import"] = measured(
                "jsonl import into a fresh stack",
                lambda: (export.load_export(fresh, export.ExportDir(backup)), dir_size(backup))[1],
            )
            backups["snapshot save"] = measured(
                "embedded snapshot save",
                lambda: (snapshot.save(store, snap), snap.stat().st_size)[1],
            )

        print("\nCSV download over HTTP (gunicorn, 1 worker, peak RSS of the worker):")
        web_port = embedded.free_port()
        web = subprocess.Popen(
            embedded.gunicorn_command("127.0.0.1", web_port, workers=1, threads=2),
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        processes.append(web)
        base = f"http://127.0.0.1:{web_port}"
        embedded.wait_for_http(f"{base}/healthz", process=web)
        pid = gunicorn_worker(web.pid)
        headers = {"X-API-Key": API_KEY}
        requests.get(f"{base}/topics/small/export.csv", headers=headers).raise_for_status()
        before = vm_hwm(pid)
        size = 0
        with requests.get(f"{base}/topics/big/export.csv", headers=headers, stream=True) as answer:
            answer.raise_for_status()
            for block in answer.iter_content(64 * 1024):
                size += len(block)
        after = vm_hwm(pid)
        print(f"  worker peak RSS before: {before / MB:7.1f} MB "
              f"(after a {args.small}-vote download)")  # fmt: skip
        print(f"  after the {args.votes}-vote download: {after / MB:7.1f} MB "
              f"(+{(after - before) / MB:.1f} MB) for {size / MB:.1f} MB of CSV")  # fmt: skip

        print("\nRatios:")
        print(f"  streamed peak, {args.votes} vs {args.small} votes: "
              f"{s_big['peak'] / s_small['peak']:.2f}x (1.0 = flat)")  # fmt: skip
        print(f"  streamed / naive peak at {args.votes} votes:     "
              f"{s_big['peak'] / n_big['peak']:.3f}")  # fmt: skip
        print(f"  streamed peak / CSV size at {args.votes} votes:   "
              f"{s_big['peak'] / s_big['size']:.3f}")  # fmt: skip
        for label, figure in backups.items():
            print(f"  {label} peak / naive CSV peak:        {figure['peak'] / n_big['peak']:.3f}")
        return 0
    finally:
        embedded.stop(processes)


if __name__ == "__main__":
    sys.exit(main())
