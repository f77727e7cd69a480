"""`keys` and `model` against a moto server and a stand-in provider API, with `--json`.

Keys are SecureStrings, one per provider under `/openclaw-deploy/NAME/keys/`; the config file
names none of them; a canary key appears nowhere but SSM (not in output, config or settings).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app
from openclaw_deploy.config import ConfigFile, Deployment, load_config
from openclaw_deploy.local.provision import provision_tables
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.keys import keys_path
from tests.fakes.llm_api import FakeLlmApi, fake_llm_api

NAME = "keysbot"
CANARY = "sk-canary-keys-7d1c0e9f4b2a"
PATH = keys_path(NAME)


@pytest.fixture
def llm() -> Iterator[FakeLlmApi]:
    with fake_llm_api(CANARY) as api:
        yield api


@pytest.fixture
def config_path(
    aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llm: FakeLlmApi
) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    provision_tables(boto3.client("dynamodb", region_name="us-east-1"), NAME)
    config = ConfigFile(path=tmp_path / "openclaw-deploy.yaml")
    config.upsert(
        Deployment(
            name=NAME,
            target="aws",
            region="us-east-1",
            provider="anthropic",
            model="claude-sonnet-4-5",
            owner_email="me@example.com",
            llm_base_url=llm.url,
        )
    )
    config.save()
    return config.path


def run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=stdin, catch_exceptions=False)


def ssm() -> Any:
    return boto3.client("ssm", region_name="us-east-1")


def test_set_checks_the_key_stores_a_securestring_per_provider_and_lists_without_values(
    config_path: Path, llm: FakeLlmApi
) -> None:
    result = run("keys", "set", "anthropic", "-", "--json", stdin=CANARY + "\n")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["key"]["parameter"] == f"{PATH}/anthropic"
    assert answer["check"] == "Anthropic (Claude) accepted the key"
    assert llm.requests[-1]["key"] == CANARY, "checked against the provider"
    stored = ssm().get_parameter(Name=f"{PATH}/anthropic", WithDecryption=True)["Parameter"]
    assert (stored["Type"], stored["Value"]) == ("SecureString", CANARY)

    # A tool key the same way; no check call for a tool.
    calls = len(llm.requests)
    assert run("keys", "set", "brave", "-", stdin="brave-canary-123\n").exit_code == 0
    assert len(llm.requests) == calls

    listing = run("keys", "list", "--json")
    assert listing.exit_code == 0
    data = json.loads(listing.stdout)
    assert [k["id"] for k in data["keys"]] == ["anthropic", "brave"]
    assert data["in_use"] == "anthropic"
    assert all(k["updatedAt"] for k in data["keys"])
    assert "openai" in data["missing"]
    for output in (result.output, listing.output, run("keys", "list").output):
        assert CANARY not in output
    assert CANARY not in config_path.read_text()
    assert "keys/" not in config_path.read_text(), "the layout is derived, not configured"


def test_a_refused_key_is_not_stored(config_path: Path) -> None:
    result = CliRunner().invoke(app, ["keys", "set", "anthropic", "-"], input="sk-wrong\n")
    assert result.exit_code == 6, result.output
    assert "refused the API key" in result.output
    assert "sk-wrong" not in result.output
    names = [p["Name"] for p in ssm().describe_parameters()["Parameters"]]
    assert f"{PATH}/anthropic" not in names


def test_unknown_ids_empty_stdin_and_no_terminal_are_usage_errors(config_path: Path) -> None:
    assert run("keys", "set", "skynet", "-", stdin="x\n").exit_code == 2
    assert run("keys", "set", "openai", "-", stdin="\n").exit_code == 2
    no_terminal = CliRunner().invoke(app, ["keys", "set", "openai"])
    assert no_terminal.exit_code == 2
    assert "OPENCLAW_KEY" in no_terminal.output


def test_model_switch_refuses_a_provider_without_a_key_and_names_the_command(
    config_path: Path,
) -> None:
    shown = json.loads(run("model", "--json").stdout)
    assert (shown["provider"], shown["model"], shown["source"]) == (
        "anthropic",
        "claude-sonnet-4-5",
        "default",
    )

    refused = CliRunner().invoke(app, ["model", "openai/gpt-5-mini"])
    assert refused.exit_code == 2
    assert "openclaw-deploy keys set openai" in refused.output

    assert (
        run("keys", "set", "openai", "-", "--skip-check", stdin="sk-openai-canary\n").exit_code == 0
    )
    chosen = run("model", "openrouter/anthropic/claude-sonnet-4.5")
    assert chosen.exit_code == 2, "OpenRouter has no key either"
    switched = json.loads(run("model", "openai/gpt-5-mini", "--json").stdout)
    assert (switched["provider"], switched["model"], switched["source"]) == (
        "openai",
        "gpt-5-mini",
        "settings",
    )
    row = boto3.client("dynamodb", region_name="us-east-1").get_item(
        TableName=resources.SETTINGS.physical_name(NAME), Key={"pk": {"S": "settings"}}
    )["Item"]
    assert row["provider"]["S"] == "openai"
    assert "sk-openai-canary" not in json.dumps(row)

    # Bedrock needs no key but the task role's grant, which only init choosing Bedrock gives:
    # refused before anything is stored, with the command that grants it.
    no_grant = CliRunner().invoke(app, ["model", "bedrock", "--json"])
    assert no_grant.exit_code == 2
    assert "no Amazon Bedrock grant" in no_grant.output
    assert (
        "openclaw-deploy init --provider bedrock --model "
        "anthropic.claude-sonnet-4-5-20250929-v1:0 --name keysbot"
    ) in " ".join(no_grant.output.split())
    assert json.loads(run("model", "--json").stdout)["provider"] == "openai"
    # An OpenAI-compatible endpoint needs its URL.
    assert run("model", "openai-compatible/llama3").exit_code == 2
    compatible = json.loads(
        run(
            "model", "openai-compatible/llama3", "--base-url", "http://10.0.0.5:8000/v1", "--json"
        ).stdout
    )
    assert compatible["base_url"] == "http://10.0.0.5:8000/v1"

    back = json.loads(run("model", "--default", "--json").stdout)
    assert (back["provider"], back["source"]) == ("anthropic", "default")


def test_remove_refuses_the_key_in_use_unless_forced(config_path: Path) -> None:
    run("keys", "set", "anthropic", "-", "--skip-check", stdin=CANARY + "\n")
    run("keys", "set", "openai", "-", "--skip-check", stdin="sk-other\n")

    refused = CliRunner().invoke(app, ["keys", "remove", "anthropic", "--yes"])
    assert refused.exit_code == 2
    assert "--force" in refused.output and "openclaw-deploy model" in refused.output

    removed = run("keys", "remove", "openai", "--yes", "--json")
    assert json.loads(removed.stdout) == {"deployment": NAME, "key": "openai", "removed": True}
    assert run("keys", "remove", "openai", "--yes").exit_code == 9
    assert run("keys", "remove", "anthropic", "--yes", "--force").exit_code == 0
    assert json.loads(run("keys", "list", "--json").stdout)["keys"] == []

    no_terminal = CliRunner().invoke(app, ["keys", "remove", "brave"])
    assert no_terminal.exit_code == 2, "removing asks first"


def test_the_single_key_of_an_older_deployment_moves_to_its_provider(config_path: Path) -> None:
    old = resources.LLM_API_KEY.parameter_name(NAME)
    ssm().put_parameter(Name=old, Value=CANARY, Type="SecureString")
    config = load_config(config_path)
    deployment = config.deployments[NAME]
    from dataclasses import replace

    config.upsert(replace(deployment, parameters={resources.LLM_API_KEY.key: old}))
    config.save()

    listing = json.loads(run("keys", "list", "--json").stdout)
    assert [k["id"] for k in listing["keys"]] == ["anthropic"]
    value = ssm().get_parameter(Name=f"{PATH}/anthropic", WithDecryption=True)["Parameter"]["Value"]
    assert value == CANARY
    names = [p["Name"] for p in ssm().describe_parameters()["Parameters"]]
    assert old not in names
    assert resources.LLM_API_KEY.key not in load_config(config_path).deployments[NAME].parameters


def test_init_with_another_model_makes_it_the_model_again(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("keys", "set", "openai", "-", "--skip-check", stdin="sk-openai-canary\n")
    assert run("model", "openai/gpt-5-mini").exit_code == 0
    monkeypatch.setenv("OPENCLAW_LLM_API_KEY", CANARY)
    monkeypatch.setenv(
        "OPENCLAW_TELEGRAM_BOT_TOKEN", "123456:TEST-fake-token-for-the-stand-in-bot-api"
    )
    result = CliRunner().invoke(
        app,
        ["init", "--name", NAME, "--model", "claude-opus-4-1", "--skip-checks", "--no-deploy"],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    shown = json.loads(run("model", "--json").stdout)
    assert (shown["provider"], shown["model"], shown["source"]) == (
        "anthropic",
        "claude-opus-4-1",
        "default",
    ), "the web's earlier choice no longer wins over init's new answer"
    assert CANARY not in config_path.read_text()


def test_on_a_bedrock_deployment_only_the_granted_model_is_taken(config_path: Path) -> None:
    config = load_config(config_path)
    deployment = config.deployments[NAME]
    config.upsert(
        dataclasses.replace(
            deployment, provider="bedrock", model="anthropic.claude-haiku-4-5-20251001-v1:0"
        )
    )
    config.save()
    assert run("model", "openai-compatible/x", "--base-url", "http://h:1/v1").exit_code == 0
    # The model init chose, as a bare id or as the region's profile the grant names.
    assert run("model", "bedrock/anthropic.claude-haiku-4-5-20251001-v1:0").exit_code == 0
    assert run("model", "bedrock/us.anthropic.claude-haiku-4-5-20251001-v1:0").exit_code == 0
    other = CliRunner().invoke(app, ["model", "bedrock/anthropic.claude-sonnet-4-5-20250929-v1:0"])
    assert other.exit_code == 2
    said = " ".join(other.output.split())
    assert "may invoke us.anthropic.claude-haiku-4-5-20251001-v1:0" in said
    assert "init --provider bedrock --model anthropic.claude-sonnet-4-5-20250929-v1:0" in said
    shown = json.loads(run("model", "--json").stdout)
    assert shown["model"] == "us.anthropic.claude-haiku-4-5-20251001-v1:0"


def test_the_grant_command_model_names_makes_the_bedrock_switch_possible(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = CliRunner().invoke(app, ["model", "bedrock/anthropic.claude-haiku-4-5-20251001-v1:0"])
    assert refused.exit_code == 2
    hint = (
        "openclaw-deploy init --provider bedrock --model anthropic.claude-haiku-4-5-20251001-v1:0"
    )
    assert hint in " ".join(refused.output.split())
    monkeypatch.setenv(
        "OPENCLAW_TELEGRAM_BOT_TOKEN", "123456:TEST-fake-token-for-the-stand-in-bot-api"
    )
    granted = CliRunner().invoke(
        app,
        [
            "init",
            "--name",
            NAME,
            "--provider",
            "bedrock",
            "--model",
            "anthropic.claude-haiku-4-5-20251001-v1:0",
            "--skip-checks",
            "--no-deploy",
        ],
        catch_exceptions=False,
    )
    assert granted.exit_code == 0, granted.output
    assert run("model", "bedrock/anthropic.claude-haiku-4-5-20251001-v1:0").exit_code == 0
