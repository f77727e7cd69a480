"""`openclaw-deploy keys`: the API key of each provider and tool — set, list, remove."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Final

import typer
from rich.console import Console

from openclaw_deploy.cli.common import (
    JsonOption,
    NameOption,
    TargetOption,
    YesOption,
    app_context,
    resolve_deployment,
)
from openclaw_deploy.errors import AbortedError, UsageError
from openclaw_deploy.output import emit, recommend
from openclaw_deploy.runtime.providers import KEY_IDS, PROVIDERS, TOOLS, key_label

if TYPE_CHECKING:
    from openclaw_deploy.services.keys import KeyChange, KeyListing, KeyRemoval

HELP: Final = """The API key of each LLM provider and tool, kept as SSM SecureString parameters.

One key per provider (and per tool, such as brave for web_search), changeable at any time: the
running agent uses a new key from its next turn. Values are never shown.

Examples:

\b
  openclaw-deploy keys set openai               # hidden prompt
  echo "$KEY" | openclaw-deploy keys set gemini -
  openclaw-deploy keys set brave                # web_search through Brave Search
  openclaw-deploy keys list --json
  openclaw-deploy keys remove deepseek
"""
FROM_STDIN: Final = "-"
KEY_ENV: Final = "OPENCLAW_KEY"
WHY: Final = (
    "The {label} API key: kept in SSM (SecureString), never shown again. Create one at {page}"
)

keys_app = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None)


def _complete_key(incomplete: str) -> list[str]:
    return [key_id for key_id in KEY_IDS if key_id.startswith(incomplete)]


KeyArgument = Annotated[
    str,
    typer.Argument(
        metavar="PROVIDER",
        help=f"Whose key: {', '.join(KEY_IDS)}.",
        autocompletion=_complete_key,
        show_default=False,
    ),
]


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _render_change(console: Console, change: KeyChange) -> None:
    key = change.key
    console.print(
        f"[bold green]Stored[/] the {key['label']} key for {change.deployment}: "
        f"{key['parameter']} = *** ({_when(key['updatedAt'])})",
        highlight=False,
    )
    if change.check:
        console.print(f"  checked: {change.check}", highlight=False)
    console.print(f"  {change.applies}", highlight=False)


def _render_listing(console: Console, listing: KeyListing) -> None:
    console.print(
        f"[bold]{listing.deployment}[/]: the agent uses [bold]{listing.in_use}[/]", highlight=False
    )
    for key in listing.keys:
        mark = "  (in use)" if key["id"] == listing.in_use else ""
        kind = f"tool {TOOLS[key['id']].tool}" if key["kind"] == "tool" else "provider"
        console.print(
            f"  {key['id']:<18} *** set {_when(key['updatedAt'])}  {kind}{mark}", highlight=False
        )
    if not listing.keys:
        console.print("  no key is set", highlight=False)
    if listing.missing:
        console.print(f"  no key: {', '.join(listing.missing)}", highlight=False)


def _render_removal(console: Console, removal: KeyRemoval) -> None:
    console.print(f"Removed the {removal.key} key of {removal.deployment}.", highlight=False)


def _read_key(app_prompter: object, key_id: str, value: str | None) -> str:
    from openclaw_deploy.prompts import Prompter

    assert isinstance(app_prompter, Prompter)
    if value == FROM_STDIN:
        lines = [line.strip() for line in sys.stdin.read().splitlines() if line.strip()]
        if len(lines) != 1:
            raise UsageError(
                "stdin must hold the key on one line.",
                hint=f'echo "$KEY" | openclaw-deploy keys set {key_id} -',
            )
        return lines[0]
    if value is not None:
        return value
    page = PROVIDERS[key_id].key_page if key_id in PROVIDERS else TOOLS[key_id].key_page
    answer = app_prompter.secret(
        f"{key_label(key_id)} API key",
        flag="- (stdin)",
        env=KEY_ENV,
        keep_existing=False,
        why=WHY.format(label=key_label(key_id), page=page or "its console"),
    )
    assert answer is not None
    return answer


@keys_app.command(
    "set", help="Set or replace a provider's or tool's key (hidden prompt; - for stdin)."
)
def set_(
    ctx: typer.Context,
    key_id: KeyArgument,
    value: Annotated[
        str | None,
        typer.Argument(
            metavar="[-]",
            envvar=KEY_ENV,
            show_envvar=False,
            help=f'"-" reads the key from stdin (or set {KEY_ENV}); otherwise a hidden prompt.',
            show_default=False,
        ),
    ] = None,
    skip_check: Annotated[
        bool, typer.Option("--skip-check", help="Do not call the provider to check the key.")
    ] = False,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url", help="openai-compatible: the endpoint to check the key against."
        ),
    ] = None,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services.keys import set_key

    if key_id not in KEY_IDS:
        raise UsageError(
            f"No key is kept for {key_id!r}.",
            hint=f"openclaw-deploy keys set PROVIDER with one of: {', '.join(KEY_IDS)}",
        )
    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    key = _read_key(app.prompter, key_id, value)
    if not key.strip():
        raise UsageError("The key is empty.", hint=f"openclaw-deploy keys set {key_id}")
    with app.reporter().task(f"Storing the {key_label(key_id)} key"):
        change = set_key(app, deployment, key_id, key, check=not skip_check, base_url=base_url)
    emit(app.console, change, as_json=as_json, render=_render_change)
    if not as_json and key_id in PROVIDERS:
        recommend(
            app.console,
            (f"openclaw-deploy model {key_id}/MODEL", f"let the agent use {key_label(key_id)}"),
        )


@keys_app.command("list", help="Which providers and tools have a key, and when it was set.")
def list_(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services.keys import list_keys

    app = app_context(ctx)
    listing = list_keys(app, resolve_deployment(app, name, target))
    emit(app.console, listing, as_json=as_json, render=_render_listing)


@keys_app.command("remove", help="Remove a key (not the one the agent uses, unless --force).")
def remove(
    ctx: typer.Context,
    key_id: KeyArgument,
    force: Annotated[
        bool, typer.Option("--force", help="Remove it even if the agent uses that provider.")
    ] = False,
    yes: YesOption = False,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services.keys import remove_key

    app = app_context(ctx, assume_yes=yes)
    deployment = resolve_deployment(app, name, target)
    if not yes and not app.prompter.confirm(
        f"Remove the {key_label(key_id) if key_id in KEY_IDS else key_id} key of "
        f"{deployment.name}?",
        default=False,
    ):
        raise AbortedError(
            "Nothing was removed.", hint=f"openclaw-deploy keys remove {key_id} --yes"
        )
    removal = remove_key(app, deployment, key_id, force=force)
    emit(app.console, removal, as_json=as_json, render=_render_removal)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
