"""The owner's skills: what a skill archive may hold, and where skills are kept.

A skill is a folder with a `SKILL.md` whose frontmatter names it and says what it is for
(OpenClaw's format, the AgentSkills spec). The owner gives one as a folder, a .zip or a .tar.gz;
it is checked here (by the CLI, the API and again by the bridge before it unpacks one) and kept
in the state bucket under its own `skills/` prefix, beside but never inside the agent's backups:

    skills/index.json               every skill of the owner's: description, enabled, digest
    skills/archives/NAME.tar.gz     the skill, re-packed: regular files only, no owner, no time
    skills/agent-report.json        what the running OpenClaw last said it loaded (the bridge)

The bucket is versioned, so a replaced or removed skill keeps its earlier versions.

Refused, with nothing written: no `SKILL.md`, no name or description in its frontmatter, a name
OpenClaw does not accept or that a built-in skill has, an entry with an absolute path or `..`,
a link, a device or anything but a file or folder, and more than the limits below.

Stdlib and boto3 only: the API function uses it too.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import re
import stat
import tarfile
import zipfile
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import Any, Final

from openclaw_deploy.runtime.builtin_skills import BUILT_IN_SKILLS

PREFIX: Final = "skills/"
INDEX_KEY: Final = "skills/index.json"
REPORT_KEY: Final = "skills/agent-report.json"
ARCHIVES: Final = "skills/archives/"
SKILL_FILE: Final = "SKILL.md"

MAX_ARCHIVE_BYTES: Final = 3 * 1024 * 1024
"""An archive as given (it crosses the HTTP API as base64 in a 6 MB Lambda request)."""
MAX_FILES: Final = 256
MAX_FILE_BYTES: Final = 1024 * 1024
MAX_TOTAL_BYTES: Final = 8 * 1024 * 1024
"""Unpacked, as OpenClaw limits its own managed skill bundles."""
MAX_DESCRIPTION: Final = 1024
NAME_PATTERN: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
"""OpenClaw's (AgentSkills') names: lowercase letters, digits and hyphens, up to 64."""
OWNER_SOURCE: Final = "openclaw-extra"
"""How OpenClaw reports a skill from our folder (its `skills.load.extraDirs`)."""


class SkillError(ValueError):
    """A skill refused; the message says why, for the owner (nothing was written)."""


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MiB"
    if n >= 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n} bytes"


def limits() -> dict[str, int]:
    """The limits, for the web app (`contract.describe()`) and help texts."""
    return {
        "maxArchiveBytes": MAX_ARCHIVE_BYTES,
        "maxFiles": MAX_FILES,
        "maxFileBytes": MAX_FILE_BYTES,
        "maxTotalBytes": MAX_TOTAL_BYTES,
    }


# -- a skill's files --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class Skill:
    """A checked skill: its name and description, and its files by relative path."""

    name: str
    description: str
    files: Mapping[str, bytes]
    executable: frozenset[str] = frozenset()

    @property
    def size(self) -> int:
        return sum(len(data) for data in self.files.values())

    def archive(self) -> bytes:
        """The skill re-packed as .tar.gz: sorted, regular files, no owner, no time (the same
        skill always gives the same bytes, so its digest says whether it changed)."""
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for path in sorted(self.files):
                data = self.files[path]
                info = tarfile.TarInfo(path)
                info.size = len(data)
                info.mode = 0o755 if path in self.executable else 0o644
                info.mtime = 0
                tar.addfile(info, io.BytesIO(data))
        return gzip.compress(raw.getvalue(), mtime=0)


def _member_path(name: str) -> str | None:
    """The relative path an archive entry stands for; None for the archive's own root.
    Refuses an absolute path and any `..`."""
    if name.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", name) or "\\" in name:
        raise SkillError(f"the archive holds an absolute path: {name!r}")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise SkillError(f"the archive holds a path that leaves its folder: {name!r}")
    if "\0" in name:
        raise SkillError(f"the archive holds a path with a NUL byte: {name!r}")
    return "/".join(parts) or None


class _Collector:
    """Files gathered from an archive or folder, counted against the limits as they come."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.executable: set[str] = set()
        self.total = 0

    def add(self, path: str, data: bytes, *, executable: bool = False) -> None:
        if path in self.files:
            raise SkillError(f"the archive holds {path!r} twice")
        if len(self.files) >= MAX_FILES:
            raise SkillError(f"a skill may hold at most {MAX_FILES} files")
        if len(data) > MAX_FILE_BYTES:
            raise SkillError(
                f"{path} is {human_size(len(data))}: a skill's file may be at most "
                f"{human_size(MAX_FILE_BYTES)}"
            )
        self.total += len(data)
        if self.total > MAX_TOTAL_BYTES:
            raise SkillError(f"the skill unpacks to more than {human_size(MAX_TOTAL_BYTES)}")
        self.files[path] = data
        if executable:
            self.executable.add(path)

    def skill(self) -> Skill:
        files, executable = self.files, self.executable
        if SKILL_FILE not in files:
            # A folder archived with its own name around it: `my-skill/SKILL.md`.
            tops = {path.split("/", 1)[0] for path in files}
            if len(tops) == 1 and all("/" in path for path in files):
                top = tops.pop() + "/"
                files = {path.removeprefix(top): data for path, data in files.items()}
                executable = {path.removeprefix(top) for path in executable}
        if SKILL_FILE not in files:
            raise SkillError(f"there is no {SKILL_FILE} at the top of the skill")
        name, description = skill_identity(files[SKILL_FILE])
        return Skill(
            name=name, description=description, files=files, executable=frozenset(executable)
        )


