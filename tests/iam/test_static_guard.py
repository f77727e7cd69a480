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
import fnmatch
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import botocore.session
import pytest
from botocore import xform_name

from openclaw_deploy.local.iam import policies
from tests.infra.conftest import ACCOUNT, NAME, REGION, Synthesized

REPO: Final = Path(__file__).resolve().parents[2]
SRC: Final = REPO / "src"
BRIDGE: Final = REPO / "container" / "bridge"
SCANNED: Final = (
    SRC / "openclaw_deploy" / "handlers",
    SRC / "openclaw_deploy" / "runtime",
    BRIDGE / "openclaw_bridge",
)
HANDLER_ENTRIES: Final = {
    "openclaw_deploy.handlers.api": "api",
    "openclaw_deploy.handlers.ws": "ws",
    "openclaw_deploy.handlers.telegram_webhook": "telegram",
    "openclaw_deploy.handlers.watchdog": "watchdog",
}
SERVICES: Final = {
    "dynamodb": "dynamodb",
    "sqs": "sqs",
    "s3": "s3",
    "ssm": "ssm",
    "ecs": "ecs",
    "logs": "logs",
    "cognito-idp": "cognito-idp",
    "apigatewaymanagementapi": "execute-api",
}
# Operations AWS authorizes under another action name.
ACTION_OF: Final = {
    "apigatewaymanagementapi": {
        "PostToConnection": "execute-api:ManageConnections",
        "DeleteConnection": "execute-api:ManageConnections",
        "GetConnection": "execute-api:ManageConnections",
    },
    "s3": {
        "ListObjectVersions": "s3:ListBucketVersions",
        "ListObjectsV2": "s3:ListBucket",
        "ListObjects": "s3:ListBucket",
        "HeadObject": "s3:GetObject",
        "HeadBucket": "s3:ListBucket",
        "DeleteObjects": "s3:DeleteObject",
        "CreateMultipartUpload": "s3:PutObject",
        "UploadPart": "s3:PutObject",
        "CompleteMultipartUpload": "s3:PutObject",
    },
    "sqs": {
        "SendMessageBatch": "sqs:SendMessage",
        "DeleteMessageBatch": "sqs:DeleteMessage",
        "ChangeMessageVisibilityBatch": "sqs:ChangeMessageVisibility",
    },
}
NO_IAM_ACTION: Final = frozenset(
    {("dynamodb", "TransactWriteItems"), ("dynamodb", "TransactGetItems")}
)
"""Authorized per item by AWS: a call site of these must be checked by hand (none exist)."""


@dataclass(frozen=True)
class CallSite:
    module: str
    function: str
    path: Path
    line: int
    service: str
    operation: str

    @property
    def actions(self) -> list[str]:
        mapped = ACTION_OF.get(self.service, {}).get(self.operation)
        if mapped:
            return [mapped]
        return [f"{SERVICES[self.service]}:{self.operation}"]

    def __str__(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line} {self.service}.{self.operation}"


def _operations() -> dict[str, list[tuple[str, str]]]:
    """python method name → [(service, OperationName)] across the services we use."""
    session = botocore.session.get_session()
    found: dict[str, list[tuple[str, str]]] = {}
    for service in SERVICES:
        for operation in session.get_service_model(service).operation_names:
            found.setdefault(xform_name(operation), []).append((service, operation))
    return found


def _module_name(path: Path) -> str:
    root = BRIDGE if BRIDGE in path.parents else SRC
    return ".".join(path.relative_to(root).with_suffix("").parts)


def _files() -> Iterator[Path]:
    for folder in SCANNED:
        yield from sorted(folder.rglob("*.py"))


