"""`config show` / `config set`: one place for the deployment's settings, key by key.

Each key has a reader, a validator and an apply step. Some live in the owner's settings row (the
same row the web settings page writes; the agent reads it), some in the config file (the task's
size, applied by `deploy`). A change that alters the task's size is planned first: the plan
carries the monthly cost before and after, so the CLI can show the difference before the owner
confirms; `apply` then writes it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Final

from openclaw_deploy.config import FARGATE_SIZES, AgentSpec, Deployment, with_changes
from openclaw_deploy.errors import NotFoundError, UsageError
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.settings import (
    BROWSER_MEMORY_MIB,
    MAX_IDLE_TIMEOUT_MINUTES,
    MIN_IDLE_TIMEOUT_MINUTES,
    AgentSettings,
    Settings,
    SettingsError,
)

if TYPE_CHECKING:
    from openclaw_deploy.context import AppContext

ON_WORDS: Final = ("on", "true", "yes", "1")
OFF_WORDS: Final = ("off", "false", "no", "0")
DEPLOY_TO_APPLY: Final = "openclaw-deploy deploy"


@dataclass(frozen=True, kw_only=True)
class ConfigValue:
    key: str
    value: str
    where: str
    """`settings` (applies without a deploy) or `config file` (applied by `deploy`)."""
    help: str


@dataclass(frozen=True, kw_only=True)
class ConfigView:
    deployment: str
    values: list[ConfigValue]


@dataclass(frozen=True, kw_only=True)
class ConfigPlan:
    """What `config set KEY VALUE` will change; `monthly_usd` is (before, after) when the task's
    size changes, so the owner sees the difference before confirming."""

    deployment: str
    key: str
    old: str
    new: str
    settings: dict[str, object] = field(default_factory=dict)
    """Changes to the owner's settings row (public field names)."""
    agent: AgentSpec | None = None
    """The task's new size (config file), or None when it stays."""
    old_agent: AgentSpec | None = None
    monthly_usd: tuple[float, float] | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def changes_cost(self) -> bool:
        return self.monthly_usd is not None and self.monthly_usd[0] != self.monthly_usd[1]

    @property
    def changes_anything(self) -> bool:
        return self.old != self.new or self.agent is not None


@dataclass(frozen=True, kw_only=True)
class ConfigResult:
    deployment: str
    key: str
    value: str
    changed: bool
    monthly_usd: tuple[float, float] | None = None
    next_step: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True, kw_only=True)
class _Current:
    deployment: Deployment
    settings: AgentSettings


@dataclass(frozen=True, kw_only=True)
class Key:
    name: str
    help: str
    where: str
    show: Callable[[_Current], str]
    plan: Callable[[_Current, str], ConfigPlan]


def _on_off(key: str, value: str) -> bool:
    word = value.strip().lower()
    if word in ON_WORDS:
        return True
    if word in OFF_WORDS:
        return False
    raise UsageError(f"{key} must be on or off, not {value!r}.", hint=f"config set {key} on")


def _size(agent: AgentSpec) -> str:
    return f"{agent.cpu / 1024:g} vCPU, {agent.memory / 1024:g} GB"


def _monthly(agent: AgentSpec) -> float:
    from openclaw_deploy.services.cost import estimate

    return estimate(agent).total_usd


def _resized(now: _Current, key: str, old: str, new: str, agent: AgentSpec) -> ConfigPlan:
    current = now.deployment.agent
    if agent == current:
        return ConfigPlan(deployment=now.deployment.name, key=key, old=old, new=new)
    before, after = _monthly(current), _monthly(agent)
    return ConfigPlan(
        deployment=now.deployment.name,
        key=key,
        old=old,
        new=new,
        agent=agent,
        old_agent=current,
        monthly_usd=(before, after) if before != after else None,
    )


def browser_memory(cpu: int, memory: int) -> int:
    """The smallest valid Fargate memory for `cpu` that fits the browser (never less than now)."""
    for size in FARGATE_SIZES.get(cpu, ()):
        if size >= max(memory, BROWSER_MEMORY_MIB):
            return size
    raise UsageError(
        f"No Fargate size with {cpu} CPU units has the {BROWSER_MEMORY_MIB} MiB the browser needs.",
        hint="openclaw-deploy config set cpu 1024",
    )


def _plan_browser(now: _Current, value: str) -> ConfigPlan:
    on = _on_off("browser", value)
    old = "on" if now.settings.browser else "off"
    new = "on" if on else "off"
    agent = now.deployment.agent
    # Chromium is in the image only for a deployment with the browser on (`agent.browser`):
    # `deploy` builds that image, and the smaller one again once the browser is off.
    if on:
        sized = replace(agent, memory=browser_memory(agent.cpu, agent.memory), browser=True)
        plan = _resized(now, "browser", old, new, sized)
    else:
        plan = _resized(now, "browser", old, new, replace(agent, browser=False))
        if agent.memory >= BROWSER_MEMORY_MIB:
            plan.notes.append(
                f"The task keeps its size ({_size(agent)}): `openclaw-deploy config set memory "
                "2048` makes it smaller."
            )
    plan.settings["browser"] = on
    plan.notes.append(
        "The browser is on or off from the agent's next start after `openclaw-deploy deploy`, "
        "which builds the agent's image with Chromium (about 680 MB more) or without it."
    )
    return plan


