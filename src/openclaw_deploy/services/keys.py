"""`keys` and `model`: the API key of each provider and tool, and which provider/model the agent
uses — both changeable at any time, both applied to the running agent's next turn.

Keys are SSM SecureString parameters under `/openclaw-deploy/NAME/keys/ID` (`runtime.keys`);
the choice of provider and model is the settings row the web settings page also writes. A
deployment set up before keys were kept per provider has one `llm-api-key` parameter: the first
command that touches keys moves it to its provider's place and drops it from the config file.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace
from typing import Any, Final

from openclaw_deploy.aws.errors import translate_boto_errors
from openclaw_deploy.config import Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.errors import NotFoundError, UsageError
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.keys import (
    InvalidKeyError,
    KeyStore,
    StoredKey,
    check_key_id,
    keys_path,
    missing_key,
    set_key_command,
)
from openclaw_deploy.runtime.providers import (
    PROVIDERS,
    TOOLS,
    bedrock_grant_command,
    get_provider,
    missing_bedrock_grant,
    resolve_model,
)
from openclaw_deploy.runtime.settings import AgentSettings, Settings, SettingsError
from openclaw_deploy.services.target import connect

APPLIES: Final = "The running agent uses it from its next turn; no restart."


@dataclass(frozen=True, kw_only=True)
class KeyChange:
    deployment: str
    key: dict[str, Any]
    """`StoredKey.public()`: which key, its parameter and when; never the value."""
    check: str | None
    applies: str = APPLIES


@dataclass(frozen=True, kw_only=True)
class KeyListing:
    deployment: str
    in_use: str
    """The provider the agent uses now."""
    keys: list[dict[str, Any]]
    missing: list[str] = field(default_factory=list)
    """Providers and tools without a key (the ones that take one)."""


@dataclass(frozen=True, kw_only=True)
class KeyRemoval:
    deployment: str
    key: str
    removed: bool


@dataclass(frozen=True, kw_only=True)
class ModelChoice:
    deployment: str
    provider: str
    model: str
    base_url: str | None
    source: str
    """"settings" (chosen with `model` or the web) or "default" (what `init` chose)."""
    default: str
    """The deployment's default as PROVIDER/MODEL."""
    has_key: bool
    applies: str = APPLIES


def key_store(app: AppContext, deployment: Deployment) -> KeyStore:
    connect(app, deployment)
    store = KeyStore(app.client("ssm", deployment.region), keys_path(deployment.name))
    migrate_single_key(app, deployment, store)
    return store


def migrate_single_key(app: AppContext, deployment: Deployment, store: KeyStore) -> bool:
    """Move the one `llm-api-key` of an older deployment to `keys/<its provider>`."""
    old = deployment.parameters.get(resources.LLM_API_KEY.key)
    provider = PROVIDERS.get(deployment.provider)
    if old is None or provider is None:
        return False
    ssm = app.client("ssm", deployment.region)
    with translate_boto_errors("move the stored API key to its provider's place"):
        if provider.takes_key and not store.has(provider.id):
            try:
                value = ssm.get_parameter(Name=old, WithDecryption=True)["Parameter"]["Value"]
            except ssm.exceptions.ParameterNotFound:
                value = None
            if value:
                store.store_key(provider.id, str(value))
        with contextlib.suppress(ssm.exceptions.ParameterNotFound):
            ssm.delete_parameter(Name=old)
    parameters = {k: v for k, v in deployment.parameters.items() if k != resources.LLM_API_KEY.key}
    app.config.upsert(replace(deployment, parameters=parameters))
    app.config.save()
    return True


def _valid_id(key_id: str) -> str:
    try:
        return check_key_id(key_id)
    except InvalidKeyError as problem:
        raise UsageError(f"{problem}.", hint="openclaw-deploy keys list") from None


def set_key(
    app: AppContext,
    deployment: Deployment,
    key_id: str,
    value: str,
    *,
    check: bool = True,
    base_url: str | None = None,
) -> KeyChange:
    """Check the key with the provider (when it can be reached) and store it."""
    _valid_id(key_id)
    detail: str | None = None
    provider = PROVIDERS.get(key_id)
    if check and provider is not None:
        from openclaw_deploy.services.checks import check_llm_key

        root = base_url or (deployment.llm_base_url if deployment.provider == key_id else None)
        if provider.needs_base_url and not root:
            root = _settings_or_none(app, deployment).base_url
        if root or provider.base_url:
            detail = check_llm_key(provider, value.strip(), base_url=root).detail
    store = key_store(app, deployment)
    try:
        with translate_boto_errors(f"store the {key_id} key"):
            stored = store.store_key(key_id, value)
    except InvalidKeyError as problem:
        raise UsageError(
            f"The key was not stored: {problem}.", hint=set_key_command(key_id)
        ) from None
    return KeyChange(deployment=deployment.name, key=stored.public(), check=detail)


def in_use(app: AppContext, deployment: Deployment) -> str:
    return _settings_or_none(app, deployment).provider or deployment.provider


def list_keys(app: AppContext, deployment: Deployment) -> KeyListing:
    store = key_store(app, deployment)
    with translate_boto_errors("list the stored keys"):
        keys: list[StoredKey] = store.list_keys()
    present = {key.id for key in keys}
    takes = [p.id for p in PROVIDERS.values() if p.takes_key] + list(TOOLS)
    return KeyListing(
        deployment=deployment.name,
        in_use=in_use(app, deployment),
        keys=[key.public() for key in keys],
        missing=[key_id for key_id in takes if key_id not in present],
    )


