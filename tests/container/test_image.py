"""The agent image, built here from `container/Dockerfile` (buildah on the stand-in base).

What AWS will run: the pinned OpenClaw, the bridge's entrypoint as the `bridge` user, and the
agent's user (`openclaw`) that can write only its own folders, so a hijacked agent cannot change
the code that runs it; the helpers that switch to the agent's user and signal it keep their file
capabilities through the build, and only the bridge can run them.
"""

from __future__ import annotations

import json

import pytest

from openclaw_deploy.local.image import (
    AGENT_IMAGE,
    AgentImage,
    Buildah,
    base_reference,
    storage_home,
)
from openclaw_deploy.toolchain import OPENCLAW_VERSION
from tests.local.image import agent_image, run_in_image

__all__ = ["agent_image"]  # the session fixture, shared with the end-to-end test
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]  # a cold build takes minutes

# Folders the agent's user must not change: the code, OpenClaw, the system, the bridge's venv.
READ_ONLY = (
    "/",
    "/app",
    "/app/container/bridge/openclaw_bridge",
    "/app/src/openclaw_deploy/runtime",
    "/app/templates",
    "/opt/bridge",
    "/opt/bridge/bin",
    "/usr",
    "/usr/local/bin",
    "/usr/local/lib/node_modules/openclaw",
    "/etc",
    "/root",
    "/var",
)
# Where it may write: its home (OpenClaw's state lives in ~/agent) and scratch space.
WRITABLE_ROOTS = ("/home/openclaw", "/tmp", "/var/tmp", "/run/lock", "/var/lock")
AGENT = "10001:10001"
HELPERS = "/usr/local/libexec/openclaw-deploy"


def test_the_image_builds_from_the_dockerfile_on_the_stand_in_base(
    agent_image: AgentImage,
) -> None:
    from openclaw_deploy.assets import asset_dir

    assert agent_image.tag == AGENT_IMAGE
    assert agent_image.base == base_reference(asset_dir("container") / "Dockerfile")
    assert agent_image.base.startswith("public.ecr.aws/docker/library/node:")
    config = Buildah(storage_home()).image_config(agent_image.image_id)
    assert config.user == "10002:10002"  # the bridge; OpenClaw runs as 10001
    assert config.entrypoint[0] == "/usr/bin/tini"
    assert config.env["OPENCLAW_BRIDGE_HOME"] == "/home/bridge"
    assert config.env["OPENCLAW_BRIDGE_AGENT_HOME"] == "/home/openclaw/agent"
    assert config.env["OPENCLAW_BRIDGE_AGENT_USER"] == "openclaw"


def test_openclaw_in_the_image_is_the_pinned_version(agent_image: AgentImage) -> None:
    result = run_in_image(agent_image, "id -u; openclaw --version", user=AGENT)
    assert result.returncode == 0, result.stderr
    uid, version = result.stdout.split("\n", 1)
    assert uid == "10001"
    assert f"OpenClaw {OPENCLAW_VERSION}" in version


