"""The loopback model proxy: OpenClaw reaches its model through the bridge, which adds the key.

OpenClaw runs tools a language model chooses, so it is treated as untrusted: it never holds the
provider's key or the task role. Its config names, for each provider, a base URL on this proxy
(`http://127.0.0.1:<port>/<provider id>`) and a placeholder key. For each request the proxy

* refuses anything but the provider's model endpoints (an allow-list of method and path: chat
  completions, responses, messages, Converse, ...): 404 for another path, 405 for another method;
* drops whatever credentials OpenClaw sent (`Authorization`, `x-api-key`, `x-amz-*`, cookies)
  and the hop-by-hop headers;
* adds the real key in the provider's own header (`key_for(provider id)`, asked per request, so
  a key changed while the agent runs applies to its next call), or for Bedrock signs the request
  with SigV4 using the bridge's task-role credentials (botocore);
* streams the answer back as it arrives (each chunk of an SSE stream is written and flushed at
  once) and passes the upstream's status through unchanged, a 401/403 included, so the bridge
  can tell the owner which key was refused.

Stdlib HTTP server, httpx upstream (it honours HTTPS_PROXY and the CA settings of the task).
"""

from __future__ import annotations

import json
import logging
import re
import socket
import sys
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import httpx

log = logging.getLogger("openclaw_bridge.proxy")

AuthKind = Literal["header", "sigv4", "none"]
KeyLookup = Callable[[str], "str | None"]
CredentialsLookup = Callable[[], Any]
"""Returns botocore credentials (`access_key`, `secret_key`, `token`), refreshed as needed."""

MAX_BODY_BYTES: Final = 32 * 1024 * 1024
"""A request body larger than this is refused (413): a prompt with images stays well under."""
HOP_BY_HOP: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "host",
        "content-length",
    }
)
CREDENTIAL_HEADERS: Final = frozenset(
    {
        "authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "x-subscription-token",
        "cookie",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
    }
)
SIGNED_PASS_THROUGH: Final = ("content-type", "accept")
"""The only headers of OpenClaw's that a SigV4-signed request carries (all of them signed)."""

# The model endpoints of each wire format, relative to the provider's base URL.
OPENAI_PATHS: Final = (
    ("POST", r"chat/completions"),
    ("POST", r"responses"),
    ("POST", r"completions"),
    ("POST", r"embeddings"),
    ("GET", r"models"),
)
ANTHROPIC_PATHS: Final = (
    ("POST", r"v1/messages"),
    ("POST", r"v1/messages/count_tokens"),
    ("GET", r"v1/models"),
)
BEDROCK_PATHS: Final = (
    ("POST", r"model/[^/]+/converse"),
    ("POST", r"model/[^/]+/converse-stream"),
    ("POST", r"model/[^/]+/invoke"),
    ("POST", r"model/[^/]+/invoke-with-response-stream"),
)
GEMINI_PATHS: Final = (
    ("POST", r"(v1beta/|v1/)?models/[^/:]+:(generateContent|streamGenerateContent|countTokens)"),
    ("GET", r"(v1beta/|v1/)?models"),
)
PLACEHOLDER_KEY: Final = "via-bridge-proxy"
"""What OpenClaw's config holds instead of a key: the proxy replaces it (not a secret)."""
WIRE_PATHS: Final = {
    "openai": OPENAI_PATHS,
    "anthropic": ANTHROPIC_PATHS,
    "bedrock": BEDROCK_PATHS,
    "gemini": GEMINI_PATHS,
}


