"""`openclaw-deploy schedule`: prompts the agent runs on a schedule, even while it sleeps."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console
from rich.markup import escape

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
    from openclaw_deploy.services.schedules import ScheduleChange, ScheduleList

HELP: Final = """Prompts your agent runs on a schedule, even while it sleeps.

Each firing wakes the agent, runs the prompt in a conversation of its own and sends the answer
to Telegram (the owner's chat) or to the web app (a conversation named after the schedule).
Schedules live in EventBridge Scheduler, one group per deployment, removed by `destroy`.

Phrases understood by `add`: "every day at 08:00", "every weekday at 8am", "every weekend at
10:00", "every monday and thursday at 7pm", "every month on the 1st at 09:00", "on the last day
of every month at 18:00", "every 30 minutes", "every 2 hours", "hourly", "tomorrow at 09:00",
"on 2026-12-24 at 18:00", "in 2 hours"; or a raw cron(...), rate(...) or at(...) expression.

Examples:

\b
  openclaw-deploy schedule add "every weekday at 08:00" --tz Europe/Berlin --say "The news"
  openclaw-deploy schedule add "cron(0 9 ? * MON *)" --say "Plan my week" --to web
  openclaw-deploy schedule add --at 2026-12-24T18:00 --say "Remind me to call Mum"
  openclaw-deploy schedule list
  openclaw-deploy schedule run s-1a2b3c4d
"""
ADD_HELP: Final = """Create a schedule (nothing is created when the input is refused).

WHEN is a phrase (see `openclaw-deploy schedule --help`) or a raw cron(...), rate(...) or
at(...) expression, read in --tz. A schedule that would keep the agent awake for hours a day
asks you to confirm its monthly cost (--yes confirms); one that keeps it awake all day is
refused.
"""
IdArgument = Annotated[str, typer.Argument(help="The schedule's id (from `schedule list`).")]

schedule_app = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None)


def _when(iso: str | None) -> str:
    if not iso:
        return "-"
    value = datetime.fromisoformat(iso)
    return f"{value:%a %Y-%m-%d %H:%M} {value.tzname() or ''}".strip()


def _render_list(console: Console, result: ScheduleList) -> None:
    if not result.schedules:
        console.print(f"No schedules in {result.deployment}.")
        return
    for item in result.schedules:
        mark = {"agent": " [cyan](the agent's)[/]", "warm": " [cyan](config set warm)[/]"}.get(
            item.kind, ""
        )
        paused = " [yellow]paused[/]" if item.state != "ENABLED" else ""
        console.print(
            f"[bold]{item.id}[/]{mark}{paused}  {escape(item.title)}  → {item.to}",
            highlight=False,
        )
        last = "never"
        if item.last_run:
            last = f"{_when(item.last_run)}: {item.outcome or '?'}"
            if item.detail:
                last += f" ({escape(item.detail)})"
        console.print(
            f"    {escape(item.expression)} in {item.timezone}; next: {_when(item.next_run)}; "
            f"last: {last}",
            highlight=False,
        )


def _render_change(console: Console, result: ScheduleChange) -> None:
    item = result.schedule
    console.print(
        f"{result.action.capitalize()} [bold]{item.id}[/]: {escape(item.title)} → {item.to}",
        highlight=False,
    )
    if result.action in ("created", "resumed"):
        console.print(
            f"  {escape(item.expression)} in {item.timezone}; next run {_when(item.next_run)}",
            highlight=False,
        )
    if result.cost is not None:
        console.print(
            f"  keeps the agent awake about {result.cost.awake_hours_per_month:g} h a month "
            f"(≈ ${result.cost.monthly_usd:.2f} on AWS)",
            highlight=False,
        )
    if result.note:
        console.print(f"  {result.note}", highlight=False)


@schedule_app.command("add", help=ADD_HELP)
def add(
    ctx: typer.Context,
    when: Annotated[
        str | None, typer.Argument(help="When, as a phrase or expression.", show_default=False)
    ] = None,
    say: Annotated[
        str, typer.Option("--say", help="The prompt the agent runs.", show_default=False)
    ] = "",
    to: Annotated[
        str, typer.Option("--to", metavar="[telegram|web]", help="Where the answer goes.")
    ] = "telegram",
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            envvar="OPENCLAW_DEPLOY_TZ",
            help="IANA time zone of WHEN (default: this machine's).",
            show_default=False,
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at", help="Once, at this date and time (2026-12-24T18:00).", show_default=False
        ),
    ] = None,
    title: Annotated[
        str | None,
        typer.Option("--title", help="A name for it (default: the prompt).", show_default=False),
    ] = None,
    name: NameOption = None,
    target: TargetOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.errors import UsageError
    from openclaw_deploy.services import schedules

    app = app_context(ctx, assume_yes=yes)
    deployment = resolve_deployment(app, name, target)
    request = schedules.Request(
        when=when,
        at=at,
        say=say,
        to=to,
        timezone=tz or schedules.default_timezone(),
        title=title,
    )
    checked = schedules.plan(deployment, request, now=app.clock())
    if checked.needs_confirmation and not yes:
        question = (
            f"{checked.description} keeps the agent awake about "
            f"{checked.cost.awake_hours_per_month:g} h a month (≈ ${checked.cost.monthly_usd:.2f} "
            "on AWS). Create it?"
        )
        if not app.prompter.confirm(question):
            raise UsageError("Nothing was created.", hint="fire less often, or pass --yes")
    result = schedules.add(app, deployment, checked)
    emit(app.console, result, as_json=as_json, render=_render_change)
    if not as_json:
        recommend(
            app.console,
            (f"openclaw-deploy schedule run {result.schedule.id}", "try it now"),
            ("openclaw-deploy schedule list", "every schedule, its next and last run"),
        )


@schedule_app.command("list", help="Every schedule: next run (in its time zone), last run.")
def list_(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import schedules

    app = app_context(ctx)
    result = schedules.list_all(app, resolve_deployment(app, name, target))
    emit(app.console, result, as_json=as_json, render=_render_list)


@schedule_app.command("pause", help="Stop a schedule from firing until it is resumed.")
def pause(
    ctx: typer.Context,
    schedule_id: IdArgument,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import schedules

    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    result = schedules.set_state(app, deployment, schedule_id, enabled=False)
    emit(app.console, result, as_json=as_json, render=_render_change)


@schedule_app.command("resume", help="Let a paused schedule fire again.")
def resume(
    ctx: typer.Context,
    schedule_id: IdArgument,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import schedules

    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    result = schedules.set_state(app, deployment, schedule_id, enabled=True)
    emit(app.console, result, as_json=as_json, render=_render_change)


@schedule_app.command("remove", help="Delete a schedule (asks first; --yes does not).")
def remove(
    ctx: typer.Context,
    schedule_id: IdArgument,
    name: NameOption = None,
    target: TargetOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.errors import UsageError
    from openclaw_deploy.services import schedules

    app = app_context(ctx, assume_yes=yes)
    deployment = resolve_deployment(app, name, target)
    if not yes:
        found = schedules.describe(app, deployment, schedule_id)
        if not app.prompter.confirm(f"Remove {found.id} ({found.title})?"):
            raise UsageError(
                "Nothing was removed.", hint=f"openclaw-deploy schedule pause {found.id}"
            )
    result = schedules.remove(app, deployment, schedule_id)
    emit(app.console, result, as_json=as_json, render=_render_change)


@schedule_app.command("run", help="Fire a schedule now (it keeps its own times).")
def run(
    ctx: typer.Context,
    schedule_id: IdArgument,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import schedules

    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    result = schedules.run_now(app, deployment, schedule_id)
    emit(app.console, result, as_json=as_json, render=_render_change)
    if not as_json:
        recommend(app.console, ("openclaw-deploy schedule list", "its last run and outcome"))


def register(app: typer.Typer) -> None:
    app.add_typer(schedule_app, name="schedule")
