"""`pair`: who may talk to the agent on Telegram — list, approve, revoke, and owner codes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from openclaw_deploy.aws.errors import translate_boto_errors
from openclaw_deploy.aws.ssm import SecretStore
from openclaw_deploy.config import Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.errors import DeployError, NotFoundError, UsageError
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.pairing import (
    PairedUser,
    Pairing,
    PairingCode,
    PairingError,
    PendingRequest,
    normalize_code,
)
from openclaw_deploy.services.target import connect

APPROVED_NOTICE = "✅ The owner approved you. Write me anything."


@dataclass(frozen=True, kw_only=True)
class PairingList:
    pending: list[dict[str, Any]]
    paired: list[dict[str, Any]]


@dataclass(frozen=True, kw_only=True)
class Approval:
    user: dict[str, Any]
    notified: bool
    """Whether the user was told on Telegram (best effort: the approval stands either way)."""


def _pairing(app: AppContext, deployment: Deployment) -> Pairing:
    connect(app, deployment)
    table = resources.PAIRING.physical_name(deployment.name)
    return Pairing(app.client("dynamodb", deployment.region), table)


def list_pairing(app: AppContext, deployment: Deployment) -> PairingList:
    pairing = _pairing(app, deployment)
    with translate_boto_errors("read the pairing table"):
        pending: list[PendingRequest] = pairing.list_pending()
        paired: list[PairedUser] = pairing.list_paired()
    return PairingList(pending=[p.public() for p in pending], paired=[u.public() for u in paired])


def approve(app: AppContext, deployment: Deployment, code: str) -> Approval:
    normalized = normalize_code(code)
    if normalized is None:
        raise UsageError(
            f"{code!r} is not a pairing code (8 letters and digits, as the bot sent it).",
            hint="openclaw-deploy pair list",
        )
    pairing = _pairing(app, deployment)
    with translate_boto_errors("approve the pairing request"):
        try:
            user = pairing.approve(normalized)
        except PairingError as problem:
            raise NotFoundError(
                f"No pending request has the code {normalized}: {problem}.",
                hint="openclaw-deploy pair list (codes expire after an hour)",
            ) from None
    # Slack and Discord users learn it from their next answer.
    notified = user.channel == "telegram" and _notify(app, deployment, user.chat_id)
    return Approval(user=user.public(), notified=notified)


def revoke(app: AppContext, deployment: Deployment, user_id: str) -> None:
    pairing = _pairing(app, deployment)
    with translate_boto_errors("revoke the pairing"):
        if not pairing.revoke(user_id):
            raise NotFoundError(
                f"No paired user has the id {user_id}.", hint="openclaw-deploy pair list"
            )


def owner_code(app: AppContext, deployment: Deployment) -> PairingCode:
    pairing = _pairing(app, deployment)
    with translate_boto_errors("create a pairing code"):
        return pairing.create_code()


def _notify(app: AppContext, deployment: Deployment, chat_id: int) -> bool:
    name = deployment.parameters.get(resources.TELEGRAM_BOT_TOKEN.key)
    if not name:
        return False
    from openclaw_deploy.runtime.telegram import TelegramBot, TelegramError

    try:
        token = SecretStore(app.client("ssm", deployment.region), deployment.name).get(name)
        TelegramBot(token, api_url=deployment.telegram_api_url).send_message(
            chat_id, APPROVED_NOTICE, parse_mode=None
        )
    except (TelegramError, DeployError):  # best effort: the approval is what counts
        return False
    return True
