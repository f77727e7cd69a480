"""boto3 clients and SSM secrets for code that runs in the cloud (Lambda handlers, the bridge).

One boto3 session per process, one client per service, built on first use and reused by every
later invocation of a warm Lambda container. The endpoint comes from boto3's own resolution, so
`AWS_ENDPOINT_URL` (tests, the local target) points everything at a moto server with no code here.
The one exception is the API Gateway management API, whose endpoint is per WebSocket API.

SecureString parameters are read with decryption once per container and kept in memory; a
caller that finds a value no longer matches (a rotated webhook secret) can ask for a re-read.
The CLI does not use this module: it has its own factory with profile and region handling.

The local target runs every function's handlers in one process; `acting_as` gives one invocation
the credentials of its function's role (as Lambda's environment does), and clients and cached
secrets are kept per credentials so that one role never uses another's.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_apigatewaymanagementapi import ApiGatewayManagementApiClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_ecs import ECSClient
    from mypy_boto3_s3 import S3Client
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


def s3_config() -> Config:
    """S3 signing for presigned uploads and downloads: SigV4 (what every region accepts), the
    bucket in the host name on AWS, in the path on a local endpoint (moto, the local target)."""
    local = bool(os.environ.get("AWS_ENDPOINT_URL") or os.environ.get("AWS_ENDPOINT_URL_S3"))
    return Config(
        signature_version="s3v4",
        s3={"addressing_style": "path" if local else "virtual"},
    )


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str


_credentials: ContextVar[Credentials | None] = ContextVar("openclaw_aws_credentials", default=None)
_lock = threading.Lock()
_session: boto3.session.Session | None = None
_clients: dict[tuple[str, str | None, Credentials | None], Any] = {}
_secrets: dict[tuple[Credentials | None, str], tuple[str, float]] = {}


@contextmanager
def acting_as(credentials: Credentials) -> Iterator[None]:
    """Make the calls of this thread's code inside the block with `credentials`."""
    token = _credentials.set(credentials)
    try:
        yield
    finally:
        _credentials.reset(token)


def client(service: str, *, endpoint_url: str | None = None) -> Any:
    """The process-wide client for `service` (thread-safe; boto3 sessions are not)."""
    credentials = _credentials.get()
    key = (service, endpoint_url, credentials)
    found = _clients.get(key)
    if found is not None:
        return found
    global _session  # noqa: PLW0603 - one session per process is the point of this module
    with _lock:
        found = _clients.get(key)
        if found is None:
            if _session is None:
                _session = boto3.session.Session()
            keys: dict[str, str] = {}
            if credentials is not None:
                keys["aws_access_key_id"] = credentials.access_key_id
                keys["aws_secret_access_key"] = credentials.secret_access_key
            found = _session.client(
                service,  # type: ignore[call-overload]
                endpoint_url=endpoint_url,
                config=CLIENT_CONFIG.merge(s3_config()) if service == "s3" else CLIENT_CONFIG,
                **keys,
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


def s3() -> S3Client:
    """The S3 client; it also signs presigned uploads and downloads (SigV4, the regional
    endpoint, so a URL works in every region)."""
    return client("s3")  # type: ignore[no-any-return]


def connections_api(endpoint_url: str) -> ApiGatewayManagementApiClient:
    """The `@connections` client of one WebSocket API stage (`https://{domain}/{stage}`)."""
    return client("apigatewaymanagementapi", endpoint_url=endpoint_url)  # type: ignore[no-any-return]


def secret(parameter_name: str, *, max_age: float | None = None) -> str:
    """The decrypted value of an SSM SecureString parameter, cached for the container's life,
    or read again when the cached value is older than `max_age` seconds."""
    key = (_credentials.get(), parameter_name)
    cached = _secrets.get(key)
    if cached is not None and (max_age is None or time.monotonic() - cached[1] <= max_age):
        return cached[0]
    answer = ssm().get_parameter(Name=parameter_name, WithDecryption=True)
    value = answer["Parameter"].get("Value", "")
    _secrets[key] = (value, time.monotonic())
    return value


def clear_caches() -> None:
    """Forget clients and secrets (tests that reset the moto server; a rotated secret)."""
    global _session  # noqa: PLW0603
    with _lock:
        _clients.clear()
        _secrets.clear()
        _session = None
