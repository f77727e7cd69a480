"""APIs: the HTTP API (Cognito JWT on user routes, the Telegram webhook) and the WebSocket API.

API Gateway's own JWT authorizer checks Cognito tokens on every `/api/...` route, so no Lambda
does crypto. `POST /telegram` is open at the gateway and checked by its handler against the
secret token Telegram sends. The WebSocket API cannot take a header from a browser: `$connect`
consumes a one-time ticket (fetched over the HTTP API) in its handler.

Built in two steps because the CloudFront CSP names these APIs while the authorizer needs the
user pool whose invitation names CloudFront: `Apis(...)` creates the APIs, `add_routes` wires
them once auth exists.
"""

from __future__ import annotations

import json

import aws_cdk as cdk
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_apigatewayv2_integrations as integrations
from constructs import Construct

from openclaw_deploy.infra.auth import Auth
from openclaw_deploy.infra.common import acknowledge, log_group
from openclaw_deploy.infra.functions import Functions
from openclaw_deploy.infra.spec import (
    HTTP_API_BURST_LIMIT,
    HTTP_API_RATE_LIMIT,
    TELEGRAM_BURST_LIMIT,
    TELEGRAM_RATE_LIMIT,
    InfraSpec,
)

WS_STAGE = "live"
USER_ROUTES = "/api/{proxy+}"
TELEGRAM_ROUTE = "/telegram"
SLACK_ROUTE = "/slack/events"
DISCORD_ROUTE = "/discord/interactions"
CHANNEL_ROUTES = {
    "Slack": (
        SLACK_ROUTE,
        "slack",
        "Slack cannot send a JWT: the handler checks Slack's v0 HMAC signature (signing secret "
        "from SSM, timestamp within 5 minutes) before doing anything.",
    ),
    "Discord": (
        DISCORD_ROUTE,
        "discord",
        "Discord cannot send a JWT: the handler verifies Discord's Ed25519 signature with the "
        "application's public key before doing anything.",
    ),
}
"""The other unauthenticated chat webhooks: integration id → (path, function, why no JWT)."""
_ACCESS_LOG_FORMAT = json.dumps(
    {
        "requestId": "$context.requestId",
        "ip": "$context.identity.sourceIp",
        "time": "$context.requestTime",
        "route": "$context.routeKey",
        "status": "$context.status",
        "latencyMs": "$context.responseLatency",
        "error": "$context.error.message",
        "authorizerError": "$context.authorizer.error",
    }
)


