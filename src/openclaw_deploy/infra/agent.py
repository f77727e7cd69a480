"""Agent: the ECS cluster (Fargate Spot and on-demand), the ARM64 task definition and its roles.

The task is started by the handlers with RunTask (Spot first, on-demand on a capacity error) and
stops itself when idle; nothing here runs it. It accepts no connection: its security group has
no inbound rule, it long-polls SQS and replies over HTTPS through its public IP. Secrets reach
it as SSM references resolved by ECS at start; only parameter names are in the template.
"""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from openclaw_deploy.infra.common import (
    CONNECTIONS_REASON,
    acknowledge,
    acknowledge_wildcard_resource,
    log_group,
)
from openclaw_deploy.infra.data import Data, construct_id
from openclaw_deploy.infra.image import AgentImage
from openclaw_deploy.infra.network import Network
from openclaw_deploy.infra.spec import (
    AGENT_LOG_STREAM_PREFIX,
    InfraSpec,
    agent_log_group,
    cluster_name,
    task_family,
)
from openclaw_deploy.runtime import resources

STOP_TIMEOUT = cdk.Duration.seconds(120)
"""Fargate's maximum: the bridge backs up OpenClaw's state on SIGTERM (Spot gives 2 minutes)."""
SPOT = "FARGATE_SPOT"
ON_DEMAND = "FARGATE"

# What the bridge does with each table (the rest it never touches).
_TASK_TABLE_ACCESS: Mapping[str, str] = {
    resources.CONVERSATIONS.key: "rw",
    resources.TASK_STATE.key: "rw",
    resources.CONNECTIONS.key: "rw",
    resources.SETTINGS.key: "r",
    resources.PAIRING.key: "r",
    # A schedule's firing is marked answered once the answer reached its channel.
    resources.SCHEDULES.key: "rw",
    # A reminder's answer is delivered once: its run is claimed with a conditional write.
    resources.DEDUPE.key: "rw",
}


