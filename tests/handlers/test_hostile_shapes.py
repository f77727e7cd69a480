"""The inputs that once got a 5xx now get a 4xx with a clear error, and nothing is queued or
started by them: JSON nested past the parser's recursion limit (webhook body, WebSocket frame,
settings body), digits of other scripts in `limit`, a lone UTF-16 surrogate in a Telegram text,
NULs and odd paths at the emulator's static paths."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from openclaw_deploy.handlers import api, telegram_webhook, ws
from openclaw_deploy.local.apigw import (
    AuthConfig,
    Emulator,
    EmulatorConfig,
    Handlers,
    JwtAuthorizer,
)
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.contract import MAX_JSON_DEPTH, ContractError, ascii_int, loads
from openclaw_deploy.runtime.pairing import Pairing
from tests.handlers.conftest import DEPLOYMENT, WEBHOOK_SECRET, Stack
from tests.handlers.events import body, http_event, telegram_event, ws_event

DEEP = "[" * 5000 + "]" * 5000
DEEP_OBJECT = '{"a":' * 3000 + "1" + "}" * 3000


def test_deep_json_is_refused_before_parsing_wherever_it_comes_from(stack: Stack) -> None:
    for raw in (DEEP, DEEP_OBJECT, '{"update_id": 1, "message": ' + DEEP + "}"):
        answer = telegram_webhook.handler(telegram_event(None, WEBHOOK_SECRET, raw_body=raw))
        assert answer["statusCode"] == 400, raw[:40]
        assert "nests deeper" in body(answer)["error"]["message"]

        answer = api.handler(http_event("PUT", "/api/settings", raw_body=raw))
        assert answer["statusCode"] == 400
        assert "nests deeper" in body(answer)["error"]["message"]

        answer = ws.handler(ws_event("$default", "c1", raw_body=raw))
        assert answer["statusCode"] == 400
    assert [frame["type"] for frame in stack.frames["c1"]] == ["error"] * 3
    assert "nests deeper" in stack.frames["c1"][0]["message"]
    assert stack.queue_depth() == 0
    assert stack.run_task_calls == []


def test_nesting_up_to_the_limit_still_parses() -> None:
    depth = MAX_JSON_DEPTH
    assert loads("[" * depth + "]" * depth) is not None
    with pytest.raises(ContractError):
        loads("[" * (depth + 1) + "]" * (depth + 1))
    # Brackets inside strings are text, not nesting.
    assert loads(json.dumps({"text": "[" * 1000})) == {"text": "[" * 1000}


def test_limit_takes_ascii_digits_only(stack: Stack) -> None:
    for limit in ("²", "٣", "１２", "⁵⁰", " 5", "5_0", "1" * 5000, "0", "201"):
        answer = api.handler(
            http_event("GET", "/api/conversations/web-1/messages", query={"limit": limit})
        )
        assert answer["statusCode"] == 400, limit
        assert "ASCII digits" in body(answer)["error"]["message"]
    answer = api.handler(
        http_event("GET", "/api/conversations/web-1/messages", query={"limit": "5"})
    )
    assert answer["statusCode"] == 200
    assert (ascii_int("42"), ascii_int("-7"), ascii_int("²"), ascii_int(None)) == (
        42,
        -7,
        None,
        None,
    )


def test_a_lone_surrogate_in_a_telegram_text_is_replaced_and_the_message_queued(
    stack: Stack,
) -> None:
    pairing = Pairing(aws.dynamodb(), resources.PAIRING.physical_name(DEPLOYMENT))
    assert pairing.redeem(pairing.create_code().code, 4242, "Ada", 4242)
    update = stack.telegram.text_update("x", user_id=4242)
    # json.dumps writes the lone surrogate as the escape `\ud800`, as an attacker would.
    update["message"]["text"] = "hi \ud800 there \udfff"
    answer = telegram_webhook.handler(telegram_event(update, WEBHOOK_SECRET))
    assert answer["statusCode"] == 200
    [queued] = stack.drain()
    assert queued.text == "hi \ufffd there \ufffd"


def test_nan_and_infinity_are_not_numbers(stack: Stack) -> None:
    for raw in ('{"idleTimeoutMinutes": NaN}', '{"idleTimeoutMinutes": Infinity}'):
        answer = api.handler(http_event("PUT", "/api/settings", raw_body=raw))
        assert answer["statusCode"] == 400


def test_a_body_over_the_size_limit_is_413(stack: Stack) -> None:
    raw = json.dumps({"provider": "x" * (300 * 1024)})
    answer = api.handler(http_event("PUT", "/api/settings", raw_body=raw))
    assert answer["statusCode"] == 413


# -- the emulator's static paths --------------------------------------------------------------


def _emulator(web_dir: Path) -> Emulator:
    def never(_event: dict[str, Any], _context: Any) -> Any:
        raise AssertionError("no handler is reached from a static path")

    return Emulator(
        EmulatorConfig(
            handlers=Handlers(api=never, ws=never, telegram=never),
            auth=JwtAuthorizer(
                AuthConfig(jwks_url="http://127.0.0.1:9/", issuer="i", audience="a")
            ),
            moto_url="http://127.0.0.1:9",
            region="us-east-1",
            web_dir=web_dir,
            web_config=dict,
        )
    )


async def _statuses(web_dir: Path, paths: list[str]) -> dict[str, int]:
    app: web.Application = _emulator(web_dir).app()
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        found: dict[str, int] = {}
        for path in paths:
            async with client.get(path) as answer:
                found[path] = answer.status
        return found


def test_the_emulator_refuses_paths_no_file_can_have(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<html></html>")
    (tmp_path / "app.js").write_text("1")
    refused = ["/%00", "/a%00b.js", "/%01", "/a%5Cb", "/..%2F..%2Fetc%2Fpasswd", "/" + "a" * 2000]
    served = ["/", "/app.js", "/chat/web-1", "/" + "b" * 300, "/%ff", "/%F0%9F%98%80"]
    statuses = asyncio.run(_statuses(tmp_path, refused + served))
    assert {path: statuses[path] for path in refused} == dict.fromkeys(refused, 400)
    assert {path: statuses[path] for path in served} == dict.fromkeys(served, 200)


def test_a_deployment_without_telegram_answers_the_webhook_404_not_503(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    update = stack.telegram.text_update("hello")
    stack.client("ssm").delete_parameter(
        Name=resources.TELEGRAM_WEBHOOK_SECRET.parameter_name(DEPLOYMENT)
    )
    aws.clear_caches()
    answer = telegram_webhook.handler(telegram_event(update, WEBHOOK_SECRET))
    assert answer["statusCode"] == 404
    assert "no Telegram bot" in body(answer)["error"]["message"]
    monkeypatch.delenv(resources.TELEGRAM_WEBHOOK_SECRET.env_var)
    assert telegram_webhook.handler(telegram_event(update, "x"))["statusCode"] == 404
    assert stack.queue_depth() == 0
