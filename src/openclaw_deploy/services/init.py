"""Setting up a deployment: check the answers for real, store the secrets in SSM, write the config.

The command gathers the answers (flags, environment, prompts); this service does the work in an
order that never leaves a half state behind: every check runs before anything is written, the
secrets are stored before the config file that names them, and the config file is written
atomically.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from openclaw_deploy.aws.identity import Identity
from openclaw_deploy.aws.ssm import SecretStore
from openclaw_deploy.config import AgentSpec, ConfigFile, Deployment
from openclaw_deploy.errors import UsageError
from openclaw_deploy.output import Reporter
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.keys import KeyStore, keys_path
from openclaw_deploy.runtime.providers import Provider, get_provider

if TYPE_CHECKING:
    from openclaw_deploy.services.local import LocalAccess
from openclaw_deploy.services.checks import check_llm_key, check_telegram_token


@dataclass(frozen=True, kw_only=True)
class InitRequest:
    name: str
    target: str
    region: str
    provider: str
    model: str
    owner_email: str
    llm_api_key: str | None
    """None keeps the stored key (or, for a provider without keys, stores none)."""
    telegram_bot_token: str | None
    """None keeps the stored token (or, on the local target, means no Telegram)."""
    skip_checks: bool = False
    llm_base_url: str | None = None
    telegram_api_url: str | None = None
    agent: AgentSpec = field(default_factory=AgentSpec)
    monthly_budget_usd: int | None = None
    """Whole USD; None: the default (the modelled monthly cost rounded up plus a margin)."""
    key_check: str | None = None
    """What checking `llm_api_key` found, when the command checked it as soon as it was given."""
    bot_username: str | None = None
    """The bot behind `telegram_bot_token`, when the command checked it already."""
    key_stored: bool = False
    """A key for `provider` is already kept (`keys/<provider>`): None for the key keeps it."""


@dataclass(frozen=True, kw_only=True)
class InitResult:
    name: str
    target: str
    account: str | None
    region: str
    provider: str
    model: str
    owner_email: str
    telegram_bot: str | None
    config_path: str
    parameters: dict[str, str]
    stored: list[str]
    """Parameter names written this time (values never shown)."""
    kept: list[str]
    checks: list[str]
    monthly_budget_usd: int = 0
    """The monthly budget the deployment gets (0: none), the default worked out."""
    budget_is_default: bool = True
    deployed: bool = False
    local: LocalAccess | None = None
    """How to reach a local deployment (its URLs, and the owner password when just chosen)."""


def _run_checks(
    request: InitRequest, provider: Provider, previous: Deployment | None, reporter: Reporter
) -> tuple[list[str], str | None]:
    """What the checks found, and the bot's username; raises before anything is written."""
    checks: list[str] = []
    bot_username: str | None = None
    changed_provider = previous is not None and previous.provider != request.provider
    if (
        provider.needs_key
        and request.llm_api_key is None
        and changed_provider
        and not request.key_stored
    ):
        # The stored key is the previous provider's: keeping it would fail at the first message.
        raise UsageError(
            f"The provider changes to {request.provider}: its API key is needed.",
            hint="pass the key in OPENCLAW_LLM_API_KEY, or --llm-api-key -",
        )
    if request.skip_checks:
        reporter.warn("Skipping the LLM key and Telegram token checks (--skip-checks).")
    else:
        if request.key_check is not None:
            checks.append(request.key_check)
        elif request.llm_api_key and provider.needs_key:
            with reporter.task(f"Checking the {provider.label} API key"):
                result = check_llm_key(provider, request.llm_api_key, base_url=request.llm_base_url)
            checks.append(result.detail)
        if request.bot_username is not None:
            bot_username = request.bot_username
            checks.append(f"Telegram bot @{bot_username}")
        elif request.telegram_bot_token:
            with reporter.task("Checking the Telegram bot token (getMe)"):
                bot = check_telegram_token(
                    request.telegram_bot_token, api_url=request.telegram_api_url
                )
            bot_username = bot.username
            checks.append(f"Telegram bot @{bot.username}")
    return checks, bot_username