def remove_key(
    app: AppContext, deployment: Deployment, key_id: str, *, force: bool = False
) -> KeyRemoval:
    _valid_id(key_id)
    store = key_store(app, deployment)
    current = in_use(app, deployment)
    if key_id == current and not force:
        raise UsageError(
            f"The agent uses {key_id}: without its key it cannot answer.",
            hint="choose another provider first (openclaw-deploy model PROVIDER/MODEL), or pass "
            "--force to remove it anyway",
        )
    with translate_boto_errors(f"remove the {key_id} key"):
        removed = store.remove_key(key_id)
    if not removed:
        raise NotFoundError(f"No key is set for {key_id}.", hint="openclaw-deploy keys list")
    return KeyRemoval(deployment=deployment.name, key=key_id, removed=True)


# -- the model ----------------------------------------------------------------------------------


def _settings(app: AppContext, deployment: Deployment) -> Settings:
    connect(app, deployment)
    return Settings(
        app.client("dynamodb", deployment.region), resources.SETTINGS.physical_name(deployment.name)
    )


def _settings_or_none(app: AppContext, deployment: Deployment) -> AgentSettings:
    """The stored settings; defaults when the deployment has no table yet (not deployed)."""
    client = app.client("dynamodb", deployment.region)
    try:
        return _settings(app, deployment).get()
    except client.exceptions.ResourceNotFoundException:
        return AgentSettings()


def _choice(app: AppContext, deployment: Deployment, stored: AgentSettings) -> ModelChoice:
    default_model = resolve_model(deployment.provider, deployment.model, deployment.region)
    provider = stored.provider or deployment.provider
    model = stored.model if stored.provider else default_model
    spec = get_provider(provider)
    present = key_store(app, deployment).stored_ids() if spec.takes_key else set()
    return ModelChoice(
        deployment=deployment.name,
        provider=provider,
        model=model or spec.default_model,
        base_url=stored.base_url if stored.provider else deployment.llm_base_url,
        source="settings" if stored.provider else "default",
        default=f"{deployment.provider}/{default_model}",
        has_key=provider in present or not spec.needs_key,
    )


def show_model(app: AppContext, deployment: Deployment) -> ModelChoice:
    return _choice(app, deployment, _settings_or_none(app, deployment))


def parse_choice(text: str) -> tuple[str, str | None]:
    """PROVIDER/MODEL (the model may hold more slashes, as OpenRouter's do), or PROVIDER."""
    provider, _, model = text.strip().partition("/")
    if provider not in PROVIDERS:
        raise UsageError(
            f"{provider!r} is not a provider.",
            hint=f"openclaw-deploy model PROVIDER/MODEL with one of: {', '.join(PROVIDERS)}",
        )
    return provider, model or None


def set_model(
    app: AppContext,
    deployment: Deployment,
    choice: str | None,
    *,
    base_url: str | None = None,
    default: bool = False,
) -> ModelChoice:
    """Store the owner's choice (or, with `default`, go back to the deployment's)."""
    settings = _settings(app, deployment)
    if default:
        changes: dict[str, Any] = {"provider": None}
    else:
        assert choice is not None
        provider, model = parse_choice(choice)
        spec = get_provider(provider)
        model = model or spec.default_model
        if not model:
            raise UsageError(
                f"Name the model to use with {provider}.",
                hint=f"openclaw-deploy model {provider}/MODEL",
            )
        if problem := missing_key(provider, key_store(app, deployment).stored_ids()):
            raise UsageError(problem[0].upper() + problem[1:] + ".", hint=set_key_command(provider))
        if problem := missing_bedrock_grant(
            provider,
            model,
            default_provider=deployment.provider,
            default_model=deployment.model,
            region=deployment.region,
        ):
            raise UsageError(
                problem[0].upper() + problem[1:] + ".",
                hint=f"{bedrock_grant_command(model)} --name {deployment.name}",
            )
        changes = {"provider": provider, "model": model}
        if spec.needs_base_url:
            changes["baseUrl"] = base_url or settings.get().base_url
        if base_url and not spec.needs_base_url:
            raise UsageError(
                "--base-url is for the openai-compatible provider only.",
                hint=f"openclaw-deploy model openai-compatible/MODEL --base-url {base_url}",
            )
    try:
        with translate_boto_errors("save the settings"):
            stored = settings.put(changes)
    except SettingsError as problem:
        raise UsageError(f"{problem.field} {problem.message}.", hint=_model_hint(problem)) from None
    except app.client("dynamodb", deployment.region).exceptions.ResourceNotFoundException:
        raise NotFoundError(
            f"{deployment.name} has no settings table yet: it is not deployed.",
            hint=f"openclaw-deploy deploy --name {deployment.name}",
        ) from None
    return _choice(app, deployment, stored)


def _model_hint(problem: SettingsError) -> str:
    if problem.field == "baseUrl":
        return "openclaw-deploy model openai-compatible/MODEL --base-url http://HOST:PORT/v1"
    return "openclaw-deploy model anthropic/claude-sonnet-4-5"


def forget_choice(app: AppContext, deployment: Deployment) -> bool:
    """Drop the provider/model chosen in the web or with `model` (init's answer wins again).
    False when there is nothing to drop, or no settings table yet (not deployed)."""
    try:
        settings = _settings(app, deployment)
        if settings.get().provider is None:
            return False
        with translate_boto_errors("reset the model choice"):
            settings.put({"provider": None})
    except (
        NotFoundError,
        app.client("dynamodb", deployment.region).exceptions.ResourceNotFoundException,
    ):
        return False
    return True
