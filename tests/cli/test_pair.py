"""`pair` against a moto server (an AWS-target deployment) and a stand-in Telegram Bot API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app
from openclaw_deploy.config import ConfigFile, Deployment
from openclaw_deploy.local.provision import provision_tables
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.pairing import Pairing
from tests.fakes.telegram_api import FakeTelegram, fake_telegram

NAME = "pairbot"


@pytest.fixture
def telegram() -> Iterator[FakeTelegram]:
    with fake_telegram() as api:
        yield api


@pytest.fixture
def deployment(
    aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, telegram: FakeTelegram
) -> Pairing:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    provision_tables(dynamodb, NAME)
    token_name = resources.TELEGRAM_BOT_TOKEN.parameter_name(NAME)
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=token_name, Value=telegram.token, Type="SecureString"
    )
    config = ConfigFile(path=tmp_path / "openclaw-deploy.yaml")
    config.upsert(
        Deployment(
            name=NAME,
            target="aws",
            region="us-east-1",
            provider="openai",
            model="gpt-5-mini",
            owner_email="me@example.com",
            telegram_api_url=telegram.url,
            parameters={resources.TELEGRAM_BOT_TOKEN.key: token_name},
        )
    )
    config.save()
    return Pairing(dynamodb, resources.PAIRING.physical_name(NAME))


def run(*args: str):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


def test_list_approve_and_notify(deployment: Pairing, telegram: FakeTelegram) -> None:
    request = deployment.request(4242, "Ada", chat_id=4242)
    assert request is not None
    listed = json.loads(run("pair", "list", "--json").output)
    assert [p["code"] for p in listed["pending"]] == [request.code]
    assert listed["paired"] == []

    approved = run("pair", "approve", request.code.lower(), "--json")  # codes are case-blind
    assert approved.exit_code == 0, approved.output
    assert json.loads(approved.output)["notified"] is True
    assert telegram.sent_texts(4242) == ["✅ The owner approved you. Write me anything."]
    assert deployment.is_paired(4242)

    again = run("pair", "approve", request.code)
    assert again.exit_code == 9
    assert "No pending request has the code" in again.output


def test_bad_code_and_unknown_user_are_clear_errors(deployment: Pairing) -> None:
    bad = run("pair", "approve", "not-a-code")
    assert bad.exit_code == 2
    assert "is not a pairing code" in bad.output
    unknown = run("pair", "revoke", "999", "--yes")
    assert unknown.exit_code == 9
    assert "No paired user has the id 999" in unknown.output


def test_revoke_asks_first_and_takes_yes(deployment: Pairing) -> None:
    request = deployment.request(5151, "Bob", chat_id=5151)
    assert request is not None
    deployment.approve(request.code)
    refused = run("pair", "revoke", "5151")  # CI=true: no terminal to ask on
    assert refused.exit_code == 2
    assert "pass --yes" in refused.output
    assert deployment.is_paired(5151)
    done = run("pair", "revoke", "5151", "--yes", "--json")
    assert done.exit_code == 0, done.output
    assert json.loads(done.output) == {"revoked": "5151"}
    assert not deployment.is_paired(5151)


def test_owner_code_can_be_redeemed_by_the_bot(deployment: Pairing) -> None:
    result = run("pair", "code", "--json")
    assert result.exit_code == 0, result.output
    code = json.loads(result.output)["code"]
    assert deployment.redeem(code, 6161, "Owner", chat_id=6161) is not None
    assert deployment.is_paired(6161)
