"""Synthesizing a deployment's cloud assembly, for `synth` and as the first step of `deploy`.

Without a lookup it makes no AWS call: the assembly is environment-agnostic (CloudFormation
resolves account and availability zones at deploy time). With a lookup — what `deploy` does —
it names the account and passes the region's real availability zones to the CDK, which would
otherwise write placeholders.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from openclaw_deploy import toolchain
from openclaw_deploy.aws.errors import translate_boto_errors
from openclaw_deploy.config import Deployment
from openclaw_deploy.errors import AwsError
from openclaw_deploy.infra.spec import InfraSpec
from openclaw_deploy.output import Reporter

AZ_COUNT: Final = 2
FARGATE_UNSUPPORTED_ZONE_IDS: Final = frozenset({"use1-az3"})
"""Zones where Fargate does not run (us-east-1's oldest zone)."""


@dataclass(frozen=True, kw_only=True)
class SynthResult:
    name: str
    stack_name: str
    directory: Path
    template_file: Path
    environment: str
    availability_zones: list[str]
    resources: int
    seconds: float
    missing: list[str]


def default_assembly_dir(name: str) -> Path:
    """Where deploy keeps a deployment's assembly (in the tool's cache)."""
    return toolchain.cache_dir() / "assemblies" / name


def lookup_availability_zones(ec2: Any, region: str) -> tuple[str, ...]:
    """The first two zones of the region that need no opt-in and run Fargate."""
    with translate_boto_errors(f"list the availability zones of {region}"):
        zones = ec2.describe_availability_zones(
            Filters=[
                {"Name": "state", "Values": ["available"]},
                {"Name": "zone-type", "Values": ["availability-zone"]},
            ]
        )["AvailabilityZones"]
    usable = sorted(
        str(zone["ZoneName"])
        for zone in zones
        if zone.get("OptInStatus", "opt-in-not-required") == "opt-in-not-required"
        and zone.get("ZoneId") not in FARGATE_UNSUPPORTED_ZONE_IDS
    )
    if len(usable) < AZ_COUNT:
        raise AwsError(
            f"{region} offers {len(usable)} usable availability zone(s); {AZ_COUNT} are needed.",
            hint="choose another region with openclaw-deploy init --region REGION",
        )
    return tuple(usable[:AZ_COUNT])


def synth_spec(
    deployment: Deployment, *, account: str | None, availability_zones: tuple[str, ...] = ()
) -> InfraSpec:
    return InfraSpec.from_deployment(
        deployment, account=account, availability_zones=availability_zones
    )


def run_synth(
    spec: InfraSpec, output: Path, *, reporter: Reporter, nag: bool = False
) -> SynthResult:
    from openclaw_deploy.infra.app import synthesize

    with reporter.task(f"Synthesizing the CloudFormation template of {spec.name!r}"):
        assembly = synthesize(spec, output, nag=nag)
    template = assembly.template()
    resources = template.get("Resources")
    environment = (
        f"aws://{spec.account}/{spec.region}" if spec.account else f"aws://unknown/{spec.region}"
    )
    return SynthResult(
        name=spec.name,
        stack_name=assembly.stack_name,
        directory=assembly.directory,
        template_file=assembly.template_file,
        environment=environment,
        availability_zones=list(spec.availability_zones),
        resources=len(resources) if isinstance(resources, dict) else 0,
        seconds=round(assembly.seconds, 2),
        missing=list(assembly.missing),
    )
