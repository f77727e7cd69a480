"""The IAM policy evaluator: `@cloud-copilot/iam-simulate` in one long-lived Node process.

Requests go over its stdin as JSON lines and answers come back on its stdout, one at a time.
Decisions are cached per (role, action, resource, context): a role's policies never change while
the local cloud runs, so the second identical call costs a dictionary look-up.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Final

from openclaw_deploy import toolchain
from openclaw_deploy.local.iam.policies import IamSetupError, Role

SCRIPT: Final = Path(__file__).with_name("evaluate.mjs")
ALLOWED: Final = "Allowed"
EXPLICIT_DENY: Final = "ExplicitlyDenied"
IMPLICIT_DENY: Final = "ImplicitlyDenied"
ERROR: Final = "Error"


@dataclass(frozen=True, kw_only=True)
class Decision:
    result: str
    """ALLOWED, IMPLICIT_DENY, EXPLICIT_DENY or ERROR (the evaluator refused the question)."""
    detail: str = ""
    cached: bool = False

    @property
    def allowed(self) -> bool:
        return self.result == ALLOWED


class Evaluator:
    """One Node process answering for the roles loaded at start (thread-safe)."""

    def __init__(self, roles: Mapping[str, Role], account: str) -> None:
        modules = toolchain.ensure_iam_simulate()
        self._account = account
        self._roles = dict(roles)
        # The script is copied beside node_modules so that Node resolves its imports there.
        script = modules.parent / SCRIPT.name
        source = SCRIPT.read_text("utf-8")
        if not script.exists() or script.read_text("utf-8") != source:
            partial = script.with_name(f".{script.name}.{os.getpid()}")
            partial.write_text(source, encoding="utf-8")
            partial.replace(script)  # atomic: two local clouds may start at once
        self._process = subprocess.Popen(
            [str(toolchain.node_path()), str(script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=toolchain.node_env(),
            text=True,
            bufsize=1,
        )
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, str, str, str], Decision] = {}
        self._next_id = 0
        answer = self._ask(
            {
                "op": "load",
                "roles": {key: role.policies for key, role in self._roles.items()},
            }
        )
        if answer.get("result") != "Loaded":
            raise IamSetupError(f"the IAM evaluator did not load the policies: {answer}")

    def _ask(self, message: dict[str, Any]) -> dict[str, Any]:
        stdin: IO[str] | None = self._process.stdin
        stdout: IO[str] | None = self._process.stdout
        assert stdin is not None
        assert stdout is not None
        with self._lock:
            self._next_id += 1
            message["id"] = self._next_id
            try:
                stdin.write(json.dumps(message) + "\n")
                stdin.flush()
                line = stdout.readline()
            except (BrokenPipeError, ValueError):
                line = ""
        if not line:
            error = self._process.stderr.read() if self._process.stderr else ""
            raise IamSetupError(f"the IAM evaluator stopped: {error.strip()[-2000:]}")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def decide(
        self,
        role_key: str,
        *,
        principal: str,
        action: str,
        resource: str,
        context: Mapping[str, str],
    ) -> Decision:
        context_key = json.dumps(dict(context), sort_keys=True) if context else ""
        key = (role_key, action, resource, context_key)
        found = self._cache.get(key)
        if found is not None:
            return Decision(result=found.result, detail=found.detail, cached=True)
        answer = self._ask(
            {
                "op": "eval",
                "role": role_key,
                "principal": principal,
                "action": action,
                "resource": resource,
                "account": self._account,
                "context": dict(context),
            }
        )
        result = str(answer.get("result", ERROR))
        detail = "" if result != ERROR else json.dumps(answer.get("errors"))[:500]
        decision = Decision(result=result, detail=detail)
        self._cache[key] = decision
        return decision

    def close(self) -> None:
        if self._process.poll() is None:
            if self._process.stdin:
                self._process.stdin.close()
            try:
                self._process.wait(5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(5)
        for stream in (self._process.stdout, self._process.stderr):
            if stream:
                stream.close()
