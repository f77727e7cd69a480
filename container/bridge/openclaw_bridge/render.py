"""OpenClaw's config and environment for one start, from the owner's settings.

The config file comes from `templates/openclaw.json5`; it never holds a secret value (it ends
up in every backup). OpenClaw holds no key at all: each provider's `baseUrl` is the bridge's
loopback model proxy (`openclaw_bridge.proxy`) with a placeholder key, and the proxy adds the
real key (or, for Bedrock, the task role's SigV4 signature). Its environment carries no key, no
token of ours but the gateway's, and no AWS variable. The gateway token is new at every start
and exists only in the two processes' memory.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from openclaw_bridge.attachments import accepts_images
from openclaw_bridge.proxy import PLACEHOLDER_KEY
from openclaw_bridge.websearch import web_search_config
from openclaw_deploy.runtime.providers import Provider, get_provider

PLACEHOLDER: Final = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
DEFAULT_CONTEXT_WINDOW: Final = 128_000
DEFAULT_MAX_TOKENS: Final = 8192
BEDROCK_CONTEXT_WINDOW: Final = 200_000

# Passed through to OpenClaw from the bridge's own environment; nothing else is: not the
# Telegram token, not the LLM key, and no AWS variable (no credentials, no container-credentials
# path, not even the endpoint or region: OpenClaw reaches Bedrock through the proxy too).
PASS_THROUGH: Final = (
    "PATH",
    "LANG",
    "LC_ALL",
    "TZ",
    "TMPDIR",
    "NODE_OPTIONS",
    "NODE_EXTRA_CA_CERTS",
    "SSL_CERT_FILE",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
)
LOOPBACK_NO_PROXY: Final = "127.0.0.1,localhost"
"""Always bypass an outbound proxy for the loopback model proxy and the gateway."""
# How a supervised gateway should behave: no mDNS, no self-respawn or self-update, no helper
# downloads, no shell snapshots; the config is ours (rewritten at every start).
SUPERVISED_ENV: Final = {
    "OPENCLAW_DISABLE_BONJOUR": "1",
    "OPENCLAW_NO_RESPAWN": "1",
    "OPENCLAW_OFFLINE": "1",
    "OPENCLAW_NO_AUTO_UPDATE": "1",
    "OPENCLAW_EXEC_SHELL_SNAPSHOT": "0",
    "OPENCLAW_CONFIG_READONLY": "1",
    "NO_COLOR": "1",
    "FORCE_COLOR": "0",
}


# Bundled plugins this agent has no use for, not loaded: each costs start-up time on a small
# task. Node hosts, paired devices, macOS canvas panels and voice need a device we do not have;
# ollama and xai are providers we do not offer. Kept: the providers we offer, memory, GitHub link
# reading, and the browser when the owner turned it on (`browser_config`).
DENIED_PLUGINS: Final = (
    # Providers the bridge describes itself (Bedrock through the model proxy's Anthropic Messages
    # route, DeepSeek as OpenAI-compatible): without this OpenClaw tries to fetch their external
    # plugins from npm at every start (Bedrock's is not even published). OpenClaw warns once
    # that no such plugin is installed: that is the point.
    "amazon-bedrock",
    "deepseek",
    "canvas",
    "cua-computer",
    "device-pair",
    "file-transfer",
    "geolocation",
    "linux-node",
    "ollama",
    "talk-voice",
    "xai",
)
BROWSER_PLUGIN: Final = "browser"
CHROMIUM_NAMES: Final = ("chromium", "chromium-browser")
"""Debian's Chromium (the image's), found on PATH."""


@dataclass(frozen=True, kw_only=True)
class BrowserChoice:
    """OpenClaw's browser tool for this start: on with a Chromium, or off."""

    executable: str | None = None
    allowed_hosts: tuple[str, ...] = ()
    """Private hosts the browser may open anyway (tests serve their page on 127.0.0.1); the
    rest of the private network and loopback (the bridge, the model proxy) stay refused."""

    @property
    def on(self) -> bool:
        return self.executable is not None


def browser_config(choice: BrowserChoice) -> dict[str, Any]:
    """OpenClaw's `browser` section.

    Headless (a task has no display) and without Chromium's sandbox: it needs user namespaces
    or a setuid helper, which Fargate does not give a container, and the agent already runs as
    its own unprivileged user. The managed profile (`openclaw`) keeps its user data under
    OpenClaw's state folder (`browser/openclaw/user-data`), the agent user's own; its disk cache
    goes nowhere, so backups carry cookies, not a cache. OpenClaw itself passes Chromium
    `--disable-dev-shm-usage` on Linux, so Fargate's small `/dev/shm` does not crash a tab.
    """
    if not choice.on:
        return {"enabled": False}
    section: dict[str, Any] = {
        "enabled": True,
        "executablePath": choice.executable,
        "headless": True,
        "noSandbox": True,
        "defaultProfile": "openclaw",
        "extraArgs": ["--disk-cache-dir=/dev/null"],
    }
    if choice.allowed_hosts:
        section["ssrfPolicy"] = {"allowedHostnames": list(choice.allowed_hosts)}
    return section


class RenderError(ValueError):
    """The settings cannot be turned into an OpenClaw config (the start fails with this)."""


@dataclass(frozen=True, kw_only=True)
class ModelChoice:
    """The provider and model this start uses, with where they came from."""

    provider: Provider
    model: str
    base_url: str | None = None

    @property
    def model_ref(self) -> str:
        return f"{self.provider.openclaw_provider}/{self.model}"


