"""The owner's settings: LLM provider and model, and how long an idle agent stays awake.

One item (pk=`settings`) in the settings table. `None` for provider or model means "as chosen at
`init`" (the deployment's config); the bridge reads these at start-up. Validation lives here so
the HTTP API and the CLI refuse the same things with the same words.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from openclaw_deploy.runtime import ddb

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PROVIDERS: Final[tuple[str, ...]] = (
    "anthropic",
    "openai",
    "openrouter",
    "deepseek",
    "bedrock",
    "offline",
)
MODEL_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$")
DEFAULT_IDLE_TIMEOUT_MINUTES: Final = 15
MIN_IDLE_TIMEOUT_MINUTES: Final = 1
MAX_IDLE_TIMEOUT_MINUTES: Final = 240
"""Four hours: longer belongs to the watchdog's maximum task lifetime, not to idling."""
ROW_KEY: Final = "settings"

# The public (JSON) field names and the stored attribute names.
_FIELDS: Final = {"provider": "provider", "model": "model", "idleTimeoutMinutes": "idle_timeout"}


class SettingsError(ValueError):
    """An invalid setting; `field` is the public field name (as the web UI and CLI show it)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


@dataclass(frozen=True, kw_only=True)
class AgentSettings:
    provider: str | None = None
    model: str | None = None
    idle_timeout_minutes: int = DEFAULT_IDLE_TIMEOUT_MINUTES
    updated_at: float | None = None

    def public(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "idleTimeoutMinutes": self.idle_timeout_minutes,
            "updatedAt": self.updated_at,
        }


def validate(changes: Mapping[str, Any], current: AgentSettings) -> AgentSettings:
    """`current` with `changes` (public field names) applied; SettingsError on the first bad one."""
    unknown = sorted(set(changes) - set(_FIELDS) - {"updatedAt"})
    if unknown:
        raise SettingsError(unknown[0], f"unknown setting (known: {', '.join(_FIELDS)})")
    provider = current.provider
    model = current.model
    idle = current.idle_timeout_minutes
    if "provider" in changes:
        value = changes["provider"]
        if value not in PROVIDERS:
            raise SettingsError("provider", f"must be one of {', '.join(PROVIDERS)}")
        if value != provider and "model" not in changes:
            raise SettingsError("model", "is required when the provider changes")
        provider = value
    if "model" in changes:
        value = changes["model"]
        if not isinstance(value, str) or not MODEL_PATTERN.match(value):
            raise SettingsError(
                "model", "must be a model id such as claude-sonnet-4-5 or openai/gpt-4.1"
            )
        if provider is None:
            raise SettingsError("provider", "is required with a model")
        model = value
    if "idleTimeoutMinutes" in changes:
        value = changes["idleTimeoutMinutes"]
        whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
        if isinstance(value, bool) or not whole:
            raise SettingsError("idleTimeoutMinutes", "must be a whole number of minutes")
        if not MIN_IDLE_TIMEOUT_MINUTES <= value <= MAX_IDLE_TIMEOUT_MINUTES:
            raise SettingsError(
                "idleTimeoutMinutes",
                f"must be between {MIN_IDLE_TIMEOUT_MINUTES} and {MAX_IDLE_TIMEOUT_MINUTES}",
            )
        idle = int(value)
    return AgentSettings(
        provider=provider, model=model, idle_timeout_minutes=idle, updated_at=current.updated_at
    )


class Settings:
    def __init__(
        self,
        dynamodb_client: DynamoDBClient,
        table_name: str,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = dynamodb_client
        self._table = table_name
        self._clock = clock

    def get(self) -> AgentSettings:
        answer = self._db.get_item(
            TableName=self._table, Key={"pk": ddb.s(ROW_KEY)}, ConsistentRead=True
        )
        item = answer.get("Item")
        if not item:
            return AgentSettings()
        return AgentSettings(
            provider=ddb.get_s(item, "provider"),
            model=ddb.get_s(item, "model"),
            idle_timeout_minutes=ddb.get_int(item, "idle_timeout", DEFAULT_IDLE_TIMEOUT_MINUTES),
            updated_at=ddb.get_n(item, "updated_at"),
        )

    def put(self, changes: Mapping[str, Any]) -> AgentSettings:
        """Validate and store `changes` (public field names; missing fields keep their value)."""
        merged = validate(changes, self.get())
        now = self._clock()
        item: dict[str, Any] = {
            "pk": ddb.s(ROW_KEY),
            "idle_timeout": ddb.n(merged.idle_timeout_minutes),
            "updated_at": ddb.n(now),
        }
        if merged.provider is not None:
            item["provider"] = ddb.s(merged.provider)
        if merged.model is not None:
            item["model"] = ddb.s(merged.model)
        self._db.put_item(TableName=self._table, Item=item)
        return AgentSettings(
            provider=merged.provider,
            model=merged.model,
            idle_timeout_minutes=merged.idle_timeout_minutes,
            updated_at=now,
        )
