"""`openclaw-deploy channels`: connect Slack and Discord, list the channels, remove one."""

from __future__ import annotations

import json
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
from openclaw_deploy.cli.init import FROM_STDIN, _secret, _Stdin
from openclaw_deploy.errors import AbortedError
from openclaw_deploy.output import emit, recommend

if TYPE_CHECKING:
    from openclaw_deploy.prompts import Prompter
    from openclaw_deploy.services.channels import ChannelAdded, ChannelInfo, ChannelRemoved

HELP: Final = """Connect Slack and Discord to your agent, list the chat channels, remove one.

Messages on every channel wake the agent, and only people you paired reach it (openclaw-deploy
pair). Secrets are asked hidden, or taken from flags, environment variables or stdin ("-"), and
stored as SSM SecureString parameters; no deploy is needed afterwards.

Examples:

\b
  openclaw-deploy channels add slack
  printf '%s\\n%s\\n' "$TOKEN" "$SECRET" |
      openclaw-deploy channels add slack --bot-token - --signing-secret -
  openclaw-deploy channels add discord --application-id 1234567890123456789 --public-key abcd...
  openclaw-deploy channels list
  openclaw-deploy channels remove discord
"""

SLACK_BOT_HELP: Final = (
    "Your Slack app's bot token: api.slack.com/apps → your app → OAuth & Permissions "
    "(install the app to your workspace first; the manifest printed below has the scopes)."
)
SLACK_SIGNING_HELP: Final = (
    "Slack signs every request with it: Basic Information → App Credentials."
)
DISCORD_WHY: Final = (
    "From discord.com/developers/applications → your app: General Information has the "
    "application id and public key, Bot has the token."
)

channels_app = typer.Typer(help=HELP, no_args_is_help=True, rich_markup_mode=None)
add_app = typer.Typer(help="Connect a chat channel.", no_args_is_help=True)
channels_app.add_typer(add_app, name="add")


def _hidden(prompter: Prompter, given: str | None, question: str, why: str, flag: str) -> str:
    """A secret from its flag or environment variable, or asked hidden."""
    env = "OPENCLAW_" + question.upper().replace(" ", "_")
    value, _ = _secret(
        prompter, given, question=question, why=why, flag=flag, env=env, keep_existing=False,
        check=None,
    )  # fmt: skip
    assert value is not None  # keep_existing=False: asked until answered
    return value


def _render_added(console: Console, result: ChannelAdded) -> None:
    console.print(f"Connected {result.channel.title()}: {result.identity}.", highlight=False)
    for name in result.stored:
        console.print(f"  stored {name} (SecureString) = ***", highlight=False)
    if result.commands:
        console.print("  slash commands: /" + ", /".join(result.commands), highlight=False)
    if result.endpoint_url:
        where = (
            "Event Subscriptions → Request URL"
            if result.channel == "slack"
            else "General Information → Interactions Endpoint URL"
        )
        console.print(f"\nPaste into {where}:\n  [bold]{result.endpoint_url}[/]", highlight=False)
    else:
        console.print("\nNot deployed yet: the URL to paste is shown after openclaw-deploy deploy.")
    if result.manifest is not None:
        console.print(
            "\nOr create the app from this manifest (api.slack.com/apps → Create New App → "
            "From an app manifest):"
        )
        console.print(json.dumps(result.manifest, indent=2), highlight=False, markup=False)


def _next_steps(console: Console, channel: str) -> None:
    recommend(
        console,
        (f"message the {channel.title()} app", "you get a pairing code"),
        ("openclaw-deploy pair approve CODE", "let yourself (or someone) in"),
    )


