"""Watchdog: an EventBridge schedule that runs the watchdog Lambda every few minutes.

The bridge stops itself when idle; the watchdog is the backstop for stale heartbeats, tasks over
their maximum lifetime and tasks no lifecycle row owns — a forgotten task is the one way this
deployment could cost real money. Scheduled rules are free; so are these invocations (Lambda's
always-free tier).
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from openclaw_deploy.infra.spec import WATCHDOG_RATE_MINUTES, InfraSpec


class Watchdog(Construct):
    def __init__(
        self, scope: Construct, construct_id: str, *, spec: InfraSpec, function: lambda_.IFunction
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
