"""The owner's settings: LLM provider and model, how long an idle agent stays awake, and whether
it has a browser.

One item (pk=`settings`) in the settings table. `None` for provider or model means "as chosen at
`init`" (the deployment's config); `{"provider": null}` goes back to that. The bridge looks at
the row before each turn, so a change applies to the agent's next turn. Validation lives here so
the HTTP API and the CLI refuse the same things with the same words.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from openclaw_deploy.runtime import ddb
from openclaw_deploy.runtime.providers import PROVIDER_IDS

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

PROVIDERS: Final[tuple[str, ...]] = PROVIDER_IDS
BASE_URL_PATTERN: Final = re.compile(r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
MODEL_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$")
DEFAULT_IDLE_TIMEOUT_MINUTES: Final = 15
MIN_IDLE_TIMEOUT_MINUTES: Final = 1
MAX_IDLE_TIMEOUT_MINUTES: Final = 240
"""Four hours: longer belongs to the watchdog's maximum task lifetime, not to idling."""
ROW_KEY: Final = "settings"
BROWSER_MEMORY_MIB: Final = 3072
"""The task memory the agent needs with its browser (OpenClaw ~1.2 GB after traffic, Chromium
with a page open, room for a heavy page); the bridge keeps the browser off in a smaller task."""

# The public (JSON) field names and the stored attribute names.
_FIELDS: Final = {
    "provider": "provider",
    "model": "model",
    "baseUrl": "base_url",
    "idleTimeoutMinutes": "idle_timeout",
    "browser": "browser",
}


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
    base_url: str | None = None
    """The endpoint of the `openai-compatible` provider (only with it)."""
    idle_timeout_minutes: int = DEFAULT_IDLE_TIMEOUT_MINUTES
    browser: bool = False
    """OpenClaw's browser tool (Chromium); applies from the agent's next start."""
    warm: str | None = None
    """The warm window (`runtime.warm`, `08:00-09:00@Europe/Berlin`), set only by `config set
    warm` (it also keeps the window's schedule): not one of the public fields the web changes."""
    updated_at: float | None = None

    def public(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "baseUrl": self.base_url,
            "idleTimeoutMinutes": self.idle_timeout_minutes,
            "browser": self.browser,
            "updatedAt": self.updated_at,
        }


def validate(changes: Mapping[str, Any], current: AgentSettings) -> AgentSettings:
    """`current` with `changes` (public field names) applied; SettingsError on the first bad one."""
    unknown = sorted(set(changes) - set(_FIELDS) - {"updatedAt"})
    if unknown:
        raise SettingsError(unknown[0], f"unknown setting (known: {', '.join(_FIELDS)})")
    provider = current.provider
    model = current.model
    base_url = current.base_url
    idle = current.idle_timeout_minutes
    if "provider" in changes and changes["provider"] is None:
        # Back to the deployment's default (what `init` chose): no model or endpoint of ours.
        changes = {k: v for k, v in changes.items() if k not in ("provider", "model", "baseUrl")}
        provider = model = base_url = None
    elif "provider" in changes:
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
    base_url = _base_url(changes, provider, base_url)
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
        provider=provider,
        model=model,
        base_url=base_url,
        idle_timeout_minutes=idle,
        browser=_browser(changes, current.browser),
        warm=current.warm,
        updated_at=current.updated_at,
    )


def _browser(changes: Mapping[str, Any], current: bool) -> bool:
    if "browser" not in changes:
        return current
    if not isinstance(changes["browser"], bool):
        raise SettingsError("browser", "must be true or false")
    return changes["browser"]


def _base_url(changes: Mapping[str, Any], provider: str | None, current: str | None) -> str | None:
    """The endpoint of an `openai-compatible` provider (required with it, dropped without)."""
    base_url = current
    if "baseUrl" in changes:
        value = changes["baseUrl"]
        if value is not None and (
            not isinstance(value, str) or len(value) > 500 or not BASE_URL_PATTERN.match(value)
        ):
            raise SettingsError("baseUrl", "must be an http(s) URL such as http://host:8000/v1")
        base_url = value.rstrip("/") if value else None
    if provider != "openai-compatible":
        return None
    if not base_url:
        raise SettingsError("baseUrl", "is required for an OpenAI-compatible endpoint")
    return base_url


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
            base_url=ddb.get_s(item, "base_url"),
            idle_timeout_minutes=ddb.get_int(item, "idle_timeout", DEFAULT_IDLE_TIMEOUT_MINUTES),
            browser=item.get("browser", {}).get("BOOL") is True,
            warm=ddb.get_s(item, "warm"),
            updated_at=ddb.get_n(item, "updated_at"),
        )

    def put(self, changes: Mapping[str, Any]) -> AgentSettings:
        """Validate and store `changes` (public field names; missing fields keep their value)."""
        merged = validate(changes, self.get())
        now = self._clock()
        item: dict[str, Any] = {
            "pk": ddb.s(ROW_KEY),
            "idle_timeout": ddb.n(merged.idle_timeout_minutes),
            "browser": {"BOOL": merged.browser},
            "updated_at": ddb.n(now),
        }
        if merged.provider is not None:
            item["provider"] = ddb.s(merged.provider)
        if merged.model is not None:
            item["model"] = ddb.s(merged.model)
        if merged.base_url is not None:
            item["base_url"] = ddb.s(merged.base_url)
        if merged.warm is not None:
            item["warm"] = ddb.s(merged.warm)
        self._db.put_item(TableName=self._table, Item=item)
        return AgentSettings(
            provider=merged.provider,
            model=merged.model,
            base_url=merged.base_url,
            idle_timeout_minutes=merged.idle_timeout_minutes,
            browser=merged.browser,
            warm=merged.warm,
            updated_at=now,
        )

    def set_warm(self, stored: str | None) -> None:
        """Keep the warm window (`WarmWindow.stored`), or none; every other setting stays."""
        key = {"pk": ddb.s(ROW_KEY)}
        if stored is None:
            self._db.update_item(
                TableName=self._table,
                Key=key,
                UpdateExpression="REMOVE #warm SET updated_at = :now",
                ExpressionAttributeNames={"#warm": "warm"},
                ExpressionAttributeValues={":now": ddb.n(self._clock())},
            )
            return
        self._db.update_item(
            TableName=self._table,
            Key=key,
            UpdateExpression="SET #warm = :warm, updated_at = :now",
            ExpressionAttributeNames={"#warm": "warm"},
            ExpressionAttributeValues={":warm": ddb.s(stored), ":now": ddb.n(self._clock())},
        )
