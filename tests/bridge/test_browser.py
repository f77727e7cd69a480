"""Which browser a start gets: the owner's switch, an installed Chromium and a task big enough;
and what OpenClaw's config says for each (the browser plugin unloaded when it is off)."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
from pathlib import Path

import pytest

from openclaw_bridge.browser import ENV_ALLOWED_HOSTS, ENV_CHROMIUM, choose_browser
from openclaw_bridge.browser import memory_limit_mib as limit
from openclaw_bridge.config import default_template
from openclaw_bridge.render import (
    BROWSER_PLUGIN,
    DENIED_PLUGINS,
    BrowserChoice,
    choose_model,
    openclaw_env,
    render_config,
)
from openclaw_deploy import toolchain
from openclaw_deploy.runtime.settings import BROWSER_MEMORY_MIB

MIB = 1024 * 1024


@pytest.fixture
def chromium(tmp_path: Path) -> str:
    path = tmp_path / "chromium"
    path.write_text("#!/bin/sh\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_the_browser_is_on_only_when_wanted_installed_and_the_task_fits(chromium: str) -> None:
    env = {ENV_CHROMIUM: chromium, "PATH": ""}
    assert not choose_browser(False, environ=env, memory_mib=8192).choice.on
    missing = choose_browser(True, environ={ENV_CHROMIUM: "/nonexistent", "PATH": ""})
    assert not missing.choice.on and "no Chromium" in missing.reason
    small = choose_browser(True, environ=env, memory_mib=2048)
    assert not small.choice.on
    assert "2048 MiB" in small.reason and "config set browser on" in small.reason
    fits = choose_browser(True, environ=env, memory_mib=BROWSER_MEMORY_MIB)
    assert fits.choice == BrowserChoice(executable=chromium)
    # Loopback stays refused unless named (the tests' pages).
    allowed = choose_browser(
        True, environ={**env, ENV_ALLOWED_HOSTS: "127.0.0.1, "}, memory_mib=4096
    )
    assert allowed.choice.allowed_hosts == ("127.0.0.1",)


def test_the_task_limit_is_read_from_its_own_cgroup_v1_or_v2(tmp_path: Path) -> None:
    root = tmp_path / "cgroup"
    own = root / "memory" / "tasks" / "t1"
    own.mkdir(parents=True)
    (own / "memory.limit_in_bytes").write_text(f"{2048 * MIB}\n")
    (root / "memory" / "memory.limit_in_bytes").write_text("9223372036854771712\n")
    proc = tmp_path / "proc-cgroup"
    proc.write_text("5:memory:/tasks/t1\n4:cpu,cpuacct:/tasks/t1\n0::/\n")
    assert limit(root, proc) == 2048
    proc.write_text("5:memory:/\n")
    assert limit(root, proc) is None  # the machine's root group: no limit
    v2 = tmp_path / "v2"
    (v2 / "task").mkdir(parents=True)
    (v2 / "task" / "memory.max").write_text(f"{3072 * MIB}\n")
    proc.write_text("0::/task\n")
    assert limit(v2, proc) == 3072
    (v2 / "task" / "memory.max").write_text("max\n")
    assert limit(v2, proc) is None


def _config(browser: BrowserChoice | None) -> dict[str, object]:
    choice = choose_model(
        settings_provider=None,
        settings_model=None,
        default_provider="offline",
        default_model=None,
        base_url="http://127.0.0.1:9/v1",
    )
    text = render_config(
        default_template().read_text(),
        choice,
        gateway_port=18789,
        proxy_url="http://127.0.0.1:4242",
        log_file="/tmp/openclaw-test.log",
        browser=browser,
    )
    return _json5(text)


def _json5(text: str) -> dict[str, object]:
    """The rendered config as data (OpenClaw reads JSON5: comments and bare keys)."""
    node = str(toolchain.node_path())
    script = (
        "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{"
        "process.stdout.write(JSON.stringify(Function('return ('+s+')')()))})"
    )
    done = subprocess.run(
        [node, "-e", script], input=text, capture_output=True, text=True, check=True, timeout=60
    )
    data: dict[str, object] = json.loads(done.stdout)
    return data


def test_off_leaves_the_browser_plugin_unloaded_and_on_configures_it() -> None:
    off = _config(None)
    assert off["browser"] == {"enabled": False}
    assert off["plugins"]["deny"] == [*DENIED_PLUGINS, BROWSER_PLUGIN]  # type: ignore[index]
    on = _config(BrowserChoice(executable="/usr/bin/chromium", allowed_hosts=("127.0.0.1",)))
    assert on["plugins"]["deny"] == list(DENIED_PLUGINS)  # type: ignore[index]
    assert on["browser"] == {
        "enabled": True,
        "executablePath": "/usr/bin/chromium",
        "headless": True,
        "noSandbox": True,
        "defaultProfile": "openclaw",
        "extraArgs": ["--disk-cache-dir=/dev/null"],
        "ssrfPolicy": {"allowedHostnames": ["127.0.0.1"]},
    }


@pytest.mark.slow
def test_the_pinned_openclaw_accepts_the_browser_config(
    openclaw_command: list[str], tmp_path: Path
) -> None:
    choice = choose_model(
        settings_provider=None,
        settings_model=None,
        default_provider="offline",
        default_model=None,
        base_url="http://127.0.0.1:9/v1",
    )
    config = tmp_path / "openclaw.json"
    config.write_text(
        render_config(
            default_template().read_text(),
            choice,
            gateway_port=18789,
            proxy_url="http://127.0.0.1:4242",
            log_file=str(tmp_path / "openclaw.log"),
            browser=BrowserChoice(executable="/usr/bin/chromium"),
        )
    )
    env = openclaw_env(
        state_dir=str(tmp_path / "state"),
        config_path=str(config),
        gateway_token="t" * 32,
        gateway_port=18789,
        environ={"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)},
    )
    result = subprocess.run(
        [*openclaw_command, "config", "validate", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_gateways_port_comes_with_free_derived_ports() -> None:
    """OpenClaw's browser control service listens on the gateway's port + 2 and its CDP ports
    start at + 11: on a shared host (the local target, tests) those must be free too."""
    from openclaw_bridge.app import DERIVED_PORT_OFFSETS, _all_free, free_port

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        busy = taken.getsockname()[1]
        assert not _all_free([busy])
    for _ in range(20):
        port = free_port()
        assert _all_free([port, *(port + offset for offset in DERIVED_PORT_OFFSETS)])
