"""The Lambda functions: one per handler module, each with its own least-privilege role.

Python, ARM64, stdlib + boto3 only (the code asset is our package's `runtime` and `handlers`,
nothing bundled). Each role gets exactly what its handler does, from `ACCESS` below: the tables
it reads or writes, the queue it sends to, the SSM parameters it reads, RunTask on the agent's
task-definition family only, PassRole for the two task roles only when passed to ECS tasks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from openclaw_deploy.infra.agent import Agent
from openclaw_deploy.infra.common import (
    CONNECTIONS_REASON,
    acknowledge,
    acknowledge_wildcard_resource,
    log_group,
)
from openclaw_deploy.infra.data import Data, construct_id
from openclaw_deploy.infra.spec import (
    InfraSpec,
    cluster_name,
    function_log_group,
    function_name,
    task_family,
)
from openclaw_deploy.infra.staging import handler_path
from openclaw_deploy.runtime import resources

R, RW = "r", "rw"


@dataclass(frozen=True, kw_only=True)
class Access:
    """What one handler may do."""

    description: str
    timeout_seconds: int
    tables: Mapping[str, str] = field(default_factory=dict)
    send_to_queue: bool = False
    read_queue_depth: bool = False
    """sqs:GetQueueAttributes on the inbound queue (messages waiting while the agent sleeps)."""
    start_agent: bool = False
    """RunTask on the agent's family, PassRole for its two roles, StopTask/DescribeTasks."""
    watch_agent: bool = False
    """ListTasks/DescribeTasks/StopTask in the agent's cluster (the watchdog)."""
    post_to_connections: bool = False
    read_schedules: bool = False
    """ListSchedules/GetSchedule in the deployment's Scheduler group (the Schedules page)."""
    secrets: tuple[resources.Secret, ...] = ()
    manage_keys: bool = False
    """List, read, set and remove the API keys under the deployment's `keys/` path (settings)."""
    manage_skills: bool = False
    """Read, add, change and remove the owner's skills (`skills/*` in the state bucket)."""
    state_files: bool = False
    """Sign uploads (`uploads/*`, PutObject) and downloads (`uploads/*`, `outbound/*`,
    GetObject) in the state bucket: the presigned URLs act with this role's grants."""


CHAT_WEBHOOK_TABLES: Mapping[str, str] = {
    resources.DEDUPE.key: RW,
    resources.PAIRING.key: RW,
    resources.TASK_STATE.key: RW,
    resources.CONVERSATIONS.key: RW,
}
"""What every chat webhook (Telegram, Slack, Discord) uses: dedupe, pairing, wake, history."""

ACCESS: Mapping[str, Access] = {
    "api": Access(
        description="HTTP API: history, settings, agent status and start/stop, pairing, tickets",
        timeout_seconds=20,
        tables={
            # Rename and delete conversations.
            resources.CONVERSATIONS.key: RW,
            resources.SETTINGS.key: RW,
            resources.TASK_STATE.key: RW,
            resources.PAIRING.key: RW,
            resources.TICKETS.key: RW,
            # The Schedules page: each schedule's last run.
            resources.SCHEDULES.key: R,
        },
        read_schedules=True,
        start_agent=True,
        # Tells a newly approved Telegram user so.
        secrets=(resources.TELEGRAM_BOT_TOKEN,),
        manage_keys=True,
        state_files=True,
        manage_skills=True,
    ),
    "ws": Access(
        description="WebSocket API: $connect (ticket), $disconnect, $default (chat, ping, resume)",
        timeout_seconds=20,
        tables={
            resources.TICKETS.key: RW,
            resources.CONNECTIONS.key: RW,
            resources.DEDUPE.key: RW,
            resources.TASK_STATE.key: RW,
            resources.CONVERSATIONS.key: RW,
        },
        send_to_queue=True,
        start_agent=True,
        post_to_connections=True,
    ),
    "telegram": Access(
        description="Telegram webhook: secret check, dedupe, pairing, enqueue, wake the agent",
        timeout_seconds=10,
        tables=CHAT_WEBHOOK_TABLES,
        send_to_queue=True,
        start_agent=True,
        secrets=(resources.TELEGRAM_WEBHOOK_SECRET,),
    ),
    "slack": Access(
        description="Slack Events API: signature check, dedupe, pairing, enqueue, wake the agent",
        timeout_seconds=10,
        tables=CHAT_WEBHOOK_TABLES,
        send_to_queue=True,
        start_agent=True,
        # The signing secret checks requests; the bot token posts pairing codes and notices.
        secrets=(resources.SLACK_SIGNING_SECRET, resources.SLACK_BOT_TOKEN),
    ),
    "discord": Access(
        description="Discord interactions: Ed25519 check, pairing, enqueue, wake the agent",
        timeout_seconds=10,
        tables=CHAT_WEBHOOK_TABLES,
        send_to_queue=True,
        start_agent=True,
        # The application's public key verifies interactions; no bot token is needed here.
        secrets=(resources.DISCORD_APP,),
    ),
    "watchdog": Access(
        description="Watchdog: stops idle, zombie and orphan tasks; wakes the agent for mail",
        timeout_seconds=60,
        tables={resources.TASK_STATE.key: RW},
        watch_agent=True,
        start_agent=True,
        read_queue_depth=True,
        # Asks Telegram whether the webhook is failing (getWebhookInfo) every few minutes.
        secrets=(resources.TELEGRAM_BOT_TOKEN,),
    ),
    "notifier": Access(
        description="Notifier: tells the owner on Telegram about alarms and the budget",
        timeout_seconds=30,
        # Paired users are the owner's chats; the dedupe table remembers each alarm's last
        # state and counts messages per hour, so a flood of alarms is not a flood of messages.
        tables={resources.PAIRING.key: R, resources.DEDUPE.key: RW},
        secrets=(resources.TELEGRAM_BOT_TOKEN,),
    ),
    "schedule": Access(
        description="Schedules: a firing's prompt is queued in its own session, the agent woken",
        timeout_seconds=30,
        tables={
            resources.DEDUPE.key: RW,
            # The owner's Telegram chat (paired users are the owner's chats).
            resources.PAIRING.key: R,
            resources.TASK_STATE.key: RW,
            resources.CONVERSATIONS.key: RW,
            resources.SCHEDULES.key: RW,
        },
        send_to_queue=True,
        start_agent=True,
    ),
}
MEMORY_MB = 256
RUNTIME = lambda_.Runtime.PYTHON_3_14


