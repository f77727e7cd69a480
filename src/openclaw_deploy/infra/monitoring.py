"""Guardrails the owner can trust: alarms that matter, a budget, one dashboard, all told to the
owner (email through SNS, Telegram through the notifier function).

Alarms (each named `<prefix>-<what>`, each description `Title: what it means. Run <command>`):
the agent awake far longer than its idle timeout allows, starts failing in a row, messages in the
dead-letter queue, handler errors or throttles, the watchdog not running, and (with Telegram)
Telegram failing to deliver to the webhook. Every alarm tells its OK too, so the notifier can say
"recovered" once. Custom metrics come from `runtime.metrics` (embedded metric format in the logs).

The budget (`AWS::Budgets::Budget`, account-global, billed in us-east-1 whatever the stack's
region) filters on the deployment's cost-allocation tag, which AWS only counts once the tag is
activated in the Billing console; it alerts at 80 % of the forecast and 100 % of actual spend.
A budget of 0 leaves it out (regions whose CloudFormation lacks the type, or owners who keep
their own).

Cost: 6 alarms with 13 alarm metrics ($0.10 each after the account's 10 free), one dashboard
(3 free per account), the custom metrics of `runtime.metrics` (10 free per account).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, cast

import aws_cdk as cdk
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subscriptions
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from openclaw_deploy.infra.common import acknowledge
from openclaw_deploy.infra.spec import (
    TAG_DEPLOYMENT,
    WATCHDOG_RATE_MINUTES,
    InfraSpec,
    alarm_name,
    dashboard_name,
)
from openclaw_deploy.runtime import metrics

PERIOD: Final = cdk.Duration.minutes(5)
AWAKE_ALARM_FLOOR_MINUTES: Final = 120
"""The awake alarm fires after max(2 h, 8 x the idle timeout): a conversation keeps the agent up,
but only a stuck or hijacked one keeps it up that long. The watchdog stops it at its hard limit."""
AWAKE_ALARM_IDLE_FACTOR: Final = 8
FAILED_STARTS_ALARM: Final = 2
ERROR_FUNCTIONS: Final = ("api", "ws", "telegram", "watchdog")
"""Functions whose errors and throttles alarm (the notifier cannot usefully tell its own)."""
FORECAST_PERCENT: Final = 80
ACTUAL_PERCENT: Final = 100


def awake_alarm_minutes(idle_timeout_minutes: int) -> int:
    return max(AWAKE_ALARM_FLOOR_MINUTES, AWAKE_ALARM_IDLE_FACTOR * idle_timeout_minutes)


def cost_filter_tag(deployment: str) -> str:
    """How AWS Budgets names a user cost-allocation tag's value in a TagKeyValue filter."""
    return f"user:{TAG_DEPLOYMENT}${deployment}"


