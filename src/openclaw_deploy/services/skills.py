"""`skills`: the owner's own skills for the agent — add, list, remove, enable and disable.

Skills are kept in the state bucket under `skills/` (`runtime.skills`); the bridge puts the
enabled ones where OpenClaw loads them, at boot and within seconds while the agent runs, and
reports what OpenClaw then lists, which `list` shows beside each skill.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from openclaw_deploy.aws.errors import translate_boto_errors
from openclaw_deploy.config import Deployment
from openclaw_deploy.context import AppContext
from openclaw_deploy.errors import NotFoundError, UsageError
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.skills import (
    MAX_ARCHIVE_BYTES,
    Skill,
    SkillError,
    SkillStore,
    human_size,
    read_archive,
    read_folder,
    rows,
)
from openclaw_deploy.services.target import connect

APPLIES: Final = "The running agent has it within seconds; a sleeping one at its next start."
BUILT_IN_APPLIES: Final = "Applies at the agent's next start (openclaw-deploy stop, then start)."
ARCHIVE_SUFFIXES: Final = (".zip", ".tar.gz", ".tgz", ".tar")
CLAWHUB_PREFIX: Final = "clawhub:"
CLAWHUB_REF: Final = re.compile(r"(?:@[a-z0-9][a-z0-9_-]{0,63}/)?[a-z0-9][a-z0-9-]{0,63}")
ENV_CLAWHUB_URL: Final = "OPENCLAW_CLAWHUB_URL"
"""The registry OpenClaw installs from (its own variable; unset: ClawHub itself)."""
CLAWHUB_TIMEOUT_SECONDS: Final = 300.0


@dataclass(frozen=True, kw_only=True)
class SkillAdded:
    deployment: str
    skill: dict[str, Any]
    replaced: bool
    applies: str = APPLIES


@dataclass(frozen=True, kw_only=True)
class SkillListing:
    deployment: str
    skills: list[dict[str, Any]]
    reported_at: float | None
    """When the running agent last said which skills it loaded; None: never yet."""


@dataclass(frozen=True, kw_only=True)
class SkillRemoved:
    deployment: str
    name: str
    applies: str = APPLIES


@dataclass(frozen=True, kw_only=True)
class SkillToggled:
    deployment: str
    name: str
    enabled: bool
    source: str
    applies: str


def skill_store(app: AppContext, deployment: Deployment) -> SkillStore:
    connect(app, deployment)
    account = deployment.account
    if not account:
        from openclaw_deploy.aws.identity import caller_identity

        account = caller_identity(app.client("sts", deployment.region), deployment.region).account
    bucket = resources.STATE_BUCKET.physical_name(deployment.name, account, deployment.region)
    return SkillStore(app.client("s3", deployment.region), bucket)


def read_skill(path: Path) -> Skill:
    """A skill from a folder or an archive on this machine, checked (nothing is stored)."""
    try:
        if path.is_dir():
            return read_folder(path)
        if not path.is_file():
            raise UsageError(
                f"{path} is neither a folder nor a file.",
                hint="openclaw-deploy skills add PATH (a folder, .zip or .tar.gz)",
            )
        if not path.name.endswith(ARCHIVE_SUFFIXES):
            raise UsageError(
                f"{path.name} is not a .zip or .tar.gz archive.",
                hint="openclaw-deploy skills add PATH (a folder, .zip or .tar.gz)",
            )
        size = path.stat().st_size
        if size > MAX_ARCHIVE_BYTES:
            raise SkillError(
                f"the archive is {human_size(size)}: the limit is {human_size(MAX_ARCHIVE_BYTES)}"
            )
        return read_archive(path.read_bytes())
    except SkillError as problem:
        raise UsageError(
            f"The skill was refused: {problem}. Nothing was stored.",
            hint="fix the skill and run openclaw-deploy skills add again",
        ) from None


def from_clawhub(ref: str, *, registry: str | None = None) -> tuple[Skill, str]:
    """A skill installed from ClawHub by the pinned OpenClaw itself (its resolution, release
    trust check and download), into a scratch workspace on this machine; then checked as any
    other skill. Returns the skill and its origin (`clawhub:REF@VERSION`)."""
    from openclaw_deploy import toolchain

    if not CLAWHUB_REF.fullmatch(ref):
        raise UsageError(
            f"{ref!r} is not a ClawHub skill name.",
            hint="openclaw-deploy skills add clawhub:NAME (or clawhub:@owner/NAME)",
        )
    command = toolchain.ensure_openclaw()
    with tempfile.TemporaryDirectory(prefix="openclaw-clawhub-") as scratch:
        root = Path(scratch)
        (root / "openclaw.json").write_text('{gateway: {mode: "local"}}')
        extra = {
            "HOME": str(root),
            "OPENCLAW_STATE_DIR": str(root / "state"),
            "OPENCLAW_CONFIG_PATH": str(root / "openclaw.json"),
            "OPENCLAW_DISABLE_BONJOUR": "1",
            "OPENCLAW_NO_AUTO_UPDATE": "1",
            "NO_COLOR": "1",
        }
        registry = registry or os.environ.get(ENV_CLAWHUB_URL)
        if registry:
            extra[ENV_CLAWHUB_URL] = registry
        try:
            result = subprocess.run(
                [*command, "skills", "install", ref],
                cwd=root,
                env=toolchain.node_env(extra),
                capture_output=True,
                text=True,
                timeout=CLAWHUB_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise UsageError(
                f"ClawHub did not deliver {ref} within {CLAWHUB_TIMEOUT_SECONDS:.0f} s.",
                hint=f"openclaw-deploy skills add clawhub:{ref}",
            ) from None
        output = (result.stdout + "\n" + result.stderr).strip()
        if result.returncode != 0:
            reason = _clawhub_reason(output)
            raise UsageError(
                f"ClawHub refused {ref}: {reason} Nothing was stored.",
                hint="openclaw-deploy skills add clawhub:NAME with a skill ClawHub lists",
            )
        installed = [p.parent for p in (root / "state" / "workspace" / "skills").glob("*/SKILL.md")]
        if len(installed) != 1:
            raise UsageError(f"OpenClaw installed no skill from ClawHub for {ref}. {output[-300:]}")
        version = re.search(r"Installed \S+@(\S+)", output)
        skill = read_skill(installed[0])
    origin = f"clawhub:{ref}" + (f"@{version.group(1)}" if version else "")
    return skill, origin


def _clawhub_reason(output: str) -> str:
    """The line of OpenClaw's output that says why (its box drawing left out)."""
    lines = [line.strip(" │╭╮╰╯─") for line in output.splitlines()]
    lines = [line for line in lines if line]
    for line in lines:
        if "not found" in line or "blocked" in line.lower() or "malicious" in line.lower():
            return line if line.endswith(".") else line + "."
    return lines[-1] if lines else "no reason given."


