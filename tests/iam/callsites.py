"""The AWS calls in our source, read from it: which boto3 operations are called where, and which
component's code can reach each call site.

Call sites are calls whose method is an operation of a service we use (botocore's own service
models name them), plus `get_paginator("...")`; calls to functions we define are our wrappers,
whose bodies are scanned instead. Used by the IAM guard (each cloud component's role) and by the
deployer policy's check (the CLI's own calls).
"""

from __future__ import annotations

import ast
import fnmatch
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import botocore.session
import pytest
from botocore import xform_name

REPO: Final = Path(__file__).resolve().parents[2]
SRC: Final = REPO / "src"
BRIDGE: Final = REPO / "container" / "bridge"

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
    "budgets": {
        "DescribeBudget": "budgets:ViewBudget",
        "DescribeBudgets": "budgets:ViewBudget",
        "UpdateBudget": "budgets:ModifyBudget",
        "CreateBudget": "budgets:ModifyBudget",
    },
    "lambda": {"Invoke": "lambda:InvokeFunction"},
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
    prefix: str
    """The service's prefix in IAM actions (execute-api for the management API)."""

    @property
    def actions(self) -> list[str]:
        mapped = ACTION_OF.get(self.service, {}).get(self.operation)
        if mapped:
            return [mapped]
        return [f"{self.prefix}:{self.operation}"]

    def __str__(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line} {self.service}.{self.operation}"


def _operations(services: Iterable[str]) -> dict[str, list[tuple[str, str]]]:
    """python method name → [(service, OperationName)] across the given services."""
    session = botocore.session.get_session()
    found: dict[str, list[tuple[str, str]]] = {}
    for service in services:
        for operation in session.get_service_model(service).operation_names:
            found.setdefault(xform_name(operation), []).append((service, operation))
    return found


def parse(folders: Iterable[Path]) -> tuple[dict[str, ast.Module], dict[str, Path]]:
    """module name → its syntax tree and its file, for every module under `folders`."""
    trees: dict[str, ast.Module] = {}
    paths: dict[str, Path] = {}
    for folder in folders:
        files = [folder] if folder.suffix == ".py" else sorted(folder.rglob("*.py"))
        for path in files:
            root = BRIDGE if BRIDGE in path.parents else SRC
            module = ".".join(path.relative_to(root).with_suffix("").parts)
            module = module.removesuffix(".__init__")
            trees[module] = ast.parse(path.read_text(encoding="utf-8"), str(path))
            paths[module] = path
    return trees, paths


def _own_method_names(trees: dict[str, ast.Module]) -> set[str]:
    """Names of functions we define: calls to them are our wrappers, whose bodies are scanned."""
    return {
        node.name
        for tree in trees.values()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    }


ALIASES: Final = {
    "cloudformation": ("cfn", "cloudformation"),
    "cognito-idp": ("cognito",),
    "apigatewaymanagementapi": ("connections", "management"),
}
"""Names we give clients of a service, besides the service's own name."""


def _service_hint(receiver: ast.expr) -> str:
    """The receiver's own name (`self._sqs` → `_sqs`, `aws.sqs()` → `sqs()`, `clients("s3")`
    → `clients('s3')`), lower-cased: what says which service's client it is."""
    text = ast.unparse(receiver).lower()
    return text.rsplit(".", 1)[-1]


def _named_for(service: str, hint: str) -> bool:
    return any(
        name in hint for name in (service.split("-", maxsplit=1)[0], *ALIASES.get(service, ()))
    )


def call_sites(
    trees: dict[str, ast.Module], paths: dict[str, Path], services: Mapping[str, str]
) -> list[CallSite]:
    """Every call of an operation of `services` (botocore name → IAM action prefix)."""
    operations = _operations(services)
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
            candidates = operations.get(method, [])
            if not candidates:
                continue
            hint = _service_hint(node.func.value)
            if method in ours and not any(_named_for(c[0], hint) for c in candidates):
                continue  # one of our wrappers (its body is scanned), not a client's method
            if len(candidates) > 1:
                narrowed = [c for c in candidates if _named_for(c[0], hint)]
                if len(narrowed) != 1:
                    pytest.fail(
                        f"{paths[module]}:{node.lineno}: {method} is an operation of "
                        f"{[c[0] for c in candidates]}; name the client after its service"
                    )
                candidates = narrowed
            service, operation = candidates[0]
            found.append(
                CallSite(
                    module,
                    enclosing[id(node)],
                    paths[module],
                    node.lineno,
                    service,
                    operation,
                    services[service],
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


def reachable(
    trees: dict[str, ast.Module], entries: Mapping[str, list[str]]
) -> dict[str, set[tuple[str, str]]]:
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


def owners_of(
    trees: dict[str, ast.Module], entries: Mapping[str, list[str]]
) -> dict[tuple[str, str], set[str]]:
    """(module, function) → the components (named by `entries`: component → entry modules)
    that can run it."""
    owners: dict[tuple[str, str], set[str]] = {}
    for component, pairs in reachable(trees, entries).items():
        for pair in pairs:
            owners.setdefault(pair, set()).add(component)
    return owners


def allows(patterns: Iterable[str], action: str) -> bool:
    """Whether an action is matched by one of the action patterns of Allow statements."""
    return any(fnmatch.fnmatchcase(action.lower(), p.lower()) for p in patterns)
