"""The web chat in Chromium through the local target: sign in, typing that wakes the sleeping
agent, send, the waking status, the streamed reply, history after a reload, settings, and a
Telegram pairing approved in the web UI.

The local target is started as a user would (`init --target local`), with the stand-in Bot API
playing Telegram, and the node:test spec web/e2e/chat.spec.ts drives Debian's Chromium against
it. Screenshots land in test-artifacts/screenshots/.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.local import running_with_telegram, webhook_secret
from tests.fakes.telegram_api import FakeTelegram, fake_telegram

from .conftest import SCREENSHOTS, run_spec

pytestmark = [pytest.mark.slow, pytest.mark.e2e]


@pytest.fixture(scope="module")
def local_web(web_dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A running local target with a Telegram bot (the stand-in), and what the spec needs."""
    telegram: FakeTelegram
    with fake_telegram() as telegram:
        workdir = tmp_path_factory.mktemp("local-web")
        with running_with_telegram(workdir, telegram) as (local, answer):
            yield {**answer["local"], "telegram_secret": webhook_secret(local)}


def test_chat_flows_in_chromium(local_web: dict[str, Any], chromium: str) -> None:
    run = run_spec(
        "chat.spec.ts",
        {
            "OPENCLAW_WEB_URL": local_web["web_url"],
            "OPENCLAW_E2E_USERNAME": local_web["owner_email"],
            "OPENCLAW_E2E_PASSWORD": local_web["owner_password"],
            "OPENCLAW_E2E_TELEGRAM_WEBHOOK": local_web["telegram_webhook_url"],
            "OPENCLAW_E2E_TELEGRAM_SECRET": local_web["telegram_secret"],
        },
        chromium,
    )
    assert run.returncode == 0, run.output
    assert run.count("fail") == 0, run.output
    assert run.count("skipped") == 0, run.output
    assert run.count("pass") >= 8, run.output
    for name in ("chat-waking", "chat-reply", "chat-history", "settings", "telegram-paired"):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 5_000, name
    # Typing woke the agent before the message went: part of the wake-up overlapped the typing.
    assert run.metrics.get("typing_wake_overlap_ms", 0) > 0, run.output
    print("web metrics:", run.metrics)  # shown with -s; also in test-artifacts/
