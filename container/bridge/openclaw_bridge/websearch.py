"""OpenClaw's `web_search` through Brave Search, with the key kept in the bridge.

The pinned OpenClaw searches through Brave only with its external plugin
(`@openclaw/brave-plugin`), which the agent image and the local cache install beside OpenClaw.
When the plugin is there and the owner stored a `brave` key (`openclaw-deploy keys set brave`),
the config loads the plugin, makes Brave the search provider and points the plugin's base URL at
the model proxy's `/brave` route with a placeholder key: the proxy forwards only Brave's search
endpoints, with the real key in `X-Subscription-Token`. Without a key, OpenClaw is not told about
Brave at all (its `web_search` then says it has no provider), and nothing is fetched.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

from openclaw_bridge.proxy import PLACEHOLDER_KEY, Upstream
from openclaw_deploy.runtime.providers import TOOLS

BRAVE: Final = "brave"
BRAVE_PATHS: Final = (
    ("GET", r"res/v1/web/search"),
    ("GET", r"res/v1/llm/context"),
)
"""Brave's search endpoints the plugin calls, relative to its base URL."""
PLUGIN_PACKAGE: Final = ("@openclaw", "brave-plugin")


def brave_upstream(base_url: str | None = None) -> Upstream:
    """The proxy's route for Brave Search (`base_url` overrides Brave's own: a test stand-in)."""
    tool = TOOLS[BRAVE]
    return Upstream(
        provider_id=BRAVE,
        base_url=base_url or tool.base_url or "https://api.search.brave.com",
        paths=BRAVE_PATHS,
        auth_header=tool.auth_header or "X-Subscription-Token",
        auth_scheme=None,
    )


def plugin_dir(openclaw_command: Sequence[str]) -> Path | None:
    """The Brave plugin installed beside OpenClaw (`.../node_modules/openclaw/openclaw.mjs` ->
    `.../node_modules/@openclaw/brave-plugin`, as `npm install --global` and the toolchain's
    cache lay them out), or None."""
    for part in openclaw_command:
        # The image runs `openclaw`, npm's link to `.../node_modules/openclaw/openclaw.mjs`.
        path = Path(part) if "/" in part else Path(shutil.which(part) or part)
        entry = path.resolve() if path.exists() else path
        if entry.name == "openclaw.mjs" and entry.parent.name == "openclaw":
            found = entry.parent.parent.joinpath(*PLUGIN_PACKAGE)
            return found if (found / "openclaw.plugin.json").is_file() else None
    return None


def web_search_config(*, plugin: Path | None, proxy_url: str, has_key: bool) -> dict[str, Any]:
    """The config sections that turn Brave search on (`plugins_load`, `plugin_entries`, `tools`);
    empty ones when the plugin or the key is missing."""
    if plugin is None or not has_key:
        return {"plugins_load": {"paths": []}, "plugin_entries": {}, "tools": {}}
    return {
        "plugins_load": {"paths": [str(plugin)]},
        "plugin_entries": {
            BRAVE: {
                "enabled": True,
                "config": {
                    "webSearch": {
                        "apiKey": PLACEHOLDER_KEY,
                        "baseUrl": f"{proxy_url.rstrip('/')}/{BRAVE}",
                    }
                },
            }
        },
        "tools": {"web": {"search": {"provider": BRAVE}}},
    }