def _read_limited(source: Any, path: str) -> bytes:
    data: bytes = source.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise SkillError(
            f"{path} is larger than {human_size(MAX_FILE_BYTES)}, the limit for a file"
        )
    return data


def read_archive(data: bytes) -> Skill:
    """A skill from a .zip or .tar.gz (or .tar) given as bytes."""
    if len(data) > MAX_ARCHIVE_BYTES:
        raise SkillError(
            f"the archive is {human_size(len(data))}: the limit is {human_size(MAX_ARCHIVE_BYTES)}"
        )
    if data.startswith(b"PK"):
        return _read_zip(data)
    return _read_tar(data)


def _read_zip(data: bytes) -> Skill:
    collector = _Collector()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise SkillError("the file is not a readable .zip archive") from None
    with archive:
        for info in archive.infolist():
            path = _member_path(info.filename)
            mode = info.external_attr >> 16
            kind = stat.S_IFMT(mode)
            if kind == stat.S_IFLNK:
                raise SkillError(f"the archive holds a link: {info.filename!r}")
            if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise SkillError(f"the archive holds a device or special file: {info.filename!r}")
            if info.is_dir() or kind == stat.S_IFDIR or path is None:
                continue
            if info.file_size > MAX_FILE_BYTES:
                raise SkillError(
                    f"{path} is {human_size(info.file_size)}: a skill's file may be at most "
                    f"{human_size(MAX_FILE_BYTES)}"
                )
            try:
                with archive.open(info) as source:
                    content = _read_limited(source, path)
            except (zipfile.BadZipFile, RuntimeError, OSError) as error:
                raise SkillError(f"{path} cannot be read from the archive: {error}") from None
            collector.add(path, content, executable=bool(mode & 0o111))
    return collector.skill()


def _read_tar(data: bytes) -> Skill:
    collector = _Collector()
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")  # noqa: SIM115 - closed below
    except (tarfile.TarError, EOFError, OSError):
        raise SkillError("the file is not a readable .zip, .tar.gz or .tar archive") from None
    with archive:
        try:
            for info in archive:
                path = _member_path(info.name)
                if info.issym() or info.islnk():
                    raise SkillError(f"the archive holds a link: {info.name!r}")
                if info.isdir() or path is None:
                    continue
                if not info.isreg():
                    raise SkillError(f"the archive holds a device or special file: {info.name!r}")
                if info.size > MAX_FILE_BYTES:
                    raise SkillError(
                        f"{path} is {human_size(info.size)}: a skill's file may be at most "
                        f"{human_size(MAX_FILE_BYTES)}"
                    )
                source = archive.extractfile(info)
                content = _read_limited(source, path) if source is not None else b""
                collector.add(path, content, executable=bool(info.mode & 0o111))
        except (tarfile.TarError, EOFError, OSError, zlib.error) as error:
            raise SkillError(f"the archive is damaged: {error}") from None
    return collector.skill()


