"""Recovery and hostile input through the local target, with the real OpenClaw and IAM enforced.

One local target for every check (each start costs a minute): the shapes that once got a 5xx
now get a 4xx and a legitimate message is still answered after them; a container killed
mid-reply has its message answered once, about half a minute later; a frozen bridge is replaced
within the stale-heartbeat threshold plus one watchdog round. The bounds are loose (about twice
the expected time, far below the minutes it took before); bench/recovery.py measures.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator

import aiohttp
import pytest

from openclaw_deploy.local.daemon import WATCHDOG_INTERVAL_SECONDS
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.lifecycle import HEARTBEAT_STALE_SECONDS
from tests.e2e import drills
from tests.e2e.local import Local, running_with_telegram, webhook_secret
from tests.fakes.telegram_api import fake_telegram

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

BOOT_ALLOWANCE = 150.0
"""A local cold start with OpenClaw on a busy 2-core machine, generously."""


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Local]:
    """With a (stand-in) Telegram bot, so the webhook's parsing is reached; stopping it also
    fails on any AWS call a role would not allow."""
    workdir = tmp_path_factory.mktemp("local-recovery")
    with fake_telegram() as telegram, running_with_telegram(workdir, telegram) as (deployment, _):
        yield deployment


async def _hostile(local: Local) -> dict[str, int]:
    deep = "[" * 5000 + "]" * 5000
    statuses: dict[str, int] = {}
    async with aiohttp.ClientSession() as http:
        bearer = {"Authorization": f"Bearer {await drills.token(http, local.api_url)}"}
        secret = {"X-Telegram-Bot-Api-Secret-Token": webhook_secret(local)}

        async def status(name: str, method: str, path: str, **kwargs: object) -> None:
            async with http.request(method, local.api_url + path, **kwargs) as answer:  # type: ignore[arg-type]
                statuses[name] = answer.status
                if answer.status >= 400 and answer.content_type == "application/json":
                    assert (await answer.json()).get("error") or (await answer.json()).get(
                        "message"
                    ), name

        await status("webhook nesting", "POST", "/telegram", data=deep, headers=secret)
        surrogate = '{"update_id": 7, "message": {"message_id": 1, "text": "hi \\ud800", '
        surrogate += '"chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": false}}}'
        await status("webhook surrogate", "POST", "/telegram", data=surrogate, headers=secret)
        await status("settings nesting", "PUT", "/api/settings", data=deep, headers=bearer)
        await status(
            "unicode limit", "GET", "/api/conversations/web-1/messages?limit=%C2%B2", headers=bearer
        )
        await status("NUL path", "GET", "/%00")
        ticket = await (await http.post(f"{local.api_url}/api/ws-ticket", headers=bearer)).json()
        async with http.ws_connect(f"{local.ws_url}?ticket={ticket['ticket']}") as socket:
            await socket.send_str(deep[:20000])
            frame = json.loads((await socket.receive(timeout=30)).data)
            statuses["frame nesting"] = 400 if frame["type"] == "error" else 200
    return statuses


def test_hostile_shapes_get_4xx_and_a_message_is_answered_after(local: Local) -> None:
    statuses = asyncio.run(_hostile(local))
    # A stranger's message with a lone surrogate is taken (200: a pairing code), not a 503.
    assert statuses.pop("webhook surrogate") == 200
    assert all(400 <= code < 500 for code in statuses.values()), statuses
    assert drills.lifecycle(local).get().state == "Idle", "no hostile shape woke the agent"

    async def legit() -> str:
        chat = drills.Conversation(local)
        await chat.open()
        try:
            await chat.send("web-1", "legit-1", "hello after the noise")
            return str((await chat.until("chat.final", "legit-1", timeout=300))["text"])
        finally:
            await chat.close()

    assert "You said: hello after the noise" in asyncio.run(legit())


def test_a_container_killed_mid_reply_is_answered_once_within_a_minute_or_so(
    local: Local, record_property: Callable[[str, object], None]
) -> None:
    result = asyncio.run(drills.kill_drill(local, "e2e"))
    record_property("kill_to_answer_seconds", round(result.kill_to_answer, 1))
    print(f"kill -> answer: {result.kill_to_answer:.1f} s")
    assert result.text == drills.SLOW_REPLY
    assert (result.finals, result.replies_in_history) == (1, 1), "answered exactly once"
    visibility = resources.INBOUND.visibility_timeout_seconds
    assert result.kill_to_answer < visibility + BOOT_ALLOWANCE


def test_a_frozen_bridge_is_replaced_in_its_window(
    local: Local, record_property: Callable[[str, object], None]
) -> None:
    result = asyncio.run(drills.freeze_drill(local, "e2e"))
    record_property("freeze_to_replaced_seconds", round(result.freeze_to_replaced, 1))
    print(
        f"freeze -> replaced: {result.freeze_to_replaced:.1f} s, "
        f"-> answered: {result.freeze_to_answer:.1f} s"
    )
    window = HEARTBEAT_STALE_SECONDS + WATCHDOG_INTERVAL_SECONDS
    assert result.freeze_to_replaced < window + BOOT_ALLOWANCE
    assert result.finals == 1
    assert "You said: are you there?" in result.text
