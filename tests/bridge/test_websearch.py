"""Brave search for OpenClaw's `web_search`: the plugin found beside OpenClaw, the config that
turns it on only with a brave key, and the proxy route that adds the key (against the Brave
stand-in). The live turn through the real OpenClaw is tests/bridge/test_web_search_live.py."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from openclaw_bridge.proxy import PLACEHOLDER_KEY, ModelProxy
from openclaw_bridge.render import choose_model, openclaw_env, render_config
from openclaw_bridge.websearch import brave_upstream, plugin_dir, web_search_config
from openclaw_deploy import toolchain
from tests.fakes.brave_search import brave_search

ROOT = Path(__file__).resolve().parents[2]
KEY = "BSA-canary-unit-7a8b9c"


def install(root: Path) -> Path:
    """An npm-global-like layout: node_modules/openclaw and node_modules/@openclaw/brave-plugin."""
    entry = root / "node_modules" / "openclaw" / "openclaw.mjs"
    entry.parent.mkdir(parents=True)
    entry.write_text("")
    plugin = root / "node_modules" / "@openclaw" / "brave-plugin"
    plugin.mkdir(parents=True)
    (plugin / "openclaw.plugin.json").write_text("{}")
    return entry


def test_the_plugin_is_found_beside_openclaw_by_path_or_by_its_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    entry = install(tmp_path)
    plugin = entry.parent.parent / "@openclaw" / "brave-plugin"
    assert plugin_dir(["node", str(entry)]) == plugin
    # The image runs `openclaw` from PATH: npm's link to the package's entry.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "openclaw").symlink_to(entry)
    entry.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    assert plugin_dir(["openclaw"]) == plugin.resolve()
    (plugin / "openclaw.plugin.json").unlink()
    assert plugin_dir(["node", str(entry)]) is None


def test_brave_is_configured_only_with_the_plugin_and_a_key(tmp_path: Path) -> None:
    off = {"plugins_load": {"paths": []}, "plugin_entries": {}, "tools": {}}
    assert web_search_config(plugin=None, proxy_url="http://127.0.0.1:1", has_key=True) == off
    assert web_search_config(plugin=tmp_path, proxy_url="http://127.0.0.1:1", has_key=False) == off
    on = web_search_config(plugin=tmp_path, proxy_url="http://127.0.0.1:1/", has_key=True)
    assert on["plugins_load"] == {"paths": [str(tmp_path)]}
    assert on["plugin_entries"]["brave"]["config"]["webSearch"] == {
        "apiKey": PLACEHOLDER_KEY,
        "baseUrl": "http://127.0.0.1:1/brave",
    }
    assert on["tools"] == {"web": {"search": {"provider": "brave"}}}


def test_the_proxy_adds_the_brave_key_and_forwards_only_brave_search() -> None:
    with brave_search(KEY) as brave:
        route = brave_upstream(brave.url)
        with ModelProxy([route], key_for=lambda p: KEY if p == "brave" else None) as proxy:
            found = httpx.get(
                f"{proxy.url('brave')}/res/v1/web/search",
                params={"q": "fargate"},
                headers={"X-Subscription-Token": PLACEHOLDER_KEY, "Accept": "application/json"},
            )
            other = httpx.get(f"{proxy.url('brave')}/res/v1/spellcheck/search?q=x")
            posted = httpx.post(f"{proxy.url('brave')}/res/v1/web/search", content=b"{}")
        with ModelProxy([route], key_for=lambda _p: None) as keyless:
            missing = httpx.get(f"{keyless.url('brave')}/res/v1/web/search?q=x")
    assert found.status_code == 200, found.text
    assert found.json()["web"]["results"][0]["title"] == brave.title("fargate")
    assert [(s.query, s.key) for s in brave.searches] == [("fargate", KEY)]
    assert (other.status_code, posted.status_code, missing.status_code) == (404, 405, 401)


def test_the_image_installs_the_plugin_version_the_toolchain_tests() -> None:
    dockerfile = (ROOT / "container" / "Dockerfile").read_text()
    pinned = re.search(r"^ARG BRAVE_PLUGIN_VERSION=(\S+)$", dockerfile, re.M)
    assert pinned is not None
    assert pinned.group(1) == toolchain.BRAVE_PLUGIN_VERSION
    assert '"@openclaw/brave-plugin@${BRAVE_PLUGIN_VERSION}"' in dockerfile


@pytest.mark.slow
def test_the_pinned_openclaw_accepts_the_brave_config(
    openclaw_command: list[str], tmp_path: Path
) -> None:
    plugin = plugin_dir(openclaw_command)
    assert plugin is not None, "the toolchain installs the Brave plugin beside OpenClaw"
    choice = choose_model(
        settings_provider="anthropic",
        settings_model=None,
        default_provider=None,
        default_model=None,
        base_url=None,
    )
    config = tmp_path / "openclaw.json"
    config.write_text(
        render_config(
            (ROOT / "templates" / "openclaw.json5").read_text(),
            choice,
            gateway_port=18789,
            proxy_url="http://127.0.0.1:9",
            log_file=str(tmp_path / "openclaw.log"),
            web_search=web_search_config(
                plugin=plugin, proxy_url="http://127.0.0.1:9", has_key=True
            ),
        )
    )
    env = openclaw_env(
        state_dir=str(tmp_path / "state"),
        config_path=str(config),
        gateway_token="t" * 32,
        gateway_port=18789,
        environ={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
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
