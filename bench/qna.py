"""Audience Q&A: an upvote burst counted exactly once, and the list read flat in the questions.

On a `make run`-like stack (the local endpoint, 2 gunicorn workers of 8 threads,
one worker process):

1. **Burst.** VOTERS voters each upvote one of QUESTIONS questions through
   POST /events/code/{code}/qna/{qid}/upvote, from 32 threads, and a tenth of them
   tap twice (the second tap: 202, refused by the worker). The intake's seconds are
   reported; then the worker drains the queue and every question's `upvotes` must
   equal its voters: each upvote counted once, none twice.
2. **List read.** GET /events/code/{code}/qna?sort=top of an event with 10
   questions and of one with 1,000 (seeded straight into the questions table, upvotes
   spread), alternating, through a web process without the list cache
   (RESULTS_CACHE_SECONDS=0): the ratio of the medians (target: at most 1.2).
"""

from __future__ import annotations

import argparse
import json
import random
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.common import ADMIN_KEY, Lab, figures_line, log, median, table, voting_for
from core.aws.qna import QuestionStore
from core.rules.clock import new_id, utc_now
from core.rules.qna import RANK_STEP, new_question

ADMIN = {"X-API-Key": ADMIN_KEY}


def new_event(base: str) -> dict:
    answer = requests.post(f"{base}/events", json={"title": "Q&A", "qna": "open"}, headers=ADMIN)
    answer.raise_for_status()
    return answer.json()


def burst(base: str, event: dict, questions: list[dict], voters: int, threads: int):
    """Every voter upvotes one question (a tenth tap twice); returns (seconds, statuses,
    expected upvotes per question)."""
    sessions: dict[int, requests.Session] = {}
    expected = Counter()
    picks = [random.Random(n).choice(questions)["id"] for n in range(voters)]
    for pick in picks:
        expected[pick] += 1

    def one(n: int) -> list[int]:
        session = sessions.setdefault(threading.get_ident(), requests.Session())
        url = f"{base}/events/code/{event['code']}/qna/{picks[n]}/upvote"
        taps = 2 if n % 10 == 0 else 1
        return [session.post(url, json={"voter_id": f"voter-{n}"}).status_code
                for _ in range(taps)]  # fmt: skip

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        statuses = [s for taps in pool.map(one, range(voters)) for s in taps]
    return time.perf_counter() - start, statuses, expected


def upvotes_now(store: QuestionStore, event: dict) -> dict[str, int]:
    return {q["id"]: q.get("upvotes", 0) for q in store.of_event(event["id"])}


def seed_questions(store: QuestionStore, event: dict, count: int) -> None:
    """`count` open questions with upvotes spread 0..49, as asking and the worker leave them."""
    def put(n: int) -> None:
        question = new_question(event["id"], new_id(), f"Seeded question number {n}?", "open",
                                created=utc_now())  # fmt: skip
        votes = n % 50
        question.update(upvotes=votes, rank=question["rank"] + votes * RANK_STEP)
        store.put_new(question)

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(put, range(count)))


def read_ratio(base: str, small: dict, big: dict, reads: int) -> dict:
    session = requests.Session()
    times: dict[str, list[float]] = {small["id"]: [], big["id"]: []}
    for i in range(reads + 5):
        for event in (small, big) if i % 2 else (big, small):
            start = time.perf_counter()
            answer = session.get(f"{base}/events/code/{event['code']}/qna", params={"sort": "top"})
            elapsed = (time.perf_counter() - start) * 1000
            answer.raise_for_status()
            if i >= 5:
                times[event["id"]].append(elapsed)
    small_ms, big_ms = median(times[small["id"]]), median(times[big["id"]])
    return {"small_ms": small_ms, "big_ms": big_ms, "ratio": big_ms / small_ms}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=2000)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--big", type=int, default=1000, help="questions of the big event")
    parser.add_argument("--reads", type=int, default=200)
    parser.add_argument("--threads", type=int, default=32)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with Lab(name="qna") as lab:
        env = lab.env(RATE_LIMIT_QUESTIONS_PER_VOTER="")
        lab.worker(env)
        _, base = lab.web(env, workers=2, threads=8)
        _, reader = lab.web({**env, "RESULTS_CACHE_SECONDS": "0"}, workers=1, threads=4)
        store = voting_for(env).backend.questions
        event = new_event(base)
        ask = f"{base}/events/code/{event['code']}/qna"
        questions = [requests.post(ask, json={"text": f"Question {n}?"}).json()
                     for n in range(args.questions)]  # fmt: skip
        log(f"burst: {args.voters} voters over {args.questions} questions")
        seconds, statuses, expected = burst(base, event, questions, args.voters, args.threads)
        log(f"intake took {seconds:.1f} s: {Counter(statuses)}")
        deadline = time.monotonic() + 300
        while (counted := upvotes_now(store, event)) != {q["id"]: expected[q["id"]]
                                                         for q in questions}:  # fmt: skip
            if time.monotonic() > deadline or sum(counted.values()) > args.voters:
                break
            time.sleep(0.5)
        drained = time.perf_counter()
        exact = counted == {q["id"]: expected[q["id"]] for q in questions}
        log(f"counted {sum(counted.values())} of {args.voters}: exact={exact}")
        small, big = new_event(base), new_event(base)
        seed_questions(store, small, 10)
        seed_questions(store, big, args.big)
        log(f"seeded 10 and {args.big} questions; reading")
        reads = read_ratio(reader, small, big, args.reads)
    del drained
    figures = {
        "voters": args.voters, "questions": args.questions, "intake_seconds": seconds,
        "accepted": statuses.count(202), "refused_409": statuses.count(409),
        "other": len(statuses) - statuses.count(202) - statuses.count(409),
        "counted": sum(counted.values()), "exact": exact,
        "read_small_ms": reads["small_ms"], "read_big_ms": reads["big_ms"],
        "read_ratio": reads["ratio"],
    }  # fmt: skip
    print("## Audience Q&A: an upvote burst, and the list read\n")
    print(table(["voters", "questions", "intake s", "202", "409", "counted", "each once"],
                [[args.voters, args.questions, seconds, figures["accepted"],
                  figures["refused_409"], figures["counted"], "yes" if exact else "NO"]]))
    print()
    print(table(["list read", "10 questions ms", f"{args.big} questions ms", "ratio"],
                [["GET qna?sort=top (p50)", reads["small_ms"], reads["big_ms"],
                  reads["ratio"]]]))  # fmt: skip
    print(f"\nEvery upvote counted once: **{'yes' if exact else 'NO'}**; list read ratio "
          f"**{reads['ratio']:.2f}** (target: at most 1.2).\n")
    print(figures_line(**figures))
    if args.json:
        args.json.write_text(json.dumps({"figures": figures}, indent=2))
    return 0 if exact and figures["other"] == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
