"""`channels`: connect Slack and Discord to a deployment, list them with their health, remove them.

A channel is its secrets in SSM (SecureString, under the deployment's prefix) plus, for Discord,
the slash commands registered with Discord. The stack always has the channels' routes and
grants, so adding or removing a channel needs no deploy: the handlers read the secrets when a
request comes. Tokens are checked with the channel's own API before anything is stored.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from openclaw_deploy.aws.ssm import SecretStore
from openclaw_deploy.errors import CheckFailedError, NotFoundError, UsageError
from openclaw_deploy.runtime import discord, resources, slack
from openclaw_deploy.services.target import connect

if TYPE_CHECKING:
    from openclaw_deploy.config import Deployment
    from openclaw_deploy.context import AppContext

CHANNELS: Final = ("slack", "discord")
SLACK_ROUTE: Final = "/slack/events"
DISCORD_ROUTE: Final = "/discord/interactions"
"""The HTTP API's routes (infra/api.py CHANNEL_ROUTES, local/apigw.py)."""
CHECK_TIMEOUT_SECONDS: Final = 10.0
APP_NAME: Final = "OpenClaw"


@dataclass(frozen=True, kw_only=True)
class ChannelAdded:
    channel: str
    endpoint_url: str | None
    """Where the channel sends its requests (None: not deployed yet, `deploy` first)."""
    identity: str
    """Who the token belongs to (Slack team and bot user, Discord application)."""
    stored: list[str]
    commands: list[str] = field(default_factory=list)
    manifest: dict[str, Any] | None = None


@dataclass(frozen=True, kw_only=True)
class ChannelInfo:
    channel: str
    connected: bool
    healthy: bool | None = None
    """None: not asked (not connected, or the check was skipped)."""
    detail: str = ""
    endpoint_url: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChannelRemoved:
    channel: str
    deleted: list[str]
    unregistered: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def slack_api_url() -> str | None:
    return os.environ.get(resources.ENV_SLACK_API_URL)


def discord_api_url() -> str | None:
    return os.environ.get(resources.ENV_DISCORD_API_URL)


def _store(app: AppContext, deployment: Deployment) -> SecretStore:
    connect(app, deployment)
    return SecretStore(app.client("ssm", deployment.region), deployment.name)


def api_base_url(app: AppContext, deployment: Deployment) -> str | None:
    """The HTTP API's base URL: the local cloud's, or the stack's output (None: not deployed)."""
    if deployment.target == "local":
        from openclaw_deploy.local import service
        from openclaw_deploy.services.local import paths_for

        state = service.read_state(paths_for(app, deployment.name))
        return state.api_url if state else None
    from openclaw_deploy.aws.cloudformation import CloudFormation
    from openclaw_deploy.infra.spec import OUTPUT_HTTP_API_URL, stack_name

    info = CloudFormation(app.client("cloudformation", deployment.region)).describe(
        stack_name(deployment.name)
    )
    url = info.outputs.get(OUTPUT_HTTP_API_URL) if info else None
    return url.rstrip("/") if url else None


def _endpoint(app: AppContext, deployment: Deployment, route: str) -> str | None:
    base = api_base_url(app, deployment)
    return f"{base}{route}" if base else None


def _record(app: AppContext, deployment: Deployment, channel: str, identity: str | None) -> None:
    """Note the channel in the pairing table, where the web app lists it (None: removed).
    Best effort: before the first deploy there is no table yet (the secrets are what counts)."""
    from botocore.exceptions import BotoCoreError, ClientError

    from openclaw_deploy.runtime.pairing import Pairing

    pairing = Pairing(
        app.client("dynamodb", deployment.region), resources.PAIRING.physical_name(deployment.name)
    )
    try:
        if identity is None:
            pairing.disconnect_channel(channel)
        else:
            pairing.connect_channel(channel, identity)
    except (ClientError, BotoCoreError):
        return


def _put(store: SecretStore, deployment: Deployment, secret: resources.Secret, value: str) -> str:
    name = secret.parameter_name(deployment.name)
    store.put(name, value, description=f"openclaw-deploy {deployment.name}: {secret.description}")
    return name


# -- Slack ---------------------------------------------------------------------------------------


