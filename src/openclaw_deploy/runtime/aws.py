"""boto3 clients and SSM secrets for code that runs in the cloud (Lambda handlers, the bridge).

One boto3 session per process, one client per service, built on first use and reused by every
later invocation of a warm Lambda container. The endpoint comes from boto3's own resolution, so
`AWS_ENDPOINT_URL` (tests, the local target) points everything at a moto server with no code here.
The one exception is the API Gateway management API, whose endpoint is per WebSocket API.

SecureString parameters are read with decryption once per container and kept in memory; a
caller that finds a value no longer matches (a rotated webhook secret) can ask for a re-read.
The CLI does not use this module: it has its own factory with profile and region handling.
"""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient

# A handler answers a person (or Telegram's one-second expectation): fail fast and let the
# caller's own retry (Telegram, the web client) or the watchdog pick up the pieces.
CLIENT_CONFIG: Final = Config(
    connect_timeout=3,
    read_timeout=10,
    retries={"mode": "standard", "max_attempts": 3},
    max_pool_connections=25,
)

_lock = threading.Lock()
_session: boto3.session.Session | None = None
_clients: dict[tuple[str, str | None], Any] = {}
_secrets: dict[str, tuple[str, float]] = {}


def client(service: str, *, endpoint_url: str | None = None) -> Any:
    """The process-wide client for `service` (thread-safe; boto3 sessions are not)."""
    key = (service, endpoint_url)
    found = _clients.get(key)
    if found is not None:
        return found
    global _session  # noqa: PLW0603 - one session per process is the point of this module
    with _lock:
        found = _clients.get(key)
        if found is None:
            if _session is None:
                _session = boto3.session.Session()
            found = _session.client(
                service,  # type: ignore[call-overload]
                endpoint_url=endpoint_url,
                config=CLIENT_CONFIG,
            )
            _clients[key] = found
    return found


def dynamodb() -> DynamoDBClient:
    return client("dynamodb")  # type: ignore[no-any-return]


def sqs() -> SQSClient:
    return client("sqs")  # type: ignore[no-any-return]


def ecs() -> ECSClient:
    return client("ecs")  # type: ignore[no-any-return]


def ssm() -> SSMClient:
    return client("ssm")  # type: ignore[no-any-return]


def connections_api(endpoint_url: str) -> ApiGatewayManagementApiClient:
    """The `@connections` client of one WebSocket API stage (`https://{domain}/{stage}`)."""
    return client("apigatewaymanagementapi", endpoint_url=endpoint_url)  # type: ignore[no-any-return]


def secret(parameter_name: str, *, max_age: float | None = None) -> str:
    """The decrypted value of an SSM SecureString parameter, cached for the container's life,
    or read again when the cached value is older than `max_age` seconds."""
    cached = _secrets.get(parameter_name)
    if cached is not None and (max_age is None or time.monotonic() - cached[1] <= max_age):
        return cached[0]
    answer = ssm().get_parameter(Name=parameter_name, WithDecryption=True)
    value = answer["Parameter"].get("Value", "")
    _secrets[parameter_name] = (value, time.monotonic())
    return value


def clear_caches() -> None:
    """Forget clients and secrets (tests that reset the moto server; a rotated secret)."""
    global _session  # noqa: PLW0603
    with _lock:
        _clients.clear()
        _secrets.clear()
        _session = None
