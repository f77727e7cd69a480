"""Every boto3 call in the code that runs in the cloud has a grant in the role that runs it.

The call sites are read from the source (AST): calls whose method is an operation of a service we
use (botocore's own service models name them), plus `get_paginator("...")`. Each is attributed to
the roles that run its module: a handler module's function, and every function whose handler
imports it (transitively) for shared code; the bridge runs under the task role. A role must have
an Allow statement for the operation's IAM action in the synthesized template. Resources and
conditions are left to the local target's enforcement, which evaluates each real call.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Final

import pytest

from openclaw_deploy.local.iam import policies
from tests.iam.callsites import BRIDGE, NO_IAM_ACTION, SRC, allows, call_sites, owners_of, parse
from tests.infra.conftest import ACCOUNT, NAME, REGION, Synthesized

SCANNED: Final = (
    SRC / "openclaw_deploy" / "handlers",
    SRC / "openclaw_deploy" / "runtime",
    BRIDGE / "openclaw_bridge",
)
HANDLER_ENTRIES: Final = {
    "openclaw_deploy.handlers.api": "api",
    "openclaw_deploy.handlers.ws": "ws",
    "openclaw_deploy.handlers.telegram_webhook": "telegram",
    "openclaw_deploy.handlers.slack_events": "slack",
    "openclaw_deploy.handlers.discord_interactions": "discord",
    "openclaw_deploy.handlers.watchdog": "watchdog",
    "openclaw_deploy.handlers.notifier": "notifier",
    "openclaw_deploy.handlers.schedule": "schedule",
}
SERVICES: Final = {
    "dynamodb": "dynamodb",
    "sqs": "sqs",
    "s3": "s3",
    "ssm": "ssm",
    "ecs": "ecs",
    "logs": "logs",
    "scheduler": "scheduler",
    "cognito-idp": "cognito-idp",
    "apigatewaymanagementapi": "execute-api",
}


def _allowed_actions(role: policies.Role) -> list[str]:
    patterns: list[str] = []
    for document in role.policies:
        statements = document["policy"]["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            if statement.get("Effect") != "Allow":
                continue
            actions = statement.get("Action", [])
            patterns.extend([actions] if isinstance(actions, str) else actions)
    return patterns


def _entries(trees: dict[str, ast.Module]) -> dict[str, list[str]]:
    """component → its entry modules: each handler module, and the whole bridge for the task."""
    entries = {component: [module] for module, component in HANDLER_ENTRIES.items()}
    entries[policies.TASK] = [m for m in trees if m.startswith("openclaw_bridge")]
    return entries


@pytest.fixture(scope="module")
def scanned() -> tuple[dict[str, ast.Module], dict[str, Path]]:
    return parse(SCANNED)


@pytest.fixture(scope="module")
def roles(synthesized: Synthesized) -> dict[str, policies.Role]:
    return policies.load_roles(
        synthesized.template,
        policies.LocalNames(deployment=NAME, region=REGION, account=ACCOUNT, api_id="api"),
    )


def test_the_scan_sees_the_calls_we_know_of(
    scanned: tuple[dict[str, ast.Module], dict[str, Path]],
) -> None:
    """A scanner that finds nothing would pass everything: it must see the known calls."""
    sites = {(s.module, s.operation) for s in call_sites(*scanned, SERVICES)}
    assert ("openclaw_bridge.inbound", "GetQueueUrl") in sites
    assert ("openclaw_bridge.state", "PutObject") in sites
    assert ("openclaw_deploy.runtime.lifecycle", "RunTask") in sites
    assert ("openclaw_deploy.handlers.watchdog", "ListTasks") in sites  # via get_paginator
    assert ("openclaw_deploy.runtime.aws", "GetParameter") in sites


def test_calls_are_attributed_to_the_roles_that_run_them(
    scanned: tuple[dict[str, ast.Module], dict[str, Path]],
) -> None:
    """Shared code is owned by the components that reach it, not by all that import it: the
    bridge imports the lifecycle module but never starts a task. (Code no component reaches,
    such as the month's usage that the CLI reads, runs with the user's own credentials.)"""
    owners = owners_of(scanned[0], _entries(scanned[0]))
    by_operation: dict[tuple[str, str], set[str]] = {}
    for site in call_sites(*scanned, SERVICES):
        by_operation.setdefault((site.module, site.operation), set()).update(
            owners.get((site.module, site.function), set())
        )
    assert by_operation[("openclaw_bridge.inbound", "GetQueueUrl")] == {policies.TASK}
    assert by_operation[("openclaw_deploy.runtime.lifecycle", "RunTask")] == {
        "api",
        "ws",
        "telegram",
        "slack",
        "discord",
        "watchdog",
        "schedule",
    }
    assert by_operation[("openclaw_deploy.handlers.watchdog", "ListTasks")] == {"watchdog"}


def test_every_call_site_has_a_grant_in_the_role_that_runs_it(
    scanned: tuple[dict[str, ast.Module], dict[str, Path]], roles: dict[str, policies.Role]
) -> None:
    owners = owners_of(scanned[0], _entries(scanned[0]))
    missing: list[str] = []
    for site in call_sites(*scanned, SERVICES):
        if (site.service, site.operation) in NO_IAM_ACTION:
            missing.append(f"{site}: authorized per item; extend this test to read its items")
            continue
        for component in sorted(owners.get((site.module, site.function), set())):
            patterns = _allowed_actions(roles[component])
            missing.extend(
                f"{site}: {action} not allowed to the {component} role"
                for action in site.actions
                if not allows(patterns, action)
            )
    assert not missing, "\n".join(missing)


def test_the_guard_fails_a_call_without_its_grant(
    scanned: tuple[dict[str, ast.Module], dict[str, Path]], roles: dict[str, policies.Role]
) -> None:
    """A new purge_queue in the bridge has no grant in the task role: the guard says so."""
    trees, paths = dict(scanned[0]), dict(scanned[1])
    trees["openclaw_bridge.extra"] = ast.parse(
        "def f(sqs: object) -> None:\n    sqs.purge_queue(QueueUrl='u')\n"
    )
    paths["openclaw_bridge.extra"] = BRIDGE / "openclaw_bridge" / "extra.py"
    owners = owners_of(trees, _entries(trees))
    site = next(
        s for s in call_sites(trees, paths, SERVICES) if s.module == "openclaw_bridge.extra"
    )
    assert owners[(site.module, site.function)] == {policies.TASK}
    assert not allows(_allowed_actions(roles[policies.TASK]), site.actions[0])
