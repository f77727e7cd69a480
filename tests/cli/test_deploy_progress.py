"""Deploy progress: events become per-resource lines with durations (no terminal) or a live
table with running timers (terminal); failures keep their reasons for the final report."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from rich.console import Console

from openclaw_deploy.aws.cloudformation import ProgressTracker, StackEvent
from openclaw_deploy.cli.progress import ConsoleStackProgress
from openclaw_deploy.services.deploy import failure_message

START = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
STACK = "openclaw-mybot"


def _event(
    n: int,
    logical_id: str,
    status: str,
    seconds: float,
    reason: str | None = None,
    resource_type: str = "AWS::DynamoDB::Table",
) -> StackEvent:
    return StackEvent(
        event_id=f"e{n}",
        timestamp=START + timedelta(seconds=seconds),
        logical_id=logical_id,
        resource_type=resource_type,
        status=status,
        reason=reason,
    )


EVENTS = [
    _event(1, STACK, "CREATE_IN_PROGRESS", 0, "User Initiated", "AWS::CloudFormation::Stack"),
    _event(2, "DataConversations1", "CREATE_IN_PROGRESS", 1),
    _event(
        3, "AgentTaskDefinition1", "CREATE_IN_PROGRESS", 2, resource_type="AWS::ECS::TaskDefinition"
    ),
    _event(4, "DataConversations1", "CREATE_COMPLETE", 8),
    _event(
        5,
        "AgentTaskDefinition1",
        "CREATE_FAILED",
        9,
        "Invalid request: memory",
        "AWS::ECS::TaskDefinition",
    ),
    _event(6, "DataSettings1", "CREATE_FAILED", 9, "Resource creation cancelled"),
    _event(7, STACK, "ROLLBACK_COMPLETE", 30, None, "AWS::CloudFormation::Stack"),
]
LABELS = {
    "DataConversations1": "Data/Conversations",
    "AgentTaskDefinition1": "Agent/TaskDefinition",
    "DataSettings1": "Data/Settings",
}


def test_plain_lines_name_each_resource_with_its_time_and_reason() -> None:
    out = io.StringIO()
    console = Console(file=out, force_terminal=False, width=200)
    with ConsoleStackProgress(console) as progress:
        tracker = ProgressTracker(progress, STACK, names=LABELS)
        tracker.feed(EVENTS)
    text = out.getvalue()
    assert "CREATE_COMPLETE" in text and "Data/Conversations" in text and "(7s)" in text
    assert "Agent/TaskDefinition" in text and "ECS TaskDefinition (7s)" in text
    assert "Invalid request: memory" in text
    assert "stack ROLLBACK_COMPLETE" in text
    assert [f.name for f in tracker.failures] == ["Agent/TaskDefinition"]  # not the cancelled one
    assert tracker.last_stack_status == "ROLLBACK_COMPLETE"
    message = failure_message("Deploying openclaw-mybot", tracker.failures, "ROLLBACK_COMPLETE")
    assert (
        "Agent/TaskDefinition (AWS::ECS::TaskDefinition) CREATE_FAILED: Invalid request: memory"
        in message
    )


def test_terminal_shows_running_resources_with_live_timers() -> None:
    now = [100.0]
    console = Console(file=io.StringIO(), force_terminal=True, width=200)
    progress = ConsoleStackProgress(console, clock=lambda: now[0])
    tracker = ProgressTracker(progress, STACK, names=LABELS)
    tracker.feed(EVENTS[:3])
    now[0] += 42
    rendered = Console(file=io.StringIO(), width=200)
    rendered.print(progress._render())
    table = rendered.file.getvalue()  # type: ignore[attr-defined]
    assert "Data/Conversations" in table and "Agent/TaskDefinition" in table
    assert "42s" in table and "2 in progress" in table
    tracker.feed(EVENTS[3:4])
    rendered = Console(file=io.StringIO(), width=200)
    rendered.print(progress._render())
    assert "Data/Conversations" not in rendered.file.getvalue()  # type: ignore[attr-defined]


def test_live_table_lasts_exactly_one_operation() -> None:
    from openclaw_deploy.aws.cloudformation import following
    from openclaw_deploy.output import ConsoleReporter

    console = Console(file=io.StringIO(), force_terminal=True, width=160)
    reporter = ConsoleReporter(console)
    with ConsoleStackProgress(console) as progress:
        with following(progress, STACK):
            assert progress._live is not None
            ProgressTracker(progress, STACK, names=LABELS).feed(EVENTS)
            reporter.step("printing while the table is live is fine")
        assert progress._live is None  # gone before the post-deploy steps print
        with reporter.task("a post-deploy step"):
            pass
        try:
            with following(progress, STACK):
                raise RuntimeError("the operation failed")
        except RuntimeError:
            pass
        assert progress._live is None  # closed on failure too
    text = console.file.getvalue()  # type: ignore[attr-defined]
    assert "Agent/TaskDefinition" in text and "a post-deploy step" in text
