"""`upgrade`: move a deployment to another OpenClaw release — rebuild the image, redeploy.

A deployment runs the OpenClaw this openclaw-deploy pins (`toolchain.OPENCLAW_VERSION`) unless
its config entry names another (`openclaw_version`). The bridge talks to OpenClaw's gateway, so
only releases our contract tests (tests/bridge, against a real OpenClaw) have passed on are
accepted without `--force`. The version reaches the image through the staged Dockerfile
(`infra.staging.pin_openclaw`): the build context changes, so does the image tag, so the deploy
rebuilds the image in CodeBuild and registers a task definition that runs it. The running agent
keeps its image until it next sleeps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from openclaw_deploy.config import OPENCLAW_VERSION_PATTERN, ConfigFile, Deployment, with_changes
from openclaw_deploy.errors import UsageError
from openclaw_deploy.toolchain import OPENCLAW_VERSION

if TYPE_CHECKING:
    from openclaw_deploy.services.deploy import DeployResult

CONTRACT_TESTED: Final[tuple[str, ...]] = ("2026.9.6",)
"""OpenClaw releases the bridge's contract tests have passed on. A release of openclaw-deploy
adds one here after running `pytest tests/bridge -m ''` with it pinned."""


@dataclass(frozen=True, kw_only=True)
class UpgradePlan:
    name: str
    current: str
    version: str
    tested: bool
    follows_pin: bool
    """The new version is this openclaw-deploy's own pin: the config entry drops its override,
    so later releases of openclaw-deploy move the agent along with the bridge."""

    @property
    def changes(self) -> bool:
        return self.current != self.version


@dataclass(frozen=True, kw_only=True)
class UpgradeResult:
    name: str
    previous: str
    version: str
    tested: bool
    deploy: DeployResult | None
    """None when there was nothing to change."""


def current_version(deployment: Deployment) -> str:
    return deployment.openclaw_version or OPENCLAW_VERSION


def plan_upgrade(deployment: Deployment, version: str | None, *, force: bool) -> UpgradePlan:
    """Check the request; raises UsageError for a malformed or untested version (unless forced)
    and for the local target."""
    if version is not None and not OPENCLAW_VERSION_PATTERN.match(version):
        raise UsageError(
            f"--openclaw {version!r} is not an OpenClaw version.",
            hint=f"pass a release such as --openclaw {OPENCLAW_VERSION}",
        )
    if deployment.target == "local":
        raise UsageError(
            f"{deployment.name!r} runs on this machine, which always runs the OpenClaw this "
            f"openclaw-deploy pins ({OPENCLAW_VERSION}).",
            hint="upgrade openclaw-deploy itself (pipx upgrade openclaw-deploy), then "
            "openclaw-deploy init --target local",
        )
    target = version or OPENCLAW_VERSION
    tested = target in CONTRACT_TESTED
    if not tested and not force:
        raise UsageError(
            f"OpenClaw {target} has not been through our contract tests (tested: "
            f"{', '.join(CONTRACT_TESTED)}); the bridge may not work with it.",
            hint=f"openclaw-deploy upgrade --openclaw {CONTRACT_TESTED[-1]}, or add --force "
            "to run an untested release at your own risk",
        )
    return UpgradePlan(
        name=deployment.name,
        current=current_version(deployment),
        version=target,
        tested=tested,
        follows_pin=target == OPENCLAW_VERSION,
    )


def upgraded(deployment: Deployment, plan: UpgradePlan) -> Deployment:
    return with_changes(deployment, openclaw_version=None if plan.follows_pin else plan.version)


def execute_upgrade(
    plan: UpgradePlan,
    deployment: Deployment,
    *,
    config: ConfigFile,
    deploy: Callable[[Deployment], DeployResult],
) -> UpgradeResult:
    """Deploy the deployment with the new version; record it in the config file only once the
    deploy succeeded (a failed one leaves the old version in place and in the file). Nothing is
    deployed when the deployment already runs that version."""
    target = upgraded(deployment, plan)
    result = deploy(target) if plan.changes else None
    # The deploy may have saved the entry (account, bot): start from what is there now.
    latest = config.deployments.get(deployment.name, deployment)
    config.upsert(
        with_changes(latest, openclaw_version=target.openclaw_version), make_default=False
    )
    config.save()
    return UpgradeResult(
        name=plan.name,
        previous=plan.current,
        version=plan.version,
        tested=plan.tested,
        deploy=result,
    )
