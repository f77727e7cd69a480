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

if TYPE_CHECKING:
    from openclaw_deploy.services.config import ConfigPlan, ConfigResult, ConfigView

HELP: Final = """Show or change the deployment's settings.

Keys: browser (on/off: OpenClaw's browser tool; on raises the task's memory to fit Chromium),
idle-timeout (minutes), cpu and memory (the task's size). A change that alters the task's size
shows the monthly cost before and after and asks first (--yes confirms); the new size applies
with `openclaw-deploy deploy`. The web settings page changes the same browser and idle-timeout.

Examples:

\b
  openclaw-deploy config show
  openclaw-deploy config show --json
  openclaw-deploy config set browser on
  openclaw-deploy config set browser off --yes
  openclaw-deploy config set idle-timeout 30
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
            "`openclaw-deploy cost` itemizes it)",
            highlight=False,
        )


def _render_result(console: Console, result: ConfigResult) -> None:
    if not result.changed:
        console.print(f"{result.key} is already {result.value}.", highlight=False)
    else:
        console.print(f"[green]✓[/] {result.key} is {result.value}", highlight=False)
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
    key: Annotated[str, typer.Argument(help="browser, idle-timeout, cpu or memory.")],
    value: Annotated[str, typer.Argument(help="on/off, or a number.")],
    yes: YesOption = False,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import config

    app = app_context(ctx, assume_yes=yes)
    deployment = resolve_deployment(app, name, target)
    plan = config.plan(app, deployment, key, value)
    if plan.changes_cost and not yes:
        _render_plan(app.err_console if as_json else app.console, plan)
        question = CONFIRM.format(key=plan.key, value=plan.new, deployment=deployment.name)
        if not app.prompter.confirm(question, default=True):
            raise UsageError(CANCELLED, hint=f"openclaw-deploy config set {plan.key} {plan.new}")
    result = config.apply(app, deployment, plan)
    emit(app.console, result, as_json=as_json, render=_render_result)
    if not as_json and result.next_step:
        recommend(app.console, (result.next_step, "apply the new task size"))


def register(app: typer.Typer) -> None:
    app.add_typer(config_app, name="config")