class Apis(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, spec: InfraSpec) -> None:
        super().__init__(scope, construct_id)
        self._spec = spec
        throttle = apigw.ThrottleSettings(
            rate_limit=HTTP_API_RATE_LIMIT, burst_limit=HTTP_API_BURST_LIMIT
        )
        self.http_api = apigw.HttpApi(
            self,
            "Http",
            api_name=f"{spec.prefix}-http",
            description=f"OpenClaw {spec.name}: web UI API and Telegram webhook",
            create_default_stage=False,
            # Any origin may call, none with credentials: requests carry a bearer token the
            # browser never attaches by itself, so CORS is not the guard here (the JWT is).
            # Naming the CloudFront origin would make the API and the CSP depend on each other.
            cors_preflight=apigw.CorsPreflightOptions(
                allow_origins=["*"],
                allow_methods=[
                    apigw.CorsHttpMethod.GET,
                    apigw.CorsHttpMethod.POST,
                    apigw.CorsHttpMethod.PUT,
                    apigw.CorsHttpMethod.DELETE,
                    apigw.CorsHttpMethod.OPTIONS,
                ],
                allow_headers=["authorization", "content-type"],
                max_age=cdk.Duration.hours(1),
            ),
        )
        access_logs = log_group(self, "HttpAccessLogs", f"/{spec.prefix}/http-api-access")
        self.http_stage = apigw.HttpStage(
            self,
            "HttpStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=throttle,
        )
        stage_resource = self.http_stage.node.default_child
        assert isinstance(stage_resource, apigw.CfnStage)
        stage_resource.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn, format=_ACCESS_LOG_FORMAT
        )

        self.ws_api = apigw.WebSocketApi(
            self,
            "WebSocket",
            api_name=f"{spec.prefix}-ws",
            description=f"OpenClaw {spec.name}: the web UI's live channel",
        )
        self.ws_stage = apigw.WebSocketStage(
            self,
            "WebSocketStage",
            web_socket_api=self.ws_api,
            stage_name=WS_STAGE,
            auto_deploy=True,
            throttle=throttle,
        )
        acknowledge(
            self.ws_stage,
            "AwsSolutions-APIG1",
            "WebSocket access logs need an account-wide API Gateway CloudWatch role that this "
            "tool must not change; the ws handler logs every connect, message and error.",
        )

    @property
    def http_url(self) -> str:
        return self.http_api.api_endpoint

    @property
    def ws_url(self) -> str:
        return self.ws_stage.url

    @property
    def ws_management_url(self) -> str:
        return self.ws_stage.callback_url

    @property
    def telegram_webhook_url(self) -> str:
        return f"{self.http_api.api_endpoint}{TELEGRAM_ROUTE}"

    @property
    def connections_arn(self) -> str:
        return cdk.Stack.of(self).format_arn(
            service="execute-api",
            resource=self.ws_api.api_id,
            resource_name=f"{WS_STAGE}/POST/@connections/*",
        )

    def _throttle_telegram(self, routes: list[apigw.HttpRoute]) -> None:
        """The one unauthenticated route gets its own low limit: a stranger flooding it is
        refused by API Gateway (free) instead of running the webhook function."""
        stage = self.http_stage.node.default_child
        assert isinstance(stage, apigw.CfnStage)
        stage.route_settings = {
            f"POST {path}": {
                "ThrottlingBurstLimit": TELEGRAM_BURST_LIMIT,
                "ThrottlingRateLimit": TELEGRAM_RATE_LIMIT,
            }
            for path in (TELEGRAM_ROUTE, *(route[0] for route in CHANNEL_ROUTES.values()))
        }
        # API Gateway refuses route settings for a route key that does not exist yet.
        for route in routes:
            stage.node.add_dependency(route)

    def add_routes(self, *, auth: Auth, functions: Functions) -> None:
        fns = functions.functions
        authorizer = authorizers.HttpUserPoolAuthorizer(
            "Cognito",
            auth.user_pool,
            user_pool_clients=[auth.client],
            authorizer_name="cognito",
        )
        user = integrations.HttpLambdaIntegration("Api", fns["api"])
        self.http_api.add_routes(
            path=USER_ROUTES,
            methods=[
                apigw.HttpMethod.GET,
                apigw.HttpMethod.POST,
                apigw.HttpMethod.PUT,
                apigw.HttpMethod.DELETE,
            ],
            integration=user,
            authorizer=authorizer,
        )
        telegram_routes = self.http_api.add_routes(
            path=TELEGRAM_ROUTE,
            methods=[apigw.HttpMethod.POST],
            integration=integrations.HttpLambdaIntegration("Telegram", fns["telegram"]),
        )
        for integration_id, (path, key, reason) in CHANNEL_ROUTES.items():
            channel_routes = self.http_api.add_routes(
                path=path,
                methods=[apigw.HttpMethod.POST],
                integration=integrations.HttpLambdaIntegration(integration_id, fns[key]),
            )
            for route in channel_routes:
                acknowledge(route, "AwsSolutions-APIG4", reason)
            telegram_routes += channel_routes
        self._throttle_telegram(telegram_routes)
        for route in telegram_routes:
            acknowledge(
                route,
                "AwsSolutions-APIG4",
                "Telegram cannot send a JWT: the handler checks the X-Telegram-Bot-Api-Secret-"
                "Token header against the SSM secret (constant-time) before doing anything.",
            )

        ws = integrations.WebSocketLambdaIntegration
        # ("Default" is a reserved construct id: it would collide with its parent's.)
        for route_key, integration_id in (
            ("$connect", "WsConnect"),
            ("$disconnect", "WsDisconnect"),
            ("$default", "WsMessage"),
        ):
            self.ws_api.add_route(route_key, integration=ws(integration_id, fns["ws"]))
        acknowledge(
            self.ws_api,
            "AwsSolutions-APIG4",
            "Browsers cannot send headers on a WebSocket: $connect consumes a one-time ticket "
            "(from the JWT-protected HTTP API) and refuses anyone without one; the other routes "
            "exist only on connections $connect accepted.",
        )
