"""`dlq` and `budget` against a moto server (an AWS-target deployment): a message made
undeliverable by the queue's own redrive policy is listed, retried onto the inbound queue (and
answered from there), or dropped; the budget is shown and changed in the config file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app
from openclaw_deploy.config import ConfigFile, Deployment, load_config
from openclaw_deploy.local.provision import provision_queues
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.contract import QueueMessage

NAME = "dlqbot"


def run(*args: str) -> Any:
    return CliRunner().invoke(app, list(args), catch_exceptions=False)


@pytest.fixture
def queues(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    sqs = boto3.client("sqs", region_name="us-east-1")
    urls, dead = provision_queues(sqs, NAME)
    config = ConfigFile(path=tmp_path / "openclaw-deploy.yaml")
    config.upsert(Deployment(name=NAME, target="aws", region="us-east-1", account="123456789012"))
    config.save()
    return {"inbound": urls["inbound"], "dead": dead["inbound"]}


def _undeliverable(sqs: Any, inbound: str, text: str, message_id: str) -> None:
    """Send a message and fail on it as the bridge would, until the redrive policy moves it."""
    body = QueueMessage(
        channel="web", session="s1", message_id=message_id, text=text, received_at=1.0
    ).to_json()
    sqs.send_message(
        QueueUrl=inbound, MessageBody=body, MessageGroupId="s1", MessageDeduplicationId=message_id
    )
    for _ in range(resources.INBOUND.max_receive_count + 1):
        sqs.receive_message(QueueUrl=inbound, VisibilityTimeout=0, MaxNumberOfMessages=10)


def test_list_retry_and_drop_dead_letters(queues: dict[str, str]) -> None:
    sqs = boto3.client("sqs", region_name="us-east-1")
    _undeliverable(sqs, queues["inbound"], "never answered", "m-1")
    _undeliverable(sqs, queues["inbound"], "also never answered", "m-2")

    listed = run("dlq", "list", "--json")
    assert listed.exit_code == 0, listed.output
    messages = json.loads(listed.stdout)["messages"]
    assert sorted(m["message_id"] for m in messages) == ["m-1", "m-2"]
    assert {m["preview"] for m in messages} == {"never answered", "also never answered"}
    assert all(m["receive_count"] >= 1 for m in messages)
    # Listing consumed nothing.
    assert len(json.loads(run("dlq", "list", "--json").stdout)["messages"]) == 2

    first = next(m for m in messages if m["message_id"] == "m-1")
    retried = run("dlq", "retry", first["id"], "--json")
    assert json.loads(retried.stdout)["ids"] == [first["id"]]
    back = sqs.receive_message(QueueUrl=queues["inbound"], MaxNumberOfMessages=10)["Messages"]
    assert [QueueMessage.from_json(m["Body"]).message_id for m in back] == ["m-1"]

    dropped = run("dlq", "drop", "--all", "--json")
    assert len(json.loads(dropped.stdout)["ids"]) == 1
    assert json.loads(run("dlq", "list", "--json").stdout)["messages"] == []
    assert "every message got an answer" in run("dlq", "list").stdout


def test_retry_needs_ids_or_all(queues: dict[str, str]) -> None:
    result = run("dlq", "retry")
    assert result.exit_code != 0
    assert "--all" in result.output


def test_budget_set_records_it_and_show_reports_no_live_budget_yet(
    queues: dict[str, str], tmp_path: Path
) -> None:
    result = run("budget", "set", "15", "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["configured_usd"] == 15
    assert info["live_usd"] is None
    assert any("deploy" in note for note in info["notes"])
    saved = load_config(tmp_path / "openclaw-deploy.yaml").deployments[NAME]
    assert saved.monthly_budget_usd == 15
    assert run("budget", "set", "-3").exit_code != 0