@dataclass(frozen=True, kw_only=True)
class Upstream:
    """Where one provider's requests go and how they are authenticated."""

    provider_id: str
    """The first path segment on the proxy (`/<provider_id>/...`) and the `key_for` argument."""
    base_url: str
    """The provider's API root; an allowed path is appended to it."""
    paths: tuple[tuple[str, str], ...]
    """(method, path regex) pairs, matched in full against the path after the provider id."""
    auth: AuthKind = "header"
    auth_header: str = "Authorization"
    auth_scheme: str | None = "Bearer"
    """Prefix of the header's value (`Bearer <key>`); None sends the key alone (`x-api-key`)."""
    key_optional: bool = False
    """Without a key the request goes on unauthenticated (a self-hosted server)."""
    extra_headers: Mapping[str, str] = field(default_factory=dict)
    """Headers the provider requires beside the key (e.g. `anthropic-version` when absent)."""
    region: str | None = None
    """Bedrock: the region to sign for."""
    service: str = "bedrock"

    def allows(self, method: str, path: str) -> bool:
        return any(
            method == allowed and re.fullmatch(pattern, path) for allowed, pattern in self.paths
        )

    def knows(self, path: str) -> bool:
        return any(re.fullmatch(pattern, path) for _, pattern in self.paths)


class ProxyError(Exception):
    """A request the proxy answers itself (refused, or the upstream unreachable)."""

    def __init__(self, status: int, message: str, kind: str) -> None:
        super().__init__(message)
        self.status = status
        self.kind = kind


