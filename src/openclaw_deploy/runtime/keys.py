"""API keys, one SSM SecureString per provider or tool, changeable at any time.

Layout: `/openclaw-deploy/<name>/keys/<id>` where `<id>` is a provider (`anthropic`, `openai`,
...) or a tool (`brave`). The CLI, the HTTP API and the bridge all go through `KeyStore`, so a
key set from the web is the one the agent's next turn uses. Listing never decrypts: it reads the
parameters' metadata (`GetParametersByPath` without decryption) for the names and dates only.

Stdlib + boto3 only: imported by Lambda handlers and by the bridge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from openclaw_deploy.runtime.providers import KEY_IDS, PROVIDERS, TOOLS, key_label
from openclaw_deploy.runtime.resources import ENV_KEYS_PATH, keys_path

__all__ = ["ENV_KEYS_PATH", "InvalidKeyError", "KeyStore", "StoredKey", "keys_path"]
MAX_KEY_LENGTH: Final = 4096
"""SSM's standard tier holds 4 KB; real keys are far shorter."""


class InvalidKeyError(ValueError):
    """A key id or value the store refuses; the message says why in the owner's words."""


def key_parameter(path: str, key_id: str) -> str:
    return f"{path}/{key_id}"


def set_key_command(key_id: str) -> str:
    """The command that stores a key for `key_id` (said in every 'no key' refusal)."""
    return f"openclaw-deploy keys set {key_id}"


def check_key_id(key_id: str) -> str:
    if key_id not in KEY_IDS:
        raise InvalidKeyError(f"no key is kept for {key_id!r}; keys are for: {', '.join(KEY_IDS)}")
    return key_id


def check_key_value(value: str) -> str:
    value = value.strip()
    if not value:
        raise InvalidKeyError("the key is empty")
    if len(value) > MAX_KEY_LENGTH or any(c.isspace() or ord(c) < 32 for c in value):
        raise InvalidKeyError("that does not look like an API key (one line, no spaces)")
    return value


@dataclass(frozen=True, kw_only=True)
class StoredKey:
    id: str
    kind: str
    """"provider" or "tool"."""
    label: str
    parameter: str
    updated_at: float | None

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "label": self.label,
            "parameter": self.parameter,
            "updatedAt": self.updated_at,
        }


class KeyStore:
    """The keys of one deployment in SSM; `path` is `keys_path(name)`."""

    def __init__(self, ssm_client: Any, path: str) -> None:
        self._ssm = ssm_client
        self._path = path.rstrip("/")

    @property
    def path(self) -> str:
        return self._path

    def parameter(self, key_id: str) -> str:
        return key_parameter(self._path, check_key_id(key_id))

    def list_keys(self) -> list[StoredKey]:
        """The keys that are set (metadata only: the values are never decrypted here)."""
        found: list[StoredKey] = []
        token: str | None = None
        while True:
            extra = {"NextToken": token} if token else {}
            page = self._ssm.get_parameters_by_path(
                Path=self._path, Recursive=False, WithDecryption=False, **extra
            )
            for parameter in page.get("Parameters", []):
                key_id = str(parameter["Name"]).rsplit("/", 1)[-1]
                if key_id not in KEY_IDS:
                    continue
                modified = parameter.get("LastModifiedDate")
                found.append(
                    StoredKey(
                        id=key_id,
                        kind="tool" if key_id in TOOLS else "provider",
                        label=key_label(key_id),
                        parameter=str(parameter["Name"]),
                        updated_at=modified.timestamp() if modified is not None else None,
                    )
                )
            token = page.get("NextToken")
            if not token:
                break
        order = {key_id: index for index, key_id in enumerate(KEY_IDS)}
        return sorted(found, key=lambda key: order[key.id])

    def stored_ids(self) -> set[str]:
        return {key.id for key in self.list_keys()}

    def get(self, key_id: str) -> str | None:
        """The key's value, or None when none is set."""
        try:
            answer = self._ssm.get_parameter(Name=self.parameter(key_id), WithDecryption=True)
        except self._ssm.exceptions.ParameterNotFound:
            return None
        return str(answer["Parameter"]["Value"])

    def has(self, key_id: str) -> bool:
        return key_id in self.stored_ids()

    def store_key(self, key_id: str, value: str) -> StoredKey:
        """Store or replace the key (SecureString with the AWS-managed key: no KMS fee)."""
        name = self.parameter(key_id)
        self._ssm.put_parameter(
            Name=name,
            Value=check_key_value(value),
            Type="SecureString",
            Overwrite=True,
            Description=f"openclaw-deploy: the {key_label(key_id)} API key",
        )
        for key in self.list_keys():
            if key.id == key_id:
                return key
        return StoredKey(  # listing lags a write on some backends; the write itself succeeded
            id=key_id,
            kind="tool" if key_id in TOOLS else "provider",
            label=key_label(key_id),
            parameter=name,
            updated_at=None,
        )

    def remove_key(self, key_id: str) -> bool:
        """Delete the key; False when there was none."""
        try:
            self._ssm.delete_parameter(Name=self.parameter(key_id))
        except self._ssm.exceptions.ParameterNotFound:
            return False
        return True


def missing_key(provider_id: str, present: set[str]) -> str | None:
    """Why `provider_id` cannot be chosen with the keys `present` (None when it can)."""
    provider = PROVIDERS.get(provider_id)
    if provider is None or not provider.needs_key or provider_id in present:
        return None
    return (
        f"{key_label(provider_id)} has no API key yet; add one first: "
        f"{set_key_command(provider_id)}"
    )
