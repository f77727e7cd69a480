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
from typing import TYPE_CHECKING, Any, Final

from openclaw_deploy.config import FARGATE_SIZES, AgentSpec, Deployment, with_changes
from openclaw_deploy.errors import NotFoundError, UsageError
from openclaw_deploy.runtime import resources, warm
from openclaw_deploy.runtime.settings import (
    BROWSER_MEMORY_MIB,
    MAX_IDLE_TIMEOUT_MINUTES,
    MIN_IDLE_TIMEOUT_MINUTES,
    AgentSettings,
    Settings,
    SettingsError,
)
from openclaw_deploy.runtime.warm import MAX_HOURS, WarmError, WarmWindow, parse_stored

if TYPE_CHECKING:
    from openclaw_deploy.context import AppContext

ON_WORDS: Final = ("on", "true", "yes", "1")
OFF_WORDS: Final = ("off", "false", "no", "0")
DEPLOY_TO_APPLY: Final = "openclaw-deploy deploy"
WARM_KEY: Final = "warm"
WARM_EXAMPLE: Final = "openclaw-deploy config set warm 08:00-09:00 --tz Europe/Berlin"
WARM_NOTE: Final = (
    "The agent is woken at {start} ({zone}) every day, is up about a minute later, and stays "
    "awake until {end}, answering at once; after that its idle timeout applies."
)


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
    size changes or a warm window adds to it, so the owner sees the difference before confirming."""

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
    warm: WarmChange | None = None
    """The warm window to keep (its schedule and the settings row), when the key is `warm`."""

    @property
    def changes_cost(self) -> bool:
        return self.monthly_usd is not None and self.monthly_usd[0] != self.monthly_usd[1]

    @property
    def changes_anything(self) -> bool:
        return self.old != self.new or self.agent is not None


@dataclass(frozen=True, kw_only=True)
class WarmCost:
    """What a warm window adds to a month: its hours × `warm.DAYS_PER_MONTH` × the task's hour."""

    window: str
    hours_per_day: float
    days_per_month: float
    hour_usd: float
    """One hour of the task at its size (Fargate, Spot when on, and its public IPv4 address)."""
    monthly_usd: float


@dataclass(frozen=True, kw_only=True)
class WarmChange:
    window: WarmWindow | None
    """None: no warm window (its schedule is removed)."""
    cost: WarmCost | None
    """What the new window adds to a month (None when it is off)."""


@dataclass(frozen=True, kw_only=True)
class ConfigResult:
    deployment: str
    key: str
    value: str
    changed: bool
    monthly_usd: tuple[float, float] | None = None
    next_step: str | None = None
    notes: list[str] = field(default_factory=list)
    warm_cost: WarmCost | None = None
    schedule: str | None = None
    """The warm window's daily wake-up as Scheduler keeps it (expression and time zone)."""


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


def _warm_cost(deployment: Deployment, window: WarmWindow) -> WarmCost:
    from openclaw_deploy.services.cost import task_hour_usd

    hour_usd = task_hour_usd(deployment.agent)
    return WarmCost(
        window=str(window),
        hours_per_day=round(window.awake_hours, 4),
        days_per_month=warm.DAYS_PER_MONTH,
        hour_usd=round(hour_usd, 6),
        monthly_usd=window.monthly_usd(hour_usd),
    )


def _default_zone(now: _Current) -> str:
    """The zone of the window kept now, else this machine's (as `schedule add` takes it)."""
    kept = parse_stored(now.settings.warm)
    if kept is not None:
        return kept.zone
    from openclaw_deploy.services.schedules import default_timezone

    return default_timezone()


def _plan_warm(now: _Current, value: str, timezone: str | None) -> ConfigPlan:
    deployment = now.deployment
    old_window = parse_stored(now.settings.warm)
    old = str(old_window) if old_window else "off"
    window: WarmWindow | None = None
    if value.strip().lower() not in OFF_WORDS:
        try:
            window = warm.parse(value, timezone or _default_zone(now))
        except WarmError as problem:
            raise UsageError(
                f"warm: {problem}.", hint=_warm_hint(value, timezone, problem)
            ) from None
    elif timezone is not None:
        raise UsageError("--tz goes with a window, not with off.", hint="config set warm off")
    base = _monthly(deployment.agent)
    before = base + (_warm_cost(deployment, old_window).monthly_usd if old_window else 0.0)
    cost = _warm_cost(deployment, window) if window else None
    after = base + (cost.monthly_usd if cost else 0.0)
    plan = ConfigPlan(
        deployment=deployment.name,
        key=WARM_KEY,
        old=old,
        new=str(window) if window else "off",
        monthly_usd=(round(before, 2), round(after, 2)) if before != after else None,
        warm=WarmChange(window=window, cost=cost),
    )
    if window is not None:
        start, end = window.span.split("-")
        plan.notes.append(WARM_NOTE.format(start=start, end=end, zone=window.zone))
    return plan


def _warm_hint(value: str, timezone: str | None, problem: WarmError) -> str:
    if timezone is not None and "time zone" in str(problem):
        return f"openclaw-deploy config set warm {value.strip()} --tz Europe/Berlin"
    if f"at most {MAX_HOURS} hours" in str(problem):
        return "openclaw-deploy config set warm 08:00-09:00"
    return WARM_EXAMPLE


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
            name=WARM_KEY,
            help="a daily window (HH:MM-HH:MM, in a time zone) when the agent stays awake",
            where="settings",
            show=lambda now: str(parse_stored(now.settings.warm) or "off"),
            plan=lambda now, value: _plan_warm(now, value, None),
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