def _error_body(message: str, kind: str) -> bytes:
    # The shape OpenAI-compatible and Anthropic clients both read a message from.
    return json.dumps({"error": {"message": message, "type": kind}}).encode()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    proxy: ModelProxy

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that drops a kept-alive connection is normal; anything else is logged once,
        # without the request (it may carry a prompt).
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError | TimeoutError):
            log.warning("model proxy: %s", type(error).__name__)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        # Each streamed chunk is a small write right after another: without this, Nagle's
        # algorithm holds it until the client's delayed ACK (about 40 ms on Linux).
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the bridge logs refusals and failures itself."""

    def _refuse(self, error: ProxyError) -> None:
        body = _error_body(str(error), error.kind)
        self.send_response(error.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self) -> None:
        proxy = self.server.proxy
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY_BYTES:
            self.close_connection = True
            self._refuse(ProxyError(413, "request body too large or malformed", "invalid_request"))
            return
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self.close_connection = True
            self._refuse(ProxyError(411, "send a Content-Length", "invalid_request"))
            return
        body = self.rfile.read(length) if length else b""
        try:
            proxy.forward(self.command, self.path, self.headers.items(), body, self)
        except ProxyError as error:
            log.warning(
                "model proxy refused %s %s: %s", self.command, self.path.split("?")[0], error
            )
            self._refuse(error)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _other(self) -> None:
        self._refuse(ProxyError(405, "method not allowed", "not_allowed"))

    def do_PUT(self) -> None:
        self._other()

    def do_DELETE(self) -> None:
        self._other()

    def do_PATCH(self) -> None:
        self._other()

    def do_OPTIONS(self) -> None:
        self._other()


class ModelProxy:
    """The proxy server; `start()` serves it on a loopback port in a background thread."""

    def __init__(
        self,
        upstreams: Iterable[Upstream],
        *,
        key_for: KeyLookup,
        credentials: CredentialsLookup | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        http: httpx.Client | None = None,
    ) -> None:
        self._upstreams = {u.provider_id: u for u in upstreams}
        self._key_for = key_for
        self._credentials = credentials
        self._http = http or httpx.Client(
            # A turn may think for minutes between two tokens.
            timeout=httpx.Timeout(connect=10.0, read=900.0, write=60.0, pool=30.0),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
            follow_redirects=False,
        )
        self._server = _Server((host, port), _Handler)
        self._server.proxy = self
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.1,), name="model-proxy", daemon=True
        )

    def start(self) -> ModelProxy:
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def set_upstream(self, upstream: Upstream) -> None:
        """Add or replace one provider's route (an endpoint the owner chose while it runs)."""
        self._upstreams = {**self._upstreams, upstream.provider_id: upstream}

    def upstream(self, provider_id: str) -> Upstream | None:
        return self._upstreams.get(provider_id)

    def url(self, provider_id: str) -> str:
        """The base URL OpenClaw's config names for `provider_id`."""
        return f"http://127.0.0.1:{self.port}/{provider_id}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        self._http.close()

    def __enter__(self) -> ModelProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- one request ---------------------------------------------------------------------------

    def route(self, method: str, raw_path: str) -> tuple[Upstream, str]:
        """The upstream and the full upstream URL for a request, or ProxyError."""
        path, _, query = raw_path.partition("?")
        provider_id, _, rest = path.lstrip("/").partition("/")
        upstream = self._upstreams.get(provider_id)
        if upstream is None:
            raise ProxyError(404, "no such provider on this proxy", "not_found")
        if ".." in rest.split("/") or "//" in rest:
            raise ProxyError(404, "not a model endpoint", "not_found")
        if not upstream.allows(method, rest):
            if upstream.knows(rest):
                raise ProxyError(405, "method not allowed", "not_allowed")
            raise ProxyError(404, "not a model endpoint", "not_found")
        url = upstream.base_url.rstrip("/") + "/" + rest + (f"?{query}" if query else "")
        return upstream, url

    def headers_for(
        self,
        upstream: Upstream,
        method: str,
        url: str,
        incoming: Iterable[tuple[str, str]],
        body: bytes,
    ) -> dict[str, str]:
        """The headers sent upstream: OpenClaw's, minus credentials and hop-by-hop ones, plus
        the real key (or a SigV4 signature)."""
        kept: dict[str, str] = {}
        for name, value in incoming:
            lower = name.lower()
            if lower in HOP_BY_HOP or lower in CREDENTIAL_HEADERS or lower.startswith("x-amz-"):
                continue
            kept[lower] = value
        if upstream.auth == "sigv4":
            return self._signed(upstream, method, url, kept, body)
        for name, value in upstream.extra_headers.items():
            kept.setdefault(name.lower(), value)
        if upstream.auth == "header":
            key = self._key_for(upstream.provider_id)
            if key:
                value = f"{upstream.auth_scheme} {key}" if upstream.auth_scheme else key
                kept[upstream.auth_header.lower()] = value
            elif not upstream.key_optional:
                raise ProxyError(
                    401, f"no API key is set for {upstream.provider_id}", "authentication_error"
                )
        return kept

    def _signed(
        self, upstream: Upstream, method: str, url: str, kept: Mapping[str, str], body: bytes
    ) -> dict[str, str]:
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest

        credentials = self._credentials() if self._credentials is not None else None
        if credentials is None or upstream.region is None:
            raise ProxyError(401, "the agent has no AWS credentials to sign with", "auth_error")
        frozen = (
            credentials.get_frozen_credentials()
            if hasattr(credentials, "get_frozen_credentials")
            else credentials
        )
        headers = {name: kept[name] for name in SIGNED_PASS_THROUGH if name in kept}
        request = AWSRequest(method=method, url=url, data=body, headers=headers)
        SigV4Auth(frozen, upstream.service, upstream.region).add_auth(request)
        return {name.lower(): str(value) for name, value in request.headers.items()}

    def forward(
        self,
        method: str,
        raw_path: str,
        incoming: Iterable[tuple[str, str]],
        body: bytes,
        handler: BaseHTTPRequestHandler,
    ) -> None:
        from openclaw_bridge.bedrock import bedrock_call

        upstream, url = self.route(method, raw_path)
        incoming = list(incoming)
        call = bedrock_call(upstream, url, incoming, body) if upstream.auth == "sigv4" else None
        if call is not None:  # Anthropic Messages turned into Bedrock's InvokeModel API
            url, body, incoming = call.url, call.body, call.headers
        headers = self.headers_for(upstream, method, url, incoming, body)
        request = self._http.build_request(method, url, headers=headers, content=body)
        try:
            response = self._http.send(request, stream=True)
        except httpx.HTTPError as error:
            host = urlsplit(url).netloc
            raise ProxyError(
                502,
                f"the model at {host} could not be reached ({type(error).__name__})",
                "upstream_error",
            ) from None
        try:
            (call.relay if call is not None else self._relay)(response, handler)
        finally:
            response.close()

    @staticmethod
    def _relay(response: httpx.Response, handler: BaseHTTPRequestHandler) -> None:
        """The upstream's status, headers and body, each chunk written as it arrives."""
        handler.send_response_only(response.status_code, response.reason_phrase or None)
        length = response.headers.get("content-length")
        for name, value in response.headers.multi_items():
            if name.lower() not in HOP_BY_HOP:
                handler.send_header(name, value)
        chunked = length is None
        if chunked:
            handler.send_header("Transfer-Encoding", "chunked")
        else:
            handler.send_header("Content-Length", length)
        handler.end_headers()
        out = handler.wfile
        try:
            # Raw bytes: a compressed body stays compressed (its Content-Encoding went along).
            # No chunk size: each piece is passed on as soon as it is read (a size would buffer).
            for chunk in response.iter_raw():
                if not chunk:
                    continue
                if chunked:
                    out.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                else:
                    out.write(chunk)
                out.flush()
            if chunked:
                out.write(b"0\r\n\r\n")
                out.flush()
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # OpenClaw closed its side (a cancelled turn)
        except httpx.HTTPError as error:
            # The upstream broke off mid-answer: end our side too, so OpenClaw sees it.
            log.warning("the model's answer broke off: %s", type(error).__name__)
            handler.close_connection = True


