"""Proving that an LLM key and a Telegram bot token work, with the cheapest real calls.

A key is checked by listing the provider's models (free); a bot token by Telegram's `getMe`.
Base URLs are configurable so tests and offline machines point them at stand-ins. Neither the key
nor the token appears in any message raised from here.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from openclaw_deploy.errors import CheckFailedError
from openclaw_deploy.runtime.providers import Provider
from openclaw_deploy.runtime.telegram import BotInfo, TelegramBot, TelegramError

TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class KeyCheck:
    provider: str
    ok: bool
    detail: str


def check_llm_key(provider: Provider, api_key: str, *, base_url: str | None = None) -> KeyCheck:
    """Call the provider's model list with the key; raise CheckFailedError when it is refused."""
    root = (base_url or provider.base_url or "").rstrip("/")
    if not provider.needs_key or not provider.check_path or not root:
        return KeyCheck(provider.id, ok=True, detail="no key to check")
    headers = {"User-Agent": "openclaw-deploy"}
    if provider.auth_header.lower() == "authorization":
        headers["Authorization"] = f"Bearer {api_key}"
    else:
        headers[provider.auth_header] = api_key
        headers["anthropic-version"] = "2023-06-01"
    url = root + provider.check_path
    try:
        response = httpx.get(url, headers=headers, timeout=TIMEOUT_SECONDS)
    except httpx.HTTPError as error:
        raise CheckFailedError(
            f"Could not reach {provider.label} at {root} to check the API key "
            f"({type(error).__name__}).",
            hint="check your network, or pass --skip-checks to store the key unchecked",
        ) from None
    if response.status_code in (401, 403):
        raise CheckFailedError(
            f"{provider.label} refused the API key (HTTP {response.status_code}).",
            hint="create a new key in the provider's console and run openclaw-deploy init again",
        )
    if response.status_code >= 400:
        raise CheckFailedError(
            f"{provider.label} answered HTTP {response.status_code} when checking the API key.",
            hint="try again later, or pass --skip-checks to store the key unchecked",
        )
    return KeyCheck(provider.id, ok=True, detail=f"{provider.label} accepted the key")


def check_telegram_token(token: str, *, api_url: str | None = None) -> BotInfo:
    """Telegram `getMe`: the bot behind the token, or CheckFailedError."""
    try:
        return TelegramBot(token, api_url=api_url, timeout=TIMEOUT_SECONDS).get_me()
    except TelegramError as error:
        if error.status in (401, 404):
            raise CheckFailedError(
                "Telegram refused the bot token (getMe answered Unauthorized).",
                hint="copy the token again from @BotFather (/token), then openclaw-deploy init",
            ) from None
        raise CheckFailedError(
            f"Could not check the bot token with Telegram: {error.description}.",
            hint="check your network, or pass --skip-checks to store the token unchecked",
        ) from None
