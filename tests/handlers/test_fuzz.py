"""hypothesis throws odd event shapes at every handler: none may raise or answer 5xx.

Events are generated both fully at random and as near-misses of the real shapes (a real envelope
with random routes, headers, query strings and bodies), since a random dict rarely gets past the
first check.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from openclaw_deploy.handlers import api, telegram_webhook, watchdog, ws
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.pairing import Pairing
from tests.handlers.conftest import DEPLOYMENT, WEBHOOK_SECRET, Stack
from tests.handlers.events import http_event, telegram_event, ws_event

FUZZ = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
any_event = st.dictionaries(
    st.sampled_from(
        [
            "requestContext",
            "body",
            "headers",
            "queryStringParameters",
            "isBase64Encoded",
            "rawPath",
            "routeKey",
            "pathParameters",
            "version",
        ]
    )
    | st.text(max_size=8),
    json_values,
    max_size=6,
)


# The shapes that once got a 5xx: nesting past any recursion limit, digits of other scripts,
# lone UTF-16 surrogates (valid JSON escapes, invalid UTF-8), NULs.
surrogates = st.integers(0xD800, 0xDFFF).map(chr)
hostile_text = st.lists(
    st.text(max_size=8) | surrogates | st.sampled_from(["\x00", "\ufffe", "\U0001f600", "²"]),
    min_size=1,
    max_size=6,
).map("".join)
unicode_digits = st.sampled_from(
    ["²", "٣", "１２", "⁵⁰", "৫", "1" * 5000, " 5", "5 ", "+5", "5_0", "0x10", "-1", "\x00"]
)


@st.composite
def deep_json(draw: st.DrawFn) -> str:
    """Arrays or objects nested 30 to 5000 deep, maybe inside a real-looking envelope."""
    depth = draw(st.integers(30, 5000))
    kind = draw(st.sampled_from(["[", '{"a":', "mixed"]))
    if kind == "[":
        core = "[" * depth + "]" * depth
    elif kind == '{"a":':
        core = '{"a":' * depth + "1" + "}" * depth
    else:
        core = '{"a":[' * (depth // 2) + "0" + "]}" * (depth // 2)
    key = draw(st.sampled_from(["text", "update_id", "provider", "id", "message"]))
    return draw(
        st.sampled_from([core, f'{{"{key}":{core}}}', f'{{"type":"chat.send","x":{core}}}'])
    )


def bodies(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return (
        values.map(json.dumps)
        | deep_json()
        | st.text(max_size=200)
        | st.binary(max_size=60).map(lambda b: base64.b64encode(b).decode())
        | st.none()
    )


def assert_answered(answer: Any) -> None:
    assert isinstance(answer, dict)
    assert isinstance(answer["statusCode"], int)
    assert answer["statusCode"] < 500, answer


ROUTES = [
    ("POST", "/api/ws-ticket"),
    ("GET", "/api/conversations"),
    ("GET", "/api/conversations/{x}/messages"),
    ("GET", "/api/settings"),
    ("PUT", "/api/settings"),
    ("GET", "/api/agent"),
    ("POST", "/api/agent/start"),
    ("POST", "/api/agent/stop"),
    ("GET", "/api/pairing"),
    ("POST", "/api/pairing/code"),
    ("POST", "/api/pairing/{x}/approve"),
    ("DELETE", "/api/pairing/{x}"),
    ("GET", "/api/{x}"),
    ("POST", "/{x}"),
    ("POST", "/telegram"),
]
settings_like = st.dictionaries(
    st.sampled_from(["provider", "model", "idleTimeoutMinutes", "updatedAt"]) | st.text(max_size=5),
    json_values | st.sampled_from(["anthropic", "offline", "gpt-4.1", 15, 0, 241, "15"]),
    max_size=4,
)


def mostly(draw: st.DrawFn, likely: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> Any:
    """Draw from `likely` four times in five: near-misses get further than noise."""
    return draw(likely if draw(st.sampled_from([True, True, True, True, False])) else odd)


@st.composite
def api_events(draw: st.DrawFn) -> dict[str, Any]:
    method, path = draw(st.sampled_from(ROUTES))
    segment = mostly(
        draw,
        st.sampled_from(["web-1", "ABCDEFGH", "4242", "s:1"]),
        (st.text(max_size=20) | hostile_text | unicode_digits).map(lambda s: s.replace("/", "")),
    )
    event = http_event(
        mostly(draw, st.just(method), st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH"])),
        path.replace("{x}", segment),
        raw_body=draw(bodies(settings_like | json_values)),
        query=draw(
            st.none()
            | st.dictionaries(
                st.sampled_from(["limit", "before"]) | st.text(max_size=5),
                st.text(max_size=30)
                | unicode_digits
                | hostile_text
                | st.sampled_from(["1", "50", "0000000000001#m#u"]),
                max_size=3,
            )
        ),
        sub=mostly(draw, st.just("owner"), st.none() | st.text(max_size=10)),
    )
    event["isBase64Encoded"] = mostly(draw, st.just(False), st.booleans())
    return event


@given(event=api_events() | any_event)
@FUZZ
def test_api_handler_never_fails_on_odd_events(stack: Stack, event: dict[str, Any]) -> None:
    assert_answered(api.handler(event))


frame_like = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["chat.send", "ping", "resume", "other"]) | json_values,
        "id": st.sampled_from(["m1", "a:b.c-d_e"]) | json_values,
        "session": st.sampled_from(["s1"]) | json_values,
        "text": st.text(max_size=50) | hostile_text | json_values,
    },
)


@st.composite
def ws_events(draw: st.DrawFn) -> dict[str, Any]:
    route = draw(st.sampled_from(["$connect", "$disconnect", "$default", "sendmessage"]))
    event = ws_event(
        route,
        draw(st.text(min_size=1, max_size=20)),
        raw_body=draw(bodies(frame_like | json_values)),
        query=draw(
            st.none()
            | st.dictionaries(
                st.sampled_from(["ticket"]) | st.text(max_size=5), st.text(max_size=80), max_size=2
            )
        ),
    )
    if draw(st.booleans()):
        event["requestContext"]["connectionId"] = draw(json_values)
    return event


@given(event=ws_events() | any_event)
@FUZZ
def test_ws_handler_never_fails_on_odd_events(stack: Stack, event: dict[str, Any]) -> None:
    answer = ws.handler(event)
    assert_answered(answer)
    if (
        event.get("requestContext", {}).get("routeKey") == "$connect"
        if isinstance(event.get("requestContext"), dict)
        else False
    ):
        assert answer["statusCode"] != 200, "no random ticket opens a connection"


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    sender: Any = {
        "id": mostly(draw, st.sampled_from([4242, 4242, 4242, 777]), json_values),
        "is_bot": mostly(draw, st.just(False), json_values),
        "first_name": mostly(draw, st.text(max_size=20), json_values),
    }
    chat: Any = {
        "id": mostly(draw, st.just(sender["id"]), json_values),
        "type": mostly(draw, st.just("private"), st.sampled_from(["group", "channel"])),
    }
    text = mostly(
        draw,
        st.sampled_from(
            [
                "/start",
                "/help",
                "/status",
                "/new",
                "/pair",
                "/pair ABCDEFGH",
                "hello",
                "/x@bot y",
                "<b>&amp;</b> & <",
            ]
        )
        | st.text(min_size=1, max_size=60)
        | hostile_text,
        json_values,
    )
    message: dict[str, Any] = {
        "message_id": mostly(draw, st.integers(1, 10**6), json_values),
        "from": mostly(draw, st.just(sender), json_values),
        "chat": mostly(draw, st.just(chat), json_values),
    }
    if draw(st.sampled_from([True, True, True, True, False])):
        message["text"] = text
    else:
        message[draw(st.sampled_from(["photo", "sticker", "voice"]))] = draw(json_values)
    return message


@st.composite
def updates(draw: st.DrawFn) -> Any:
    update: dict[str, Any] = {
        "update_id": mostly(draw, st.integers(0, 10**12), json_values),
        draw(
            st.sampled_from(
                ["message"] * 6
                + ["edited_message", "channel_post", "my_chat_member", "callback_query"]
            )
        ): draw(messages()),
    }
    return update if draw(st.sampled_from([True] * 9 + [False])) else draw(json_values)


@given(
    update=updates() | deep_json(),
    secret=st.sampled_from([WEBHOOK_SECRET] * 8 + ["nope", None]),
)
@FUZZ
def test_telegram_webhook_never_fails_on_odd_updates(
    stack: Stack, update: Any, secret: str | None
) -> None:
    pairing = Pairing(aws.dynamodb(), resources.PAIRING.physical_name(DEPLOYMENT))
    if not pairing.is_paired(4242):  # 4242 reaches commands and the agent; 777 stays a stranger
        pairing.redeem(pairing.create_code().code, 4242, "Ada", 4242)
    raw = update if isinstance(update, str) else json.dumps(update)
    answer = telegram_webhook.handler(telegram_event(None, secret, raw_body=raw))
    assert_answered(answer)
    if secret != WEBHOOK_SECRET:
        assert answer["statusCode"] == 401
    elif answer["statusCode"] == 200 and answer.get("body"):
        # Whatever it says back must be something Telegram accepts.
        result = stack.telegram.apply_webhook_reply(json.loads(answer["body"]))
        assert result is None or result["ok"], result


@given(event=any_event | json_values)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_watchdog_ignores_whatever_the_schedule_sends(stack: Stack, event: Any) -> None:
    report = watchdog.handler(event, None)
    assert report["state"] in ("Idle", "Starting", "Running", "Stopping")
