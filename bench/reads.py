"""Target 5: results reads that do not grow with the votes, and polling that does not multiply them.

Part 1, latency. One topic keeps 10 votes; another is filled to 1,000,
10,000 and 100,000 stored votes (vote records and tallies, as the worker
leaves them). At each size, GET /topics/{id}?include_votes=true is asked of
both topics in alternation, one request at a time, with the results cache
off (RESULTS_CACHE_SECONDS=0) so every request reads DynamoDB: the ratio of
the medians (big/small) is the figure. The answers are checked against the
stored counts, and the AWS requests per view are counted (bench.awscount).

Part 2, polling. 1,000 simulated viewers (wrk, 1,000 connections, each
asking every 2 s) poll the htmx results partial with If-None-Match, as
browsers do, for 20 s while votes keep arriving (a worker records a trickle
of them, so the results do change). The web app runs with its defaults
(RESULTS_CACHE_SECONDS=1, TOPIC_CACHE_SECONDS=2, 2 processes); its DynamoDB
requests are counted per process.

    .venv/bin/python -m bench.reads [--sizes 1000,10000,100000] [--requests 120]
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
    Lab,
    counts_when_idle,
    create_topic,
    figures_line,
    median,
    post_votes,
    seed_votes,
    table,
)
from bench.requests_per_vote import original_view_read_units

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


def latency_part(lab: Lab, sizes: list[int], per_size: int) -> tuple[list, dict]:
    env = lab.env(RESULTS_CACHE_SECONDS="0")
    counts = lab.dir / "latency-counts"
    _, base = lab.web(env, workers=2, threads=8, count_dir=counts)
    small, big = create_topic(base), create_topic(base)
    seed_votes(env, small, 10)
    rows, stored = [], 0
    session = requests.Session()
    for size in sizes:
        seed_votes(env, big, size - stored)
        stored = size
        for _ in range(10):  # warm-up
            timed_get(session, f"{base}/topics/{big['id']}")
        before = counts_when_idle(counts)
        small_ms, big_ms = [], []
        for i in range(per_size):
            for topic, bucket in ((small, small_ms), (big, big_ms))[:: 1 if i % 2 else -1]:
                ms, body = timed_get(session, f"{base}/topics/{topic['id']}")
                bucket.append(ms)
                expected = 10 if topic is small else stored
                if body["total_votes"] != expected:
                    raise RuntimeError(f"{topic['id']}: {body['total_votes']} != {expected}")
        after = counts_when_idle(counts)
        requests_made = sum((after["requests"] - before["requests"]).values())
        rows.append(
            {
                "stored": size,
                "small_ms": median(small_ms),
                "big_ms": median(big_ms),
                "ratio": median(big_ms) / median(small_ms),
                "requests_per_view": requests_made / (2 * per_size),
                "read_units_per_view": requests_made / (2 * per_size),  # each under 4 KB
                "original_read_units_per_view": original_view_read_units(size),
            }
        )
    return rows, env


def polling_part(lab: Lab, viewers: int, seconds: int, trickle_per_s: float) -> dict:
    env = lab.env()  # the defaults: results cached 1 s, topics 2 s
    counts = lab.dir / "poll-counts"
    web, base = lab.web(env, workers=2, threads=8, count_dir=counts)
    lab.worker(env)
    topic = create_topic(base)
    script = lab.dir / "poll.lua"
    script.write_text(POLL_LUA)
    stop = threading.Event()

    def trickle():
        while not stop.wait(1 / trickle_per_s):
            post_votes(base, topic, 1, concurrency=1)

    time.sleep(1.2)  # every process has written its latest counts
    before = awscount.read_each(counts)
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
    per_process = []
    for pid, data in sorted(awscount.read_each(counts).items()):
        reqs = data["requests"] - before.get(pid, {}).get("requests", Counter())
        per_process.append(
            {
                "pid": pid,
                "queries": reqs["dynamodb.Query"],
                "getitems": reqs["dynamodb.GetItem"],
                "query_per_s": reqs["dynamodb.Query"] / elapsed,
                "getitem_per_s": reqs["dynamodb.GetItem"] / elapsed,
            }
        )
    status = re.search(r"STATUS 200=(\d+) 304=(\d+) other=(\d+)", out)
    ok, not_modified, other = (int(x) for x in status.groups())
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {
        "viewers": viewers,
        "seconds": elapsed,
        "requests_per_s": rps,
        "ok": ok,
        "not_modified": not_modified,
        "other": other,
        "per_process": per_process,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--requests", type=int, default=120, help="per topic and size")
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]

    with Lab(name="reads") as lab:
        rows, _ = latency_part(lab, sizes, args.requests)
    with Lab(name="polling") as lab:
        polling = polling_part(lab, args.viewers, args.seconds, trickle_per_s=5)

    print("## Reads that do not grow (target 5: ratio <= 1.2)\n")
    print(
        f"GET /topics/{{id}}?include_votes=true, results cache off, {args.requests} requests per "
        "topic and size, alternating with a 10-vote topic; medians. The original design's "
        "read units per view are computed (every vote record read).\n"
    )
    print(table(
        ["stored votes", "10-vote topic ms", "big topic ms", "ratio big/small",
         "AWS requests per view", "read units per view", "original: read units per view"],
        [[r["stored"], r["small_ms"], r["big_ms"], r["ratio"], r["requests_per_view"],
          r["read_units_per_view"], r["original_read_units_per_view"]] for r in rows],
    ))  # fmt: skip
    print("\n## Results polling (target 5: at most 1 tally read per second per web process)\n")
    print(
        f"{polling['viewers']} viewers polling the results partial every 2 s with ETags for "
        f"{polling['seconds']:.0f} s ({polling['requests_per_s']:.0f} requests/s served: "
        f"{polling['ok']} answered 200, {polling['not_modified']} answered 304, "
        f"{polling['other']} other), votes arriving meanwhile. DynamoDB requests per web process:\n"
    )
    print(table(
        ["web process", "tally Queries", "per second", "topic GetItems", "per second"],
        [[p["pid"], p["queries"], p["query_per_s"], p["getitems"], p["getitem_per_s"]]
         for p in polling["per_process"]],
    ))  # fmt: skip
    biggest = next(r for r in rows if r["stored"] == max(sizes))
    worst = max((p["query_per_s"] for p in polling["per_process"]), default=0.0)
    figures = dict(
        read_ratio_100k=biggest["ratio"],
        read_ms_small=biggest["small_ms"],
        read_ms_big=biggest["big_ms"],
        requests_per_view=biggest["requests_per_view"],
        poll_requests_per_s=polling["requests_per_s"],
        poll_304_share=polling["not_modified"] / max(1, polling["ok"] + polling["not_modified"]),
        tally_reads_per_s_per_process_max=worst,
        web_processes=len(polling["per_process"]),
        target_read_ratio_met=biggest["ratio"] <= 1.2,
        target_polling_met=worst <= 1.0 and polling["other"] == 0,
    )
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "sizes": rows, "polling": polling}))
    print()
    print(figures_line(**figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
