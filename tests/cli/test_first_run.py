"""A newcomer's first run, driven as they drive it: flags and pipes through the real CLI, and a
real pseudo-terminal (pexpect) for the questions. Every AWS call goes to the moto server.

Each test names the surprise it keeps away (the items of "First-run experience without
surprises").
"""

from __future__ import annotations

import io
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import boto3
import pexpect
import pytest
from rich.console import Console
from typer.testing import CliRunner

from openclaw_deploy.aws.ssm import SecretStore
from openclaw_deploy.cli.app import app
from openclaw_deploy.config import ConfigFile, Deployment
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.keys import keys_path
from tests.fakes.llm_api import fake_llm_api
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


# At a real terminal: questions explain themselves, answers are checked at once, stored keys are
# offered only where they belong.


def spawn(workdir: Path, *args: str, env: dict[str, str] | None = None) -> pexpect.spawn:
    environment = {
        k: v for k, v in os.environ.items() if k not in ("CI", "OPENCLAW_DEPLOY_PROMPTS")
    }
    environment.update(TERM="xterm", COLUMNS="120", LINES="40", **(env or {}))
    child = pexpect.spawn(
        sys.executable,
        ["-m", "openclaw_deploy", *args],
        cwd=str(workdir),
        env=environment,
        encoding="utf-8",
        timeout=30,
        dimensions=(40, 120),
    )
    child.logfile_read = io.StringIO()
    return child


def transcript(child: pexpect.spawn) -> str:
    return str(child.logfile_read.getvalue())


def finish(child: pexpect.spawn) -> int:
    child.expect(pexpect.EOF, timeout=120)
    child.close()
    return int(child.exitstatus if child.exitstatus is not None else -1)


def test_a_refused_key_is_asked_again_at_once_with_where_to_get_one(
    aws_env: str, workdir: Path
) -> None:
    good_key = "sk-good-0123456789abcdefghij"
    with fake_llm_api(valid_key=good_key) as llm, fake_telegram() as telegram:
        child = spawn(
            workdir,
            "init",
            "--name",
            NAME,
            "--region",
            REGION,
            "--provider",
            "openai",
            "--model",
            "gpt-5-mini",
            "--owner-email",
            "me@example.com",
            "--llm-base-url",
            llm.url,
            "--telegram-api-url",
            telegram.url,
            "--no-deploy",
        )
        child.expect("Create one at https://platform.openai.com/api-keys")
        child.expect("OpenAI API key")
        child.sendline("sk-wrong-key-0000000000000000")
        # Said right below the question, then asked again: no answer is lost.
        child.expect("✗ OpenAI refused the API key")
        child.expect("OpenAI API key")
        child.sendline(good_key)
        child.expect("@BotFather")
        child.expect("Telegram bot token")
        child.sendline("not-a-token")
        child.expect("✗ The Telegram bot token is not valid")
        child.expect("Telegram bot token")
        child.sendline(telegram.token)
        child.expect("Monthly budget in USD")
        child.sendline("")
        child.expect("is configured")
        assert finish(child) == 0, transcript(child)
    output = transcript(child)
    assert good_key not in output and telegram.token not in output
    assert re.search(r"Checking the OpenAI API key \(\d+s\)", output)  # a wait shows its time
    assert [r["key"] for r in llm.requests] == ["sk-wrong-key-0000000000000000", good_key]
    values = ssm_values()
    assert values[f"{keys_path(NAME)}/openai"] == good_key


def ssm_values() -> dict[str, str]:
    ssm = boto3.client("ssm", region_name=REGION)
    params = ssm.get_parameters_by_path(
        Path="/openclaw-deploy", Recursive=True, WithDecryption=True
    )
    return {p["Name"]: p["Value"] for p in params["Parameters"]}


def first_init(workdir: Path, key: str = "sk-openai-stored-0123456789") -> None:
    code, output = run(
        [
            "init",
            "--name",
            NAME,
            "--region",
            REGION,
            "--provider",
            "openai",
            "--owner-email",
            "me@example.com",
            "--skip-checks",
            "--no-deploy",
            "--yes",
        ],
        env={"OPENCLAW_LLM_API_KEY": key, "OPENCLAW_TELEGRAM_BOT_TOKEN": TOKEN},
    )
    assert code == 0, output


