"""`openclaw-deploy upgrade`: move the OpenClaw release, rebuild the image, redeploy."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console

from openclaw_deploy.cli.common import (
    JsonOption,
    NameOption,
    TargetOption,
    YesOption,
    app_context,
    resolve_deployment,
)
from openclaw_deploy.output import emit, recommend

if TYPE_CHECKING:
    from openclaw_deploy.services.upgrade import UpgradeResult

HELP: Final = """Move the agent to another OpenClaw release: rebuild its image, redeploy.

The image is rebuilt with that release (in AWS CodeBuild) and the stack redeployed, showing the
plan and asking first. Without --openclaw it moves to the release this openclaw-deploy pins.
Releases our contract tests have not run against are refused unless you pass --force. The
running agent switches when it next sleeps (or run openclaw-deploy stop).

Examples:

\b
  openclaw-deploy upgrade
  openclaw-deploy upgrade --openclaw 2026.9.6 --yes
"""


def _render(console: Console, result: UpgradeResult) -> None:
    if result.deploy is None:
        console.print(f"{result.name!r} already runs OpenClaw {result.version}; nothing to do.")
        return
    from openclaw_deploy.cli.deploy import render_result

    render_result(console, result.deploy)
    tested = "" if result.tested else " [yellow](not contract-tested)[/]"
    console.print(f"  openclaw   {result.previous} → {result.version}{tested}", highlight=False)


def upgrade(
    ctx: typer.Context,
    name: NameOption = None,
    openclaw: Annotated[
        str | None,
        typer.Option(
            "--openclaw",
            metavar="VERSION",
            help="The OpenClaw release to run (default: the one this openclaw-deploy pins).",
        ),
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Accept a release our contract tests have not run against."),
    ] = False,
    local_docker: Annotated[
        bool,
        typer.Option(
            "--local-docker", help="Build the agent image with your local Docker, not CodeBuild."
        ),
    ] = False,
    target: TargetOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.cli.deploy import deploy_flow
    from openclaw_deploy.services.upgrade import execute_upgrade, plan_upgrade

    app = app_context(ctx, assume_yes=yes)
    deployment = resolve_deployment(app, name, target)
    plan = plan_upgrade(deployment, openclaw, force=force)
    if plan.changes:
        warning = "" if plan.tested else " — not contract-tested, forced"
        app.err_console.print(
            f"[bold]OpenClaw {plan.current} → {plan.version}[/]{warning}: the image is rebuilt "
            "and the stack redeployed.",
            highlight=False,
        )
    result = execute_upgrade(
        plan,
        deployment,
        config=app.config,
        deploy=lambda upgraded: deploy_flow(
            app, upgraded, yes=yes, as_json=as_json, local_docker=local_docker
        ),
    )
    emit(app.console, result, as_json=as_json, render=_render)
    if not as_json and result.deploy is not None:
        recommend(
            app.console,
            ("openclaw-deploy stop", "switch the running agent now (it wakes on the next message)"),
            ("openclaw-deploy logs --component agent --since 10m", "watch its next start"),
        )


def register(app: typer.Typer) -> None:
    app.command("upgrade", help=HELP)(upgrade)
