"""What the watchdog reports as metrics each round, for the alarms and the dashboard.

* `AgentAwakeSeconds` while a task runs (the "awake far too long" alarm; minutes awake);
* `FailedStartsInARow` while starts keep failing (the "starts failing" alarm);
* `TelegramWebhookFailing` every few rounds when Telegram is set up: Telegram's own view of the
  webhook (`getWebhookInfo`): a recent `last_error_date` *and* updates still pending means
  messages are not getting through (a single retried error with nothing pending is not).

Metrics are log lines (`runtime.metrics`); nothing here may fail the watchdog's round.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from openclaw_deploy.handlers import _common
from openclaw_deploy.runtime import aws, metrics, resources
from openclaw_deploy.runtime.lifecycle import IDLE, AgentStatus

WEBHOOK_CHECK_EVERY_MINUTES: Final = 5
"""Ask Telegram about the webhook every 5th minute (about 8,600 calls a month)."""
WEBHOOK_ERROR_WINDOW_SECONDS: Final = 15 * 60
TELEGRAM_TIMEOUT_SECONDS: Final = 5.0


def observe_agent(status: AgentStatus, *, now: float) -> None:
    """The agent's row as the round left it."""
    if status.state != IDLE and status.task_arn and status.started_at:
        metrics.record(metrics.AGENT_AWAKE, round(max(0.0, now - status.started_at), 1))
    if status.failed_starts > 0:
        metrics.record(metrics.FAILED_STARTS, status.failed_starts)


def webhook_failing(info: Mapping[str, Any], *, now: float) -> bool:
    """Telegram's getWebhookInfo says updates are not being delivered."""
    last_error = info.get("last_error_date")
    pending = info.get("pending_update_count")
    if not isinstance(last_error, int | float) or not isinstance(pending, int):
        return False
    return pending > 0 and now - float(last_error) <= WEBHOOK_ERROR_WINDOW_SECONDS


def observe_telegram_webhook(
    *,
    now: float,
    environ: Mapping[str, str] | None = None,
    bot_factory: Callable[[str, str | None], Any] | None = None,
) -> bool | None:
    """Check the webhook on every WEBHOOK_CHECK_EVERY_MINUTES-th minute when Telegram is set up;
    the verdict (None: not checked)."""
    env = os.environ if environ is None else environ
    parameter = env.get(resources.TELEGRAM_BOT_TOKEN.env_var)
    if not parameter or int(now // 60) % WEBHOOK_CHECK_EVERY_MINUTES:
        return None
    from openclaw_deploy.runtime.telegram import TelegramBot, TelegramError

    def default_bot(token: str, api_url: str | None) -> Any:
        return TelegramBot(token, api_url=api_url, timeout=TELEGRAM_TIMEOUT_SECONDS)

    make = bot_factory or default_bot
    try:
        bot = make(aws.secret(parameter), env.get(resources.ENV_TELEGRAM_API_URL))
        info = bot.get_webhook_info()
    except (TelegramError, ClientError, BotoCoreError, OSError) as error:
        _common.log.warning("could not ask Telegram about the webhook: %s", error)
        return None
    failing = webhook_failing(info, now=now)
    if failing:
        _common.log.warning(
            "Telegram cannot deliver to the webhook: %s (%s update(s) waiting)",
            info.get("last_error_message", "no message"),
            info.get("pending_update_count"),
        )
    metrics.record(metrics.TELEGRAM_WEBHOOK_FAILING, 1 if failing else 0)
    return failing