class Functions(Construct):
    """All handler functions; their environment is completed by `set_environment`."""

    def __init__(
        self,
        scope: Construct,
        construct_id_: str,
        *,
        spec: InfraSpec,
        code_dir: str,
        data: Data,
        agent: Agent,
    ) -> None:
        super().__init__(scope, construct_id_)
        self._spec = spec
        self._agent = agent
        self._parameters: dict[str, ssm.IStringParameter] = {}
        code = lambda_.Code.from_asset(code_dir)
        self.functions: dict[str, lambda_.Function] = {}
        self.roles: dict[str, iam.Role] = {}
        for key, access in ACCESS.items():
            self.functions[key] = self._function(key, access, code, data)

    def _parameter(self, secret: resources.Secret) -> ssm.IStringParameter | None:
        name = self._spec.parameter(secret)
        if name is None and secret.channel is not None:
            name = secret.parameter_name(self._spec.name)  # stored later by `channels add`
        if name is None:
            return None
        if secret.key not in self._parameters:
            self._parameters[secret.key] = (
                ssm.StringParameter.from_secure_string_parameter_attributes(
                    self, f"{construct_id(secret.key)}Parameter", parameter_name=name
                )
            )
        return self._parameters[secret.key]

    def _function(
        self, key: str, access: Access, code: lambda_.Code, data: Data
    ) -> lambda_.Function:
        spec = self._spec
        unit = construct_id(key)
        name = function_name(spec.name, key)
        logs = log_group(self, f"{unit}Logs", function_log_group(spec.name, key))
        role = iam.Role(
            self,
            f"{unit}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=f"{access.description} ({spec.name})",
        )
        logs.grant_write(role)
        function = lambda_.Function(
            self,
            unit,
            function_name=name,
            description=access.description,
            runtime=RUNTIME,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler_path(key),
            code=code,
            memory_size=MEMORY_MB,
            timeout=cdk.Duration.seconds(access.timeout_seconds),
            role=role,
            log_group=logs,
        )
        for table_key, mode in access.tables.items():
            table = data.tables[table_key]
            if mode == RW:
                table.grant_read_write_data(role)
            else:
                table.grant_read_data(role)
        for queue in data.queues.values():
            if access.send_to_queue:
                queue.grant_send_messages(role)
            if access.read_queue_depth:
                queue.grant(role, "sqs:GetQueueAttributes")
        for secret in access.secrets:
            parameter = self._parameter(secret)
            if parameter is not None:
                parameter.grant_read(role)
        if access.manage_keys:
            self._grant_keys(role)
        self._grant_state_files(role, access, data)
        self._grant_skills(role, access, data)
        self._grant_read_schedules(role, access)
        if access.start_agent or access.watch_agent:
            self._grant_stop(role)
        if access.start_agent:
            self._grant_start(role)
        if access.watch_agent:
            self._grant_list(role)
        self.roles[key] = role
        return function

    def _grant_keys(self, role: iam.Role) -> None:
        from openclaw_deploy.runtime.keys import keys_path

        stack = cdk.Stack.of(self)
        path = keys_path(self._spec.name)
        folder = stack.format_arn(service="ssm", resource="parameter", resource_name=path[1:])
        role.add_to_policy(
            iam.PolicyStatement(actions=["ssm:GetParametersByPath"], resources=[folder])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
                resources=[f"{folder}/*"],
            )
        )
        acknowledge_wildcard_resource(
            role,
            f"{folder}/*",
            "One parameter per provider or tool key under this deployment's keys/ path; the "
            "settings page sets and replaces them.",
        )

    def _grant_state_files(self, role: iam.Role, access: Access, data: Data) -> None:
        if not access.state_files:
            return
        from openclaw_deploy.runtime.contract import OUTBOUND_PREFIX, UPLOADS_PREFIX

        bucket = data.buckets[resources.STATE_BUCKET.key]
        uploads = bucket.arn_for_objects(f"{UPLOADS_PREFIX}*")
        outbound = bucket.arn_for_objects(f"{OUTBOUND_PREFIX}*")
        role.add_to_policy(iam.PolicyStatement(actions=["s3:PutObject"], resources=[uploads]))
        role.add_to_policy(
            iam.PolicyStatement(actions=["s3:GetObject"], resources=[uploads, outbound])
        )
        for objects in (uploads, outbound):
            acknowledge_wildcard_resource(
                role,
                objects,
                "Presigned URLs for the owner's attachments and the agent's files: one object "
                "per file under this prefix of the deployment's state bucket, nothing else.",
            )

    def _grant_skills(self, role: iam.Role, access: Access, data: Data) -> None:
        if not access.manage_skills:
            return
        from openclaw_deploy.runtime.skills import PREFIX

        skills = data.buckets[resources.STATE_BUCKET.key].arn_for_objects(f"{PREFIX}*")
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], resources=[skills]
            )
        )
        acknowledge_wildcard_resource(
            role,
            skills,
            "The owner's skills: one archive per skill, their index and the agent's report, "
            "under this prefix of the deployment's state bucket only.",
        )

    def _grant_read_schedules(self, role: iam.Role, access: Access) -> None:
        if not access.read_schedules:
            return
        from openclaw_deploy.runtime.schedules import group_name

        in_group = cdk.Stack.of(self).format_arn(
            service="scheduler",
            resource="schedule",
            resource_name=f"{group_name(self._spec.name)}/*",
        )
        role.add_to_policy(
            iam.PolicyStatement(actions=["scheduler:GetSchedule"], resources=[in_group])
        )
        # ListSchedules names no resource (the group is a request parameter).
        role.add_to_policy(
            iam.PolicyStatement(actions=["scheduler:ListSchedules"], resources=["*"])
        )
        acknowledge_wildcard_resource(
            role, in_group, "Schedule names are made by the owner; the group is the deployment's."
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "scheduler:ListSchedules accepts no resource; it only lists names and states.",
        )

    def _cluster_condition(self) -> dict[str, object]:
        return {"ArnEquals": {"ecs:cluster": self._agent.cluster.cluster_arn}}

    def _task_arns(self) -> str:
        return cdk.Stack.of(self).format_arn(
            service="ecs", resource="task", resource_name=f"{cluster_name(self._spec.name)}/*"
        )

    def _grant_stop(self, role: iam.Role) -> None:
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ecs:StopTask", "ecs:DescribeTasks"],
                resources=[self._task_arns()],
                conditions=self._cluster_condition(),
            )
        )
        acknowledge_wildcard_resource(
            role,
            self._task_arns(),
            "Task ids are random per start; the statement is limited to tasks of the agent's "
            "own cluster.",
        )

    def _grant_start(self, role: iam.Role) -> None:
        family = cdk.Stack.of(self).format_arn(
            service="ecs",
            resource="task-definition",
            resource_name=f"{task_family(self._spec.name)}:*",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["ecs:RunTask"], resources=[family], conditions=self._cluster_condition()
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                # Tags propagated from the task definition (the cost-allocation tag) are
                # authorized as tag-on-create of the task.
                actions=["ecs:TagResource"],
                resources=[self._task_arns()],
                conditions={"StringEquals": {"ecs:CreateAction": "RunTask"}},
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self._agent.task_role.role_arn, self._agent.execution_role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "ecs-tasks.amazonaws.com"}},
            )
        )
        acknowledge_wildcard_resource(
            role,
            family,
            "RunTask needs the revision wildcard: every deploy registers a new revision of the "
            "one agent family, and the statement is limited to the agent's cluster.",
        )

    def _grant_list(self, role: iam.Role) -> None:
        role.add_to_policy(
            iam.PolicyStatement(
                # ListTasks has no task resource to name; the condition pins it to our cluster.
                actions=["ecs:ListTasks"],
                resources=["*"],
                conditions=self._cluster_condition(),
            )
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "ecs:ListTasks accepts no task ARN; the ArnEquals ecs:cluster condition limits it to "
            "the agent's cluster.",
        )

    def set_environment(self, environment: Mapping[str, str]) -> None:
        for function in self.functions.values():
            for name, value in environment.items():
                function.add_environment(name, value)

    def grant_post_to_connections(self, connections_arn: str) -> None:
        for key, access in ACCESS.items():
            if access.post_to_connections:
                role = self.roles[key]
                role.add_to_policy(
                    iam.PolicyStatement(
                        actions=["execute-api:ManageConnections"], resources=[connections_arn]
                    )
                )
                acknowledge_wildcard_resource(role, connections_arn, CONNECTIONS_REASON)