def _plan_idle(now: _Current, value: str) -> ConfigPlan:
    try:
        minutes = int(value)
    except ValueError:
        minutes = 0
    if not MIN_IDLE_TIMEOUT_MINUTES <= minutes <= MAX_IDLE_TIMEOUT_MINUTES:
        raise UsageError(
            f"idle-timeout must be whole minutes between {MIN_IDLE_TIMEOUT_MINUTES} and "
            f"{MAX_IDLE_TIMEOUT_MINUTES}, not {value!r}.",
            hint="openclaw-deploy config set idle-timeout 15",
        )
    return ConfigPlan(
        deployment=now.deployment.name,
        key="idle-timeout",
        old=str(now.settings.idle_timeout_minutes),
        new=str(minutes),
        settings={"idleTimeoutMinutes": minutes},
    )


def _plan_task(field_name: str) -> Callable[[_Current, str], ConfigPlan]:
    def plan(now: _Current, value: str) -> ConfigPlan:
        agent = now.deployment.agent
        try:
            number = int(value)
        except ValueError:
            number = -1
        sized = replace(agent, cpu=number) if field_name == "cpu" else replace(agent, memory=number)
        if sized.cpu not in FARGATE_SIZES or sized.memory not in FARGATE_SIZES[sized.cpu]:
            valid = (
                ", ".join(str(m) for m in FARGATE_SIZES.get(agent.cpu, ()))
                if field_name == "memory"
                else ", ".join(str(c) for c in FARGATE_SIZES if agent.memory in FARGATE_SIZES[c])
            )
            raise UsageError(
                f"{field_name} {value} is not a Fargate size with the task's "
                f"{'cpu' if field_name == 'memory' else 'memory'} (valid: {valid}).",
                hint=f"openclaw-deploy config set {field_name} "
                + (valid.split(", ")[0] if valid else "..."),
            )
        old = str(getattr(agent, field_name))
        plan = _resized(now, field_name, old, str(number), sized)
        if now.settings.browser and sized.memory < BROWSER_MEMORY_MIB:
            plan.notes.append(
                f"The browser needs {BROWSER_MEMORY_MIB} MiB: the agent will start without it."
            )
        return plan

    return plan


KEYS: Final[dict[str, Key]] = {
    key.name: key
    for key in (
        Key(
            name="browser",
            help="OpenClaw's browser tool (headless Chromium); on raises the task's memory",
            where="settings",
            show=lambda now: "on" if now.settings.browser else "off",
            plan=_plan_browser,
        ),
        Key(
            name="idle-timeout",
            help="minutes an idle agent stays awake before it sleeps",
            where="settings",
            show=lambda now: str(now.settings.idle_timeout_minutes),
            plan=_plan_idle,
        ),
        Key(
            name="cpu",
            help="the task's CPU units (1024 = 1 vCPU); applied by deploy",
            where="config file",
            show=lambda now: str(now.deployment.agent.cpu),
            plan=_plan_task("cpu"),
        ),
        Key(
            name="memory",
            help="the task's memory in MiB; applied by deploy",
            where="config file",
            show=lambda now: str(now.deployment.agent.memory),
            plan=_plan_task("memory"),
        ),
    )
}


def _settings_store(app: AppContext, deployment: Deployment) -> Settings:
    from openclaw_deploy.services.target import connect

    connect(app, deployment)
    return Settings(
        app.client("dynamodb", deployment.region), resources.SETTINGS.physical_name(deployment.name)
    )


def _current(app: AppContext, deployment: Deployment) -> _Current:
    from openclaw_deploy.aws.errors import translate_boto_errors

    store = _settings_store(app, deployment)
    client = app.client("dynamodb", deployment.region)
    try:
        with translate_boto_errors("read the settings"):
            stored = store.get()
    except client.exceptions.ResourceNotFoundException:
        stored = AgentSettings()
    return _Current(deployment=deployment, settings=stored)


def show(app: AppContext, deployment: Deployment) -> ConfigView:
    now = _current(app, deployment)
    return ConfigView(
        deployment=deployment.name,
        values=[
            ConfigValue(key=key.name, value=key.show(now), where=key.where, help=key.help)
            for key in KEYS.values()
        ],
    )


def _key(name: str) -> Key:
    key = KEYS.get(name.strip().lower())
    if key is None:
        raise UsageError(
            f"Unknown setting {name!r} (known: {', '.join(KEYS)}).",
            hint="openclaw-deploy config show",
        )
    return key


def plan(app: AppContext, deployment: Deployment, name: str, value: str) -> ConfigPlan:
    """What setting `name` to `value` changes (nothing is written)."""
    return _key(name).plan(_current(app, deployment), value)


def apply(app: AppContext, deployment: Deployment, change: ConfigPlan) -> ConfigResult:
    """Write `change`: the settings row first (it fails on a deployment not deployed yet, before
    the config file is touched), then the task's size in the config file."""
    from openclaw_deploy.aws.errors import translate_boto_errors

    if change.settings:
        store = _settings_store(app, deployment)
        client = app.client("dynamodb", deployment.region)
        try:
            with translate_boto_errors("save the settings"):
                store.put(change.settings)
        except SettingsError as problem:
            raise UsageError(str(problem), hint="openclaw-deploy config show") from None
        except client.exceptions.ResourceNotFoundException:
            raise NotFoundError(
                f"{deployment.name} has no settings table yet: it is not deployed.",
                hint=DEPLOY_TO_APPLY,
            ) from None
    next_step = None
    if change.agent is not None:
        config = app.config
        config.upsert(with_changes(deployment, agent=change.agent), make_default=False)
        config.save()
        next_step = DEPLOY_TO_APPLY
    return ConfigResult(
        deployment=deployment.name,
        key=change.key,
        value=change.new,
        changed=change.changes_anything,
        monthly_usd=change.monthly_usd,
        next_step=next_step,
        notes=list(change.notes),
    )
