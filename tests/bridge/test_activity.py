"""Reading OpenClaw's tool events into what the web chat's activity line says."""

from __future__ import annotations

from typing import Any

from openclaw_bridge.activity import Activity, tool_activity


def event(data: dict[str, Any], *, key: str = "agent:main:web-1") -> dict[str, Any]:
    payload = {"runId": "r1", "stream": "tool", "sessionKey": key, "data": data}
    return {"type": "event", "event": "session.tool", "payload": payload}


def test_a_tool_start_names_the_tool_and_what_it_works_on() -> None:
    start = event({"phase": "start", "name": "exec", "args": {"command": "ls   -la\n/tmp"}})
    assert tool_activity(start) == Activity(
        session="web-1", kind="tool", tool="exec", detail="ls -la /tmp"
    )
    page = event(
        {"phase": "start", "name": "browser", "args": {"url": "https://example.com/a/?q=secret"}}
    )
    assert tool_activity(page) == Activity(
        session="web-1", kind="tool", tool="browser", detail="example.com/a"
    )
    long = event({"phase": "start", "name": "exec", "args": {"command": "x" * 500}})
    activity = tool_activity(long)
    assert activity is not None and activity.detail is not None
    assert len(activity.detail) == 160 and activity.detail.endswith("…")


def test_a_tool_end_means_thinking_again_and_other_events_say_nothing() -> None:
    assert tool_activity(event({"phase": "result", "name": "exec"})) == Activity(
        session="web-1", kind="thinking"
    )
    assert tool_activity(event({"phase": "update", "name": "exec"})) is None
    nested = {"phase": "start", "name": "exec", "parentToolCallId": "t0"}
    assert tool_activity(event(nested)) is None
    assert tool_activity(event({"phase": "start", "name": "exec"}, key="cron:job")) is None
    assert tool_activity({"type": "event", "event": "tick", "payload": {}}) is None
    reserved = event({"phase": "start", "name": "read"}, key="agent:main:chat:cron:x")
    assert tool_activity(reserved) == Activity(session="cron:x", kind="tool", tool="read")
