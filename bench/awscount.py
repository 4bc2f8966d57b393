"""Count the AWS requests a process sends, with botocore's event hooks.

The benchmarks run the web app and worker.py unchanged through this wrapper:

    python -m bench.awscount DIR -m gunicorn ARGS...   (a module, like python -m)
    python -m bench.awscount DIR worker.py ARGS...     (a script)

Every botocore client the process creates (gunicorn's forked workers
included: the hook is installed before the fork) gets two handlers:

- `before-send`: runs once per HTTP request actually sent, retries included,
  which is what AWS bills; counted per "service.Operation".
- `before-parameter-build` for TransactWriteItems: what each transaction holds
  (Puts with their item sizes, Updates, ConditionChecks, Deletes), so write
  units can be priced as AWS bills them.

Counts go to DIR/<pid>.json twice a second and at exit (written to a
temporary file, then renamed). A benchmark sums the files once the processes
have been idle for a second, before and after its load, and takes the
difference. Counting in the client, not in moto, means the same figures hold
on real AWS, where there is no moto to ask.
"""

from __future__ import annotations

import atexit
import json
import os
import runpy
import sys
import threading
from collections import Counter
from pathlib import Path

_state = {"pid": None, "dir": None}
_lock = threading.Lock()
_requests: Counter = Counter()
_transactions: Counter = Counter()  # item kinds, and put sizes rounded up to whole KB


def item_size(item: dict) -> int:
    """DynamoDB's size of an item in bytes (names plus values), per its documented rules."""
    return sum(len(name.encode()) + _value_size(value) for name, value in item.items())


def _value_size(value: dict) -> int:
    ((kind, data),) = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "B":
        return len(data)
    if kind == "N":
        digits = data.lstrip("-").replace(".", "").strip("0") or "0"
        return (len(digits) + 1) // 2 + 1
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_value_size({kind[0]: element}) for element in data)
    if kind == "L":
        return 3 + sum(1 + _value_size(element) for element in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + _value_size(v) for k, v in data.items())
    raise ValueError(f"unknown attribute type {kind}")


def _on_send(event_name: str, **_kwargs) -> None:
    # event_name is "before-send.<service>.<Operation>"
    _, service, operation = event_name.split(".", 2)
    with _lock:
        _requests[f"{service}.{operation}"] += 1
    _ensure_writer()


def _on_transaction(params: dict, **_kwargs) -> None:
    with _lock:
        _transactions["transactions"] += 1
        for entry in params.get("TransactItems", []):
            ((kind, op),) = entry.items()
            table = op["TableName"].rsplit("-", 1)[-1]  # without the TABLE_PREFIX
            _transactions[f"{kind}.{table}"] += 1
            if kind == "Put":
                size = item_size(op["Item"])
                # Write units go by started KB; an index copy carries 100 more bytes.
                _transactions[f"Put.{table}.kb"] += -(-size // 1024)
                _transactions[f"Put.{table}.kb_indexed"] += -(-(size + 100) // 1024)
            elif kind == "Update" and "answers_of" in op.get("UpdateExpression", ""):
                # A text answer's tally: its copy in answers-by-count is written too.
                _transactions[f"Update.{table}.indexed"] += 1


def _register(client) -> None:
    client.meta.events.register("before-send", _on_send)
    client.meta.events.register(
        "before-parameter-build.dynamodb.TransactWriteItems", _on_transaction
    )


def install(directory: str | Path) -> None:
    """Count every client created from now on in this process (and its forks)."""
    import botocore.session

    _state["dir"] = Path(directory)
    _state["dir"].mkdir(parents=True, exist_ok=True)
    original = botocore.session.Session.create_client

    def create_client(self, *args, **kwargs):
        client = original(self, *args, **kwargs)
        _register(client)
        return client

    botocore.session.Session.create_client = create_client


def _ensure_writer() -> None:
    """One writer thread per process, started after a fork too."""
    if _state["pid"] == os.getpid():
        return
    with _lock:
        if _state["pid"] == os.getpid():
            return
        _state["pid"] = os.getpid()
        # Counts inherited through fork belong to the parent's file.
        _requests.clear()
        _transactions.clear()
    threading.Thread(target=_write_loop, daemon=True).start()
    atexit.register(_write)


def _write_loop() -> None:
    while True:
        threading.Event().wait(0.5)
        _write()


def _write() -> None:
    with _lock:
        data = {"requests": dict(_requests), "transactions": dict(_transactions)}
    target = _state["dir"] / f"{os.getpid()}.json"
    temporary = target.with_suffix(".tmp")
    temporary.write_text(json.dumps(data))
    temporary.replace(target)


def read(directory: str | Path) -> dict[str, Counter]:
    """The counts of every process that wrote to `directory`, summed."""
    total = {"requests": Counter(), "transactions": Counter()}
    for path in Path(directory).glob("*.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # being replaced right now: the caller reads again after idling
        for key in total:
            total[key].update(data.get(key, {}))
    return total


def read_each(directory: str | Path) -> dict[int, dict[str, Counter]]:
    """The counts of each process that wrote to `directory`, by process id."""
    each = {}
    for path in Path(directory).glob("*.json"):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        each[int(path.stem)] = {
            key: Counter(data.get(key, {})) for key in ("requests", "transactions")
        }
    return each


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    if sys.argv[2:4] == ["-m", "gunicorn"]:
        # gunicorn.conf.py has gevent patch the standard library before anything imports
        # ssl or botocore (else every AWS call fails with RecursionError); counting imports
        # botocore first, so it patches first, as the configuration would.
        from gevent import monkey

        monkey.patch_all()
    install(sys.argv[1])
    if sys.argv[2] == "-m":
        sys.argv = [sys.argv[3], *sys.argv[4:]]
        runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
    else:
        sys.argv = sys.argv[2:]
        runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
