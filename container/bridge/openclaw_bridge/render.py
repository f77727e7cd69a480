"""OpenClaw's config and environment for one start, from the owner's settings.

The config file comes from `templates/openclaw.json5`; it never holds a secret value (it ends
up in every backup). Keys travel in OpenClaw's environment only: the provider's own variable
(`ANTHROPIC_API_KEY`, ...) for bundled providers, a `${VAR}` reference for the ones we describe.
The gateway token is new at every start and exists only in the two processes' memory.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from openclaw_deploy.runtime.providers import Provider, get_provider

PLACEHOLDER: Final = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
OFFLINE_KEY: Final = "offline-demo"
"""The offline model takes any key; this one is not a secret."""
DEFAULT_CONTEXT_WINDOW: Final = 128_000
DEFAULT_MAX_TOKENS: Final = 8192
BEDROCK_CONTEXT_WINDOW: Final = 200_000

# Passed through to OpenClaw from the bridge's own environment; nothing else is (in particular
# not the Telegram token, which OpenClaw must never see, nor the bridge's AWS endpoint settings
# unless Bedrock needs them).
PASS_THROUGH: Final = (
    "PATH",
    "HOME",
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
AWS_PASS_THROUGH: Final = (
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_CONFIG_FILE",
    "AWS_SHARED_CREDENTIALS_FILE",
)
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
            }
        ],
    }


def providers_section(choice: ModelChoice, *, region: str) -> dict[str, Any]:
    provider = choice.provider
    pid = provider.openclaw_provider
    if provider.id == "offline":
        if not choice.base_url:
            raise RenderError("the offline model's URL is unknown")
        return {pid: _custom_provider(choice, base_url=choice.base_url, api_key=OFFLINE_KEY)}
    if provider.id == "bedrock":
        entry = _custom_provider(
            choice,
            base_url=choice.base_url or f"https://bedrock-runtime.{region}.amazonaws.com",
            api_key="",
            api="bedrock-converse-stream",
        )
        del entry["apiKey"]
        entry["auth"] = "aws-sdk"  # the task role, through the AWS SDK's default chain
        entry["models"][0]["contextWindow"] = BEDROCK_CONTEXT_WINDOW
        return {pid: entry}
    if provider.id == "deepseek":
        base = choice.base_url or provider.base_url or "https://api.deepseek.com/v1"
        return {pid: _custom_provider(choice, base_url=base, api_key=f"${{{provider.key_env}}}")}
    if choice.base_url:
        # A bundled provider behind a proxy: describe it as OpenAI-compatible at that URL.
        return {
            pid: _custom_provider(
                choice, base_url=choice.base_url, api_key=f"${{{provider.key_env}}}"
            )
        }
    return {}


def render_config(
    template: str, choice: ModelChoice, *, gateway_port: int, region: str, log_file: str
) -> str:
    """The OpenClaw config text for this start."""
    values: dict[str, Any] = {
        "gateway_port": gateway_port,
        "log_file": log_file,
        "providers": providers_section(choice, region=region),
        "model_ref": choice.model_ref,
        # The persona ritual costs a long first turn; the demo model cannot take part in it.
        "skip_bootstrap": choice.provider.id == "offline",
        "memory_search": "openai" if choice.provider.id == "openai" else "none",
    }

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raise RenderError(f"the config template names an unknown value {{{{ {name} }}}}")
        return json.dumps(values[name], ensure_ascii=False)

    return PLACEHOLDER.sub(replace, template)


def openclaw_env(
    choice: ModelChoice,
    *,
    state_dir: str,
    config_path: str,
    gateway_token: str,
    gateway_port: int,
    llm_api_key: str | None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The environment OpenClaw runs with: what it needs and nothing more."""
    source = os.environ if environ is None else environ
    env = {name: source[name] for name in PASS_THROUGH if name in source}
    if choice.provider.id == "bedrock":
        env.update({name: source[name] for name in AWS_PASS_THROUGH if name in source})
    env.update(SUPERVISED_ENV)
    env["OPENCLAW_STATE_DIR"] = state_dir
    env["OPENCLAW_CONFIG_PATH"] = config_path
    env["OPENCLAW_GATEWAY_TOKEN"] = gateway_token
    env["OPENCLAW_GATEWAY_PORT"] = str(gateway_port)
    if choice.provider.key_env:
        if not llm_api_key:
            raise RenderError(
                f"{choice.provider.label} needs an API key and none was given to the agent"
            )
        env[choice.provider.key_env] = llm_api_key
    return env
