"""The one stack of a deployment: composes the constructs and names its outputs.

Construct ids below are part of every logical id in the template. Renaming one replaces its
resources — for the retained data (tables, state bucket) that means a failed deploy — so they
never change.
"""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from openclaw_deploy.infra import spec as names
from openclaw_deploy.infra.agent import Agent
from openclaw_deploy.infra.api import Apis
from openclaw_deploy.infra.auth import Auth
from openclaw_deploy.infra.data import Data
from openclaw_deploy.infra.functions import Functions
from openclaw_deploy.infra.image import AgentImage
from openclaw_deploy.infra.monitoring import Monitoring
from openclaw_deploy.infra.network import Network
from openclaw_deploy.infra.schedules import Schedules
from openclaw_deploy.infra.spec import InfraSpec, cluster_name, task_family
from openclaw_deploy.infra.staging import StagedSources
from openclaw_deploy.infra.watchdog import Watchdog
from openclaw_deploy.infra.web import Web
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.providers import bedrock_invoke_resources, resolve_model
from openclaw_deploy.runtime.schedules import ENV_GROUP as ENV_SCHEDULE_GROUP
from openclaw_deploy.runtime.schedules import TARGET_KEY
from openclaw_deploy.runtime.schedules import group_name as schedule_group
from openclaw_deploy.services.cost import task_hour_usd


