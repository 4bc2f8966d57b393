"""A room of phones: N simulated phones join an event, follow it, and vote when it moves on.

For each room size, a fresh stack as `make run` has it (moto, gunicorn 2
processes (gevent), one worker.py; rate limits off, as in every
benchmark: the room is one address). Two single-choice topics make an
event, the presenter (the JSON API) opens question 1, and N phones
(bench/phones.py: each its own aiohttp client, cookies and connections)
open the short URL over a few seconds and follow the stage as the page
asks: polling every second with its ETag, or its event stream when the
page has `sse-connect` (read from the page; `--mode poll` forces polling):

- idle: over `--idle-seconds`, gunicorn's CPU (master and workers, /proc) as
  % of one core and CPU-seconds per phone-minute; the polls' p50/p95 and this
  simulator's CPU (near one core, the latencies are partly its own);
- the presenter moves to question 2: how long POST /events/{id}/position
  takes to answer; the follow latency is from that request being sent to
  each phone holding a stage whose vote form posts to question 2;
- each phone that saw it taps a random choice at a random moment of the
  next `--window` seconds, through the stage's form (its csrf_token, HX-Request):
  202 accepted, 4xx refused, 5xx or no answer failed;
- every accepted vote counted: from the end of the voting window (the last
  202 answered) until GET /topics/{id}?include_votes=true totals the
  accepted votes; then until that total stays put for 5 s: the final count
  (above the accepted votes when requests a phone gave up on were still
  taken: they wait in the listening socket's queue, whose longest length,
  read from /proc/net/tcp every second, is reported too);
- the projector: the public results fragment it polls (GET /t/<id>/results
  ?view=present, HX-Request, ETag, twice a second from the move on; not the
  signed-in presenter view, which shows results only once revealed): when it
  first shows the final count, after the last vote record was written (the
  newest record's `created`, stamped by the worker as it decides its batch).

Only 127.0.0.1; at most 6,000 phones; every request and every wait has a
timeout (a request: `--request-timeout`, 30 s, where a browser would wait
on), so a server that stops answering ends the run with "no answer within
X s". Sizes run one after another, each on its own stack, with the load
average at its start and end (the machine is shared). The page parsing is
bench/audience_page.py's, checked by `--self-check`.

    .venv/bin/python -m bench.room [--phones 1000,3000] [--mode auto|poll] [--self-check]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import shutil
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import requests

from bench.audience_page import failure, local_url, percentile, self_check
from bench.common import ADMIN_KEY, Lab, cpu_seconds, figures_line, log, table
from bench.phones import Phone, Room, projector, watch_lag, watch_queue

MAX_PHONES = 6000
ADMIN = {"X-API-Key": ADMIN_KEY}
ERRORS = re.compile(r'"level": "(?:error|critical)"|Traceback|WORKER TIMEOUT', re.I)
SETTLED = 5.0  # a total unchanged for this long is the final count


async def until(predicate, timeout: float, step: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        await asyncio.sleep(step)
    return True


def web_cpu(master: subprocess.Popen) -> float:
    """CPU seconds so far of gunicorn's master and its workers (its children)."""
    found = subprocess.run(["pgrep", "-P", str(master.pid)], capture_output=True, text=True)
    return sum(cpu_seconds(pid) for pid in [master.pid, *map(int, found.stdout.split())])


async def scenario(room: Room, web, event: dict, topic_id: str, args, out: dict) -> None:
    admin = aiohttp.ClientSession(headers=ADMIN)
    phones = [Phone(room, n) for n in range(args.phones)]
    shown: dict[int, float] = {}  # total -> when the projector first showed it (wall clock)
    room.tasks |= {asyncio.create_task(watch(room)) for watch in (watch_queue, watch_lag)}
    try:
        await join(room, phones, args, out)
        await idle(room, web, args, out)
        await move(room, admin, event, topic_id, shown, args, out)
        await follow_and_vote(room, args, out)
        await count(room, admin, topic_id, shown, args, out)
    finally:
        room.done.set()
        for task in room.tasks:
            task.cancel()
        await asyncio.wait(room.tasks, timeout=30)  # never empty: the watches are there
        closing = [phone.close() for phone in phones] + [admin.close()]
        await asyncio.wait_for(asyncio.gather(*closing, return_exceptions=True), 30)
        out["polls"] = {str(s): n for s, n in room.polls.items()}
        out["accept_queue_max"] = room.queue_max
        out["streams"] = {str(s): n for s, n in room.streams.items()}


