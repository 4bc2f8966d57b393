"""The launcher's last save on a clean stop, and what happens when it fails.

The web app and the worker are stopped first, so the tables and queues are
still; then the data and the waiting messages are saved. The local endpoint
holds the only copy of whatever came after the last good save, so it is never
stopped after a failed save without a clear choice:

- at a terminal, the launcher asks: retry, save to another path, or discard;
- without one (a supervisor, a closed terminal), it retries every RETRY_SECONDS
  until a save works (free space and it finishes by itself); SIGKILL is the
  way out, and the file keeps the last good save;
- `--discard`, given when starting, answers in advance: stop without it.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

RETRY_SECONDS = 10.0


def final_save(snapshot: Path, processes, env: dict, *, stop, command, cwd, discard: bool) -> bool:
    """Stop all but the endpoint (processes[0]), then save; True when the data is saved.

    `stop` stops processes; `command(*args)` is the snapshot command line, run in `cwd`.
    """
    endpoint, others = processes[0], processes[1:]
    stop(others)  # no intake and no worker: the tables and queues are still during the save
    if endpoint.poll() is not None:
        say(f"the local endpoint died: {snapshot} keeps the last periodic save")
        return False
    target = snapshot
    while True:
        print(f"saving data to {target} ...", flush=True)
        if _save(command("save", target, "--queues"), env, cwd):
            if target != snapshot:
                print(f"saved to {target}: move it to {snapshot} to start from it", flush=True)
            return True
        if discard:
            say(f"final save failed; --discard: stopping anyway. {snapshot} keeps the last "
                "good save; what came after it is lost.")  # fmt: skip
            return False
        target = _choose(snapshot, target)
        if target is None:
            say(f"discarded as you chose: {snapshot} keeps the last good save")
            return False


def _save(command: list[str], env: dict, cwd) -> bool:
    try:
        result = subprocess.run(command, env=env, cwd=cwd)
    except OSError as exc:
        say(f"cannot run the save: {exc}")
        return False
    return result.returncode == 0


def _choose(snapshot: Path, tried: Path) -> Path | None:
    """Where to try next after a failed save; None to discard."""
    say(f"!!! the final save to {tried} failed. The local endpoint still holds the data "
        f"(and {snapshot} only the last good save), so it keeps running.")  # fmt: skip
    if not sys.stdin or not sys.stdin.isatty():
        say(f"Retrying in {RETRY_SECONDS:g}s: free space (or fix {tried.parent}) and it "
            "finishes by itself. To give up instead, start with --discard next time, or "
            "SIGKILL this process.")  # fmt: skip
        time.sleep(RETRY_SECONDS)
        return tried
    while True:
        try:
            answer = input("[r]etry, save to [a]nother path, or [d]iscard the unsaved data? ")
        except EOFError:
            return tried
        choice = answer.strip().lower()[:1]
        if choice == "r":
            return tried
        if choice == "d":
            return None
        if choice == "a":
            where = input("path to save to: ").strip()
            if where:
                return Path(where).expanduser()


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
