"""An API Gateway emulator: the HTTP API, the WebSocket API and `@connections`, on one local port.

It invokes the *same* Lambda handlers the cloud runs, with API-Gateway-shaped events (HTTP API
payload 2.0; WebSocket `$connect`/`$disconnect`/`$default`), does the JWT authorizer's job
against the moto Cognito JWKS, and answers the management API the bridge posts replies to —
delivering them to the real browser sockets, or 410 Gone when a socket has closed. It also serves
the built SPA with its runtime `config.json`, and a same-origin path to moto's Cognito so the
browser needs no CORS exceptions.

Handlers are synchronous boto3 code: they run in a thread pool so that a handler which posts to
`@connections` (back into this server) never blocks the event loop.

A post to `@connections` is authorized as API Gateway does, as `execute-api:ManageConnections` on
`arn:aws:execute-api:REGION:ACCOUNT:API/STAGE/METHOD/@connections/ID`, by the caller the SigV4
signature names (see `EmulatorConfig.authorize`).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import jwt
from aiohttp import ClientSession, WSMsgType, web

log = logging.getLogger("openclaw_deploy.local.apigw")

Handler = Callable[[dict[str, Any], Any], Any]
Authorize = Callable[[Mapping[str, str], str, str], tuple[int, dict[str, str], bytes] | None]
"""(request headers, action, resource ARN) → None when allowed, else the refusal to answer with."""
STAGE: Final = "live"
"""The WebSocket API's stage, as the CDK app names it (infra/api.py WS_STAGE)."""
ACCOUNT: Final = "123456789012"  # moto's account
WS_PATH: Final = "/ws"
HTTP_ROUTE_KEY: Final = "ANY /api/{proxy+}"
TELEGRAM_ROUTE_KEY: Final = "POST /telegram"
CHANNEL_ROUTES: Final = {"slack": "/slack/events", "discord": "/discord/interactions"}
"""The other chat webhooks (infra/api.py CHANNEL_ROUTES): function → path."""
MAX_FRAME_BYTES: Final = 32 * 1024
"""API Gateway closes a WebSocket whose client frame exceeds 32 KB (code 1009); so do we."""
MAX_POST_BYTES: Final = 128 * 1024


@dataclass(frozen=True)
class LambdaContext:
    """The parts of Lambda's context object handlers may read."""

    function_name: str
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    memory_limit_in_mb: int = 256
    deadline: float = field(default_factory=lambda: time.monotonic() + 30)

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@dataclass(kw_only=True)
class Handlers:
    api: Handler
    ws: Handler
    telegram: Handler
    channels: dict[str, Handler] = field(default_factory=dict)
    """Slack's and Discord's webhooks, by function (CHANNEL_ROUTES)."""


@dataclass(kw_only=True)
class AuthConfig:
    """What API Gateway's JWT authorizer is configured with."""

    jwks_url: str
    issuer: str
    audience: str


class JwtAuthorizer:
    """Validates Cognito tokens as API Gateway does: signature (JWKS), exp, iss, aud/client_id."""

    def __init__(self, config: AuthConfig) -> None:
        self._config = config
        self._keys: jwt.PyJWKClient = jwt.PyJWKClient(config.jwks_url, cache_keys=True)

    def claims(self, header: str | None) -> dict[str, str] | None:
        if not header:
            return None
        token = header.removeprefix("Bearer ").strip()
        try:
            key = self._keys.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self._config.issuer,
                options={"verify_aud": False, "require": ["exp", "iss"]},
            )
        except jwt.PyJWTError:
            return None
        audience = claims.get("aud") or claims.get("client_id")
        if audience != self._config.audience:
            return None
        # API Gateway hands claims to the Lambda as strings.
        return {k: v if isinstance(v, str) else json.dumps(v) for k, v in claims.items()}


@dataclass(kw_only=True)
class EmulatorConfig:
    handlers: Handlers
    auth: JwtAuthorizer
    moto_url: str
    region: str
    web_dir: Path | None
    web_config: Callable[[], dict[str, Any]]
    api_id: str = "local"
    authorize: Authorize | None = None