def test_the_default_image_has_no_browser(agent_image: AgentImage) -> None:
    """Chromium (about 680 MB that every start pulls) is only in a browser deployment's image
    (tests/container/test_browser_image.py)."""
    result = run_in_image(agent_image, "command -v chromium || echo none", user=AGENT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "none"


def test_the_image_leaves_out_what_openclaw_never_loads(agent_image: AgentImage) -> None:
    """Every start pulls the image: the Control UI's assets (the rendered config turns the UI
    off) and the computer-use driver's native binary (its plugin is denied) are not in it."""
    assert "cua-computer" in DENIED_PLUGINS
    script = (
        "cd /usr/local/lib/node_modules/openclaw; "
        "ls -d dist/control-ui node_modules/@trycua/cua-driver-* 2>/dev/null; "
        "ls -d dist node_modules/@trycua/cua-driver"
    )
    result = run_in_image(agent_image, script, user=AGENT)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["dist", "node_modules/@trycua/cua-driver"]


def test_the_agents_user_writes_only_its_own_folders(agent_image: AgentImage) -> None:
    tries = " ".join(READ_ONLY)
    script = (
        f'for d in {tries}; do if touch "$d/.probe" 2>/dev/null; then echo "wrote $d"; fi; done; '
        'test "$HOME" = /home/openclaw && mkdir -p ~/agent/state '
        "&& touch ~/agent/state/db /tmp/scratch && echo home-and-tmp-ok; "
        # Links are left out: `-writable` judges a link by its target (Debian masks services
        # with links to /dev/null, /run/shm leads to /dev/shm), and a target inside is scanned.
        "find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune "
        "-o ! -type l -writable -print 2>/dev/null"
    )
    result = run_in_image(agent_image, script, user=AGENT)
    lines = result.stdout.splitlines()
    assert [line for line in lines if line.startswith("wrote ")] == []
    assert "home-and-tmp-ok" in lines
    writable = [line for line in lines if line.startswith("/")]
    assert "/home/openclaw/agent/state/db" in writable  # the scan sees what it can write
    outside = [
        path
        for path in writable
        if not any(path == root or path.startswith(f"{root}/") for root in WRITABLE_ROOTS)
    ]
    assert outside == [], f"the agent's user can write outside its folders: {outside}"


def test_root_in_the_image_can_write_where_the_user_cannot(agent_image: AgentImage) -> None:
    # The probe above fails for the right reason: the user's rights, not a read-only root.
    result = run_in_image(agent_image, "touch /app/.probe /usr/.probe && echo ok", user="0:0")
    assert result.stdout.strip() == "ok", result.stderr


def test_openclaws_compile_cache_ships_in_the_image_and_serves_the_agents_user(
    agent_image: AgentImage,
) -> None:
    # Made at build time by one start and one turn (container/prewarm.py); Node keys it by uid,
    # so it must be the agent's, and OpenClaw must find it where it asks Node for it.
    script = (
        "cd; NODE_DEBUG_NATIVE=COMPILE_CACHE openclaw backup create --help > out 2>&1; "
        'echo "rc $?"; echo "accepted $(grep -c "was accepted" out)"; '
        "echo \"cached $(find /tmp/node-compile-cache/openclaw -path '*-10001/*' -type f "
        '| wc -l)"; '
        'echo "writable $(find /tmp/node-compile-cache -writable | wc -l)"'
    )
    result = run_in_image(agent_image, script, user=AGENT, timeout=300)
    found = dict(line.split(" ", 1) for line in result.stdout.splitlines() if " " in line)
    assert found.get("rc") == "0", result.stdout + result.stderr
    assert int(found["cached"]) > 1000  # OpenClaw's gateway loads thousands of modules
    assert int(found["accepted"]) > 500  # read back by Node as the agent's user, not rebuilt
    assert found["writable"] == "0"  # code the agent runs: it cannot change it


# Plugins the config template turns off (templates/openclaw.json5) and ones the agent needs.
DENIED_PLUGINS = ("browser", "canvas", "cua-computer", "device-pair", "linux-node", "xai")
NEEDED_PLUGINS = ("anthropic", "openai", "openrouter", "memory-core")
RENDER_CONFIG = """
import sys
from pathlib import Path
from openclaw_bridge.render import choose_model, render_config
choice = choose_model(settings_provider="anthropic", settings_model=None,
                      default_provider=None, default_model=None, base_url=None)
template = Path("/app/templates/openclaw.json5").read_text()
text = render_config(template, choice, gateway_port=18789, proxy_url="http://127.0.0.1:9",
                     log_file="/tmp/openclaw.log")
Path(sys.argv[1]).write_text(text)
"""


def test_plugins_the_agent_does_not_use_are_not_loaded(agent_image: AgentImage) -> None:
    # The config the bridge renders, read by the pinned OpenClaw as the gateway would read it.
    script = (
        f"cd; cat > render.py <<'PY'\n{RENDER_CONFIG}\nPY\n"
        "python3 render.py ~/openclaw.json && OPENCLAW_STATE_DIR=~/state "
        "OPENCLAW_CONFIG_PATH=~/openclaw.json openclaw plugins list --json"
    )
    result = run_in_image(agent_image, script, timeout=300)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    listing = json.loads(result.stdout[result.stdout.index("{") :])
    status = {plugin["id"]: plugin["status"] for plugin in listing["plugins"]}
    assert {name: status[name] for name in DENIED_PLUGINS} == dict.fromkeys(
        DENIED_PLUGINS, "disabled"
    )
    assert {name: status[name] for name in NEEDED_PLUGINS} == dict.fromkeys(
        NEEDED_PLUGINS, "loaded"
    )


def test_only_the_bridge_can_run_the_helpers_and_they_keep_their_capabilities(
    agent_image: AgentImage,
) -> None:
    # File capabilities are extended attributes: they must survive the build's layers.
    listing = run_in_image(
        agent_image, f"getcap {HELPERS}/*; stat -c '%n %U:%G %a' {HELPERS}/*", user="0:0"
    )
    lines = listing.stdout.splitlines()
    assert f"{HELPERS}/agent-kill cap_kill=ep" in lines, listing.stdout + listing.stderr
    assert f"{HELPERS}/agent-setpriv cap_setgid,cap_setuid,cap_setpcap=ep" in lines
    assert f"{HELPERS}/agent-kill root:bridge 750" in lines
    assert f"{HELPERS}/agent-setpriv root:bridge 750" in lines
    # The agent's user cannot run them (nor could it gain their capabilities: no_new_privs).
    denied = run_in_image(
        agent_image,
        f"{HELPERS}/agent-setpriv --reuid=0 id; echo rc=$?; "
        f"{HELPERS}/agent-kill -s 0 1; echo rc=$?",
        user=AGENT,
    )
    assert denied.stdout.split() == ["rc=126", "rc=126"], denied.stdout + denied.stderr
    assert denied.stderr.count("Permission denied") == 2


SWITCH = """
import signal, subprocess, time
from openclaw_bridge.agent import AgentRunner
agent = AgentRunner.for_user("openclaw")
probe = "id -u; id -G; grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status"
print(subprocess.run(agent.command(["sh", "-c", probe]), capture_output=True, text=True).stdout)
child = subprocess.Popen(agent.command(["sleep", "60"]))
time.sleep(0.5)
try:
    child.send_signal(signal.SIGTERM)
    print("own-signal ok")
except PermissionError:
    print("own-signal denied")
agent.signal(child.pid, signal.SIGTERM)
print("exit", child.wait(timeout=10))
"""


def test_the_bridge_starts_the_agent_without_privileges_and_can_still_stop_it(
    agent_image: AgentImage,
) -> None:
    result = run_in_image(agent_image, f"id -u; python3 - <<'PY'\n{SWITCH}\nPY")
    lines = result.stdout.split("\n")
    assert lines[0] == "10002", result.stdout + result.stderr  # the image's user: the bridge
    assert lines[1:3] == ["10001", "10001"]  # the agent: its own uid, no other group
    status = dict(line.split(":\t") for line in lines[3:9])
    assert status == {
        "CapInh": "0000000000000000",
        "CapPrm": "0000000000000000",
        "CapEff": "0000000000000000",
        "CapBnd": "0000000000000000",
        "CapAmb": "0000000000000000",
        "NoNewPrivs": "1",
    }
    # The bridge's own uid may not signal the agent's processes; the helper can.
    assert "own-signal denied" in lines
    assert "exit -15" in lines, result.stdout + result.stderr
