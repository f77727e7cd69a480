"""A newcomer's first run, driven as they drive it: flags and pipes through the real CLI, and a
real pseudo-terminal (pexpect) for the questions. Every AWS call goes to the moto server.

Each test names the surprise it keeps away (the items of "First-run experience without
surprises").
"""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from openclaw_deploy.aws.ssm import SecretStore
from openclaw_deploy.cli.app import app
from openclaw_deploy.config import ConfigFile, Deployment
from openclaw_deploy.runtime import resources
from tests.fakes.telegram_api import fake_telegram

NAME = "mybot"
REGION = "us-east-1"
TOKEN = "4242:canaryTOKENabcdefghijklmnopqrstuvwxyz012"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("OPENCLAW_DEPLOY_PROMPTS", raising=False)
    monkeypatch.setenv("OPENCLAW_DEPLOY_CACHE", str(tmp_path / "cache"))
    return tmp_path


def run(args: list[str], **kwargs: object) -> tuple[int, str]:
    result = CliRunner().invoke(app, args, catch_exceptions=False, **kwargs)  # type: ignore[arg-type]
    return result.exit_code, result.output


def closed_port_url() -> str:
    """A URL where nothing listens: like a machine without network."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def configure_with_bot(workdir: Path, telegram_api_url: str, token: str = TOKEN) -> None:
    store = SecretStore(boto3.client("ssm", region_name=REGION), NAME)
    parameter = resources.TELEGRAM_BOT_TOKEN.parameter_name(NAME)
    store.put(parameter, token, description="test")
    config = ConfigFile(path=workdir / "openclaw-deploy.yaml")
    config.upsert(
        Deployment(
            name=NAME,
            region=REGION,
            provider="openai",
            model="gpt-5-mini",
            owner_email="me@example.com",
            telegram_api_url=telegram_api_url,
            parameters={resources.TELEGRAM_BOT_TOKEN.key: parameter},
        )
    )
    config.save()


# 3. destroy shows ✓ only for what succeeded.


def test_destroy_without_network_warns_about_the_webhook_instead_of_a_tick(
    aws_env: str, workdir: Path
) -> None:
    configure_with_bot(workdir, closed_port_url())
    code, output = run(["destroy", "--yes"])
    assert code == 0, output
    assert "✓ Removing the Telegram webhook" not in output
    assert "! Telegram did not confirm the webhook removal" in output


def test_destroy_ticks_the_webhook_when_telegram_removed_it(aws_env: str, workdir: Path) -> None:
    with fake_telegram() as telegram:
        configure_with_bot(workdir, telegram.url, token=telegram.token)
        code, output = run(["destroy", "--yes"])
    assert code == 0, output
    assert "✓ Telegram removed the webhook" in output
    assert len(telegram.calls_to("deleteWebhook")) == 1
