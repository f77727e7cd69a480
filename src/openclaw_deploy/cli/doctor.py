"""`openclaw-deploy doctor`: check this machine and the AWS credentials, with fixes."""

from __future__ import annotations

from typing import Final

import typer
from rich.console import Console

from openclaw_deploy.cli.common import JsonOption, NameOption, app_context
from openclaw_deploy.output import emit
from openclaw_deploy.services.doctor import DoctorReport

HELP: Final = """Check that this machine can deploy: Python, Node 24, AWS credentials and region,
and the CDK bootstrap of that region.

Each check prints PASS or FAIL with the command that fixes it; the exit code is 1 when any fails.

Example:

\b
  openclaw-deploy doctor --json
"""


def _render(console: Console, report: DoctorReport) -> None:
    for check in report.checks:
        mark = "[green]PASS[/]" if check.ok else "[red]FAIL[/]"
        console.print(f"{mark}  {check.name:<16} {check.detail}", highlight=False)
        if check.fix and not check.ok:
            console.print(f"      fix: {check.fix}", highlight=False)


def doctor(ctx: typer.Context, name: NameOption = None, as_json: JsonOption = False) -> None:
    from openclaw_deploy.services.doctor import run_doctor

    app = app_context(ctx)
    region = None
    if name or app.config.deployments:
        region = app.config.resolve(name).region
    if region is None:
        region = app.session().region_name
    defaulted = region is None
    if region is None:  # as init does: a newcomer with no region set still gets us-east-1
        from openclaw_deploy.cli.init import DEFAULT_REGION

        region = DEFAULT_REGION
    report = run_doctor(
        sts=lambda: app.client("sts", region),
        ssm=lambda: app.client("ssm", region),
        region=region,
        region_defaulted=defaulted,
    )
    emit(app.console, report, as_json=as_json, render=_render)
    if not report.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("doctor", help=HELP)(doctor)
