"""Driving a local target from tests: the real CLI in a subprocess, and its state on disk.

Shared by the end-to-end suites (web, Telegram, the SPA in Chromium).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.fakes.telegram_api import FakeTelegram

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "Local-Owner-Pass-1!"
EMAIL = "owner@example.com"


def cli(
    workdir: Path,
    *args: str,
    timeout: float = 400,
    extra_env: dict[str, str] | None = None,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """The real CLI; `extra_env` (e.g. a stand-in API's URL) reaches the local cloud it starts."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "OPENCLAW_"))}
    env.update(extra_env or {})
    env["CI"] = "true"
    env["OPENCLAW_DEPLOY_CACHE"] = os.environ.get(
        "OPENCLAW_DEPLOY_CACHE", str(REPO / ".cache" / "openclaw-deploy")
    )
    return subprocess.run(
        [sys.executable, "-m", "openclaw_deploy", *args],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        input=stdin,
    )


@dataclass
class Local:
    workdir: Path
    api_url: str
    ws_url: str

    @property
    def home(self) -> Path:
        return self.workdir / ".openclaw-deploy" / "local" / "agent"

    def state(self) -> dict[str, Any]:
        return json.loads((self.home / "state.json").read_text())

    def iam_refusals(self) -> list[dict[str, Any]]:
        """Every AWS call the local target refused (IAM is enforced in every e2e run)."""
        audit = self.home / "logs" / "iam-audit.jsonl"
        if not audit.is_file():
            return []
        entries = [json.loads(line) for line in audit.read_text().splitlines()]
        return [e for e in entries if e["decision"] != "Allowed"]


def start(workdir: Path, *options: str, extra_env: dict[str, str] | None = None) -> Local:
    """`init --target local` with `options` (e.g. `--image`); the cloud keeps running."""
    result = cli(
        workdir,
        "init",
        "--target",
        "local",
        "--yes",
        "--owner-password",
        PASSWORD,
        "--json",
        *options,
        extra_env=extra_env,
    )
    assert result.returncode == 0, result.stderr
    access = json.loads(result.stdout)["local"]
    return Local(workdir=workdir, api_url=access["api_url"], ws_url=access["ws_url"])


def stop(local: Local) -> None:
    """Stop the local cloud; fail if any component made an AWS call its role does not allow."""
    try:
        pid = local.state()["pid"]
    except (OSError, ValueError):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.3)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the local cloud did not stop within 180 s")
    refused = local.iam_refusals()
    assert not refused, f"AWS would refuse these calls (see logs/iam-audit.jsonl): {refused}"


@contextmanager
def running_with_telegram(
    workdir: Path, telegram: FakeTelegram
) -> Iterator[tuple[Local, dict[str, Any]]]:
    """A local target whose bot token and Bot API are the stand-in's; stopped afterwards."""
    result = cli(
        workdir,
        "init",
        "--target",
        "local",
        "--yes",
        "--json",
        "--owner-password",
        PASSWORD,
        "--telegram-bot-token",
        telegram.token,
        "--telegram-api-url",
        telegram.url,
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout)
    local = Local(workdir, answer["local"]["api_url"], answer["local"]["ws_url"])
    try:
        yield local, answer
    finally:
        stop(local)


def webhook_secret(local: Local) -> str:
    """The secret Telegram sends with each update, as stored in the local cloud's SSM."""
    ssm = boto3.client(
        "ssm",
        endpoint_url=local.state()["moto_url"],
        region_name="us-east-1",
        aws_access_key_id="local",
        aws_secret_access_key="local",
    )
    name = "/openclaw-deploy/agent/telegram-webhook-secret"
    return str(ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]["Value"])