def run_init(
    request: InitRequest,
    *,
    identity: Identity | None,
    store: SecretStore,
    config: ConfigFile,
    reporter: Reporter,
) -> InitResult:
    provider = get_provider(request.provider)
    previous = config.deployments.get(request.name)

    checks, bot_username = _run_checks(request, provider, previous, reporter)
    if bot_username is None and previous and not request.telegram_bot_token:
        bot_username = previous.telegram_bot_username

    parameters: dict[str, str] = {}
    stored: list[str] = []
    kept: list[str] = []
    values = {resources.TELEGRAM_BOT_TOKEN.key: request.telegram_bot_token}
    with reporter.task("Storing secrets as SSM SecureString parameters"):
        keys = KeyStore(store.client, keys_path(request.name))
        _move_single_key(store, keys, request.name, previous)
        if provider.takes_key and request.llm_api_key:
            # One parameter per provider: switching later (model, the web) finds each key.
            keys.store_key(provider.id, request.llm_api_key)
            stored.append(keys.parameter(provider.id))
        elif provider.takes_key and keys.has(provider.id):
            kept.append(keys.parameter(provider.id))
        for secret in resources.SECRETS:
            if secret is resources.LLM_API_KEY:
                continue  # kept per provider under keys/ (above)
            name = secret.parameter_name(request.name)
            value = values.get(secret.key)
            if secret is resources.TELEGRAM_WEBHOOK_SECRET:
                has_token = request.telegram_bot_token or store.exists(
                    resources.TELEGRAM_BOT_TOKEN.parameter_name(request.name)
                )
                if not has_token:
                    continue
                if store.exists(name):
                    kept.append(name)
                    parameters[secret.key] = name
                    continue
                value = secrets.token_urlsafe(32)  # only A-Za-z0-9_- as Telegram requires
            if value:
                store.put(
                    name, value, description=f"openclaw-deploy {request.name}: {secret.description}"
                )
                stored.append(name)
                parameters[secret.key] = name
            elif store.exists(name):
                kept.append(name)
                parameters[secret.key] = name

    deployment = Deployment(
        name=request.name,
        target=request.target,
        region=request.region,
        account=identity.account if identity else None,
        provider=request.provider,
        model=request.model,
        owner_email=request.owner_email,
        llm_base_url=request.llm_base_url,
        telegram_api_url=request.telegram_api_url,
        telegram_bot_username=bot_username,
        parameters=parameters,
        agent=request.agent,
        monthly_budget_usd=request.monthly_budget_usd,
        # Not one of init's questions: what `upgrade` chose stays.
        openclaw_version=previous.openclaw_version if previous else None,
    )
    config.upsert(deployment)
    config.save()
    reporter.done(f"Wrote {config.path} (parameter names only, no secret values)")
    return InitResult(
        name=request.name,
        target=request.target,
        account=deployment.account,
        region=request.region,
        provider=request.provider,
        model=request.model,
        owner_email=request.owner_email,
        telegram_bot=bot_username,
        config_path=str(config.path),
        parameters=parameters,
        stored=stored,
        kept=kept,
        checks=checks,
        monthly_budget_usd=_budget_usd(request),
        budget_is_default=request.monthly_budget_usd is None,
    )


def _move_single_key(
    store: SecretStore, keys: KeyStore, name: str, previous: Deployment | None
) -> None:
    """A deployment from before keys were kept per provider has one `llm-api-key` parameter:
    it becomes its provider's key (unless that provider has one already) and goes away."""
    old = resources.LLM_API_KEY.parameter_name(name)
    if not store.exists(old):
        return
    owner = get_provider(previous.provider) if previous else None
    if owner is not None and owner.takes_key and not keys.has(owner.id):
        keys.store_key(owner.id, store.get(old))
    store.delete([old])


def _budget_usd(request: InitRequest) -> int:
    from openclaw_deploy.services.budget import modelled_budget_usd

    if request.monthly_budget_usd is not None:
        return request.monthly_budget_usd
    return modelled_budget_usd(request.agent)
