"""`openclaw-deploy cost`: the itemized monthly estimate from the deployment's own settings, with
its assumptions, beside what this month actually used."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console
from rich.markup import escape

from openclaw_deploy.cli.common import (
    JsonOption,
    NameOption,
    TargetOption,
    app_context,
    resolve_deployment,
)
from openclaw_deploy.cli.deploy import cost_table, prices_note
from openclaw_deploy.cli.status import hours_text
from openclaw_deploy.errors import UsageError
from openclaw_deploy.output import emit, recommend

if TYPE_CHECKING:
    from openclaw_deploy.config import Deployment
    from openclaw_deploy.context import AppContext
    from openclaw_deploy.services.cost import CostReport

HELP: Final = """Estimate the monthly cost item by item, beside what this month has used.

The estimate prices the deployment's own settings (agent size and capacity from its task
definition when deployed; public IPv4, APIs, queue, logs, storage), with every assumption shown
beside the figure. This month's use is the task time recorded as each agent task ends.

Examples:

\b
  openclaw-deploy cost
  openclaw-deploy cost --hours-per-day 6 --json
"""
MAX_HOURS_PER_DAY: Final = 24.0
LOCAL_FREE: Final = "On this machine it costs nothing (only your LLM provider bills you)."


def _render(console: Console, report: CostReport) -> None:
    cost = report.estimate
    settings = report.settings
    capacity = "Fargate Spot" if settings.spot else "on-demand Fargate"
    console.print(
        f"[bold]{report.deployment}[/] ({report.target}): {settings.cpu / 1024:g} vCPU / "
        f"{settings.memory / 1024:g} GB ARM64 on {capacity} (from the {settings.source})",
        highlight=False,
    )
    low, high = cost.total_range_usd
    band = f" (${low:.2f}-${high:.2f} as Spot prices move)" if low != high else ""
    if report.target == "local":
        console.print(
            f"\n[bold green]{LOCAL_FREE}[/] What follows is what it would cost on AWS.",
            highlight=False,
        )
    console.print(f"\n[bold]Estimated: ${cost.total_usd:.2f}/month[/]{band}", highlight=False)
    rows = [(item.monthly_usd, item.item, item.basis) for item in cost.items]
    rows += [
        (item.monthly_usd, item.item, f"once per image change: {item.basis}")
        for item in cost.one_time
    ]
    console.print(cost_table(rows), soft_wrap=False)
    assumed = cost.assumptions
    console.print(
        f"\n[bold]Assumptions:[/] the agent awake {assumed['agent_hours_per_day']:g} h a day for "
        f"{assumed['days']} days, {assumed['messages_per_day']} messages a day; "
        f"{prices_note(cost, report.region)}; always-free tiers applied, "
        "new-account free tiers not.",
        highlight=False,
    )
    if report.used:
        used = report.used
        running = (
            f" ({hours_text(used.running_hours)} of it running now)" if used.running_hours else ""
        )
        console.print(
            f"\n[bold]Used in {used.month}:[/] {hours_text(used.task_hours)} of agent time in "
            f"{used.tasks} task(s){running}, about ${used.estimated_usd:.2f} at "
            f"${used.hour_usd:.4f}/h (compute and public IPv4); at this pace "
            f"{used.projected_hours:.0f} h, ${used.projected_usd:.2f} for the month.",
            highlight=False,
        )
    for note in report.notes:
        console.print(f"  [yellow]![/] {escape(note)}", highlight=False)


def cost(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    hours_per_day: Annotated[
        float | None,
        typer.Option(
            "--hours-per-day",
            help="Hours a day the agent is awake, for the estimate (default: 2).",
            show_default=False,
        ),
    ] = None,
    with_schedules: Annotated[
        bool,
        typer.Option(
            "--schedules", help="Also count the task hours the deployment's schedules add."
        ),
    ] = False,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services.cost import cost_report

    if hours_per_day is not None and not 0 < hours_per_day <= MAX_HOURS_PER_DAY:
        raise UsageError(
            f"--hours-per-day {hours_per_day:g} is not between 0 and 24.",
            hint="pass a number of hours such as --hours-per-day 2",
        )
    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    report = cost_report(app, deployment, hours_per_day=hours_per_day)
    if with_schedules:
        _emit_with_schedules(app, deployment, report, as_json=as_json)
    else:
        emit(app.console, report, as_json=as_json, render=_render)
    if not as_json:
        recommend(
            app.console,
            ("openclaw-deploy cost --hours-per-day 6", "price a busier month"),
            ("openclaw-deploy status", "the agent now, and this month's hours"),
        )


def _emit_with_schedules(
    app: AppContext, deployment: Deployment, report: CostReport, *, as_json: bool
) -> None:
    """The estimate, and what the schedules add to it (each firing wakes the agent)."""
    import json
    import sys

    from openclaw_deploy.output import to_jsonable
    from openclaw_deploy.services.schedules import schedule_hours

    added = schedule_hours(app, deployment)
    if as_json:
        payload = {**to_jsonable(report), "schedules": to_jsonable(added)}
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    _render(app.console, report)
    app.console.print(
        f"\n[bold]Schedules:[/] {added.schedules} active add about "
        f"{added.awake_hours_per_month:g} task hours a month, ${added.monthly_usd:.2f} at "
        f"${added.hour_usd:.4f}/h (each firing keeps the agent awake for its start and the "
        f"{added.idle_timeout_minutes}-minute idle timeout; overlaps count once).",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("cost", help=HELP)(cost)
