"""The CLI as a whole: fast start, the doctor, clean errors, and the wheel's contents."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app

REPO = Path(__file__).resolve().parents[2]
HEAVY = (
    "aws_cdk",
    "jsii",
    "cdk_nag",
    "constructs",
    "boto3",
    "botocore",
    "moto",
    "aiohttp",
    "httpx",
)


def test_help_imports_nothing_heavy() -> None:
    code = (
        "import sys, io, contextlib\n"
        "from openclaw_deploy.cli.app import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n"
        "        main(['--help'])\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r})))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_every_command_has_help_with_an_example() -> None:
    runner = CliRunner()
    listing = runner.invoke(app, ["--help"])
    assert listing.exit_code == 0
    for command in ("init", "status", "logs", "doctor"):
        assert command in listing.output
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0, command
        assert "openclaw-deploy " + command in result.output, command


def test_doctor_reports_each_check(aws_env: str) -> None:
    result = CliRunner().invoke(app, ["doctor", "--json"], catch_exceptions=False)
    report = json.loads(result.output)
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["python"]["ok"] is True
    assert checks["node"]["ok"] is True
    assert checks["node"]["detail"].startswith("Node 24.")
    assert checks["aws-credentials"]["ok"] is True
    assert "123456789012" in checks["aws-credentials"]["detail"]
    assert checks["cdk-bootstrap"]["ok"] is False  # a fresh account: the fix says what to run
    assert "openclaw-deploy deploy" in checks["cdk-bootstrap"]["fix"]
    assert result.exit_code == 1


def test_doctor_passes_once_the_region_is_bootstrapped(aws_env: str) -> None:
    import boto3

    from openclaw_deploy.services.deploy import BOOTSTRAP_PARAMETER

    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=BOOTSTRAP_PARAMETER, Value="30", Type="String"
    )
    result = CliRunner().invoke(app, ["doctor", "--json"], catch_exceptions=False)
    checks = {c["name"]: c for c in json.loads(result.output)["checks"]}
    assert checks["cdk-bootstrap"] == {
        "name": "cdk-bootstrap",
        "ok": True,
        "detail": "version 30 in us-east-1",
        "fix": None,
    }
    assert result.exit_code == 0


def test_doctor_fails_without_credentials_and_says_how_to_fix(
    aws_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    result = CliRunner().invoke(app, ["doctor"], catch_exceptions=False)
    assert result.exit_code == 1
    assert "FAIL" in result.output
    assert "aws configure" in result.output


def test_status_without_a_deployment_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["status"], catch_exceptions=False)
    assert result.exit_code == 9
    assert "No deployment is configured" in result.output
    assert "openclaw-deploy init" in result.output


def test_logs_rejects_a_bad_since(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(app, ["logs", "--since", "yesterday-ish"], catch_exceptions=False)
    assert result.exit_code == 2
    assert "--since 'yesterday-ish' is not a duration or a time" in result.output


@pytest.mark.slow
def test_wheel_carries_templates_container_and_web(tmp_path: Path) -> None:
    """What `pipx install` gets: the code and every asset `init` needs at run time."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(tmp_path),
            str(REPO),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = tmp_path.glob("openclaw_deploy-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "openclaw_deploy/cli/app.py" in names
    assert "openclaw_deploy/runtime/contract.py" in names
    assert "openclaw_deploy/_assets/web/index.html" in names
    assert "openclaw_deploy/_assets/container/Dockerfile" in names
    assert any(n.startswith("openclaw_deploy/_assets/templates/") for n in names)
    assert any(
        n.startswith("openclaw_deploy/_assets/container/bridge/openclaw_bridge/") for n in names
    )
    assert not any("__pycache__" in n or "node_modules" in n for n in names)
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert (
        "openclaw-deploy = openclaw_deploy.cli.app:main"
        in zipfile.ZipFile(wheel).read(entry).decode()
    )