@add_app.command("slack", help="Connect a Slack app (Events API) to the agent.")
def add_slack(
    ctx: typer.Context,
    bot_token: Annotated[
        str | None,
        typer.Option(
            "--bot-token",
            envvar="OPENCLAW_SLACK_BOT_TOKEN",
            show_envvar=True,
            help='The app\'s bot token (xoxb-...), or "-" for stdin.',
        ),
    ] = None,
    signing_secret: Annotated[
        str | None,
        typer.Option(
            "--signing-secret",
            envvar="OPENCLAW_SLACK_SIGNING_SECRET",
            show_envvar=True,
            help='The app\'s signing secret, or "-" for stdin.',
        ),
    ] = None,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import channels

    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    stdin = _Stdin()
    if bot_token == FROM_STDIN:
        bot_token = stdin.take("Slack bot token", "--bot-token")
    if signing_secret == FROM_STDIN:
        signing_secret = stdin.take("Slack signing secret", "--signing-secret")
    token = _hidden(app.prompter, bot_token, "Slack bot token", SLACK_BOT_HELP, "--bot-token")
    secret = _hidden(
        app.prompter, signing_secret, "Slack signing secret", SLACK_SIGNING_HELP, "--signing-secret"
    )
    with app.reporter().task("Checking the bot token with Slack (auth.test)"):
        result = channels.add_slack(app, deployment, bot_token=token, signing_secret=secret)
    emit(app.console, result, as_json=as_json, render=_render_added)
    if not as_json:
        _next_steps(app.console, "slack")


@add_app.command("discord", help="Connect a Discord application (slash commands) to the agent.")
def add_discord(
    ctx: typer.Context,
    application_id: Annotated[
        str | None,
        typer.Option(
            "--application-id",
            envvar="OPENCLAW_DISCORD_APPLICATION_ID",
            show_envvar=True,
            help="The application id (General Information).",
        ),
    ] = None,
    public_key: Annotated[
        str | None,
        typer.Option(
            "--public-key",
            envvar="OPENCLAW_DISCORD_PUBLIC_KEY",
            show_envvar=True,
            help="The application's public key (General Information).",
        ),
    ] = None,
    bot_token: Annotated[
        str | None,
        typer.Option(
            "--bot-token",
            envvar="OPENCLAW_DISCORD_BOT_TOKEN",
            show_envvar=True,
            help='The bot token (Bot → Reset Token), or "-" for stdin.',
        ),
    ] = None,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import channels

    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    prompter = app.prompter
    if application_id is None:
        application_id = prompter.text(
            "Discord application id",
            flag="--application-id",
            env="OPENCLAW_DISCORD_APPLICATION_ID",
            why=DISCORD_WHY,
        )
    if public_key is None:
        public_key = prompter.text(
            "Discord public key", flag="--public-key", env="OPENCLAW_DISCORD_PUBLIC_KEY"
        )
    if bot_token == FROM_STDIN:
        bot_token = _Stdin().take("Discord bot token", "--bot-token")
    token = _hidden(prompter, bot_token, "Discord bot token", DISCORD_WHY, "--bot-token")
    with app.reporter().task("Checking the bot token and registering /ask, /new and /status"):
        result = channels.add_discord(
            app,
            deployment,
            application_id=application_id.strip(),
            public_key=public_key.strip(),
            bot_token=token,
        )
    emit(app.console, result, as_json=as_json, render=_render_added)
    if not as_json:
        _next_steps(app.console, "discord")


def _render_list(console: Console, infos: list[ChannelInfo]) -> None:
    for info in infos:
        if not info.connected:
            state = "[dim]not connected[/]"
        elif info.healthy is None:
            state = "connected"
        else:
            state = "[green]healthy[/]" if info.healthy else "[red]failing[/]"
        console.print(f"  {info.channel:<9} {state}  {info.detail}", highlight=False)
        if info.connected and info.endpoint_url:
            console.print(f"            {info.endpoint_url}", highlight=False)


@channels_app.command("list", help="The chat channels, and whether each one works.")
def list_(
    ctx: typer.Context,
    check: Annotated[
        bool, typer.Option("--check/--no-check", help="Ask each channel's API (default: yes).")
    ] = True,
    name: NameOption = None,
    target: TargetOption = None,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import channels

    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    infos = channels.list_channels(app, deployment, check=check)
    emit(app.console, infos, as_json=as_json, render=_render_list)


@channels_app.command("remove", help="Disconnect Slack or Discord (its secrets are deleted).")
def remove(
    ctx: typer.Context,
    channel: Annotated[str, typer.Argument(help="slack or discord", metavar="CHANNEL")],
    name: NameOption = None,
    target: TargetOption = None,
    yes: YesOption = False,
    as_json: JsonOption = False,
) -> None:
    from openclaw_deploy.services import channels

    app = app_context(ctx)
    deployment = resolve_deployment(app, name, target)
    question = f"Disconnect {channel.title()} from {deployment.name}?"
    if not yes and not app.prompter.confirm(question, default=False):
        raise AbortedError("Nothing was removed.")
    result = channels.remove_channel(app, deployment, channel.lower())

    def render(console: Console, value: ChannelRemoved) -> None:
        console.print(f"Disconnected {value.channel.title()}.", highlight=False)
        for name_ in value.deleted:
            console.print(f"  deleted {name_}", highlight=False)
        if value.unregistered:
            console.print("  removed /" + ", /".join(value.unregistered), highlight=False)
        for note in value.notes:
            console.print(f"  {note}", highlight=False)

    emit(app.console, result, as_json=as_json, render=render)


def register(app: typer.Typer) -> None:
    app.add_typer(channels_app, name="channels")
