"""Each handler module, imported in a fresh interpreter, loads only the standard library,
boto3/botocore (and what they load) and `openclaw_deploy.runtime` — so the Lambda package needs
no bundling and cold starts stay close to `import boto3`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HANDLERS = [
    "api",
    "ws",
    "telegram_webhook",
    "slack_events",
    "discord_interactions",
    "schedule",
    "notifier",
    "watchdog",
]
SRC = Path(__file__).resolve().parents[2] / "src"

PROBE = """
import json, sys
before = set(sys.modules)
import {name}
print(json.dumps(sorted(set(sys.modules) - before)))
"""


def loaded_by(statement: str) -> list[str]:
    result = subprocess.run(
        [sys.executable, "-c", statement],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(SRC), "PATH": ""},
    )
    return list(json.loads(result.stdout))


@pytest.mark.parametrize("name", HANDLERS)
def test_a_handler_imports_only_stdlib_boto_and_runtime(name: str) -> None:
    boto = set(loaded_by(PROBE.format(name="boto3")))  # boto3 and whatever it needs
    modules = loaded_by(PROBE.format(name=f"openclaw_deploy.handlers.{name}"))
    foreign = sorted(
        m
        for m in set(modules) - boto
        if m.split(".")[0] not in sys.stdlib_module_names | {"openclaw_deploy"}
        # sysconfig's build data (zoneinfo finds its TZPATH through it) is stdlib too.
        and not m.startswith("_sysconfigdata_")
    )
    assert foreign == [], f"{name} pulls in {foreign}"
    ours = [m for m in modules if m.startswith("openclaw_deploy.")]
    assert all(m.startswith(("openclaw_deploy.runtime", "openclaw_deploy.handlers")) for m in ours)
    assert "boto3" in modules


def test_the_package_roots_import_nothing() -> None:
    modules = loaded_by(
        "import json, sys\nbefore = set(sys.modules)\n"
        "import openclaw_deploy, openclaw_deploy.runtime, openclaw_deploy.handlers\n"
        "print(json.dumps(sorted(set(sys.modules) - before)))"
    )
    assert sorted(modules) == [
        "openclaw_deploy",
        "openclaw_deploy.handlers",
        "openclaw_deploy.runtime",
    ]
