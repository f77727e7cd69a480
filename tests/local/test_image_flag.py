"""`--image` is the local target's choice; on AWS the agent always runs from its image."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    return tmp_path


def test_init_refuses_image_for_aws_before_asking_anything(aws_env: str, workdir: Path) -> None:
    result = CliRunner().invoke(
        app, ["init", "--name", "mybot", "--target", "aws", "--image", "--yes", "--no-deploy"]
    )
    assert result.exit_code == 2, result.output
    assert "--image is for the local target" in " ".join(result.output.split())
    assert "Traceback" not in result.output
    assert not (workdir / "openclaw-deploy.yaml").exists()


def test_the_image_flag_is_documented_on_init_and_deploy() -> None:
    for command in ("init", "deploy"):
        result = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "200"})
        text = " ".join(result.output.split())
        assert "--image" in text and "--no-image" in text, command
        assert "container/Dockerfile" in text
