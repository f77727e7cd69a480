"""API-Gateway-shaped events for calling the handlers directly, as the real gateway and the local
emulator do: HTTP API payload v2.0 (with the JWT authorizer's claims) and WebSocket events."""

from __future__ import annotations

import json
from typing import Any

OWNER_SUB = "0b1c2d3e-owner-sub"


def http_event(
    method: str,
    path: str,
    *,
    body: Any = None,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    sub: str | None = OWNER_SUB,
) -> dict[str, Any]:
    context: dict[str, Any] = {
        "accountId": "123456789012",
        "apiId": "api123",
        "domainName": "api123.execute-api.us-east-1.amazonaws.com",
        "http": {
            "method": method,
            "path": path,
            "protocol": "HTTP/1.1",
            "sourceIp": "192.0.2.1",
            "userAgent": "pytest",
        },
        "requestId": "req-1",
        "routeKey": f"{method} {path}",
        "stage": "$default",
        "timeEpoch": 1764140000000,
    }
    if sub is not None:
        context["authorizer"] = {
            "jwt": {"claims": {"sub": sub, "token_use": "access"}, "scopes": None}
        }
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": f"{method} {path}",
        "rawPath": path,
        "rawQueryString": "&".join(f"{k}={v}" for k, v in (query or {}).items()),
        "headers": {"content-type": "application/json", **(headers or {})},
        "requestContext": context,
        "isBase64Encoded": False,
    }
    if query:
        event["queryStringParameters"] = dict(query)
    if raw_body is not None:
        event["body"] = raw_body
    elif body is not None:
        event["body"] = json.dumps(body)
    return event


def telegram_event(
    update: Any, secret: str | None, *, raw_body: str | None = None
) -> dict[str, Any]:
    headers = {} if secret is None else {"x-telegram-bot-api-secret-token": secret}
    return http_event(
        "POST",
        "/telegram",
        headers=headers,
        sub=None,
        raw_body=raw_body if raw_body is not None else json.dumps(update),
    )


def ws_event(
    route: str,
    connection_id: str = "conn-1",
    *,
    body: Any = None,
    raw_body: str | None = None,
    query: dict[str, str] | None = None,
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "requestContext": {
            "routeKey": route,
            "eventType": {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE"),
            "connectionId": connection_id,
            "domainName": "ws123.execute-api.us-east-1.amazonaws.com",
            "stage": "prod",
            "apiId": "ws123",
            "requestId": "req-ws",
            "connectedAt": 1764140000000,
        },
        "isBase64Encoded": False,
    }
    if query is not None:
        event["queryStringParameters"] = query
    if raw_body is not None:
        event["body"] = raw_body
    elif body is not None:
        event["body"] = json.dumps(body)
    return event


def body(response: dict[str, Any]) -> Any:
    text = response.get("body") or ""
    return json.loads(text) if text else None
