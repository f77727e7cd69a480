"""Watchdog: two EventBridge rules that run the watchdog Lambda.

* Every minute, a schedule: the backstop for stale heartbeats, tasks over their maximum
  lifetime and tasks no lifecycle row owns — a forgotten task is the one way this deployment
  could cost real money.
* At once, ECS's state-change event of an agent task that stopped (a crash, an out-of-memory
  kill, a Spot reclaim): the lifecycle row is repaired and the agent woken again if messages
  wait, so a message interrupted by a crash is answered within about a minute, not at the next
  round or after the queue's visibility timeout.

Scheduled rules and AWS service events on the default bus are free; so are these invocations
(Lambda's always-free tier).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from openclaw_deploy.handlers.watchdog import ECS_SOURCE, TASK_STATE_CHANGE
from openclaw_deploy.infra.spec import WATCHDOG_RATE_MINUTES, InfraSpec
from openclaw_deploy.runtime.lifecycle import STARTED_BY


class Watchdog(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: InfraSpec,
        function: lambda_.IFunction,
        cluster_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.rule = events.Rule(
            self,
            "Schedule",
            rule_name=f"{spec.prefix}-watchdog",
            description=f"Stops idle or orphaned agent tasks of {spec.name}",
            schedule=events.Schedule.rate(cdk.Duration.minutes(WATCHDOG_RATE_MINUTES)),
            # A missed run is made up by the next one; retries would only pile up.
            targets=[targets.LambdaFunction(function, retry_attempts=0)],
        )
        self.stopped_rule = events.Rule(
            self,
            "TaskStopped",
            rule_name=f"{spec.prefix}-agent-stopped",
            description=f"Repairs the lifecycle of {spec.name} the moment an agent task stops",
            event_pattern=events.EventPattern(
                source=[ECS_SOURCE],
                detail_type=[TASK_STATE_CHANGE],
                detail={
                    "clusterArn": [cluster_arn],
                    "lastStatus": ["STOPPED"],
                    "startedBy": [STARTED_BY],
                },
            ),
            # Each stop happens once: retry a failed invocation (the schedule is the backstop).
            targets=[
                targets.LambdaFunction(
                    function, retry_attempts=2, max_event_age=cdk.Duration.minutes(5)
                )
            ],
        )