async def join(room: Room, phones: list[Phone], args, out: dict) -> None:
    ramp = args.ramp if args.ramp is not None else min(20.0, max(2.0, args.phones / 250))
    log(f"{args.phones} phones join over {ramp:.0f} s")
    start, started = time.monotonic(), 0
    while started < len(phones):  # in batches: a loop turn each would lag behind the ramp
        due = min(len(phones), 1 + int(len(phones) * (time.monotonic() - start) / ramp))
        room.tasks |= {asyncio.create_task(phone.run()) for phone in phones[started:due]}
        started = due
        await asyncio.sleep(0.02)
    await until(lambda: room.joins.total() >= len(phones), args.request_timeout + 5)
    out["joined"], out["join_s"] = room.joins[200], time.monotonic() - start
    out["mode"] = "push" if room.streams[200] else "poll"
    log(f"joined in {out['join_s']:.0f} s: {dict(room.joins)}; streams: {dict(room.streams)}")
    await asyncio.sleep(2)  # every phone has asked once since joining


async def idle(room: Room, web, args, out: dict) -> None:
    cpu, client, began = web_cpu(web), time.process_time(), time.monotonic()
    await asyncio.sleep(args.idle_seconds)
    seconds = time.monotonic() - began
    used = web_cpu(web) - cpu
    out["idle_cpu_pct"] = 100 * used / seconds
    out["idle_cpu_s_per_phone_min"] = used / max(1, out["joined"]) / (seconds / 60)
    out["client_cpu_pct"] = 100 * (time.process_time() - client) / seconds
    answered = [s for sent, s in room.poll_times if began <= sent < began + seconds]
    for q in (50, 95):
        out[f"poll_p{q}_ms"] = 1000 * percentile(answered, q) if answered else None
    out["lag_idle_p95_ms"] = 1000 * (percentile([s for t, s in room.lags if t >= began], 95) or 0)
    log(f"idle {seconds:.0f} s: web {out['idle_cpu_pct']:.0f}% of a core, polls "
        f"{dict(room.polls)}, simulator {out['client_cpu_pct']:.0f}%")  # fmt: skip


async def move(room: Room, admin, event: dict, topic_id: str, shown: dict, args, out) -> None:
    """The presenter moves to question 2; the projector starts watching its results."""
    room.target, room.move_sent = topic_id, time.monotonic()
    room.tasks.add(asyncio.create_task(projector(room, topic_id, shown)))
    out["move_s"], out["move_status"] = None, f"no answer within {args.move_timeout:.0f} s"
    try:
        timeout = aiohttp.ClientTimeout(total=args.move_timeout)
        url = local_url(room.base, f"/events/{event['id']}/position")
        async with admin.post(url, json={"to": "next"}, timeout=timeout) as answer:
            await answer.read()
            out["move_s"], out["move_status"] = time.monotonic() - room.move_sent, answer.status
    except (aiohttp.ClientError, TimeoutError, OSError) as exc:
        out["move_status"] += f" ({failure(exc)})"
    log(f"presenter's move: {out['move_status']} after {out['move_s']} s")