def check_slack(token: str, signing_secret: str) -> slack.SlackIdentity:
    if not slack.BOT_TOKEN_PATTERN.match(token):
        raise UsageError(
            "That is not a Slack bot token (it starts with xoxb-).",
            hint="api.slack.com/apps → your app → OAuth & Permissions → Bot User OAuth Token",
        )
    if not slack.SIGNING_SECRET_PATTERN.match(signing_secret):
        raise UsageError(
            "That is not a Slack signing secret (32 hexadecimal characters).",
            hint="api.slack.com/apps → your app → Basic Information → App Credentials",
        )
    client = slack.SlackClient(token, api_url=slack_api_url(), timeout=CHECK_TIMEOUT_SECONDS)
    try:
        return client.auth_test()
    except slack.SlackError as error:
        raise CheckFailedError(
            f"Slack refused the bot token ({error.error}).",
            hint="copy the Bot User OAuth Token again after installing the app to the workspace",
        ) from None


def add_slack(
    app: AppContext, deployment: Deployment, *, bot_token: str, signing_secret: str
) -> ChannelAdded:
    identity = check_slack(bot_token, signing_secret)
    store = _store(app, deployment)
    stored = [
        _put(store, deployment, resources.SLACK_BOT_TOKEN, bot_token),
        _put(store, deployment, resources.SLACK_SIGNING_SECRET, signing_secret),
    ]
    url = _endpoint(app, deployment, SLACK_ROUTE)
    who = f"{identity.team} (bot user {identity.user_id})"
    _record(app, deployment, "slack", who)
    return ChannelAdded(
        channel="slack",
        endpoint_url=url,
        identity=who,
        stored=stored,
        manifest=slack.manifest(
            name=APP_NAME, request_url=url or "https://<your API>/slack/events"
        ),
    )


# -- Discord -------------------------------------------------------------------------------------


