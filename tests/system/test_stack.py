"""ddl/stack.yaml: lint-clean, in step with ddl/*.json and core/aws/queue.py, deployable,
and its IAM policies grant exactly what the code calls.

- cfn-lint, as an operator would run it.
- Every ddl/*.json table is in the template with the same keys and indexes
  (a new table fails here until the template has it), on demand, with
  point-in-time recovery, and the template has no table ddl/ lacks.
- The queues have the attributes `init-aws` gives them.
- The template deploys on moto's CloudFormation and the app runs on it:
  `init-aws` creates nothing, and a run of web and worker (recorded by that
  moto server) makes exactly the calls AppPolicy grants, nothing more.
- Both policies together: every call in the adapters of core/aws/,
  and nothing more.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from core.aws.tables import TIME_TO_LIVE
from core.settings import Settings
from local import launcher as embedded
from tests.helpers.accounts import bearer, make_user, sign_in_as
from tests.helpers.api import ADMIN, SAMPLE_TOPIC, move, sign_in
from tests.helpers.processes import Processes
from tests.helpers.quiz import answer_quiz, join, leaderboard, quiz_event
from tests.helpers.stack_template import granted, policy_statements, stack_template
from tests.helpers.stacks import aws_client, make_env
from tests.helpers.waiting import wait_for

ROOT = embedded.ROOT
STACK = ROOT / "ddl" / "stack.yaml"
TABLE_SPECS = {p.stem: json.loads(p.read_text()) for p in sorted((ROOT / "ddl").glob("*.json"))}
TEMPLATE = stack_template()
RESOURCES = TEMPLATE["Resources"]
# The settings' own defaults, as the stack's parameters must repeat them.
DEFAULT = {name: field.default for name, field in Settings.model_fields.items()}


def _of_type(kind: str) -> dict[str, dict]:
    return {name: r for name, r in RESOURCES.items() if r["Type"] == kind}


# -- the template itself ---------------------------------------------------------------


def test_cfn_lint_passes():
    cfn_lint = Path(sys.executable).parent / "cfn-lint"
    done = subprocess.run([cfn_lint, str(STACK)], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stdout + done.stderr


def _tables_by_base() -> dict[str, tuple[str, dict]]:
    found = {}
    for name, resource in _of_type("AWS::DynamoDB::Table").items():
        table_name = resource["Properties"]["TableName"]
        match = re.fullmatch(r"\$\{TablePrefix\}(\w+)", table_name.get("Fn::Sub", ""))
        assert match, f"{name}: TableName must be !Sub '${{TablePrefix}}<name>'"
        found[match[1]] = (name, resource)
    return found


@pytest.mark.parametrize("base", sorted(TABLE_SPECS))
def test_every_ddl_table_is_in_the_template_identically(base):
    tables = _tables_by_base()
    assert base in tables, f"ddl/{base}.json has no table in ddl/stack.yaml"
    name, resource = tables[base]
    spec, props = TABLE_SPECS[base], resource["Properties"]

    def attributes(defs):
        return sorted((d["AttributeName"], d["AttributeType"]) for d in defs)

    assert attributes(props["AttributeDefinitions"]) == attributes(spec["AttributeDefinitions"])
    assert props["KeySchema"] == spec["KeySchema"]
    for key in ("GlobalSecondaryIndexes", "LocalSecondaryIndexes"):
        assert props.get(key, []) == spec.get(key, []), f"{base}: {key}"
    assert props["BillingMode"] == spec["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert resource["DeletionPolicy"] == resource["UpdateReplacePolicy"] == "Retain"


def test_template_has_no_table_that_ddl_lacks():
    assert sorted(_tables_by_base()) == sorted(TABLE_SPECS)


def test_the_template_expires_items_as_init_aws_makes_the_tables():
    """TTL is no part of ddl/*.json (CreateTable's input): core/aws/tables.py states it."""
    expiring = {}
    for base, (_, resource) in _tables_by_base().items():
        spec = resource["Properties"].get("TimeToLiveSpecification")
        if spec:
            assert spec["Enabled"] is True
            expiring[base] = spec["AttributeName"]
    assert expiring == TIME_TO_LIVE == {"users": "expires_at", "counters": "expires_at"}


def test_queues_match_what_init_aws_creates(aws_env):
    """aws_env made its queue and DLQ with core/aws/queue.py: compare attribute by attribute."""
    settings = Settings.from_env()
    sqs = aws_client("sqs", aws_env["AWS_SQS_ENDPOINT_URL"])

    def attributes(name):
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]

    made, made_dlq = attributes(settings.full_queue_name), attributes(settings.dlq_name)
    params = TEMPLATE["Parameters"]
    queue = RESOURCES["VotesQueue"]["Properties"]
    dlq = RESOURCES["VotesDeadLetterQueue"]["Properties"]
    assert queue["QueueName"] == {"Fn::Sub": "${TablePrefix}${QueueName}"}
    assert dlq["QueueName"] == {"Fn::Sub": "${TablePrefix}${QueueName}-dlq"}
    assert params["QueueName"]["Default"] == DEFAULT["queue_name"]
    assert params["VisibilityTimeout"]["Default"] == DEFAULT["visibility_timeout"]
    assert params["MaxReceiveCount"]["Default"] == DEFAULT["max_receive_count"]
    assert str(queue["ReceiveMessageWaitTimeSeconds"]) == made["ReceiveMessageWaitTimeSeconds"]
    assert str(dlq["MessageRetentionPeriod"]) == made_dlq["MessageRetentionPeriod"]
    assert queue["VisibilityTimeout"] == {"Ref": "VisibilityTimeout"}
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["VotesDeadLetterQueue", "Arn"]},
        "maxReceiveCount": {"Ref": "MaxReceiveCount"},
    }
    assert json.loads(made["RedrivePolicy"])["deadLetterTargetArn"] == made_dlq["QueueArn"]


def test_policies_name_only_this_stacks_resources():
    tables = {name for name, _ in _tables_by_base().values()}
    queues = set(_of_type("AWS::SQS::Queue"))
    for name, policy in _of_type("AWS::IAM::ManagedPolicy").items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            assert statement["Effect"] == "Allow"
            refs = {_resource_ref(r) for r in statement["Resource"]}
            assert None not in refs, f"{name}/{statement['Sid']}: a resource outside the stack"
            service = {a.split(":")[0] for a in statement["Action"]}
            assert refs <= (tables if service == {"dynamodb"} else queues)
        # The app's readiness describes every table: it breaks on one it may not describe.
        # (Beyond that a statement may grant a table only what its code calls.)
        described = {_resource_ref(r) for statement in policy["Properties"]["PolicyDocument"]
                     ["Statement"] if "dynamodb:DescribeTable" in statement["Action"]
                     for r in statement["Resource"]}  # fmt: skip
        assert described == tables, f"{name}: every table, or the app breaks on the missing one"
    for statement in policy_statements("AppPolicy"):  # the app only reads the DLQ's counts
        if "VotesDeadLetterQueue" in {_resource_ref(r) for r in statement["Resource"]}:
            assert set(statement["Action"]) <= {"sqs:GetQueueAttributes", "sqs:GetQueueUrl"}


def _resource_ref(resource) -> str | None:
    """The logical id a policy resource points at (an ARN or an index of it), else None."""
    if "Fn::GetAtt" in resource and resource["Fn::GetAtt"][1] == "Arn":
        return resource["Fn::GetAtt"][0]
    match = re.fullmatch(r"\$\{(\w+)\.Arn\}/index/\*", resource.get("Fn::Sub", ""))
    return match[1] if match else None


# -- what the code calls -----------------------------------------------------------------

# Batch and transaction calls need the IAM actions of what they contain.
BATCH_ACTIONS = {
    "DeleteMessageBatch": ["DeleteMessage"],
    "SendMessageBatch": ["SendMessage"],
    "ChangeMessageVisibilityBatch": ["ChangeMessageVisibility"],
}
TRANSACT_ITEM_ACTIONS = {
    "Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
    "ConditionCheck": "ConditionCheckItem",
}  # fmt: skip


def _camel(snake: str) -> str:
    return "".join(part.title() for part in snake.split("_"))


def calls_in_code() -> set[str]:
    """IAM actions for every AWS call in the DynamoDB and SQS adapters (core/aws/)."""
    actions = set()
    adapters = {
        "dynamodb": ("store.py", "batch.py", "tables.py", "events.py", "purge.py", "accounts.py",
                     "counters.py", "qna.py", "upvotes.py", "players.py"),
        "sqs": ("queue.py",),
    }
    for service, files in adapters.items():
        source = "\n".join((ROOT / "core" / "aws" / name).read_text() for name in files)
        operations = set(re.findall(r"self\.client\.(\w+)\(", source))
        operations |= set(re.findall(r"pages\(\s*self\.client,\s*\"(\w+)\"", source))
        if re.search(r"get_waiter\(\s*\"table_exists\"", source):
            operations.add("describe_table")
        operations.discard("get_waiter")
        for operation in map(_camel, operations):
            if operation == "TransactWriteItems":
                kinds = set(re.findall(r"\"(Put|Update|Delete|ConditionCheck)\": \{", source))
                assert kinds, "transact_write_items with no item kinds found"
                actions |= {f"dynamodb:{TRANSACT_ITEM_ACTIONS[k]}" for k in kinds}
            else:
                actions |= {f"{service}:{a}" for a in BATCH_ACTIONS.get(operation, [operation])}
    return actions


def test_both_policies_grant_every_call_in_the_code_and_nothing_else():
    called = calls_in_code()
    allowed = granted("AppPolicy") | granted("OperatorPolicy")
    assert sorted(called - allowed) == [], "calls no policy allows"
    assert sorted(allowed - called) == [], "grants no code needs"
    assert granted("AppPolicy") <= granted("OperatorPolicy")


# -- deployed: on moto's CloudFormation ---------------------------------------------------


def _deploy(endpoint: str, prefix: str, **params) -> None:
    cfn = aws_client("cloudformation", endpoint)
    parameters = [{"ParameterKey": "TablePrefix", "ParameterValue": prefix}] + [
        {"ParameterKey": k, "ParameterValue": str(v)} for k, v in params.items()
    ]
    stack = f"voting-{uuid.uuid4().hex[:8]}"
    cfn.create_stack(StackName=stack, TemplateBody=STACK.read_text(), Parameters=parameters)

    def status():
        return cfn.describe_stacks(StackName=stack)["Stacks"][0]["StackStatus"]

    assert wait_for(lambda: (s := status()) != "CREATE_IN_PROGRESS" and s) == "CREATE_COMPLETE"


# -- AppPolicy against a recorded run of web and worker --------------------------------------


def _recorded_calls(recording: Path) -> set[tuple[str, str]]:
    """(IAM action, resource) of every DynamoDB and SQS call recorded: resources are
    "table:<name>", "index:<table name>" or "queue:<name>"."""
    calls = set()
    for line in recording.read_text().splitlines():
        entry = json.loads(line)
        target = {k.lower(): v for k, v in entry["headers"].items()}.get("x-amz-target", "")
        body = entry.get("body") or ""
        if entry.get("body_encoded"):
            body = base64.b64decode(body).decode()
        if not target:
            continue  # the moto API itself, or CloudFormation (not the app)
        prefix, operation = target.split(".", 1)
        params = json.loads(body or "{}")
        if prefix.startswith("DynamoDB"):
            if operation == "TransactWriteItems":
                for item in params["TransactItems"]:
                    ((kind, detail),) = item.items()
                    action = f"dynamodb:{TRANSACT_ITEM_ACTIONS[kind]}"
                    calls.add((action, f"table:{detail['TableName']}"))
                continue
            tables = list(params.get("RequestItems", {})) or [params["TableName"]]
            kind = "index" if params.get("IndexName") else "table"
            calls |= {(f"dynamodb:{operation}", f"{kind}:{t}") for t in tables}
        elif prefix == "AmazonSQS":
            name = params.get("QueueName") or params["QueueUrl"].rsplit("/", 1)[-1]
            actions = BATCH_ACTIONS.get(operation, [operation])
            calls |= {(f"sqs:{a}", f"queue:{name}") for a in actions}
    return calls


def _granted_calls(policy: str, table_prefix: str, queue_name: str) -> set[tuple[str, str]]:
    """(IAM action, resource) pairs a policy allows, resources named as in _recorded_calls."""
    tables = _tables_by_base().items()
    names = {logical: f"table:{table_prefix}{base}" for base, (logical, _) in tables}
    queue = f"{table_prefix}{queue_name}"
    names |= {"VotesQueue": f"queue:{queue}", "VotesDeadLetterQueue": f"queue:{queue}-dlq"}
    pairs = set()
    for statement in policy_statements(policy):
        for resource in statement["Resource"]:
            name = names[_resource_ref(resource)]
            if "Fn::Sub" in resource:  # an index of that table
                name = name.replace("table:", "index:", 1)
            pairs |= {(action, name) for action in statement["Action"]}
    return pairs


def test_app_runs_on_the_stack_and_its_policy_is_exactly_what_it_calls(tmp_path):
    """Deployed on moto's CloudFormation, the app finds every resource (init-aws
    creates nothing) and serves; the calls of that run are AppPolicy's actions."""
    recording = tmp_path / "moto-recording.jsonl"
    moto_env = {**os.environ, "MOTO_ENABLE_RECORDING": "True",
                "MOTO_RECORDER_FILEPATH": str(recording)}  # fmt: skip
    with open(tmp_path / "moto.log", "wb") as log:
        moto = embedded.start_moto(embedded.free_port(), env=moto_env, stdout=log,
                                   stderr=subprocess.STDOUT)  # fmt: skip
    endpoint = f"http://127.0.0.1:{moto.args[-1]}"
    # A short visibility timeout and slow transactions make the worker's
    # heartbeat (ChangeMessageVisibility) happen, as it does on slow batches.
    env = make_env(endpoint, VISIBILITY_TIMEOUT="2", METRICS_PORT="0")
    procs = Processes(env, tmp_path)
    try:
        _deploy(endpoint, env["TABLE_PREFIX"], VisibilityTimeout=10)
        init = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "webapp", "init-aws"],
            env={**os.environ, **env}, cwd=ROOT, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert init.returncode == 0, init.stderr
        assert "created table" not in init.stdout  # the stack made every table the app uses
        requests.post(f"{endpoint}/moto-api/recorder/reset-recording", timeout=10)
        base = procs.web(workers=1)
        procs.faulty_worker("slow_tx:1.5")
        _exercise(base)
    finally:
        procs.stop_all()
        embedded.stop([moto])
    used = _recorded_calls(recording)
    allowed = _granted_calls("AppPolicy", env["TABLE_PREFIX"], DEFAULT["queue_name"])
    assert sorted(used - allowed) == [], "web/worker call what AppPolicy denies"
    actions = {action for action, _ in used}
    assert sorted(granted("AppPolicy") - actions) == [], "AppPolicy grants what they never call"


def _exercise(base: str) -> None:
    """Every kind of request web and worker serve: intake, results, pages, admin."""
    admin = ADMIN
    http = requests.Session()
    assert http.get(f"{base}/readyz").status_code == 200
    plain = http.post(f"{base}/topics", json=SAMPLE_TOPIC, headers=admin).json()
    change = http.post(f"{base}/topics", json={**SAMPLE_TOPIC, "vote_limit": "changeable"},
                       headers=admin).json()  # fmt: skip
    renamed = {**SAMPLE_TOPIC, "title": "Tabs, or spaces?", "choices": plain["choices"]}
    assert http.put(f"{base}/topics/{plain['id']}", json=renamed, headers=admin).status_code == 200
    votes = [
        http.post(f"{base}/votes", json={"topic_id": plain["id"], "choice_id": c["id"]}).json()
        for c in plain["choices"]
    ]
    for choice in change["choices"]:  # one voter changing their mind: ballots
        vote = {"topic_id": change["id"], "choice_id": choice["id"], "voter_id": "voter-1"}
        votes.append(http.post(f"{base}/votes", json=vote).json())
        wait_for(lambda v=votes[-1]: http.get(f"{base}/votes/{v['id']}").status_code == 200)
    # A text question: its results read the answers' index (answers-by-count).
    text = http.post(f"{base}/topics", json={"title": "One word?", "type": "text", "choices": []},
                     headers=admin).json()  # fmt: skip
    votes.append(http.post(f"{base}/votes", json={"topic_id": text["id"], "text": "Yes"}).json())
    for vote in votes:
        wait_for(lambda v=vote: http.get(f"{base}/votes/{v['id']}").status_code == 200)
    answers = http.get(f"{base}/topics/{text['id']}", params={"include_votes": "true"}).json()
    assert answers["results"]["answers"] == [{"text": "Yes", "count": 1, "cloud": True}]
    assert http.get(f"{base}/topics", params={"include_votes": "true"}).status_code == 200
    assert http.get(f"{base}/topics/{plain['id']}", params={"include_votes": "true"}).ok
    assert http.get(f"{base}/votes", params={"topic_id": plain["id"]}).ok
    assert http.delete(f"{base}/votes/{votes[0]['id']}", headers=admin).ok
    for page in ("/", f"/t/{plain['id']}", f"/t/{plain['id']}/results"):
        assert http.get(f"{base}{page}").status_code == 200, page
    # Accounts: one made, a token for it (its Query of the by-user index), its sign-in.
    make_user(http, "ada@example.org", base=base)
    ada = bearer(http, "ada@example.org", base=base)
    assert http.get(f"{base}/auth/tokens", headers=ada).json()[0]["name"] == ""
    assert http.post(f"{base}/topics", json=SAMPLE_TOPIC, headers=ada).status_code == 201
    assert "ada@example.org" in sign_in_as(requests.Session(), "ada@example.org", base=base).text
    assert sign_in(http, base=base).ok
    admin_page = http.get(f"{base}/admin")
    assert admin_page.status_code == 200 and "Tabs, or spaces?" in admin_page.text
    # A quiz: a player joins (players table), answers (scored in the batch), the board
    # reads the score index.
    event = quiz_event(http, questions=[("Q?", ("*Yes", "No"))], base=base)
    player = join(http, event, "Ann", base=base)
    move(http, event, base=base)
    quiz_vote = answer_quiz(http, event["topics"][0], player["voter_id"], 0, base=base)
    wait_for(lambda: http.get(f"{base}/votes/{quiz_vote['id']}").status_code == 200)
    assert leaderboard(http, event, base=base, voter_id=player["voter_id"])["me"]["score"] > 0
    # Resetting and deleting topics: their records, ballots and tallies go in batches.
    assert http.post(f"{base}/topics/{change['id']}/reset", headers=admin).json()["ballots"] == 1
    assert http.delete(f"{base}/topics/{plain['id']}", headers=admin).json()["votes"] == 1
    # Audience questions: asked (Put), listed (index Query), upvoted through the worker
    # (BatchGet, the transaction), moderated (Get, Update), a voter's own (asked-by), export.
    event = http.post(f"{base}/events", json={"title": "Q&A", "qna": "open"},
                      headers=admin).json()  # fmt: skip
    qna = f"{base}/events/code/{event['code']}/qna"
    question = http.post(qna, json={"text": "Why?", "voter_id": "voter-1"}).json()
    upvote = f"{qna}/{question['id']}/upvote"
    assert http.post(upvote, json={"voter_id": "voter-1"}).status_code == 202
    wait_for(lambda: http.get(qna).json()[0]["upvotes"] == 1)
    assert http.post(upvote, json={"voter_id": "voter-1"}).status_code == 202  # never twice
    moderated = http.post(f"{base}/events/{event['id']}/qna/{question['id']}",
                          json={"state": "answered"}, headers=admin)  # fmt: skip
    assert moderated.json()["state"] == "answered"
    assert http.get(f"{base}/events/{event['id']}/qna.csv", headers=admin).ok
