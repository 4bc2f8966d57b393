"""Question types: AWS requests and write units per vote for each type, and the
results read ratio (a topic holding 100,000 votes / one holding 10) for each.

One stack on the moto server: gunicorn (2 processes) and worker.py under
bench.awscount, which counts every AWS request they send and the items of
each TransactWriteItems. Per type, the same run: a topic of that type gets
VOTES votes over HTTP from 16 concurrent clients (answers varied as an
audience's are), and the counts taken when idle before and after give
requests and write units per vote (priced as bench/requests_per_vote.py
prices them: 2 units per started KB of each transaction item, plus the vote
record's index write).

Reads: per type two topics whose tallies are seeded directly (the counters
the worker would have left, from counters() of simulated answers: shard 0),
one with 10 votes and one with 100,000; a second gunicorn with the results
cache off answers GET /topics/{id}?include_votes=true for each, alternately,
one at a time; the figure is the ratio of the medians (big / small). Text
answers come from a vocabulary of 1,000 (a few far more common than the rest,
as a room's word cloud); a text read takes the MOST_GIVEN answers given most
from the tallies' count-sorted index, so what it returns stays the same
however many answers were given.

    .venv/bin/python -m bench.question_types [--votes 500] [--reads 200]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.awscount import item_size
from bench.common import (
    Lab,
    counts_when_idle,
    create_topic,
    figures_line,
    log,
    median,
    table,
    voting_for,
)
from bench.requests_per_vote import diff, phase_cost
from core.aws.codec import tally_update
from core.rules.question_types import counters, rules_of, votes_counted
from core.rules.results import MOST_GIVEN
from core.rules.tally_slots import slot

CHOICES = 5
VOCABULARY = [f"word{i}" for i in range(1000)]
# Each type: the topic's settings, and the i-th voter's answer given the choice ids.
TYPES = {
    "single": ({}, lambda i, ids: {"choice_id": ids[i % len(ids)]}),
    "multiple": ({"type": "multiple", "max_choices": 3},
                 lambda i, ids: {"choice_ids": [ids[i % len(ids)], ids[(i + 2) % len(ids)]]}),
    "ranking": ({"type": "ranking"},
                lambda i, ids: {"ranking": ids[i % len(ids):] + ids[: i % len(ids)]}),
    "rating": ({"type": "rating", "choices": []}, lambda i, ids: {"rating": 1 + i % 5}),
    "rate_each": ({"type": "rating", "rate_each": True},
                  lambda i, ids: {"rating": {c: 1 + (i + n) % 5 for n, c in enumerate(ids)}}),
    "text": ({"type": "text", "choices": []},
             lambda i, ids: {"text": VOCABULARY[min(int(random.paretovariate(1.2)), 1000) - 1]}),
    "game": ({"type": "game"}, lambda i, ids: {"choice_id": ids[i % len(ids)]}),
}  # fmt: skip


def new_topic(base: str, name: str) -> dict:
    settings = dict(TYPES[name][0])
    choices = 0 if settings.get("choices") == [] else CHOICES
    settings.pop("choices", None)
    return create_topic(base, choices=choices, title=f"{name} topic", **settings)


def post_answers(base: str, topic: dict, name: str, count: int, start: int = 0) -> list[int]:
    """POST /votes `count` times from 16 threads with the type's answers; the statuses."""
    ids = [c["id"] for c in topic["choices"]]
    answer = TYPES[name][1]
    sessions: dict[int, requests.Session] = {}

    def one(i: int) -> int:
        session = sessions.setdefault(threading.get_ident(), requests.Session())
        body = {"topic_id": topic["id"], **answer(i, ids)}
        return session.post(f"{base}/votes", json=body).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        return list(pool.map(one, range(start, start + count)))


def wait_counted(voting, topic: dict, target: int, timeout: float = 300) -> int:
    stored = voting.topics.get(topic["id"], fresh=True)
    deadline = time.monotonic() + timeout
    while True:
        counted = votes_counted(stored, voting.store.get_counts(topic["id"]))
        if counted >= target or time.monotonic() > deadline:
            return counted
        time.sleep(0.05)


def seed_tallies(voting, topic: dict, name: str, votes: int) -> dict[str, int]:
    """Write the tallies `votes` answers would leave (shard 0), as the worker would."""
    stored = voting.topics.get(topic["id"], fresh=True)
    rules, ids = rules_of(stored), [c["id"] for c in stored["choices"]]
    totals: Counter = Counter()
    for i in range(votes):
        totals.update(counters(rules, TYPES[name][1](i, ids)))
    for counter, n in totals.items():
        voting.store.client.update_item(
            **tally_update(voting.store.names.tallies, topic["id"], slot(counter, 0), n)
        )
    return dict(totals)