def check_discord(application_id: str, public_key: str, bot_token: str) -> str:
    """The application's name, once the token is checked to be that application's bot's."""
    if not discord.APPLICATION_ID_PATTERN.match(application_id):
        raise UsageError(
            "That is not a Discord application id (a number of 15 to 22 digits).",
            hint="discord.com/developers/applications → your app → General Information",
        )
    if not discord.PUBLIC_KEY_PATTERN.match(public_key):
        raise UsageError(
            "That is not a Discord public key (64 hexadecimal characters).",
            hint="discord.com/developers/applications → your app → General Information",
        )
    client = discord.DiscordClient(
        bot_token, api_url=discord_api_url(), timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        application = client.application()
    except discord.DiscordError as error:
        raise CheckFailedError(
            f"Discord refused the bot token ({error.message}).",
            hint="discord.com/developers/applications → your app → Bot → Reset Token",
        ) from None
    if str(application.get("id")) != application_id:
        raise CheckFailedError(
            f"The bot token belongs to another application ({application.get('id')}).",
            hint="use the application id, public key and bot token of one application",
        )
    key = application.get("verify_key")
    if isinstance(key, str) and key.lower() != public_key.lower():
        raise CheckFailedError(
            "The public key is not this application's.",
            hint="copy the Public Key from the application's General Information page",
        )
    return str(application.get("name") or application_id)


def add_discord(
    app: AppContext,
    deployment: Deployment,
    *,
    application_id: str,
    public_key: str,
    bot_token: str,
) -> ChannelAdded:
    name = check_discord(application_id, public_key, bot_token)
    store = _store(app, deployment)
    record = discord.DiscordApp(application_id=application_id, public_key=public_key.lower())
    stored = [
        _put(store, deployment, resources.DISCORD_APP, record.to_json()),
        _put(store, deployment, resources.DISCORD_BOT_TOKEN, bot_token),
    ]
    client = discord.DiscordClient(
        bot_token, api_url=discord_api_url(), timeout=CHECK_TIMEOUT_SECONDS
    )
    try:
        commands = client.set_commands(application_id, [dict(c) for c in discord.COMMANDS])
    except discord.DiscordError as error:
        raise CheckFailedError(
            f"Discord did not take the slash commands ({error.message}).",
            hint=f"openclaw-deploy channels add discord --name {deployment.name} (again)",
        ) from None
    _record(app, deployment, "discord", f"{name} ({application_id})")
    return ChannelAdded(
        channel="discord",
        endpoint_url=_endpoint(app, deployment, DISCORD_ROUTE),
        identity=f"{name} ({application_id})",
        stored=stored,
        commands=commands,
    )


# -- list, health, remove ------------------------------------------------------------------------


def _present(store: SecretStore, deployment: Deployment) -> set[str]:
    return set(store.names_under(resources.parameter_prefix(deployment.name)))


def _slack_health(store: SecretStore, deployment: Deployment) -> tuple[bool, str]:
    token = store.get(resources.SLACK_BOT_TOKEN.parameter_name(deployment.name))
    client = slack.SlackClient(token, api_url=slack_api_url(), timeout=CHECK_TIMEOUT_SECONDS)
    try:
        identity = client.auth_test()
    except slack.SlackError as error:
        return False, f"Slack refuses the bot token ({error.error})"
    return True, f"bot user {identity.user_id} in {identity.team}"


def _discord_health(store: SecretStore, deployment: Deployment) -> tuple[bool, str]:
    record = discord.DiscordApp.from_json(
        store.get(resources.DISCORD_APP.parameter_name(deployment.name))
    )
    token = store.get(resources.DISCORD_BOT_TOKEN.parameter_name(deployment.name))
    client = discord.DiscordClient(token, api_url=discord_api_url(), timeout=CHECK_TIMEOUT_SECONDS)
    try:
        registered = client.commands(record.application_id)
    except discord.DiscordError as error:
        return False, f"Discord refuses the bot token ({error.message})"
    missing = sorted({str(c["name"]) for c in discord.COMMANDS} - set(registered))
    if missing:
        return False, "slash commands missing: /" + ", /".join(missing)
    return True, f"application {record.application_id}, commands registered"


def list_channels(
    app: AppContext, deployment: Deployment, *, check: bool = True, urls: bool = True
) -> list[ChannelInfo]:
    """Every chat channel: connected or not, (with `check`) whether its API accepts us, and
    (with `urls`) the URL it calls."""
    store = _store(app, deployment)
    present = _present(store, deployment)
    base = api_base_url(app, deployment) if urls else None
    infos = [
        ChannelInfo(
            channel="telegram",
            connected=resources.TELEGRAM_BOT_TOKEN.parameter_name(deployment.name) in present,
            detail="set up with openclaw-deploy init; see status",
            endpoint_url=f"{base}/telegram" if base else None,
        )
    ]
    checks = {"slack": _slack_health, "discord": _discord_health}
    for channel, route in (("slack", SLACK_ROUTE), ("discord", DISCORD_ROUTE)):
        names = {s.parameter_name(deployment.name) for s in _secrets(channel)}
        connected = names <= present
        healthy: bool | None = None
        detail = "" if connected else f"openclaw-deploy channels add {channel}"
        if connected and check:
            healthy, detail = checks[channel](store, deployment)
        infos.append(
            ChannelInfo(
                channel=channel,
                connected=connected,
                healthy=healthy,
                detail=detail,
                endpoint_url=f"{base}{route}" if base else None,
            )
        )
    return infos


def _secrets(channel: str) -> list[resources.Secret]:
    return [s for s in resources.CHANNEL_SECRETS if s.channel == channel]


def unregister_discord(store: SecretStore, deployment: Deployment) -> list[str]:
    """Remove the slash commands this tool registered; the names removed (best effort: [])."""
    try:
        record = discord.DiscordApp.from_json(
            store.get(resources.DISCORD_APP.parameter_name(deployment.name))
        )
        token = store.get(resources.DISCORD_BOT_TOKEN.parameter_name(deployment.name))
        client = discord.DiscordClient(
            token, api_url=discord_api_url(), timeout=CHECK_TIMEOUT_SECONDS
        )
        before = client.commands(record.application_id)
        client.set_commands(record.application_id, [])
    except (discord.DiscordError, ValueError, KeyError, json.JSONDecodeError):
        return []
    return before


def remove_channel(app: AppContext, deployment: Deployment, channel: str) -> ChannelRemoved:
    if channel not in CHANNELS:
        raise UsageError(f"There is no channel {channel!r}.", hint="openclaw-deploy channels list")
    store = _store(app, deployment)
    present = _present(store, deployment)
    names = [s.parameter_name(deployment.name) for s in _secrets(channel)]
    names = [n for n in names if n in present]
    if not names:
        raise NotFoundError(
            f"{channel.title()} is not connected to {deployment.name!r}.",
            hint="openclaw-deploy channels list",
        )
    notes: list[str] = []
    unregistered: list[str] = []
    if channel == "discord":
        unregistered = unregister_discord(store, deployment)
        if not unregistered:
            notes.append("Discord did not confirm removing the slash commands.")
    else:
        notes.append(
            "Slack keeps the app installed: remove it (or its Event Subscriptions) at "
            "api.slack.com/apps if you no longer use it."
        )
    store.delete(names)
    _record(app, deployment, channel, None)
    return ChannelRemoved(channel=channel, deleted=names, unregistered=unregistered, notes=notes)
