"""Targets 1 and 2: AWS requests and billed units per vote, and what a million votes cost.

10,000 votes go through the real HTTP API (POST /votes from 16 concurrent
clients) while worker.py records them; then 1,000 votes each from 1 and 64
clients, and 1,000 from 16 clients to a second web server of the same stack
with group commit off (SQS_GROUP_COMMIT=0: one SendMessage per vote). The
web app (gunicorn, 2 processes)
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

The original design, as it really ran (measured side by side on the same
emulator, 1,000 votes, botocore hooks in every process): per vote SendMessage
1, ReceiveMessage 0.5 (two messages a receive), DeleteMessage 1, PutItem 1 and
DeleteItem 0.99 (its game rule takes a rival's vote), each write also written
to its GroupByTopicOrderByCreated index (1 unit more each), and a Query of the
first page of the topic's votes to pick the rival. What that Query reads
depends on its page: priced at its cheapest (half a unit, eventually
consistent) for the target, and at the first 1 MB page (up to 128 units) as
it reads once a topic has a few thousand votes. A results view reads the
first 1 MB page of votes, never more.

With `--limits dynamodb://` (or `memory://`) the settings' default vote limits are on,
counted there, and each vote names a voter of its own (a room behind one address): the
rate limits' own requests (the counters table's UpdateItem) and CPU are then in the figures.

    .venv/bin/python -m bench.requests_per_vote [--votes 10000] [--backlog 1000] [--each 1000]
        [--limits dynamodb://]
"""

from __future__ import annotations

import argparse
import functools
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
from bench.common import post_votes as common_post_votes

# The original design's request mix per vote (see the docstring).
ORIGINAL_SQS_PER_VOTE = 1 + 0.5 + 1  # SendMessage, ReceiveMessage (2 a receive), DeleteMessage
ORIGINAL_WRITES_PER_VOTE = 1 + 0.99  # PutItem, DeleteItem of a rival's vote
ORIGINAL_RECORD = {  # the original's vote record: id, topic_id, choice_id, created
    "id": {"S": "5f88882c-a3a3-417d-aab9-75ba337ceb47"},
    "topic_id": {"S": "ecea1557-4763-4f7b-b218-8af55294667c"},
    "choice_id": {"S": "6042f664-fac3-4c4a-bf3d-9646b33f9d73"},
    "created": {"S": "2021-12-28T01:15:40.399351"},
}
PAGE_BYTES = 1024 * 1024  # one Query page
VIEW_TOPIC_VOTES = 100_000
VIEWS = 10_000
MILLION = 1_000_000


def original_write_units_per_vote() -> float:
    """Each PutItem and DeleteItem: 1 unit per started KB on the table, and again on its index."""
    return ORIGINAL_WRITES_PER_VOTE * 2 * kb_of(item_size(ORIGINAL_RECORD))


def original_page_read_units(votes: int) -> float:
    """Read units of a Query of the first page of a topic's votes (eventually consistent)."""
    page = min(votes * item_size(ORIGINAL_RECORD), PAGE_BYTES)
    return max(0.5, 0.5 * math.ceil(page / 4096))


def original_view_read_units(votes: int) -> float:
    """Read units of one results view in the original design: the first page of votes."""
    return original_page_read_units(votes)


def original_cost(query_read_units: float) -> tuple[float, float]:
    """(1M votes, VIEWS views) in dollars, with the rival Query at `query_read_units`."""
    votes = prices.dollars(
        ORIGINAL_SQS_PER_VOTE * MILLION,
        original_write_units_per_vote() * MILLION,
        query_read_units * MILLION,
    )
    return votes, prices.dollars(0, 0, original_view_read_units(VIEW_TOPIC_VOTES) * VIEWS)


def phase_cost(diff: dict, votes: int, sizes: dict) -> dict:
    """Per-vote requests and units from a counts difference."""
    requests: Counter = diff["requests"]
    tx: Counter = diff["transactions"]
    sqs = sum(n for op, n in requests.items() if op.startswith("sqs."))
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
        elif kind == "Update" and measure == "indexed":
            write_units += n  # answers-by-count: a keys-only copy, under 1 KB
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