def read_ratio(base: str, small: dict, big: dict, reads: int) -> dict:
    """Alternating GETs with results of the 10-vote and the 100,000-vote topic: medians."""
    session = requests.Session()
    times: dict[str, list[float]] = {small["id"]: [], big["id"]: []}
    for i in range(reads + 5):
        for topic in (small, big) if i % 2 else (big, small):
            start = time.perf_counter()
            answer = session.get(f"{base}/topics/{topic['id']}", params={"include_votes": "true"})
            elapsed = (time.perf_counter() - start) * 1000
            answer.raise_for_status()
            if i >= 5:  # the first few warm up
                times[topic["id"]].append(elapsed)
    small_ms, big_ms = median(times[small["id"]]), median(times[big["id"]])
    return {"small_ms": small_ms, "big_ms": big_ms, "ratio": big_ms / small_ms}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--votes", type=int, default=500, help="votes per type (counted)")
    parser.add_argument("--reads", type=int, default=200, help="GETs per topic size")
    parser.add_argument("--big", type=int, default=100_000, help="votes of the big topic")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    random.seed(13)

    costs, reads, beyond = {}, {}, {}
    with Lab(name="types") as lab:
        env = lab.env()
        counts = lab.dir / "counts"
        lab.worker(env, count_dir=counts)
        _, base = lab.web(env, workers=2, count_dir=counts)
        _, reader = lab.web({**env, "RESULTS_CACHE_SECONDS": "0"}, workers=1)
        voting = voting_for(env)
        for name in TYPES:
            topic = new_topic(base, name)
            warmup = 20
            assert set(post_answers(base, topic, name, warmup)) == {202}, name
            wait_counted(voting, topic, warmup)
            stored = voting.store.client.get_item(
                TableName=voting.store.names.topics, Key={"id": {"S": topic["id"]}}
            )["Item"]
            before = counts_when_idle(counts)
            statuses = post_answers(base, topic, name, args.votes, start=warmup)
            counted = wait_counted(voting, topic, warmup + args.votes) - warmup
            cost = phase_cost(diff(counts_when_idle(counts), before), args.votes,
                              {"topics": item_size(stored), "tallies": 150})  # fmt: skip
            cost.update(accepted=statuses.count(202), counted=counted)
            costs[name] = cost
            log(f"{name}: {cost['per_vote']:.3f} requests/vote, "
                f"{cost['write_units_per_vote']:.2f} write units/vote")  # fmt: skip
        for name in TYPES:
            small, big = new_topic(base, name), new_topic(base, name)
            seeded = {10: seed_tallies(voting, small, name, 10),
                      args.big: seed_tallies(voting, big, name, args.big)}  # fmt: skip
            reads[name] = read_ratio(reader, small, big, args.reads)
            reads[name]["counters"] = {n: len(t) for n, t in seeded.items()}
            # What a results read returns: a text question's top answers, not all.
            reads[name]["read"] = {n: len(voting.topics.counts(t["id"], fresh=True))
                                   for n, t in ((10, small), (args.big, big))}  # fmt: skip
            log(f"{name}: read ratio {reads[name]['ratio']:.2f}")
            if name == "text":
                # Past the list's cap, more votes (and more answers) change nothing.
                huge = new_topic(base, name)
                given = seed_tallies(voting, huge, name, 10 * args.big)
                beyond = read_ratio(reader, big, huge, args.reads)
                beyond["answers"] = [len(seeded[args.big]) - 1, len(given) - 1]
                log(f"text: read ratio {10 * args.big:,} / {args.big:,} votes "
                    f"{beyond['ratio']:.2f}")  # fmt: skip

    print("## Question types: AWS requests and write units per vote, results reads\n")
    print(
        f"{args.votes} votes per type over HTTP from 16 clients while worker.py records them "
        "(web and worker counted with botocore hooks; idle polls included), one type after "
        f"the other in the same run. Reads: GET /topics/{{id}}?include_votes=true of a topic "
        f"with {args.big:,} votes over one with 10 (tallies seeded; results cache off), "
        f"{args.reads} each, alternately; the median of each.\n"
    )
    rows = [
        [name, costs[name]["per_vote"], costs[name]["sqs_per_vote"],
         costs[name]["write_units_per_vote"], costs[name]["mean_batch"],
         f"{costs[name]['accepted']} / {costs[name]['counted']}",
         reads[name]["small_ms"], reads[name]["big_ms"], reads[name]["ratio"],
         " / ".join(str(n) for n in reads[name]["counters"].values()),
         " / ".join(str(n) for n in reads[name]["read"].values())]
        for name in TYPES
    ]  # fmt: skip
    headers = ["type", "requests per vote", "SQS per vote", "write units per vote", "mean batch",
               "accepted / counted", "read, 10 votes (ms)", f"read, {args.big:,} (ms)",
               "read ratio", "counters, 10 / big", "counters read, 10 / big"]  # fmt: skip
    print(table(headers, rows))
    worst = max(reads.values(), key=lambda r: r["ratio"])["ratio"]
    figures = {
        **{f"requests_per_vote_{n}": c["per_vote"] for n, c in costs.items()},
        **{f"write_units_per_vote_{n}": c["write_units_per_vote"] for n, c in costs.items()},
        **{f"read_ratio_{n}": r["ratio"] for n, r in reads.items()},
        "read_ratio_worst": worst,
        "read_ratio_text_beyond_cap": beyond["ratio"],
        "target_read_ratio_met": worst <= 1.2,
    }
    print(f"\nWorst read ratio: **{worst:.2f}** (target: at most 1.2 for every type).\n")
    text = reads["text"]
    more = text["read"][args.big] - text["read"][10]
    per_item = (text["big_ms"] - text["small_ms"]) / max(more, 1)
    print(
        f"Text, a topic of {10 * args.big:,} votes ({beyond['answers'][1]:,} different "
        f"answers) over the one of {args.big:,} ({beyond['answers'][0]:,}): "
        f"{beyond['small_ms']:.1f} ms and {beyond['big_ms']:.1f} ms, ratio "
        f"**{beyond['ratio']:.2f}**. A text read returns the {MOST_GIVEN} answers given most "
        "(and one more: are there others?) from the tallies' count-sorted index: on AWS a "
        "Query reads only the items it returns, so the read stays the same once a room has "
        "given that many different answers, and so does it on this endpoint, which keeps "
        "partitions and indexes sorted between writes (local/moto_query.py's sorted views). "
        f"Against the 10-vote topic the read returns {more} more small items, at about "
        f"{per_item:.2f} ms each on this endpoint.\n"
    )
    print(figures_line(**figures))
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "costs": costs, "reads": reads},
                                        default=str))  # fmt: skip
    return 0 if all(c["accepted"] == c["counted"] for c in costs.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
