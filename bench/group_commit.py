"""A vote's web CPU and latency, grouped against one message per request, and against
GET /healthz (the floor of any request in this stack).

One stack on one moto; two gunicorn servers of the same app in front of it
(2 gevent processes, as `make run`): one with group commit (the
default), one with SQS_GROUP_COMMIT=0 (one SendMessage per vote, as before).
No counting hooks here: CPU is read from /proc, for the server's worker
processes only. No worker runs (both servers only queue, into one queue).

- CPU per request: wrk (2 threads, 16 connections, keep-alive) drives POST
  /votes on each server and GET /healthz on the grouped one, a few seconds
  each, in turn and the order reversed every round, so drift on this shared
  machine hits all alike; CPU used / requests answered. Figures: medians
  over rounds of grouped / ungrouped, and grouped vote / healthz.
- GET /healthz twice: flat out, and at the rate the grouped votes just ran
  (each connection pauses between requests, wrk's `delay()`). On this stack a
  request's CPU depends on the rate: votes run at a few hundred a second (moto
  answers no faster) while healthz flat out runs several times faster, and at
  that rate a process wakes once for many requests instead of once for each
  (measured under gunicorn's threads: 0.56 ms of user CPU against 0.84 ms for
  the same healthz). So "vote / healthz at the
  same rate" compares like with like: what a vote costs beyond an empty
  request arriving as often; "vote / healthz flat out" is reported beside it.
  The same healthz over the ungrouped vote is the floor of "grouped /
  ungrouped": a grouped vote costing exactly an empty request would score it.
- p50 with one client: one keep-alive client sends votes one after another,
  alternating servers (ABBA); the ratio of the median latencies says whether
  grouping adds a wait when nothing else is happening (it should not).

    .venv/bin/python -m bench.group_commit [--rounds 6] [--seconds 4] [--single 200]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import requests

from bench.common import Lab, cpu_seconds, create_topic, figures_line, log, median, table
from bench.intake import WRK, lua, run_wrk


def worker_pids(master: subprocess.Popen) -> list[int]:
    """gunicorn's worker processes: the children of its master."""
    found = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def cpu_per_request(master, url: str, script: Path, seconds: int) -> dict:
    pids = worker_pids(master)
    before = sum(cpu_seconds(pid) for pid in pids)
    result = run_wrk(url, script, seconds)
    used = sum(cpu_seconds(pid) for pid in pids) - before
    result["cpu_ms"] = 1000 * used / max(1, result["requests"])
    return result


CONNECTIONS = int(WRK[WRK.index("--connections") + 1])


def paced_get(directory: Path, pause_ms: int) -> Path:
    """A wrk script whose connections each pause `pause_ms` after every answer."""
    script = directory / f"get-{pause_ms}ms.lua"
    script.write_text(f'wrk.method = "GET"\nfunction delay()\n  return {pause_ms}\nend\n')
    return script


class Pacer:
    """Pauses that make GETs arrive at a given rate: connections / (pause + answer) = rate.

    The answer's time (and wrk's own, per request) is learnt from each paced
    run, so the next run's pause hits the rate instead of falling short of it
    (a slower rate would make healthz cost more per request, flattering the vote).
    """

    def __init__(self, answer_ms: float = 1.0):
        self.answer_ms = answer_ms

    def pause_for(self, rate: float) -> int:
        return max(0, round(1000 * CONNECTIONS / rate - self.answer_ms))

    def learn(self, pause_ms: int, rate: float) -> None:
        self.answer_ms = max(0.0, 1000 * CONNECTIONS / rate - pause_ms)