def _own_method_names(trees: dict[str, ast.Module]) -> set[str]:
    """Names of functions we define: calls to them are our wrappers, whose bodies are scanned."""
    return {
        node.name
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


def _service_hint(receiver: ast.expr) -> str:
    text = ast.unparse(receiver).lower()
    return text.rsplit(".", 1)[-1]


def call_sites(trees: dict[str, ast.Module], paths: dict[str, Path]) -> list[CallSite]:
    operations = _operations()
    ours = _own_method_names(trees)
    found: list[CallSite] = []
    for module, tree in trees.items():
        enclosing = _enclosing(tree)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            method = node.func.attr
            if method == "get_paginator" and node.args:
                argument = node.args[0]
                if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                    method = argument.value
                else:
                    continue
            elif method in ours:
                continue
            candidates = operations.get(method, [])
            if not candidates:
                continue
            if len(candidates) > 1:
                hint = _service_hint(node.func.value)
                narrowed = [c for c in candidates if c[0].split("-")[0] in hint]
                if len(narrowed) != 1:
                    pytest.fail(
                        f"{paths[module]}:{node.lineno}: {method} is an operation of "
                        f"{[c[0] for c in candidates]}; name the client after its service"
                    )
                candidates = narrowed
            service, operation = candidates[0]
            found.append(
                CallSite(
                    module, enclosing[id(node)], paths[module], node.lineno, service, operation
                )
            )
    return found


def _imports(module: str, tree: ast.Module, known: set[str]) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = module.rsplit(".", node.level)[0]
                base = f"{parent}.{base}" if base else parent
            if base in known:
                found.add(base)
            found.update(
                f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in known
            )
    return found


def _enclosing(tree: ast.Module) -> dict[int, str]:
    """id(call node) → the name of the innermost function around it ("" at module level)."""
    found: dict[int, str] = {}

    def visit(node: ast.AST, name: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = (
                child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) else name
            )
            if isinstance(child, ast.Call):
                found[id(child)] = name
            visit(child, inner)

    visit(tree, "")
    return found


def _called_names(node: ast.AST) -> set[str]:
    names: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            if isinstance(child.func, ast.Name):
                names.add(child.func.id)
            elif isinstance(child.func, ast.Attribute):
                names.add(child.func.attr)
        elif isinstance(child, ast.Attribute | ast.Name):
            # A function passed as a value (a callback, a thread target) may run as well.
            names.add(child.attr if isinstance(child, ast.Attribute) else child.id)
    return names


def reachable(trees: dict[str, ast.Module]) -> dict[str, set[tuple[str, str]]]:
    """component → the (module, function) pairs its code can run ("" is module-level code).

    Calls are followed by name within the modules the component imports (transitively): an
    over-approximation (two methods of one name are both followed), never an omission."""
    known = set(trees)
    graph = {module: _imports(module, tree, known) for module, tree in trees.items()}
    functions: dict[str, dict[str, list[ast.AST]]] = {}
    for module, tree in trees.items():
        table: dict[str, list[ast.AST]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                table.setdefault(node.name, []).append(node)
        functions[module] = table
    bridge = [m for m in trees if m.startswith("openclaw_bridge")]
    entries: dict[str, list[str]] = {c: [m] for m, c in HANDLER_ENTRIES.items()}
    entries[policies.TASK] = bridge
    found: dict[str, set[tuple[str, str]]] = {}
    for component, roots in entries.items():
        modules: set[str] = set()
        stack = list(roots)
        while stack:
            module = stack.pop()
            if module not in modules:
                modules.add(module)
                stack.extend(graph.get(module, ()))
        # Everything defined in an entry module runs (handlers, and the whole bridge).
        work = [(m, name) for m in roots for name in [*functions[m], ""]]
        seen: set[tuple[str, str]] = set()
        while work:
            module, name = work.pop()
            if (module, name) in seen:
                continue
            seen.add((module, name))
            bodies = [trees[module]] if name == "" else functions[module].get(name, [])
            for body in bodies:
                for called in _called_names(body):
                    work.extend((m, called) for m in modules if called in functions[m])
        found[component] = seen
    return found


def owners_of(trees: dict[str, ast.Module]) -> dict[tuple[str, str], set[str]]:
    """(module, function) → the components that can run it."""
    owners: dict[tuple[str, str], set[str]] = {}
    for component, pairs in reachable(trees).items():
        for pair in pairs:
            owners.setdefault(pair, set()).add(component)
    return owners


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


def _allows(patterns: list[str], action: str) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)


@pytest.fixture(scope="module")
def scanned() -> tuple[dict[str, ast.Module], dict[str, Path]]:
    trees: dict[str, ast.Module] = {}
    paths: dict[str, Path] = {}
    for path in _files():
        module = _module_name(path)
        if module.endswith(".__init__"):
            module = module.removesuffix(".__init__")
        trees[module] = ast.parse(path.read_text(encoding="utf-8"), str(path))
        paths[module] = path
    return trees, paths


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
    sites = {(s.module, s.operation) for s in call_sites(*scanned)}
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
    owners = owners_of(scanned[0])
    by_operation: dict[tuple[str, str], set[str]] = {}
    for site in call_sites(*scanned):
        by_operation.setdefault((site.module, site.operation), set()).update(
            owners.get((site.module, site.function), set())
        )
    assert by_operation[("openclaw_bridge.inbound", "GetQueueUrl")] == {policies.TASK}
    assert by_operation[("openclaw_deploy.runtime.lifecycle", "RunTask")] == {
        "api",
        "ws",
        "telegram",
        "watchdog",
    }
    assert by_operation[("openclaw_deploy.handlers.watchdog", "ListTasks")] == {"watchdog"}


def test_every_call_site_has_a_grant_in_the_role_that_runs_it(
    scanned: tuple[dict[str, ast.Module], dict[str, Path]], roles: dict[str, policies.Role]
) -> None:
    owners = owners_of(scanned[0])
    missing: list[str] = []
    for site in call_sites(*scanned):
        if (site.service, site.operation) in NO_IAM_ACTION:
            missing.append(f"{site}: authorized per item; extend this test to read its items")
            continue
        for component in sorted(owners.get((site.module, site.function), set())):
            patterns = _allowed_actions(roles[component])
            missing.extend(
                f"{site}: {action} not allowed to the {component} role"
                for action in site.actions
                if not _allows(patterns, action)
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
    owners = owners_of(trees)
    site = next(s for s in call_sites(trees, paths) if s.module == "openclaw_bridge.extra")
    assert owners[(site.module, site.function)] == {policies.TASK}
    assert not _allows(_allowed_actions(roles[policies.TASK]), site.actions[0])