class OpenClawStack(cdk.Stack):
    def __init__(self, scope: Construct, *, spec: InfraSpec, sources: StagedSources) -> None:
        super().__init__(
            scope,
            spec.stack_name,
            env=cdk.Environment(account=spec.account, region=spec.region),
            description=f"OpenClaw agent {spec.name!r} (openclaw-deploy {spec.version})",
        )
        region = cdk.Aws.REGION
        suffix = cdk.Aws.URL_SUFFIX

        network = Network(self, "Network", spec=spec)
        data = Data(self, "Data", spec=spec)
        image = AgentImage(self, "Image", spec=spec, context_dir=str(sources.image_context))
        agent = Agent(self, "Agent", spec=spec, network=network, data=data, image=image)
        functions = Functions(
            self,
            "Functions",
            spec=spec,
            code_dir=str(sources.lambda_code),
            data=data,
            agent=agent,
        )
        apis = Apis(self, "Api", spec=spec)
        cognito_origin = f"https://cognito-idp.{region}.{suffix}"
        state_bucket = data.buckets[resources.STATE_BUCKET.key].bucket_name
        web = Web(
            self,
            "Web",
            prefix=spec.prefix,
            http_api_origin=apis.http_url,
            ws_api_origin=f"wss://{apis.ws_api.api_id}.execute-api.{region}.{suffix}",
            cognito_origin=cognito_origin,
            # The web chat's attachments: uploaded to and shown from the state bucket.
            files_origin=f"https://{state_bucket}.s3.{region}.{suffix} https://{state_bucket}.s3.{suffix}",
        )
        auth = Auth(self, "Auth", spec=spec, web_url=web.url)
        apis.add_routes(auth=auth, functions=functions)
        Watchdog(
            self,
            "Watchdog",
            spec=spec,
            function=functions.functions["watchdog"],
            cluster_arn=agent.cluster.cluster_arn,
        )
        schedules = Schedules(
            self, "Schedules", spec=spec, function=functions.functions[TARGET_KEY]
        )
        schedules.grant_agent_wake_ups(agent.task_role)
        schedules.grant_owner_schedules(
            functions.functions["api"], task_hour_usd=task_hour_usd(spec.agent)
        )
        Monitoring(
            self,
            "Monitoring",
            spec=spec,
            functions=functions.functions,
            notifier=functions.functions["notifier"],
            dead_letters=data.dead_letter_queues[resources.INBOUND.key],
            task_hour_usd=task_hour_usd(spec.agent),
        )

        shared = self._shared_environment(spec, data, apis)
        functions.set_environment(
            {
                **shared,
                resources.ENV_CLUSTER: cluster_name(spec.name),
                resources.ENV_TASK_DEFINITION: task_family(spec.name),
                resources.ENV_SUBNETS: cdk.Fn.join(",", [s.subnet_id for s in agent.subnets]),
                resources.ENV_SECURITY_GROUPS: agent.security_group.security_group_id,
                resources.ENV_CONTAINER_NAME: resources.CONTAINER_NAME,
                ENV_SCHEDULE_GROUP: schedule_group(spec.name),
            }
        )
        functions.grant_post_to_connections(apis.connections_arn)
        if spec.webhook_reserved_concurrency is not None:
            # At most this many webhook invocations at once, whatever arrives: with the route's
            # own throttle, a flood costs cents (see spec.TELEGRAM_RATE_LIMIT).
            webhook = functions.functions["telegram"].node.default_child
            assert isinstance(webhook, lambda_.CfnFunction)
            webhook.reserved_concurrent_executions = spec.webhook_reserved_concurrency
        if spec.provider == "bedrock":
            agent.grant_bedrock(
                bedrock_invoke_resources(
                    self._model(spec),
                    region=spec.region if spec.account else cdk.Aws.REGION,
                    account=spec.account or cdk.Aws.ACCOUNT_ID,
                    partition=cdk.Aws.PARTITION if not spec.account else "aws",
                ),
                model=self._model(spec),
            )
        agent.grant_keys()
        agent.add_container(
            environment={
                **shared,
                names.ENV_IDLE_TIMEOUT_MINUTES: str(spec.agent.idle_timeout_minutes),
                # The agent's reminders: where its wake-up goes and what it invokes.
                **schedules.environment(),
                **({names.ENV_LLM_BASE_URL: spec.llm_base_url} if spec.llm_base_url else {}),
            },
            connections_arn=apis.connections_arn,
        )

        outputs: dict[str, tuple[Any, str]] = {
            names.OUTPUT_WEB_URL: (web.url, "The web chat"),
            names.OUTPUT_WEB_BUCKET: (web.bucket.bucket_name, "Where the SPA files go"),
            names.OUTPUT_DISTRIBUTION_ID: (web.distribution.distribution_id, "CloudFront"),
            names.OUTPUT_HTTP_API_URL: (apis.http_url, "HTTP API base URL"),
            names.OUTPUT_WS_URL: (apis.ws_url, "WebSocket URL"),
            names.OUTPUT_WS_MANAGEMENT_URL: (apis.ws_management_url, "@connections endpoint"),
            names.OUTPUT_TELEGRAM_WEBHOOK_URL: (apis.telegram_webhook_url, "Telegram webhook"),
            names.OUTPUT_USER_POOL_ID: (auth.user_pool.user_pool_id, "Cognito user pool"),
            names.OUTPUT_USER_POOL_CLIENT_ID: (auth.client.user_pool_client_id, "SPA client"),
            names.OUTPUT_COGNITO_ENDPOINT: (f"{cognito_origin}/", "Cognito API endpoint"),
            names.OUTPUT_REPOSITORY_URI: (image.repository.repository_uri, "Agent image repo"),
            names.OUTPUT_IMAGE_TAG: (
                spec.running_image_tag or image.tag,
                "The image tag the task definition runs",
            ),
            names.OUTPUT_IMAGE_PROJECT: (image.project.project_name, "CodeBuild image build"),
            names.OUTPUT_CLUSTER: (agent.cluster.cluster_name, "ECS cluster"),
            names.OUTPUT_TASK_FAMILY: (task_family(spec.name), "Agent task family"),
            names.OUTPUT_STATE_BUCKET: (
                data.buckets[resources.STATE_BUCKET.key].bucket_name,
                "Agent state backups",
            ),
            names.OUTPUT_QUEUE_URL: (
                data.queues[resources.INBOUND.key].queue_url,
                "Inbound message queue",
            ),
        }
        for key, (value, description) in outputs.items():
            cdk.CfnOutput(self, key, value=value, description=description)

        cdk.Tags.of(self).add(names.TAG_DEPLOYMENT, spec.name)
        cdk.Tags.of(self).add(names.TAG_MANAGED_BY, "openclaw-deploy")

    @staticmethod
    def _shared_environment(spec: InfraSpec, data: Data, apis: Apis) -> dict[str, str]:
        """What the handlers and the bridge both read: resource names, URLs, the model."""
        environment = resources.data_environment(
            spec.name,
            account=spec.account or cdk.Aws.ACCOUNT_ID,
            region=spec.region if spec.account else cdk.Aws.REGION,
            queue_urls={key: queue.queue_url for key, queue in data.queues.items()},
        )
        # Secrets are referenced by parameter *name* only, and only those that exist.
        # (A channel's secrets are named either way: `channels add` stores them after a deploy.)
        for secret in resources.SECRETS:
            if spec.parameter(secret) is None and secret.channel is None:
                environment.pop(secret.env_var, None)
        environment.update(
            {
                resources.ENV_WS_MANAGEMENT_URL: apis.ws_management_url,
                resources.ENV_TELEGRAM_API_URL: spec.telegram_api_url
                or resources.DEFAULT_TELEGRAM_API_URL,
                names.ENV_WS_URL: apis.ws_url,
                names.ENV_LLM_PROVIDER: spec.provider,
                names.ENV_LLM_MODEL: OpenClawStack._model(spec),
            }
        )
        if spec.telegram_bot_username:
            # Group messages are answered when they mention this bot (handlers.telegram_webhook).
            environment["OPENCLAW_TELEGRAM_BOT_USERNAME"] = spec.telegram_bot_username
        return environment

    @staticmethod
    def _model(spec: InfraSpec) -> str:
        """The model id the agent calls (Bedrock: the region's inference profile)."""
        return resolve_model(spec.provider, spec.model, spec.region)
