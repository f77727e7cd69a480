"""Bedrock behind the model proxy: OpenClaw's Anthropic Messages calls as InvokeModel calls.

Against the Bedrock Runtime stand-in (tests/fakes/bedrock_runtime.py), which checks the SigV4
signature with botocore, the body against Bedrock's Anthropic schema, and answers a real AWS
event stream: the answer must come back as Anthropic's SSE, and Bedrock's refusals as
Anthropic-shaped errors that say what to do.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from botocore.credentials import Credentials

from openclaw_bridge.bedrock import (
    ANTHROPIC_VERSION,
    BedrockRequestError,
    messages_call,
    stream_events,
)
from openclaw_bridge.proxy import PLACEHOLDER_KEY, ModelProxy, upstream_for
from openclaw_deploy.runtime.providers import get_provider
from tests.fakes.bedrock_runtime import (
    BedrockRuntime,
    anthropic_events,
    bedrock_runtime,
    chunk_event,
    exception_event,
)

CREDS = Credentials("AKIDBEDROCK0123456789", "bedrock-secret-0123456789", "bedrock-token")
REGION = "eu-west-1"
MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
PROFILE = f"eu.{MODEL}"
# What OpenClaw's Anthropic client sends (its placeholder key included).
OPENCLAW_HEADERS = {
    "content-type": "application/json",
    "accept": "application/json",
    "x-api-key": PLACEHOLDER_KEY,
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "fine-grained-tool-streaming-2025-05-14,interleaved-thinking-2025-05-14",
}


def messages(model: str = MODEL, *, stream: bool = True, **extra: Any) -> dict[str, Any]:
    return {
        "model": model,
        "max_tokens": 1024,
        "stream": stream,
        "system": [{"type": "text", "text": "You are helpful."}],
        "messages": [{"role": "user", "content": "hi"}],
        **extra,
    }


def sse(text: str) -> list[tuple[str, dict[str, Any]]]:
    """(event name, data) of each SSE event."""
    events = []
    for block in text.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        events.append((lines["event"], json.loads(lines["data"])))
    return events


# -- the translation -------------------------------------------------------------------------


def test_a_messages_request_becomes_invoke_with_response_stream_of_the_regions_profile() -> None:
    call = messages_call(
        base_url="https://bedrock-runtime.eu-west-1.amazonaws.com",
        region=REGION,
        path="v1/messages",
        incoming=OPENCLAW_HEADERS.items(),
        body=json.dumps(
            messages(metadata={"user_id": "u1", "session": "s"}, service_tier="auto")
        ).encode(),
    )
    assert call.url == (
        "https://bedrock-runtime.eu-west-1.amazonaws.com/model/"
        f"{PROFILE}/invoke-with-response-stream"
    )
    assert call.stream and call.model == PROFILE
    body = json.loads(call.body)
    assert body["anthropic_version"] == ANTHROPIC_VERSION
    for dropped in ("model", "stream", "service_tier"):
        assert dropped not in body
    assert body["metadata"] == {"user_id": "u1"}
    # Betas Bedrock takes go in the body; first-party-only ones are left out.
    assert body["anthropic_beta"] == ["interleaved-thinking-2025-05-14"]
    assert body["messages"] == [{"role": "user", "content": "hi"}]


def test_without_stream_it_is_invoke_and_an_arn_is_one_path_segment() -> None:
    arn = "arn:aws:bedrock:eu-west-1:123456789012:application-inference-profile/abc123"
    call = messages_call(
        base_url="http://x",
        region=REGION,
        path="v1/messages",
        incoming=[],
        body=json.dumps(messages(arn, stream=False)).encode(),
    )
    assert call.url == (
        "http://x/model/arn:aws:bedrock:eu-west-1:123456789012:"
        "application-inference-profile%2Fabc123/invoke"
    )
    assert not call.stream
    assert "anthropic_beta" not in json.loads(call.body)


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("v1/messages/count_tokens", b"{}", 404),
        ("v1/messages", b"not json", 400),
        ("v1/messages", b'{"max_tokens": 5}', 400),
        ("v1/messages", b'{"model": ".."}', 400),
    ],
)
def test_requests_bedrock_cannot_take_are_refused_here(path: str, body: bytes, status: int) -> None:
    with pytest.raises(BedrockRequestError) as refused:
        messages_call(base_url="http://x", region=REGION, path=path, incoming=[], body=body)
    assert refused.value.status == status


def test_the_event_stream_becomes_anthropic_sse_even_split_anywhere() -> None:
    events = anthropic_events(PROFILE, ["hello ", "there"])
    raw = b"".join(chunk_event(e) for e in events)
    # One byte at a time: each event comes out once it is complete, not at the end.
    out = list(stream_events(raw[i : i + 1] for i in range(len(raw))))
    assert len(out) == len(events)
    parsed = sse(b"".join(out).decode())
    assert [name for name, _ in parsed] == [e["type"] for e in events]
    assert [data for _, data in parsed] == events


def test_an_exception_in_the_stream_ends_it_with_an_anthropic_error_event() -> None:
    raw = chunk_event(anthropic_events(PROFILE, ["x"])[0]) + exception_event(
        "throttlingException", "slow down"
    )
    parsed = sse(b"".join(stream_events([raw])).decode())
    assert parsed[-1][0] == "error"
    assert parsed[-1][1]["error"]["type"] == "rate_limit_error"
    assert "slow down" in parsed[-1][1]["error"]["message"]


# -- through the proxy to the stand-in ---------------------------------------------------------


def proxy_to(runtime: BedrockRuntime, credentials: Credentials = CREDS) -> ModelProxy:
    route = upstream_for(get_provider("bedrock"), base_url=runtime.url, region=REGION)
    return ModelProxy([route], key_for=lambda _p: None, credentials=lambda: credentials)


def post(proxy: ModelProxy, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{proxy.url('bedrock')}/v1/messages",
        headers=OPENCLAW_HEADERS,
        content=json.dumps(body).encode(),
        timeout=10,
    )


def test_a_streamed_turn_is_signed_for_bedrock_and_answered_as_anthropic_sse() -> None:
    with bedrock_runtime(CREDS, REGION) as runtime, proxy_to(runtime) as proxy:
        answer = post(proxy, messages())
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/event-stream"
    parsed = sse(answer.text)
    assert parsed[0][0] == "message_start"
    assert parsed[-1][0] == "message_stop"
    text = "".join(d["delta"]["text"] for n, d in parsed if n == "content_block_delta")
    assert text == runtime.reply(PROFILE)
    assert runtime.refusals == []
    [invocation] = runtime.invocations
    assert invocation.model == PROFILE
    assert invocation.action == "invoke-with-response-stream"
    assert (invocation.access_key, invocation.region, invocation.service) == (
        CREDS.access_key,
        REGION,
        "bedrock",
    )
    assert "model" not in invocation.body and "stream" not in invocation.body


def test_other_credentials_do_not_verify() -> None:
    # The stand-in's check can fail: a signature made with another secret is refused.
    other = Credentials(CREDS.access_key, "another-secret", CREDS.token)
    with bedrock_runtime(CREDS, REGION) as runtime, proxy_to(runtime, other) as proxy:
        answer = post(proxy, messages())
    assert answer.status_code == 403
    assert runtime.refusals == ["InvalidSignatureException"]
    assert answer.json()["error"]["type"] == "permission_error"


def test_without_stream_the_message_comes_back_as_json() -> None:
    with bedrock_runtime(CREDS, REGION) as runtime, proxy_to(runtime) as proxy:
        answer = post(proxy, messages(stream=False))
    assert answer.status_code == 200, answer.text
    assert answer.json()["content"] == [{"type": "text", "text": runtime.reply(PROFILE)}]
    assert runtime.invocations[0].action == "invoke"


@pytest.mark.parametrize(
    ("model", "status", "kind", "says"),
    [
        (
            "anthropic.denied-v1:0",
            403,
            "permission_error",
            "grant it with: openclaw-deploy init --provider bedrock --model anthropic.denied-v1:0",
        ),
        ("anthropic.no-access-v1:0", 403, "permission_error", "model access page"),
        ("anthropic.throttled-v1:0", 429, "rate_limit_error", "ThrottlingException"),
    ],
)
def test_bedrocks_refusals_become_anthropic_errors_that_say_what_to_do(
    model: str, status: int, kind: str, says: str
) -> None:
    with bedrock_runtime(CREDS, REGION) as runtime, proxy_to(runtime) as proxy:
        answer = post(proxy, messages(model))
    assert answer.status_code == status
    error = answer.json()
    assert error["type"] == "error"
    assert error["error"]["type"] == kind
    assert says in error["error"]["message"]


def test_a_field_bedrock_rejects_is_a_400_invalid_request() -> None:
    with bedrock_runtime(CREDS, REGION) as runtime, proxy_to(runtime) as proxy:
        answer = post(proxy, messages(some_new_field=True))
    assert answer.status_code == 400
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert "some_new_field" in answer.json()["error"]["message"]
    assert runtime.refusals == ["ValidationException"]


def test_a_stream_that_breaks_off_ends_with_an_error_event() -> None:
    with bedrock_runtime(CREDS, REGION) as runtime, proxy_to(runtime) as proxy:
        answer = post(proxy, messages("anthropic.broken-v1:0"))
    assert answer.status_code == 200
    parsed = sse(answer.text)
    assert parsed[0][0] == "message_start"
    assert parsed[-1][0] == "error"
    assert parsed[-1][1]["error"]["type"] == "api_error"


def test_bedrocks_own_endpoints_still_pass_through_signed() -> None:
    with bedrock_runtime(CREDS, REGION) as runtime, proxy_to(runtime) as proxy:
        body = {**messages(), "anthropic_version": ANTHROPIC_VERSION}
        del body["model"], body["stream"]
        answer = httpx.post(
            f"{proxy.url('bedrock')}/model/{PROFILE}/invoke",
            headers={"content-type": "application/json"},
            content=json.dumps(body).encode(),
            timeout=10,
        )
    assert answer.status_code == 200, answer.text
    assert runtime.invocations[0].model == PROFILE
