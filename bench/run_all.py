"""`make bench`: run every benchmark, then write docs/benchmarks.md and its plot.

Each benchmark runs as its own process (a fresh moto server each), prints a
Markdown table and a last line of name=value figures, and leaves its raw
numbers in a JSON file for the plot. This runner pastes the tables into
docs/benchmarks.md under a summary of every target (met, or missed by how
much), the machine, the versions and how long each part took.

    .venv/bin/python -m bench.run_all [--quick] [--only NAME ...]

--quick shrinks every benchmark (fewer votes, shorter runs) to check that the
scripts work; its figures are not the ones to quote.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
PLOT = ROOT / "docs" / "benchmarks.png"
# What `make bench` should take here (2 cores, quiet): the room alone, at three sizes, takes
# about 4 minutes of it.
BUDGET_MINUTES = 20

BENCHES = {  # name: (arguments for make bench, arguments for --quick)
    "requests_per_vote": ([], ["--votes", "1000", "--backlog", "300"]),
    "intake": ([], ["--pairs", "2", "--seconds", "3"]),
    "group_commit": ([], ["--rounds", "2", "--seconds", "3", "--single", "50"]),
    "moto_keepalive": ([], ["--pairs", "2", "--requests", "400"]),
    "worker_drain": ([], ["--votes", "300", "--pairs", "1"]),
    "stored_votes": (
        [],
        ["--sizes", "1000,10000", "--requests", "20", "--votes", "60", "--pairs", "1",
         "--seconds", "8"],
    ),
    "moto_unchanged": ([], ["--stored", "5000", "--votes", "20", "--window", "10"]),
    "export_memory": ([], ["--votes", "3000", "--moto-votes", "1000"]),
    "event_polling": (["--rounds", "3"], ["--phones", "300", "--rounds", "3"]),
    "tap_to_screen": ([], ["--taps", "8"]),
    "question_types": ([], ["--votes", "100", "--reads", "30", "--big", "20000"]),
    "room": (["--phones", "1000,3000,5000"], ["--phones", "200", "--idle-seconds", "5"]),
    "qna": ([], ["--voters", "200", "--questions", "10", "--big", "200", "--reads", "30"]),
    "quiz": ([], ["--quick"]),
}  # fmt: skip


def run(name: str, extra: list[str], json_path: Path) -> dict:
    """Run one benchmark: its progress (stderr) shows live, its report (stdout) is kept."""
    start = time.perf_counter()
    sys.stderr.write(f"\n=== bench/{name}.py {' '.join(extra)}\n")
    process = subprocess.Popen(
        [sys.executable, "-m", f"bench.{name}", *extra, "--json", str(json_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    errors: list[str] = []

    def relay():
        for line in process.stderr:
            sys.stderr.write(line)
            errors.append(line)

    relay_thread = threading.Thread(target=relay, daemon=True)
    relay_thread.start()
    out = process.stdout.read().rstrip()
    process.wait()
    relay_thread.join()
    seconds = time.perf_counter() - start
    sys.stdout.write(f"{out}\n({name}: {seconds:.0f} s, exit {process.returncode})\n")
    data = json.loads(json_path.read_text()) if json_path.exists() else {}
    return {
        "name": name,
        "seconds": seconds,
        "ok": process.returncode == 0 and bool(data),
        "body": out.rsplit("\n", 1)[0] if out else "",
        "error": "".join(errors)[-2000:] if process.returncode != 0 else "",
        "data": data,
    }


def machine() -> list[str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "unknown",
    )
    memory = next(
        (
            int(line.split()[1]) / 1024**2
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        ),
        0,
    )
    try:
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
    except OSError:
        wrk = "not installed"
    versions = ", ".join(
        f"{package} {metadata.version(package)}"
        for package in ("moto", "boto3", "botocore", "Flask", "gunicorn", "matplotlib")
    )
    return [
        f"- CPU: {os.cpu_count()} x {cpu}; memory {memory:.0f} GiB; {platform.platform()}",
        f"- Python {platform.python_version()}; {versions}; "
        f"{(wrk.splitlines() or ['wrk ?'])[0].split(' Copyright')[0]}",
    ]


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def verdict(value, target: float, at_least: bool) -> str:
    if value is None:
        return "not measured"
    met = value >= target if at_least else value <= target
    off = (value / target - 1) * 100
    return "**met**" if met else f"**missed** by {abs(off):.0f}%"


def summary(results: dict[str, dict]) -> list[str]:
    def fig(name: str, key: str):
        return results.get(name, {}).get("data", {}).get("figures", {}).get(key)

    rows = [
        ("SQS requests per vote, 16 clients", fig("requests_per_vote", "sqs_per_vote"),
         "<= 0.35", 0.35, False),
        ("... 64 clients", fig("requests_per_vote", "sqs_per_vote_64"), "<= 0.35", 0.35,
         False),
        ("... 1 client", fig("requests_per_vote", "sqs_per_vote_1"), "report", None, False),
        ("... 16 clients, group commit off", fig("requests_per_vote",
         "sqs_per_vote_ungrouped"), "report", None, False),
        ("AWS requests per vote, end to end (16 clients)", fig("requests_per_vote",
         "requests_per_vote"), "<= 0.5", 0.5, False),
        ("... 64 clients", fig("requests_per_vote", "requests_per_vote_64"), "<= 0.5", 0.5,
         False),
        ("... with a backlog (full worker batches)", fig("requests_per_vote",
         "requests_per_vote_backlog"), "<= 0.5", 0.5, False),
        ("Web CPU per vote, grouped / ungrouped", fig("group_commit",
         "cpu_grouped_over_ungrouped"), "<= 0.4", 0.4, False),
        # A vote costing exactly an empty request at its rate would score this.
        ("... its floor: GET /healthz at the votes' rate / ungrouped vote", fig(
         "group_commit", "cpu_healthz_same_rate_over_ungrouped"), "report", None, False),
        # healthz at the votes' rate: a request's CPU here depends on the rate (group_commit.py)
        ("Web CPU per vote / per GET /healthz at the votes' rate", fig("group_commit",
         "cpu_vote_over_healthz_same_rate"), "<= 2.5", 2.5, False),
        ("... / per GET /healthz flat out (several times the votes' rate)", fig(
         "group_commit", "cpu_vote_over_healthz"), "report", None, False),
        ("Intake throughput, POST /votes / bare SendMessage route", fig("intake",
         "intake_throughput_ratio"), ">= 1.5", 1.5, True),
        ("... p50, bare route / POST /votes", fig("intake", "intake_p50_ratio"), "report",
         None, True),
        ("... p99, bare route / POST /votes", fig("intake", "intake_p99_ratio"), "report",
         None, True),
        ("p50 with one client, grouped / ungrouped", fig("group_commit",
         "p50_one_client_grouped_over_ungrouped"), "<= 1.1", 1.1, False),
        ("Cost of 1M votes + 10k views, ours / original", fig("requests_per_vote",
         "cost_ratio_ours_over_original"), "<= 0.75", 0.75, False),
        ("Local endpoint with keep-alive / dev server: requests/s", fig("moto_keepalive",
         "keepalive_throughput_ratio"), "report", None, True),
        ("... endpoint CPU per request", fig("moto_keepalive", "keepalive_server_cpu_ratio"),
         "report", None, False),
        ("... client CPU per request", fig("moto_keepalive", "keepalive_client_cpu_ratio"),
         "report", None, False),
        ("1. DynamoDB write units per vote (billed)", fig("requests_per_vote",
         "write_units_per_vote"), "report", None, False),
        ("2. Cost of 1M votes + 10k views ($), ours", fig("requests_per_vote", "cost_workload"),
         "report", None, False),
        ("2. ... original design ($)", fig("requests_per_vote", "cost_workload_original"),
         "report", None, False),
        ("4. Worker votes/s, worker.py / bare loop", fig("worker_drain", "worker_ratio"),
         ">= 0.9", 0.9, True),
        ("5. Results read median, 100k votes / 10 votes", fig("stored_votes",
         "read_ratio_100k"), "<= 1.2", 1.2, False),
        ("5. Tally reads per second per web process, 1,000 viewers", fig("stored_votes",
         "tally_reads_per_s_per_process_max"), "<= 1", 1.0, False),
        ("6. Embedded votes/s, 50k stored / empty (with local/moto_server.py)", fig("stored_votes",
         "embedded_ratio"), ">= 0.7", 0.7, True),
        ("6. ... with a snapshot save running throughout (make run: at most 1/10 of the time)",
         fig("stored_votes", "embedded_ratio_saving"), "report", None, True),
        ("6. ... on moto unchanged (before the fix)", fig("moto_unchanged",
         "embedded_ratio_stock"), "before", None, True),
        ("Export peak memory, 300,000 / 10,000 votes", fig("export_memory",
         "export_peak_flat_ratio"), "report (1 = flat)", None, False),
        ("Event GetItem per second per web process, 2,000 polling phones (all-in)",
         fig("event_polling", "get_items_per_process_second"), "about 1 + fixed reads", None,
         False),
        ("Results read median, 100k votes / 10 votes, worst question type", fig(
         "question_types", "read_ratio_worst"), "<= 1.2", 1.2, False),
        *[(f"... {kind}: results read ratio",
           fig("question_types", f"read_ratio_{kind}"), "<= 1.2", 1.2, False)
          for kind in ("single", "multiple", "ranking", "rating", "rate_each", "text", "game")],
        *[(f"{kind}: AWS requests per vote", fig("question_types",
           f"requests_per_vote_{kind}"), "report", None, False)
          for kind in ("single", "multiple", "ranking", "rating", "rate_each", "text", "game")],
        *[(f"{kind}: DynamoDB write units per vote", fig("question_types",
           f"write_units_per_vote_{kind}"), "report", None, False)
          for kind in ("single", "multiple", "ranking", "rating", "rate_each", "text", "game")],
        ("Quiz: every accepted answer scored once (3,000 players within 10 s; 1 = yes)",
         fig("quiz", "quiz_scored_once"), "= 1", 1.0, True),
        ("... answers accepted", fig("quiz", "quiz_accepted"), "report", None, True),
        ("Leaderboard read p50, 3,000 players / 30 (top 10, caches off)", fig("quiz",
         "board_read_ratio"), "<= 1.2", 1.2, False),
        ("... with the player's own rank, as deployed", fig("quiz", "board_me_read_ratio"),
         "report", None, False),
        ("Tap to projector p95, seconds (real browsers)", fig("tap_to_screen",
         "tap_p95_s"), "<= 2", 2.0, False),
        ("Tap to projector p50, seconds", fig("tap_to_screen", "tap_p50_s"), "report", None,
         False),
        ("Tap to an event's projected view p95, seconds (results hidden: its answer count)",
         fig("tap_to_screen", "event_tap_p95_s"), "<= 2", 2.0, False),
        ("... p50, seconds", fig("tap_to_screen", "event_tap_p50_s"), "report", None, False),
        *room_rows(fig),
    ]  # fmt: skip
    lines = ["| target | measured | goal | verdict |", "|---|---|---|---|"]
    for label, value, goal, target, at_least in rows:
        shown = "not measured" if value is None else f"{value:.3g}"
        judged = verdict(value, target, at_least) if target is not None else "-"
        lines.append(f"| {label} | {shown} | {goal} | {judged} |")
    return lines


def room_rows(fig) -> list[tuple]:
    """A room of phones (bench/room.py): 3,000 phones must, 5,000 the goal."""
    rows = []
    for phones, counted, idle, kind in ((3000, 15, 10, "must"), (5000, 20, 15, "goal")):
        n = f"{phones:,} phones ({kind})"
        rows += [
            (f"Room, {n}: presenter's move answered, s", fig("room", f"move_s_{phones}"),
             "< 0.5", 0.5, False),
            ("... follow p95, s", fig("room", f"follow_p95_s_{phones}"), "<= 1", 1.0, False),
            ("... follow max, s", fig("room", f"follow_max_s_{phones}"), "<= 2", 2.0, False),
            ("... votes accepted / phones", fig("room", f"accepted_share_{phones}"),
             ">= 0.999", 0.999, True),
            ("... all accepted votes counted, s after the window", fig(
             "room", f"counted_s_{phones}"), f"<= {counted}", float(counted), False),
            ("... projector shows the final count, s after the last record", fig(
             "room", f"projector_s_{phones}"), "<= 2", 2.0, False),
            ("... idle connected phones, web CPU % of a core", fig(
             "room", f"idle_cpu_pct_{phones}"), f"<= {idle}", float(idle), False),
        ]  # fmt: skip
    return rows


def plot(results: dict[str, dict]) -> bool:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    stored = results.get("stored_votes", {}).get("data", {})
    before = results.get("moto_unchanged", {}).get("data", {})
    if not stored:
        return False
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    e2e = stored["e2e"]
    empty = sorted(v for runs in e2e.values() for v in runs["E"])
    points = [(0, empty[len(empty) // 2])] + [
        (int(size), sorted(runs["B"])[len(runs["B"]) // 2]) for size, runs in e2e.items()
    ]
    left.plot(*zip(*points, strict=True), "o-", label="with local/moto_server.py's fixes")
    if before:
        unchanged = sorted((int(size), rate) for size, rate in before["e2e"].items())
        left.plot(*zip(*unchanged, strict=True), "s--", label="moto unchanged")
    left.set_xlabel("votes already stored")
    left.set_ylabel("end-to-end votes/s (median)")
    left.set_title("Embedded mode throughput")
    left.set_ylim(bottom=0)
    left.legend()

    reads = stored["reads"]
    sizes = [row["stored"] for row in reads]
    right.plot(sizes, [row["read_units_per_view"] for row in reads], "o-",
               label="ours: read units per view (counted)")  # fmt: skip
    right.plot(sizes, [row["original_read_units_per_view"] for row in reads], "s--",
               label="original: read units per view (computed)")  # fmt: skip
    right.set_xscale("log")
    right.set_yscale("log")
    right.set_xlabel("votes on the topic")
    right.set_ylabel("DynamoDB read units per results view")
    right.set_title("Results read cost")
    twin = right.twinx()
    twin.plot(sizes, [row["big_ms"] / row["small_ms"] for row in reads], "^:",
              color="tab:green", label="ours: latency / 10-vote topic")  # fmt: skip
    twin.set_ylabel("latency ratio to a 10-vote topic")
    twin.set_ylim(0, 2)
    handles = right.get_legend_handles_labels()[0] + twin.get_legend_handles_labels()[0]
    labels = right.get_legend_handles_labels()[1] + twin.get_legend_handles_labels()[1]
    right.legend(handles, labels, loc="upper left", fontsize="small")
    fig.tight_layout()
    fig.savefig(PLOT, dpi=110)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small runs, to check the scripts")
    parser.add_argument("--only", nargs="*", choices=list(BENCHES), help="run just these")
    args = parser.parse_args(argv)

    started = datetime.now(UTC)
    load_before = load()
    results = {}
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        for name, (full, quick) in BENCHES.items():
            if args.only and name not in args.only:
                continue
            results[name] = run(name, quick if args.quick else full, Path(tmp) / f"{name}.json")
    total = sum(r["seconds"] for r in results.values())
    plotted = plot(results)

    lines = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` (bench/run_all.py{' --quick' if args.quick else ''}) on "
        f"{started:%Y-%m-%d %H:%M} UTC in {total / 60:.1f} minutes. Do not edit by hand: "
        "run `make bench` again. What each benchmark does, and why the figures are ratios, "
        "is in the docstring of its script under bench/; docs/architecture.md explains the "
        "design they measure and docs/scaling.md what they mean on AWS.",
        "",
        "## Machine",
        "",
        *machine(),
        f"- Load average (1/5/15 min) at the start: {load_before}; at the end: {load()}. "
        "The machine is shared: every figure below is a ratio against a baseline measured "
        "in the same run, or a count that does not depend on speed.",
        "",
        "## Summary",
        "",
        *summary(results),
        "",
    ]
    if plotted:
        lines += [f"![Throughput and read cost against stored votes]({PLOT.name})", ""]
    budget = "within" if total <= BUDGET_MINUTES * 60 else "over"
    lines += [
        f"`make bench` took {total / 60:.1f} minutes: {budget} its {BUDGET_MINUTES}-minute budget "
        f"(load average {load_before} at the start, {load()} at the end).",
        "",
        "| benchmark | seconds |",
        "|---|---|",
    ]
    lines += [f"| bench/{r['name']}.py | {r['seconds']:.0f} |" for r in results.values()]
    lines.append("")
    for result in results.values():
        if result["ok"]:
            lines += [result["body"].replace("\n## ", "\n### ").replace("## ", "### ", 1), ""]
        else:
            lines += [f"### bench/{result['name']}.py failed", "", "```",
                      result["error"].strip(), "```", ""]  # fmt: skip
    DOC.write_text("\n".join(lines))
    print(
        f"\nwrote {DOC.relative_to(ROOT)}" + (f" and {PLOT.relative_to(ROOT)}" if plotted else "")
    )
    print(f"total {total:.0f} s")
    return 0 if all(r["ok"] for r in results.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