def test_changing_the_provider_asks_for_its_key_instead_of_keeping_the_old_one(
    aws_env: str, workdir: Path
) -> None:
    first_init(workdir)
    # Without a terminal: refused, naming what to pass; nothing changes.
    code, output = run(["init", "--provider", "anthropic", "--yes", "--skip-checks", "--no-deploy"])
    assert code == 2, output
    assert "from openai to anthropic" in output and "OPENCLAW_LLM_API_KEY" in output
    assert "provider: openai" in (workdir / "openclaw-deploy.yaml").read_text()

    # At a terminal: the key is asked for, with no offer to keep the other provider's.
    child = spawn(workdir, "init", "--provider", "anthropic", "--skip-checks", "--no-deploy")
    for _ in range(2):  # name, region: Enter keeps the previous answers
        child.expect(r"\?")
        child.sendline("")
    child.expect("Model")
    child.sendline("")
    child.expect("the stored key belongs to openai, so it is not offered")
    child.expect("Anthropic \\(Claude\\) API key")
    child.sendline("")
    child.expect("✗ an answer is needed")
    child.sendline("sk-ant-new-test-key")
    child.expect("Enter keeps the stored one")  # the token is still this deployment's
    child.sendline("")
    child.expect("Owner email")
    child.sendline("")
    child.expect("Monthly budget in USD")
    child.sendline("")
    child.expect("is configured")
    assert finish(child) == 0, transcript(child)
    assert "API key (Enter keeps" not in transcript(child)
    assert ssm_values()[f"{keys_path(NAME)}/anthropic"] == "sk-ant-new-test-key"


# 7. A deployment of the same name set up from another folder is not taken over silently.


