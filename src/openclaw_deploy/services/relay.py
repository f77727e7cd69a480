"""`relay`: bring a real bot's updates to a local target that Telegram cannot reach.

Telegram delivers to a webhook only over the internet. A local target listens on 127.0.0.1, so
the relay does Telegram's part from this machine: it long-polls `getUpdates` with the bot's token,
posts each update to the local webhook with the secret header, and performs the Bot API call a
webhook answer may carry (`{"method": "sendMessage", ...}`), exactly as Telegram would. An
update is confirmed (the next `offset`) only once the webhook answered 2xx, so nothing is lost
when the local cloud is briefly down.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

from openclaw_deploy.runtime.telegram import TelegramBot, TelegramError

POLL_SECONDS: Final = 25
RETRY_SECONDS: Final = 2.0


@dataclass
class RelayStats:
    relayed: int = 0
    replies: int = 0
    failures: int = 0


def post_update(webhook_url: str, secret: str, update: dict[str, Any]) -> tuple[int, Any]:
    """POST one update as Telegram does; (status, parsed JSON answer or None)."""
    request = urllib.request.Request(  # noqa: S310 - our own local webhook
        webhook_url,
        data=json.dumps(update).encode(),
        headers={"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": secret},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            status, body = response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, None
    except (urllib.error.URLError, OSError):
        return 0, None
    try:
        return status, json.loads(body) if body else None
    except ValueError:
        return status, None


def relay(
    bot: TelegramBot,
    webhook_url: str,
    secret: str,
    *,
    keep_going: Callable[[], bool],
    on_event: Callable[[str], None],
    sleep: Callable[[float], None] = time.sleep,
    poll_seconds: int = POLL_SECONDS,
) -> RelayStats:
    """Relay until `keep_going()` is false; returns what was done."""
    stats = RelayStats()
    bot.delete_webhook()  # getUpdates and a webhook exclude each other
    offset = 0
    while keep_going():
        try:
            updates = bot.call(
                "getUpdates", {"offset": offset, "timeout": poll_seconds, "allowed_updates": []}
            )
        except TelegramError as error:
            stats.failures += 1
            on_event(f"getUpdates failed: {error.description}; retrying")
            sleep(error.retry_after or RETRY_SECONDS)
            continue
        for update in updates or []:
            status, answer = post_update(webhook_url, secret, update)
            if not 200 <= status < 300:
                stats.failures += 1
                on_event(f"the local webhook answered {status or 'nothing'}; retrying")
                sleep(RETRY_SECONDS)
                break  # keep this offset: the update is delivered again next round
            offset = int(update["update_id"]) + 1
            stats.relayed += 1
            if isinstance(answer, dict) and isinstance(answer.get("method"), str):
                payload = {k: v for k, v in answer.items() if k != "method"}
                try:
                    bot.call(answer["method"], payload)
                    stats.replies += 1
                except TelegramError as error:
                    on_event(f"{answer['method']} failed: {error.description}")
    return stats