def add_skill(
    app: AppContext, deployment: Deployment, source: str, *, registry: str | None = None
) -> SkillAdded:
    """Add a skill from a folder or archive on this machine, or `clawhub:NAME`."""
    if source.startswith(CLAWHUB_PREFIX):
        skill, origin = from_clawhub(source.removeprefix(CLAWHUB_PREFIX), registry=registry)
    else:
        skill, origin = read_skill(Path(source)), "upload"
    store = skill_store(app, deployment)
    with translate_boto_errors("store the skill"):
        replaced = skill.name in store.index().skills
        stored = store.add(skill, now=time.time(), origin=origin)
    return SkillAdded(deployment=deployment.name, skill=stored.public(), replaced=replaced)


def list_skills(app: AppContext, deployment: Deployment) -> SkillListing:
    store = skill_store(app, deployment)
    with translate_boto_errors("read the skills"):
        index = store.index()
        report = store.report()
    return SkillListing(
        deployment=deployment.name,
        skills=[row.public() for row in rows(index, report)],
        reported_at=report.reported_at if report else None,
    )


def remove_skill(app: AppContext, deployment: Deployment, name: str) -> SkillRemoved:
    store = skill_store(app, deployment)
    with translate_boto_errors("remove the skill"):
        removed = store.remove(name) if _valid(name) else None
    if removed is None:
        raise NotFoundError(
            f"{deployment.name} has no skill of yours named {name!r} (built-in skills can be "
            "disabled, not removed).",
            hint="openclaw-deploy skills list",
        )
    return SkillRemoved(deployment=deployment.name, name=name)


def set_enabled(app: AppContext, deployment: Deployment, name: str, enabled: bool) -> SkillToggled:
    store = skill_store(app, deployment)
    with translate_boto_errors("change the skill"):
        source = store.set_enabled(name, enabled) if _valid(name) else None
    if source is None:
        raise NotFoundError(
            f"There is no skill named {name!r}.", hint="openclaw-deploy skills list"
        )
    return SkillToggled(
        deployment=deployment.name,
        name=name,
        enabled=enabled,
        source=source,
        applies=APPLIES if source == "owner" else BUILT_IN_APPLIES,
    )


def _valid(name: str) -> bool:
    from openclaw_deploy.runtime.skills import NAME_PATTERN

    return NAME_PATTERN.fullmatch(name) is not None