def test_init_in_a_new_folder_does_not_adopt_another_folders_deployment(
    aws_env: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first_init(workdir)
    other = workdir / "other"
    other.mkdir()
    monkeypatch.chdir(other)
    args = ["init", "--name", NAME, "--provider", "openai", "--yes", "--skip-checks"]
    args += ["--owner-email", "me@example.com", "--no-deploy"]
    code, output = run(args, env={"OPENCLAW_LLM_API_KEY": "sk-other-folder-0123456789"})
    assert code == 2, output
    flat = " ".join(output.split())
    assert "set up from another folder" in flat and "--adopt" in flat
    assert not (other / "openclaw-deploy.yaml").exists()
    assert ssm_values()[f"{keys_path(NAME)}/openai"] == "sk-openai-stored-0123456789"

    code, output = run([*args, "--adopt"], env={"OPENCLAW_LLM_API_KEY": "sk-other-0123456789"})
    assert code == 0, output
    assert (other / "openclaw-deploy.yaml").exists()


# 5. Failures say what failed and how to fix it, without contradicting themselves.


def test_a_region_typo_is_caught_before_any_call_with_a_fix(aws_env: str, workdir: Path) -> None:
    code, output = run(
        ["init", "--name", NAME, "--region", "us-est-1", "--provider", "openai", "--yes"],
        env={"OPENCLAW_LLM_API_KEY": "sk-0123456789abcdefghij"},
    )
    flat = " ".join(output.split())
    assert code == 2, output
    assert "no such AWS region (did you mean" in flat and "us-east-1" in flat and "Fix:" in flat
    assert "<html" not in output.lower()


def test_a_failure_after_the_stack_completed_does_not_say_failed_complete() -> None:
    from openclaw_deploy.services.deploy import failure_message

    message = failure_message("Deploying openclaw-mybot", [], "CREATE_COMPLETE")
    assert "failed (CREATE_COMPLETE)" not in message
    assert message.startswith("Deploying openclaw-mybot failed.")
    assert "The stack itself is CREATE_COMPLETE." in message
    rolled_back = failure_message("Deploying openclaw-mybot", [], "ROLLBACK_COMPLETE")
    assert "failed (ROLLBACK_COMPLETE)" in rolled_back


# 4. A deploy after which nothing can be reached is not reported as a success.


def test_a_deploy_without_urls_is_a_failure_with_a_way_forward() -> None:
    from openclaw_deploy.cli.deploy import refuse_unusable, render_result
    from openclaw_deploy.errors import DeployFailedError
    from openclaw_deploy.services.deploy import DeployResult

    result = DeployResult(
        name=NAME,
        stack_name="openclaw-mybot",
        status="CREATE_COMPLETE",
        account="123456789012",
        region=REGION,
        web_url=None,
        api_url=None,
        owner_login=None,
        owner_status=None,
        telegram_bot=None,
        telegram_webhook=None,
        image_tag="src-1",
        image="skipped",
        seconds=600,
        monthly_cost_usd=1.0,
        skipped=["the web UI upload"],
    )
    console = Console(file=io.StringIO(), width=120)
    render_result(console, result)
    shown = console.file.getvalue()  # type: ignore[attr-defined]
    assert "Deployed 'mybot' in part" in shown and "cannot be used yet" in shown
    with pytest.raises(DeployFailedError) as failed:
        refuse_unusable(result)
    assert "cannot be used: no web chat URL" in failed.value.message
    assert failed.value.hint and "openclaw-deploy deploy --name mybot" in failed.value.hint
    assert failed.value.exit_code != 0


# 10. Text that is true.


def test_init_no_deploy_recommends_deploy(aws_env: str, workdir: Path) -> None:
    first_init(workdir)
    code, output = run(["init", "--yes", "--skip-checks", "--no-deploy"])
    assert code == 0, output
    assert "infrastructure release" not in output
    assert "openclaw-deploy deploy --name mybot" in " ".join(output.split())


def test_doctor_uses_the_region_init_would_use(
    aws_env: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    _, output = run(["doctor", "--json"])  # other checks (node, bootstrap) may fail here
    checks = {c["name"]: c for c in json.loads(output)["checks"]}
    assert checks["region"]["ok"] is True
    assert checks["region"]["detail"].startswith("us-east-1 (none is set")
    assert checks["aws-credentials"]["ok"] is True


def test_plan_in_another_region_says_whose_prices_and_fits_120_columns(
    aws_env: str, workdir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = SecretStore(boto3.client("ssm", region_name="us-west-2"), NAME)
    parameter = resources.LLM_API_KEY.parameter_name(NAME)
    store.put(parameter, "sk-0123456789abcdefghij", description="test")
    config = ConfigFile(path=workdir / "openclaw-deploy.yaml")
    config.upsert(
        Deployment(
            name=NAME,
            region="us-west-2",
            provider="openai",
            model="gpt-5-mini",
            owner_email="me@example.com",
            parameters={resources.LLM_API_KEY.key: parameter},
        )
    )
    config.save()
    monkeypatch.setenv("COLUMNS", "120")
    code, output = run(["deploy"])  # no terminal: stops at the bootstrap question
    assert code == 2, output
    assert "us-east-1 list prices of" in output and "us-west-2's differ by a few percent" in output
    lines = output.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("Estimated cost:")) + 1
    table = []
    for line in lines[start:]:
        if not line.startswith(" "):
            break
        table.append(line)
    # Every row and every wrapped basis stays inside 120 columns and in its own column.
    assert len(table) > 5 and all(len(line) <= 120 for line in table), table
    assert all(line.lstrip()[0] == "$" or line.startswith(" " * 20) for line in table), table


def test_cost_on_the_local_target_says_it_costs_nothing_here(aws_env: str, workdir: Path) -> None:
    config = ConfigFile(path=workdir / "openclaw-deploy.yaml")
    config.upsert(
        Deployment(
            name="agent",
            target="local",
            provider="offline",
            model="demo",
            owner_email="owner@example.com",
        )
    )
    config.save()
    code, output = run(["cost"])
    assert code == 0, output
    assert "On this machine it costs nothing" in output


def test_pair_code_without_telegram_says_there_is_no_bot(aws_env: str, workdir: Path) -> None:
    from tests.cli.operate import deploy_on_moto

    deploy_on_moto(workdir, NAME)
    code, output = run(["pair", "code"])
    assert code == 2, output
    assert "has no Telegram bot" in " ".join(output.split())


def test_completion_for_the_shell_named_and_choices_in_help_and_completion(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "HOME": str(tmp_path)}

    def cli(*args: str, **extra: str) -> str:
        return subprocess.run(
            [sys.executable, "-m", "openclaw_deploy", *args],
            capture_output=True,
            text=True,
            check=True,
            env={**env, **extra},
        ).stdout

    assert cli("--show-completion", "zsh").startswith("#compdef openclaw-deploy")
    assert "complete --command openclaw-deploy" in cli("--show-completion=fish")
    helped = " ".join(cli("init", "--help").split())
    assert "--target [aws|local]" in helped and "[anthropic|openai|" in helped

    def complete(words: str) -> list[str]:
        return cli(
            "status",
            _OPENCLAW_DEPLOY_COMPLETE="complete_bash",
            COMP_WORDS=words,
            COMP_CWORD=str(len(words.split(" ")) - 1),
        ).split()

    assert complete("openclaw-deploy init --target ") == ["aws", "local"]
    assert complete("openclaw-deploy logs --target l") == ["local"]
    assert "openrouter" in complete("openclaw-deploy init --provider open")
