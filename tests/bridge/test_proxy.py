"""The bridge's loopback model proxy, against stand-in upstreams over real HTTP.

What it must do for the agent to run without a key: put the real key (never OpenClaw's
placeholder) in the provider's own header, forward only model endpoints, stream each chunk as it
comes, pass a refusal (401) through unchanged, and sign Bedrock calls with SigV4 so that AWS
(here: a stand-in that checks the signature with botocore) accepts them.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from openclaw_bridge.proxy import (
    PLACEHOLDER_KEY,
    ModelProxy,
    Upstream,
    upstream_for,
)
from openclaw_deploy.runtime.providers import PROVIDERS, get_provider

KEY = "sk-canary-proxy-0123456789"
CREDS = Credentials("AKIDCANARY0123456789", "canary-secret-key-0123456789", "canary-token")
REGION = "eu-west-1"


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class StandIn:
    """An upstream that records each request and answers with `respond`."""

    respond: Callable[[BaseHTTPRequestHandler, Seen], None]
    seen: list[Seen] = field(default_factory=list)
    url: str = ""


@contextmanager
def stand_in(respond: Callable[[BaseHTTPRequestHandler, Seen], None]) -> Iterator[StandIn]:
    state = StandIn(respond=respond)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            seen = Seen(
                method=self.command,
                path=self.path,
                headers={k.lower(): v for k, v in self.headers.items()},
                body=self.rfile.read(length) if length else b"",
            )
            state.seen.append(seen)
            state.respond(self, seen)

        do_GET = do_POST = do_PUT = _any  # noqa: N815

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


def json_answer(
    status: int, body: dict[str, Any]
) -> Callable[[BaseHTTPRequestHandler, Seen], None]:
    def respond(handler: BaseHTTPRequestHandler, _seen: Seen) -> None:
        data = json.dumps(body).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return respond


def route(provider_id: str, base: str) -> Upstream:
    return upstream_for(get_provider(provider_id), base_url=base, region=REGION)


# What OpenClaw sends: its placeholder in every credential header a client might use.
OPENCLAW_HEADERS = {
    "Authorization": f"Bearer {PLACEHOLDER_KEY}",
    "x-api-key": PLACEHOLDER_KEY,
    "Cookie": "session=stolen",
    "X-Amz-Security-Token": "forged",
    "Content-Type": "application/json",
    "anthropic-version": "2023-06-01",
}


@pytest.mark.parametrize(
    ("provider", "path", "header", "value"),
    [
        ("openai", "chat/completions", "authorization", f"Bearer {KEY}"),
        ("openrouter", "chat/completions", "authorization", f"Bearer {KEY}"),
        ("deepseek", "chat/completions", "authorization", f"Bearer {KEY}"),
        ("anthropic", "v1/messages", "x-api-key", KEY),
    ],
)
def test_the_real_key_replaces_openclaws_placeholder_in_the_providers_header(
    provider: str, path: str, header: str, value: str
) -> None:
    with (
        stand_in(json_answer(200, {"ok": True})) as upstream,
        ModelProxy([route(provider, upstream.url + "/api")], key_for=lambda _p: KEY) as proxy,
    ):
        answer = httpx.post(
            f"{proxy.url(provider)}/{path}", headers=OPENCLAW_HEADERS, content=b'{"x":1}'
        )
    assert answer.status_code == 200, answer.text
    [seen] = upstream.seen
    assert seen.path == f"/api/{path}"
    assert seen.body == b'{"x":1}'
    assert seen.headers[header] == value
    forwarded = json.dumps(seen.headers)
    assert PLACEHOLDER_KEY not in forwarded
    assert "stolen" not in forwarded and "forged" not in forwarded
    other = {"authorization", "x-api-key"} - {header}
    assert not other & set(seen.headers), "only the provider's own header carries a key"
    assert seen.headers["anthropic-version"] == "2023-06-01"  # other headers pass


def test_a_key_changed_while_running_applies_to_the_next_request_and_none_is_refused() -> None:
    keys: dict[str, str | None] = {"openai": "sk-first"}
    with (
        stand_in(json_answer(200, {})) as upstream,
        ModelProxy([route("openai", upstream.url)], key_for=keys.get) as proxy,
    ):
        httpx.post(f"{proxy.url('openai')}/chat/completions", content=b"{}")
        keys["openai"] = "sk-second"
        httpx.post(f"{proxy.url('openai')}/chat/completions", content=b"{}")
        keys["openai"] = None
        refused = httpx.post(f"{proxy.url('openai')}/chat/completions", content=b"{}")
    assert [s.headers["authorization"] for s in upstream.seen] == [
        "Bearer sk-first",
        "Bearer sk-second",
    ]
    assert refused.status_code == 401
    assert "no API key" in refused.json()["error"]["message"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("POST", "/openai/files", 404),
        ("GET", "/openai/chat/completions", 405),
        ("DELETE", "/openai/chat/completions", 405),
        ("POST", "/openai/../openai/chat/completions", 404),
        ("POST", "/openai/chat/completions/../../admin", 404),
        ("POST", "/openai//chat/completions", 404),
        ("GET", "/openai/organization/users", 404),
        ("POST", "/anthropic/v1/files", 404),
        ("POST", "/nobody/chat/completions", 404),
        ("POST", "/", 404),
        ("POST", "/bedrock/model/x/converse/../../../guardrails", 404),
        ("GET", "/bedrock/foundation-models", 404),
    ],
)
def test_only_the_providers_model_endpoints_are_forwarded(
    method: str, path: str, status: int
) -> None:
    with stand_in(json_answer(200, {})) as upstream:
        routes = [route(p, upstream.url) for p in ("openai", "anthropic", "bedrock")]
        with ModelProxy(routes, key_for=lambda _p: KEY, credentials=lambda: CREDS) as proxy:
            # http.client sends the path as given (httpx would remove the dot segments).
            connection = http.client.HTTPConnection("127.0.0.1", proxy.port, timeout=10)
            connection.request(method, path, body=b"{}")
            answer = connection.getresponse()
            text = answer.read().decode()
            connection.close()
    assert answer.status == status, text
    assert upstream.seen == [], "a refused request never reaches the provider"
    assert KEY not in text


def test_the_upstreams_refusal_passes_through_unchanged() -> None:
    refusal = {"error": {"message": "Incorrect API key provided", "type": "invalid_request"}}
    with (
        stand_in(json_answer(401, refusal)) as upstream,
        ModelProxy([route("openai", upstream.url)], key_for=lambda _p: KEY) as proxy,
    ):
        answer = httpx.post(f"{proxy.url('openai')}/chat/completions", content=b"{}")
    assert answer.status_code == 401
    assert answer.json() == refusal


def test_a_stream_passes_through_chunk_by_chunk() -> None:
    # The upstream sends its first event, then waits until the client has read it before it
    # sends the rest: a proxy that buffered the answer would never deliver the first event.
    delivered = threading.Event()
    waited: list[bool] = []

    def respond(handler: BaseHTTPRequestHandler, _seen: Seen) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b'data: {"n":1}\n\n')
        handler.wfile.flush()
        waited.append(delivered.wait(timeout=10))
        for n in (2, 3):
            handler.wfile.write(f'data: {{"n":{n}}}\n\n'.encode())
            handler.wfile.flush()
        handler.wfile.write(b"data: [DONE]\n\n")

    events: list[str] = []
    with (
        stand_in(respond) as upstream,
        ModelProxy([route("openai", upstream.url)], key_for=lambda _p: KEY) as proxy,
        httpx.stream(
            "POST", f"{proxy.url('openai')}/chat/completions", content=b"{}", timeout=20
        ) as answer,
    ):
        assert answer.headers["content-type"] == "text/event-stream"
        for line in answer.iter_lines():
            if line.startswith("data: "):
                events.append(line[6:])
                delivered.set()
    assert waited == [True], "the first event reached the client while the upstream waited"
    assert events == ['{"n":1}', '{"n":2}', '{"n":3}', "[DONE]"]


def _verify_sigv4(seen: Seen, url: str, credentials: Credentials) -> bool:
    """Check a request's SigV4 signature as AWS would: recompute it over the signed headers."""
    auth = seen.headers["authorization"]
    signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
    given = auth.split("Signature=")[1]
    request = AWSRequest(
        method=seen.method,
        url=url + seen.path,
        data=seen.body,
        headers={name: seen.headers[name] for name in signed},
    )
    request.context["timestamp"] = seen.headers["x-amz-date"]
    signer = SigV4Auth(credentials, "bedrock", REGION)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    return bool(expected == given)