API_WIRE: Final = {
    "anthropic-messages": "anthropic",
    "openai-completions": "openai",
    "openai-responses": "openai",
    "google-generative-ai": "gemini",
    "bedrock-converse-stream": "bedrock",
}
"""OpenClaw's `api` names (the provider table's `api`) to the endpoint lists above."""


def wire_format(provider: Any) -> str:
    """Which API a provider speaks: its `api` where the provider table has one, else by its id
    (Anthropic, Bedrock, Google Gemini; everything else is OpenAI-compatible)."""
    api = getattr(provider, "api", None)
    if isinstance(api, str) and api in API_WIRE:
        return API_WIRE[api]
    if provider.id in ("anthropic", "bedrock"):
        return str(provider.id)
    if provider.id in ("google", "gemini"):
        return "gemini"
    return "openai"


def upstream_for(provider: Any, *, base_url: str | None, region: str) -> Upstream:
    """The proxy's route for one provider of `openclaw_deploy.runtime.providers`: its
    `base_url`, `auth_header` and `auth_scheme` ("bearer", "plain", "sigv4", "none");
    `base_url` overrides the provider's own (the offline model, a self-hosted endpoint, a
    test stand-in)."""
    wire = wire_format(provider)
    paths = WIRE_PATHS[wire]
    scheme = str(getattr(provider, "auth_scheme", "") or "")
    if not scheme:  # a provider table without the field
        scheme = "sigv4" if wire == "bedrock" else "bearer" if provider.key_env else "none"
    if scheme == "sigv4":
        from openclaw_bridge.bedrock import MESSAGES_PATHS

        root = base_url or f"https://bedrock-runtime.{region}.amazonaws.com"
        paths = BEDROCK_PATHS + MESSAGES_PATHS  # OpenClaw speaks Anthropic Messages to it
        return Upstream(
            provider_id=provider.id, base_url=root, paths=paths, auth="sigv4", region=region
        )
    root = base_url or provider.base_url
    if not root:
        raise ValueError(f"{provider.id} has no base URL to forward to")
    return Upstream(
        provider_id=provider.id,
        base_url=root,
        paths=paths,
        auth="none" if scheme == "none" else "header",
        auth_header=str(getattr(provider, "auth_header", "") or "Authorization"),
        auth_scheme="Bearer" if scheme == "bearer" else None,
        key_optional=bool(getattr(provider, "key_optional", False)),
    )
