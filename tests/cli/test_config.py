"""`config show` / `config set` against a moto server: the settings row the agent and the web
read, and the task size in the config file, with the cost difference asked about first."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app
from openclaw_deploy.config import ConfigFile, Deployment, load_config
from openclaw_deploy.local.provision import provision_tables
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.settings import BROWSER_MEMORY_MIB, Settings
from openclaw_deploy.services.cost import estimate

NAME = "configbot"


@pytest.fixture
def config_path(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    provision_tables(boto3.client("dynamodb", region_name="us-east-1"), NAME)
    config = ConfigFile(path=tmp_path / "openclaw-deploy.yaml")
    config.upsert(Deployment(name=NAME, target="aws", region="us-east-1", owner_email="a@b.c"))
    config.save()
    return config.path


def run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=stdin, catch_exceptions=False)


def stored() -> Any:
    return Settings(
        boto3.client("dynamodb", region_name="us-east-1"), resources.SETTINGS.physical_name(NAME)
    ).get()


def shown() -> dict[str, str]:
    view = json.loads(run("config", "show", "--json").stdout)
    return {value["key"]: value["value"] for value in view["values"]}


def test_browser_on_raises_the_task_size_after_showing_the_cost(config_path: Path) -> None:
    assert shown()["browser"] == "off"
    table = run("config", "show").output
    assert "browser" in table and "idle-timeout" in table and "config set KEY VALUE" in table
    before = load_config(config_path).deployments[NAME].agent
    assert before.memory < BROWSER_MEMORY_MIB

    # No terminal and no --yes: the cost change needs a confirmation, and nothing is written.
    refused = CliRunner().invoke(app, ["config", "set", "browser", "on"])
    assert refused.exit_code == 2, refused.output
    assert "--yes" in refused.output
    assert load_config(config_path).deployments[NAME].agent == before
    assert stored().browser is False

    done = run("config", "set", "browser", "on", "--yes", "--json")
    assert done.exit_code == 0, done.output
    result = json.loads(done.stdout)
    after = load_config(config_path).deployments[NAME].agent
    assert (after.cpu, after.memory) == (before.cpu, BROWSER_MEMORY_MIB)
    assert after.browser and not before.browser  # `deploy` builds the image with Chromium
    assert result["monthly_usd"] == [estimate(before).total_usd, estimate(after).total_usd]
    assert result["monthly_usd"][1] > result["monthly_usd"][0]
    assert result["next_step"] == "openclaw-deploy deploy"
    assert stored().browser is True
    assert shown() | {"browser": "on", "memory": str(BROWSER_MEMORY_MIB)} == shown()

    # Off keeps the size (it says how to lower it) and costs nothing more; `deploy` builds the
    # image without Chromium again.
    off = json.loads(run("config", "set", "browser", "off", "--json").stdout)
    assert off["monthly_usd"] is None and off["changed"] is True
    assert off["next_step"] == "openclaw-deploy deploy"
    assert any("config set memory 2048" in note for note in off["notes"])
    assert stored().browser is False
    kept = load_config(config_path).deployments[NAME].agent
    assert kept.memory == BROWSER_MEMORY_MIB and not kept.browser


def test_at_a_terminal_the_cost_difference_is_shown_before_the_question(
    config_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI")
    monkeypatch.setenv("OPENCLAW_DEPLOY_PROMPTS", "plain")
    answered = CliRunner().invoke(app, ["config", "set", "browser", "on"], input="n\n")
    assert answered.exit_code != 0
    assert "cost: $" in answered.output and "a month" in answered.output
    assert answered.output.index("cost: $") < answered.output.index("Change browser to on")
    assert stored().browser is False


def test_bad_keys_and_values_are_refused_with_nothing_written(config_path: Path) -> None:
    before = config_path.read_text()
    for args in (
        ["config", "set", "colour", "blue"],
        ["config", "set", "browser", "maybe"],
        ["config", "set", "memory", "3000", "--yes"],
        ["config", "set", "idle-timeout", "0"],
    ):
        refused = CliRunner().invoke(app, args)
        assert refused.exit_code == 2, (args, refused.output)
    assert config_path.read_text() == before
    assert stored().updated_at is None
    assert run("config", "set", "idle-timeout", "30").exit_code == 0
    assert stored().idle_timeout_minutes == 30