class Monitoring(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        spec: InfraSpec,
        functions: Mapping[str, lambda_.Function],
        notifier: lambda_.Function,
        dead_letters: sqs.IQueue,
        task_hour_usd: float,
    ) -> None:
        super().__init__(scope, construct_id)
        self._spec = spec
        self.topic = sns.Topic(
            self,
            "Alarms",
            topic_name=f"{spec.prefix}-alarms",
            display_name=f"OpenClaw {spec.name}",
            enforce_ssl=True,
        )
        acknowledge(
            self.topic,
            "AwsSolutions-SNS2",
            "Alarm and budget notices carry no user data; a customer-managed KMS key would cost "
            "$1/month and need key grants for CloudWatch and Budgets.",
        )
        # AWS Budgets publishes with its service principal, for this account only.
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["sns:Publish"],
                principals=[iam.ServicePrincipal("budgets.amazonaws.com")],
                resources=[self.topic.topic_arn],
                conditions={"StringEquals": {"aws:SourceAccount": cdk.Aws.ACCOUNT_ID}},
            )
        )
        if spec.owner_email:
            # SNS emails a confirmation link first: nothing arrives until the owner clicks it.
            self.topic.add_subscription(subscriptions.EmailSubscription(spec.owner_email))
        self.topic.add_subscription(subscriptions.LambdaSubscription(notifier))

        self.alarms = self._alarms(functions, dead_letters)
        self.dashboard = self._dashboard(functions, dead_letters, task_hour_usd)
        self.budget = self._budget() if spec.monthly_budget_usd else None

    # -- alarms -------------------------------------------------------------------------------

    def _custom(
        self, metric: metrics.Metric, statistic: str, **dimensions: str
    ) -> cloudwatch.Metric:
        return cloudwatch.Metric(
            namespace=metrics.NAMESPACE,
            metric_name=metric.name,
            dimensions_map={metrics.DEPLOYMENT_DIMENSION: self._spec.name, **dimensions},
            statistic=statistic,
            period=PERIOD,
        )

    def _alarm(
        self,
        key: str,
        metric: cloudwatch.IMetric,
        *,
        description: str,
        threshold: float,
        comparison: cloudwatch.ComparisonOperator,
        missing: cloudwatch.TreatMissingData,
        periods: int = 1,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            "".join(part.capitalize() for part in key.split("-")),
            alarm_name=alarm_name(self._spec.name, key),
            alarm_description=description,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=periods,
            datapoints_to_alarm=periods,
            treat_missing_data=missing,
        )
        action = actions.SnsAction(self.topic)
        alarm.add_alarm_action(action)
        alarm.add_ok_action(action)
        return alarm

    def _alarms(
        self, functions: Mapping[str, lambda_.Function], dead_letters: sqs.IQueue
    ) -> list[cloudwatch.Alarm]:
        spec = self._spec
        at_least = cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        quiet = cloudwatch.TreatMissingData.NOT_BREACHING
        awake = awake_alarm_minutes(spec.agent.idle_timeout_minutes)
        found = [
            self._alarm(
                "agent-awake-too-long",
                self._custom(metrics.AGENT_AWAKE, "Maximum"),
                description=(
                    f"Agent awake too long: a task has run for over {awake // 60} hours "
                    f"(idle timeout {spec.agent.idle_timeout_minutes} min). Run "
                    "`openclaw-deploy status`, then `openclaw-deploy agent stop` if nobody is "
                    "using it; `openclaw-deploy logs --component agent` shows what it does."
                ),
                threshold=awake * 60,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                missing=quiet,
            ),
            self._alarm(
                "agent-start-failures",
                self._custom(metrics.FAILED_STARTS, "Maximum"),
                description=(
                    "Agent starts failing: the agent failed to start "
                    f"{FAILED_STARTS_ALARM} or more times in a row. Run `openclaw-deploy status` "
                    "(it shows why) and `openclaw-deploy logs --component agent`."
                ),
                threshold=FAILED_STARTS_ALARM,
                comparison=at_least,
                missing=quiet,
            ),
            self._alarm(
                "dead-letters",
                dead_letters.metric_approximate_number_of_messages_visible(
                    period=PERIOD, statistic="Maximum"
                ),
                description=(
                    "Messages never answered: a message is in the dead-letter queue (the agent "
                    "failed on it five times). Run `openclaw-deploy dlq list`, then "
                    "`openclaw-deploy dlq retry` or `openclaw-deploy dlq drop`."
                ),
                threshold=1,
                comparison=at_least,
                missing=quiet,
            ),
            self._alarm(
                "handler-errors",
                self._handler_problems(functions),
                description=(
                    "Handler errors: a function failed or was throttled in the last 5 minutes. "
                    "Run `openclaw-deploy logs --component gateway` (web and API), "
                    "`--component telegram` or `--component watchdog`."
                ),
                threshold=1,
                comparison=at_least,
                missing=quiet,
            ),
            self._alarm(
                "watchdog-not-running",
                functions["watchdog"].metric_invocations(period=PERIOD, statistic="Sum"),
                description=(
                    "Watchdog not running: it has not run for 10 minutes, so nothing stops a "
                    "forgotten agent. Run `openclaw-deploy status` and "
                    "`openclaw-deploy logs --component watchdog`; `openclaw-deploy deploy` "
                    "restores its schedule."
                ),
                threshold=1,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                missing=cloudwatch.TreatMissingData.BREACHING,
                periods=2,
            ),
        ]
        if spec.telegram_enabled:
            found.append(
                self._alarm(
                    "telegram-webhook-failing",
                    self._custom(metrics.TELEGRAM_WEBHOOK_FAILING, "Maximum"),
                    description=(
                        "Telegram webhook failing: Telegram cannot deliver messages to the "
                        "agent and they are piling up. Run `openclaw-deploy status` and "
                        "`openclaw-deploy logs --component telegram`."
                    ),
                    threshold=1,
                    comparison=at_least,
                    missing=quiet,
                    periods=2,
                )
            )
        return found

    def _handler_problems(self, functions: Mapping[str, lambda_.Function]) -> cloudwatch.IMetric:
        using: dict[str, cloudwatch.IMetric] = {}
        for index, key in enumerate(ERROR_FUNCTIONS):
            function = functions[key]
            using[f"e{index}"] = function.metric_errors(period=PERIOD, statistic="Sum")
            using[f"t{index}"] = function.metric_throttles(period=PERIOD, statistic="Sum")
        return cloudwatch.MathExpression(
            expression="+".join(f"FILL({name},0)" for name in using),
            using_metrics=using,
            label="Errors and throttles",
            period=PERIOD,
        )

    # -- dashboard ----------------------------------------------------------------------------

    def _alarms_by_arn(self) -> list[cloudwatch.IAlarm]:
        """The alarms as the dashboard names them: by ARNs built from their fixed names, not by
        references to the alarm resources. The dashboard needs no ordering against them, and a
        stack whose alarms an emulator skips (moto's CloudFormation) still deploys."""
        stack = cdk.Stack.of(self)
        return [
            cloudwatch.Alarm.from_alarm_arn(
                self,
                f"{alarm.node.id}ByArn",
                stack.format_arn(
                    service="cloudwatch",
                    resource="alarm",
                    resource_name=cast(cloudwatch.CfnAlarm, alarm.node.default_child).alarm_name,
                    arn_format=cdk.ArnFormat.COLON_RESOURCE_NAME,
                ),
            )
            for alarm in self.alarms
        ]

    def _dashboard(
        self,
        functions: Mapping[str, lambda_.Function],
        dead_letters: sqs.IQueue,
        task_hour_usd: float,
    ) -> cloudwatch.Dashboard:
        minutes_per_sample = WATCHDOG_RATE_MINUTES
        awake = self._custom(metrics.AGENT_AWAKE, "SampleCount")
        hours = cloudwatch.MathExpression(
            expression=f"SUM(m1) * {minutes_per_sample} / 60",
            using_metrics={"m1": awake},
            label="Agent hours",
        )
        cost = cloudwatch.MathExpression(
            expression=f"SUM(m1) * {minutes_per_sample} / 60 * {task_hour_usd:.5f}",
            using_metrics={"m1": awake},
            label=f"Modelled task cost, USD (${task_hour_usd:.4f}/h)",
        )
        dashboard = cloudwatch.Dashboard(
            self,
            "Dashboard",
            dashboard_name=dashboard_name(self._spec.name),
            default_interval=cdk.Duration.days(7),
        )
        phases = [
            self._custom(metrics.START_PHASE_SECONDS, "Average", Phase=phase)
            for phase in metrics.START_PHASES
        ]
        channels = [
            self._custom(metrics.MESSAGES_RECEIVED, "Sum", Channel=channel)
            for channel in metrics.CHANNELS
        ]
        dashboard.add_widgets(
            cloudwatch.SingleValueWidget(
                title="This month so far (last 30 days): agent hours and modelled cost",
                metrics=[hours, cost],
                start="-P30D",
                set_period_to_time_range=True,
                width=12,
                height=5,
            ),
            cloudwatch.AlarmStatusWidget(
                title="Alarms", alarms=self._alarms_by_arn(), width=12, height=5
            ),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Cold start phases inside the task (seconds)",
                left=phases,
                stacked=True,
                width=12,
            ),
            cloudwatch.GraphWidget(title="Messages per channel", left=channels, width=12),
        )
        dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Turns and their latency",
                left=[self._custom(metrics.TURN_SECONDS, "SampleCount")],
                right=[
                    self._custom(metrics.TURN_SECONDS, "Average"),
                    self._custom(metrics.TURN_SECONDS, "p90"),
                ],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Errors and dead letters",
                left=[
                    self._custom(metrics.TURN_ERRORS, "Sum"),
                    self._handler_problems(functions),
                ],
                right=[
                    dead_letters.metric_approximate_number_of_messages_visible(
                        period=PERIOD, statistic="Maximum"
                    )
                ],
                width=12,
            ),
        )
        return dashboard

    # -- budget -------------------------------------------------------------------------------

    def _budget(self) -> budgets.CfnBudget:
        spec = self._spec
        subscriber = budgets.CfnBudget.SubscriberProperty(
            subscription_type="SNS", address=self.topic.topic_arn
        )

        def alert(kind: str, percent: int) -> budgets.CfnBudget.NotificationWithSubscribersProperty:
            return budgets.CfnBudget.NotificationWithSubscribersProperty(
                notification=budgets.CfnBudget.NotificationProperty(
                    notification_type=kind,
                    comparison_operator="GREATER_THAN",
                    threshold=percent,
                    threshold_type="PERCENTAGE",
                ),
                subscribers=[subscriber],
            )

        budget = budgets.CfnBudget(
            self,
            "Budget",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name=spec.prefix,
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(
                    amount=float(spec.monthly_budget_usd or 0), unit="USD"
                ),
                cost_filters={"TagKeyValue": [cost_filter_tag(spec.name)]},
            ),
            notifications_with_subscribers=[
                alert("FORECASTED", FORECAST_PERCENT),
                alert("ACTUAL", ACTUAL_PERCENT),
            ],
        )
        # The topic policy must exist before Budgets validates that it may publish.
        budget.node.add_dependency(self.topic)
        return budget
