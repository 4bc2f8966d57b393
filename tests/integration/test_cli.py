"""Operator commands (`flask --app webapp ...`): --help, idempotent, and a clear
non-zero exit, never a traceback, when AWS is unreachable, rejects the
credentials, or denies a permission.

Credentials and permissions are checked by a moto server of this module with
IAM enforcement switched on (moto's /moto-api/reset-auth).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import boto3
import click
import pytest
import requests

from local import launcher as embedded
from tests.helpers.processes import run_flask
from tests.helpers.stack_template import granted
from tests.helpers.stacks import make_env
from webapp import create_app

APP_COMMANDS = create_app({"TESTING": True}).cli


def _all_commands(group: click.Group, prefix=()) -> list[tuple[str, ...]]:
    found = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += _all_commands(command, (*prefix, name))
    return found


COMMANDS = _all_commands(APP_COMMANDS)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_explains_itself(command):
    result = create_app({"TESTING": True}).test_cli_runner().invoke(args=[*command, "--help"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage:")
    summary = result.output.split("\n\n")[1].strip()
    assert len(summary) > 20, f"{' '.join(command)} --help says too little: {summary!r}"


def test_the_known_commands_are_there():
    assert {"init-aws", "export", "import", "recount", "dlq", "users"} <= {c[0] for c in COMMANDS}


def test_the_first_admin_is_made_on_the_command_line_with_a_hidden_confirmed_password(
    aws_env, client
):
    def create(*args, typed: str):
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "webapp", "users", "create", *args],
            input=typed, env={**os.environ, **aws_env}, cwd=embedded.ROOT,
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    password = "the first admin's passphrase"
    mistyped = create("root@example.org", "--role", "admin", typed=f"{password}\nother\n"
                      f"{password}\n{password}\n")  # fmt: skip
    assert mistyped.returncode == 0, mistyped.stderr
    assert "do not match" in mistyped.stderr + mistyped.stdout
    assert password not in mistyped.stdout + mistyped.stderr  # never echoed
    assert "created admin root@example.org" in mistyped.stdout
    token = client.post("/auth/tokens", json={"email": "root@example.org", "password": password})
    assert token.status_code == 201
    me = client.get("/auth/me", headers={"Authorization": f"Bearer {token.json['token']}"})
    assert me.json["role"] == "admin"
    weak = create("ada@example.org", typed="1234567890\n1234567890\n")
    assert weak.returncode == 1 and "password:" in weak.stderr and "Traceback" not in weak.stderr
    again = create("ROOT@example.org", typed=f"{password}\n{password}\n")
    assert again.returncode == 1 and "exists already" in again.stderr


def test_init_aws_is_idempotent(moto_endpoint):
    env = make_env(moto_endpoint)
    first, second = run_flask(["init-aws"], env), run_flask(["init-aws"], env)
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert first.stdout.count("created table") == len(list((embedded.ROOT / "ddl").glob("*.json")))
    assert "created table" not in second.stdout
    assert "queue ready" in first.stdout and "queue ready" in second.stdout


# Each command that talks to AWS, with arguments that make it do so at once.
AWS_COMMANDS = [["init-aws"], ["export"], ["recount", "--all"], ["dlq", "show"], ["users", "list"]]


@pytest.mark.parametrize("args", AWS_COMMANDS, ids=" ".join)
def test_unreachable_endpoint_is_a_clear_error(args, tmp_path):
    nowhere = f"http://127.0.0.1:{embedded.free_port()}"  # nothing listens there
    result = run_flask(args, make_env(nowhere))
    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr.startswith("Error: "), result.stderr
    assert "Could not connect to the endpoint" in result.stderr


# -- with IAM enforced ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def iam_moto(tmp_path_factory):
    """A moto server that checks credentials and policies, with one limited user.

    The user may do what the app's own policy allows (ddl/stack.yaml AppPolicy),
    so it can verify an existing stack but not create one.
    """
    with open(tmp_path_factory.mktemp("iam-moto") / "moto.log", "wb") as log:
        process = embedded.start_moto(embedded.free_port(), stdout=log, stderr=subprocess.STDOUT)
    endpoint = f"http://127.0.0.1:{process.args[-1]}"
    try:
        iam = boto3.client("iam", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="admin", aws_secret_access_key="admin")  # fmt: skip
        iam.create_user(UserName="app")
        # The template's own list of actions.
        policy = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": sorted(granted("AppPolicy")), "Resource": "*"},
        ]}  # fmt: skip
        iam.put_user_policy(UserName="app", PolicyName="app", PolicyDocument=json.dumps(policy))
        key = iam.create_access_key(UserName="app")["AccessKey"]
        # Tables and queue of one prefix made before enforcement, as a stack would.
        existing = make_env(endpoint)
        assert run_flask(["init-aws"], existing).returncode == 0
        requests.post(f"{endpoint}/moto-api/reset-auth", data="0", timeout=10).raise_for_status()
        yield endpoint, key, existing
    finally:
        embedded.stop([process])


def test_rejected_credentials_are_a_clear_error(iam_moto):
    endpoint, _, _ = iam_moto
    env = make_env(endpoint, AWS_ACCESS_KEY_ID="AKIANOTAREALKEY00000", AWS_SECRET_ACCESS_KEY="x")
    result = run_flask(["init-aws"], env)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "hint: AWS did not accept the credentials" in result.stderr, result.stderr


def test_missing_permission_is_a_clear_error(iam_moto):
    endpoint, key, _ = iam_moto
    env = make_env(endpoint, AWS_ACCESS_KEY_ID=key["AccessKeyId"],
                   AWS_SECRET_ACCESS_KEY=key["SecretAccessKey"])  # fmt: skip
    result = run_flask(["init-aws"], env)  # a new prefix: it would have to create tables
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "AccessDenied" in result.stderr and "dynamodb:CreateTable" in result.stderr
    assert "hint: the credentials lack a permission" in result.stderr


def test_app_credentials_can_verify_an_existing_stack(iam_moto):
    """As a Procfile `release` step runs: with the app's own least-privilege policy."""
    endpoint, key, existing = iam_moto
    env = {**existing, "AWS_ACCESS_KEY_ID": key["AccessKeyId"],
           "AWS_SECRET_ACCESS_KEY": key["SecretAccessKey"]}  # fmt: skip
    result = run_flask(["init-aws"], env)
    assert result.returncode == 0, result.stderr
    assert "created table" not in result.stdout and "queue ready" in result.stdout
