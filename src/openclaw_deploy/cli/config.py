"""`openclaw-deploy config show|set`: the deployment's settings, key by key."""

from __future__ import annotations

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
from openclaw_deploy.errors import UsageError
from openclaw_deploy.output import emit, recommend
from openclaw_deploy.runtime.warm import WAKE_LEAD_MINUTES

if TYPE_CHECKING:
    from openclaw_deploy.services.config import ConfigPlan, ConfigResult, ConfigView, WarmCost

HELP: Final = """Show or change the deployment's settings.

Keys: browser (on/off: OpenClaw's browser tool; on raises the task's memory to fit Chromium),
idle-timeout (minutes), warm (HH:MM-HH:MM in --tz, or off: a daily window when the agent is
kept awake, so it answers at once), cpu and memory (the task's size). A change that alters the
monthly cost shows it before and after and asks first (--yes confirms); a new size applies with
`openclaw-deploy deploy`. The web settings page changes the same browser and idle-timeout.

Examples:

\b
  openclaw-deploy config show
  openclaw-deploy config show --json
  openclaw-deploy config set browser on
  openclaw-deploy config set browser off --yes
  openclaw-deploy config set idle-timeout 30
  openclaw-deploy config set warm 08:00-09:00 --tz Europe/Berlin
  openclaw-deploy config set warm off
"""
CONFIRM: Final = "Change {key} to {value} for {deployment}?"
CANCELLED: Final = "Nothing changed."

config_app = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None)


def _money(value: float) -> str:
    return f"${value:.2f}"


def _render_view(console: Console, view: ConfigView) -> None:
    console.print(f"[bold]{view.deployment}[/]", highlight=False)
    width = max(len(v.key) for v in view.values)
    for value in view.values:
        console.print(
            f"  {value.key:<{width}}  [bold]{escape(value.value):<6}[/] "
            f"[dim]{escape(value.help)} ({value.where})[/]",
            highlight=False,
        )


def _render_plan(console: Console, plan: ConfigPlan) -> None:
    console.print(f"{plan.key}: {plan.old} → {plan.new}", highlight=False)
    if plan.agent is not None and plan.old_agent is not None:
        console.print(
            f"  task size: {plan.old_agent.cpu} CPU units, {plan.old_agent.memory} MiB → "
            f"{plan.agent.cpu} CPU units, {plan.agent.memory} MiB",
            highlight=False,
        )
    if plan.monthly_usd is not None:
        before, after = plan.monthly_usd
        console.print(
            f"  cost: {_money(before)} → {_money(after)} a month "
            f"({'+' if after >= before else '-'}{_money(abs(after - before))}; "
            + (
                "the warm window is on top of `openclaw-deploy cost`)"
                if plan.warm is not None
                else "`openclaw-deploy cost` itemizes it)"
            ),
            highlight=False,
        )
    if plan.warm is not None and plan.warm.cost is not None:
        console.print(f"  {_warm_cost(plan.warm.cost)}", highlight=False)


def _again(key: str, value: str, timezone: str | None) -> str:
    return f"openclaw-deploy config set {key} {value}" + (f" --tz {timezone}" if timezone else "")


def _warm_cost(cost: WarmCost) -> str:
    return (
        f"the window and the wake-up {WAKE_LEAD_MINUTES} min before it: "
        f"{cost.hours_per_day:.2f} h a day × {cost.days_per_month:g} days × "
        f"${cost.hour_usd:.4f} an hour of the task = {_money(cost.monthly_usd)} a month at most "
        "(less when the agent is awake then anyway)"
    )


def _render_result(console: Console, result: ConfigResult) -> None:
    if not result.changed:
        console.print(f"{result.key} is already {result.value}.", highlight=False)
    else:
        console.print(f"[green]✓[/] {result.key} is {result.value}", highlight=False)
    if result.warm_cost is not None:
        console.print(f"  {_warm_cost(result.warm_cost)}", highlight=False)
    if result.schedule is not None:
        console.print(f"  daily wake-up: schedule warm, {result.schedule}", highlight=False)
    for note in result.notes:
        console.print(f"  {escape(note)}", highlight=False)
    if result.next_step:
        console.print(f"  The new task size applies with `{result.next_step}`.", highlight=False)


@config_app.command("show", help="Every setting with its value and where it is kept.")
def show(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import config

    app = app_context(ctx)
    view = config.show(app, resolve_deployment(app, name, target))
    emit(app.console, view, as_json=as_json, render=_render_view)
    if not as_json:
        recommend(app.console, ("openclaw-deploy config set KEY VALUE", "change one"))


@config_app.command("set", help="Change one setting (asks first when the cost changes).")
def set_(
    ctx: typer.Context,
    key: Annotated[str, typer.Argument(help="browser, idle-timeout, warm, cpu or memory.")],
    value: Annotated[str, typer.Argument(help="on/off, a number, or HH:MM-HH:MM (warm).")],
    tz: Annotated[
        str | None,
        typer.Option(
            "--tz",
            envvar="OPENCLAW_DEPLOY_TZ",
            help="IANA time zone of the warm window (default: the window's, else this "
            "machine's, as for schedules).",
            show_default=False,
        ),
    ] = None,
    yes: YesOption = False,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import config

    app = app_context(ctx, assume_yes=yes)
    deployment = resolve_deployment(app, name, target)
    # From the environment, the schedules' time zone serves the warm window and nothing else;
    # given on the command line to another key, it is refused.
    source = ctx.get_parameter_source("tz")
    typed = source is not None and source.name == "COMMANDLINE"
    timezone = tz if typed or key.strip().lower() == config.WARM_KEY else None
    plan = config.plan(app, deployment, key, value, timezone=timezone)
    if plan.changes_cost and not yes:
        _render_plan(app.err_console if as_json else app.console, plan)
        question = CONFIRM.format(key=plan.key, value=plan.new, deployment=deployment.name)
        if not app.prompter.confirm(question, default=True):
            raise UsageError(CANCELLED, hint=_again(plan.key, value, timezone))
    result = config.apply(app, deployment, plan)
    emit(app.console, result, as_json=as_json, render=_render_result)
    if not as_json and result.next_step:
        recommend(app.console, (result.next_step, "apply the new task size"))


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
