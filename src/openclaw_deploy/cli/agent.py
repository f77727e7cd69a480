"""`openclaw-deploy start` and `stop`: wake the agent now, or put it to sleep now."""

from __future__ import annotations

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
from openclaw_deploy.output import emit

if TYPE_CHECKING:
    from openclaw_deploy.services.agent import AgentChange

START_HELP: Final = """Wake the agent now and wait until it answers.

It also wakes by itself on the first message. Shows each start-up phase as it happens.

Example:

\b
  openclaw-deploy start
"""
STOP_HELP: Final = """Put the agent to sleep now.

It backs up its memory first; the next message wakes it.

Example:

\b
  openclaw-deploy stop
"""


def _render(console: Console, change: AgentChange) -> None:
    if not change.changed:
        console.print(f"The agent already is {change.state}.")
        return
    console.print(f"The agent is {change.state} ({change.seconds:.1f}s).")
    if change.timings and change.state == "Running":
        console.print("  " + ", ".join(f"{k} {v:.1f}s" for k, v in change.timings.items()))


def start(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services.agent import wake

    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    emit(app.console, wake(app, deployment, app.reporter()), as_json=as_json, render=_render)


def stop(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services.agent import sleep_now

    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    emit(app.console, sleep_now(app, deployment, app.reporter()), as_json=as_json, render=_render)


def register(app: typer.Typer) -> None:
    app.command("start", help=START_HELP)(start)
    app.command("stop", help=STOP_HELP)(stop)
