"""worker.py with faults injected through botocore event hooks: a test tool only.

Runs the real worker's main() in this process after wrapping the client
factory, so every fault below hits the real code paths with the real moto
server behind them. FAULTS is a comma-separated list:

  kill_before_delete      SIGKILL this process right before the first DeleteMessageBatch
                          (the transaction has committed, nothing is deleted)
  fail_delete:N           the first N DeleteMessageBatch calls report every entry Failed
  lose_tx_response:N      the first N TransactWriteItems reach moto and commit, then the
                          connection "drops" before the answer: the SDK retries
  cancel_tx:CODE:N        the first N TransactWriteItems are cancelled with CODE
                          (e.g. TransactionConflict) and nothing is written
  error_tx:CODE:N         the first N TransactWriteItems fail with error CODE
                          (e.g. ProvisionedThroughputExceededException)
  slow_tx:SECONDS         every TransactWriteItems waits SECONDS before it is sent
  invalid_tx:TEXT         every TransactWriteItems whose request holds TEXT (a vote id, say)
                          fails with ValidationException, as DynamoDB refuses a malformed item
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import urllib.request

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError

from core.aws import backend as aws_backend
from core.aws import clients as aws
from core.services import worker


class Budget:
    """How many more times a fault may fire."""

    def __init__(self, count: int, name: str = "fault"):
        self.left = count
        self.name = name

    def take(self) -> bool:
        if self.left <= 0:
            return False
        self.left -= 1
        # On stderr, which the tests read: proof the fault really fired.
        print(f"injected fault {self.name}", file=sys.stderr, flush=True)
        return True


def _api_params(params: dict) -> dict:
    """The call's own parameters, from the serialized request (JSON protocol)."""
    return json.loads(params["body"] or b"{}")


def _error(status: int, parsed: dict):
    return AWSResponse("http://fault", status, {}, None), parsed


def install(clients, spec: str) -> None:
    dynamodb, sqs = clients.dynamodb.meta.events, clients.sqs.meta.events
    for fault in filter(None, (f.strip() for f in spec.split(","))):
        name, *args = fault.split(":")
        if name == "kill_before_delete":

            def kill(**kw):
                print("injected fault kill_before_delete", file=sys.stderr, flush=True)
                os.kill(os.getpid(), signal.SIGKILL)

            sqs.register("before-call.sqs.DeleteMessageBatch", kill)
        elif name == "fail_delete":
            budget = Budget(int(args[0]), name)

            def fail_delete(params, budget=budget, **kw):
                if budget.take():
                    failed = [
                        {
                            "Id": e["Id"],
                            "SenderFault": False,
                            "Code": "InternalError",
                            "Message": "injected",
                        }
                        for e in _api_params(params)["Entries"]
                    ]
                    return _error(200, {"Successful": [], "Failed": failed})
                return None

            sqs.register("before-call.sqs.DeleteMessageBatch", fail_delete)
        elif name == "lose_tx_response":
            budget = Budget(int(args[0]), name)

            def lose_response(request, budget=budget, **kw):
                if budget.take():
                    forwarded = urllib.request.Request(
                        request.url, data=request.body, headers=dict(request.headers), method="POST"
                    )
                    urllib.request.urlopen(forwarded, timeout=30).read()  # moto commits it
                    raise ConnectionClosedError(endpoint_url=request.url)
                return None

            dynamodb.register("before-send.dynamodb.TransactWriteItems", lose_response)
        elif name == "cancel_tx":
            code, budget = args[0], Budget(int(args[1]), f"{name}:{args[0]}")

            def cancel(params, code=code, budget=budget, **kw):
                if budget.take():
                    reasons = [{"Code": code, "Message": "injected"}] + [
                        {"Code": "None"} for _ in _api_params(params)["TransactItems"][1:]
                    ]
                    return _error(
                        400,
                        {
                            "Error": {
                                "Code": "TransactionCanceledException",
                                "Message": "injected",
                            },
                            "CancellationReasons": reasons,
                        },
                    )
                return None

            dynamodb.register("before-call.dynamodb.TransactWriteItems", cancel)
        elif name == "error_tx":
            code, budget = args[0], Budget(int(args[1]), f"{name}:{args[0]}")

            def error(code=code, budget=budget, **kw):
                if budget.take():
                    return _error(400, {"Error": {"Code": code, "Message": "injected"}})
                return None

            dynamodb.register("before-call.dynamodb.TransactWriteItems", error)
        elif name == "slow_tx":
            seconds = float(args[0])

            def slow(seconds=seconds, **kw):
                print(f"injected fault slow_tx:{seconds}", file=sys.stderr, flush=True)
                time.sleep(seconds)

            dynamodb.register("before-call.dynamodb.TransactWriteItems", slow)
        elif name == "invalid_tx":
            marker = args[0]

            def invalid(params, marker=marker, **kw):
                if marker in json.dumps(_api_params(params)):
                    print(f"injected fault invalid_tx:{marker}", file=sys.stderr, flush=True)
                    return _error(400, {"Error": {"Code": "ValidationException", "Message": "x"}})
                return None

            dynamodb.register("before-call.dynamodb.TransactWriteItems", invalid)
        else:
            raise SystemExit(f"unknown fault {fault!r}")


def main() -> int:
    spec = os.environ.get("FAULTS", "")
    real = aws.clients_for

    def clients_with_faults(*args, **kwargs):
        clients = real(*args, **kwargs)
        install(clients, spec)
        return clients

    aws_backend.clients_for = clients_with_faults
    return worker.main()


if __name__ == "__main__":
    sys.exit(main())
