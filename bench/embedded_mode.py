"""Target 6: the embedded mode stays fast as votes pile up (before and after local_aws's fixes).

`make run`'s stack (moto, gunicorn with 2 processes x 4 threads, one worker)
on three stores: empty, 10,000 and 50,000 votes already stored (vote records
and tallies, as the worker leaves them). Each run sends N votes over HTTP
(16 clients) and times them until the worker has recorded all of them:
end-to-end votes/s. Runs go in a mirrored order (0, 10k, 50k, 50k, 10k, 0,
...) so drift hits every size alike; the figure is the median at 50k over
the median at 0.

The same is measured on moto unchanged (`--stock`, the before figure): there
a run is cut after --stock-window seconds and its rate is the votes recorded
by then, because one batch can take tens of seconds.

Also, moto alone: TransactWriteItems/s of the worker's batch shape (10 vote
Puts, a ConditionCheck, a tally ADD) into each store, and SendMessage/s and
receive+delete cycles/s with 1,000 messages waiting, fixed and stock.

    .venv/bin/python -m bench.embedded_mode [--votes 200] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import uuid
from pathlib import Path

from bench.common import (
    Lab,
    create_topic,
    figures_line,
    median,
    post_votes,
    seed_votes,
    table,
    total_votes,
    voting_for,
)

SIZES = (0, 10_000, 50_000)
BACKLOG = 1_000


class Store:
    """One stack of `make run` with `stored` votes on its topic."""

    def __init__(self, lab: Lab, stored: int):
        self.stored = stored
        self.env = lab.env(WORKER_WAIT_SECONDS="1")
        self.voting = voting_for(self.env)
        _, self.base = lab.web(self.env, workers=2, threads=4)
        lab.worker(self.env)
        self.topic = create_topic(self.base)
        if stored:
            seed_votes(self.env, self.topic, stored)

    def run(self, votes: int, window: float) -> float:
        """Votes/s from the first POST until all are recorded (or the window ends)."""
        before = total_votes(self.voting, self.topic["id"])
        start = time.perf_counter()
        statuses = post_votes(self.base, self.topic, votes, concurrency=16)
        if statuses.count(202) != votes:
            raise RuntimeError(f"intake refused votes: {sorted(set(statuses))}")
        total = before
        while total < before + votes and time.perf_counter() - start < window:
            time.sleep(0.1)
            total = total_votes(self.voting, self.topic["id"])
        return (total - before) / (time.perf_counter() - start)


def moto_ops(lab: Lab, stores: list[Store], seconds: float) -> dict:
    """Transactions/s into each store, and SQS with a 1,000-message backlog."""
    result = {}
    for store in stores:
        client = store.voting.store.client
        names = store.voting.store
        choice = store.topic["choices"][0]["id"]
        done, start = 0, time.perf_counter()
        while done < 1 or (time.perf_counter() - start < seconds and done < 200):
            items = [
                {
                    "Put": {
                        "TableName": names.votes,
                        "Item": {
                            "id": {"S": str(uuid.uuid4())},
                            "topic_id": {"S": store.topic["id"]},
                            "choice_id": {"S": choice},
                            "created": {"S": "2026-01-01T00:00:00.000000"},
                            "status": {"S": "counted"},
                        },
                        "ConditionExpression": "attribute_not_exists(id)",
                    }
                }
                for _ in range(10)
            ]
            items.append(
                {
                    "ConditionCheck": {
                        "TableName": names.topics,
                        "Key": {"id": {"S": store.topic["id"]}},
                        "ConditionExpression": "is_active = :t",
                        "ExpressionAttributeValues": {":t": {"BOOL": True}},
                    }
                }
            )
            items.append(
                {
                    "Update": {
                        "TableName": names.tallies,
                        "Key": {"topic_id": {"S": store.topic["id"]}, "slot": {"S": f"{choice}#0"}},
                        "UpdateExpression": "ADD #c :n",
                        "ExpressionAttributeNames": {"#c": "count"},
                        "ExpressionAttributeValues": {":n": {"N": "10"}},
                    }
                }
            )
            client.transact_write_items(TransactItems=items)
            done += 1
        result[f"tx_per_s_{store.stored}"] = done / (time.perf_counter() - start)
    # SQS: a queue of its own with messages waiting (moto unchanged takes minutes to
    # queue 10,000: every send counts the whole queue three times).
    sqs = stores[0].voting.queue.client
    url = sqs.create_queue(QueueName=f"bench-{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for _ in range(0, BACKLOG, 10):
        entries = [{"Id": str(i), "MessageBody": "v" * 200} for i in range(10)]
        sqs.send_message_batch(QueueUrl=url, Entries=entries)
    sends, start = 0, time.perf_counter()
    while sends < 2 or (time.perf_counter() - start < seconds and sends < 500):
        sqs.send_message(QueueUrl=url, MessageBody="v" * 200)
        sends += 1
    result["sends_per_s_backlog"] = sends / (time.perf_counter() - start)
    cycles, start = 0, time.perf_counter()
    while cycles < 2 or (time.perf_counter() - start < seconds and cycles < 50):
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300)
        handles = [m["ReceiptHandle"] for m in got.get("Messages", [])]
        sqs.delete_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "ReceiptHandle": h} for i, h in enumerate(handles)],
        )
        cycles += 1
    result["receive_delete_per_s_backlog"] = cycles / (time.perf_counter() - start)
    return result


def measure(stock: bool, votes: int, rounds: int, window: float, op_seconds: float) -> dict:
    """Fixed: `rounds` mirrored passes over the sizes. Stock: one pass (a run can take the
    whole window), warmed up on the empty store only."""
    with Lab(stock=stock, name="stock" if stock else "fixed") as lab:
        stores = [Store(lab, size) for size in SIZES]
        for store in stores[:1] if stock else stores:  # first requests, connections, caches
            store.run(10, window)
        rates: dict[int, list[float]] = {size: [] for size in SIZES}
        passes = [stores] if stock else [stores + stores[::-1]] * rounds
        for order in passes:
            for store in order:
                rates[store.stored].append(store.run(votes, window))
        ops = moto_ops(lab, stores, op_seconds)
        rss = _rss_mb(lab.moto.pid)
    return {"rates": rates, "ops": ops, "moto_rss_mb": rss}


def _rss_mb(pid: int) -> float:
    """Resident memory of the moto process (moto keeps a copy of every item it ever made)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--stock-votes", type=int, default=60)
    parser.add_argument("--stock-window", type=float, default=30.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    fixed = measure(False, args.votes, args.rounds, window=300, op_seconds=3)
    stock = measure(True, args.stock_votes, 1, window=args.stock_window, op_seconds=3)

    def ratio(result) -> float:
        return median(result["rates"][50_000]) / median(result["rates"][0])

    print("## Embedded mode stays fast (target 6: ratio >= 0.7)\n")
    print(
        f"`make run`'s stack; end-to-end votes/s (POST /votes until recorded), medians of "
        f"{2 * args.rounds} runs of {args.votes} votes per size with local_aws's fixes; one run "
        f"of {args.stock_votes} votes per size on moto unchanged (cut after "
        f"{args.stock_window:.0f} s). moto's memory at the end: {fixed['moto_rss_mb']:.0f} MB "
        f"fixed, {stock['moto_rss_mb']:.0f} MB unchanged.\n"
    )
    rows = [
        [f"{size:,}", median(fixed["rates"][size]), median(stock["rates"][size])] for size in SIZES
    ]
    rows.append(["**ratio 50k / empty**", ratio(fixed), ratio(stock)])
    print(table(["votes stored", "fixed: votes/s", "moto unchanged: votes/s"], rows))
    print("\nmoto alone, the same operations:\n")
    op_rows = [
        [f"TransactWriteItems/s (10 Puts + check + ADD), {size:,} stored",
         fixed["ops"][f"tx_per_s_{size}"], stock["ops"][f"tx_per_s_{size}"]]
        for size in SIZES
    ] + [
        ["SendMessage/s, 1,000 waiting", fixed["ops"]["sends_per_s_backlog"],
         stock["ops"]["sends_per_s_backlog"]],
        ["ReceiveMessage(10) + DeleteMessageBatch /s, 1,000 waiting",
         fixed["ops"]["receive_delete_per_s_backlog"],
         stock["ops"]["receive_delete_per_s_backlog"]],
    ]  # fmt: skip
    print(table(["operation", "fixed", "moto unchanged"], op_rows))
    figures = dict(
        embedded_ratio=ratio(fixed),
        embedded_ratio_stock=ratio(stock),
        embedded_votes_per_s_empty=median(fixed["rates"][0]),
        embedded_votes_per_s_50k=median(fixed["rates"][50_000]),
        stock_votes_per_s_empty=median(stock["rates"][0]),
        stock_votes_per_s_50k=median(stock["rates"][50_000]),
        tx_per_s_50k_fixed=fixed["ops"]["tx_per_s_50000"],
        tx_per_s_50k_stock=stock["ops"]["tx_per_s_50000"],
        target_embedded_met=ratio(fixed) >= 0.7,
    )
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "fixed": fixed, "stock": stock}))
    print()
    print(figures_line(**figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
