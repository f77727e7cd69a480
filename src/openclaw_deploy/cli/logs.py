"""`openclaw-deploy logs`: the deployment's logs, merged and in time order; `--follow` streams."""

from __future__ import annotations

import json
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
from openclaw_deploy.errors import NotFoundError, UsageError
from openclaw_deploy.services.logs import LogLine

HELP: Final = """Show the deployment's logs: the agent (bridge + OpenClaw), the gateway handlers,
the Telegram webhook and the watchdog, merged in time order.

Examples:

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


def logs(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines until Ctrl-C.")
    ] = False,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only lines from this long ago (10m, 2h, 1d) or this time."),
    ] = None,
    component: Annotated[
        list[str] | None,
        typer.Option(
            "--component", help="agent, gateway, telegram, watchdog, daemon or all (repeatable)."
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

    app = app_context(ctx)
    components = service.check_components(component or [])
    start = service.parse_since(since, now=time.time())
    if previous and follow:
        raise UsageError(
            "--previous shows a task that has ended: it cannot --follow.", hint="drop --follow"
        )
    deployment = resolve_deployment(app, name, target)
    if deployment.target != "local":
        raise UsageError(
            "logs for AWS deployments arrive with the infrastructure release.",
            hint="openclaw-deploy logs --target local",
        )
    from openclaw_deploy.services.local import paths_for

    logs_dir = paths_for(app, deployment.name).logs
    if not logs_dir.is_dir():
        raise NotFoundError(
            f"No logs for the local deployment {deployment.name!r} yet.",
            hint="openclaw-deploy init --target local",
        )
    if previous:
        components = ["agent"]
    sources = service.local_sources(logs_dir, components)
    lines = service.read_logs(sources, since=start, needle=needle, follow=follow)
    if previous:
        lines = iter(service.previous_task(list(lines)))
    try:
        for line in lines:
            _print(line, as_json)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None


def register(app: typer.Typer) -> None:
    app.command("logs", help=HELP)(logs)
