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
    password_kept: bool = False
    """The owner's password is the one given before (not shown again; --new-password)."""


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
    image: bool | None = None,
) -> LocalState:
    """Start (or restart, when its settings changed) the local cloud; point `app` at it.

    `image`: run the agent from the image built here (True), as a process (False), or as the
    local cloud ran last time (None)."""
    paths = paths_for(app, name)
    reporter = app.reporter()
    runtime = _agent_runtime(paths, image)
    agent_image = None
    if runtime == "image":
        from openclaw_deploy.local.image import build_agent_image

        built = build_agent_image(reporter, browser=agent.browser)
        if built.cached:
            reporter.done(f"The agent image is up to date ({built.image_id[:12]}, all cached)")
        agent_image = built.image_id
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
        agent_runtime=runtime,
        agent_image=agent_image,
    )
    running = service.read_state(paths)
    changed = paths.spec.is_file() and json.loads(paths.spec.read_text("utf-8")) != asdict(spec)
    if running is not None and changed:
        reporter.step("The settings changed: restarting the local cloud (user data is kept)")
        service.stop(paths, reporter)
    state = service.start(paths, spec, reporter)
    app.use_local_cloud(state.moto_url)
    return state


def _agent_runtime(paths: LocalPaths, image: bool | None) -> str:
    if image is not None:
        return "image" if image else "process"
    try:
        previous = json.loads(paths.spec.read_text("utf-8"))
    except (OSError, ValueError):
        return "process"
    return "image" if previous.get("agent_runtime") == "image" else "process"


def generate_password() -> str:
    """A password Cognito's default policy accepts: upper, lower, digit and symbol."""
    alphabet = string.ascii_letters + string.digits
    core = "".join(secrets.choice(alphabet) for _ in range(14))
    return core + secrets.choice(string.ascii_uppercase) + secrets.choice(string.digits) + "!a"


def set_owner_login(
    app: AppContext,
    state: LocalState,
    *,
    name: str,
    email: str,
    password: str | None,
    new_password: bool = False,
) -> LocalAccess:
    """Give the owner a login: `password` if given, else the one given last time (a browser may
    have saved it), else — or with `new_password` — a new one, shown once."""
    from openclaw_deploy.local.provision import set_owner

    paths = paths_for(app, name)
    remembered = paths.remembered_login()
    kept = (
        password is None and not new_password and remembered is not None and remembered[0] == email
    )
    chosen = remembered[1] if kept and remembered else (password or generate_password())
    set_owner(
        app.client("cognito-idp", state.resources["region"]), state.user_pool_id, email, chosen
    )
    paths.remember_login(email, chosen)
    return LocalAccess(
        web_url=state.web_url,
        api_url=state.api_url,
        ws_url=state.ws_url,
        telegram_webhook_url=state.telegram_webhook_url,
        owner_email=email,
        owner_password=None if kept else chosen,
        logs=str(paths.logs),
        password_kept=kept,
    )


def local_cloud_running(app: AppContext, name: str) -> bool:
    return service.read_state(paths_for(app, name)) is not None


def stop_local_cloud(app: AppContext, name: str) -> bool:
    """Stop the local cloud (its data is saved); False when it was not running."""
    return service.stop(paths_for(app, name), app.reporter())


KEPT_UNTIL_PURGE = ("data", "logs", "access.json")
"""User data, the logs (to read after a destroy) and the owner's port and login."""


def remove_local_files(paths: LocalPaths, *, purge: bool) -> list[str]:
    """Remove a stopped local deployment's files; what `KEPT_UNTIL_PURGE` names stays unless
    `purge`. Returns the names removed."""
    import shutil

    removed: list[str] = []
    if not paths.home.exists():
        return removed
    for child in sorted(paths.home.iterdir()):
        if child.name in KEPT_UNTIL_PURGE and not purge:
            continue
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
        removed.append(child.name)
    if purge:
        shutil.rmtree(paths.home, ignore_errors=True)
    return removed


def redeploy_local(
    app: AppContext,
    deployment: Deployment,
    *,
    owner_password: str | None,
    new_password: bool = False,
    image: bool | None = None,
) -> LocalAccess:
    """`deploy --target local`: restart the local cloud on the current code and settings.

    User data is kept (saved on stop, loaded on start). The secrets live only in the local
    cloud's memory, so they are carried across the restart in this process's memory, never on
    disk. The owner's password stays unless a new one is given or asked for.
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
        image=image,
    )
    store = SecretStore(app.client("ssm", deployment.region), deployment.name)
    for name, value in carried.items():
        store.put(name, value, description=f"openclaw-deploy {deployment.name}")
    return set_owner_login(
        app,
        state,
        name=deployment.name,
        email=deployment.owner_email,
        password=owner_password,
        new_password=new_password,
    )
