"""Targets 5 and 6 (after): reads and the embedded mode as the store fills up.

One moto server with local/moto_server.py's fixes, two stacks as `make run` starts them
(gunicorn 2 x 4, one worker): E stays nearly empty, B's topic is filled with
votes stored directly (vote records and tallies, as the worker leaves them)
to 1,000, 10,000, 50,000 and 100,000. Filling once serves every measurement.

At each size:
- Reads (target 5): GET /topics/{id}?include_votes=true on B's big topic and
  on a 10-vote topic in the same tables, alternately, one request at a time,
  through a second gunicorn on B with the results cache off
  (RESULTS_CACHE_SECONDS=0) so that every request reads DynamoDB. The ratio of
  the medians (big/small) at 100,000 is the figure. Each answer is checked
  against the stored count; AWS requests per view are counted.
- Embedded mode (target 6): at 10,000 and 50,000, end-to-end votes/s (N
  votes over HTTP from 16 clients until the worker recorded them all) on B
  and on E in mirrored order (E, B, B, E, ...); the figure is B's median over
  E's at 50,000. At 50,000 also B while a snapshot save runs the whole time
  (`python -m local.snapshot_cli save` in a loop, as `make run`'s watcher does
  at most a tenth of the time), and how long one save takes.

At 100,000, polling (target 5): 1,000 simulated viewers (wrk, 1,000
connections, each asking every 2 s) poll the htmx results partial of the
big topic with If-None-Match, as browsers do, for 20 s while a trickle of
votes keeps changing the results. That gunicorn (2 processes, the default
caches: results 1 s, topics 2 s) runs under bench.awscount, which counts
its DynamoDB requests per process.

Last, moto alone: TransactWriteItems/s of the worker's batch shape into E and
into B, and SQS with 1,000 messages waiting (bench/moto_unchanged.py measures
the same on moto unchanged).

    .venv/bin/python -m bench.stored_votes [--sizes 1000,10000,50000,100000]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import requests

from bench import awscount
from bench.common import (
    ROOT,
    Lab,
    counts_when_idle,
    create_topic,
    figures_line,
    log,
    median,
    post_votes,
    seed_votes,
    table,
    total_votes,
)
from bench.requests_per_vote import original_view_read_units
from bench.stack import MakeRunStack, rss_mb, sqs_ops, transactions_per_s

E2E_SIZES = (10_000, 50_000)
SAVING_SIZE = 50_000
POLL_LUA = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args)
  ok, not_modified, other, etag = 0, 0, 0, nil
  wrk.headers["HX-Request"] = "true"
end
function delay() return 2000 end
function request()
  if etag then wrk.headers["If-None-Match"] = etag end
  return wrk.format("GET")
end
function response(status, headers, body)
  if status == 200 then ok = ok + 1 elseif status == 304 then not_modified = not_modified + 1
  else other = other + 1 end
  if headers["ETag"] then etag = headers["ETag"] end
end
function done(summary, latency, requests)
  local a, b, c = 0, 0, 0
  for _, t in ipairs(threads) do
    a = a + t:get("ok"); b = b + t:get("not_modified"); c = c + t:get("other")
  end
  io.write(string.format("STATUS 200=%d 304=%d other=%d\\n", a, b, c))
end
"""


def timed_get(session: requests.Session, url: str) -> tuple[float, dict]:
    start = time.perf_counter()
    answer = session.get(url, params={"include_votes": "true"})
    elapsed = time.perf_counter() - start
    answer.raise_for_status()
    return elapsed * 1000, answer.json()


def read_latency(lab, base, counts_dir, voting, small, big, per_size, stored) -> dict:
    """Alternating GETs of the small and the big topic: medians, requests per view."""
    session = requests.Session()
    expected = {t["id"]: total_votes(voting, t["id"]) for t in (small, big)}
    for _ in range(5):  # warm-up
        timed_get(session, f"{base}/topics/{big['id']}")
    before = counts_when_idle(counts_dir)
    times: dict[str, list[float]] = {small["id"]: [], big["id"]: []}
    for i in range(per_size):
        for topic in (small, big) if i % 2 else (big, small):
            ms, body = timed_get(session, f"{base}/topics/{topic['id']}")
            if body["total_votes"] != expected[topic["id"]]:
                raise RuntimeError(f"{body['total_votes']} != {expected[topic['id']]} stored")
            times[topic["id"]].append(ms)
    after = counts_when_idle(counts_dir)
    made = sum((after["requests"] - before["requests"]).values())
    small_ms, big_ms = median(times[small["id"]]), median(times[big["id"]])
    return {
        "stored": stored,
        "small_ms": small_ms,
        "big_ms": big_ms,
        "ratio": big_ms / small_ms,
        "requests_per_view": made / (2 * per_size),
        # Each is a consistent GetItem or Query under 4 KB: one read unit.
        "read_units_per_view": made / (2 * per_size),
        "original_read_units_per_view": original_view_read_units(stored),
    }


