"""`openclaw-deploy synth`: write the deployment's CloudFormation cloud assembly to a folder."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console

from openclaw_deploy.cli.common import JsonOption, NameOption, app_context
from openclaw_deploy.errors import UsageError
from openclaw_deploy.output import emit, recommend

if TYPE_CHECKING:
    from openclaw_deploy.services.synth import SynthResult

HELP: Final = """Write the deployment's cloud assembly (CloudFormation template and assets).

Makes no AWS call unless asked: the template is then environment-agnostic (CloudFormation picks
the account and availability zones at deploy time). With --lookup it reads your account and the
region's availability zones and writes exactly what deploy would deploy; --azs names the zones
yourself (with the account from the config file).

Examples:

\b
  openclaw-deploy synth --output cdk.out
  openclaw-deploy synth --lookup --json
"""
DEFAULT_OUTPUT: Final = Path("cdk.out")


def _render(console: Console, result: SynthResult) -> None:
    console.print(
        f"[bold green]Synthesized[/] {result.stack_name}: {result.resources} resources "
        f"in {result.seconds:.1f}s",
        highlight=False,
    )
    console.print(f"  environment   {result.environment}", highlight=False)
    if result.availability_zones:
        console.print(f"  zones         {', '.join(result.availability_zones)}", highlight=False)
    console.print(f"  assembly      {result.directory}", highlight=False)
    console.print(f"  template      {result.template_file}", highlight=False)
    for item in result.missing:
        console.print(f"  [yellow]missing[/]       {item} (deploy needs it)", highlight=False)


def synth(
    ctx: typer.Context,
    name: NameOption = None,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Folder for the cloud assembly.")
    ] = DEFAULT_OUTPUT,
    lookup: Annotated[
        bool,
        typer.Option("--lookup", help="Look up the account and availability zones (AWS calls)."),
    ] = False,
    azs: Annotated[
        str | None,
        typer.Option("--azs", help="Two availability zones, comma-separated (no lookup)."),
    ] = None,
    nag: Annotated[
        bool, typer.Option("--nag", help="Also run the cdk-nag AwsSolutions checks.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    app = app_context(ctx)
    deployment = app.config.resolve(name)
    zones: tuple[str, ...] = ()
    if azs is not None:
        zones = tuple(zone.strip() for zone in azs.split(",") if zone.strip())
        if len(zones) != 2:
            raise UsageError(
                f"--azs {azs!r}: give exactly two zones.", hint="--azs us-east-1a,us-east-1b"
            )
    if lookup and zones:
        raise UsageError("--lookup and --azs exclude each other.", hint="pass one of them")

    from openclaw_deploy.services.synth import lookup_availability_zones, run_synth, synth_spec

    account = deployment.account if zones else None
    if zones and account is None:
        raise UsageError(
            "--azs needs the account, and the config file does not name one.",
            hint="openclaw-deploy synth --lookup",
        )
    if lookup:
        from openclaw_deploy.aws.identity import caller_identity

        region = deployment.region
        account = caller_identity(app.client("sts", region), region).account
        zones = lookup_availability_zones(app.client("ec2", region), region)
    spec = synth_spec(deployment, account=account, availability_zones=zones)
    result = run_synth(spec, output, reporter=app.reporter(), nag=nag)
    emit(app.console, result, as_json=as_json, render=_render)
    if not as_json:
        recommend(app.console, ("openclaw-deploy deploy", "deploy it (synthesizes again)"))


def register(app: typer.Typer) -> None:
    app.command("synth", help=HELP)(synth)
