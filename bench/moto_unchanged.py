"""Target 6 (before): the same embedded-mode measurements on moto 5.2.5 unchanged.

`python -m local.moto_server --stock`: moto without local/moto_server.py's fixes.
Two stacks as `make run` starts them: E empty, B with 50,000 votes stored. One end-to-end
run on each (N votes over HTTP until recorded, cut after --window seconds:
here one batch can take longer than that, so the rate is of the votes
recorded by then), and moto alone: TransactWriteItems/s of the worker's batch
shape into E and into B (into B just one: it takes tens of seconds), SQS
with 1,000 messages waiting. moto alone is measured before B's run, because
there the worker's transactions outlast its 25 s read timeout and its
retries keep moto busy long after.

    .venv/bin/python -m bench.moto_unchanged [--votes 60] [--window 30]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bench.common import Lab, figures_line, log, table
from bench.stack import MakeRunStack, rss_mb, sqs_ops, transactions_per_s

STORED = 50_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=60)
    parser.add_argument("--window", type=float, default=30.0)
    parser.add_argument("--stored", type=int, default=STORED)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)

    with Lab(stock=True, name="unchanged") as lab:
        empty, full = MakeRunStack(lab, "E"), MakeRunStack(lab, "B")
        empty.run(10, window=args.window)  # first requests, connections
        rate_empty = empty.run(args.votes, window=args.window)
        log(f"moto unchanged, empty: {rate_empty:.1f} votes/s")
        full.seed_to(args.stored)
        alone = {"tx_per_s_empty": transactions_per_s(lab, empty, 3)}
        log(f"moto unchanged: {alone['tx_per_s_empty']:.2f} transactions/s, empty")
        alone["tx_per_s_full"] = transactions_per_s(lab, full, 0)
        log(f"moto unchanged: {alone['tx_per_s_full']:.3f} transactions/s, {args.stored} stored")
        alone.update(sqs_ops(lab, 3))
        rate_full = full.run(args.votes, window=args.window)
        log(f"moto unchanged, {args.stored} stored: {rate_full:.2f} votes/s")
        moto_rss = rss_mb(lab.moto.pid)

    print("## Embedded mode on moto unchanged (target 6, before the fix)\n")
    print(
        f"`make run`'s stack on moto 5.2.5 without local/moto_server.py's fixes: one run of "
        f"{args.votes} "
        f"votes per stack, cut after {args.window:.0f} s. moto's memory at the end: "
        f"{moto_rss:.0f} MB (every table copy's items stay in moto's class-level instance "
        "lists).\n"
    )
    print(table(
        ["votes stored", "end-to-end votes/s"],
        [["0", rate_empty], [f"{args.stored:,}", rate_full],
         ["**ratio**", rate_full / rate_empty if rate_empty else 0.0]],
    ))  # fmt: skip
    print("\nmoto alone, unchanged:\n")
    print(table(["operation", "per second"], [
        ["TransactWriteItems (10 Puts + check + ADD), empty store", alone["tx_per_s_empty"]],
        [f"TransactWriteItems, {args.stored:,} votes stored", alone["tx_per_s_full"]],
        ["SendMessage, 1,000 messages waiting", alone["sends_per_s"]],
        ["ReceiveMessage(10) + DeleteMessageBatch, 1,000 waiting", alone["receive_delete_per_s"]],
    ]))  # fmt: skip
    figures = dict(
        embedded_ratio_stock=rate_full / rate_empty if rate_empty else 0.0,
        stock_votes_per_s_empty=rate_empty,
        stock_votes_per_s_full=rate_full,
        stock_tx_per_s_empty=alone["tx_per_s_empty"],
        stock_tx_per_s_full=alone["tx_per_s_full"],
        stock_sends_per_s=alone["sends_per_s"],
        stock_receive_delete_per_s=alone["receive_delete_per_s"],
        stock_moto_rss_mb=moto_rss,
    )
    if args.json:
        e2e = {"0": rate_empty, str(args.stored): rate_full}
        args.json.write_text(json.dumps({"figures": figures, "alone": alone, "e2e": e2e}))
    print()
    print(figures_line(**figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
