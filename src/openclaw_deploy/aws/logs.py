"""CloudWatch Logs, as `logs`, `status` and `cost` read it: a log group's events in a time window,
its newest streams, and how much it stores.

A log group that does not exist (not deployed yet, or a function that never ran) reads as empty:
for a viewer that is not an error.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Final

from openclaw_deploy.aws.errors import translate_boto_errors

MAX_STREAM_NAMES: Final = 100
"""FilterLogEvents accepts at most this many stream names."""


@dataclass(frozen=True)
class LogEvent:
    event_id: str
    timestamp: float
    """Epoch seconds (CloudWatch keeps milliseconds)."""
    stream: str
    message: str


@dataclass(frozen=True)
class LogStream:
    name: str
    created: float
    last_event: float | None


def _missing(error: Any) -> bool:
    return bool(error.response.get("Error", {}).get("Code") == "ResourceNotFoundException")


class CloudWatchLogs:
    """The few CloudWatch Logs calls we make, with our errors."""

    def __init__(self, client: Any) -> None:
        self._logs = client

    def events(
        self,
        group: str,
        *,
        start: float,
        end: float | None = None,
        streams: list[str] | None = None,
    ) -> Iterator[LogEvent]:
        """Every event of `group` from `start` (epoch seconds) on, page by page."""
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {"logGroupName": group, "startTime": int(start * 1000)}
        if end is not None:
            kwargs["endTime"] = int(end * 1000)
        if streams:
            kwargs["logStreamNames"] = streams[:MAX_STREAM_NAMES]
        with translate_boto_errors(f"read the log group {group}"):
            while True:
                try:
                    page = self._logs.filter_log_events(**kwargs)
                except ClientError as error:
                    if _missing(error):
                        return
                    raise
                for raw in page.get("events") or []:
                    yield LogEvent(
                        event_id=str(raw.get("eventId", "")),
                        timestamp=int(raw.get("timestamp", 0)) / 1000,
                        stream=str(raw.get("logStreamName", "")),
                        message=str(raw.get("message", "")).rstrip("\n"),
                    )
                token = page.get("nextToken")
                if not token or token == kwargs.get("nextToken"):
                    return
                kwargs["nextToken"] = token

    def newest_streams(self, group: str, *, prefix: str = "", limit: int = 25) -> list[LogStream]:
        """The streams with the most recent events, newest created first.

        CloudWatch cannot order by last event and filter by prefix in one call, and it updates
        `lastEventTimestamp` lazily, so this takes a page ordered by last event and sorts it by
        creation (one stream per agent task: created when the task starts)."""
        from botocore.exceptions import ClientError

        with translate_boto_errors(f"list the streams of {group}"):
            try:
                page = self._logs.describe_log_streams(
                    logGroupName=group, orderBy="LastEventTime", descending=True, limit=limit
                )
            except ClientError as error:
                if _missing(error):
                    return []
                raise
        streams = [
            LogStream(
                name=str(raw["logStreamName"]),
                created=int(raw.get("creationTime", 0)) / 1000,
                last_event=(
                    int(raw["lastEventTimestamp"]) / 1000 if raw.get("lastEventTimestamp") else None
                ),
            )
            for raw in page.get("logStreams") or []
            if str(raw.get("logStreamName", "")).startswith(prefix)
        ]
        return sorted(streams, key=lambda stream: stream.created, reverse=True)

    def stored_bytes(self, prefix: str) -> int:
        """What the log groups whose names start with `prefix` store now."""
        with translate_boto_errors(f"read the size of the log groups {prefix}*"):
            paginator = self._logs.get_paginator("describe_log_groups")
            return sum(
                int(group.get("storedBytes") or 0)
                for page in paginator.paginate(logGroupNamePrefix=prefix)
                for group in page.get("logGroups") or []
            )