def polling(lab: Lab, stack: MakeRunStack, topic: dict, viewers: int, seconds: int) -> dict:
    counts_dir = lab.dir / "poll-counts"
    _, base = lab.web(stack.env, workers=2, count_dir=counts_dir)
    script = lab.dir / "poll.lua"
    script.write_text(POLL_LUA)
    stop = threading.Event()

    def trickle():  # 5 votes a second into the polled topic: results keep changing
        while not stop.wait(0.2):
            post_votes(base, topic, 1, concurrency=1)

    time.sleep(1.2)
    before, window_start = awscount.read_each(counts_dir), time.perf_counter()
    voter = threading.Thread(target=trickle, daemon=True)
    voter.start()
    start = time.perf_counter()
    out = subprocess.run(
        ["wrk", "--threads", "2", "--connections", str(viewers), "--duration", f"{seconds}s",
         "--timeout", "10s", "--script", str(script), f"{base}/t/{topic['id']}/results"],
        capture_output=True, text=True, timeout=seconds + 60, check=True,
    ).stdout  # fmt: skip
    elapsed = time.perf_counter() - start
    stop.set()
    voter.join()
    time.sleep(1.2)
    # Reads go on while the server works through requests wrk gave up on: the
    # rate is over the whole time between the two readings of the counts.
    after, window = awscount.read_each(counts_dir), time.perf_counter() - window_start
    per_process = []
    for pid, data in sorted(after.items()):
        made = data["requests"] - before.get(pid, {}).get("requests", Counter())
        per_process.append(
            {
                "pid": pid,
                "queries": made["dynamodb.Query"],
                "getitems": made["dynamodb.GetItem"],
                "query_per_s": made["dynamodb.Query"] / window,
                "getitem_per_s": made["dynamodb.GetItem"] / window,
            }
        )
    ok, not_modified, other = (
        int(x) for x in re.search(r"STATUS 200=(\d+) 304=(\d+) other=(\d+)", out).groups()
    )
    return {
        "viewers": viewers,
        "seconds": elapsed,
        "requests_per_s": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "ok": ok,
        "not_modified": not_modified,
        "other": other,
        "per_process": per_process,
    }


