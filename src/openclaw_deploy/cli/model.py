"""`openclaw-deploy model [PROVIDER/MODEL]`: show or change the agent's provider and model."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Final

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
from openclaw_deploy.runtime.keys import set_key_command

if TYPE_CHECKING:
    from openclaw_deploy.services.keys import ModelChoice

HELP: Final = """Show or change the LLM provider and model the agent uses.

The choice is the same one the web settings page makes; the running agent uses it from its next
turn (no restart). A provider without a stored key is refused with the command that adds one.
--default goes back to what init chose.

Examples:

\b
  openclaw-deploy model
  openclaw-deploy model openai/gpt-5-mini
  openclaw-deploy model openrouter/anthropic/claude-sonnet-4.5
  openclaw-deploy model openai-compatible/llama3 --base-url http://10.0.0.5:8000/v1
  openclaw-deploy model --default --json
"""


def _render(console: Console, choice: ModelChoice) -> None:
    where = "your choice" if choice.source == "settings" else "the deployment's default"
    console.print(
        f"[bold]{choice.deployment}[/] uses [bold]{choice.provider}/{choice.model}[/] ({where})",
        highlight=False,
    )
    if choice.base_url:
        console.print(f"  endpoint  {choice.base_url}", highlight=False)
    if choice.source == "settings":
        console.print(f"  default   {choice.default}", highlight=False)
    if not choice.has_key:
        console.print(
            f"  [yellow]![/] no key is stored for {choice.provider}: "
            + set_key_command(choice.provider),
            highlight=False,
        )
    console.print(f"  {choice.applies}", highlight=False)


def model(
    ctx: typer.Context,
    choice: Annotated[
        str | None,
        typer.Argument(
            metavar="[PROVIDER/MODEL]",
            help="The provider and model to use, e.g. anthropic/claude-sonnet-4-5; "
            "PROVIDER alone takes its recommended model.",
            show_default=False,
        ),
    ] = None,
    default: Annotated[
        bool, typer.Option("--default", help="Go back to the provider and model init chose.")
    ] = False,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            help="openai-compatible only: the endpoint's base URL (http://HOST:PORT/v1).",
        ),
    ] = None,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import keys

    if default and choice:
        raise UsageError(
            "Give PROVIDER/MODEL or --default, not both.", hint="openclaw-deploy model --default"
        )
    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    if choice is None and not default:
        result = keys.show_model(app, deployment)
        emit(app.console, result, as_json=as_json, render=_render)
        if not as_json:
            recommend(
                app.console,
                ("openclaw-deploy model PROVIDER/MODEL", "use another provider or model"),
                ("openclaw-deploy keys list", "which providers have a key"),
            )
        return
    result = keys.set_model(app, deployment, choice, base_url=base_url, default=default)
    emit(app.console, result, as_json=as_json, render=_render)


def register(app: typer.Typer) -> None:
    app.command("model", help=HELP)(model)
