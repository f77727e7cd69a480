"""`skills`: the owner's own skills for the agent — add, list, remove, enable and disable.

Skills are kept in the state bucket under `skills/` (`runtime.skills`); the bridge puts the
enabled ones where OpenClaw loads them, at boot and within seconds while the agent runs, and
reports what OpenClaw then lists, which `list` shows beside each skill.
"""

from __future__ import annotations

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


def add_skill(app: AppContext, deployment: Deployment, path: Path) -> SkillAdded:
    skill = read_skill(path)
    store = skill_store(app, deployment)
    with translate_boto_errors("store the skill"):
        replaced = skill.name in store.index().skills
        stored = store.add(skill, now=time.time())
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