def test_bedrock_calls_are_signed_with_the_bridges_credentials() -> None:
    with stand_in(json_answer(200, {"output": {}})) as upstream:
        with ModelProxy(
            [route("bedrock", upstream.url)], key_for=lambda _p: None, credentials=lambda: CREDS
        ) as proxy:
            model = "eu.anthropic.claude-sonnet-4-5-20250929-v1%3A0"
            answer = httpx.post(
                f"{proxy.url('bedrock')}/model/{model}/converse-stream",
                headers=OPENCLAW_HEADERS,
                content=b'{"messages":[]}',
            )
        assert answer.status_code == 200, answer.text
        [seen] = upstream.seen
        assert seen.path == f"/model/{model}/converse-stream"
        assert seen.headers["authorization"].startswith(
            f"AWS4-HMAC-SHA256 Credential={CREDS.access_key}/"
        )
        assert f"/{REGION}/bedrock/aws4_request" in seen.headers["authorization"]
        assert seen.headers["x-amz-security-token"] == CREDS.token
        assert PLACEHOLDER_KEY not in json.dumps(seen.headers)
        assert _verify_sigv4(seen, upstream.url, CREDS)
        # The check can fail: another secret, or a body changed on the way, does not verify.
        assert not _verify_sigv4(seen, upstream.url, Credentials(CREDS.access_key, "x", "t"))
        tampered = Seen(seen.method, seen.path, seen.headers, b'{"messages":[1]}')
        assert not _verify_sigv4(tampered, upstream.url, CREDS)


def test_bedrock_without_credentials_is_refused_before_leaving() -> None:
    with (
        stand_in(json_answer(200, {})) as upstream,
        ModelProxy(
            [route("bedrock", upstream.url)], key_for=lambda _p: None, credentials=lambda: None
        ) as proxy,
    ):
        answer = httpx.post(f"{proxy.url('bedrock')}/model/m/converse", content=b"{}")
    assert answer.status_code == 401
    assert upstream.seen == []


def test_every_provider_has_a_route() -> None:
    for provider in PROVIDERS.values():
        base = "http://127.0.0.1:9/v1" if provider.base_url is None else None
        upstream = upstream_for(provider, base_url=base, region=REGION)
        assert upstream.provider_id == provider.id
        assert upstream.paths, provider.id
