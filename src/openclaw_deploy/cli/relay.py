"""`openclaw-deploy relay`: your real bot, talking to the local target, without a public URL."""

from __future__ import annotations

from typing import Final

import typer

from openclaw_deploy.cli.common import NameOption, app_context, resolve_deployment
from openclaw_deploy.errors import NotFoundError, UsageError

HELP: Final = """Relay your real Telegram bot's messages to the local target, until Ctrl-C.

Telegram cannot reach a webhook on 127.0.0.1, so this command fetches the bot's updates itself
(long polling) and hands each to the local webhook, then sends the answers back. It removes the
bot's webhook first: a bot has either a webhook or polling. Needs internet access to Telegram
and a bot token given to `init --target local`.

Examples:

\b
  openclaw-deploy init --target local --yes    # with OPENCLAW_TELEGRAM_BOT_TOKEN set
  openclaw-deploy relay
"""


def relay(ctx: typer.Context, name: NameOption = None) -> None:
    from openclaw_deploy.aws.ssm import SecretStore
    from openclaw_deploy.runtime import resources
    from openclaw_deploy.runtime.telegram import TelegramBot
    from openclaw_deploy.services.relay import relay as run_relay
    from openclaw_deploy.services.target import connect

    app = app_context(ctx)
    deployment = resolve_deployment(app, name, "local")
    token_name = deployment.parameters.get(resources.TELEGRAM_BOT_TOKEN.key)
    if not token_name:
        raise UsageError(
            f"The local deployment {deployment.name!r} has no Telegram bot token.",
            hint="OPENCLAW_TELEGRAM_BOT_TOKEN=... openclaw-deploy init --target local",
        )
    connect(app, deployment)
    from openclaw_deploy.local import service
    from openclaw_deploy.services.local import paths_for

    state = service.read_state(paths_for(app, deployment.name))
    if state is None:  # pragma: no cover - connect() has just checked
        raise NotFoundError(
            "The local cloud is not running.", hint="openclaw-deploy init --target local"
        )
    store = SecretStore(app.client("ssm", deployment.region), deployment.name)
    if not store.exists(token_name):
        raise UsageError(
            "The bot token is not in the local cloud (it is kept in memory only).",
            hint="OPENCLAW_TELEGRAM_BOT_TOKEN=... openclaw-deploy init --target local",
        )
    bot = TelegramBot(store.get(token_name), api_url=deployment.telegram_api_url, timeout=40)
    secret = store.get(resources.TELEGRAM_WEBHOOK_SECRET.parameter_name(deployment.name))
    name_shown = (
        f"@{deployment.telegram_bot_username}" if deployment.telegram_bot_username else "your bot"
    )
    app.err_console.print(f"Relaying {name_shown} to {state.telegram_webhook_url} (Ctrl-C stops).")
    try:
        run_relay(
            bot,
            state.telegram_webhook_url,
            secret,
            keep_going=lambda: True,  # until Ctrl-C
            on_event=lambda line: app.err_console.print(f"  ! {line}", highlight=False),
        )
    except KeyboardInterrupt:
        app.err_console.print("Stopped relaying. Run `openclaw-deploy relay` to go on.")
        raise typer.Exit(0) from None


def register(app: typer.Typer) -> None:
    app.command("relay", help=HELP)(relay)