def read_folder(folder: Path) -> Skill:
    """A skill from a folder on this machine (links and special files are refused, not
    followed)."""
    if not folder.is_dir():
        raise SkillError(f"{folder} is not a folder")
    collector = _Collector()
    for root, dirs, files in os.walk(folder, followlinks=False):
        for name in sorted([*dirs, *files]):
            full = Path(root) / name
            relative = full.relative_to(folder).as_posix()
            info = full.lstat()
            if stat.S_ISLNK(info.st_mode):
                raise SkillError(f"the folder holds a link: {relative}")
            if stat.S_ISDIR(info.st_mode):
                continue
            if not stat.S_ISREG(info.st_mode):
                raise SkillError(f"the folder holds a device or special file: {relative}")
            if info.st_size > MAX_FILE_BYTES:
                raise SkillError(
                    f"{relative} is {human_size(info.st_size)}: a skill's file may be at most "
                    f"{human_size(MAX_FILE_BYTES)}"
                )
            with full.open("rb") as source:
                content = _read_limited(source, relative)
            collector.add(relative, content, executable=bool(info.st_mode & 0o111))
    return collector.skill()


# -- SKILL.md ---------------------------------------------------------------------------------


def frontmatter(text: str) -> dict[str, str]:
    """The top-level `key: value` pairs of a `SKILL.md`'s YAML frontmatter (block scalars
    `>`/`|` folded to one line); {} when there is none."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or lines[0].strip() != "---":
        return {}
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() in ("---", "..."))
    except StopIteration:
        return {}
    values: dict[str, str] = {}
    key: str | None = None
    block: list[str] = []

    def close() -> None:
        if key is not None and block:
            values[key] = " ".join(part.strip() for part in block if part.strip())

    for line in lines[1:end]:
        match = re.match(r"([A-Za-z0-9_-]+):(?:\s+(.*))?$", line)
        if match and not line[:1].isspace():
            close()
            key, block = None, []
            raw = (match.group(2) or "").strip()
            if raw in (">", "|", ">-", "|-", ">+", "|+"):
                key = match.group(1)
                continue
            if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
                raw = raw[1:-1]
            values[match.group(1)] = raw
        elif key is not None:
            block.append(line)
    close()
    return values


def check_name(name: str) -> str:
    if not NAME_PATTERN.fullmatch(name):
        raise SkillError(
            f"{name!r} is not a skill name OpenClaw accepts: lowercase letters, digits and "
            "hyphens, up to 64 characters"
        )
    return name


def skill_identity(skill_md: bytes) -> tuple[str, str]:
    """(name, description) from a `SKILL.md`; refuses one without them or with a built-in's
    name."""
    try:
        text = skill_md.decode("utf-8")
    except UnicodeDecodeError:
        raise SkillError(f"{SKILL_FILE} is not UTF-8 text") from None
    values = frontmatter(text)
    if not values:
        raise SkillError(f"{SKILL_FILE} has no frontmatter (a --- block with name and description)")
    name = values.get("name", "").strip()
    description = values.get("description", "").strip()
    if not name:
        raise SkillError(f"{SKILL_FILE}'s frontmatter has no name")
    if not description:
        raise SkillError(f"{SKILL_FILE}'s frontmatter has no description")
    if len(description) > MAX_DESCRIPTION:
        raise SkillError(f"the description is longer than {MAX_DESCRIPTION} characters")
    check_name(name)
    if name in BUILT_IN_SKILLS:
        raise SkillError(
            f"{name!r} is the name of a built-in skill: OpenClaw would load its own; rename "
            "yours in its SKILL.md"
        )
    return name, description


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def unpack(archive: bytes, destination: Path) -> Skill:
    """Check `archive` again and write its files under `destination` (a new folder): folders
    0755, files 0644 or 0755, whatever the umask, so another user can read them."""
    skill = read_archive(archive)
    destination.mkdir(mode=0o755)
    destination.chmod(0o755)
    for path, data in skill.files.items():
        target = destination.joinpath(*PurePosixPath(path).parts)
        parent = target.parent
        missing = []
        while parent != destination and not parent.exists():
            missing.append(parent)
            parent = parent.parent
        for folder in reversed(missing):
            folder.mkdir(mode=0o755)
            folder.chmod(0o755)
        mode = 0o755 if path in skill.executable else 0o644
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, mode)
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as out:
            out.write(data)
    return skill


# -- where they are kept ----------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class StoredSkill:
    name: str
    description: str
    enabled: bool = True
    sha256: str
    size: int
    files: int
    added_at: float
    origin: str = "upload"
    """Where it came from: `upload` (a folder or archive) or `clawhub:SLUG`."""

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "enabled": self.enabled,
            "sha256": self.sha256,
            "size": self.size,
            "files": self.files,
            "addedAt": self.added_at,
            "origin": self.origin,
        }

    @classmethod
    def from_public(cls, data: Mapping[str, Any]) -> StoredSkill:
        return cls(
            name=str(data["name"]),
            description=str(data.get("description", "")),
            enabled=bool(data.get("enabled", True)),
            sha256=str(data["sha256"]),
            size=int(data.get("size", 0)),
            files=int(data.get("files", 0)),
            added_at=float(data.get("addedAt", 0)),
            origin=str(data.get("origin", "upload")),
        )


@dataclass(frozen=True, kw_only=True)
class SkillIndex:
    skills: dict[str, StoredSkill] = field(default_factory=dict)
    disabled_built_in: tuple[str, ...] = ()

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "version": 1,
                "skills": [self.skills[name].public() for name in sorted(self.skills)],
                "disabledBuiltIn": sorted(self.disabled_built_in),
            },
            indent=1,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> SkillIndex:
        data = json.loads(raw)
        skills = [StoredSkill.from_public(item) for item in data.get("skills") or []]
        return cls(
            skills={item.name: item for item in skills},
            disabled_built_in=tuple(str(n) for n in data.get("disabledBuiltIn") or []),
        )

    def enabled(self) -> list[StoredSkill]:
        return [self.skills[name] for name in sorted(self.skills) if self.skills[name].enabled]


@dataclass(frozen=True, kw_only=True)
class AgentReport:
    """What OpenClaw said it loaded (`skills.status`), as the bridge last asked it."""

    reported_at: float
    skills: list[dict[str, Any]]

    def public(self) -> dict[str, Any]:
        return {"reportedAt": self.reported_at, "skills": self.skills}

    def find(self, name: str) -> dict[str, Any] | None:
        return next((item for item in self.skills if item.get("name") == name), None)


def report_from_status(status: Any, *, now: float) -> AgentReport:
    """The parts of OpenClaw's `skills.status` answer (or `skills list --json`) we keep."""
    items = status.get("skills") if isinstance(status, Mapping) else None
    kept = []
    for item in items or []:
        if isinstance(item, Mapping) and isinstance(item.get("name"), str):
            kept.append(
                {
                    "name": item["name"],
                    "source": str(item.get("source", "")),
                    "eligible": bool(item.get("eligible", False)),
                    "disabled": bool(item.get("disabled", False)),
                }
            )
    return AgentReport(reported_at=now, skills=kept)