def choose_model(
    *,
    settings_provider: str | None,
    settings_model: str | None,
    default_provider: str | None,
    default_model: str | None,
    base_url: str | None,
) -> ModelChoice:
    """The owner's settings win over the choice made at `init`; the provider's default model
    fills a gap. The base URL override applies to the provider it was given for only."""
    provider_id = settings_provider or default_provider or "offline"
    try:
        provider = get_provider(provider_id)
    except KeyError as error:
        raise RenderError(str(error.args[0])) from None
    if settings_provider:
        model = settings_model or provider.default_model
    else:
        model = settings_model or default_model or provider.default_model
    same_as_init = provider_id == (default_provider or "offline")
    return ModelChoice(provider=provider, model=model, base_url=base_url if same_as_init else None)


def _custom_provider(
    choice: ModelChoice, *, base_url: str, api_key: str, api: str = "openai-completions"
) -> dict[str, Any]:
    return {
        "baseUrl": base_url,
        "apiKey": api_key,
        "api": api,
        "models": [
            {
                "id": choice.model,
                "name": choice.model,
                "contextWindow": DEFAULT_CONTEXT_WINDOW,
                "maxTokens": DEFAULT_MAX_TOKENS,
                # Image parts reach a model only when its entry says it takes them.
                "input": (
                    ["text", "image"]
                    if accepts_images(choice.provider.id, choice.model)
                    else ["text"]
                ),
            }
        ],
    }


API_BY_PROVIDER: Final = {
    "anthropic": "anthropic-messages",
    "bedrock": "anthropic-messages",  # the proxy turns it into Bedrock's API
}
"""OpenClaw's `api` for a provider; every other one is OpenAI-compatible."""


def providers_section(
    choice: ModelChoice, *, proxy_url: str, others: Iterable[Provider] = ()
) -> dict[str, Any]:
    """The chosen provider, described at the bridge's model proxy (`proxy_url` is its root,
    `http://127.0.0.1:<port>`) with a placeholder key: OpenClaw never sees the real one.
    `others` are described the same way with their default model, so a turn can switch to
    any of them by naming it (`x-openclaw-model`) while OpenClaw runs."""
    if choice.provider.id == "offline" and not choice.base_url:
        raise RenderError("the offline model's URL is unknown")
    section: dict[str, Any] = {}
    for other in others:
        if other.id != choice.provider.id:
            model = other.default_model or (other.curated_models or ("default",))[0]
            section.update(
                _provider_entry(ModelChoice(provider=other, model=model), proxy_url=proxy_url)
            )
    section.update(_provider_entry(choice, proxy_url=proxy_url))
    return section


def _provider_entry(choice: ModelChoice, *, proxy_url: str) -> dict[str, Any]:
    provider = choice.provider
    api = getattr(provider, "api", None) or API_BY_PROVIDER.get(provider.id, "openai-completions")
    entry = _custom_provider(
        choice,
        base_url=f"{proxy_url.rstrip('/')}/{provider.id}",
        api_key=PLACEHOLDER_KEY,
        api=api,
    )
    if provider.id == "bedrock":
        # The proxy signs with the task role (SigV4); OpenClaw sends the placeholder as a
        # Bedrock API key, which the proxy drops.
        entry["auth"] = "api-key"
        entry["models"][0]["contextWindow"] = BEDROCK_CONTEXT_WINDOW
    return {provider.openclaw_provider: entry}


def render_config(
    template: str,
    choice: ModelChoice,
    *,
    gateway_port: int,
    proxy_url: str,
    log_file: str,
    others: Iterable[Provider] = (),
    web_search: Mapping[str, Any] | None = None,
    skills: Mapping[str, Any] | None = None,
    browser: BrowserChoice | None = None,
) -> str:
    """The OpenClaw config text for this start (`web_search`: the sections of
    `openclaw_bridge.websearch.web_search_config`; none turns Brave search off; `browser`:
    none turns the browser tool off)."""
    browser = browser or BrowserChoice()
    deny = list(DENIED_PLUGINS) if browser.on else [*DENIED_PLUGINS, BROWSER_PLUGIN]
    values: dict[str, Any] = {
        "gateway_port": gateway_port,
        "log_file": log_file,
        "providers": providers_section(choice, proxy_url=proxy_url, others=others),
        "model_ref": choice.model_ref,
        # The persona ritual costs a long first turn; the demo model cannot take part in it.
        "skip_bootstrap": choice.provider.id == "offline",
        "memory_search": "openai" if choice.provider.id == "openai" else "none",
        **(web_search or web_search_config(plugin=None, proxy_url=proxy_url, has_key=False)),
        # The owner's skills (`openclaw_bridge.skills.SkillSync.config_section`).
        "skills": dict(skills or {}),
        "plugins_deny": deny,
        "browser": browser_config(browser),
    }

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise RenderError(f"the config template names an unknown value {{{{ {name} }}}}")
        return json.dumps(values[name], ensure_ascii=False)

    return PLACEHOLDER.sub(replace, template)


def openclaw_env(
    *,
    state_dir: str,
    config_path: str,
    gateway_token: str,
    gateway_port: int,
    home: str | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment OpenClaw runs with: what it needs and nothing more (no key, no AWS)."""
    source = os.environ if environ is None else environ
    env = {name: source[name] for name in PASS_THROUGH if name in source}
    home = home or source.get("HOME")
    if home:
        env["HOME"] = home
    if "HTTPS_PROXY" in env or "HTTP_PROXY" in env:
        env["NO_PROXY"] = ",".join(filter(None, (env.get("NO_PROXY"), LOOPBACK_NO_PROXY)))
    env.update(SUPERVISED_ENV)
    env["OPENCLAW_STATE_DIR"] = state_dir
    env["OPENCLAW_CONFIG_PATH"] = config_path
    env["OPENCLAW_GATEWAY_TOKEN"] = gateway_token
    env["OPENCLAW_GATEWAY_PORT"] = str(gateway_port)
    return env
