"""`channels` against a moto server (an AWS-target deployment, no stack yet) and the Slack and
Discord API stand-ins: secrets from stdin and flags land in SSM as SecureStrings, tokens are
checked first, Discord's slash commands are registered and removed, `list` shows health."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app
from openclaw_deploy.config import ConfigFile, Deployment, load_config
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.discord import DiscordApp
from tests.fakes.discord_api import FakeDiscord, fake_discord
from tests.fakes.slack_api import FakeSlack, fake_slack

NAME = "chatbot"


@pytest.fixture
def apis(
    aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeSlack, FakeDiscord]]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    config = ConfigFile(path=tmp_path / "openclaw-deploy.yaml")
    config.upsert(
        Deployment(
            name=NAME,
            target="aws",
            region="us-east-1",
            provider="openai",
            model="gpt-5-mini",
            owner_email="me@example.com",
        )
    )
    config.save()
    with fake_slack() as slack, fake_discord() as discord:
        monkeypatch.setenv(resources.ENV_SLACK_API_URL, slack.url)
        monkeypatch.setenv(resources.ENV_DISCORD_API_URL, discord.url)
        yield slack, discord


def run(*args: str, stdin: str | None = None):  # type: ignore[no-untyped-def]
    return CliRunner().invoke(app, list(args), input=stdin, catch_exceptions=False)


def parameter(secret: resources.Secret) -> dict[str, str]:
    ssm = boto3.client("ssm", region_name="us-east-1")
    found = ssm.get_parameter(Name=secret.parameter_name(NAME), WithDecryption=True)["Parameter"]
    return {"Type": found["Type"], "Value": found["Value"]}


def test_slack_secrets_from_stdin_are_checked_and_stored(
    apis: tuple[FakeSlack, FakeDiscord],
) -> None:
    slack, _ = apis
    result = run(
        "channels", "add", "slack", "--bot-token", "-", "--signing-secret", "-", "--json",
        stdin=f"{slack.token}\n{slack.signing_secret}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["identity"] == "Stand-in Team (bot user UBOT0001)"
    assert answer["endpoint_url"] is None  # not deployed: the URL comes after deploy
    assert answer["manifest"]["settings"]["event_subscriptions"]["bot_events"] == [
        "app_mention",
        "message.im",
    ]
    assert slack.token not in result.stdout
    assert parameter(resources.SLACK_BOT_TOKEN) == {"Type": "SecureString", "Value": slack.token}
    assert parameter(resources.SLACK_SIGNING_SECRET)["Value"] == slack.signing_secret
    assert [c.method for c in slack.calls] == ["auth.test"]


def test_a_refused_slack_token_stores_nothing(apis: tuple[FakeSlack, FakeDiscord]) -> None:
    slack, _ = apis
    result = CliRunner().invoke(
        app,
        ["channels", "add", "slack", "--bot-token", "xoxb-0000000000-wrong-token-here",
         "--signing-secret", slack.signing_secret],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "Slack refused the bot token (invalid_auth)" in result.output
    names = boto3.client("ssm", region_name="us-east-1").describe_parameters()["Parameters"]
    assert names == []


def test_discord_registers_commands_lists_health_and_removes_them(
    apis: tuple[FakeSlack, FakeDiscord],
) -> None:
    _, discord = apis
    result = run(
        "channels", "add", "discord", "--application-id", discord.application_id,
        "--public-key", discord.public_key, "--bot-token", discord.token, "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["commands"] == ["ask", "new", "status"]
    assert sorted(c["name"] for c in discord.commands) == ["ask", "new", "status"]
    stored = DiscordApp.from_json(parameter(resources.DISCORD_APP)["Value"])
    assert stored == DiscordApp(
        application_id=discord.application_id, public_key=discord.public_key
    )

    listed = json.loads(run("channels", "list", "--json").stdout)
    by_name = {c["channel"]: c for c in listed}
    assert by_name["discord"]["healthy"] is True
    assert by_name["slack"]["connected"] is False
    discord.commands = []  # someone removed them in the developer portal
    listed = json.loads(run("channels", "list", "--json").stdout)
    assert {c["channel"]: c for c in listed}["discord"]["healthy"] is False

    run("channels", "add", "discord", "--application-id", discord.application_id,
        "--public-key", discord.public_key, "--bot-token", discord.token)  # fmt: skip
    removed = run("channels", "remove", "discord", "--yes", "--json")
    assert removed.exit_code == 0, removed.output
    assert json.loads(removed.stdout)["unregistered"] == ["ask", "new", "status"]
    assert discord.commands == []
    assert boto3.client("ssm", region_name="us-east-1").describe_parameters()["Parameters"] == []


def test_a_discord_token_of_another_application_is_refused(
    apis: tuple[FakeSlack, FakeDiscord],
) -> None:
    _, discord = apis
    result = CliRunner().invoke(
        app,
        ["channels", "add", "discord", "--application-id", "1111111111111111111",
         "--public-key", discord.public_key, "--bot-token", discord.token],
    )  # fmt: skip
    assert result.exit_code != 0
    assert "belongs to another application" in result.output
    assert discord.commands == []


def test_destroy_unregisters_the_discord_commands(apis: tuple[FakeSlack, FakeDiscord]) -> None:
    from openclaw_deploy.aws.ssm import SecretStore
    from openclaw_deploy.services.destroy import DestroyPlan, remove_discord_commands

    _, discord = apis
    run("channels", "add", "discord", "--application-id", discord.application_id,
        "--public-key", discord.public_key, "--bot-token", discord.token)  # fmt: skip
    assert discord.commands
    store = SecretStore(boto3.client("ssm", region_name="us-east-1"), NAME)
    plan = DestroyPlan(
        name=NAME, stack_name=f"openclaw-{NAME}", account="123456789012", region="us-east-1",
        stack_status=None, deleting=[], keeping=[], purging=[], webhook=False, purge=False,
        parameters=store.names_under(resources.parameter_prefix(NAME)),
    )  # fmt: skip
    deployment = load_config(Path("openclaw-deploy.yaml")).resolve(NAME)
    steps: list[str] = []

    class Reporter:
        def step(self, text: str) -> None:
            steps.append(text)

        done = warn = step

    assert remove_discord_commands(plan, store, deployment, Reporter()) == []  # type: ignore[arg-type]
    assert discord.commands == []
    assert steps == [
        "Removing the Discord slash commands",
        "Discord removed /ask, /new and /status",
    ]
