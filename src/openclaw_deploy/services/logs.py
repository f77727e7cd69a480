"""`logs`: one merged, time-ordered view of a deployment's logs, with `--follow`.

A source returns the `LogLine`s of one component that it has not returned before. The local
target's source reads the log files the local cloud writes (one per component) and follows them
by their byte offset. The AWS source reads a CloudWatch log group with FilterLogEvents; it
follows by polling a window that starts a little before the newest event it has seen (events
reach CloudWatch late and out of order) and drops the event ids it already returned. Either way
`follow` never shows a line twice, never skips one, and stops when the caller stops iterating
(Ctrl-C). Nothing here imports aws_cdk.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Final, Protocol

from openclaw_deploy.aws.errors import translate_boto_errors
from openclaw_deploy.errors import NotFoundError, UsageError

if TYPE_CHECKING:
    from openclaw_deploy.aws.logs import CloudWatchLogs
    from openclaw_deploy.config import Deployment
    from openclaw_deploy.context import AppContext

COMPONENTS: Final = ("agent", "gateway", "telegram", "watchdog", "notifier", "daemon")
"""agent: the bridge and OpenClaw; gateway: the HTTP/WebSocket handlers; telegram: the webhook;
watchdog: the scheduled checks; notifier: what tells the owner about alarms and the budget on
Telegram (AWS only); daemon: the local cloud itself (local target only)."""
_STAMP: Final = re.compile(r"^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2})(?:[,.](\d{1,6}))?")
_SINCE: Final = re.compile(r"^(\d+)\s*([smhd])$")
_UNITS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_STARTED: Final = re.compile(r"--- task (\S+) started")
_EXITED: Final = re.compile(r"--- task (\S+) exited")
"""The local Fargate's lines before and after each task's output."""
LOCAL_ONLY: Final = ("daemon",)
AWS_ONLY: Final = ("notifier",)
"""The local target emulates no alarms, so nothing runs the notifier there."""
AWS_FUNCTIONS: Final[dict[str, tuple[str, ...]]] = {
    "gateway": ("api", "ws"),
    "telegram": ("telegram",),
    "watchdog": ("watchdog",),
    "notifier": ("notifier",),
}
"""Component → the handler functions whose log groups make it up on AWS."""
AWS_DEFAULT_SINCE_SECONDS: Final = 600.0
"""Without --since, AWS logs start 10 minutes back (as `aws logs tail` and `sam logs` do):
reading 30 days of every log group is slow and rarely wanted."""
AWS_POLL_SECONDS: Final = 2.0
"""--follow polls CloudWatch this often: one FilterLogEvents call per log group each time,
well inside the API's request quota."""
LOCAL_POLL_SECONDS: Final = 0.5
CLOUDWATCH_OVERLAP_SECONDS: Final = 60.0
"""How far before the newest event seen each poll looks again: the awslogs driver sends in
batches every few seconds and Lambda's logs arrive within seconds, so an event can land after
later ones were read. Ids already returned are dropped, so the overlap never shows a line twice."""


@dataclass(frozen=True)
class LogLine:
    timestamp: float
    component: str
    message: str


class LogSource(Protocol):
    component: str

    def read(self) -> list[LogLine]:
        """Lines not returned before (the first call returns the backlog)."""
        ...


@dataclass(frozen=True, kw_only=True)
class LogRequest:
    components: list[str]
    since: float | None
    needle: str | None = None
    follow: bool = False
    previous: bool = False

    def __post_init__(self) -> None:
        if self.previous and self.follow:
            raise UsageError(
                "--previous shows a task that has ended: it cannot --follow.",
                hint="drop --follow",
            )


def parse_since(value: str | None, *, now: float) -> float | None:
    """`10m`, `2h`, `1d`, `30s` or an ISO time → epoch seconds; None means from the start."""
    if value is None:
        return None
    match = _SINCE.match(value.strip())
    if match:
        return now - int(match.group(1)) * _UNITS[match.group(2)]
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"--since {value!r} is not a duration or a time.",
            hint="use a duration such as 10m, 2h, 1d, or a time such as 2026-11-26T09:00",
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def check_components(requested: list[str]) -> list[str]:
    if not requested or "all" in requested:
        return list(COMPONENTS)
    unknown = [c for c in requested if c not in COMPONENTS]
    if unknown:
        raise UsageError(
            f"Unknown component {unknown[0]!r}.",
            hint=f"use --component with one of: {', '.join(COMPONENTS)}, all",
        )
    return requested


