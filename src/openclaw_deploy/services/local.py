"""Local-target steps that commands share: start the local cloud, set the owner's login."""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import asdict, dataclass

from openclaw_deploy.config import AgentSpec, Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.local import service
from openclaw_deploy.local.daemon import Spec
from openclaw_deploy.local.paths import LocalPaths
from openclaw_deploy.local.service import LocalState


@dataclass(frozen=True, kw_only=True)
class LocalAccess:
    """How to reach a local deployment; `owner_password` is set only when it was just chosen."""

    web_url: str | None
    api_url: str
    ws_url: str
    telegram_webhook_url: str
    owner_email: str
    owner_password: str | None
    logs: str


def paths_for(app: AppContext, name: str) -> LocalPaths:
    return LocalPaths.for_deployment(app.config_path, name)


def start_local_cloud(
    app: AppContext,
    *,
    name: str,
    region: str,
    provider: str,
    model: str,
    llm_base_url: str | None,
    telegram_api_url: str | None,
    agent: AgentSpec,
) -> LocalState:
    """Start (or restart, when its settings changed) the local cloud; point `app` at it."""
    paths = paths_for(app, name)
    spec = Spec(
        name=name,
        region=region,
        provider=provider,
        model=model,
        llm_base_url=llm_base_url,
        telegram_api_url=telegram_api_url,
        cpu=agent.cpu,
        memory=agent.memory,
        idle_timeout_minutes=agent.idle_timeout_minutes,
    )
    reporter = app.reporter()
    running = service.read_state(paths)
    changed = paths.spec.is_file() and json.loads(paths.spec.read_text("utf-8")) != asdict(spec)
    if running is not None and changed:
        reporter.step("The settings changed: restarting the local cloud (user data is kept)")
        service.stop(paths, reporter)
    state = service.start(paths, spec, reporter)
    app.use_local_cloud(state.moto_url)
    return state


def generate_password() -> str:
    """A password Cognito's default policy accepts: upper, lower, digit and symbol."""
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(14))
    return core + secrets.choice(string.ascii_uppercase) + secrets.choice(string.digits) + "!a"


def set_owner_login(
    app: AppContext, state: LocalState, *, name: str, email: str, password: str | None
) -> LocalAccess:
    from openclaw_deploy.local.provision import set_owner

    chosen = password or generate_password()
    set_owner(
        app.client("cognito-idp", state.resources["region"]), state.user_pool_id, email, chosen
    )
    return LocalAccess(
        web_url=state.web_url,
        api_url=state.api_url,
        ws_url=state.ws_url,
        telegram_webhook_url=state.telegram_webhook_url,
        owner_email=email,
        owner_password=chosen,
        logs=str(paths_for(app, name).logs),
    )


def redeploy_local(
    app: AppContext, deployment: Deployment, *, owner_password: str | None
) -> LocalAccess:
    """`deploy --target local`: restart the local cloud on the current code and settings.

    User data is kept (saved on stop, loaded on start). The secrets live only in the local
    cloud's memory, so they are carried across the restart in this process's memory, never on
    disk. The owner's password is set again (given, or generated and shown once).
    """
    from openclaw_deploy.aws.ssm import SecretStore
    from openclaw_deploy.runtime import resources

    paths = paths_for(app, deployment.name)
    carried: dict[str, str] = {}
    running = service.read_state(paths)
    if running is not None:
        app.use_local_cloud(running.moto_url)
        store = SecretStore(app.client("ssm", deployment.region), deployment.name)
        for secret in resources.SECRETS:
            name = deployment.parameters.get(secret.key)
            if name and store.exists(name):
                carried[name] = store.get(name)
        service.stop(paths, app.reporter())
    state = start_local_cloud(
        app,
        name=deployment.name,
        region=deployment.region,
        provider=deployment.provider,
        model=deployment.model,
        llm_base_url=deployment.llm_base_url,
        telegram_api_url=deployment.telegram_api_url,
        agent=deployment.agent,
    )
    store = SecretStore(app.client("ssm", deployment.region), deployment.name)
    for name, value in carried.items():
        store.put(name, value, description=f"openclaw-deploy {deployment.name}")
    return set_owner_login(
        app, state, name=deployment.name, email=deployment.owner_email, password=owner_password
    )