async def follow_and_vote(room: Room, args, out: dict) -> None:
    await until(lambda: len(room.follow) >= out["joined"], args.follow_timeout)
    room.following = False
    out["saw"] = len(room.follow)
    for q in (50, 95, 100):
        out[f"follow_p{q}_s"] = percentile(room.follow, q)
    log(f"{out['saw']}/{out['joined']} phones saw question 2; votes within {args.window} s")
    if room.vote_tasks:
        await asyncio.wait(room.vote_tasks, timeout=args.window + args.request_timeout + 5)
    out["accepted"], out["retried"] = room.votes[202], room.retried
    out["refusals"] = dict(room.refusals)  # the messages a refused vote's fragment showed
    out["refused"] = {s: n for s, n in room.votes.items() if str(s).startswith("4")}
    out["failed"] = {str(s): n for s, n in room.votes.items() if s != 202 and s not in
                     out["refused"]}  # fmt: skip
    out["lag_max_ms"] = 1000 * max([s for t, s in room.lags if t >= room.move_sent] or [0])
    log(f"votes: {dict(room.votes)} {out['refusals'] or ''}; sent again: {room.retried}; "
        f"loop lag up to {out['lag_max_ms']:.0f} ms")  # fmt: skip


async def count(room: Room, admin, topic_id: str, shown: dict, args, out: dict) -> None:
    """Until the topic counts every accepted vote, then until its total settles (votes whose
    phone got no answer may still be counted), then until the projector shows that total."""
    accepted, out["counted_s"], out["projector_s"] = out["accepted"], None, None
    url = local_url(room.base, f"/topics/{topic_id}?include_votes=true")
    total, changed, deadline = -1, time.monotonic(), time.monotonic() + args.count_timeout
    while time.monotonic() < deadline:
        try:
            async with admin.get(url, timeout=room.request_timeout) as answer:
                now_total = (await answer.json()).get("total_votes") or 0
        except (aiohttp.ClientError, TimeoutError, OSError, ValueError):
            now_total = total
        now = time.monotonic()
        if now_total != total:
            total, changed = now_total, now
        if out["counted_s"] is None and total >= accepted:
            out["counted_s"] = now - room.last_accepted if accepted else 0.0
        if out["counted_s"] is not None and now - changed >= SETTLED:
            break
        await asyncio.sleep(0.2)
    out["final_total"], out["late"] = (total, max(0, total - accepted)) if total >= 0 else (None, 0)
    log(f"counted: {out['counted_s']} s after the last 202; final total {out['final_total']}")
    if total <= 0 or out["counted_s"] is None:
        return
    await until(lambda: total in shown, args.projector_timeout)
    url = local_url(room.base, f"/votes?topic_id={topic_id}&limit=1")
    try:
        async with admin.get(url, timeout=room.request_timeout) as answer:
            newest = (await answer.json())["items"][0]["created"]
    except (aiohttp.ClientError, TimeoutError, OSError, ValueError, LookupError) as exc:
        log(f"the last record's time: {failure(exc)}")
        return
    written = datetime.fromisoformat(newest).replace(tzinfo=UTC).timestamp()
    if total in shown:
        out["projector_s"] = shown[total] - written
    log(f"projector shows {total}: {out['projector_s']} s after the last record")


def setup(base: str) -> tuple[dict, list[dict]]:
    """Two single-choice topics, an event of them, question 1 on screen."""
    http = requests.Session()
    http.headers.update(ADMIN)

    def post(path: str, body: dict) -> dict:
        answer = http.post(f"{base}{path}", json=body, timeout=30)
        answer.raise_for_status()
        return answer.json()

    topics = [
        post("/topics", {"title": f"{a} or {b}?", "choices": [{"description": a},
                                                             {"description": b}]})
        for a, b in (("Coffee", "tea"), ("Cats", "dogs"))
    ]  # fmt: skip
    # Results shown live (an event's questions start hidden): the projector's public
    # results fragment then shows each total, as a room that watches the bars move sees it.
    event = post("/events", {"title": "Room benchmark", "questions": [t["id"] for t in topics],
                             "results": "shown"})  # fmt: skip
    post(f"/events/{event['id']}/position", {"to": "next"})
    return event, topics