def _code(error: Exception) -> str:
    response = getattr(error, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


class SkillStore:
    """The owner's skills in the state bucket (an S3 client and the bucket's name)."""

    def __init__(self, s3: Any, bucket: str) -> None:
        self._s3 = s3
        self.bucket = bucket

    def index(self) -> SkillIndex:
        changed = self.index_if_changed(None)
        return changed[0] if changed else SkillIndex()

    def index_if_changed(self, etag: str | None) -> tuple[SkillIndex, str] | None:
        """The index and its ETag, or None when it still has `etag`. No index: empty, ETag ""."""
        from botocore.exceptions import ClientError

        try:
            kwargs: dict[str, Any] = {"Bucket": self.bucket, "Key": INDEX_KEY}
            if etag:
                kwargs["IfNoneMatch"] = etag
            answer = self._s3.get_object(**kwargs)
        except ClientError as error:
            code = _code(error)
            if code in ("304", "NotModified"):
                return None
            if code in ("NoSuchKey", "404"):
                return (SkillIndex(), "") if etag != "" else None
            raise
        return SkillIndex.from_json(answer["Body"].read()), str(answer.get("ETag", ""))

    def ensure(self) -> None:
        """Create the empty index and report where they are missing (puts that only create).

        S3 answers a missing key with 403, not 404, to a role that may not list the bucket (the
        API's role may not: it has no business with the other keys' names), so the API makes
        sure both exist before it reads them."""
        from botocore.exceptions import ClientError

        empty = json.dumps({"reportedAt": None, "skills": []}).encode()
        for key, body in ((INDEX_KEY, SkillIndex().to_json()), (REPORT_KEY, empty)):
            try:
                self._s3.put_object(
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ContentType="application/json",
                    IfNoneMatch="*",
                )
            except ClientError as error:
                if _code(error) not in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                    raise

    def _save(self, index: SkillIndex) -> None:
        self._s3.put_object(
            Bucket=self.bucket,
            Key=INDEX_KEY,
            Body=index.to_json(),
            ContentType="application/json",
        )

    def add(self, skill: Skill, *, now: float, origin: str = "upload") -> StoredSkill:
        """Keep `skill` (replacing one of the same name, enabled again)."""
        archive = skill.archive()
        stored = StoredSkill(
            name=skill.name,
            description=skill.description,
            sha256=sha256(archive),
            size=skill.size,
            files=len(skill.files),
            added_at=now,
            origin=origin,
        )
        self._s3.put_object(
            Bucket=self.bucket,
            Key=archive_key(skill.name),
            Body=archive,
            ContentType="application/gzip",
        )
        index = self.index()
        self._save(replace(index, skills={**index.skills, skill.name: stored}))
        return stored

    def remove(self, name: str) -> StoredSkill | None:
        index = self.index()
        stored = index.skills.get(name)
        if stored is None:
            return None
        remaining = {key: value for key, value in index.skills.items() if key != name}
        self._save(replace(index, skills=remaining))
        self._s3.delete_object(Bucket=self.bucket, Key=archive_key(name))
        return stored

    def set_enabled(self, name: str, enabled: bool) -> str | None:
        """Turn a skill on or off; "owner" or "built-in" for whose it is, None if unknown."""
        index = self.index()
        if name in index.skills:
            skills = {**index.skills, name: replace(index.skills[name], enabled=enabled)}
            self._save(replace(index, skills=skills))
            return "owner"
        if name in BUILT_IN_SKILLS:
            disabled = set(index.disabled_built_in)
            (disabled.discard if enabled else disabled.add)(name)
            self._save(replace(index, disabled_built_in=tuple(sorted(disabled))))
            return "built-in"
        return None

    def archive(self, name: str) -> bytes:
        answer = self._s3.get_object(Bucket=self.bucket, Key=archive_key(name))
        data: bytes = answer["Body"].read()
        return data

    def report(self) -> AgentReport | None:
        from botocore.exceptions import ClientError

        try:
            answer = self._s3.get_object(Bucket=self.bucket, Key=REPORT_KEY)
        except ClientError as error:
            if _code(error) in ("NoSuchKey", "404"):
                return None
            raise
        data = json.loads(answer["Body"].read())
        if data.get("reportedAt") is None:
            return None  # made by `ensure`: the agent has not reported yet
        return AgentReport(
            reported_at=float(data.get("reportedAt", 0)), skills=list(data.get("skills") or [])
        )

    def put_report(self, report: AgentReport) -> None:
        self._s3.put_object(
            Bucket=self.bucket,
            Key=REPORT_KEY,
            Body=json.dumps(report.public()).encode(),
            ContentType="application/json",
        )


def archive_key(name: str) -> str:
    return f"{ARCHIVES}{check_name(name)}.tar.gz"


# -- the list the owner sees ------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SkillRow:
    name: str
    description: str
    source: str
    """"owner" (added by the owner) or "built-in" (shipped with OpenClaw)."""
    enabled: bool
    loaded: bool | None = None
    """Whether the running agent last reported it ready to use; None: no report yet."""
    origin: str | None = None
    added_at: float | None = None

    def public(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "source": self.source,
            "enabled": self.enabled,
            "loaded": self.loaded,
            "origin": self.origin,
            "addedAt": self.added_at,
        }


def rows(index: SkillIndex, report: AgentReport | None) -> list[SkillRow]:
    """The owner's skills first, then the built-in ones, each with what the agent reported."""

    def loaded(name: str, owner: bool) -> bool | None:
        if report is None:
            return None
        seen = report.find(name)
        if seen is None:
            return False
        if owner and seen.get("source") != OWNER_SOURCE:
            return False
        return bool(seen.get("eligible")) and not seen.get("disabled")

    owner = [
        SkillRow(
            name=item.name,
            description=item.description,
            source="owner",
            enabled=item.enabled,
            loaded=loaded(item.name, True),
            origin=item.origin,
            added_at=item.added_at,
        )
        for item in (index.skills[n] for n in sorted(index.skills))
    ]
    disabled = set(index.disabled_built_in)
    built_in = [
        SkillRow(
            name=name,
            description=description,
            source="built-in",
            enabled=name not in disabled,
            loaded=loaded(name, False),
        )
        for name, description in sorted(BUILT_IN_SKILLS.items())
    ]
    return owner + built_in


def entries_config(disabled: Iterable[str]) -> dict[str, Any]:
    """OpenClaw's `skills.entries` turning the given skills off."""
    return {name: {"enabled": False} for name in sorted(set(disabled))}
