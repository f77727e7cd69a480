"""The warm window in the bridge's supervision loop: an idle agent does not sleep while the time
in the window's zone is inside the window (the bridge's clock is injected, so the window's end
comes without waiting for it); after it ends, the idle timeout applies. The window is the one in
the owner's settings row on a moto server, read again while it holds the agent awake. One slow
test runs the real bridge with the pinned OpenClaw: it reads the window at boot and stays up."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from openclaw_bridge import logs
from openclaw_bridge.app import REASON_IDLE, Bridge, Clients
from openclaw_bridge.config import BridgeConfig
from openclaw_deploy.offline_model import OfflineModel
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.settings import Settings
from tests.bridge.harness import (
    ConnectionsEndpoint,
    Deployment,
    bridge_env,
    provision,
    running_bridge,
    wait_for,
)

BERLIN = ZoneInfo("Europe/Berlin")


class Clock:
    def __init__(self, at: datetime) -> None:
        self.now = at.timestamp()

    def __call__(self) -> float:
        return self.now

    def set(self, at: datetime) -> None:
        self.now = at.timestamp()


def _bridge(deployment: Deployment, home: Path, clock: Clock) -> Bridge:
    arn = f"arn:aws:ecs:us-east-1:123456789012:task/agent/{uuid.uuid4().hex}"
    env = bridge_env(deployment, home=home, openclaw=["true"], task_arn=arn)
    config = BridgeConfig.from_env(env)
    clients = Clients(
        dynamodb=deployment.client("dynamodb"),
        sqs=deployment.client("sqs"),
        s3=deployment.client("s3"),
        connections_api=None,
    )
    bridge = Bridge(config, clients=clients, redactor=logs.Redactor(), arn=arn, clock=clock)
    bridge.idle_timeout = 0.3
    bridge._last_activity = time.monotonic() - 3600  # idle for an hour already
    return bridge


def _supervise(bridge: Bridge) -> threading.Thread:
    thread = threading.Thread(target=bridge._supervise, daemon=True)
    thread.start()
    return thread


def _settings(deployment: Deployment) -> Settings:
    return Settings(deployment.client("dynamodb"), deployment.table(resources.SETTINGS))


def test_an_idle_agent_stays_up_in_the_window_and_sleeps_once_it_ends(
    bridge_moto: str, tmp_path: Path
) -> None:
    deployment = provision(bridge_moto)
    _settings(deployment).set_warm("08:00-09:00@Europe/Berlin")
    clock = Clock(datetime(2026, 12, 1, 8, 30, tzinfo=BERLIN))
    bridge = _bridge(deployment, tmp_path / "agent", clock)

    thread = _supervise(bridge)
    try:
        time.sleep(1.5)  # five times the idle timeout, checked every quarter second
        assert not bridge.stop_event.is_set(), "held awake by the warm window"
        assert str(bridge.warm) == "08:00-09:00 Europe/Berlin", "read from the settings row"

        clock.set(datetime(2026, 12, 1, 9, 0, 1, tzinfo=BERLIN))
        wait_for(bridge.stop_event.is_set, 5, what="the idle stop after the window")
        assert bridge.stop_reason == REASON_IDLE
    finally:
        bridge.request_stop("test over")
        thread.join(timeout=5)


def test_without_a_window_or_outside_it_the_idle_timeout_applies(
    bridge_moto: str, tmp_path: Path
) -> None:
    deployment = provision(bridge_moto)
    clock = Clock(datetime(2026, 12, 1, 8, 30, tzinfo=BERLIN))
    bridge = _bridge(deployment, tmp_path / "none", clock)
    thread = _supervise(bridge)
    wait_for(bridge.stop_event.is_set, 5, what="the idle stop without a window")
    assert bridge.stop_reason == REASON_IDLE and bridge.warm is None
    thread.join(timeout=5)

    # A window that crosses midnight, at a time of day outside it.
    _settings(deployment).set_warm("23:00-01:00@Europe/Berlin")
    outside = _bridge(deployment, tmp_path / "outside", clock)
    thread = _supervise(outside)
    wait_for(outside.stop_event.is_set, 5, what="the idle stop outside the window")
    assert outside.stop_reason == REASON_IDLE
    assert str(outside.warm) == "23:00-01:00 Europe/Berlin"
    thread.join(timeout=5)


def test_a_window_turned_off_while_it_holds_lets_the_agent_sleep(
    bridge_moto: str, tmp_path: Path
) -> None:
    deployment = provision(bridge_moto)
    settings = _settings(deployment)
    settings.set_warm("23:30-00:30@Europe/Berlin")
    clock = Clock(datetime(2026, 12, 2, 0, 10, tzinfo=BERLIN))  # after midnight, still inside
    bridge = _bridge(deployment, tmp_path / "agent", clock)
    thread = _supervise(bridge)
    try:
        time.sleep(1.0)
        assert not bridge.stop_event.is_set()
        settings.set_warm(None)  # `config set warm off`
        bridge._warm_read_at = float("-inf")  # the minute between re-reads has passed
        wait_for(bridge.stop_event.is_set, 5, what="the idle stop once the window is off")
        assert bridge.stop_reason == REASON_IDLE and bridge.warm is None
    finally:
        bridge.request_stop("test over")
        thread.join(timeout=5)


@pytest.mark.slow
def test_the_real_bridge_reads_the_window_at_boot_and_stays_up_in_it(
    bridge_moto: str,
    openclaw_command: list[str],
    model: OfflineModel,
    connections: ConnectionsEndpoint,
    tmp_path: Path,
) -> None:
    deployment = provision(bridge_moto)
    now = datetime.now(UTC)
    # From an hour ago to an hour from now (UTC): the real clock is inside it.
    start, end = now - timedelta(hours=1), now + timedelta(hours=1)
    _settings(deployment).set_warm(f"{start:%H}:00-{end:%H}:00@UTC")
    with running_bridge(
        deployment,
        tmp_path / "agent",
        openclaw=openclaw_command,
        model_url=model.base_url,
        connections_url=connections.url,
        idle_timeout_seconds="2",
    ) as (bridge, _arn):
        bridge.wait_logged(f"warm window: {start:%H}:00-{end:%H}:00 UTC", 10)
        bridge.wait_logged("idle, but awake for the warm window", 15)
        time.sleep(8)  # four idle timeouts more
        assert bridge.proc.poll() is None, "still running: the window holds it awake"
        assert "stopping: idle timeout" not in bridge.output