def single_client_p50(base: str, vote: dict, count: int) -> float:
    """Median ms of `count` votes sent one after another on one keep-alive connection."""
    times = []
    with requests.Session() as http:
        for _ in range(count):
            start = time.perf_counter()
            answer = http.post(f"{base}/votes", json=vote, timeout=30)
            times.append(1000 * (time.perf_counter() - start))
            assert answer.status_code == 202, answer.text
    return median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=4)
    parser.add_argument("--single", type=int, default=200, help="votes per single-client run")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    with Lab(name="group") as lab:
        env = lab.env()
        grouped, grouped_base = lab.web(env, workers=2)
        ungrouped, ungrouped_base = lab.web({**env, "SQS_GROUP_COMMIT": "0"}, workers=2)
        topic = create_topic(grouped_base)
        vote = {"topic_id": topic["id"], "choice_id": topic["choices"][0]["id"]}
        votes_lua, get_lua = lab.dir / "votes.lua", lab.dir / "get.lua"
        votes_lua.write_text(lua(vote))
        get_lua.write_text('wrk.method = "GET"\n')
        routes = {
            "grouped": (grouped, f"{grouped_base}/votes", votes_lua),
            "ungrouped": (ungrouped, f"{ungrouped_base}/votes", votes_lua),
            "healthz": (grouped, f"{grouped_base}/healthz", get_lua),
        }
        for route in routes.values():  # warm-up: connections, imports, caches
            run_wrk(*route[1:], 2)
        pacer = Pacer()
        calibration = run_wrk(f"{grouped_base}/healthz", paced_get(lab.dir, 20), 2)
        pacer.learn(20, calibration["rps"])
        runs: list[dict] = []
        for round_ in range(args.rounds):
            # healthz at the votes' rate right after the grouped votes, in either order.
            order = ["grouped", "healthz_same_rate", "ungrouped", "healthz"]
            order = order if round_ % 2 == 0 else order[2:][::-1] + order[:2]
            found = {}
            for name in order:
                if name == "healthz_same_rate":
                    pause_ms = pacer.pause_for(found["grouped"]["rps"])
                    route = (grouped, f"{grouped_base}/healthz", paced_get(lab.dir, pause_ms))
                    found[name] = cpu_per_request(*route, args.seconds)
                    pacer.learn(pause_ms, found[name]["rps"])
                else:
                    found[name] = cpu_per_request(*routes[name], args.seconds)
            runs.append(found)
            log(", ".join(f"{n} {r['rps']:.0f} req/s {r['cpu_ms']:.2f} ms CPU"
                          for n, r in found.items()))  # fmt: skip
        single = []
        for pair in range(args.rounds):
            order = ("grouped", "ungrouped") if pair % 2 == 0 else ("ungrouped", "grouped")
            bases = {"grouped": grouped_base, "ungrouped": ungrouped_base}
            single.append({name: single_client_p50(bases[name], vote, args.single)
                           for name in order})  # fmt: skip
            log(f"one client p50: {single[-1]}")

    cpu_ratio = [r["grouped"]["cpu_ms"] / r["ungrouped"]["cpu_ms"] for r in runs]
    floor_ratio = [r["grouped"]["cpu_ms"] / r["healthz"]["cpu_ms"] for r in runs]
    same_rate_ratio = [r["grouped"]["cpu_ms"] / r["healthz_same_rate"]["cpu_ms"] for r in runs]
    rps_ratio = [r["grouped"]["rps"] / r["ungrouped"]["rps"] for r in runs]
    # The lowest grouped / ungrouped could be: a vote costing no more than an empty
    # request arriving as often (healthz at the grouped votes' rate).
    bound_ratio = [r["healthz_same_rate"]["cpu_ms"] / r["ungrouped"]["cpu_ms"] for r in runs]
    p50_ratio = [s["grouped"] / s["ungrouped"] for s in single]
    print("## Group commit: web CPU per vote and latency\n")
    print(
        f"wrk, 2 threads x 16 connections, {args.seconds} s per run, {args.rounds} rounds of "
        "POST /votes grouped, GET /healthz at the rate the grouped votes just ran (each "
        "connection pausing between requests), POST /votes ungrouped (SQS_GROUP_COMMIT=0) "
        "and GET /healthz flat out, the order reversed every round (healthz at the votes' "
        "rate always right after the grouped votes); two gunicorn servers (2 gevent processes) of "
        "one stack on one moto, no counting hooks. CPU: the server's worker processes, from "
        "/proc, per request answered.\n"
    )
    rows = [
        [i + 1, r["grouped"]["rps"], r["ungrouped"]["rps"], r["healthz_same_rate"]["rps"],
         r["healthz"]["rps"], r["grouped"]["cpu_ms"], r["ungrouped"]["cpu_ms"],
         r["healthz_same_rate"]["cpu_ms"], r["healthz"]["cpu_ms"], cpu_ratio[i],
         bound_ratio[i], same_rate_ratio[i], floor_ratio[i]]
        for i, r in enumerate(runs)
    ]  # fmt: skip
    print(table(["round", "grouped req/s", "ungrouped req/s", "healthz same rate req/s",
                 "healthz flat out req/s", "grouped CPU ms", "ungrouped CPU ms",
                 "healthz same rate CPU ms", "healthz flat out CPU ms",
                 "CPU grouped / ungrouped", "CPU healthz same rate / ungrouped",
                 "CPU vote / healthz same rate",
                 "CPU vote / healthz flat out"], rows))  # fmt: skip
    print(
        "\nThe target compares a vote with GET /healthz at the same rate: on this stack a "
        "request's CPU grows as the rate falls (a process wakes once per request "
        "instead of once for several), and the votes run at the few hundred a second moto "
        "answers while healthz flat out runs several times faster. The flat-out figure is "
        "the same comparison across that difference in rate. \"CPU healthz same rate / "
        "ungrouped\" is the floor of \"CPU grouped / ungrouped\": what a grouped vote "
        f"would score if it cost no more than an empty request arriving as often (median "
        f"{median(bound_ratio):.2f}). Where a vote's CPU goes: "
        'docs/architecture.md, "Where a vote\'s web CPU goes".'
    )
    print(
        f"\nOne client, {args.single} votes per run, one after another on one keep-alive "
        "connection, the two servers alternating (ABBA); median latency per run.\n"
    )
    print(table(["pair", "grouped p50 ms", "ungrouped p50 ms", "ratio"],
                [[i + 1, s["grouped"], s["ungrouped"], p50_ratio[i]]
                 for i, s in enumerate(single)]))  # fmt: skip
    non_2xx = sum(r[name]["non_2xx"] for r in runs for name in ("grouped", "ungrouped"))
    print(f"\nNon-2xx answers to votes over all runs: {non_2xx}.")
    figures = dict(
        cpu_grouped_over_ungrouped=median(cpu_ratio),
        cpu_healthz_same_rate_over_ungrouped=median(bound_ratio),
        cpu_vote_over_healthz_same_rate=median(same_rate_ratio),
        cpu_vote_over_healthz=median(floor_ratio),
        throughput_grouped_over_ungrouped=median(rps_ratio),
        p50_one_client_grouped_over_ungrouped=median(p50_ratio),
        grouped_cpu_ms=median([r["grouped"]["cpu_ms"] for r in runs]),
        ungrouped_cpu_ms=median([r["ungrouped"]["cpu_ms"] for r in runs]),
        healthz_same_rate_cpu_ms=median([r["healthz_same_rate"]["cpu_ms"] for r in runs]),
        healthz_cpu_ms=median([r["healthz"]["cpu_ms"] for r in runs]),
        non_2xx=non_2xx,
    )
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "runs": runs, "single": single}))
    print()
    print(figures_line(**figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
