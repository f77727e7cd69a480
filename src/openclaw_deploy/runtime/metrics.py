"""Custom metrics as CloudWatch embedded metric format (EMF): one JSON line on stdout each.

Lambda and the agent task's `awslogs` driver send stdout to CloudWatch Logs, which extracts the
metrics from these lines — no PutMetricData call, no client, no extra latency on the path that
answers a person. Every metric the dashboard and the alarms read is described here once
(`CATALOGUE`); a test checks that each one the template shows is emitted somewhere in the code.

Each distinct metric (name and dimension values) is a CloudWatch custom metric, billed for the
hours it receives data (the first 10 per account are free): the set below is kept small, and the
ones emitted every minute by the watchdog are only emitted when there is something to say, except
`AgentAwakeSeconds`, which is only emitted while a task runs.

Stdlib only: imported by Lambda handlers and by the bridge.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Final, TextIO

NAMESPACE: Final = "OpenClaw"
DEPLOYMENT_DIMENSION: Final = "Deployment"


@dataclass(frozen=True, kw_only=True)
class Metric:
    name: str
    unit: str
    dimensions: tuple[str, ...] = ()
    """Dimensions besides `Deployment`, which every metric has."""
    description: str

    @property
    def dimension_keys(self) -> tuple[str, ...]:
        return (DEPLOYMENT_DIMENSION, *self.dimensions)


AGENT_AWAKE: Final = Metric(
    name="AgentAwakeSeconds",
    unit="Seconds",
    description="Age of the running agent task, once per watchdog round (one a minute) while a "
    "task runs: its sample count is minutes awake.",
)
FAILED_STARTS: Final = Metric(
    name="FailedStartsInARow",
    unit="Count",
    description="Starts in a row that never reached Running (watchdog; only while above zero).",
)
TELEGRAM_WEBHOOK_FAILING: Final = Metric(
    name="TelegramWebhookFailing",
    unit="Count",
    description="1 when Telegram reports a recent error delivering to the webhook, else 0 "
    "(watchdog, from getWebhookInfo's last_error_date).",
)
MESSAGES_RECEIVED: Final = Metric(
    name="MessagesReceived",
    unit="Count",
    dimensions=("Channel",),
    description="Messages accepted for the agent, per channel (web, telegram).",
)
TURN_SECONDS: Final = Metric(
    name="TurnSeconds",
    unit="Seconds",
    description="Time from taking a message to the finished reply (bridge); count = turns.",
)
TURN_ERRORS: Final = Metric(
    name="TurnErrors",
    unit="Count",
    description="Turns OpenClaw could not answer (bridge).",
)
START_PHASE_SECONDS: Final = Metric(
    name="StartPhaseSeconds",
    unit="Seconds",
    dimensions=("Phase",),
    description="Seconds per cold-start phase inside the task (bridge, once per start): "
    "starting (process start to restore), restoring (state from S3), loading (OpenClaw ready).",
)
CATALOGUE: Final[tuple[Metric, ...]] = (
    AGENT_AWAKE,
    FAILED_STARTS,
    TELEGRAM_WEBHOOK_FAILING,
    MESSAGES_RECEIVED,
    TURN_SECONDS,
    TURN_ERRORS,
    START_PHASE_SECONDS,
)
CHANNELS: Final = ("web", "telegram")
START_PHASES: Final = ("starting", "restoring", "loading")
ENV_DEPLOYMENT: Final = "OPENCLAW_DEPLOYMENT"


def record(
    metric: Metric,
    value: float,
    *,
    deployment: str | None = None,
    stream: TextIO | None = None,
    clock: Callable[[], float] = time.time,
    **dimensions: str,
) -> str:
    """Write one EMF line for `metric` and return it. Never raises: a metric is never worth
    failing the work it measures."""
    try:
        line = emf_line(
            metric,
            value,
            deployment=deployment or os.environ.get(ENV_DEPLOYMENT, "") or "unknown",
            timestamp_ms=int(clock() * 1000),
            dimensions=dimensions,
        )
        out = stream if stream is not None else sys.stdout
        out.write(line + "\n")
        out.flush()
    except (OSError, ValueError):
        return ""
    return line


def emf_line(
    metric: Metric,
    value: float,
    *,
    deployment: str,
    timestamp_ms: int,
    dimensions: Mapping[str, str],
) -> str:
    if set(dimensions) != set(metric.dimensions):
        raise ValueError(f"{metric.name} takes dimensions {metric.dimensions}, got {dimensions}")
    document: dict[str, object] = {
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [list(metric.dimension_keys)],
                    "Metrics": [{"Name": metric.name, "Unit": metric.unit}],
                }
            ],
        },
        DEPLOYMENT_DIMENSION: deployment,
        **dimensions,
        metric.name: value,
    }
    return json.dumps(document, separators=(",", ":"))
