"""A quiz on a `make run`-like stack: thousands of players answering one question within
seconds, every accepted answer scored once, and the leaderboard's read at 30 players
against thousands.

One stack on the moto server: gunicorn (2 gevent processes) and one worker.py, as
`make run` has them (rate limits off, as in every benchmark: the room is one address).

- The quiz: an event of one quiz question (time limit `--limit`, 60 s), PLAYERS players
  join with a nickname each (POST /events/code/{code}/players, 32 at a time), the
  presenter opens the question, and every player answers once (POST /votes with their
  voter_id), each at a random moment of the next `--seconds` (10), a third of them
  wrong: 202 accepted, 4xx refused, 5xx or no answer failed.
- Scored once: once the queue is empty, every accepted answer has a counted record, and
  each player's tallies (score, correct, answered) are exactly what their one answer
  earned on the server's clock (points from the 202's queued_at and the question's
  opening), and `recount --event` (core/services/repair.py) finds no drift.
- The leaderboard: a second event of `--small` (30) players who answered too. Read one
  at a time, alternately, `--reads` times each: the board's top 10 from a gunicorn whose
  caches are off (RESULTS_CACHE_SECONDS=0: every read is the Query of 10 items), and a
  player's board with their own rank (`voter_id`) from the stack's gunicorn as deployed
  (the standings read at most once a second per process). The figures are the ratios
  of the medians (big event / small).

Only 127.0.0.1, at most 6,000 players, every request with a timeout.

    .venv/bin/python -m bench.quiz [--players 3000] [--seconds 10] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from datetime import datetime, timedelta
from pathlib import Path

import aiohttp
import requests

from bench.common import ADMIN_KEY, Lab, figures_line, log, median, table, voting_for
from core.rules.formats.quiz import elapsed_micros, points
from core.services.repair import recount_scores

ADMIN = {"X-API-Key": ADMIN_KEY}
MAX_PLAYERS = 6000
TIMEOUT = aiohttp.ClientTimeout(total=60)


def quiz_event(base: str, title: str, limit: int) -> dict:
    """An event of one closed quiz question (choice 0 correct), in its lobby."""
    topic = requests.post(f"{base}/topics", headers=ADMIN, timeout=30, json={
        "title": "Capital of France?", "type": "quiz", "is_active": False, "time_limit": limit,
        "choices": [{"description": "Paris", "correct": True}, {"description": "Rome"},
                    {"description": "Berlin"}]}).json()  # fmt: skip
    event = requests.post(f"{base}/events", headers=ADMIN, timeout=30,
                          json={"title": title, "questions": [topic["id"]]}).json()  # fmt: skip
    return {**event, "topic": topic}


async def join_all(base: str, event: dict, count: int) -> list[str]:
    """`count` players join, 32 at a time; their voter ids."""
    limit = asyncio.Semaphore(32)

    async def one(session, n: int) -> str:
        async with limit:
            url = f"{base}/events/code/{event['code']}/players"
            async with session.post(url, json={"name": f"Player {n:04d}"}) as answer:
                assert answer.status == 201, await answer.text()
                return (await answer.json())["voter_id"]

    async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
        return await asyncio.gather(*(one(session, n) for n in range(count)))


async def answer_all(base: str, event: dict, voters: list[str], seconds: float) -> list:
    """Each voter answers once at a random moment of the next `seconds`: [(voter, wrong?,
    status, body)], and when the last answer was answered."""
    choices = [c["id"] for c in event["topic"]["choices"]]
    start = time.monotonic()

    async def one(session, n: int, voter: str):
        await asyncio.sleep(random.uniform(0, seconds))
        wrong = n % 3 == 0
        body = {"topic_id": event["topic"]["id"], "voter_id": voter,
                "choice_id": choices[1 + n % 2] if wrong else choices[0]}  # fmt: skip
        try:
            async with session.post(f"{base}/votes", json=body) as answer:
                return voter, wrong, answer.status, await answer.json(content_type=None)
        except (TimeoutError, aiohttp.ClientError):
            return voter, wrong, 0, None

    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(timeout=TIMEOUT, connector=connector) as session:
        results = await asyncio.gather(*(one(session, n, v) for n, v in enumerate(voters)))
    return results, time.monotonic() - start


def opened_at(base: str, topic: dict) -> str:
    shown = requests.get(f"{base}/topics/{topic['id']}", headers=ADMIN, timeout=30).json()
    opened = datetime.fromisoformat(shown["deadline"]) - timedelta(seconds=shown["time_limit"])
    return opened.isoformat(timespec="microseconds")


def play(base: str, voting, event: dict, players: int, seconds: float, limit: int) -> dict:
    """Join, open, answer, drain; what was accepted and whether each scored once."""
    started = time.monotonic()
    voters = asyncio.run(join_all(base, event, players))
    joined = time.monotonic() - started
    requests.post(f"{base}/events/{event['id']}/position", json={"to": "next"}, headers=ADMIN,
                  timeout=30).raise_for_status()  # fmt: skip
    results, took = asyncio.run(answer_all(base, event, voters, seconds))
    accepted = [r for r in results if r[2] == 202]
    statuses = [r[2] for r in results]
    log(f"{players} players: joined in {joined:.1f} s, {len(accepted)} answers accepted in "
        f"{took:.1f} s")  # fmt: skip
    drain_start = time.monotonic()
    while voting.queue.message_counts() != {"waiting": 0, "in_flight": 0}:
        if time.monotonic() - drain_start > 600:
            raise SystemExit("the queue did not drain within 600 s")
        time.sleep(0.5)
    drained = time.monotonic() - drain_start
    opened = opened_at(base, event["topic"])
    expected = {}
    for voter, wrong, _, body in accepted:
        elapsed = elapsed_micros(opened, body["queued_at"])
        expected[voter] = {"score": points(elapsed, limit, not wrong), "correct": int(not wrong),
                           "answered": 1}  # fmt: skip
    proof = recount_scores(voting.store, voting.backend.players, event["id"])
    stored = {v: t for v, t in proof.stored.items() if t["answered"]}
    return {
        "players": players, "accepted": len(accepted),
        "refused": sum(400 <= s < 500 for s in statuses),
        "failed": sum(s == 0 or s >= 500 for s in statuses),
        "answer_seconds": took, "drain_seconds": drained, "join_seconds": joined,
        "counted_records": proof.counted, "drift": len(proof.drift),
        "scored_once": stored == expected and proof.counted == len(accepted),
    }  # fmt: skip


def read_board(urls: dict[str, str], reads: int) -> dict[str, float]:
    """Median seconds per GET of each URL, read one at a time, alternately."""
    session = requests.Session()
    times: dict[str, list[float]] = {name: [] for name in urls}
    for _ in range(reads):
        for name, url in urls.items():
            start = time.perf_counter()
            answer = session.get(url, timeout=30)
            times[name].append(time.perf_counter() - start)
            answer.raise_for_status()
    return {name: median(values) for name, values in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--players", type=int, default=3000)
    parser.add_argument("--small", type=int, default=30, help="players of the small event")
    parser.add_argument("--seconds", type=float, default=10.0, help="the answering window")
    parser.add_argument("--limit", type=int, default=60, help="the question's time limit")
    parser.add_argument("--reads", type=int, default=200, help="GETs per board")
    parser.add_argument("--quick", action="store_true", help="300 players, 30 reads")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.players, args.reads = 300, 30
    args.players = min(args.players, MAX_PLAYERS)
    random.seed(27)

    load_before = os.getloadavg()
    with Lab(name="quiz") as lab:
        env = lab.env()
        lab.worker(env)
        _, base = lab.web(env, workers=2)
        _, uncached = lab.web({**env, "RESULTS_CACHE_SECONDS": "0"}, workers=1)
        voting = voting_for(env)
        big_event = quiz_event(base, "Big quiz", args.limit)
        big = play(base, voting, big_event, args.players, args.seconds, args.limit)
        small_event = quiz_event(base, "Small quiz", args.limit)
        small = play(base, voting, small_event, args.small, args.seconds, args.limit)
        started = time.perf_counter()
        export = requests.get(f"{base}/events/{big_event['id']}/scores.csv", headers=ADMIN,
                              timeout=300)  # fmt: skip
        export_seconds = time.perf_counter() - started
        assert export.status_code == 200 and export.text.count("\n") == 1 + 2 * args.players
        some = {"big": a_player(voting, big_event), "small": a_player(voting, small_event)}
        urls = {
            "top_big": f"{uncached}/events/code/{big_event['code']}/leaderboard",
            "top_small": f"{uncached}/events/code/{small_event['code']}/leaderboard",
            "me_big": f"{base}/events/code/{big_event['code']}/leaderboard?voter_id={some['big']}",
            "me_small":
                f"{base}/events/code/{small_event['code']}/leaderboard?voter_id={some['small']}",
        }  # fmt: skip
        medians = read_board(urls, args.reads)
    load_after = os.getloadavg()

    figures = {
        "quiz_players": big["players"],
        "quiz_accepted": big["accepted"],
        "quiz_failed": big["failed"],
        "quiz_scored_once": int(big["scored_once"] and small["scored_once"]),
        "quiz_drift": big["drift"] + small["drift"],
        "quiz_answer_seconds": big["answer_seconds"],
        "quiz_drain_seconds": big["drain_seconds"],
        "board_read_ratio": medians["top_big"] / medians["top_small"],
        "board_me_read_ratio": medians["me_big"] / medians["me_small"],
        "board_top_p50_ms": medians["top_big"] * 1000,
        "board_me_p50_ms": medians["me_big"] * 1000,
        "scores_csv_seconds": export_seconds,
    }
    rows = [[r["players"], r["accepted"], r["refused"], r["failed"], r["answer_seconds"],
             r["drain_seconds"], r["counted_records"], "yes" if r["scored_once"] else "NO",
             r["drift"]] for r in (big, small)]  # fmt: skip
    print("## Quiz: players answering at once, and the leaderboard read (bench/quiz.py)\n")
    print(table(["players", "accepted", "refused", "failed", "answering s", "drain s",
                 "counted records", "each scored once", "players drifting"], rows))  # fmt: skip
    print()
    print(table(
        ["leaderboard read", f"{args.small} players, p50 ms", f"{args.players} players, p50 ms",
         "ratio"],
        [["top 10, caches off (one Query, Limit 10)", medians["top_small"] * 1000,
          medians["top_big"] * 1000, figures["board_read_ratio"]],
         ["top 10 + own rank, as deployed (standings cached 1 s)", medians["me_small"] * 1000,
          medians["me_big"] * 1000, figures["board_me_read_ratio"]]],
    ))  # fmt: skip
    print(f"\nLoad average (1/5/15 min) at the start {_load(load_before)}, at the end "
          f"{_load(load_after)}, on {os.cpu_count()} CPUs: the machine is shared.\n")
    print(figures_line(**figures))
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "big": big, "small": small,
                                         "medians": medians}, indent=2))  # fmt: skip
    return 0 if figures["quiz_scored_once"] else 1


def _load(averages) -> str:
    return " / ".join(f"{value:.1f}" for value in averages)


def a_player(voting, event: dict) -> str:
    """A player of the event (the first the store lists): whose board asks its rank."""
    return voting.backend.players.players(event["id"])[0]["voter_id"]


if __name__ == "__main__":
    raise SystemExit(main())