def measure(
    sizes: dict,
    base: str,
    voting,
    topic: dict,
    counts: Path,
    votes: int,
    clients: int,
    recorded: int,
    web_pids: list[int],
) -> tuple[dict, int]:
    """One counted phase: `votes` from `clients` clients, all recorded; (cost, recorded)."""
    before = counts_when_idle(counts)
    cpu_before = {pid: cpu_seconds(pid) for pid in web_pids}
    start = time.perf_counter()
    statuses = post_votes(base, topic, votes, concurrency=clients)
    intake_seconds = time.perf_counter() - start
    recorded += statuses.count(202)
    _, total = wait_for_total(voting, topic["id"], recorded, timeout=300)
    seconds = time.perf_counter() - start
    cost = phase_cost(diff(counts_when_idle(counts), before), votes, sizes)
    cost.update(
        clients=clients,
        accepted=statuses.count(202),
        recorded=total - (recorded - statuses.count(202)),
        web_cpu_ms_per_vote=1000 * sum(cpu_seconds(p) - cpu_before[p] for p in web_pids) / votes,
        intake_votes_per_s=votes / intake_seconds,
        end_to_end_votes_per_s=votes / seconds,
    )
    log(f"{votes} votes from {clients} clients: {cost['per_vote']:.3f} requests/vote, "
        f"{cost['sqs_per_vote']:.3f} SQS")  # fmt: skip
    return cost, total


def server_pids(counts: Path, known: set[int]) -> list[int]:
    """The pids that wrote counts and are not in `known`: a new server's workers."""
    return [int(p.stem) for p in counts.glob("*.json") if int(p.stem) not in known]