_LAMBDA_PREFIX: Final = re.compile(r"^\[(\w+)\]\t\d{4}-\d{2}-\d{2}T[\d:.]+Z\t\S+\t")
"""Python's Lambda runtime: `[INFO]\t<time>\t<request id>\t<message>`."""


def without_stamp(message: str) -> str:
    """A log message without the time it starts with: each line is shown after its own event
    time, and a second one only makes the line longer."""
    if match := _LAMBDA_PREFIX.match(message):
        return f"{match.group(1)} {message[match.end() :]}"
    if match := _STAMP.match(message):
        return message[match.end() :].lstrip(" Z")
    return message


def _stamp(line: str) -> float | None:
    match = _STAMP.match(line)
    if not match:
        return None
    moment = datetime.fromisoformat(match.group(1).replace(" ", "T")).replace(tzinfo=UTC)
    fraction = match.group(2)
    return moment.timestamp() + (int(fraction) / 10 ** len(fraction) if fraction else 0.0)


class FileTail:
    """Reads whole lines appended to one log file; lines without a time take the one before."""

    def __init__(self, path: Path, component: str, *, only: str | None = None) -> None:
        self.path = path
        self.component = component
        self.only = only
        self._offset = 0
        self._partial = b""
        self._last = 0.0

    def read(self) -> list[LogLine]:
        try:
            with self.path.open("rb") as stream:
                stream.seek(self._offset)
                data = stream.read()
        except FileNotFoundError:
            return []
        if not data:
            return []
        self._offset += len(data)
        data = self._partial + data
        lines = data.split(b"\n")
        self._partial = lines.pop()  # an unfinished last line waits for its end
        out = []
        for raw in lines:
            text = raw.decode("utf-8", errors="replace").rstrip("\r")
            if not text:
                continue
            stamp = _stamp(text)
            if stamp is not None:
                self._last = stamp
                text = without_stamp(text)  # the line is printed after its own time
            if self.only and self.only not in text:
                continue
            out.append(LogLine(self._last, self.component, text))
        return out


def local_sources(logs_dir: Path, components: list[str]) -> list[LogSource]:
    files = {
        "agent": "agent.log",
        "gateway": "gateway.log",
        "watchdog": "watchdog.log",
        "daemon": "daemon.log",
    }
    tails: list[LogSource] = [FileTail(logs_dir / files[c], c) for c in components if c in files]
    if "telegram" in components and "gateway" not in components:
        # Locally the webhook handler logs with the other handlers: pick its lines out.
        tails.append(FileTail(logs_dir / files["gateway"], "telegram", only="telegram"))
    return tails


def previous_task(
    lines: list[LogLine], *, alive: Callable[[str], bool] | None = None
) -> list[LogLine]:
    """The lines of the last agent task that has ended (`--previous`).

    A task has ended when the local Fargate logged its exit, or when `alive` (what the lifecycle
    row says) denies that it runs: the row goes Idle some seconds before the bridge's process is
    gone (it waits out its last queue poll), and the owner who just ran `stop` means that task."""
    starts: dict[str, int] = {}
    exits: dict[str, int] = {}
    for index, line in enumerate(lines):
        if match := _STARTED.search(line.message):
            starts[match.group(1)] = index
        elif match := _EXITED.search(line.message):
            exits[match.group(1)] = index
    ended = [
        task
        for task in {*starts, *exits}
        if task in exits or (alive is not None and not alive(task))
    ]
    if not ended:
        return []
    task = max(ended, key=lambda name: starts.get(name, 0))  # a start cut off by --since: 0
    start = starts.get(task, 0)
    if task in exits:
        end = exits[task]
    else:
        later = [index for index in starts.values() if index > start]
        end = min(later) - 1 if later else len(lines) - 1
    return lines[start : end + 1]


