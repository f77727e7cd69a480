"""The deployment's alarms as `status` shows them: each alarm's state, the dashboard's URL, and
whether the owner has confirmed the alarm email yet.

The alarms and the topic are part of the stack (`infra.monitoring`); this reads them by the
names the stack gives them. SNS emails a confirmation link when the stack subscribes the owner,
and until it is clicked no alarm or budget email arrives: ListSubscriptionsByTopic shows such a
subscription with the ARN "PendingConfirmation". Nothing here imports aws_cdk.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from openclaw_deploy.errors import DeployError
from openclaw_deploy.infra import spec
from openclaw_deploy.runtime import resources

if TYPE_CHECKING:
    from openclaw_deploy.config import Deployment
    from openclaw_deploy.context import AppContext

ALARM_KEYS: Final = (
    "agent-awake-too-long",
    "agent-start-failures",
    "dead-letters",
    "handler-errors",
    "watchdog-not-running",
    "telegram-webhook-failing",
)
"""Every alarm `infra.monitoring` can create (the Telegram one only with a bot)."""
PENDING: Final = "PendingConfirmation"
NOT_EMULATED: Final = (
    "not emulated on the local target (the alarms, the dashboard and the alert email exist "
    "once deployed to AWS)"
)


@dataclass(frozen=True, kw_only=True)
class AlarmInfo:
    name: str
    state: str
    """OK, ALARM or INSUFFICIENT_DATA (CloudWatch's own words)."""
    reason: str | None = None
    since: float | None = None


@dataclass(frozen=True, kw_only=True)
class MonitoringInfo:
    emulated: bool
    """False on the local target: there are no alarms to show."""
    dashboard_url: str | None = None
    alarms: list[AlarmInfo] = field(default_factory=list)
    email: str | None = None
    """Where alarm and budget emails go."""
    email_pending: bool | None = None
    """True until the owner clicks SNS's confirmation link; None: not known."""
    problems: list[str] = field(default_factory=list)
    """What could not be read, and why."""
    note: str | None = None


def alarm_topic_name(deployment: str) -> str:
    return f"{resources.resource_prefix(deployment)}-alarms"


def _partition(region: str) -> str:
    if region.startswith("cn-"):
        return "aws-cn"
    return "aws-us-gov" if region.startswith("us-gov-") else "aws"


def alarm_topic_arn(deployment: str, region: str, account: str) -> str:
    return f"arn:{_partition(region)}:sns:{region}:{account}:{alarm_topic_name(deployment)}"


def alarms_of(answer: Mapping[str, Any]) -> list[AlarmInfo]:
    """The alarms in DescribeAlarms' answer."""
    found = []
    for alarm in answer.get("MetricAlarms", []):
        updated = alarm.get("StateUpdatedTimestamp")
        found.append(
            AlarmInfo(
                name=str(alarm["AlarmName"]),
                state=str(alarm.get("StateValue", "INSUFFICIENT_DATA")),
                reason=alarm.get("StateReason") or None,
                since=updated.timestamp() if hasattr(updated, "timestamp") else None,
            )
        )
    return found


def email_pending(subscriptions: Iterable[Mapping[str, Any]], email: str) -> bool | None:
    """Whether the owner's email subscription waits for its confirmation link to be clicked
    (None when the topic has no subscription for that address)."""
    for subscription in subscriptions:
        if subscription.get("Protocol") == "email" and subscription.get("Endpoint") == email:
            return subscription.get("SubscriptionArn") == PENDING
    return None


def local_monitoring() -> MonitoringInfo:
    return MonitoringInfo(emulated=False, note=NOT_EMULATED)


def monitoring_info(app: AppContext, deployment: Deployment, account: str) -> MonitoringInfo:
    """The alarms' states, the dashboard's URL and the alert email's confirmation, each read
    on its own: one refused read (an older deployer policy) leaves the others shown."""
    from openclaw_deploy.aws.errors import translate_boto_errors

    region = deployment.region
    problems: list[str] = []
    alarms: list[AlarmInfo] = []
    names = [spec.alarm_name(deployment.name, key) for key in ALARM_KEYS]
    try:
        with translate_boto_errors("read the alarms"):
            answer = app.client("cloudwatch", region).describe_alarms(
                AlarmNames=names, AlarmTypes=["MetricAlarm"]
            )
        alarms = _ordered(alarms_of(answer), names)
    except DeployError as error:
        problems.append(f"The alarms could not be read: {error.message}")

    pending: bool | None = None
    email = deployment.owner_email or None
    if email:
        try:
            pending = alert_email_pending(app, deployment, account)
        except DeployError as error:
            problems.append(f"The alert email's subscription could not be read: {error.message}")
    return MonitoringInfo(
        emulated=True,
        dashboard_url=spec.dashboard_url(deployment.name, region),
        alarms=alarms,
        email=email,
        email_pending=pending,
        problems=problems,
    )


def alert_email_pending(app: AppContext, deployment: Deployment, account: str) -> bool | None:
    """Whether the owner still has to confirm the alarm email (None: no such subscription)."""
    from openclaw_deploy.aws.errors import translate_boto_errors

    region = deployment.region
    sns = app.client("sns", region)
    with translate_boto_errors("read the alert email's subscription"):
        try:
            subscriptions = sns.list_subscriptions_by_topic(
                TopicArn=alarm_topic_arn(deployment.name, region, account)
            ).get("Subscriptions", [])
        except sns.exceptions.NotFoundException:
            return None  # deployed before the alarms existed: the next deploy adds the topic
    return email_pending(subscriptions, deployment.owner_email)


def _ordered(alarms: list[AlarmInfo], names: list[str]) -> list[AlarmInfo]:
    order = {name: index for index, name in enumerate(names)}
    return sorted(alarms, key=lambda alarm: order.get(alarm.name, len(order)))
