"""`openclaw-deploy logs`: the deployment's logs, merged and in time order; `--follow` streams."""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from datetime import UTC, datetime
from typing import Annotated, Final

import typer

from openclaw_deploy.cli.common import (
    JsonOption,
    NameOption,
    TargetOption,
    app_context,
    resolve_deployment,
)
from openclaw_deploy.services.logs import LogLine

HELP: Final = """Show the deployment's logs, every component merged in time order.

The agent (bridge + OpenClaw), the gateway handlers (HTTP API, WebSocket), the Telegram webhook
and the watchdog; on AWS from CloudWatch Logs, locally from the local cloud's files. --follow
streams new lines until Ctrl-C, never twice and without gaps.

Examples:

\b
  openclaw-deploy logs --since 10m
  openclaw-deploy logs --follow --component agent --filter error
  openclaw-deploy logs --previous        # the last agent task that stopped
"""


def _print(line: LogLine, as_json: bool) -> None:
    if as_json:
        record = {"timestamp": line.timestamp, "component": line.component, "message": line.message}
        sys.stdout.write(json.dumps(record) + "\n")
    else:
        stamp = datetime.fromtimestamp(line.timestamp, UTC).strftime("%H:%M:%S")
        sys.stdout.write(f"{stamp} {line.component:<8} {line.message}\n")
    sys.stdout.flush()


def complete_component(incomplete: str) -> list[str]:
    from openclaw_deploy.services.logs import COMPONENTS

    return [c for c in (*COMPONENTS, "all") if c.startswith(incomplete)]


def logs(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines until Ctrl-C.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="Only lines from this long ago (10m, 2h, 1d) or this time "
            "(default: everything locally, the last 10 minutes on AWS).",
        ),
    ] = None,
    component: Annotated[
        list[str] | None,
        typer.Option(
            "--component",
            help="agent, gateway, telegram, watchdog, notifier (AWS only), daemon (local only) "
            "or all (repeatable).",
            autocompletion=complete_component,
        ),
    ] = None,
    needle: Annotated[
        str | None, typer.Option("--filter", help="Only lines containing this text (any case).")
    ] = None,
    previous: Annotated[
        bool, typer.Option("--previous", help="The last agent task that stopped.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import logs as service

    # Validate everything the user typed before reaching for the config file or AWS.
    app = app_context(ctx)
    request = service.LogRequest(
        components=service.check_components(component or []),
        since=service.parse_since(since, now=time.time()),
        needle=needle,
        follow=follow,
        previous=previous,
    )
    deployment = resolve_deployment(app, name, target)
    explicit = bool(component) and "all" not in (component or [])
    lines = service.open_logs(app, deployment, request, explicit_components=explicit)
    printed = 0
    try:
        for line in lines:
            _print(line, as_json)
            printed += 1
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
    except BrokenPipeError:
        # The reader went away (`logs | head`): stop quietly, as other tools do. Python would
        # complain again when it flushes stdout at exit, so point it at nothing first.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise typer.Exit(0) from None
    if not printed and not as_json:
        app.err_console.print(
            _nothing(deployment.target, since, component, needle), highlight=False
        )


def _nothing(
    target: str, since: str | None, component: list[str] | None, needle: str | None
) -> str:
    """Say that nothing matched, and what to widen (rather than print nothing at all)."""
    window = f"in the last {since}" if since else ("" if target == "local" else "in the last 10m")
    which = f" from {', '.join(component)}" if component else ""
    matching = f" containing {needle!r}" if needle else ""
    message = f"No log lines{which}{matching} {window}".rstrip() + "."
    tips = []
    if target != "local" or since:
        tips.append("a wider --since (for example --since 1d)")
    if needle:
        tips.append("no --filter")
    if component:
        tips.append("--component all")
    if not tips:
        return message + " Nothing has run yet: send the agent a message, then look again."
    return f"{message} Try {' or '.join(tips)}."


def register(app: typer.Typer) -> None:
    app.command("logs", help=HELP)(logs)