def one_size(args, phones: int) -> dict:
    out: dict = {"phones": phones, "mode": args.mode, "load": [os.getloadavg()[0]]}
    with Lab(name="room") as lab:
        env = lab.env()
        web, base = lab.web(env, workers=2)
        lab.worker(env)
        event, topics = setup(base)
        room = Room(base, event["code"], args)
        size = argparse.Namespace(**{**vars(args), "phones": phones})
        try:
            play = scenario(room, web, event, topics[1]["id"], size, out)
            with ahead_of_the_stack(), asyncio.Runner(loop_factory=loop_factory()) as runner:
                runner.run(asyncio.wait_for(play, args.timeout))
        except TimeoutError:
            out["stopped"] = f"stopped after {args.timeout:.0f} s"
            log(out["stopped"])
        except Exception as exc:  # the next sizes still run; the report says what stopped
            out["stopped"] = f"stopped: {exc!r}"
            log(out["stopped"])
        logs = "".join(p.read_text(errors="replace") for p in lab.dir.glob("*.log"))
        out["server_errors"] = len(ERRORS.findall(logs))
        out["server_5xx"] = len(re.findall(r'"status": 5\d\d', logs))
        log(f"server logs: {out['server_errors']} errors, {out['server_5xx']} 5xx ({lab.dir})")
    out["load"].append(os.getloadavg()[0])
    if not out["server_errors"] and not out["server_5xx"]:
        shutil.rmtree(lab.dir, ignore_errors=True)  # the access log alone: 100s of MB
    return out


@contextlib.contextmanager
def ahead_of_the_stack():
    """The phones are not this machine's: the simulator (this thread: its loop) runs at nice
    -10 when allowed, ahead of the stack it started before, so that the server's load slows
    it less; what is left shows as its loop lag. Back to its priority after."""
    before = os.getpriority(os.PRIO_PROCESS, 0)
    with contextlib.suppress(PermissionError):
        os.setpriority(os.PRIO_PROCESS, 0, before - 10)
    try:
        yield
    finally:
        os.setpriority(os.PRIO_PROCESS, 0, before)


def loop_factory():
    try:
        import uvloop  # optional: used only when already installed
    except ImportError:
        return None
    return uvloop.new_event_loop


def shown(value, unit: str = "", missing: str = "-") -> str:
    return missing if value is None else f"{value:,.2f}{unit}"