def plan(
    app: AppContext,
    deployment: Deployment,
    name: str,
    value: str,
    *,
    timezone: str | None = None,
) -> ConfigPlan:
    """What setting `name` to `value` changes (nothing is written); `timezone` is the warm
    window's (None: the window's own, else this machine's)."""
    key = _key(name)
    if timezone is not None and key.name != WARM_KEY:
        raise UsageError(
            f"--tz is the warm window's time zone; {key.name} has none.",
            hint=f"openclaw-deploy config set {key.name} {value}",
        )
    now = _current(app, deployment)
    if key.name == WARM_KEY:
        return _plan_warm(now, value, timezone)
    return key.plan(now, value)


def apply(app: AppContext, deployment: Deployment, change: ConfigPlan) -> ConfigResult:
    """Write `change`: the settings row first (it fails on a deployment not deployed yet, before
    the config file is touched), then the task's size in the config file."""
    from openclaw_deploy.aws.errors import translate_boto_errors

    if change.warm is not None:
        return _apply_warm(app, deployment, change, change.warm)
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
    return _result(deployment, change, next_step=next_step)


def _result(
    deployment: Deployment,
    change: ConfigPlan,
    *,
    next_step: str | None = None,
    warm_cost: WarmCost | None = None,
    schedule: str | None = None,
) -> ConfigResult:
    return ConfigResult(
        deployment=deployment.name,
        key=change.key,
        value=change.new,
        changed=change.changes_anything,
        monthly_usd=change.monthly_usd,
        next_step=next_step,
        notes=list(change.notes),
        warm_cost=warm_cost,
        schedule=schedule,
    )


def _apply_warm(
    app: AppContext, deployment: Deployment, change: ConfigPlan, wanted: WarmChange
) -> ConfigResult:
    """The settings row first (the bridge reads the window there; it fails on a deployment not
    deployed yet), then the daily schedule; if Scheduler refuses, the row goes back."""
    from openclaw_deploy.aws.errors import translate_boto_errors

    store = _settings_store(app, deployment)
    dynamodb = app.client("dynamodb", deployment.region)
    window = wanted.window
    try:
        with translate_boto_errors("save the warm window"):
            before = store.get().warm
            store.set_warm(window.stored if window else None)
    except dynamodb.exceptions.ResourceNotFoundException:
        raise NotFoundError(
            f"{deployment.name} has no settings table yet: it is not deployed.",
            hint=DEPLOY_TO_APPLY,
        ) from None
    try:
        schedule = _keep_warm_schedule(app, deployment, window)
    except BaseException:
        with translate_boto_errors("put the warm window back"):
            store.set_warm(before)
        raise
    return _result(deployment, change, warm_cost=wanted.cost, schedule=schedule)


def _keep_warm_schedule(
    app: AppContext, deployment: Deployment, window: WarmWindow | None
) -> str | None:
    """Create, replace or remove the `warm` schedule; what it now is (None: removed)."""
    from openclaw_deploy.aws.errors import translate_boto_errors
    from openclaw_deploy.runtime import schedules
    from openclaw_deploy.services.target import connect

    connect(app, deployment)
    with translate_boto_errors("find the AWS account"):
        account = app.client("sts", deployment.region).get_caller_identity()["Account"]
    names = schedules.Names.of(deployment.name, account=account, region=deployment.region)
    scheduler = app.client("scheduler", deployment.region)
    name = schedules.WARM_NAME
    with translate_boto_errors("keep the warm window's schedule"):
        try:
            scheduler.get_schedule(Name=name, GroupName=names.group)
            exists = True
        except scheduler.exceptions.ResourceNotFoundException as error:
            if "group" in str(error).lower() and "schedule group" in str(error).lower():
                raise _no_group(deployment, error) from None
            exists = False
        if window is None:
            if exists:
                scheduler.delete_schedule(Name=name, GroupName=names.group)
            return None
        firing = schedules.Firing(
            schedule=name,
            title=f"Warm window {window.span}",
            text=f"Wake the agent for its warm window, {window}.",
            to="web",
            owner="warm",
        )
        fields: dict[str, Any] = {
            "Name": name,
            "GroupName": names.group,
            "ScheduleExpression": window.cron,
            "ScheduleExpressionTimezone": window.zone,
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": schedules.target(names, firing),
            "Description": f"openclaw-deploy config set warm: awake {window}",
            "State": "ENABLED",
        }
        try:
            if exists:
                scheduler.update_schedule(**fields)
            else:
                scheduler.create_schedule(**fields)
        except scheduler.exceptions.ResourceNotFoundException as error:
            raise _no_group(deployment, error) from None
    return f"{window.cron} {window.zone}"


def _no_group(deployment: Deployment, error: Exception) -> NotFoundError:
    return NotFoundError(
        f"The deployment {deployment.name!r} has no schedule group ({error}).",
        hint=f"{DEPLOY_TO_APPLY} (the warm window needs this version's stack)",
    )