def _keep(line: LogLine, since: float | None, needle: str | None) -> bool:
    if since is not None and line.timestamp < since:
        return False
    return needle is None or needle.lower() in line.message.lower()


def read_logs(
    sources: list[LogSource],
    *,
    since: float | None,
    needle: str | None,
    follow: bool,
    sleep: Callable[[float], None] = time.sleep,
    interval: float = LOCAL_POLL_SECONDS,
) -> Iterator[LogLine]:
    """Everything so far, merged in time order; then, with `follow`, new lines as they come."""
    backlog = [line for source in sources for line in source.read() if _keep(line, since, needle)]
    yield from sorted(backlog, key=lambda line: line.timestamp)
    while follow:
        sleep(interval)
        fresh = [line for source in sources for line in source.read() if _keep(line, None, needle)]
        yield from sorted(fresh, key=lambda line: line.timestamp)


class CloudWatchSource:
    """The events of one CloudWatch log group (optionally some of its streams), each once."""

    def __init__(
        self,
        logs: CloudWatchLogs,
        group: str,
        component: str,
        *,
        start: float,
        streams: list[str] | None = None,
        overlap: float = CLOUDWATCH_OVERLAP_SECONDS,
    ) -> None:
        self.logs = logs
        self.group = group
        self.component = component
        self.streams = streams
        self._start = start
        self._overlap = overlap
        self._seen: dict[tuple[str, str], float] = {}
        """(stream, event id) → time stamp of every event returned whose time is still inside
        the window (ids are unique per stream; moto numbers them per stream)."""

    def read(self) -> list[LogLine]:
        fresh: list[LogLine] = []
        newest = self._start
        for event in self.logs.events(self.group, start=self._start, streams=self.streams):
            key = (event.stream, event.event_id)
            if key in self._seen:
                continue
            self._seen[key] = event.timestamp
            newest = max(newest, event.timestamp)
            fresh.append(LogLine(event.timestamp, self.component, without_stamp(event.message)))
        # The next poll starts `overlap` before the newest event seen, never before this one:
        # anything older was read already and its id can be forgotten.
        self._start = max(self._start, newest - self._overlap)
        self._seen = {key: at for key, at in self._seen.items() if at >= self._start}
        return fresh


def aws_log_groups(deployment: str, components: list[str]) -> list[tuple[str, str]]:
    """(component, log group name) for the components asked for, on AWS."""
    from openclaw_deploy.infra import spec

    groups: list[tuple[str, str]] = []
    for component in components:
        if component == "agent":
            groups.append((component, spec.agent_log_group(deployment)))
        for function in AWS_FUNCTIONS.get(component, ()):
            groups.append((component, spec.function_log_group(deployment, function)))
    return groups


def aws_components(requested: list[str], explicit: bool) -> list[str]:
    """The components that exist on AWS: `daemon` is the local cloud's own log."""
    local_only = [c for c in requested if c in LOCAL_ONLY]
    if explicit and local_only:
        raise UsageError(
            f"The {local_only[0]} log exists on the local target only.",
            hint="use --component agent, gateway, telegram, watchdog, notifier or all",
        )
    return [c for c in requested if c not in LOCAL_ONLY]


def _task_id(task_arn: str | None) -> str | None:
    return task_arn.rsplit("/", 1)[-1] if task_arn else None


def previous_agent_stream(
    logs: CloudWatchLogs, deployment: str, current_task_arn: str | None
) -> str | None:
    """The log stream of the last agent task that has stopped: the newest task stream that is
    not the task the lifecycle row says is alive."""
    from openclaw_deploy.infra import spec

    current = _task_id(current_task_arn)
    prefix = spec.agent_log_stream("")
    for stream in logs.newest_streams(spec.agent_log_group(deployment), prefix=prefix):
        if current is None or not stream.name.endswith(f"/{current}"):
            return stream.name
    return None


