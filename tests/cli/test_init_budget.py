"""`init` asks for the monthly budget: from a flag or its environment variable, or at a real
terminal (pexpect) with why it is asked and the default shown; a bad answer is refused at once.
Every AWS call goes to the moto server."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app
from openclaw_deploy.config import AgentSpec, load_config, with_changes
from openclaw_deploy.services.cost import estimate
from tests.cli.test_first_run import finish, spawn, transcript

NAME = "mybot"
KEY = "sk-budget-0123456789abcdefghij"
TOKEN = "4242:canaryTOKENabcdefghijklmnopqrstuvwxyz012"
BASE = [
    "init",
    "--name",
    NAME,
    "--region",
    "us-east-1",
    "--provider",
    "openai",
    "--model",
    "gpt-5-mini",
    "--owner-email",
    "me@example.com",
    "--skip-checks",
    "--no-deploy",
]
SECRETS = {"OPENCLAW_LLM_API_KEY": KEY, "OPENCLAW_TELEGRAM_BOT_TOKEN": TOKEN}
DEFAULT_USD = math.ceil(estimate(AgentSpec()).total_usd) + 5


@pytest.fixture
def workdir(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("OPENCLAW_DEPLOY_PROMPTS", raising=False)
    monkeypatch.delenv("OPENCLAW_MONTHLY_BUDGET", raising=False)
    monkeypatch.setenv("OPENCLAW_DEPLOY_CACHE", str(tmp_path / "cache"))
    return tmp_path


def run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(
        app, list(args), env={**SECRETS, **(env or {})}, catch_exceptions=False
    )
    return result.exit_code, result.stdout if "--json" in args else result.output


def saved_budget(workdir: Path) -> int | None:
    return load_config(workdir / "openclaw-deploy.yaml").deployments[NAME].monthly_budget_usd


def test_budget_from_the_flag_or_env_is_kept_and_the_default_follows_the_model(
    workdir: Path,
) -> None:
    # No answer: the default, left open in the config so it follows the agent's size.
    code, output = run(*BASE, "--yes", "--json")
    assert code == 0, output
    result = json.loads(output)
    assert (result["monthly_budget_usd"], result["budget_is_default"]) == (DEFAULT_USD, True)
    assert saved_budget(workdir) is None

    code, output = run(*BASE, "--yes", "--monthly-budget", "25.10")
    assert code == 0, output
    assert saved_budget(workdir) == 26  # whole dollars, cents rounded up
    assert "$26 a month" in output

    # Run again without it: the answer given before is kept.
    code, output = run(*BASE, "--yes")
    assert code == 0, output
    assert saved_budget(workdir) == 26

    code, output = run(*BASE, "--yes", env={"OPENCLAW_MONTHLY_BUDGET": "0"})
    assert code == 0, output
    assert saved_budget(workdir) == 0
    assert "none (AWS Budgets will not alert you)" in output


@pytest.mark.parametrize(
    ("given", "problem"),
    [("ten", "a budget is a number of US dollars"), ("-3", "a budget cannot be negative")],
)
def test_a_bad_budget_is_refused_before_anything_is_asked_or_written(
    workdir: Path, given: str, problem: str
) -> None:
    code, output = run(*BASE, "--yes", f"--monthly-budget={given}")
    assert code == 2, output
    flat = " ".join(output.split())
    assert f"--monthly-budget '{given}' is not valid: {problem}" in flat
    assert "--monthly-budget 15" in flat  # what to pass instead
    assert not (workdir / "openclaw-deploy.yaml").exists()


def test_at_a_terminal_the_budget_question_says_why_shows_the_default_and_checks_at_once(
    workdir: Path,
) -> None:
    child = spawn(workdir, *BASE, env=SECRETS)
    child.expect("modelled at about \\$")
    child.expect("Monthly budget in USD")
    child.expect(str(DEFAULT_USD))  # the default, ready to take with Enter
    child.sendline("lots")
    child.expect("✗ a budget is a number of US dollars")
    child.expect("Monthly budget in USD")
    child.sendline("-1")  # appended to the offered default: no longer a number
    child.expect("✗ a budget is a number of US dollars")
    child.expect("Monthly budget in USD")
    # Clear the offered default, then type the answer.
    child.send("\x7f" * 8 + "40\r")
    child.expect("is configured")
    assert finish(child) == 0, transcript(child)
    assert saved_budget(workdir) == 40
    assert "$40 a month" in transcript(child)

    # Again: Enter keeps the answer given last time.
    child = spawn(workdir, *BASE, env=SECRETS)
    child.expect("Monthly budget in USD")
    child.expect("40")
    child.sendline("")
    child.expect("is configured")
    assert finish(child) == 0, transcript(child)
    assert saved_budget(workdir) == 40


def test_running_init_again_keeps_what_other_commands_chose(workdir: Path) -> None:
    code, output = run(*BASE, "--yes")
    assert code == 0, output
    config = load_config(workdir / "openclaw-deploy.yaml")
    changed = with_changes(
        config.deployments[NAME], openclaw_version="2026.1.1", monthly_budget_usd=9
    )
    config.upsert(changed)
    config.save()
    code, output = run(*BASE, "--yes")
    assert code == 0, output
    kept = load_config(workdir / "openclaw-deploy.yaml").deployments[NAME]
    assert (kept.openclaw_version, kept.monthly_budget_usd) == ("2026.1.1", 9)
