"""`openclaw-deploy status`: the deployment, its URLs, the agent, its memory and Telegram."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

import typer
from rich.console import Console

from openclaw_deploy.cli.common import (
    JsonOption,
    NameOption,
    TargetOption,
    app_context,
    resolve_deployment,
)
from openclaw_deploy.errors import UsageError
from openclaw_deploy.output import emit, recommend

if TYPE_CHECKING:
    from openclaw_deploy.services.status import StatusReport

HELP: Final = """Show a deployment: where it runs, its URLs, the agent's state and last start, its
memory (last backup), and Telegram. Fast: it reads state, it does not synthesize anything.

Examples:

  openclaw-deploy status

  openclaw-deploy status --target local --json
"""


def _ago(epoch: float | None) -> str:
    if not epoch:
        return "-"
    seconds = max(0, time.time() - epoch)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f}{unit} ago"
    return f"{seconds:.0f}s ago"


def _render(console: Console, report: StatusReport) -> None:
    state = "[green]running[/]" if report.running else "[yellow]not running[/]"
    console.print(
        f"[bold]{report.deployment}[/] on {report.target} ({report.region}): {state}",
        highlight=False,
    )
    if report.stack_status:
        console.print(f"  stack         {report.stack_status}", highlight=False)
    for key, url in report.urls.items():
        console.print(f"  {key:<13} {url or '-'}", highlight=False)
    if report.agent:
        agent = report.agent
        phase = f" ({agent.phase})" if agent.phase else ""
        console.print(
            f"  agent         {agent.state}{phase} since {_ago(agent.since)}", highlight=False
        )
        if agent.timings:
            timings = ", ".join(f"{k} {v:.1f}s" for k, v in agent.timings.items())
            console.print(f"  last start    {timings}", highlight=False)
        if agent.last_stop_reason:
            console.print(f"  last stop     {agent.last_stop_reason}", highlight=False)
    if report.memory:
        memory = report.memory
        size = f"{memory.size_bytes / 1024:.0f} KiB" if memory.size_bytes else "-"
        console.print(
            f"  memory        last backup {_ago(memory.last_backup_at)}, {size}, "
            f"{memory.versions} version(s) kept",
            highlight=False,
        )
    telegram = report.telegram
    bot = f"@{telegram.bot}" if telegram.bot else ("configured" if telegram.configured else "off")
    console.print(f"  telegram      {bot}", highlight=False)
    for note in report.notes:
        console.print(f"  [yellow]![/] {note}", highlight=False)


def status(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    if deployment.target != "local":
        raise UsageError(
            "status for AWS deployments arrives with the infrastructure release.",
            hint="openclaw-deploy status --target local",
        )
    from openclaw_deploy.services.status import local_status

    report = local_status(app, deployment)
    emit(app.console, report, as_json=as_json, render=_render)
    if not as_json and not report.running:
        recommend(app.console, ("openclaw-deploy init --target local", "start it again"))


def register(app: typer.Typer) -> None:
    app.command("status", help=HELP)(status)
