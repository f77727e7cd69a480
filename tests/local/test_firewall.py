"""The firewall that keeps an image task's agent off the local cloud's ports, with real iptables.

A loopback TCP server stands in for moto; a forked child that becomes a spare uid stands in for
the agent's user (the rules name a uid no task runs as, so a local cloud running beside this test
is not touched). Needs root and iptables, as the image mode does (scripts/setup installs it).
"""

from __future__ import annotations

import errno
import os
import shlex
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest

from openclaw_deploy.local.firewall import TAG, FirewallError, LoopbackGuard, find_iptables

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or find_iptables() is None, reason="needs root and iptables"
)
AGENT_UID = 59991


def _listener() -> socket.socket:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    return server


@pytest.fixture
def servers() -> Iterator[tuple[int, int]]:
    """A guarded port (the local cloud's) and one left open (the bridge's model proxy)."""
    guarded, other = _listener(), _listener()
    try:
        yield guarded.getsockname()[1], other.getsockname()[1]
    finally:
        guarded.close()
        other.close()


def _connect_as(uid: int | None, port: int) -> int:
    """0 when `uid` (None: this process's, root) can open a connection to the port, else errno."""
    pid = os.fork()
    if pid == 0:  # the child: only system calls until _exit
        code = 0
        try:
            if uid is not None:
                os.setgroups([])
                os.setgid(uid)
                os.setuid(uid)
            with socket.socket() as client:  # no name lookup: nothing left to import
                client.settimeout(5)
                client.connect(("127.0.0.1", port))
        except OSError as error:
            code = error.errno or 255
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def _tags() -> list[str]:
    iptables = find_iptables()
    assert iptables is not None
    rules = subprocess.run(
        [iptables, "-w", "-S", "OUTPUT"], capture_output=True, text=True, check=True
    ).stdout
    return [word for word in shlex.split(rules) if word.startswith(f"{TAG}:")]


def test_only_the_agents_uid_is_refused_and_only_while_its_task_runs(
    servers: tuple[int, int],
) -> None:
    guarded, other = servers
    guard = LoopbackGuard([guarded])
    task = uuid.uuid4().hex[:8]
    assert _connect_as(AGENT_UID, guarded) == 0  # the door this closes

    guard.protect(task, AGENT_UID)
    try:
        assert guard.tag(task) in _tags()
        assert _connect_as(AGENT_UID, guarded) == errno.ECONNREFUSED
        assert _connect_as(AGENT_UID, other) == 0  # the bridge's proxy, its own gateway
        assert _connect_as(None, guarded) == 0  # the CLI, the local cloud itself
        assert _connect_as(AGENT_UID + 1, guarded) == 0  # the bridge's uid
    finally:
        assert guard.release(task) == [guard.tag(task)]
    assert guard.tag(task) not in _tags()
    assert _connect_as(AGENT_UID, guarded) == 0


def test_the_local_cloud_removes_its_rules_and_those_a_crashed_one_left(
    servers: tuple[int, int],
) -> None:
    guarded, _ = servers
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    crashed = LoopbackGuard([guarded], owner=int(gone.stdout))
    other_cloud = LoopbackGuard([guarded], owner=os.getppid())  # alive: not ours to remove
    this_cloud = LoopbackGuard([guarded])
    task = uuid.uuid4().hex[:8]
    crashed.protect(task, AGENT_UID)
    other_cloud.protect(task, AGENT_UID)
    try:
        assert this_cloud.check().guarded  # at start: sweeps, then adds and removes one rule
        tags = _tags()
        assert crashed.tag(task) not in tags
        assert other_cloud.tag(task) in tags
        assert not [tag for tag in tags if tag.startswith(this_cloud.tag(""))]

        this_cloud.protect("a", AGENT_UID)
        this_cloud.protect("b", AGENT_UID)
        assert sorted(this_cloud.close()) == [this_cloud.tag("a"), this_cloud.tag("b")]
        assert _connect_as(AGENT_UID, guarded) == errno.ECONNREFUSED  # the other cloud's rule
    finally:
        other_cloud.close()
        crashed.close()
    assert _connect_as(AGENT_UID, guarded) == 0


def test_no_usable_iptables_is_reported_not_ignored() -> None:
    missing = LoopbackGuard([1], iptables="/nonexistent/iptables").check()
    assert not missing.guarded
    assert "iptables cannot run" in missing.reason
    refused = LoopbackGuard([1], iptables="/bin/false").check()
    assert not refused.guarded
    assert "iptables -S OUTPUT failed" in refused.reason
    with pytest.raises(FirewallError):
        LoopbackGuard([1], iptables="/bin/false").protect("t", AGENT_UID)
