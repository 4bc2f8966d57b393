"""Audience Q&A: an upvote burst counted exactly once, and the list read flat in the questions.

On a `make run`-like stack (the local endpoint, gunicorn with 2 gevent processes,
one worker process):

1. **Burst.** VOTERS voters each upvote one of QUESTIONS questions through
   POST /events/code/{code}/qna/{qid}/upvote, from one asyncio client (aiohttp, as
   bench/phones.py's phones) with at most `--concurrency` taps in flight, each with a
   timeout, and a tenth of them tap twice (the second tap: 202, refused by the worker).
   The intake's seconds and the web processes' CPU over it (/proc) are reported; then
   the worker drains the queue and every question's `upvotes` must equal its voters:
   each upvote counted once, none twice.
2. **List read.** GET /events/code/{code}/qna?sort=top of an event with 10
   questions and of one with 1,000 (seeded straight into the questions table, upvotes
   spread), alternating, through a web process without the list cache
   (RESULTS_CACHE_SECONDS=0): the ratio of the medians (target: at most 1.2).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import aiohttp
import requests

from bench.common import ADMIN_KEY, Lab, figures_line, log, median, table, voting_for
from bench.room import web_cpu
from core.aws.qna import QuestionStore
from core.rules.clock import new_id, utc_now
from core.rules.formats.qna import RANK_STEP, new_question

ADMIN = {"X-API-Key": ADMIN_KEY}


def new_event(base: str) -> dict:
    answer = requests.post(f"{base}/events", json={"title": "Q&A", "qna": "open"}, headers=ADMIN)
    answer.raise_for_status()
    return answer.json()


async def _burst(base: str, code: str, picks: list[str], concurrency: int, timeout: float):
    """Every voter's taps (a tenth tap twice, one after the other), at most `concurrency`
    requests in flight over one keep-alive pool: [statuses of each voter's taps]."""
    gate = asyncio.Semaphore(concurrency)
    limits = aiohttp.TCPConnector(limit=concurrency, keepalive_timeout=60)
    each = aiohttp.ClientTimeout(total=timeout)

    async def one(http: aiohttp.ClientSession, n: int) -> list:
        url = f"{base}/events/code/{code}/qna/{picks[n]}/upvote"
        statuses = []
        async with gate:
            for _ in range(2 if n % 10 == 0 else 1):
                try:
                    async with http.post(url, json={"voter_id": f"voter-{n}"}, timeout=each) as r:
                        await r.read()
                        statuses.append(r.status)
                except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                    statuses.append(type(exc).__name__)
        return statuses

    async with aiohttp.ClientSession(connector=limits) as http:
        return await asyncio.gather(*(one(http, n) for n in range(len(picks))))


def burst(base: str, event: dict, questions: list[dict], voters: int, concurrency: int,
          lab: Lab, web, timeout: float = 30.0):  # fmt: skip
    """Every voter upvotes one question (a tenth tap twice), from one asyncio client with at
    most `concurrency` requests in flight (as many phones tapping at once); returns
    (seconds, statuses, expected upvotes per question, CPU seconds over the intake of the
    web processes, the local endpoint and this client)."""
    expected = Counter()
    picks = [random.Random(n).choice(questions)["id"] for n in range(voters)]
    for pick in picks:
        expected[pick] += 1
    def cpu() -> tuple[float, float, float]:
        return web_cpu(web), web_cpu(lab.moto), time.process_time()  # moto serves in a child

    before, start = cpu(), time.perf_counter()
    taps = asyncio.run(_burst(base, event["code"], picks, concurrency, timeout))
    seconds = time.perf_counter() - start
    names = ("web", "moto", "client")
    used = {name: after - was for name, after, was in zip(names, cpu(), before, strict=True)}
    return seconds, [s for voter in taps for s in voter], expected, used


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
    parser.add_argument("--concurrency", type=int, default=200, help="taps in flight at once")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    with Lab(name="qna") as lab:
        env = lab.env()
        lab.worker(env)
        web, base = lab.web(env, workers=2)
        _, reader = lab.web({**env, "RESULTS_CACHE_SECONDS": "0"}, workers=1)
        store = voting_for(env).backend.questions
        event = new_event(base)
        ask = f"{base}/events/code/{event['code']}/qna"
        questions = [requests.post(ask, json={"text": f"Question {n}?"}).json()
                     for n in range(args.questions)]  # fmt: skip
        log(f"burst: {args.voters} voters over {args.questions} questions")
        seconds, statuses, expected, cpu = burst(base, event, questions, args.voters,
                                                 args.concurrency, lab, web)  # fmt: skip
        log(f"intake took {seconds:.1f} s ({len(statuses) / seconds:.0f} requests/s), CPU s "
            f"{cpu}: {Counter(statuses)}")  # fmt: skip
        intake_end, deadline = time.perf_counter(), time.monotonic() + 300
        while (counted := upvotes_now(store, event)) != {q["id"]: expected[q["id"]]
                                                         for q in questions}:  # fmt: skip
            if time.monotonic() > deadline or sum(counted.values()) > args.voters:
                break
            time.sleep(0.5)
        drain = time.perf_counter() - intake_end
        exact = counted == {q["id"]: expected[q["id"]] for q in questions}
        log(f"counted {sum(counted.values())} of {args.voters} {drain:.1f} s after the "
            f"intake: exact={exact}")  # fmt: skip
        small, big = new_event(base), new_event(base)
        seed_questions(store, small, 10)
        seed_questions(store, big, args.big)
        log(f"seeded 10 and {args.big} questions; reading")
        reads = read_ratio(reader, small, big, args.reads)
    figures = {
        "voters": args.voters, "questions": args.questions, "intake_seconds": seconds,
        "requests_per_s": len(statuses) / seconds, "web_cpu_seconds": cpu["web"],
        "moto_cpu_seconds": cpu["moto"], "client_cpu_seconds": cpu["client"],
        "concurrency": args.concurrency, "drain_seconds": drain, "load": os.getloadavg()[0],
        "accepted": statuses.count(202), "refused_409": statuses.count(409),
        "other": len(statuses) - statuses.count(202) - statuses.count(409),
        "counted": sum(counted.values()), "exact": exact,
        "read_small_ms": reads["small_ms"], "read_big_ms": reads["big_ms"],
        "read_ratio": reads["ratio"],
    }  # fmt: skip
    print("## Audience Q&A: an upvote burst, and the list read\n")
    print(table(["voters", "questions", "in flight", "intake s", "requests/s",
                 "CPU s: web / endpoint / client", "202", "409", "counted", "after intake s",
                 "each once"],
                [[args.voters, args.questions, args.concurrency, seconds,
                  figures["requests_per_s"], " / ".join(f"{v:.1f}" for v in cpu.values()),
                  figures["accepted"], figures["refused_409"],
                  figures["counted"], drain, "yes" if exact else "NO"]]))  # fmt: skip
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
