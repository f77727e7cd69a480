"""`upgrade`: which OpenClaw releases it accepts, how the version reaches the image (the staged
Dockerfile, hence the image tag), and that the config file records it only after a deploy
succeeded. Whole deploys are tests/infra's business; here the deploy is the caller's callable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app
from openclaw_deploy.config import ConfigFile, Deployment, load_config
from openclaw_deploy.errors import DeployFailedError, ToolchainError, UsageError
from openclaw_deploy.infra.staging import DOCKERFILE, pin_openclaw, stage_sources
from openclaw_deploy.services.upgrade import CONTRACT_TESTED, execute_upgrade, plan_upgrade
from openclaw_deploy.toolchain import OPENCLAW_VERSION

NAME = "upbot"
UNTESTED = "2099.1.1"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ConfigFile:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    for key in ("AWS_ENDPOINT_URL", "AWS_PROFILE"):
        monkeypatch.delenv(key, raising=False)
    config = ConfigFile(path=tmp_path / "openclaw-deploy.yaml")
    config.upsert(Deployment(name=NAME, region="us-east-1", account="123456789012"))
    config.save()
    return config


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["upgrade", *args], catch_exceptions=False)


def flat(text: str) -> str:
    return " ".join(text.split())


def test_the_pinned_release_is_one_the_contract_tests_ran_against() -> None:
    assert OPENCLAW_VERSION in CONTRACT_TESTED


def test_an_untested_release_is_refused_unless_forced(config: ConfigFile) -> None:
    result = run("--openclaw", UNTESTED, "--yes")
    assert result.exit_code == 2
    text = flat(result.output)
    assert f"OpenClaw {UNTESTED} has not been through our contract tests" in text
    assert "add --force" in text
    assert load_config(config.path).deployments[NAME].openclaw_version is None
    plan = plan_upgrade(config.deployments[NAME], UNTESTED, force=True)
    assert (plan.version, plan.tested, plan.changes) == (UNTESTED, False, True)


@pytest.mark.parametrize("version", ["latest", "2026.9", "v2026.9.6", "2026.9.6; rm -rf /"])
def test_a_malformed_version_is_refused(config: ConfigFile, version: str) -> None:
    result = run("--openclaw", version, "--force")
    assert result.exit_code == 2
    assert "is not an OpenClaw version" in flat(result.output)


def test_the_local_target_is_refused_with_the_way_to_upgrade_it(config: ConfigFile) -> None:
    config.upsert(Deployment(name="here", target="local"))
    config.save()
    result = run("--name", "here")
    assert result.exit_code == 2
    assert "pipx upgrade openclaw-deploy" in flat(result.output)


def test_nothing_happens_when_the_release_is_already_running(config: ConfigFile) -> None:
    result = run("--yes")  # no AWS credentials here: nothing may be called
    assert result.exit_code == 0, result.output
    assert f"already runs OpenClaw {OPENCLAW_VERSION}; nothing to do" in result.output
    again = CliRunner().invoke(
        app, ["upgrade", "--openclaw", OPENCLAW_VERSION, "--json"], catch_exceptions=False
    )
    assert json.loads(again.stdout)["deploy"] is None


def test_the_new_release_is_deployed_then_recorded(config: ConfigFile) -> None:
    deployment = config.deployments[NAME]
    deployed: list[Deployment] = []

    def deploy(target: Deployment) -> Any:
        deployed.append(target)
        return "deployed"

    plan = plan_upgrade(deployment, UNTESTED, force=True)
    result = execute_upgrade(plan, deployment, config=config, deploy=deploy)
    assert [d.openclaw_version for d in deployed] == [UNTESTED]
    assert (result.previous, result.version, result.deploy) == (
        OPENCLAW_VERSION,
        UNTESTED,
        "deployed",
    )
    assert load_config(config.path).deployments[NAME].openclaw_version == UNTESTED

    # Back to this openclaw-deploy's own pin: the override goes, so later releases move it.
    moved = load_config(config.path)
    back = plan_upgrade(moved.deployments[NAME], None, force=False)
    assert (back.current, back.version, back.follows_pin) == (UNTESTED, OPENCLAW_VERSION, True)
    execute_upgrade(back, moved.deployments[NAME], config=moved, deploy=deploy)
    assert deployed[-1].openclaw_version is None
    assert "openclaw_version" not in config.path.read_text()


def test_a_failed_deploy_leaves_the_old_release_recorded(config: ConfigFile) -> None:
    deployment = config.deployments[NAME]

    def fail(_: Deployment) -> Any:
        raise DeployFailedError("Deploying openclaw-upbot failed (UPDATE_ROLLBACK_COMPLETE).")

    plan = plan_upgrade(deployment, UNTESTED, force=True)
    with pytest.raises(DeployFailedError):
        execute_upgrade(plan, deployment, config=config, deploy=fail)
    assert load_config(config.path).deployments[NAME].openclaw_version is None


def test_a_bad_version_in_the_config_file_is_a_config_error(config: ConfigFile) -> None:
    text = config.path.read_text().replace("region:", "openclaw_version: newest\n    region:")
    config.path.write_text(text)
    result = CliRunner().invoke(app, ["status"], catch_exceptions=False)
    assert result.exit_code == 3
    assert "openclaw_version: expected an OpenClaw version" in flat(result.output)


def test_the_staged_dockerfile_installs_the_chosen_release(tmp_path: Path) -> None:
    source = Path(__file__).resolve().parents[2] / DOCKERFILE
    default = stage_sources(tmp_path / "default").image_context / DOCKERFILE
    assert default.read_text() == source.read_text()
    pinned = stage_sources(tmp_path / "pinned", openclaw_version=UNTESTED).image_context
    text = (pinned / DOCKERFILE).read_text()
    assert f"ARG OPENCLAW_VERSION={UNTESTED}\n" in text
    assert f"ARG OPENCLAW_VERSION={OPENCLAW_VERSION}" not in text
    broken = tmp_path / "Dockerfile"
    broken.write_text("FROM node:24\n")
    with pytest.raises(ToolchainError, match="no ARG OPENCLAW_VERSION line"):
        pin_openclaw(broken, UNTESTED)


def test_plan_refuses_before_anything_else(config: ConfigFile) -> None:
    with pytest.raises(UsageError, match="contract tests"):
        plan_upgrade(config.deployments[NAME], UNTESTED, force=False)


def test_another_release_changes_the_image_tag_and_what_codebuild_builds(tmp_path: Path) -> None:
    """Through the real synthesis: the image tag names the build context, and the context that
    CodeBuild receives (the staged asset) installs the chosen release."""
    from dataclasses import replace

    from openclaw_deploy.infra import spec as names
    from openclaw_deploy.infra.spec import InfraSpec
    from openclaw_deploy.output import RecordingReporter
    from openclaw_deploy.services.synth import run_synth

    base = InfraSpec(name=NAME, region="us-east-1")
    tags = {}
    for version in (OPENCLAW_VERSION, UNTESTED):
        result = run_synth(
            replace(base, openclaw_version=version),
            tmp_path / version,
            reporter=RecordingReporter(),
        )
        template = json.loads(result.template_file.read_text())
        tags[version] = template["Outputs"][names.OUTPUT_IMAGE_TAG]["Value"]
        dockerfiles = [
            path.read_text()
            for path in result.directory.glob(f"asset.*/{DOCKERFILE}")
            if path.is_file()
        ]
        assert dockerfiles and all(f"ARG OPENCLAW_VERSION={version}\n" in d for d in dockerfiles)
    assert tags[OPENCLAW_VERSION] != tags[UNTESTED]
