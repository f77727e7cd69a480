"""`openclaw-deploy budget`: show or change the deployment's monthly AWS Budget."""

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
from openclaw_deploy.config import MAX_BUDGET_USD
from openclaw_deploy.errors import UsageError
from openclaw_deploy.output import emit, recommend

if TYPE_CHECKING:
    from openclaw_deploy.services.budget import BudgetInfo

HELP: Final = """Show or change the monthly budget (alerts at 80 % of forecast, 100 % of actual).

Alerts go to the owner by email and on Telegram. The budget counts the costs tagged with the
deployment's cost-allocation tag, once that tag is activated in the Billing console.

Examples:

\b
  openclaw-deploy budget show
  openclaw-deploy budget set 15
  openclaw-deploy budget set 0      # no budget
"""

budget_app = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None)


def _money(value: float | None) -> str:
    return f"${value:.2f}" if value is not None else "-"


def _render(console: Console, info: BudgetInfo) -> None:
    configured = f"${info.configured_usd}" if info.configured_usd else "none"
    console.print(
        f"[bold]{info.deployment}[/]: budget {configured} a month (config); in AWS "
        f"{_money(info.live_usd)}, spent {_money(info.spent_usd)}, forecast "
        f"{_money(info.forecast_usd)}; tag {info.tag}: {info.tag_status}",
        highlight=False,
    )
    for note in info.notes:
        console.print(f"  [yellow]![/] {escape(note)}", highlight=False)


@budget_app.command("show", help="The budget, this month's spend and forecast, the tag's state.")
def show(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import budget

    app = app_context(ctx)
    info = budget.show(app, resolve_deployment(app, name, target))
    emit(app.console, info, as_json=as_json, render=_render)
    if not as_json:
        recommend(app.console, ("openclaw-deploy cost", "what the month is modelled to cost"))


@budget_app.command("set", help="Change the monthly budget in whole USD (0: no budget).")
def set_(
    ctx: typer.Context,
    usd: Annotated[int, typer.Argument(help="Whole US dollars a month.", show_default=False)],
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import budget

    if not 0 <= usd <= MAX_BUDGET_USD:
        raise UsageError(
            f"{usd} is not a budget between 0 and {MAX_BUDGET_USD}.",
            hint="openclaw-deploy budget set 15",
        )
    app = app_context(ctx)
    info = budget.set_budget(app, resolve_deployment(app, name, target), usd)
    emit(app.console, info, as_json=as_json, render=_render)


def register(app: typer.Typer) -> None:
    app.add_typer(budget_app, name="budget")
