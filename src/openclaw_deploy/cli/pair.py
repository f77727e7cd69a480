"""`openclaw-deploy pair`: decide who may talk to the agent on Telegram, Slack and Discord."""

from __future__ import annotations

import time
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
from openclaw_deploy.runtime import resources

if TYPE_CHECKING:
    from openclaw_deploy.config import Deployment
    from openclaw_deploy.context import AppContext
    from openclaw_deploy.services.pairing import PairingList

HELP: Final = """Decide who may talk to your agent on Telegram, Slack and Discord.

A stranger who writes to the bot gets a code and nothing else; approve it here. Or make a code
here and send "/pair CODE" to the bot from your own Telegram account ("pair CODE" on Slack).

Examples:

\b
  openclaw-deploy pair                  # pending requests; pick one to approve
  openclaw-deploy pair approve K7M2QX9P
  openclaw-deploy pair list --json
  openclaw-deploy pair revoke 123456789
  openclaw-deploy pair code
"""

pair_app = typer.Typer(help=HELP, invoke_without_command=True, rich_markup_mode=None)


def _when(epoch: float | None) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(epoch)) if epoch else "-"


def _render_list(console: Console, result: PairingList) -> None:
    console.print(f"[bold]Pending requests[/] ({len(result.pending)})", highlight=False)
    for item in result.pending:
        console.print(
            f"  {item['code']}  {item.get('name') or '-'} (id {item['userId']}, "
            f"{item.get('channel', 'telegram')}), asked {_when(item.get('requestedAt'))}",
            highlight=False,
        )
    console.print(f"[bold]Paired users[/] ({len(result.paired)})", highlight=False)
    for item in result.paired:
        console.print(
            f"  {item['userId']}  {item.get('name') or '-'} ({item.get('channel', 'telegram')}), "
            f"since {_when(item.get('pairedAt'))}",
            highlight=False,
        )


@pair_app.callback()
def pair(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    ctx.ensure_object(dict)
    ctx.meta["pair"] = {"name": name, "target": target}
    if ctx.invoked_subcommand is not None:
        return
    from openclaw_deploy.services import pairing

    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    result = pairing.list_pairing(app, deployment)
    emit(app.console, result, as_json=as_json, render=_render_list)
    if as_json or not result.pending or not app.prompter.interactive:
        if result.pending and not as_json:
            recommend(app.console, ("openclaw-deploy pair approve CODE", "let that person in"))
        return
    choices = [
        (p["code"], f"{p['code']}  {p.get('name') or '-'} (id {p['userId']})")
        for p in result.pending
    ]
    choices.append(("", "nobody for now"))
    code = app.prompter.select("Approve which request?", choices, flag="pair approve CODE")
    if code:
        approval = pairing.approve(app, deployment, code)
        app.console.print(f"Approved {approval.user.get('name') or approval.user['userId']}.")


def _deployment(
    ctx: typer.Context, name: str | None, target: str | None
) -> tuple[AppContext, Deployment]:
    app = app_context(ctx)
    parent = ctx.parent.meta.get("pair", {}) if ctx.parent else {}
    return app, resolve_deployment(app, name or parent.get("name"), target or parent.get("target"))


@pair_app.command("list", help="Pending requests and paired users.")
def list_(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import pairing

    app, deployment = _deployment(ctx, name, target)
    emit(app.console, pairing.list_pairing(app, deployment), as_json=as_json, render=_render_list)


@pair_app.command("approve", help="Let the person who got CODE from the bot talk to the agent.")
def approve(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="The code the bot sent them.")],
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import pairing

    app, deployment = _deployment(ctx, name, target)
    approval = pairing.approve(app, deployment, code)

    def render(console: Console, result: pairing.Approval) -> None:
        who = result.user.get("name") or result.user["userId"]
        channel = result.user.get("channel", "telegram")
        if channel != "telegram":
            told = f"their next message on {channel.title()} reaches the agent"
        else:
            told = "told on Telegram" if result.notified else "not told (Telegram unreachable)"
        console.print(f"Approved {who} (id {result.user['userId']}); {told}.", highlight=False)

    emit(app.console, approval, as_json=as_json, render=render)


@pair_app.command("revoke", help="Stop a paired user from reaching the agent.")
def revoke(
    ctx: typer.Context,
    user_id: Annotated[str, typer.Argument(help="Their Telegram user id (see pair list).")],
    name: NameOption = None,
    target: TargetOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import pairing

    app, deployment = _deployment(ctx, name, target)
    if not yes and not app.prompter.confirm(f"Revoke Telegram user {user_id}?", default=False):
        raise AbortedError("Nothing was revoked.")
    pairing.revoke(app, deployment, user_id)

    def render(console: Console, value: object) -> None:
        console.print(f"Revoked {user_id}: their messages no longer reach the agent.")

    emit(app.console, {"revoked": user_id}, as_json=as_json, render=render)


@pair_app.command("code", help='A code to send to the bot as "/pair CODE" (10 minutes, once).')
def code(
    ctx: typer.Context,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import pairing

    app, deployment = _deployment(ctx, name, target)
    if resources.TELEGRAM_BOT_TOKEN.key not in deployment.parameters:
        raise UsageError(
            f"Deployment {deployment.name!r} has no Telegram bot, so there is nothing to pair "
            "with (the web chat needs no code).",
            hint=f"openclaw-deploy init --name {deployment.name} with a token from @BotFather",
        )
    result = pairing.owner_code(app, deployment)

    def render(console: Console, value: object) -> None:
        console.print(
            f"Send this to your bot from your Telegram account:  [bold]/pair {result.code}[/]"
        )
        console.print(f"(valid until {_when(result.expires_at)}, once)")

    emit(app.console, result, as_json=as_json, render=render)


def register(app: typer.Typer) -> None:
    app.add_typer(pair_app, name="pair")
