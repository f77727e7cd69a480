"""The config file `openclaw-deploy.yaml`: named deployments, validated with clear messages.

It holds SSM parameter *names*, never secret values. A malformed file produces a ConfigError that
names the file, the key and what was expected, never a traceback. Writes are atomic, so Ctrl-C
never leaves half a file.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Final, Literal

from openclaw_deploy.errors import ConfigError, NotFoundError
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.providers import PROVIDER_IDS

CONFIG_FILENAME: Final = "openclaw-deploy.yaml"
SCHEMA_VERSION: Final = 1
Target = Literal["aws", "local"]
TARGETS: Final[tuple[str, ...]] = ("aws", "local")
REGION_PATTERN: Final = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
EMAIL_PATTERN: Final = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
NAME_RE: Final = re.compile(resources.NAME_PATTERN)
OPENCLAW_VERSION_PATTERN: Final = re.compile(r"^\d{1,4}\.\d{1,4}\.\d{1,4}(?:-[0-9A-Za-z.]{1,32})?$")
"""An npm version of OpenClaw (`2026.9.6`, `2026.10.1-beta.2`)."""
FARGATE_SIZES: Final[dict[int, tuple[int, ...]]] = {
    256: (512, 1024, 2048),
    512: (1024, 2048, 3072, 4096),
    1024: tuple(range(2048, 8193, 1024)),
    2048: tuple(range(4096, 16385, 1024)),
}
"""Fargate's valid cpu → memory (MiB) pairs for the sizes a personal agent would use."""
MAX_BUDGET_USD: Final = 100_000


@dataclass(frozen=True, kw_only=True)
class AgentSpec:
    cpu: int = 512
    memory: int = 2048
    spot: bool = True
    idle_timeout_minutes: int = 15
    browser: bool = False
    """Chromium in the agent's image, for OpenClaw's browser tool (`config set browser on`)."""


@dataclass(frozen=True, kw_only=True)
class Deployment:
    name: str
    target: str = "aws"
    region: str = "us-east-1"
    account: str | None = None
    provider: str = "anthropic"
    model: str = ""
    owner_email: str = ""
    llm_base_url: str | None = None
    telegram_api_url: str | None = None
    telegram_bot_username: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)
    """Secret key (resources.Secret.key) → SSM parameter name. Names only, never values."""
    agent: AgentSpec = field(default_factory=AgentSpec)
    monthly_budget_usd: int | None = None
    """The monthly AWS Budget in whole USD (alerts at 80 % forecast, 100 % actual); None or 0:
    no budget. `init` asks, `budget set` changes it."""
    openclaw_version: str | None = None
    """The OpenClaw release the agent image runs; None: the one this openclaw-deploy pins
    (`toolchain.OPENCLAW_VERSION`). `upgrade` moves it."""

    def to_yaml_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("name")
        return {key: value for key, value in data.items() if value not in (None, "", {})}


@dataclass(kw_only=True)
class ConfigFile:
    path: Path
    deployments: dict[str, Deployment] = field(default_factory=dict)
    default: str | None = None

    def resolve(self, name: str | None) -> Deployment:
        """The deployment called `name`, or the only/default one when no name is given."""
        if name:
            if name not in self.deployments:
                known = ", ".join(sorted(self.deployments)) or "none"
                raise NotFoundError(
                    f"No deployment named {name!r} in {self.path} (known: {known}).",
                    hint=f"openclaw-deploy init --name {name}",
                )
            return self.deployments[name]
        if not self.deployments:
            raise NotFoundError(
                f"No deployment is configured in {self.path}.",
                hint="openclaw-deploy init (or pass --config PATH to use another file)",
            )
        if self.default and self.default in self.deployments:
            return self.deployments[self.default]
        if len(self.deployments) == 1:
            return next(iter(self.deployments.values()))
        raise ConfigError(
            f"{self.path} holds several deployments ({', '.join(sorted(self.deployments))}) "
            "and no default.",
            hint="pass --name NAME",
        )

    def upsert(self, deployment: Deployment, *, make_default: bool = True) -> None:
        self.deployments[deployment.name] = deployment
        if make_default or not self.default:
            self.default = deployment.name

    def remove(self, name: str) -> None:
        self.deployments.pop(name, None)
        if self.default == name:
            self.default = next(iter(self.deployments), None)

    def save(self) -> None:
        import yaml  # only commands that read or write the file pay for it

        data: dict[str, Any] = {"version": SCHEMA_VERSION}
        if self.default:
            data["default"] = self.default
        data["deployments"] = {
            name: dep.to_yaml_dict() for name, dep in sorted(self.deployments.items())
        }
        text = (
            "# openclaw-deploy configuration. Secrets are not here: only the names of the SSM\n"
            "# parameters that hold them.\n" + yaml.safe_dump(data, sort_keys=False)
        )
        atomic_write(self.path, text)


