"""Target 3: POST /votes throughput, p50 and p99 against a SendMessage-only route, same run.

One gunicorn (2 gevent processes, as `make run`) serves the real app
plus bench.baseline_app's POST /_bench/send, which only calls SendMessage
(one message per request, as intake would without group commit; POST /votes
groups concurrent votes into SendMessageBatch calls, core/aws/group_send.py).
wrk (2 threads, 16 connections, keep-alive) drives each route for a few
seconds at a time, in ABBA order (baseline, votes, votes, baseline, ...) so
drift on this shared machine hits both alike. Each adjacent pair gives a
throughput ratio (votes / baseline) and a p99 ratio (baseline p99 / votes
p99; 1.0 = same, lower = votes slower); the medians over pairs are the
figures. No worker runs: both routes only queue, into the same queue.

Ten pairs: on this shared 2-core box one pair's ratio ranges from 0.7 to
1.5 as other work comes and goes, so only a median over many pairs says
something.

    .venv/bin/python -m bench.intake [--pairs 10] [--seconds 5]
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

import requests

from bench.common import Lab, create_topic, figures_line, log, median, table

WRK = ["wrk", "--threads", "2", "--connections", "16", "--latency"]


def lua(body: dict) -> str:
    return (
        'wrk.method = "POST"\n'
        f"wrk.body = {json.dumps(json.dumps(body))}\n"
        'wrk.headers["Content-Type"] = "application/json"\n'
    )


def run_wrk(url: str, script: Path, seconds: int) -> dict:
    out = subprocess.run(
        [*WRK, "--duration", f"{seconds}s", "--script", str(script), url],
        capture_output=True,
        text=True,
        timeout=seconds + 30,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = _ms(re.search(r"\s99%\s+([\d.]+\w+)", out).group(1))
    p50 = _ms(re.search(r"\s50%\s+([\d.]+\w+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors:.*", out)
    return {
        "rps": rps,
        "p50_ms": p50,
        "p99_ms": p99,
        "requests": total,
        "non_2xx": int(bad.group(1)) if bad else 0,
        "socket_errors": errors.group(0) if errors else "",
    }


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=10)
    parser.add_argument("--seconds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    with Lab(name="intake") as lab:
        env = lab.env()
        _, base = lab.web(env, workers=2, app="bench.baseline_app:create_app()")
        topic = create_topic(base)
        vote = {"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
        votes_lua, base_lua = lab.dir / "votes.lua", lab.dir / "baseline.lua"
        votes_lua.write_text(lua(vote))
        base_lua.write_text(lua(vote))  # the same bytes on the wire; the route ignores them
        routes = {"votes": (f"{base}/votes", votes_lua),
                  "baseline": (f"{base}/_bench/send", base_lua)}  # fmt: skip
        for name, (url, _) in routes.items():  # a refusal measured as throughput says nothing
            answer = requests.post(url, json=vote, timeout=30)
            if answer.status_code != 202:
                raise SystemExit(f"{name}: {url} answered {answer.status_code}, not 202")
        for name in routes:  # warm-up: connections, imports, caches
            run_wrk(*routes[name], 2)
        runs: list[tuple[str, dict]] = []
        for pair in range(args.pairs):
            order = ("baseline", "votes") if pair % 2 == 0 else ("votes", "baseline")
            for name in order:
                runs.append((name, run_wrk(*routes[name], args.seconds)))
                log(f"{name}: {runs[-1][1]['rps']:.0f} req/s, p99 {runs[-1][1]['p99_ms']:.0f} ms")

    rows, rps_ratios, p99_ratios, p50_ratios = [], [], [], []
    for pair in range(args.pairs):
        a, b = runs[2 * pair], runs[2 * pair + 1]
        result = {a[0]: a[1], b[0]: b[1]}
        v, s = result["votes"], result["baseline"]
        rps_ratios.append(v["rps"] / s["rps"])
        p99_ratios.append(s["p99_ms"] / v["p99_ms"])
        p50_ratios.append(s["p50_ms"] / v["p50_ms"])
        rows.append([pair + 1, f"{a[0]} then {b[0]}", s["rps"], v["rps"], rps_ratios[-1],
                     s["p99_ms"], v["p99_ms"], p99_ratios[-1]])  # fmt: skip
    failures = sum(r["non_2xx"] for _, r in runs)
    print("## Intake against a bare SendMessage route (target: throughput ratio >= 1.5)\n")
    print(
        f"wrk, {WRK[2]} threads x {WRK[4]} connections, {args.seconds} s per run, ABBA order; "
        "gunicorn 2 gevent processes; the same moto. Ratios: throughput votes/baseline, "
        "p50 and p99 baseline/votes (above 1: POST /votes faster than one SendMessage per "
        "request).\n"
    )
    print(table(["pair", "order", "baseline req/s", "votes req/s", "throughput ratio",
                 "baseline p99 ms", "votes p99 ms", "p99 ratio"], rows))  # fmt: skip
    print(f"\nNon-2xx answers over all runs: {failures}.")
    figures = dict(
        intake_throughput_ratio=median(rps_ratios),
        intake_p99_ratio=median(p99_ratios),
        intake_p50_ratio=median(p50_ratios),
        votes_rps_median=median([r["rps"] for n, r in runs if n == "votes"]),
        baseline_rps_median=median([r["rps"] for n, r in runs if n == "baseline"]),
        non_2xx=failures,
        target_intake_met=median(rps_ratios) >= 1.5,
    )
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "runs": runs}))
    print()
    print(figures_line(**figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
