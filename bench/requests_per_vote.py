"""Targets 1 and 2: AWS requests and billed units per vote, and what a million votes cost.

10,000 votes go through the real HTTP API (POST /votes from 16 concurrent
clients) while worker.py records them. The web app (gunicorn, 2 processes)
and the worker run unchanged under bench.awscount, which counts with botocore
event hooks every request they send, retries included. Counts are taken when
everything is idle, before and after the votes; the difference is the cost
of those votes, idle long polls and topic-cache refreshes included.

Two regimes:
- steady: the worker records while the votes arrive (batches are as full as
  the arrival rate makes them);
- backlog: 1,000 votes wait in the queue before the worker starts, so every
  receive returns a full batch of 10 (a busy system's steady state).

Write units are priced as AWS bills them: every item of a TransactWriteItems
costs 2 units per started KB (Put, Update and ConditionCheck alike), and each
vote record also writes the votes table's index (topic_id-created-index, all
attributes projected, 100 bytes of index overhead): 1 unit per started KB,
because index updates are ordinary writes that follow the committed
transaction (at the transactional rate it would be 1 unit more per vote).
Reads: a consistent GetItem or Query costs 1 unit per started 4 KB.

    .venv/bin/python -m bench.requests_per_vote [--votes 10000] [--backlog 1000]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections import Counter
from pathlib import Path

from bench import prices
from bench.awscount import item_size
from bench.common import (
    Lab,
    counts_when_idle,
    cpu_seconds,
    create_topic,
    figures_line,
    log,
    post_votes,
    table,
    voting_for,
    wait_for_total,
)

SQS_OPS = {"SendMessage", "ReceiveMessage", "DeleteMessageBatch", "GetQueueUrl",
           "ChangeMessageVisibilityBatch", "GetQueueAttributes", "DeleteMessage"}  # fmt: skip
# The original: SendMessage, ReceiveMessage and DeleteMessage per vote, one
# PutItem (1 unit, standard write of a record under 1 KB) and, for results,
# every vote record of the topic read (Query, eventually consistent: half a
# unit per started 4 KB per 1 MB page).
ORIGINAL_SQS_PER_VOTE = 3
ORIGINAL_WRITE_UNITS_PER_VOTE = 1
ORIGINAL_RECORD = {  # the original's vote record: id, topic_id, choice_id, created
    "id": {"S": "5f88882c-a3a3-417d-aab9-75ba337ceb47"},
    "topic_id": {"S": "ecea1557-4763-4f7b-b218-8af55294667c"},
    "choice_id": {"S": "6042f664-fac3-4c4a-bf3d-9646b33f9d73"},
    "created": {"S": "2021-12-28T01:15:40.399351"},
}
VIEW_TOPIC_VOTES = 100_000
VIEWS = 10_000
MILLION = 1_000_000


def original_view_read_units(votes: int) -> float:
    """Read units of one results view in the original design: every vote record, paged."""
    page_items = (1024 * 1024) // item_size(ORIGINAL_RECORD)
    units, left = 0.0, votes
    while left > 0:
        items = min(left, page_items)
        units += 0.5 * math.ceil(items * item_size(ORIGINAL_RECORD) / 4096)
        left -= items
    return units


def phase_cost(diff: dict, votes: int, sizes: dict) -> dict:
    """Per-vote requests and units from a counts difference."""
    requests: Counter = diff["requests"]
    tx: Counter = diff["transactions"]
    sqs = sum(n for op, n in requests.items() if op.split(".")[1] in SQS_OPS)
    ddb = sum(n for op, n in requests.items() if op.startswith("dynamodb."))
    write_units = 0
    for key, n in tx.items():
        kind, _, rest = key.partition(".")
        table_name, _, measure = rest.partition(".")
        if kind == "Put" and measure == "kb":
            write_units += 2 * n
        elif kind == "Put" and measure == "kb_indexed" and table_name == "votes":
            write_units += n  # topic_id-created-index projects every attribute
        elif kind in ("Update", "ConditionCheck", "Delete") and not measure:
            write_units += n * 2 * kb_of(sizes.get(table_name, 1))
    read_units = requests["dynamodb.GetItem"] + requests["dynamodb.Query"]  # each under 4 KB
    deletes = requests["sqs.DeleteMessageBatch"] or 1
    return {
        "votes": votes,
        "requests": sqs + ddb,
        "sqs": sqs,
        "dynamodb": ddb,
        "per_vote": (sqs + ddb) / votes,
        "sqs_per_vote": sqs / votes,
        "write_units_per_vote": write_units / votes,
        "read_units_per_vote": read_units / votes,
        "mean_batch": votes / deletes,
        "by_op": dict(sorted(requests.items())),
    }


def kb_of(size_bytes: int) -> int:
    return max(1, math.ceil(size_bytes / 1024))


def diff(after: dict, before: dict) -> dict:
    return {key: after[key] - before[key] for key in after}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=10_000)
    parser.add_argument("--backlog", type=int, default=1_000)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    with Lab(name="requests") as lab:
        env = lab.env()
        counts = lab.dir / "counts"
        _, base = lab.web(env, workers=2, threads=8, count_dir=counts)
        worker = lab.worker(env, count_dir=counts)
        voting = voting_for(env)
        topic = create_topic(base)
        stored = voting.store.client.get_item(
            TableName=voting.store.names.topics, Key={"id": {"S": topic["id"]}}
        )["Item"]
        sizes = {"topics": item_size(stored), "tallies": 150}

        recorded = 0
        warmup = 50
        assert set(post_votes(base, topic, warmup)) == {202}
        recorded += warmup
        wait_for_total(voting, topic["id"], recorded, timeout=60)

        # Steady: intake and worker at once.
        before = counts_when_idle(counts)
        web_pids = [int(p.stem) for p in counts.glob("*.json") if int(p.stem) != worker.pid]
        cpu_before = {pid: cpu_seconds(pid) for pid in [*web_pids, worker.pid]}
        start = time.perf_counter()
        statuses = post_votes(base, topic, args.votes, concurrency=16)
        intake_seconds = time.perf_counter() - start
        recorded += statuses.count(202)
        waited, total = wait_for_total(voting, topic["id"], recorded, timeout=300)
        seconds = time.perf_counter() - start
        cpu = {pid: cpu_seconds(pid) - used for pid, used in cpu_before.items()}
        steady = phase_cost(diff(counts_when_idle(counts), before), args.votes, sizes)
        log(
            f"steady: {args.votes} votes in {seconds:.0f} s, {steady['per_vote']:.3f} requests/vote"
        )
        steady.update(
            web_cpu_ms_per_vote=1000 * sum(cpu[p] for p in web_pids) / args.votes,
            worker_cpu_ms_per_vote=1000 * cpu[worker.pid] / args.votes,
            accepted=statuses.count(202),
            recorded=total - warmup,
            intake_votes_per_s=args.votes / intake_seconds,
            end_to_end_votes_per_s=args.votes / seconds,
        )

        # Backlog: the votes wait for the worker.
        lab.stop(worker)
        before = counts_when_idle(counts)
        statuses = post_votes(base, topic, args.backlog, concurrency=16)
        recorded += statuses.count(202)
        lab.worker(env, count_dir=counts)
        waited, total = wait_for_total(voting, topic["id"], recorded, timeout=300)
        backlog = phase_cost(diff(counts_when_idle(counts), before), args.backlog, sizes)
        backlog.update(accepted=statuses.count(202), recorded=total - recorded + args.backlog)
        log(f"backlog: {backlog['per_vote']:.3f} requests/vote")

    print("## AWS requests per vote (target 1: at most 1.4)\n")
    print(
        f"{args.votes} votes over HTTP with the worker running (steady), then {args.backlog} "
        "votes queued before the worker starts (backlog). Counted in the web and worker "
        "processes with botocore `before-send` hooks.\n"
    )
    ops = sorted(set(steady["by_op"]) | set(backlog["by_op"]))
    rows = [[op, steady["by_op"].get(op, 0), backlog["by_op"].get(op, 0)] for op in ops]
    rows += [
        ["**requests, all**", steady["requests"], backlog["requests"]],
        ["**requests per vote**", steady["per_vote"], backlog["per_vote"]],
        ["SQS requests per vote", steady["sqs_per_vote"], backlog["sqs_per_vote"]],
        ["mean batch (votes per DeleteMessageBatch)", steady["mean_batch"], backlog["mean_batch"]],
        ["DynamoDB write units per vote", steady["write_units_per_vote"],
         backlog["write_units_per_vote"]],
        ["DynamoDB read units per vote", steady["read_units_per_vote"],
         backlog["read_units_per_vote"]],
        ["votes accepted / recorded", f"{steady['accepted']} / {steady['recorded']}",
         f"{backlog['accepted']} / {backlog['recorded']}"],
    ]  # fmt: skip
    print(table(["operation", f"steady ({args.votes} votes)", f"backlog ({args.backlog})"], rows))
    print(
        f"\nSteady intake ran at {steady['intake_votes_per_s']:.0f} votes/s; all recorded at "
        f"{steady['end_to_end_votes_per_s']:.0f} votes/s end to end (this shared machine). "
        f"CPU per vote: {steady['web_cpu_ms_per_vote']:.1f} ms in the web processes, "
        f"{steady['worker_cpu_ms_per_vote']:.1f} ms in the worker (counting hooks included)."
    )

    # Cost of 1M votes + 10,000 views of a 100k-vote topic.
    view_ours = 2  # one consistent GetItem + one consistent Query, each under 4 KB
    view_original = original_view_read_units(VIEW_TOPIC_VOTES)
    cost_rows = []
    for name, phase in (("ours, steady", steady), ("ours, backlog", backlog)):
        votes_cost = prices.dollars(
            phase["sqs_per_vote"] * MILLION,
            phase["write_units_per_vote"] * MILLION,
            phase["read_units_per_vote"] * MILLION,
        )
        views_cost = prices.dollars(0, 0, view_ours * VIEWS)
        cost_rows.append([name, votes_cost, views_cost, votes_cost + views_cost])
    original_votes = prices.dollars(
        ORIGINAL_SQS_PER_VOTE * MILLION, ORIGINAL_WRITE_UNITS_PER_VOTE * MILLION, 0
    )
    original_views = prices.dollars(0, 0, view_original * VIEWS)
    cost_rows.append(["original design", original_votes, original_views,
                      original_votes + original_views])  # fmt: skip
    print("\n## Cost per million votes (target 2)\n")
    print(
        f"1,000,000 votes plus {VIEWS:,} results views of a topic with {VIEW_TOPIC_VOTES:,} votes, "
        f"at {prices.REGION} on-demand list prices ({prices.PRICES_AS_OF}): SQS "
        f"${prices.SQS_PER_MILLION_REQUESTS}/M requests, DynamoDB "
        f"${prices.DDB_PER_MILLION_WRITE_UNITS}/M write units, "
        f"${prices.DDB_PER_MILLION_READ_UNITS}/M read units. A view costs us {view_ours} read "
        f"units uncached; the original read all {VIEW_TOPIC_VOTES:,} records: "
        f"{view_original:,.0f} read units per view.\n"
    )
    print(table(["design", "1M votes ($)", f"{VIEWS:,} views ($)", "total ($)"], cost_rows))
    ours_total, original_total = cost_rows[0][3], cost_rows[-1][3]

    figures = dict(
        requests_per_vote=steady["per_vote"],
        requests_per_vote_backlog=backlog["per_vote"],
        write_units_per_vote=steady["write_units_per_vote"],
        read_units_per_vote=steady["read_units_per_vote"],
        mean_batch=steady["mean_batch"],
        web_cpu_ms_per_vote=steady["web_cpu_ms_per_vote"],
        worker_cpu_ms_per_vote=steady["worker_cpu_ms_per_vote"],
        cost_per_million_votes=cost_rows[0][1],
        cost_workload=ours_total,
        cost_workload_original=original_total,
        cost_ratio_original_over_ours=original_total / ours_total,
        target_requests_met=steady["per_vote"] <= 1.4,
    )
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "steady": steady,
                                         "backlog": backlog}, default=str))  # fmt: skip
    print()
    print(figures_line(**figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
