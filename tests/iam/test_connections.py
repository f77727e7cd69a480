"""`@connections` posts are authorized by the API Gateway emulator as API Gateway does:
`execute-api:ManageConnections` on the connection's ARN, for the role that signed the post."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from aiohttp import web
from botocore.exceptions import ClientError

from openclaw_deploy.local import apigw
from tests.conftest import REGION
from tests.iam.conftest import API_ID, Enforced


def _authorize(enforced: Enforced) -> apigw.Authorize:
    """What the local cloud hands the emulator."""
    authorizer = enforced.enforcement.authorizer

    def authorize(headers: Any, action: str, resource: str) -> Any:
        return authorizer.authorize_call(headers, action, resource, service="execute-api")

    return authorize


@pytest.fixture
def emulator_url(enforced: Enforced) -> Iterator[str]:
    def unused(_event: dict[str, Any], _context: Any) -> Any:
        raise AssertionError("no handler runs in this test")

    emulator = apigw.Emulator(
        apigw.EmulatorConfig(
            handlers=apigw.Handlers(api=unused, ws=unused, telegram=unused),
            auth=apigw.JwtAuthorizer(
                apigw.AuthConfig(jwks_url="http://127.0.0.1:9/none", issuer="i", audience="a")
            ),
            moto_url=enforced.endpoint,
            region=REGION,
            web_dir=None,
            web_config=dict,
            api_id=API_ID,
            authorize=_authorize(enforced),
        )
    )
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(emulator.app())
    loop.run_until_complete(runner.setup())
    site = web.TCPSite(runner, "127.0.0.1", 0)
    loop.run_until_complete(site.start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.run_until_complete(runner.cleanup())
        loop.close()


def _management(url: str, keys: tuple[str, str]) -> Any:
    return boto3.client(
        "apigatewaymanagementapi",
        region_name=REGION,
        endpoint_url=url,
        aws_access_key_id=keys[0],
        aws_secret_access_key=keys[1],
    )


def _keys(enforced: Enforced, component: str) -> tuple[str, str]:
    identity = enforced.identity(component)
    return identity.access_key_id, identity.secret_access_key


def test_the_ws_role_may_post_and_meets_gone_for_a_closed_socket(
    enforced: Enforced, emulator_url: str
) -> None:
    with pytest.raises(ClientError) as raised:
        _management(emulator_url, _keys(enforced, "ws")).post_to_connection(
            ConnectionId="abc", Data=b"hi"
        )
    assert raised.value.response["Error"]["Code"] == "GoneException"


def test_a_role_without_manage_connections_is_refused(
    enforced: Enforced, emulator_url: str
) -> None:
    with pytest.raises(ClientError) as raised:
        _management(emulator_url, _keys(enforced, "telegram")).post_to_connection(
            ConnectionId="abc", Data=b"hi"
        )
    error = raised.value.response["Error"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert error["Code"] == "AccessDeniedException"
    assert (
        f"execute-api:ManageConnections on resource: arn:aws:execute-api:{REGION}:"
        f"123456789012:{API_ID}/{apigw.STAGE}/POST/@connections/abc"
    ) in error["Message"]


def test_the_emulator_stage_is_the_templates(enforced: Enforced) -> None:
    """The roles name the stage in their ManageConnections ARN: the emulator must use it."""
    from openclaw_deploy.infra.api import WS_STAGE

    assert apigw.STAGE == WS_STAGE