def row(out: dict, args) -> list:
    move, status = out.get("move_s"), out.get("move_status", "-")
    answered = str(status) if move is None else f"{move:.2f}" + ("" if status == 200 else
                                                                  f" ({status})")  # fmt: skip
    no_answer = f"no answer within {args.request_timeout:.0f} s"
    failed = ", ".join(f"{n:,} {no_answer if s == 'timeout' else s}"
                       for s, n in out.get("failed", {}).items()) or "0"  # fmt: skip
    votes = f"{out.get('accepted', 0):,} / {sum(out.get('refused', {}).values()):,} / {failed}"
    if out.get("refusals"):
        votes += "; refused: " + ", ".join(f"{n} {why}" for why, n in out["refusals"].items())
    if out.get("retried"):
        votes += f"; {out['retried']:,} sent twice after a closed connection"
    if out.get("late"):
        votes += f"; {out['late']:,} more counted, unanswered"
    return [
        f"{out['phones']:,}", out.get("mode", "-"), f"{out.get('joined', 0):,}",
        shown(out.get("poll_p50_ms")) + " / " + shown(out.get("poll_p95_ms")), answered,
        " / ".join(shown(out.get(f"follow_p{q}_s")) for q in (50, 95, 100)),
        f"{out.get('saw', 0):,}", votes,
        shown(out.get("counted_s"), missing=f"not within {args.count_timeout:.0f} s")
        if out.get("accepted") else "-",
        shown(out.get("projector_s"), missing="not seen"),
        shown(out.get("idle_cpu_pct"), "%") + " / " + shown(out.get("idle_cpu_s_per_phone_min")),
        shown(out.get("client_cpu_pct"), "%") + " / " + shown(out.get("lag_idle_p95_ms"))
        + " / " + shown(out.get("lag_max_ms")), f"{out.get('accept_queue_max', 0):,}",
        " / ".join(f"{load:.1f}" for load in out["load"]),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", action="append", help="room sizes (repeat, or 1000,3000)")
    parser.add_argument("--idle-seconds", type=float, default=30.0)
    parser.add_argument("--window", type=float, default=10.0, help="voting window (s)")
    parser.add_argument("--mode", choices=["auto", "poll"], default="auto")
    parser.add_argument("--ramp", type=float, help="seconds to join (default N/250, 2-20)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--request-timeout", type=float, default=30.0)
    parser.add_argument("--move-timeout", type=float, default=30.0)
    parser.add_argument("--follow-timeout", type=float, default=60.0)
    parser.add_argument("--count-timeout", type=float, default=120.0)
    parser.add_argument("--projector-timeout", type=float, default=60.0)
    parser.add_argument("--timeout", type=float, default=900.0, help="cap per room size (s)")
    parser.add_argument("--json", type=Path, help="also write the figures here (make bench)")
    parser.add_argument("--self-check", action="store_true", help="check the parsers, no server")
    args = parser.parse_args()
    if args.self_check:
        self_check()
        print("self-check: ok")
        return
    sizes = [int(n) for item in args.phones or ["1000,3000,5000"] for n in item.split(",")]
    if not sizes or any(not 1 <= n <= MAX_PHONES for n in sizes):
        parser.error(f"--phones: between 1 and {MAX_PHONES:,}")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # one socket or more per phone

    results = []
    for phones in sizes:
        log(f"=== {phones} phones")
        results.append(one_size(args, phones))
    figures = {}
    for out in results:
        n = out["phones"]
        figures |= {
            f"move_s_{n}": out.get("move_s"), f"follow_p95_s_{n}": out.get("follow_p95_s"),
            f"follow_max_s_{n}": out.get("follow_p100_s"),
            f"accepted_share_{n}": (out.get("accepted") or 0) / n,
            f"saw_{n}": out.get("saw"), f"accepted_{n}": out.get("accepted"),
            f"counted_s_{n}": out.get("counted_s"), f"projector_s_{n}": out.get("projector_s"),
            f"idle_cpu_pct_{n}": out.get("idle_cpu_pct"),
            f"idle_cpu_s_per_phone_min_{n}": out.get("idle_cpu_s_per_phone_min"),
            f"failed_{n}": sum(out.get("failed", {}).values()),
        }  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"figures": figures, "sizes": results}))
    print("## A room of phones: join, follow, vote")
    print()
    print(
        "Simulated phones (aiohttp, one client each) open an event's short URL, follow its "
        "stage as the page asks (polling every second with the ETag, or its event stream), "
        f"and, once the presenter moves on, vote through the stage's form within {args.window:.0f}"
        " s; `make run`'s stack (gunicorn 2 processes, gevent; one worker.py). Follow: from the "
        "presenter's "
        "request to each phone showing the new question. Counted: after the last vote accepted. "
        "Projector: the results fragment it polls, after the last vote record was written. "
        f"Idle: web CPU over {args.idle_seconds:.0f} s with every phone following. Queue: the "
        "most connections seen waiting for gunicorn to accept them. Simulator: how late its "
        "own loop wakes, its share of the latencies. The machine is shared: "
        "its load average (1 min) at the start and end of each size is beside the figures."
    )
    print()
    print(table(
        ["phones", "mode", "joined", "idle poll p50 / p95 (ms)", "presenter's move answered (s)",
         "follow p50 / p95 / max (s)", "saw it", "votes accepted / refused / failed",
         "all counted (s after last 202)", "projector final count (s after last record)",
         "idle web CPU (% core / CPU-s per phone-minute)",
         "simulator: idle CPU / loop lag idle p95, max after the move (ms)", "queue",
         "load"],
        [row(out, args) for out in results],
    ))  # fmt: skip
    print()
    print(figures_line(**figures))


if __name__ == "__main__":
    main()