# The settings' default vote limits (bench/common.py turns them off).
LIMITS = {
    "RATE_LIMIT_VOTES": "600 per minute",
    "RATE_LIMIT_VOTES_PER_VOTER": "60 per minute",
    "RATE_LIMIT_VOTES_PER_ADDRESS": "5000 per minute",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=10_000)
    parser.add_argument("--backlog", type=int, default=1_000)
    parser.add_argument("--each", type=int, default=1_000,
                        help="votes at 1 and 64 clients, and ungrouped")  # fmt: skip
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--limits", metavar="STORAGE_URI",
                        help="the default vote limits on, counted in STORAGE_URI (dynamodb://"
                        " or memory://), each vote naming a voter of its own")  # fmt: skip
    args = parser.parse_args(argv)
    global post_votes
    if args.limits:
        post_votes = functools.partial(common_post_votes, voters=True)

    with Lab(name="requests") as lab:
        env = lab.env(**(LIMITS | {"RATELIMIT_STORAGE_URI": args.limits} if args.limits else {}))
        counts = lab.dir / "counts"
        worker = lab.worker(env, count_dir=counts)
        _, base = lab.web(env, workers=2, count_dir=counts)
        voting = voting_for(env)
        topic = create_topic(base)
        stored = voting.store.client.get_item(
            TableName=voting.store.names.topics, Key={"id": {"S": topic["id"]}}
        )["Item"]
        sizes = {"topics": item_size(stored), "tallies": 150}

        warmup = 50
        assert set(post_votes(base, topic, warmup)) == {202}
        _, recorded = wait_for_total(voting, topic["id"], warmup, timeout=60)
        counts_when_idle(counts)
        web_pids = server_pids(counts, {worker.pid})

        phases = {}
        for clients, votes in ((16, args.votes), (1, args.each), (64, args.each)):
            phases[clients], recorded = measure(
                sizes, base, voting, topic, counts, votes, clients, recorded, web_pids
            )
        steady = phases[16]

        # The same stack through a second server with group commit off.
        _, ungrouped_base = lab.web({**env, "SQS_GROUP_COMMIT": "0"}, workers=2,
                                    count_dir=counts)  # fmt: skip
        assert set(post_votes(ungrouped_base, topic, warmup)) == {202}
        _, recorded = wait_for_total(voting, topic["id"], recorded + warmup, timeout=60)
        counts_when_idle(counts)
        ungrouped_pids = server_pids(counts, {worker.pid, *web_pids})
        ungrouped, recorded = measure(sizes, ungrouped_base, voting, topic, counts, args.each, 16,
                                      recorded, ungrouped_pids)  # fmt: skip

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

    columns = [("16 clients", steady), ("1 client", phases[1]), ("64 clients", phases[64]),
               ("16, ungrouped", ungrouped), ("backlog, 16", backlog)]  # fmt: skip
    print("## AWS requests per vote (target: at most 0.5; SQS at most 0.35 at 16+ clients)\n")
    print(
        f"{args.votes} votes over HTTP from 16 concurrent clients with the worker running, then "
        f"{args.each} from 1 and from 64 clients, then {args.each} from 16 clients to a second "
        "web server of the same stack with group commit off (SQS_GROUP_COMMIT=0), then "
        f"{args.backlog} votes queued before the worker starts (backlog: full batches). Counted "
        "in the web and worker processes with botocore `before-send` hooks.\n"
    )
    ops = sorted(set().union(*(phase["by_op"] for _, phase in columns)))
    rows = [[op, *(phase["by_op"].get(op, 0) for _, phase in columns)] for op in ops]
    rows += [
        ["**requests, all**", *(p["requests"] for _, p in columns)],
        ["**requests per vote**", *(p["per_vote"] for _, p in columns)],
        ["SQS requests per vote", *(p["sqs_per_vote"] for _, p in columns)],
        ["mean worker batch (votes per DeleteMessageBatch)",
         *(p["mean_batch"] for _, p in columns)],
        ["DynamoDB write units per vote", *(p["write_units_per_vote"] for _, p in columns)],
        ["DynamoDB read units per vote", *(p["read_units_per_vote"] for _, p in columns)],
        ["votes accepted / recorded", *(f"{p['accepted']} / {p['recorded']}" for _, p in columns)],
        ["web CPU ms per vote", *(p.get("web_cpu_ms_per_vote", "-") for _, p in columns)],
    ]  # fmt: skip
    print(table(["operation", *(name for name, _ in columns)], rows))
    print(
        f"\nWith 16 clients intake ran at {steady['intake_votes_per_s']:.0f} votes/s; all "
        f"recorded at {steady['end_to_end_votes_per_s']:.0f} votes/s end to end (this shared "
        "machine). Web CPU per vote includes the counting hooks (one per AWS request), so "
        "the ungrouped server pays a little more for them; bench/group_commit.py measures "
        "CPU without hooks."
    )

    # Cost of 1M votes + 10,000 views of a 100k-vote topic.
    view_ours = 2  # one consistent GetItem + one consistent Query, each under 4 KB
    cost_rows = []
    for name, phase in (("ours, 16 clients", steady), ("ours, 64 clients", phases[64]),
                        ("ours, 16 clients ungrouped", ungrouped)):  # fmt: skip
        votes_cost = prices.dollars(
            phase["sqs_per_vote"] * MILLION,
            phase["write_units_per_vote"] * MILLION,
            phase["read_units_per_vote"] * MILLION,
        )
        views_cost = prices.dollars(0, 0, view_ours * VIEWS)
        cost_rows.append([name, votes_cost, views_cost, votes_cost + views_cost])
    cheapest = original_cost(query_read_units=0.5)
    paged = original_cost(query_read_units=original_page_read_units(VIEW_TOPIC_VOTES))
    cost_rows.append(["original, rival Query at its cheapest (0.5 unit)", *cheapest, sum(cheapest)])
    cost_rows.append(["original, rival Query reading its first 1 MB page",
                      *paged, sum(paged)])  # fmt: skip
    print("\n## Cost per million votes (target: ours / original at most 0.75)\n")
    print(
        f"1,000,000 votes plus {VIEWS:,} results views of a topic with {VIEW_TOPIC_VOTES:,} votes, "
        f"at {prices.REGION} on-demand list prices ({prices.PRICES_AS_OF}): SQS "
        f"${prices.SQS_PER_MILLION_REQUESTS}/M requests, DynamoDB "
        f"${prices.DDB_PER_MILLION_WRITE_UNITS}/M write units, "
        f"${prices.DDB_PER_MILLION_READ_UNITS}/M read units. Ours: the counted figures above. "
        f"The original, per vote: {ORIGINAL_SQS_PER_VOTE:g} SQS requests (SendMessage, half a "
        f"ReceiveMessage, DeleteMessage), {original_write_units_per_vote():.2f} write units "
        "(PutItem and 0.99 DeleteItem, each also written to its index), and one Query of the "
        "topic's first page of votes to pick a rival, priced two ways; a view reads the first "
        f"1 MB page: {original_view_read_units(VIEW_TOPIC_VOTES):,.0f} read units (ours: "
        f"{view_ours}). The target compares with the cheaper original.\n"
    )
    print(table(["design", "1M votes ($)", f"{VIEWS:,} views ($)", "total ($)"], cost_rows))
    ours_total, original_total = cost_rows[0][3], cost_rows[3][3]

    figures = dict(
        requests_per_vote=steady["per_vote"],
        requests_per_vote_1=phases[1]["per_vote"],
        requests_per_vote_64=phases[64]["per_vote"],
        requests_per_vote_ungrouped=ungrouped["per_vote"],
        requests_per_vote_backlog=backlog["per_vote"],
        sqs_per_vote=steady["sqs_per_vote"],
        sqs_per_vote_1=phases[1]["sqs_per_vote"],
        sqs_per_vote_64=phases[64]["sqs_per_vote"],
        sqs_per_vote_ungrouped=ungrouped["sqs_per_vote"],
        write_units_per_vote=steady["write_units_per_vote"],
        read_units_per_vote=steady["read_units_per_vote"],
        mean_batch=steady["mean_batch"],
        web_cpu_ms_per_vote=steady["web_cpu_ms_per_vote"],
        cost_per_million_votes=cost_rows[0][1],
        cost_workload=ours_total,
        cost_workload_original=original_total,
        cost_ratio_ours_over_original=ours_total / original_total,
        target_requests_met=steady["per_vote"] <= 0.5,
    )
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "phases": dict(columns)},
                                        default=str))  # fmt: skip
    print()
    print(figures_line(**figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