class Agent(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id_: str,
        *,
        spec: InfraSpec,
        network: Network,
        data: Data,
        image: AgentImage,
    ) -> None:
        super().__init__(scope, construct_id_)
        self._spec = spec
        self._image = image
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            cluster_name=cluster_name(spec.name),
            vpc=network.vpc,
            container_insights_v2=ecs.ContainerInsights.DISABLED,
        )
        acknowledge(
            self.cluster,
            "AwsSolutions-ECS4",
            "Container Insights is billed per metric; one task that lives minutes a day is "
            "watched through its log group and the lifecycle row instead.",
        )
        providers = [SPOT, ON_DEMAND] if spec.agent.spot else [ON_DEMAND]
        ecs.CfnClusterCapacityProviderAssociations(
            self,
            "CapacityProviders",
            cluster=self.cluster.cluster_name,
            capacity_providers=providers,
            default_capacity_provider_strategy=[
                ecs.CfnClusterCapacityProviderAssociations.CapacityProviderStrategyProperty(
                    capacity_provider=providers[0], weight=1
                )
            ],
        )

        self.security_group = ec2.SecurityGroup(
            self,
            "TaskSecurityGroup",
            vpc=network.vpc,
            security_group_name=f"{spec.prefix}-agent",
            description="OpenClaw agent task: outbound only, no inbound rule",
            allow_all_outbound=True,
        )
        self.subnets = network.subnets

        self.task_role = iam.Role(
            self,
            "TaskRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"The OpenClaw agent task of {spec.name}",
        )
        self.execution_role = iam.Role(
            self,
            "ExecutionRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description=f"ECS pulls the image, writes logs and reads SSM secrets for {spec.name}",
        )
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            family=task_family(spec.name),
            cpu=spec.agent.cpu,
            memory_limit_mib=spec.agent.memory,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs.CpuArchitecture.ARM64,
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
            task_role=self.task_role,
            execution_role=self.execution_role,
        )
        self.log_group = log_group(self, "Logs", agent_log_group(spec.name))
        self._grant_data(data)

    def _grant_data(self, data: Data) -> None:
        for key, access in _TASK_TABLE_ACCESS.items():
            table = data.tables[key]
            if access == "rw":
                table.grant_read_write_data(self.task_role)
            else:
                table.grant_read_data(self.task_role)
        for queue in data.queues.values():
            queue.grant_consume_messages(self.task_role)
        for dead in data.dead_letter_queues.values():
            # At boot the bridge looks the dead-letter queue up by name (the inbound queue's
            # redrive policy names it) and moves a message it cannot parse there.
            dead.grant(self.task_role, "sqs:GetQueueUrl", "sqs:SendMessage")
        for bucket in data.buckets.values():
            # Exactly what backup and restore do (CDK's grant_read_write adds wildcards).
            objects = bucket.arn_for_objects("*")
            self.task_role.add_to_policy(
                iam.PolicyStatement(
                    actions=[
                        "s3:GetObject",
                        "s3:GetObjectVersion",
                        "s3:PutObject",
                        "s3:DeleteObject",
                        "s3:AbortMultipartUpload",
                    ],
                    resources=[objects],
                )
            )
            self.task_role.add_to_policy(
                iam.PolicyStatement(
                    actions=["s3:ListBucket", "s3:ListBucketVersions"],
                    resources=[bucket.bucket_arn],
                )
            )
            acknowledge_wildcard_resource(
                self.task_role,
                objects,
                "Backup archives get new names; the statement covers objects of this "
                "deployment's own state bucket only.",
            )

        # The bridge streams Slack replies with the bot token, read when a Slack message
        # comes (it may be stored by `channels add` after this deploy). Discord replies use
        # the interaction's own webhook token: no secret.
        ssm.StringParameter.from_secure_string_parameter_attributes(
            self,
            "SlackBotTokenParameter",
            parameter_name=resources.SLACK_BOT_TOKEN.parameter_name(self._spec.name),
        ).grant_read(self.task_role)

    def grant_keys(self) -> None:
        """Let the bridge read the API keys (one parameter each under `keys/`) at each turn, so a
        key changed in the settings reaches the next turn; nothing else in SSM."""
        from openclaw_deploy.runtime.keys import keys_path

        folder = cdk.Stack.of(self).format_arn(
            service="ssm", resource="parameter", resource_name=keys_path(self._spec.name)[1:]
        )
        self.task_role.add_to_policy(
            iam.PolicyStatement(actions=["ssm:GetParameter"], resources=[f"{folder}/*"])
        )
        acknowledge_wildcard_resource(
            self.task_role,
            f"{folder}/*",
            "One parameter per provider or tool key under this deployment's keys/ path.",
        )

    def grant_bedrock(self, resources_: list[str], *, model: str) -> None:
        """Let the bridge's OpenClaw call `model` on Bedrock with the task role (no key)."""
        from openclaw_deploy.runtime.providers import BEDROCK_INVOKE_ACTIONS

        self.task_role.add_to_policy(
            iam.PolicyStatement(actions=list(BEDROCK_INVOKE_ACTIONS), resources=resources_)
        )
        for arn in resources_:
            if "*" in arn:
                acknowledge_wildcard_resource(
                    self.task_role,
                    arn,
                    f"A cross-region inference profile routes {model} to its foundation model "
                    "in several regions; the statement names that one model only.",
                )

    def add_container(
        self, *, environment: Mapping[str, str], connections_arn: str
    ) -> ecs.ContainerDefinition:
        """The agent container, once the APIs it replies through exist."""
        spec = self._spec
        secrets: dict[str, ecs.Secret] = {}
        for secret in resources.SECRETS:
            name = spec.parameter(secret)
            if secret.task_env is None or name is None:
                continue
            parameter = ssm.StringParameter.from_secure_string_parameter_attributes(
                self, f"{construct_id(secret.key)}Parameter", parameter_name=name
            )
            secrets[secret.task_env] = ecs.Secret.from_ssm_parameter(parameter)
        container = self.task_definition.add_container(
            "Agent",
            container_name=resources.CONTAINER_NAME,
            image=ecs.ContainerImage.from_ecr_repository(
                self._image.repository, spec.running_image_tag or self._image.tag
            ),
            # Set on the container too: the task would run without it, but RunTask in moto (the
            # local target) and clear OOM reports both want it.
            memory_limit_mib=spec.agent.memory,
            essential=True,
            stop_timeout=STOP_TIMEOUT,
            environment=dict(environment),
            secrets=secrets,
            logging=ecs.LogDrivers.aws_logs(
                stream_prefix=AGENT_LOG_STREAM_PREFIX,
                log_group=self.log_group,
                mode=ecs.AwsLogDriverMode.NON_BLOCKING,
            ),
        )
        self.task_role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["execute-api:ManageConnections"], resources=[connections_arn]
            )
        )
        acknowledge_wildcard_resource(self.task_role, connections_arn, CONNECTIONS_REASON)
        acknowledge(
            self.execution_role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecr:GetAuthorizationToken has no resource to name; image pulls themselves are "
            "limited to the agent's repository.",
        )
        acknowledge(
            self.task_definition,
            "AwsSolutions-ECS2",
            "The environment holds resource names and URLs only; the API key and bot token are "
            "SSM SecureString references in `secrets`.",
        )
        return container
