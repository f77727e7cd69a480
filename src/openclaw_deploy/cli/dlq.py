"""`openclaw-deploy dlq`: messages that never got an answer — list, retry, drop."""

from __future__ import annotations

import time
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
from openclaw_deploy.errors import UsageError
from openclaw_deploy.output import emit, recommend

if TYPE_CHECKING:
    from openclaw_deploy.services.dlq import DeadLetters, DlqAction

HELP: Final = """Messages that never got an answer (the dead-letter queue).

A message lands there when the agent failed on it five times. List them, send them to the agent
again, or drop them.

Examples:

\b
  openclaw-deploy dlq list
  openclaw-deploy dlq retry --all
  openclaw-deploy dlq drop 3f1c2a9e-...
"""
IdsArgument = Annotated[
    list[str] | None, typer.Argument(help="Message ids from `dlq list`.", show_default=False)
]
AllOption = Annotated[bool, typer.Option("--all", help="Every message in the queue.")]

dlq_app = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None)


def _render_list(console: Console, result: DeadLetters) -> None:
    if not result.messages:
        console.print(f"No dead letters in {result.queue}: every message got an answer.")
        return
    console.print(f"[bold]{len(result.messages)} message(s) never answered[/]", highlight=False)
    for item in result.messages:
        when = (
            time.strftime("%Y-%m-%d %H:%M", time.localtime(item.sent_at)) if item.sent_at else "-"
        )
        console.print(
            f"  {item.id}  {when}  {item.channel or '?'}  tried {item.receive_count}x  "
            f"[dim]{escape(item.preview)}[/]",
            highlight=False,
        )


def _render_action(console: Console, result: DlqAction) -> None:
    console.print(f"{result.action.capitalize()} {len(result.ids)} message(s).", highlight=False)
    for missing in result.not_found:
        console.print(f"  [yellow]![/] {missing} is not in the dead-letter queue", highlight=False)


@dlq_app.command("list", help="Show the messages that never got an answer.")
def list_(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import dlq

    app = app_context(ctx)
    result = dlq.list_dead_letters(app, resolve_deployment(app, name, target))
    emit(app.console, result, as_json=as_json, render=_render_list)
    if result.messages and not as_json:
        recommend(
            app.console,
            ("openclaw-deploy dlq retry --all", "send them to the agent again"),
            ("openclaw-deploy logs --component agent", "see why the agent failed on them"),
        )


def _check(ids: list[str] | None, every: bool) -> list[str]:
    if not ids and not every:
        raise UsageError("Name the messages to act on.", hint="pass message ids, or --all")
    return list(ids or [])


@dlq_app.command("retry", help="Put messages back on the agent's queue (it answers them).")
def retry(
    ctx: typer.Context,
    ids: IdsArgument = None,
    every: AllOption = False,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import dlq

    chosen = _check(ids, every)
    app = app_context(ctx)
    result = dlq.retry(app, resolve_deployment(app, name, target), chosen, every=every)
    emit(app.console, result, as_json=as_json, render=_render_action)
    if result.ids and not as_json:
        recommend(
            app.console, ("openclaw-deploy status", "the agent wakes for them within a minute")
        )


@dlq_app.command("drop", help="Delete messages from the dead-letter queue for good.")
def drop(
    ctx: typer.Context,
    ids: IdsArgument = None,
    every: AllOption = False,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import dlq

    chosen = _check(ids, every)
    app = app_context(ctx)
    result = dlq.drop(app, resolve_deployment(app, name, target), chosen, every=every)
    emit(app.console, result, as_json=as_json, render=_render_action)


def register(app: typer.Typer) -> None:
    app.add_typer(dlq_app, name="dlq")
