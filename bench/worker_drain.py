"""Target 4: votes/s drained by worker.py against a bare loop, same endpoint, same run.

The queue is filled with N queued votes (the messages intake sends), then
one consumer process starts: worker.py, or bench.bare_worker (receive 10,
one transaction, delete batch; nothing else). This process watches the
topic's tallies; the rate is taken from the first vote it sees recorded to
the last, so process start-up is left out for both. Runs alternate in ABBA
order on one stack; each adjacent pair gives a ratio worker/bare, and the
median over pairs is the figure.

    .venv/bin/python -m bench.worker_drain [--votes 400] [--pairs 5]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

from bench.common import (
    PYTHON,
    Lab,
    cpu_seconds,
    figures_line,
    log,
    median,
    table,
    total_votes,
    voting_for,
)
from core.rules.clock import utc_now
from core.rules.votes import VoteMessage
from core.schemas.topics import ChoiceIn, TopicIn


def fill(voting, topic: dict, count: int) -> None:
    """Queue `count` votes as intake does (one message each), ten per SendMessageBatch."""
    choices = [c["id"] for c in topic["choices"]]
    client, url = voting.queue.client, voting.queue.url
    for start in range(0, count, 10):
        entries = []
        for i in range(start, min(start + 10, count)):
            vote = VoteMessage(
                id=str(uuid.uuid4()), topic_id=topic["id"],
                choice_id=choices[i % len(choices)], queued_at=utc_now(),
            )  # fmt: skip
            entries.append(
                {"Id": str(i - start), "MessageBody": vote.model_dump_json(exclude_none=True)}
            )
        client.send_message_batch(QueueUrl=url, Entries=entries)


def drain_rate(lab: Lab, env: dict, voting, topic: dict, count: int, command: list[str]) -> dict:
    start_total = total_votes(voting, topic["id"])
    fill(voting, topic, count)
    process = lab.worker(env, command=command)
    target = start_total + count
    first_at = first_seen = None
    deadline = time.perf_counter() + 300
    total = start_total
    cpu_first = 0.0
    while total < target and time.perf_counter() < deadline:
        time.sleep(0.1)  # 10 Hz: the watcher's queries load the same moto
        total = total_votes(voting, topic["id"])
        if first_at is None and total > start_total:
            first_at, first_seen = time.perf_counter(), total - start_total
            cpu_first = cpu_seconds(process.pid)
    end_at = time.perf_counter()
    cpu = cpu_seconds(process.pid) - cpu_first
    lab.stop(process)
    drained = total - start_total
    if first_at is None or drained < count or end_at <= first_at:
        raise RuntimeError(f"only {drained} of {count} votes recorded")
    return {"votes_per_s": (drained - first_seen) / (end_at - first_at),
            "seconds": end_at - first_at, "votes": drained,
            "cpu_ms_per_vote": 1000 * cpu / (drained - first_seen)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=400)
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    commands = {
        "worker.py": [PYTHON, "worker.py"],
        "bare loop": [PYTHON, "-m", "bench.bare_worker"],
    }
    with Lab(name="drain") as lab:
        env = lab.env(WORKER_WAIT_SECONDS="1")
        voting = voting_for(env)
        topic = voting.topics.create(
            TopicIn(title="Drain", choices=[ChoiceIn(description=f"c{i}") for i in range(3)])
        )
        drain_rate(lab, env, voting, topic, 100, commands["worker.py"])  # warm-up
        runs = []
        for pair in range(args.pairs):
            order = ("bare loop", "worker.py") if pair % 2 == 0 else ("worker.py", "bare loop")
            for name in order:
                runs.append((name, drain_rate(lab, env, voting, topic, args.votes, commands[name])))
                log(f"{name}: {runs[-1][1]['votes_per_s']:.1f} votes/s")

    rows, ratios = [], []
    for pair in range(args.pairs):
        result = dict(runs[2 * pair : 2 * pair + 2])
        ratios.append(result["worker.py"]["votes_per_s"] / result["bare loop"]["votes_per_s"])
        rows.append([pair + 1, " then ".join(n for n, _ in runs[2 * pair : 2 * pair + 2]),
                     result["bare loop"]["votes_per_s"], result["worker.py"]["votes_per_s"],
                     ratios[-1]])  # fmt: skip
    print("## Worker efficiency (target 4: ratio >= 0.9)\n")
    print(
        f"{args.votes} queued votes per run, drained by one process; rate from the first "
        "recorded vote to the last (start-up excluded); ABBA order on one stack.\n"
    )
    print(table(["pair", "order", "bare loop votes/s", "worker.py votes/s", "ratio"], rows))
    cpu = {name: median([r["cpu_ms_per_vote"] for n, r in runs if n == name]) for name in commands}
    print(
        f"\nCPU per vote (median, while draining): worker.py {cpu['worker.py']:.2f} ms, "
        f"bare loop {cpu['bare loop']:.2f} ms (the rest of a batch's time is waiting on AWS)."
    )
    figures = dict(
        worker_ratio=median(ratios),
        worker_votes_per_s=median([r["votes_per_s"] for n, r in runs if n == "worker.py"]),
        bare_votes_per_s=median([r["votes_per_s"] for n, r in runs if n == "bare loop"]),
        worker_cpu_ms_per_vote=cpu["worker.py"],
        bare_cpu_ms_per_vote=cpu["bare loop"],
        target_worker_met=median(ratios) >= 0.9,
    )
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "runs": runs}))
    print()
    print(figures_line(**figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
