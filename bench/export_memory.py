"""Peak memory of exporting a topic with 100,000 votes, against a same-run baseline.

    .venv/bin/python -m bench.export_memory [--votes 100000] [--moto-votes 10000] [--backup]

Progress goes to stderr; the report (a Markdown table) and a last line of
name=value figures go to stdout, as for every benchmark `make bench` runs.

Part 1, our code (fast): the streamed CSV export (csv_export.csv_chunks, what the
download route and the CLI send) over pages of vote records answered from
memory, at --votes/10, --votes and 3 x --votes votes, against the baseline of
the same CSV built the naive way (every vote record in a list first, the
whole CSV in one string). tracemalloc peak of this process's Python
allocations. Flat memory: the big/small ratio stays near 1.

Part 2, the real path (slow): its own moto server with one topic of
--moto-votes/10 and one of --moto-votes votes (records and tallies as the
worker leaves them); the streamed export of both through boto3 (tracemalloc,
so botocore's parsing counts too), the naive baseline on the big one, and
over HTTP the peak resident memory (VmHWM) of a single gunicorn worker before
and after it streamed the big topic's download. With --backup, also the jsonl
export, its import into a fresh stack, and an embedded snapshot save.

Why two parts: moto re-sorts a table and serialises every item it answers on
each call, so reading 100,000 votes through it takes about 20 minutes a pass
on a shared 2-core box (and can time out); real DynamoDB answers the same
pages in seconds. Part 1 shows the bound at 100,000 and more, part 2 that
boto3 and gunicorn keep it. Figures depend on the machine; compare ratios.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
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
from botocore.config import Config

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import figures_line, table  # noqa: E402
from core.aws.backend import Backend  # noqa: E402
from core.aws.clients import CLIENT_CONFIG  # noqa: E402
from core.aws.codec import to_item  # noqa: E402
from core.aws.store import Store  # noqa: E402
from core.aws.tables import Tables  # noqa: E402
from core.rules.tally_slots import slot  # noqa: E402
from core.rules.topics import with_defaults  # noqa: E402
from core.schemas.topics import TopicOut  # noqa: E402
from core.services import backups, csv_export  # noqa: E402
from core.settings import Settings  # noqa: E402
from local import launcher, snapshot  # noqa: E402

MB = 1024 * 1024
API_KEY = "bench-admin-key"


def fill(backend: Backend, topic_id: str, votes: int) -> None:
    """A topic with `votes` counted vote records over two choices, and matching tallies."""
    store, tables = backend.store, backend.tables
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
        return tables.put_items("votes", map(record, range(start, min(start + 2500, votes))))

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(write, range(0, votes, 2500)))
    tables.put_items(
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
    print(
        f"  {label:<44} peak {peak / MB:8.2f} MB   {seconds:6.1f} s   output {size / MB:7.1f} MB",
        file=sys.stderr,
    )
    return {"label": label, "peak": peak, "seconds": seconds, "size": size}


def streamed_csv(store: Store, topic: dict) -> int:
    return sum(len(chunk.encode()) for chunk in csv_export.csv_chunks(store, [topic]))


class PagesInMemory:
    """Answers Query like DynamoDB would, from memory: isolates our streaming code."""

    def __init__(self, votes: int):
        self.votes = votes

    def query(self, **kwargs):
        start = int(kwargs.get("ExclusiveStartKey", {}).get("n", {"N": "0"})["N"])
        end = min(start + kwargs["Limit"], self.votes)
        items = [
            {"id": {"S": f"v{i:07d}"}, "choice_id": {"S": "yes"}, "status": {"S": "counted"},
             "created": {"S": f"2026-01-01T00:00:00.{i:07d}"}}
            for i in range(start, end)
        ]  # fmt: skip
        page = {"Items": items}
        if end < self.votes:
            page["LastEvaluatedKey"] = {"n": {"N": str(end)}}
        return page


def isolated_csv(votes: int, naive: bool = False) -> int:
    store = Store(PagesInMemory(votes))
    # Whatever the store's read takes (a topic, its generation, flags), one choice's count.
    store.get_counts = lambda *_, **__: {"yes": votes}
    choices = [{"id": "yes", "description": "Yes"}]
    topic = with_defaults({"id": "t", "title": "T", "created": "", "last_upd": "",
                           "is_active": True, "choices": choices})  # fmt: skip
    return naive_csv(store, topic) if naive else streamed_csv(store, topic)


def naive_csv(store: Store, topic: dict) -> int:
    """The baseline: every vote record in a list, the whole CSV in one string."""
    votes = list(store.topic_votes(topic["id"], csv_export.VOTE_FIELDS))
    results = TopicOut.render(topic, store.get_counts(topic["id"]))
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(csv_export.HEADER)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--votes", type=int, default=100_000, help="part 1 size (100000)")
    parser.add_argument("--moto-votes", type=int, default=10_000, help="part 2 size (10000)")
    parser.add_argument("--backup", action="store_true", help="part 2: backup too")
    parser.add_argument("--json", type=Path, help="also write the figures here (make bench)")
    args = parser.parse_args(argv)

    log = sys.stderr
    print("Part 1, our code: CSV over pages answered from memory (tracemalloc)", file=log)
    sizes = (args.votes // 10, args.votes, 3 * args.votes)
    alone = [measured(f"streamed, {n:,} votes", lambda n=n: isolated_csv(n)) for n in sizes]
    naive = measured(f"baseline: naive, {args.votes:,} votes",
                     lambda: isolated_csv(args.votes, True))  # fmt: skip
    part2 = real_path(args.moto_votes // 10, args.moto_votes, args.backup)

    figures = {
        "export_peak_flat_ratio": alone[2]["peak"] / alone[0]["peak"],
        "export_streamed_over_naive": alone[1]["peak"] / naive["peak"],
        "export_peak_mb": alone[1]["peak"] / MB,
        **part2["figures"],
    }
    print("## Export memory (a topic's CSV in bounded memory)\n")
    print(
        "tracemalloc peak of this process's Python allocations while it builds a topic's CSV. "
        "Part 1: our streamed export over pages answered from memory, against the same CSV "
        "built the naive way (every record in a list, the whole file in one string). Part 2: "
        "the same through boto3 and moto, and the peak resident memory of one gunicorn "
        "worker serving the download.\n"
    )
    rows = [[r["label"], r["peak"] / MB, r["seconds"], r["size"] / MB]
            for r in (*alone, naive, *part2["measured"])]  # fmt: skip
    print(table(["part / export", "peak MB", "seconds", "output MB"], rows))
    print(
        f"\nStreamed peak at {sizes[2]:,} votes over {sizes[0]:,}: "
        f"{figures['export_peak_flat_ratio']:.2f}x (1.0 = flat); streamed over naive at "
        f"{args.votes:,}: {figures['export_streamed_over_naive']:.3f}. gunicorn worker: "
        f"{part2['rss_before_mb']:.1f} MB after the small download, "
        f"{part2['rss_after_mb']:.1f} MB after the big one.\n"
    )
    if args.json:
        args.json.write_text(json.dumps({"figures": figures}))
    print(figures_line(**figures))
    return 0


def real_path(small_votes: int, big_votes: int, backup: bool) -> dict:
    port = launcher.free_port()
    moto = launcher.start_moto(port, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
        # A long read timeout: moto can take tens of seconds per page on a busy box.
        patient = CLIENT_CONFIG.merge(Config(read_timeout=600))
        backend = Backend.connect(settings, patient)
        store = backend.store
        backend.tables.create()
        started = time.perf_counter()
        fill(backend, "small", small_votes)
        fill(backend, "big", big_votes)
        print(f"\nPart 2, through moto: wrote {small_votes + big_votes} vote records "
              f"in {time.perf_counter() - started:.0f} s", file=sys.stderr)  # fmt: skip
        small, big = store.get_topic("small"), store.get_topic("big")

        print("CSV of one topic through boto3 (tracemalloc, this process):", file=sys.stderr)
        via = "through moto:"
        s_small = measured(f"{via} streamed, {small_votes:,} votes",
                           lambda: streamed_csv(store, small))  # fmt: skip
        s_big = measured(f"{via} streamed, {big_votes:,} votes", lambda: streamed_csv(store, big))
        n_big = measured(f"{via} baseline: naive, {big_votes:,} votes",
                         lambda: naive_csv(store, big))  # fmt: skip

        saved = {}
        if backup:
            print("Backup and restore of every table (tracemalloc):", file=sys.stderr)
            work = Path(tempfile.mkdtemp(prefix="bench-export-"))
            folder, snap = work / "backup", work / "snap.jsonl"
            saved["jsonl export"] = measured(
                f"jsonl export, {small_votes + big_votes} votes",
                lambda: (backups.write_export(backend, folder), dir_size(folder))[1],
            )
            fresh = Tables(backend.tables.client, f"f{uuid.uuid4().hex[:8]}-")
            fresh.create()
            saved["jsonl import"] = measured(
                "jsonl import into a fresh stack",
                lambda: (
                    backups.load_export(fresh, backups.ExportDir(folder)), dir_size(folder)
                )[1],
            )
            saved["snapshot save"] = measured(
                "embedded snapshot save",
                lambda: (snapshot.save(backend.tables, snap), snap.stat().st_size)[1],
            )

        print("CSV download over HTTP (gunicorn, 1 worker, its peak RSS):", file=sys.stderr)
        web_port = launcher.free_port()
        web = subprocess.Popen(
            launcher.gunicorn_command("127.0.0.1", web_port, workers=1),
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        processes.append(web)
        base = f"http://127.0.0.1:{web_port}"
        launcher.wait_for_http(f"{base}/healthz", process=web)
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
        return {
            "measured": [s_small, s_big, n_big, *saved.values()],
            "rss_before_mb": before / MB,
            "rss_after_mb": after / MB,
            "figures": {
                "export_moto_peak_ratio": s_big["peak"] / s_small["peak"],
                "export_moto_streamed_over_naive": s_big["peak"] / n_big["peak"],
                "export_worker_rss_growth_mb": (after - before) / MB,
            },
        }
    finally:
        launcher.stop(processes)


if __name__ == "__main__":
    sys.exit(main())
