"""The bridge's per-provider key store: the model proxy's `key_for`, read from SSM.

Each provider's and tool's key is an SSM SecureString under the deployment's `keys/` path
(`openclaw_deploy.runtime.keys`), read with the task role (granted `ssm:GetParameter` on that
path only). A key is kept in memory for a few seconds, so a key set or replaced in the settings
reaches the agent's next model call within `ttl` seconds, without a restart and without an SSM
call per request. Only the bridge process holds keys; OpenClaw never sees one.

A deployment from before keys were kept per provider still has the one key ECS put in the
bridge's environment: it serves the provider it was given for, and only that one.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from openclaw_deploy.runtime.keys import KeyStore, set_key_command
from openclaw_deploy.runtime.providers import PROVIDERS, key_label

log = logging.getLogger("openclaw_bridge.keys")

TTL_SECONDS: Final = 5.0
"""How long a read key (or its absence) is trusted: a change applies within this."""
REFUSED: Final = re.compile(
    r"^\s*(?:HTTP\s+)?(401|403)\b|authentication_error|invalid[ _]api[ _]key", re.I
)
REFUSED_NOTICE: Final = "your {label} key was refused: {command}"
BEDROCK_REFUSED_NOTICE: Final = "Amazon Bedrock refused the agent: {message}"


class BridgeKeys:
    """`key_for(provider_id)`: the provider's key, or None when none is set."""

    def __init__(
        self,
        store: KeyStore | None,
        *,
        fallback: Callable[[str], str | None] | None = None,
        ttl: float = TTL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._fallback = fallback
        self._ttl = ttl
        self._clock = clock
        self._cache: dict[str, tuple[float, str | None]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(
        cls, ssm_client: Any, path: str | None, *, fallback: Callable[[str], str | None] | None
    ) -> BridgeKeys:
        return cls(KeyStore(ssm_client, path) if path else None, fallback=fallback)

    def __call__(self, provider_id: str) -> str | None:
        now = self._clock()
        with self._lock:
            cached = self._cache.get(provider_id)
            if cached is not None and now - cached[0] < self._ttl:
                return cached[1]
        value = self._read(provider_id)
        with self._lock:
            self._cache[provider_id] = (now, value)
        return value

    def _read(self, provider_id: str) -> str | None:
        value: str | None = None
        if self._store is not None:
            try:
                value = self._store.get(provider_id)
            except (ClientError, BotoCoreError) as error:
                # Never the key in a log line; the error names the parameter and the action.
                log.warning("could not read the %s key: %s", provider_id, error)
            except ValueError:
                return None  # not a key id (a provider without keys)
        if value is None and self._fallback is not None:
            value = self._fallback(provider_id)
        return value

    def forget(self, provider_id: str | None = None) -> None:
        """Drop cached keys (all, or one provider's): the next call reads SSM again."""
        with self._lock:
            if provider_id is None:
                self._cache.clear()
            else:
                self._cache.pop(provider_id, None)


def refused_notice(provider_id: str, error_message: str) -> str | None:
    """What the owner is told when the provider refused the key (None for other errors)."""
    if provider_id == "bedrock":
        return bedrock_refusal(error_message)
    provider = PROVIDERS.get(provider_id)
    if provider is None or not provider.takes_key or not REFUSED.search(error_message):
        return None
    return REFUSED_NOTICE.format(label=key_label(provider_id), command=set_key_command(provider_id))


def bedrock_refusal(error_message: str) -> str | None:
    """Bedrock's 403 as the model proxy worded it (`openclaw_bridge.bedrock`: the model the role
    may not invoke and the command that grants it), without the JSON around it."""
    start = error_message.find("{")
    try:
        body = json.loads(error_message[start:]) if start >= 0 else None
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict) or error.get("type") != "permission_error":
        return None
    message = str(error.get("message") or "").strip()
    return BEDROCK_REFUSED_NOTICE.format(message=message) if message else None