def atomic_write(path: Path, text: str, *, mode: int = 0o644) -> None:
    """Write a file so that readers see the old or the new content, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        Path(temp).chmod(mode)
        Path(temp).replace(path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


class _Reader:
    """Pulls typed values out of parsed YAML, naming the file and key when something is off."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, expected: str, got: object) -> ConfigError:
        shown = type(got).__name__ if isinstance(got, dict | list) else repr(got)
        return ConfigError(
            f"{self.path}: {key}: expected {expected}, got {shown}.",
            hint=f"fix {key} in {self.path}, or run openclaw-deploy init again",
        )

    def mapping(self, value: object, key: str) -> dict[str, Any]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "a mapping", value)
        return value

    def string(
        self,
        data: dict[str, Any],
        key: str,
        where: str,
        default: str | None = None,
        pattern: re.Pattern[str] | None = None,
        expected: str = "a string",
    ) -> str | None:
        value = data.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str) or (pattern is not None and not pattern.match(value)):
            raise self.fail(f"{where}.{key}", expected, value)
        return value

    def integer(
        self, data: dict[str, Any], key: str, where: str, default: int, low: int, high: int
    ) -> int:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.fail(f"{where}.{key}", f"a whole number from {low} to {high}", value)
        return value


def _parse_deployment(reader: _Reader, name: object, raw: object) -> Deployment:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise reader.fail(
            f"deployments.{name}",
            "a name of 3-24 lowercase letters, digits and dashes, starting with a letter",
            name,
        )
    where = f"deployments.{name}"
    data = reader.mapping(raw, where)
    target = reader.string(data, "target", where, "aws")
    if target not in TARGETS:
        raise reader.fail(f"{where}.target", "aws or local", target)
    provider = reader.string(data, "provider", where, "anthropic")
    if provider not in PROVIDER_IDS:
        raise reader.fail(f"{where}.provider", f"one of {', '.join(PROVIDER_IDS)}", provider)
    params = reader.mapping(data.get("parameters"), f"{where}.parameters")
    for key, value in params.items():
        if not isinstance(value, str) or not value.startswith("/"):
            raise reader.fail(f"{where}.parameters.{key}", "an SSM parameter name (/…)", value)
    agent_raw = reader.mapping(data.get("agent"), f"{where}.agent")
    aw = f"{where}.agent"
    cpu = reader.integer(agent_raw, "cpu", aw, 512, 256, 2048)
    memory = reader.integer(agent_raw, "memory", aw, 2048, 512, 16384)
    if cpu not in FARGATE_SIZES or memory not in FARGATE_SIZES[cpu]:
        raise reader.fail(
            f"{aw}.memory", f"a Fargate size for cpu {cpu}: {FARGATE_SIZES.get(cpu, ())}", memory
        )
    spot = agent_raw.get("spot", True)
    if not isinstance(spot, bool):
        raise reader.fail(f"{aw}.spot", "true or false", spot)
    browser = agent_raw.get("browser", False)
    if not isinstance(browser, bool):
        raise reader.fail(f"{aw}.browser", "true or false", browser)
    return Deployment(
        name=name,
        target=target or "aws",
        region=reader.string(
            data, "region", where, "us-east-1", REGION_PATTERN, "an AWS region such as us-east-1"
        )
        or "us-east-1",
        account=_account(reader, data, where),
        provider=provider or "anthropic",
        model=reader.string(data, "model", where, "") or "",
        owner_email=reader.string(data, "owner_email", where, "") or "",
        llm_base_url=reader.string(data, "llm_base_url", where),
        telegram_api_url=reader.string(data, "telegram_api_url", where),
        telegram_bot_username=reader.string(data, "telegram_bot_username", where),
        parameters={str(k): str(v) for k, v in params.items()},
        agent=AgentSpec(
            cpu=cpu,
            memory=memory,
            spot=spot,
            browser=browser,
            idle_timeout_minutes=reader.integer(agent_raw, "idle_timeout_minutes", aw, 15, 1, 720),
        ),
        monthly_budget_usd=(
            reader.integer(data, "monthly_budget_usd", where, 0, 0, MAX_BUDGET_USD)
            if data.get("monthly_budget_usd") is not None
            else None
        ),
        openclaw_version=reader.string(
            data,
            "openclaw_version",
            where,
            None,
            OPENCLAW_VERSION_PATTERN,
            "an OpenClaw version such as 2026.9.6",
        ),
    )


def _account(reader: _Reader, data: dict[str, Any], where: str) -> str | None:
    value = data.get("account")
    if isinstance(value, int) and not isinstance(value, bool):
        value = f"{value:012d}"  # YAML reads an unquoted account id as a number
    if value is None:
        return None
    if not isinstance(value, str) or not re.fullmatch(r"\d{12}", value):
        raise reader.fail(f"{where}.account", "a 12-digit AWS account id", value)
    return value


def load_config(path: Path) -> ConfigFile:
    """Read and validate the config file; a missing file is an empty configuration."""
    import yaml

    reader = _Reader(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ConfigFile(path=path)
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"Cannot read {path}: {error}.") from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise ConfigError(
            f"{path} is not valid YAML{where}: {problem}.",
            hint="fix the file, or move it away and run openclaw-deploy init",
        ) from None
    data = reader.mapping(raw, "(top level)")
    version = data.get("version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise reader.fail("version", f"{SCHEMA_VERSION}", version)
    deployments_raw = reader.mapping(data.get("deployments"), "deployments")
    deployments = {
        str(name): _parse_deployment(reader, name, raw_dep)
        for name, raw_dep in deployments_raw.items()
    }
    default = data.get("default")
    if default is not None and (not isinstance(default, str) or default not in deployments):
        raise reader.fail("default", f"one of the deployments ({', '.join(deployments)})", default)
    return ConfigFile(path=path, deployments=deployments, default=default)


def with_changes(deployment: Deployment, **changes: Any) -> Deployment:
    return replace(deployment, **changes)
