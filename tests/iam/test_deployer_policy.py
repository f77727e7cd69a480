"""The deploying user's policy (docs/deployer-policy.json) matches what the CLI really calls.

Both ways: every AWS call the CLI's own code can make (read from the source, as the IAM guard
reads the handlers) is allowed by an action of the policy, and every action the policy grants is
one the CLI calls — or one the CDK CLI uses on our behalf, named below — so the document a user
attaches is neither too narrow to deploy nor wider than it needs to be.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any, Final

import pytest

from tests.iam.callsites import REPO, SRC, CallSite, allows, call_sites, owners_of, parse

PACKAGE: Final = SRC / "openclaw_deploy"
# What runs under the user's own credentials: the commands and what they call. The local
# target (local/) talks to its own moto server; handlers/ and the bridge run under their roles.
SCANNED: Final = tuple(
    path
    for path in sorted(PACKAGE.iterdir())
    if path.name not in {"local", "handlers", "infra", "__pycache__"}
    and (path.is_dir() or path.suffix == ".py")
)
SERVICES: Final = {
    name: name
    for name in (
        "budgets",
        "ce",
        "cloudformation",
        "cloudfront",
        "cloudwatch",
        "codebuild",
        "cognito-idp",
        "dynamodb",
        "ec2",
        "ecr",
        "ecs",
        "events",
        "iam",
        "lambda",
        "logs",
        "s3",
        "scheduler",
        "sns",
        "sqs",
        "ssm",
        "sts",
    )
}
USED_BY_THE_CDK_CLI: Final = frozenset({"sts:AssumeRole", "iam:PassRole"})
"""`cdk deploy` assumes the bootstrap roles (cdk-*) and passes the execution role to CFN."""
NEEDED_BY_ARGUMENTS: Final = frozenset({"s3:DeleteObjectVersion"})
"""Authorized by what a call passes: `destroy --purge` deletes each version (VersionId) of the
versioned state bucket, which S3 authorizes as DeleteObjectVersion, not DeleteObject."""


def _policy() -> list[dict[str, Any]]:
    document = json.loads((REPO / "docs" / "deployer-policy.json").read_text(encoding="utf-8"))
    return list(document["Statement"])


def _actions(statements: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for statement in statements:
        actions = statement["Action"]
        found.extend([actions] if isinstance(actions, str) else actions)
    return found


@pytest.fixture(scope="module")
def cli_calls() -> list[CallSite]:
    trees, paths = parse(SCANNED)
    entries = {"cli": [m for m in trees if m.startswith("openclaw_deploy.cli.")]}
    owners = owners_of(trees, entries)
    return [
        site
        for site in call_sites(trees, paths, SERVICES)
        if "cli" in owners.get((site.module, site.function), set())
    ]


def test_the_scan_sees_the_calls_deploy_makes(cli_calls: list[CallSite]) -> None:
    """A scan that finds nothing would pass everything."""
    seen = {action for site in cli_calls for action in site.actions}
    for action in (
        "cloudformation:DescribeStacks",
        "codebuild:StartBuild",
        "ssm:PutParameter",
        "sts:GetCallerIdentity",
        "cognito-idp:AdminCreateUser",
        "ecs:StopTask",
    ):
        assert action in seen, action


def test_every_call_of_the_cli_is_allowed_by_the_deployer_policy(
    cli_calls: list[CallSite],
) -> None:
    granted = _actions(_policy())
    missing = sorted(
        f"{site}: {action}"
        for site in cli_calls
        for action in site.actions
        if not allows(granted, action)
    )
    assert not missing, "\n".join(missing)


def test_the_deployer_policy_grants_nothing_the_cli_does_not_call(
    cli_calls: list[CallSite],
) -> None:
    called = {action.lower() for site in cli_calls for action in site.actions}
    unused = sorted(
        action
        for action in set(_actions(_policy()))
        if action not in USED_BY_THE_CDK_CLI | NEEDED_BY_ARGUMENTS and action.lower() not in called
    )
    assert not unused, f"granted but never called: {unused}"


def test_the_check_fails_a_call_the_policy_does_not_grant() -> None:
    tree = ast.parse("def f(cfn: object) -> None:\n    cfn.update_termination_protection()\n")
    module = "openclaw_deploy.cli.extra"
    sites = call_sites({module: tree}, {module: Path(PACKAGE / "cli" / "extra.py")}, SERVICES)
    (site,) = sites
    assert site.actions == ["cloudformation:UpdateTerminationProtection"]
    assert not allows(_actions(_policy()), site.actions[0])