def open_logs(
    app: AppContext,
    deployment: Deployment,
    request: LogRequest,
    *,
    explicit_components: bool = False,
) -> Iterator[LogLine]:
    """The lines `request` asks for, on the deployment's target: the backlog in time order, then
    (with `follow`) new lines as they come until the caller stops iterating."""
    if deployment.target == "local":
        aws_only = [c for c in request.components if c in AWS_ONLY]
        if explicit_components and aws_only:
            raise UsageError(
                f"The {aws_only[0]} log exists on AWS only: the local target emulates no alarms, "
                "so nothing runs it.",
                hint="use --component agent, gateway, telegram, watchdog, daemon or all",
            )
        return _local_logs(app, deployment, request)
    return _aws_logs(app, deployment, request, explicit_components=explicit_components)


def _local_logs(app: AppContext, deployment: Deployment, request: LogRequest) -> Iterator[LogLine]:
    from openclaw_deploy.services.local import paths_for

    logs_dir = paths_for(app, deployment.name).logs
    if not logs_dir.is_dir():
        raise NotFoundError(
            f"No logs for the local deployment {deployment.name!r} yet.",
            hint="openclaw-deploy init --target local",
        )
    if not request.previous:
        return read_logs(
            local_sources(logs_dir, request.components),
            since=request.since,
            needle=request.needle,
            follow=request.follow,
            sleep=app.sleep,
        )
    # The task markers must survive --filter: pick the task first, then filter its lines.
    lines = read_logs(
        local_sources(logs_dir, ["agent"]), since=request.since, needle=None, follow=False
    )
    chosen = previous_task(list(lines), alive=_local_task_alive(app, deployment))
    if not chosen:
        raise NotFoundError(
            "No agent task has stopped yet (or none inside --since).",
            hint="openclaw-deploy logs --component agent",
        )
    return iter([line for line in chosen if _keep(line, None, request.needle)])


def _local_task_alive(app: AppContext, deployment: Deployment) -> Callable[[str], bool] | None:
    """Whether the lifecycle row holds a task (by id); None when the row cannot be read."""
    from openclaw_deploy.errors import DeployError
    from openclaw_deploy.local import service
    from openclaw_deploy.services.local import paths_for
    from openclaw_deploy.services.status import lifecycle_for

    state = service.read_state(paths_for(app, deployment.name))
    if state is None:
        return lambda task: False  # no local cloud: no task runs
    app.use_local_cloud(state.moto_url)
    try:
        with translate_boto_errors("read the agent's state"):
            current = _task_id(lifecycle_for(app, deployment).get().task_arn)
    except DeployError:
        return None
    return lambda task: task == current


def _aws_logs(
    app: AppContext, deployment: Deployment, request: LogRequest, *, explicit_components: bool
) -> Iterator[LogLine]:
    from openclaw_deploy.aws.logs import CloudWatchLogs

    logs = CloudWatchLogs(app.client("logs", deployment.region))
    now = app.clock()
    if request.previous:
        from openclaw_deploy.infra import spec
        from openclaw_deploy.services.status import lifecycle_for

        with translate_boto_errors("read the agent's state"):
            current = lifecycle_for(app, deployment).get().task_arn
        stream = previous_agent_stream(logs, deployment.name, current)
        if stream is None:
            raise NotFoundError(
                "No agent task has stopped yet (CloudWatch keeps 30 days of its logs).",
                hint="openclaw-deploy logs --component agent",
            )
        source = CloudWatchSource(
            logs,
            spec.agent_log_group(deployment.name),
            "agent",
            start=request.since or 0.0,
            streams=[stream],
        )
        return read_logs([source], since=request.since, needle=request.needle, follow=False)
    components = aws_components(request.components, explicit_components)
    start = request.since if request.since is not None else now - AWS_DEFAULT_SINCE_SECONDS
    sources: list[LogSource] = [
        CloudWatchSource(logs, group, component, start=start)
        for component, group in aws_log_groups(deployment.name, components)
    ]
    return read_logs(
        sources,
        since=start,
        needle=request.needle,
        follow=request.follow,
        sleep=app.sleep,
        interval=AWS_POLL_SECONDS,
    )