class SavingThroughout:
    """Snapshot saves of a stack back to back, in their own processes, until stopped."""

    def __init__(self, stack: MakeRunStack, path: Path):
        self.command = [sys.executable, "-m", "local.snapshot_cli", "save", str(path)]
        self.env = stack.env
        self.stop = threading.Event()
        self.seconds: list[float] = []
        self.failed = 0
        self.process: subprocess.Popen | None = None
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stop.is_set():
            started = time.perf_counter()
            self.process = subprocess.Popen(self.command, env=self.env, cwd=ROOT,
                                            stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)  # fmt: skip
            if self.process.wait() == 0:
                self.seconds.append(time.perf_counter() - started)
            elif not self.stop.is_set():
                self.failed += 1

    def __enter__(self) -> SavingThroughout:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.process is not None:
            self.process.terminate()
        self.thread.join(timeout=30)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,50000,100000")
    parser.add_argument("--requests", type=int, default=40, help="reads per topic and size")
    parser.add_argument("--votes", type=int, default=150, help="votes per end-to-end run")
    parser.add_argument("--pairs", type=int, default=2, help="E/B pairs per end-to-end size")
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    reads, e2e = [], {}
    saving_runs, save_seconds = [], None
    with Lab(name="stored") as lab:
        empty, full = MakeRunStack(lab, "E"), MakeRunStack(lab, "B")
        counts_dir = lab.dir / "read-counts"
        _, nocache = lab.web(
            {**full.env, "RESULTS_CACHE_SECONDS": "0"}, workers=2, count_dir=counts_dir
        )
        small = create_topic(full.base)
        seed_votes(full.env, small, 10)
        for stack in (empty, full):  # first requests, connections, caches
            stack.run(10, window=120)
        for size in sizes:
            full.seed_to(size)
            reads.append(read_latency(lab, nocache, counts_dir, full.voting, small,
                                      full.topic, args.requests, size))  # fmt: skip
            log(f"reads at {size}: ratio {reads[-1]['ratio']:.2f}")
            if size in E2E_SIZES:
                runs = {"E": [], "B": []}
                for _ in range(args.pairs):
                    for stack in (empty, full, full, empty):
                        runs[stack.name].append(stack.run(args.votes, window=300))
                e2e[size] = runs
                log(f"end to end at {size}: E {runs['E']} B {runs['B']}")
            if size == SAVING_SIZE:
                with SavingThroughout(full, lab.dir / "snapshot.jsonl") as saving:
                    while not saving.seconds:  # one whole save first: its duration
                        if saving.failed:
                            raise RuntimeError("a snapshot save failed: see `python -m "
                                               "local.snapshot_cli save` on the stack")  # fmt: skip
                        time.sleep(0.5)
                    saving_runs = [full.run(args.votes, window=300) for _ in range(args.pairs)]
                save_seconds = median(saving.seconds)
                log(f"end to end at {size} while saving: {saving_runs}; save {save_seconds:.0f} s")
        poll = polling(lab, full, full.topic, args.viewers, args.seconds)
        log(f"polling: {poll['requests_per_s']:.0f} requests/s")
        alone = {
            "tx_per_s_empty": transactions_per_s(lab, empty, 3),
            "tx_per_s_full": transactions_per_s(lab, full, 3),
            **sqs_ops(lab, 3),
        }
        moto_rss = rss_mb(lab.moto.pid)

    print("## Reads that do not grow (target 5: ratio <= 1.2)\n")
    print(
        f"GET /topics/{{id}}?include_votes=true with the results cache off, {args.requests} "
        "requests per topic and size, alternating with a 10-vote topic in the same tables; "
        "medians. The original design's read units per view are computed (the first 1 MB "
        "page of the topic's vote records, eventually consistent: it read no further).\n"
    )
    print(table(
        ["stored votes", "10-vote topic ms", "big topic ms", "ratio big/small",
         "AWS requests per view", "read units per view", "original: read units per view"],
        [[r["stored"], r["small_ms"], r["big_ms"], r["ratio"], r["requests_per_view"],
          r["read_units_per_view"], r["original_read_units_per_view"]] for r in reads],
    ))  # fmt: skip
    print("\n## Results polling (target 5: at most 1 tally read per second per web process)\n")
    print(
        f"{poll['viewers']} viewers polling the results partial every 2 s with ETags for "
        f"{poll['seconds']:.0f} s, 5 votes/s arriving: {poll['requests_per_s']:.0f} requests/s "
        f"served ({poll['ok']} answered 200, {poll['not_modified']} answered 304, "
        f"{poll['other']} other). DynamoDB requests of each web process:\n"
    )
    print(table(
        ["web process", "tally Queries", "per second", "topic GetItems", "per second"],
        [[p["pid"], p["queries"], p["query_per_s"], p["getitems"], p["getitem_per_s"]]
         for p in poll["per_process"]],
    ))  # fmt: skip
    print("\n## Embedded mode with votes stored (target 6: ratio >= 0.7)\n")
    print(
        f"`make run`'s stack, end-to-end votes/s ({args.votes} votes over HTTP until recorded), "
        f"{2 * args.pairs} runs per stack and size in mirrored order; medians. moto's memory "
        f"at the end: {moto_rss:.0f} MB.\n"
    )
    e2e_rows = []
    for size, runs in e2e.items():
        e, b = median(runs["E"]), median(runs["B"])
        e2e_rows.append([f"{size:,}", e, b, b / e])
    print(table(["votes stored on B", "E (empty) votes/s", "B votes/s", "ratio B/E"], e2e_rows))
    at_50k = e2e.get(50_000) or e2e[max(e2e)]
    embedded_ratio = median(at_50k["B"]) / median(at_50k["E"])
    saving_ratio = median(saving_runs) / median(at_50k["E"]) if saving_runs else None
    if saving_runs:
        print(
            f"\nWith {SAVING_SIZE:,} votes stored, one snapshot save (every table, as `make "
            f"run`'s watcher writes it) took {save_seconds:.0f} s (median). B's votes/s with a "
            f"save running the whole time: {median(saving_runs):.1f}, {saving_ratio:.2f} of "
            "E's. The watcher spends at most a tenth of the time saving (it waits ten times a "
            "save's duration when that is longer than SNAPSHOT_SECONDS), so `make run` at "
            f"{SAVING_SIZE:,} votes runs at about "
            f"{0.9 * embedded_ratio + 0.1 * saving_ratio:.2f} of its empty speed."
        )
    print("\nmoto alone, with local/moto_server.py's fixes:\n")
    print(table(["operation", "per second"], [
        ["TransactWriteItems (10 Puts + check + ADD), empty store", alone["tx_per_s_empty"]],
        [f"TransactWriteItems, {max(sizes):,} votes stored", alone["tx_per_s_full"]],
        ["SendMessage, 1,000 messages waiting", alone["sends_per_s"]],
        ["ReceiveMessage(10) + DeleteMessageBatch, 1,000 waiting", alone["receive_delete_per_s"]],
    ]))  # fmt: skip

    biggest = reads[-1]
    worst = max((p["query_per_s"] for p in poll["per_process"]), default=0.0)
    figures = dict(
        read_ratio_100k=biggest["ratio"],
        read_ms_small=biggest["small_ms"],
        read_ms_big=biggest["big_ms"],
        requests_per_view=biggest["requests_per_view"],
        poll_requests_per_s=poll["requests_per_s"],
        poll_304_share=poll["not_modified"] / max(1, poll["ok"] + poll["not_modified"]),
        tally_reads_per_s_per_process_max=worst,
        embedded_ratio=embedded_ratio,
        embedded_votes_per_s_empty=median(at_50k["E"]),
        embedded_votes_per_s_50k=median(at_50k["B"]),
        tx_per_s_full=alone["tx_per_s_full"],
        embedded_ratio_saving=saving_ratio,
        snapshot_save_s_50k=save_seconds,
        target_read_ratio_met=biggest["ratio"] <= 1.2,
        target_polling_met=worst <= 1.0 and poll["other"] == 0,
        target_embedded_met=embedded_ratio >= 0.7,
    )
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "reads": reads, "e2e": e2e,
                                         "polling": poll, "alone": alone}))  # fmt: skip
    print()
    print(figures_line(**figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
