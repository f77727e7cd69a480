"""Schedules: the deployment's EventBridge Scheduler group, the role Scheduler acts with, and the
dead-letter queue of firings that could not be delivered.

The schedules themselves are not in the template: the owner makes them (`openclaw-deploy
schedule add`, the web app) and the agent leaves its own one-time wake-ups. Each invokes the
`schedule` function with its input, through the role below, which may invoke that function and
nothing else (plus sending an undeliverable firing to the dead-letter queue). The group is part
of the stack, so `destroy` deletes it and, with it, every schedule in it.

Scheduler is free at this volume (14 million invocations a month).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from openclaw_deploy.infra.common import acknowledge, acknowledge_wildcard_resource
from openclaw_deploy.infra.spec import InfraSpec
from openclaw_deploy.runtime import schedule_plan, schedules

DLQ_RETENTION = cdk.Duration.days(14)


class Schedules(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, spec: InfraSpec, function: lambda_.IFunction
    ) -> None:
        super().__init__(scope, construct_id)
        stack = cdk.Stack.of(self)
        self.group = scheduler.CfnScheduleGroup(self, "Group", name=schedules.group_name(spec.name))
        self.group_arn = stack.format_arn(
            service="scheduler",
            resource="schedule-group",
            resource_name=schedules.group_name(spec.name),
        )
        self.schedule_arns = stack.format_arn(
            service="scheduler",
            resource="schedule",
            resource_name=f"{schedules.group_name(spec.name)}/*",
        )
        self.dead_letters = sqs.Queue(
            self,
            "DeadLetters",
            queue_name=schedules.dead_letter_name(spec.name),
            retention_period=DLQ_RETENTION,
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
        )
        acknowledge(
            self.dead_letters,
            "AwsSolutions-SQS3",
            "This is the dead-letter queue of schedule firings; what lands here is kept for "
            "inspection.",
        )
        self.role = iam.Role(
            self,
            "Role",
            # Named, so the CLI and the bridge can name it in CreateSchedule.
            role_name=schedules.role_name(spec.name),
            description=f"EventBridge Scheduler: runs the schedules of {spec.name}",
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    # Only schedules of this account's group may act with it (confused deputy).
                    "StringEquals": {"aws:SourceAccount": stack.account},
                    "ArnLike": {"aws:SourceArn": self.group_arn},
                },
            ),
        )
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["lambda:InvokeFunction"], resources=[function.function_arn]
            )
        )
        # Only SendMessage (grant_send_messages would add GetQueueUrl and GetQueueAttributes).
        self.role.add_to_policy(
            iam.PolicyStatement(
                actions=["sqs:SendMessage"], resources=[self.dead_letters.queue_arn]
            )
        )
        self._function = function
        self._group = schedules.group_name(spec.name)

    def grant_agent_wake_ups(self, role: iam.IRole) -> None:
        """Let the agent task leave, replace and remove its own one-time wake-ups (names
        `agent-*` in this group) and hand them the scheduler's role, nothing else."""
        stack = cdk.Stack.of(self)
        wake_ups = stack.format_arn(
            service="scheduler",
            resource="schedule",
            resource_name=f"{self._group}/{schedules.AGENT_PREFIX}*",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "scheduler:CreateSchedule",
                    "scheduler:UpdateSchedule",
                    "scheduler:DeleteSchedule",
                    "scheduler:GetSchedule",
                ],
                resources=[wake_ups],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            )
        )
        acknowledge_wildcard_resource(
            role,
            wake_ups,
            "The agent's own wake-ups in this deployment's schedule group (names agent-*), "
            "never the owner's schedules.",
        )

    def grant_owner_schedules(self, function: lambda_.Function, *, task_hour_usd: float) -> None:
        """Let the web app's Schedules page add, pause, resume, run and remove the owner's
        schedules (names `s-*` in this group; it reads any, including the agent's) and hand
        them the scheduler's role, nothing else; and tell it what it needs to create one."""
        role = function.role
        if role is None:
            raise ValueError("the API function has no role")
        owners = cdk.Stack.of(self).format_arn(
            service="scheduler",
            resource="schedule",
            resource_name=f"{self._group}/{schedules.OWNER_PREFIX}*",
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=[
                    "scheduler:CreateSchedule",
                    "scheduler:UpdateSchedule",
                    "scheduler:DeleteSchedule",
                ],
                resources=[owners],
            )
        )
        role.add_to_principal_policy(
            iam.PolicyStatement(
                actions=["iam:PassRole"],
                resources=[self.role.role_arn],
                conditions={"StringEquals": {"iam:PassedToService": "scheduler.amazonaws.com"}},
            )
        )
        acknowledge_wildcard_resource(
            role,
            owners,
            "The owner's schedules in this deployment's schedule group (names s-*), never the "
            "agent's own wake-ups.",
        )
        for name, value in self.environment().items():
            function.add_environment(name, value)
        function.add_environment(schedule_plan.ENV_TASK_HOUR_USD, f"{task_hour_usd:.4f}")

    def environment(self) -> dict[str, str]:
        """What a `CreateSchedule` of a wake-up names (`schedules.Names.from_env`)."""
        return schedules.Names(
            group=self._group,
            target_arn=self._function.function_arn,
            role_arn=self.role.role_arn,
            dead_letter_arn=self.dead_letters.queue_arn,
        ).environment()
