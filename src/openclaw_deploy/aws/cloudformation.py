"""CloudFormation, as deploy and destroy use it: stack status, outputs, events and progress.

`StackEvents` reads a stack's events newer than a starting point, oldest first, without ever
returning one twice; `ProgressTracker` turns them into per-resource progress with timings for
whatever `StackProgress` the CLI hands in (a live table at a terminal, plain lines otherwise).
The deploy service polls while the CDK CLI runs, so progress is ours, not the CLI's log.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Protocol

from openclaw_deploy.aws.errors import translate_boto_errors

IN_PROGRESS_SUFFIX: Final = "_IN_PROGRESS"
FAILED_SUFFIX: Final = "_FAILED"
# Reasons that only say "something else failed first": not worth repeating to the user.
_NOISE: Final = (
    "Resource creation cancelled",
    "Resource update cancelled",
    "Resource deletion cancelled",
    "The following resource(s) failed",
)


@dataclass(frozen=True, kw_only=True)
class StackInfo:
    name: str
    stack_id: str
    status: str
    reason: str | None
    outputs: dict[str, str]
    changed_at: datetime | None = None
    """When the stack was last updated (or created): the last deploy."""

    @property
    def in_progress(self) -> bool:
        return self.status.endswith(IN_PROGRESS_SUFFIX)


@dataclass(frozen=True, kw_only=True)
class StackEvent:
    event_id: str
    timestamp: datetime
    logical_id: str
    resource_type: str
    status: str
    reason: str | None
    physical_id: str | None = None

    @property
    def is_stack(self) -> bool:
        return self.resource_type == "AWS::CloudFormation::Stack"

    @property
    def failed(self) -> bool:
        return self.status.endswith(FAILED_SUFFIX)


@dataclass(frozen=True, kw_only=True)
class FailedResource:
    name: str
    resource_type: str
    status: str
    reason: str


class CloudFormation:
    """The few CloudFormation calls we make, with our errors."""

    def __init__(self, client: Any) -> None:
        self._cfn = client

    def describe(self, name: str) -> StackInfo | None:
        """The stack, or None when it does not exist (or was deleted)."""
        from botocore.exceptions import ClientError

        with translate_boto_errors(f"look up the stack {name}"):
            try:
                stacks = self._cfn.describe_stacks(StackName=name)["Stacks"]
            except ClientError as error:
                message = error.response.get("Error", {}).get("Message", "")
                if "does not exist" in message:
                    return None
                raise
        if not stacks or stacks[0]["StackStatus"] == "DELETE_COMPLETE":
            return None
        stack = stacks[0]
        return StackInfo(
            name=name,
            stack_id=str(stack["StackId"]),
            status=str(stack["StackStatus"]),
            reason=stack.get("StackStatusReason"),
            outputs={
                str(o["OutputKey"]): str(o.get("OutputValue", ""))
                for o in stack.get("Outputs") or []
            },
            changed_at=stack.get("LastUpdatedTime") or stack.get("CreationTime"),
        )

    def template(self, name: str) -> dict[str, Any] | None:
        from botocore.exceptions import ClientError

        with translate_boto_errors(f"read the template of {name}"):
            try:
                body = self._cfn.get_template(StackName=name, TemplateStage="Original")[
                    "TemplateBody"
                ]
            except ClientError:
                return None
        if isinstance(body, dict):
            return body
        try:
            parsed = json.loads(body)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None

    def resources(self, name: str) -> list[dict[str, Any]]:
        with translate_boto_errors(f"list the resources of {name}"):
            paginator = self._cfn.get_paginator("list_stack_resources")
            found: list[dict[str, Any]] = []
            for page in paginator.paginate(StackName=name):
                found.extend(page["StackResourceSummaries"])
        return found

    def delete(self, name: str, *, retain: list[str] | None = None) -> None:
        with translate_boto_errors(f"delete the stack {name}"):
            kwargs: dict[str, Any] = {"StackName": name}
            if retain:
                kwargs["RetainResources"] = retain
            self._cfn.delete_stack(**kwargs)

    def events(self, stack_id: str) -> Iterator[StackEvent]:
        """Events newest first (as CloudFormation returns them), page by page."""
        with translate_boto_errors(f"read the events of {stack_id}"):
            paginator = self._cfn.get_paginator("describe_stack_events")
            for page in paginator.paginate(StackName=stack_id):
                for raw in page["StackEvents"]:
                    yield StackEvent(
                        event_id=str(raw["EventId"]),
                        timestamp=raw["Timestamp"],
                        logical_id=str(raw.get("LogicalResourceId", "")),
                        resource_type=str(raw.get("ResourceType", "")),
                        status=str(raw.get("ResourceStatus", "")),
                        reason=raw.get("ResourceStatusReason"),
                        physical_id=raw.get("PhysicalResourceId"),
                    )


class StackEvents:
    """New events of one stack operation, oldest first, each exactly once.

    Events from before the operation are skipped by remembering the newest event that existed
    when it started (`since` with a margin covers a stack that did not exist yet, whatever the
    local clock's skew)."""

    CLOCK_MARGIN: Final = 120.0

    def __init__(self, cfn: CloudFormation, stack: str, *, since: datetime) -> None:
        self._cfn = cfn
        self._stack = stack
        self._since = since
        self._seen: set[str] = set()
        self._boundary: str | None = None
        for event in self._safe_events():
            self._boundary = event.event_id
            break

    def _safe_events(self) -> Iterator[StackEvent]:
        from openclaw_deploy.errors import AwsError

        try:
            yield from self._cfn.events(self._stack)
        except AwsError as error:
            if "does not exist" not in error.message:
                raise
            # Not created yet (the CLI is still publishing assets), or gone.

    def poll(self) -> list[StackEvent]:
        fresh: list[StackEvent] = []
        for event in self._safe_events():
            if event.event_id in self._seen or event.event_id == self._boundary:
                break  # everything older was returned before, or predates the operation
            if (self._since - event.timestamp).total_seconds() > self.CLOCK_MARGIN:
                break
            fresh.append(event)
        self._seen.update(event.event_id for event in fresh)
        fresh.reverse()
        return fresh


@dataclass(frozen=True, kw_only=True)
class ResourceProgress:
    """One resource changed state; `seconds` is how long its operation took (on completion)."""

    name: str
    resource_type: str
    status: str
    reason: str | None
    seconds: float | None
    at: datetime


class StackProgress(Protocol):
    """Where a stack operation's progress goes (the CLI renders it). `start` and `finish`
    bracket each operation (a live display must not outlast it: other output follows)."""

    def start(self, stack: str) -> None: ...

    def resource(self, progress: ResourceProgress) -> None: ...

    def stack(self, status: str, reason: str | None) -> None: ...

    def finish(self) -> None: ...


class NullProgress:
    def start(self, stack: str) -> None:
        pass

    def resource(self, progress: ResourceProgress) -> None:
        pass

    def stack(self, status: str, reason: str | None) -> None:
        pass

    def finish(self) -> None:
        pass


@contextmanager
def following(progress: StackProgress, stack: str) -> Iterator[None]:
    """Bracket one stack operation for `progress`, whatever happens inside."""
    progress.start(stack)
    try:
        yield
    finally:
        progress.finish()


@dataclass
class ProgressTracker:
    """Feeds events to a `StackProgress`, timing each resource from its *_IN_PROGRESS event,
    and remembers which resources failed and why."""

    progress: StackProgress
    stack_name: str
    names: dict[str, str] = field(default_factory=dict)
    """Logical id → a readable name (the construct path)."""
    _started: dict[str, datetime] = field(default_factory=dict)
    failures: list[FailedResource] = field(default_factory=list)
    last_stack_status: str | None = None

    def feed(self, events: list[StackEvent]) -> None:
        for event in events:
            if event.is_stack and event.logical_id == self.stack_name:
                self.last_stack_status = event.status
                self.progress.stack(event.status, event.reason)
                continue
            name = self.names.get(event.logical_id, event.logical_id)
            seconds: float | None = None
            if event.status.endswith(IN_PROGRESS_SUFFIX):
                self._started.setdefault(event.logical_id, event.timestamp)
            else:
                started = self._started.pop(event.logical_id, None)
                if started is not None:
                    seconds = (event.timestamp - started).total_seconds()
            if event.failed and event.reason and not event.reason.startswith(_NOISE):
                self.failures.append(
                    FailedResource(
                        name=name,
                        resource_type=event.resource_type,
                        status=event.status,
                        reason=event.reason,
                    )
                )
            self.progress.resource(
                ResourceProgress(
                    name=name,
                    resource_type=event.resource_type,
                    status=event.status,
                    reason=event.reason,
                    seconds=seconds,
                    at=event.timestamp,
                )
            )


def construct_names(assembly_dir: Path, stack_name: str) -> dict[str, str]:
    """Logical id → construct path (`Data/Conversations`) from the cloud assembly's metadata."""
    try:
        manifest = json.loads((assembly_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    artifact = manifest.get("artifacts", {}).get(stack_name, {})
    metadata = dict(artifact.get("metadata") or {})
    extra = artifact.get("additionalMetadataFile")
    if extra:  # recent CDK versions keep stack metadata in a file of its own
        with contextlib.suppress(OSError, ValueError):
            metadata.update(json.loads((assembly_dir / extra).read_text(encoding="utf-8")))
    names: dict[str, str] = {}
    for path, entries in metadata.items():
        for entry in entries:
            if entry.get("type") == "aws:cdk:logicalId" and isinstance(entry.get("data"), str):
                parts = [p for p in str(path).split("/") if p]
                if parts and parts[0] == stack_name:
                    parts = parts[1:]
                if parts and parts[-1] in ("Resource", "Default"):
                    parts = parts[:-1]
                names[entry["data"]] = "/".join(parts) or entry["data"]
    return names


def wait_for(
    cfn: CloudFormation,
    stack: str,
    *,
    tracker: ProgressTracker,
    events: StackEvents,
    sleep: Callable[[float], None],
    interval: float = 2.0,
    timeout: float = 3600.0,
    clock: Callable[[], float] | None = None,
) -> StackInfo | None:
    """Feed the operation's events to `tracker` until the stack settles; return the final
    stack (None when it no longer exists, e.g. after a delete)."""
    import time

    now = clock or time.monotonic
    deadline = now() + timeout
    while True:
        tracker.feed(events.poll())
        info = cfn.describe(stack)
        if info is None or not info.in_progress or now() > deadline:
            break
        sleep(interval)
    tracker.feed(events.poll())
    return cfn.describe(stack)


def utc_now() -> datetime:
    return datetime.now(UTC)
