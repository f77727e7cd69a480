"""Sign-in in a real Chromium against a real Cognito API: moto's, reached straight from the
browser (moto answers the CORS preflight itself, so no proxy is needed; see web/README.md).

The built SPA is served with a config.json that points the Cognito endpoint at moto; the HTTP
API is a stub answering 503, which also shows that the chat screen survives a failing server.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import boto3
import pytest

from tests.conftest import REGION

from .conftest import SCREENSHOTS, StartSite, run_spec

pytestmark = pytest.mark.slow

USERNAME = "owner"
TEMP_PASSWORD = "Temp-pass-2026!"
NEW_PASSWORD = "Chosen-pass-2026!"


def _claims(jwt: str) -> dict[str, Any]:
    payload = jwt.split(".")[1]
    claims: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return claims


@pytest.fixture
def cognito_owner(aws_env: str) -> dict[str, str]:
    """A user pool with a web client and an owner who still has a temporary password."""
    idp = boto3.client("cognito-idp", region_name=REGION)
    pool = idp.create_user_pool(PoolName="openclaw-e2e")["UserPool"]["Id"]
    client = idp.create_user_pool_client(
        UserPoolId=pool,
        ClientName="web",
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]["ClientId"]
    idp.admin_create_user(
        UserPoolId=pool,
        Username=USERNAME,
        TemporaryPassword=TEMP_PASSWORD,
        MessageAction="SUPPRESS",
    )
    return {"pool": pool, "client": client, "endpoint": aws_env}


def test_signin_flows_in_chromium(
    cognito_owner: dict[str, str], static_site: StartSite, chromium: str
) -> None:
    # The stub API lives on the site itself (same origin); Cognito is moto, cross-origin.
    site = static_site(
        lambda url: {
            "apiUrl": url.rstrip("/"),
            "wsUrl": url.replace("http://", "ws://") + "ws",
            "region": REGION,
            "cognito": {
                "endpoint": cognito_owner["endpoint"] + "/",
                "userPoolId": cognito_owner["pool"],
                "clientId": cognito_owner["client"],
            },
            "deployment": "e2e",
        }
    )

    run = run_spec(
        "signin.spec.ts",
        {
            "OPENCLAW_WEB_URL": site.url,
            "OPENCLAW_E2E_USERNAME": USERNAME,
            "OPENCLAW_E2E_TEMP_PASSWORD": TEMP_PASSWORD,
            "OPENCLAW_E2E_NEW_PASSWORD": NEW_PASSWORD,
        },
        chromium,
    )
    assert run.returncode == 0, run.output
    assert run.count("fail") == 0, run.output
    assert run.count("skipped") == 0, run.output
    assert run.count("pass") >= 8, run.output

    # The password really changed in Cognito.
    idp = boto3.client("cognito-idp", region_name=REGION)
    user = idp.admin_get_user(UserPoolId=cognito_owner["pool"], Username=USERNAME)
    assert user["UserStatus"] == "CONFIRMED"

    # Once signed in, the SPA called the API with the Cognito access token of this client.
    paths = {r["path"].split("?")[0] for r in site.api_requests}
    assert {"/api/conversations", "/api/ws-ticket"} <= paths
    bearer = next(
        r["authorization"] for r in site.api_requests if r["path"] == "/api/conversations"
    )
    assert bearer.startswith("Bearer ")
    claims = _claims(bearer.removeprefix("Bearer "))
    assert claims["token_use"] == "access"
    assert claims["client_id"] == cognito_owner["client"]

    for name in (
        "signin",
        "signin-wrong-password",
        "new-password",
        "chat-signed-in",
        "phone-dark-chat",
    ):
        assert (SCREENSHOTS / f"{name}.png").stat().st_size > 5_000, name
    assert run.metrics["signin_interactive_ms"] > 0
    print("web metrics:", run.metrics)  # shown with -s; also in test-artifacts/
