"""The CloudFormation template (ddl/stack.yaml) and its IAM policies, read for checks."""

from __future__ import annotations

from functools import cache

from tests.helpers.stacks import ROOT


@cache
def stack_template() -> dict:
    """ddl/stack.yaml as cfn-lint reads it (its short forms expanded)."""
    from cfnlint.decode import decode_str

    template, matches = decode_str((ROOT / "ddl" / "stack.yaml").read_text())
    assert not matches, matches
    return template


def policy_statements(policy: str) -> list[dict]:
    return stack_template()["Resources"][policy]["Properties"]["PolicyDocument"]["Statement"]


def granted(policy: str) -> set[str]:
    """Every IAM action a policy of the template allows."""
    return {action for s in policy_statements(policy) for action in s["Action"]}
