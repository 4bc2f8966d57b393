"""2,000 phones following one event: what their polling costs DynamoDB.

Each simulated phone polls its stage (GET /<CODE>/stage, as htmx does) with
the ETag of what it shows, for a bounded number of rounds; the presenter
moves on halfway, so every phone also fetches one changed stage. The web
app (gunicorn, its processes counted by bench/awscount.py) answers from
its caches: the figure is DynamoDB GetItem requests per second per web
process over the run, an upper bound on event reads (topics are cached for
60 s here, so it adds only each process's code lookup and the presenter's
one move, which reads the event and its topics fresh). Target: about one event read per second per
process, whatever the number of phones. Only 127.0.0.1, bounded in count.

    .venv/bin/python -m bench.event_polling [--phones 2000] [--rounds 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from bench.common import ADMIN_KEY, Lab, counts_when_idle, figures_line, log, table

ADMIN = {"X-API-Key": ADMIN_KEY}
TOPIC = {"title": "Coffee or tea?", "choices": [{"description": "Coffee"}, {"description": "Tea"}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phones", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5, help="polls per phone (bounded)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--json", type=Path, help="also write the figures here (make bench)")
    args = parser.parse_args()

    with Lab(name="event-polling") as lab:
        # Topics cached long, so that the GetItems counted are the events' (plus
        # each process's one code lookup and the presenter's move).
        env = lab.env(RESULTS_CACHE_SECONDS="1", TOPIC_CACHE_SECONDS="60")
        counts = lab.dir / "counts"
        _, base = lab.web(env, workers=args.workers, count_dir=counts)
        http = requests.Session()
        topics = [http.post(f"{base}/topics", json=TOPIC, headers=ADMIN).json() for _ in "ab"]
        body = {"title": "Bench talk", "questions": [t["id"] for t in topics]}
        event = http.post(f"{base}/events", json=body, headers=ADMIN).json()
        go = f"{base}/events/{event['id']}/position"
        http.post(go, json={"to": "next"}, headers=ADMIN).raise_for_status()
        stage_url = f"{base}/{event['code']}/stage"

        before = counts_when_idle(counts)["requests"]
        statuses: dict[int, int] = {}
        lock = threading.Lock()
        local = threading.local()

        def phone(_: int) -> None:
            session = getattr(local, "session", None) or requests.Session()
            local.session = session
            etag = None
            for _ in range(args.rounds):
                headers = {"HX-Request": "true", **({"If-None-Match": etag} if etag else {})}
                answer = session.get(stage_url, headers=headers, timeout=60)
                etag = answer.headers.get("ETag", etag)
                with lock:
                    statuses[answer.status_code] = statuses.get(answer.status_code, 0) + 1

        log(f"{args.phones} phones x {args.rounds} polls against {args.workers} web processes")
        started = time.monotonic()
        with ThreadPoolExecutor(max_workers=32) as pool:
            futures = [pool.submit(phone, n) for n in range(args.phones)]
            futures[len(futures) // 2].result()  # halfway: the presenter moves on
            http.post(go, json={"to": "next"}, headers=ADMIN).raise_for_status()
            for future in futures:
                future.result()
        elapsed = time.monotonic() - started
        after = counts_when_idle(counts)["requests"]

    get_items = after["dynamodb.GetItem"] - before["dynamodb.GetItem"]
    polls = sum(statuses.values())
    per_process_second = get_items / elapsed / args.workers
    log(f"statuses {statuses}; {get_items} GetItem in {elapsed:.1f} s")
    figures = dict(
        phones=args.phones,
        polls=polls,
        seconds=elapsed,
        not_modified=statuses.get(304, 0),
        get_items=get_items,
        get_items_per_process_second=per_process_second,
    )
    if args.json:
        args.json.write_text(json.dumps({"figures": figures}))
    print(f"## Events: {args.phones:,} phones following one event")
    print()
    print(
        f"{args.phones:,} simulated phones each poll an event's stage {args.rounds} times with "
        f"their ETag (as htmx does), against gunicorn with {args.workers} processes; the "
        "presenter moves on halfway. GetItem counted in the web processes (bench/awscount.py); "
        "topics cached for 60 s, so the count is the events' reads plus fixed costs (each "
        "process's code lookup and first topic reads, the presenter's move)."
    )
    print()
    print(table(
        ["polls", "304s", "seconds", "DynamoDB GetItem", "per second per web process"],
        [[polls, statuses.get(304, 0), elapsed, get_items, per_process_second]],
    ))  # fmt: skip
    print()
    print(figures_line(**figures))


if __name__ == "__main__":
    main()
