"""`doctor`: is this machine ready to deploy? One PASS/FAIL per check, each with its fix."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from openclaw_deploy import toolchain
from openclaw_deploy.errors import DeployError


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str | None = None


@dataclass(frozen=True)
class DoctorReport:
    checks: list[Check]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


def _python() -> Check:
    version = ".".join(map(str, sys.version_info[:3]))
    # The package requires 3.11, so reaching this line means the interpreter is fine.
    return Check("python", True, f"Python {version} ({sys.executable})")


def _node() -> Check:
    try:
        version = toolchain.node_version()
    except DeployError as error:
        return Check("node", False, error.message, error.hint)
    if int(version.split(".")[0]) != toolchain.NODE_MAJOR:
        return Check(
            "node",
            False,
            f"Node {version}; Node {toolchain.NODE_MAJOR} is needed",
            f"unset {toolchain.ENV_NODE}, or point it at a Node {toolchain.NODE_MAJOR} binary",
        )
    return Check("node", True, f"Node {version} ({toolchain.node_path()})")


def _credentials(
    sts: Callable[[], Any], region: str | None, *, defaulted: bool = False
) -> list[Check]:
    from openclaw_deploy.aws.identity import caller_identity

    checks = []
    if region:
        note = " (none is set: the default init uses; --region or AWS_REGION to change)"
        checks.append(Check("region", True, region + (note if defaulted else "")))
    else:
        checks.append(
            Check(
                "region",
                False,
                "no AWS region is set",
                "aws configure set region us-east-1, or set AWS_REGION",
            )
        )
        return checks
    try:
        identity = caller_identity(sts(), region)
    except DeployError as error:
        checks.append(Check("aws-credentials", False, error.message, error.hint))
    else:
        checks.append(
            Check("aws-credentials", True, f"account {identity.account} as {identity.arn}")
        )
    return checks


def _bootstrap(ssm: Callable[[], Any], region: str) -> Check:
    """The CDK's one-time setup of the account and region (the CDKToolkit stack)."""
    from openclaw_deploy.services.deploy import MIN_BOOTSTRAP_VERSION, bootstrap_version_of

    try:
        version = bootstrap_version_of(ssm())
    except DeployError as error:
        return Check("cdk-bootstrap", False, error.message, error.hint)
    if version is None:
        return Check(
            "cdk-bootstrap",
            False,
            f"{region} is not bootstrapped for the CDK yet",
            "openclaw-deploy deploy (it explains and offers the one-time bootstrap)",
        )
    if version < MIN_BOOTSTRAP_VERSION:
        return Check(
            "cdk-bootstrap",
            False,
            f"bootstrap version {version} is older than {MIN_BOOTSTRAP_VERSION}",
            "openclaw-deploy deploy (it offers to update the bootstrap)",
        )
    return Check("cdk-bootstrap", True, f"version {version} in {region}")


def run_doctor(
    *,
    sts: Callable[[], Any],
    ssm: Callable[[], Any],
    region: str | None,
    region_defaulted: bool = False,
) -> DoctorReport:
    checks = [_python(), _node(), *_credentials(sts, region, defaulted=region_defaulted)]
    if region and all(check.ok for check in checks):
        checks.append(_bootstrap(ssm, region))
    return DoctorReport(checks)
