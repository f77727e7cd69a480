"""What the owner can choose: each provider with its key's presence and its models.

A provider's models come from its own list (`Provider.models_path`) when a key is present (or,
for an OpenAI-compatible endpoint, when its base URL is known), with a short timeout; otherwise
from our curated defaults. A model id outside either list is still accepted by the settings.

Stdlib only (urllib): imported by the API handler.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Final

from openclaw_deploy.runtime.providers import Provider

LIST_TIMEOUT_SECONDS: Final = 4.0
MAX_MODELS: Final = 300
ANTHROPIC_VERSION: Final = "2023-06-01"


@dataclass(frozen=True, kw_only=True)
class ModelList:
    provider: str
    models: list[str]
    source: str
    """"provider" (its own list) or "curated" (ours)."""
    problem: str | None = None
    """Why the provider's own list is not shown (no key, refused, unreachable)."""

    def public(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "models": self.models,
            "source": self.source,
            "problem": self.problem,
        }


def auth_headers(provider: Provider, key: str) -> dict[str, str]:
    """The headers that carry `key` to `provider` (its own header and scheme)."""
    if provider.auth_scheme == "bearer":
        return {provider.auth_header: f"Bearer {key}"}
    headers = {provider.auth_header: key}
    if provider.id == "anthropic":
        headers["anthropic-version"] = ANTHROPIC_VERSION
    return headers


def _ids(provider: Provider, body: Any) -> list[str]:
    if not isinstance(body, dict):
        return []
    if provider.id == "gemini":
        found = []
        for model in body.get("models") or []:
            if not isinstance(model, dict):
                continue
            methods = model.get("supportedGenerationMethods") or []
            name = model.get("name")
            if isinstance(name, str) and "generateContent" in methods:
                found.append(name.removeprefix("models/"))
        return found
    return [m["id"] for m in body.get("data") or [] if isinstance(m, dict) and "id" in m]


def _curated(provider: Provider, problem: str | None) -> ModelList:
    models = list(provider.curated_models) or (
        [provider.default_model] if provider.default_model else []
    )
    return ModelList(provider=provider.id, models=models, source="curated", problem=problem)


def list_models(
    provider: Provider,
    key: str | None,
    *,
    base_url: str | None = None,
    timeout: float = LIST_TIMEOUT_SECONDS,
) -> ModelList:
    """The provider's own model list when it can be had, else the curated defaults."""
    root = (base_url or provider.base_url or "").rstrip("/")
    if not provider.models_path or not root:
        return _curated(provider, None if not provider.needs_base_url else "no endpoint yet")
    if provider.needs_key and not key:
        return _curated(provider, "no key yet")
    headers = {"User-Agent": "openclaw-deploy", "Accept": "application/json"}
    if key:
        headers.update(auth_headers(provider, key))
    request = urllib.request.Request(root + provider.models_path, headers=headers)  # noqa: S310 - http(s) roots only
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
            body = json.loads(answer.read(4_000_000))
    except urllib.error.HTTPError as error:
        refused = error.code in (401, 403)
        return _curated(provider, "the key was refused" if refused else f"HTTP {error.code}")
    except (OSError, ValueError):
        return _curated(provider, "the provider did not answer")
    ids = sorted(set(_ids(provider, body)))[:MAX_MODELS]
    if not ids:
        return _curated(provider, "the provider listed no models")
    return ModelList(provider=provider.id, models=ids, source="provider")
