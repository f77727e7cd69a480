"""`init` end to end against a moto server and stand-in provider APIs, driven like a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
import yaml
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app
from tests.fakes.llm_api import fake_llm_api

# Shaped like real secrets, so a leak would be found by the same patterns a person would grep for.
CANARY_KEY = "sk-canary-LLMKEY-0123456789abcdefghij"
CANARY_TOKEN = "4242:canaryTOKENabcdefghijklmnopqrstuvwxyz012"


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    monkeypatch.delenv("OPENCLAW_DEPLOY_PROMPTS", raising=False)
    return tmp_path


def run(args: list[str], *, input: str | None = None, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, args, input=input, env=env, catch_exceptions=False)


BASE = [
    "init",
    "--name",
    "mybot",
    "--region",
    "us-east-1",
    "--provider",
    "openai",
    "--owner-email",
    "me@example.com",
    "--yes",
    "--no-deploy",
]


def ssm_values() -> dict[str, tuple[str, str]]:
    ssm = boto3.client("ssm", region_name="us-east-1")
    params = ssm.get_parameters_by_path(
        Path="/openclaw-deploy", Recursive=True, WithDecryption=True
    )
    return {p["Name"]: (p["Type"], p["Value"]) for p in params["Parameters"]}


def test_init_stores_secrets_in_ssm_and_no_secret_in_config(aws_env: str, workdir: Path) -> None:
    result = run(
        [*BASE, "--skip-checks"],
        env={"OPENCLAW_LLM_API_KEY": CANARY_KEY, "OPENCLAW_TELEGRAM_BOT_TOKEN": CANARY_TOKEN},
    )
    assert result.exit_code == 0, result.output
    values = ssm_values()
    assert values["/openclaw-deploy/mybot/keys/openai"] == ("SecureString", CANARY_KEY)
    assert "/openclaw-deploy/mybot/llm-api-key" not in values, "one parameter per provider"
    assert values["/openclaw-deploy/mybot/telegram-bot-token"] == ("SecureString", CANARY_TOKEN)
    webhook_type, webhook_secret = values["/openclaw-deploy/mybot/telegram-webhook-secret"]
    assert webhook_type == "SecureString"
    assert len(webhook_secret) >= 32

    text = (workdir / "openclaw-deploy.yaml").read_text()
    for secret in (CANARY_KEY, CANARY_TOKEN, webhook_secret):
        assert secret not in text
        assert secret not in result.output
    data = yaml.safe_load(text)
    dep = data["deployments"]["mybot"]
    assert data["default"] == "mybot"
    assert dep["account"] == "123456789012"
    assert dep["provider"] == "openai" and dep["model"] == "gpt-5-mini"
    assert "llm-api-key" not in dep["parameters"], "keys are found by provider, not configured"
    assert "***" in result.output


def test_rerun_keeps_stored_secrets_and_previous_answers(aws_env: str, workdir: Path) -> None:
    env = {"OPENCLAW_LLM_API_KEY": CANARY_KEY, "OPENCLAW_TELEGRAM_BOT_TOKEN": CANARY_TOKEN}
    assert run([*BASE, "--skip-checks"], env=env).exit_code == 0
    before = ssm_values()
    # Second run: no secrets given, only a new model; everything else comes from the config.
    result = run(["init", "--model", "gpt-5", "--yes", "--skip-checks", "--no-deploy"])
    assert result.exit_code == 0, result.output
    assert ssm_values() == before
    assert "(kept)" in result.output
    dep = yaml.safe_load((workdir / "openclaw-deploy.yaml").read_text())["deployments"]["mybot"]
    assert dep["model"] == "gpt-5"
    assert dep["owner_email"] == "me@example.com"


def test_several_deployments_coexist(aws_env: str, workdir: Path) -> None:
    env = {"OPENCLAW_LLM_API_KEY": CANARY_KEY, "OPENCLAW_TELEGRAM_BOT_TOKEN": CANARY_TOKEN}
    assert run([*BASE, "--skip-checks"], env=env).exit_code == 0
    other = [*BASE[:2], "second", *BASE[3:], "--skip-checks"]
    assert run(other, env=env).exit_code == 0
    data = yaml.safe_load((workdir / "openclaw-deploy.yaml").read_text())
    assert set(data["deployments"]) == {"mybot", "second"}
    assert "/openclaw-deploy/second/keys/openai" in ssm_values()


def test_key_is_checked_against_the_provider(aws_env: str, workdir: Path) -> None:
    with fake_llm_api(valid_key=CANARY_KEY) as api:
        good = run(
            [
                *BASE,
                "--llm-base-url",
                api.url,
                "--telegram-bot-token",
                CANARY_TOKEN,
                "--skip-checks",
            ],
            env={"OPENCLAW_LLM_API_KEY": CANARY_KEY},
        )
        assert good.exit_code == 0
        assert api.requests == []  # --skip-checks really skips

        bad = run(
            [*BASE, "--llm-base-url", api.url, "--telegram-bot-token", CANARY_TOKEN],
            env={"OPENCLAW_LLM_API_KEY": "sk-wrong-key-000000000000"},
        )
        assert bad.exit_code == 6
        assert "refused the API key" in bad.output
        assert "sk-wrong-key" not in bad.output
        assert api.requests[-1] == {"path": "/models", "key": "sk-wrong-key-000000000000"}


def test_missing_answer_without_terminal_names_the_flag(aws_env: str, workdir: Path) -> None:
    result = run([*BASE, "--skip-checks"])  # no key, no token, nothing stored
    assert result.exit_code == 2
    assert "--llm-api-key" in result.output and "OPENCLAW_LLM_API_KEY" in result.output
    assert not (workdir / "openclaw-deploy.yaml").exists()
    assert ssm_values() == {}


@pytest.mark.parametrize(
    ("args", "env", "code", "message"),
    [
        (["--provider", "nope"], {}, 2, "--provider 'nope' is not supported"),
        (["--name", "Bad_Name"], {}, 2, "--name 'Bad_Name' is not valid"),
        (["--owner-email", "not-an-email"], {}, 2, "--owner-email 'not-an-email' is not valid"),
        ([], {"OPENCLAW_LLM_API_KEY": "   "}, 2, "The LLM API key is empty"),
        (["--telegram-bot-token", "garbage"], {}, 2, "bot token is not valid"),
        (["--target", "mars"], {}, 2, "--target 'mars' is not valid"),
    ],
)
def test_bad_input_is_a_clear_error(
    aws_env: str, workdir: Path, args: list[str], env: dict[str, str], code: int, message: str
) -> None:
    base_env = {"OPENCLAW_LLM_API_KEY": CANARY_KEY, "OPENCLAW_TELEGRAM_BOT_TOKEN": CANARY_TOKEN}
    result = run([*BASE, "--skip-checks", *args], env={**base_env, **env})
    assert result.exit_code == code, result.output
    assert message in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not (workdir / "openclaw-deploy.yaml").exists()


def test_malformed_config_file_is_reported_without_traceback(aws_env: str, workdir: Path) -> None:
    (workdir / "openclaw-deploy.yaml").write_text("deployments:\n  mybot: [unclosed\n")
    result = run([*BASE, "--skip-checks"])
    assert result.exit_code == 3
    assert "openclaw-deploy.yaml is not valid YAML (line" in result.output
    assert "Traceback" not in result.output

    (workdir / "openclaw-deploy.yaml").write_text("deployments:\n  mybot:\n    region: 5\n")
    result = run(["init", "--yes", "--no-deploy"])
    assert result.exit_code == 3
    assert (
        "deployments.mybot.region: expected an AWS region such as us-east-1, got 5" in result.output
    )


def test_no_credentials_is_a_clear_error(
    aws_env: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = run([*BASE, "--skip-checks"], env={"OPENCLAW_LLM_API_KEY": CANARY_KEY})
    assert result.exit_code == 4
    assert "No AWS credentials were found" in result.output
    assert "aws configure" in result.output


def test_ctrl_c_mid_prompt_writes_nothing(
    aws_env: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI")
    monkeypatch.setenv("OPENCLAW_DEPLOY_PROMPTS", "plain")
    # Name, region and provider are answered; input ends at the model question (like Ctrl-C).
    result = CliRunner().invoke(app, ["init"], input="mybot\nus-east-1\nopenai\n")
    assert result.exit_code == 130
    assert not (workdir / "openclaw-deploy.yaml").exists()
    assert ssm_values() == {}


def test_prompts_ask_and_never_echo_a_stored_secret(
    aws_env: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CI")
    monkeypatch.setenv("OPENCLAW_DEPLOY_PROMPTS", "plain")
    answers = f"mybot\nus-east-1\nopenai\n\n{CANARY_KEY}\n{CANARY_TOKEN}\nme@example.com\n\n"
    first = CliRunner().invoke(app, ["init", "--skip-checks", "--no-deploy"], input=answers)
    assert first.exit_code == 0, first.output
    assert "Model [gpt-5-mini]" in first.output
    # Again: every default is the previous answer; empty secrets keep the stored ones.
    second = CliRunner().invoke(app, ["init", "--skip-checks", "--no-deploy"], input="\n" * 8)
    assert second.exit_code == 0, second.output
    assert "Deployment name [mybot]" in second.output
    assert "Enter keeps the stored one: ***" in second.output
    assert CANARY_KEY not in second.output and CANARY_TOKEN not in second.output
    assert ssm_values()["/openclaw-deploy/mybot/keys/openai"][1] == CANARY_KEY


def test_secrets_from_stdin(aws_env: str, workdir: Path) -> None:
    result = run(
        [*BASE, "--skip-checks", "--llm-api-key", "-", "--telegram-bot-token", "-"],
        input=f"{CANARY_KEY}\n{CANARY_TOKEN}\n",
    )
    assert result.exit_code == 0, result.output
    values = ssm_values()
    assert values["/openclaw-deploy/mybot/keys/openai"][1] == CANARY_KEY
    assert values["/openclaw-deploy/mybot/telegram-bot-token"][1] == CANARY_TOKEN


def test_real_process_with_debug_never_prints_a_secret(aws_env: str, workdir: Path) -> None:
    env = {
        **os.environ,
        "OPENCLAW_LLM_API_KEY": CANARY_KEY,
        "OPENCLAW_TELEGRAM_BOT_TOKEN": CANARY_TOKEN,
    }
    with fake_llm_api(valid_key="another-key") as api:
        proc = subprocess.run(
            [sys.executable, "-m", "openclaw_deploy", "--debug", *BASE, "--llm-base-url", api.url],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 6, proc.stderr
    assert "Traceback" in proc.stderr  # --debug shows where it failed ...
    combined = proc.stdout + proc.stderr
    assert CANARY_KEY not in combined and CANARY_TOKEN not in combined  # ... and never the secrets
    assert not (workdir / "openclaw-deploy.yaml").exists()