class Emulator:
    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.sockets: dict[str, web.WebSocketResponse] = {}
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="lambda")
        self.domain = "127.0.0.1"

    # --- invoking handlers -------------------------------------------------------------------

    async def _invoke(self, name: str, handler: Handler, event: dict[str, Any]) -> Any:
        loop = asyncio.get_running_loop()
        context = LambdaContext(function_name=name)
        try:
            return await loop.run_in_executor(self._pool, handler, event, context)
        except Exception:
            # Lambda answers an unhandled error with 500 "Internal Server Error": so do we.
            log.exception("handler %s raised", name)
            return {"statusCode": 500, "body": json.dumps({"message": "Internal Server Error"})}

    def _request_context(self, request: web.Request, route_key: str) -> dict[str, Any]:
        now = time.time()
        return {
            "accountId": ACCOUNT,
            "apiId": self.config.api_id,
            "domainName": request.host,
            "domainPrefix": self.config.api_id,
            "requestId": str(uuid.uuid4()),
            "routeKey": route_key,
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
            "http": {
                "method": request.method,
                "path": request.path,
                "protocol": f"HTTP/{request.version.major}.{request.version.minor}",
                "sourceIp": request.remote or "127.0.0.1",
                "userAgent": request.headers.get("User-Agent", ""),
            },
        }

    async def _http_event(
        self, request: web.Request, route_key: str, path_parameters: dict[str, str] | None
    ) -> dict[str, Any]:
        raw = await request.read()
        try:
            body, is_b64 = raw.decode("utf-8"), False
        except UnicodeDecodeError:
            body, is_b64 = base64.b64encode(raw).decode(), True
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": route_key,
            "rawPath": request.path,
            "rawQueryString": request.query_string,
            "headers": {k.lower(): v for k, v in request.headers.items()},
            "requestContext": self._request_context(request, route_key),
            "isBase64Encoded": is_b64,
        }
        if request.query:
            event["queryStringParameters"] = {k: request.query[k] for k in request.query}
        if path_parameters:
            event["pathParameters"] = path_parameters
        if raw:
            event["body"] = body
        return event

    @staticmethod
    def _http_response(result: Any) -> web.Response:
        """Payload 2.0 rules: a dict with statusCode is a response; anything else is JSON 200."""
        if isinstance(result, Mapping) and "statusCode" in result:
            headers = {str(k): str(v) for k, v in (result.get("headers") or {}).items()}
            body = result.get("body") or ""
            data = base64.b64decode(body) if result.get("isBase64Encoded") else str(body).encode()
            return web.Response(status=int(result["statusCode"]), body=data, headers=headers)
        return web.json_response(result)

    # --- HTTP API ----------------------------------------------------------------------------

    async def api(self, request: web.Request) -> web.StreamResponse:
        if request.method == "OPTIONS":
            return web.Response(status=204, headers=_cors_headers())
        claims = self.config.auth.claims(request.headers.get("Authorization"))
        if claims is None:
            response = web.json_response({"message": "Unauthorized"}, status=401)
        else:
            event = await self._http_event(
                request, HTTP_ROUTE_KEY, {"proxy": request.match_info["tail"]}
            )
            event["requestContext"]["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
            response = self._http_response(
                await self._invoke("api", self.config.handlers.api, event)
            )
        response.headers.update(_cors_headers())
        return response

    async def telegram(self, request: web.Request) -> web.StreamResponse:
        event = await self._http_event(request, TELEGRAM_ROUTE_KEY, None)
        return self._http_response(
            await self._invoke("telegram", self.config.handlers.telegram, event)
        )

    def channel(self, name: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def invoke(request: web.Request) -> web.StreamResponse:
            event = await self._http_event(request, f"POST {CHANNEL_ROUTES[name]}", None)
            handler = self.config.handlers.channels.get(name)
            if handler is None:
                return web.json_response({"message": "Not Found"}, status=404)
            return self._http_response(await self._invoke(name, handler, event))

        return invoke

    # --- WebSocket API -----------------------------------------------------------------------

    def _ws_event(
        self, request: web.Request, route: str, connection_id: str, **extra: Any
    ) -> dict[str, Any]:
        kind = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
        event: dict[str, Any] = {
            "requestContext": {
                "routeKey": route,
                "eventType": kind,
                "connectionId": connection_id,
                "domainName": request.host,
                "stage": STAGE,
                "apiId": self.config.api_id,
                "requestId": str(uuid.uuid4()),
                "connectedAt": int(time.time() * 1000),
                "requestTimeEpoch": int(time.time() * 1000),
                "identity": {"sourceIp": request.remote or "127.0.0.1"},
            },
            "isBase64Encoded": False,
            **extra,
        }
        if route == "$connect":
            event["headers"] = {k.lower(): v for k, v in request.headers.items()}
            event["queryStringParameters"] = {k: request.query[k] for k in request.query} or None
        return event

    async def websocket(self, request: web.Request) -> web.StreamResponse:
        connection_id = base64.urlsafe_b64encode(uuid.uuid4().bytes[:12]).decode()
        connect = await self._invoke(
            "ws", self.config.handlers.ws, self._ws_event(request, "$connect", connection_id)
        )
        status = int(connect.get("statusCode", 200)) if isinstance(connect, Mapping) else 200
        if status >= 300:
            # API Gateway refuses the upgrade with the handler's status.
            return web.Response(status=status, text=str((connect or {}).get("body", "")))
        socket = web.WebSocketResponse(heartbeat=None, max_msg_size=MAX_FRAME_BYTES)
        await socket.prepare(request)
        self.sockets[connection_id] = socket
        try:
            async for message in socket:
                if message.type == WSMsgType.TEXT:
                    event = self._ws_event(request, "$default", connection_id, body=message.data)
                    result = await self._invoke("ws", self.config.handlers.ws, event)
                    # A route response: API Gateway sends the body back on the socket.
                    if isinstance(result, Mapping) and result.get("body"):
                        await _send(socket, str(result["body"]))
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            self.sockets.pop(connection_id, None)
            await self._invoke(
                "ws", self.config.handlers.ws, self._ws_event(request, "$disconnect", connection_id)
            )
        return socket

    # --- @connections management API ---------------------------------------------------------

    async def connections(self, request: web.Request) -> web.StreamResponse:
        connection_id = request.match_info["connection_id"]
        if self.config.authorize is not None:
            resource = (
                f"arn:aws:execute-api:{self.config.region}:{ACCOUNT}:{self.config.api_id}/"
                f"{STAGE}/{request.method}/@connections/{connection_id}"
            )
            headers = {k.lower(): v for k, v in request.headers.items()}
            refused = self.config.authorize(headers, "execute-api:ManageConnections", resource)
            if refused is not None:
                status, refusal_headers, body = refused
                return web.Response(status=status, body=body, headers=refusal_headers)
        socket = self.sockets.get(connection_id)
        if socket is None or socket.closed:
            return web.json_response(
                {"message": "GoneException"},
                status=410,
                headers={"x-amzn-ErrorType": "GoneException"},
            )
        if request.method == "POST":
            data = await request.read()
            if len(data) > MAX_POST_BYTES:
                return web.json_response(
                    {"message": "Message too long"},
                    status=413,
                    headers={"x-amzn-ErrorType": "PayloadTooLargeException"},
                )
            await _send(socket, data.decode("utf-8", errors="replace"))
            return web.Response(status=200)
        if request.method == "DELETE":
            await socket.close()
            return web.Response(status=204)
        return web.json_response({"connectedAt": None, "identity": {}, "lastActiveAt": None})

    # --- the web app and Cognito ---------------------------------------------------------------

    async def web_config(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(self.config.web_config(), headers={"Cache-Control": "no-store"})

    async def cognito(self, request: web.Request) -> web.StreamResponse:
        """Same-origin path to moto's Cognito: forwards the JSON API call as it is."""
        headers = {
            k: v
            for k, v in request.headers.items()
            if k.lower() in ("content-type", "x-amz-target", "x-amz-user-agent")
        }
        async with (
            ClientSession() as session,
            session.post(
                self.config.moto_url + "/", data=await request.read(), headers=headers
            ) as answer,
        ):
            body = await answer.read()
            return web.Response(
                status=answer.status,
                body=body,
                content_type=answer.content_type or "application/x-amz-json-1.1",
            )

    async def spa(self, request: web.Request) -> web.StreamResponse:
        web_dir = self.config.web_dir
        if web_dir is None:
            return web.Response(status=404, text="the web app is not built (scripts/build-web)")
        relative = request.match_info.get("path", "").lstrip("/")
        if not _servable(relative):
            return web.json_response(
                {"message": "no file can have this path"}, status=400, headers=_NO_STORE
            )
        try:
            target = (web_dir / relative).resolve()
            found = bool(relative) and target.is_file() and web_dir.resolve() in target.parents
        except (OSError, ValueError):  # a name too long for the file system, say
            found = False
        if found:
            return web.FileResponse(target)
        return web.FileResponse(web_dir / "index.html", headers={"Cache-Control": "no-cache"})

    def app(self) -> web.Application:
        application = web.Application(client_max_size=MAX_POST_BYTES * 8)
        application.router.add_get(WS_PATH, self.websocket)
        application.router.add_route("*", "/api/{tail:.*}", self.api)
        application.router.add_post("/telegram", self.telegram)
        for name, path in CHANNEL_ROUTES.items():
            application.router.add_post(path, self.channel(name))
        for prefix in ("", f"/{STAGE}"):
            application.router.add_route(
                "*", prefix + "/@connections/{connection_id}", self.connections
            )
        application.router.add_post("/cognito/", self.cognito)
        application.router.add_get("/config.json", self.web_config)
        application.router.add_get("/{path:.*}", self.spa)
        application.on_shutdown.append(self._close_sockets)
        return application

    async def _close_sockets(self, _app: web.Application) -> None:
        for socket in list(self.sockets.values()):
            await socket.close(code=1001, message=b"going away")
        self._pool.shutdown(wait=False, cancel_futures=True)


async def _send(socket: web.WebSocketResponse, text: str) -> None:
    # The socket may close between the check and the send: the post was still accepted.
    with contextlib.suppress(ConnectionError, RuntimeError):
        await socket.send_str(text)


_NO_STORE: Final = {"Cache-Control": "no-store"}
MAX_STATIC_PATH: Final = 1024


def _servable(relative: str) -> bool:
    """Whether a path of the web app could name a file: no NUL or other control character, no
    backslash, no `..` segment, not absurdly long (CloudFront and S3 refuse these too)."""
    if len(relative) > MAX_STATIC_PATH or "\\" in relative:
        return False
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in relative):
        return False
    return ".." not in relative.split("/")


def _cors_headers() -> dict[str, str]:
    return {
        "Access-Control-Allow-Origin": "*",
        "Access-Control-Allow-Headers": "authorization,content-type",
        "Access-Control-Allow-Methods": "GET,POST,PUT,DELETE,OPTIONS",
    }
