"""The LLM providers we support and what each needs: one table for the CLI, handlers and bridge.

Stdlib only. `check_url` is the cheap authenticated call `init` makes to prove a key works
(listing models costs nothing); `openclaw_provider` and `key_env` are how the bridge hands the
provider to OpenClaw.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True, kw_only=True)
class Provider:
    id: str
    label: str
    default_model: str
    needs_key: bool
    openclaw_provider: str
    """The provider id in OpenClaw's `agents.defaults.model.primary` ("<provider>/<model>")."""
    key_env: str | None
    """The environment variable OpenClaw reads the key from."""
    base_url: str | None = None
    """The API root `init` checks the key against (and an OpenAI-compatible provider's base URL)."""
    check_path: str | None = None
    auth_header: str = "Authorization"


PROVIDERS: Final[dict[str, Provider]] = {
    p.id: p
    for p in (
        Provider(
            id="anthropic",
            label="Anthropic (Claude)",
            default_model="claude-sonnet-4-5",
            needs_key=True,
            openclaw_provider="anthropic",
            key_env="ANTHROPIC_API_KEY",
            base_url="https://api.anthropic.com",
            check_path="/v1/models",
            auth_header="x-api-key",
        ),
        Provider(
            id="openai",
            label="OpenAI",
            default_model="gpt-5-mini",
            needs_key=True,
            openclaw_provider="openai",
            key_env="OPENAI_API_KEY",
            base_url="https://api.openai.com/v1",
            check_path="/models",
        ),
        Provider(
            id="openrouter",
            label="OpenRouter",
            default_model="anthropic/claude-sonnet-4.5",
            needs_key=True,
            openclaw_provider="openrouter",
            key_env="OPENROUTER_API_KEY",
            base_url="https://openrouter.ai/api/v1",
            check_path="/key",
        ),
        Provider(
            id="deepseek",
            label="DeepSeek (OpenAI-compatible)",
            default_model="deepseek-v4-flash",
            needs_key=True,
            openclaw_provider="deepseek",
            key_env="DEEPSEEK_API_KEY",
            base_url="https://api.deepseek.com/v1",
            check_path="/models",
        ),
        Provider(
            id="bedrock",
            label="Amazon Bedrock (no key: the task role)",
            default_model="anthropic.claude-sonnet-4-5-20250929-v1:0",
            needs_key=False,
            openclaw_provider="amazon-bedrock",
            key_env=None,
        ),
        Provider(
            id="offline",
            label="Offline demo model (no key; answers locally, for trying things out)",
            default_model="demo",
            needs_key=False,
            openclaw_provider="offline",
            key_env=None,
        ),
    )
}
PROVIDER_IDS: Final[tuple[str, ...]] = tuple(PROVIDERS)


def get_provider(provider_id: str) -> Provider:
    """The provider called `provider_id`; KeyError names the valid ones."""
    try:
        return PROVIDERS[provider_id]
    except KeyError:
        raise KeyError(
            f"unknown provider {provider_id!r}; choose one of {', '.join(PROVIDER_IDS)}"
        ) from None
