"""The agent's half of a backup or restore, run as the agent's user by the bridge.

OpenClaw's state belongs to the agent's user, and the bridge (another user, holding the secrets)
neither reads nor writes it. The bridge runs this module as the agent (`AgentRunner.command`)
and the archive crosses between the two only through a pipe:

    python -m openclaw_bridge.agent_state restore OPENCLAW_CMD_JSON STATE_DIR WORK < archive
        extracts the archive into WORK as it arrives and verifies it (below), then the archived
        state folder (found through the archive's manifest) replaces STATE_DIR; prints a JSON
        result.
    python -m openclaw_bridge.agent_state backup OPENCLAW_CMD_JSON WORK > archive
        `openclaw backup create --verify` into WORK; writes the archive on stdout and a JSON
        result as the last line of stderr.

Exit status 0 on success; otherwise the last line of stderr says why (one line, for the log).

Restore is on the cold start's path, and `openclaw backup restore` is a second Node process that
loads OpenClaw's CLI and re-reads the archive to verify it: seconds of CPU on a 0.5 vCPU task.
So the restore does what it does in this interpreter, while the archive is still arriving, and
keeps a verification of its own: every entry is a plain folder, file or link inside the one
archive root (no absolute path, no `..`, no device, no link leading out, no set-id bit), the
extracted size is bounded, the manifest is the one OpenClaw writes (schema 1, its root, exactly
one state asset at the path OpenClaw derives from its source path), and every SQLite database
in the state passes `PRAGMA quick_check`. An archive of another manifest schema goes through
`openclaw backup restore` as before (the archive is kept on disk for that).
"""

from __future__ import annotations

import json
import posixpath
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, Final, cast

ARCHIVE_NAME: Final = "openclaw-state.tar.gz"
RESULT_PREFIX: Final = "result: "
EXIT_FAILED: Final = 1
OPENCLAW_TIMEOUT_SECONDS: Final = 300.0
MANIFEST_NAME: Final = "manifest.json"
MANIFEST_SCHEMA: Final = 1
MANIFEST_MAX_BYTES: Final = 4 * 1024 * 1024
# OpenClaw refuses archives that inflate more than this (BACKUP_MAX_DECOMPRESSION_RATIO).
MAX_INFLATION_RATIO: Final = 1100
MAX_EXTRACTED_BYTES: Final = 16 * 1024**3
CHUNK_BYTES: Final = 4 * 1024 * 1024
SQLITE_SUFFIXES: Final = (".sqlite", ".sqlite3", ".db")
SQLITE_HEADER: Final = b"SQLite format 3\x00"


class AgentStateError(RuntimeError):
    pass


def run_openclaw(command: list[str], args: list[str], *, cwd: Path) -> dict[str, Any]:
    """Run `openclaw backup ...` with `--json`; its JSON result."""
    what = f"`openclaw {args[0]} {args[1]}`"
    try:
        result = subprocess.run(
            [*command, *args, "--json"],
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=OPENCLAW_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise AgentStateError(f"{what} took longer than {OPENCLAW_TIMEOUT_SECONDS:.0f} s") from None
    if result.returncode != 0:
        lines = (result.stderr or result.stdout).strip().splitlines()
        raise AgentStateError(
            f"{what} failed (exit {result.returncode}): " + " / ".join(lines[-3:])
        )
    try:
        data = json.loads(result.stdout[result.stdout.find("{") :])
    except ValueError:
        raise AgentStateError(f"{what} printed no JSON result") from None
    if not isinstance(data, dict):
        raise AgentStateError(f"{what} printed an unexpected result")
    return data


def state_asset(target: Path, result: Mapping[str, Any]) -> Path:
    """The extracted state folder, found through the archive's manifest (never guessed)."""
    root = str(result.get("archiveRoot") or "")
    manifest_path = target / root / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        raise AgentStateError("the restored archive has no readable manifest") from None
    for asset in manifest.get("assets") or []:
        if isinstance(asset, dict) and asset.get("kind") == "state":
            path = target / str(asset.get("archivePath") or "")
            if path.is_dir():
                return path
    raise AgentStateError("the backup archive holds no OpenClaw state folder")


def activate(state_dir: Path, source: Path) -> None:
    """Swap the restored state folder in (a rename: the same file system)."""
    state_dir.parent.mkdir(parents=True, exist_ok=True)
    old = state_dir.with_name(state_dir.name + ".replaced")
    shutil.rmtree(old, ignore_errors=True)
    if state_dir.exists():
        state_dir.rename(old)
    source.rename(state_dir)
    shutil.rmtree(old, ignore_errors=True)


class _Tee:
    """A read-only stream that keeps a copy of what is read (for the fallback) and counts it."""

    def __init__(self, source: IO[bytes], copy: IO[bytes]) -> None:
        self._source = source
        self._copy = copy
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        if data:
            self._copy.write(data)
            self.bytes_read += len(data)
        return data


class NeedsOpenClawRestoreError(AgentStateError):
    """An archive this restore leaves to OpenClaw's own (another manifest schema, a link that
    leads out of the archive, which OpenClaw records and recreates)."""


def _member_path(name: str) -> str:
    """An entry's path, normalized; refused when it could leave the extraction folder."""
    if not name or name.startswith("/") or "\x00" in name:
        raise AgentStateError(f"the backup archive holds an unsafe path: {name!r}")
    normalized = posixpath.normpath(name)
    if normalized == ".." or normalized.startswith("../") or normalized == ".":
        raise AgentStateError(f"the backup archive holds an unsafe path: {name!r}")
    return normalized


def _check_member(member: tarfile.TarInfo, root: str | None) -> str:
    """The archive root this entry is under; raises for anything but a safe folder, file or
    link inside it."""
    path = _member_path(member.name)
    top = path.split("/", 1)[0]
    if root is not None and top != root:
        raise AgentStateError(f"the backup archive has more than one root ({root!r}, {top!r})")
    if (
        member.isdev()
        or member.isfifo()
        or not (member.isfile() or member.isdir() or member.issym() or member.islnk())
    ):
        raise AgentStateError(f"the backup archive holds a special file: {path}")
    if member.issym() or member.islnk():
        target = member.linkname
        base = posixpath.dirname(path) if member.issym() else ""
        resolved = posixpath.normpath(posixpath.join(base, target))
        if (
            target.startswith("/")
            or resolved == ".."
            or resolved.startswith("../")
            or resolved.split("/", 1)[0] != top
        ):
            if member.islnk():
                raise AgentStateError(f"the backup archive links out of itself: {path}")
            raise NeedsOpenClawRestoreError(f"a link out of the archive: {path}")
    # No set-id or sticky bit, nothing others may write: the agent's own files.
    member.mode &= 0o755
    return top


def extract(stream: _Tee, target: Path) -> str:
    """Extract a gzip tar from `stream` into `target` as it arrives; the archive's root folder."""
    target.mkdir(parents=True, exist_ok=True)
    root: str | None = None
    extracted = 0
    # Python's own extraction filter where it has one (3.11.4+), besides the checks above.
    options: dict[str, Any] = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
    source = cast("IO[bytes]", stream)
    with tarfile.open(fileobj=source, mode="r|gz", bufsize=64 * 1024) as archive:
        # A large copy buffer: the stream's read buffer is copied on every read, so the default
        # 16 KB reads of a large file cost seconds of CPU; 4 MB reads cost next to nothing.
        archive.copybufsize = CHUNK_BYTES  # type: ignore[attr-defined]  # (missing in the stubs)
        for member in archive:
            root = _check_member(member, root)
            extracted += max(0, member.size)
            if extracted > MAX_EXTRACTED_BYTES or extracted > MAX_INFLATION_RATIO * max(
                stream.bytes_read, 64 * 1024
            ):
                raise AgentStateError("the backup archive inflates beyond its limits")
            if member.name.endswith(MANIFEST_NAME) and member.size > MANIFEST_MAX_BYTES:
                raise AgentStateError("the backup archive's manifest is too large")
            archive.extract(member, target, set_attrs=True, **options)
    if root is None:
        raise AgentStateError("the backup archive is empty")
    return root


def verify(target: Path, root: str) -> Path:
    """Check the extracted archive as OpenClaw's manifest describes it; the state folder."""
    try:
        manifest = json.loads((target / root / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise AgentStateError("the restored archive has no readable manifest") from None
    if not isinstance(manifest, dict):
        raise AgentStateError("the backup manifest is not an object")
    if manifest.get("schemaVersion") != MANIFEST_SCHEMA:
        raise NeedsOpenClawRestoreError(
            f"backup manifest schema {manifest.get('schemaVersion')!r} (known: {MANIFEST_SCHEMA})"
        )
    if manifest.get("archiveRoot") != root:
        raise AgentStateError("the backup manifest names another archive root")
    states = [a for a in manifest.get("assets") or [] if isinstance(a, dict)]
    states = [a for a in states if a.get("kind") == "state"]
    if len(states) != 1:
        raise AgentStateError(f"the backup manifest has {len(states)} state folders, not one")
    source = str(states[0].get("sourcePath") or "")
    archive_path = _member_path(str(states[0].get("archivePath") or ""))
    # As OpenClaw builds it (buildBackupArchivePath): <root>/payload/posix/<absolute source>.
    if not source.startswith("/") or archive_path != posixpath.normpath(
        f"{root}/payload/posix{source}"
    ):
        raise AgentStateError("the backup manifest's state path does not match its source")
    state = target / archive_path
    if not state.is_dir() or state.is_symlink():
        raise AgentStateError("the backup archive holds no OpenClaw state folder")
    check_databases(state)
    return state


def check_databases(state: Path) -> None:
    """`PRAGMA quick_check` on every SQLite database in the state (read-only, immutable)."""
    for path in sorted(state.rglob("*")):
        if not path.name.endswith(SQLITE_SUFFIXES) or not path.is_file() or path.is_symlink():
            continue
        with path.open("rb") as file:
            if file.read(len(SQLITE_HEADER)) != SQLITE_HEADER:
                continue
        relative = path.relative_to(state)
        try:
            connection = sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True)
            try:
                rows = connection.execute("PRAGMA quick_check").fetchall()
            finally:
                connection.close()
        except sqlite3.Error as error:
            raise AgentStateError(f"the backup's database {relative} is damaged: {error}") from None
        if rows != [("ok",)]:
            raise AgentStateError(f"the backup's database {relative} is damaged: {rows[0][0]}")


def restore(
    command: list[str], state_dir: Path, work: Path, source: IO[bytes] | None = None
) -> dict[str, Any]:
    """Restore the archive read from `source` (stdin) in place of `state_dir`."""
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        archive = work / ARCHIVE_NAME
        target = work / "extracted"
        handed_over: str | None = None
        root = ""
        with archive.open("wb") as copy:
            tee = _Tee(source or sys.stdin.buffer, copy)
            try:
                root = extract(tee, target)
            except NeedsOpenClawRestoreError as why:
                handed_over = str(why)
            except (tarfile.TarError, EOFError, zlib.error) as error:
                raise AgentStateError(f"the backup archive is damaged: {error}") from None
            while tee.read(CHUNK_BYTES):  # the rest of the stream (kept for OpenClaw's restore)
                pass
        if handed_over is None:
            try:
                state = verify(target, root)
            except NeedsOpenClawRestoreError as why:
                handed_over = str(why)
        if handed_over is not None:
            shutil.rmtree(target, ignore_errors=True)
            data = run_openclaw(
                command, ["backup", "restore", str(archive), "--target", str(target)], cwd=work
            )
            state = state_asset(target, data)
        activate(state_dir, state)
        return {
            "restored": True,
            "archive_bytes": archive.stat().st_size,
            "method": "openclaw" if handed_over else "extract",
            **({"handed_over": handed_over} if handed_over else {}),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def backup(command: list[str], work: Path) -> dict[str, Any]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        data = run_openclaw(
            command, ["backup", "create", "--output", str(work), "--verify"], cwd=work
        )
        archive = Path(str(data.get("archivePath") or ""))
        if not archive.is_file():
            raise AgentStateError("`openclaw backup create` reported no archive")
        with archive.open("rb") as source:
            shutil.copyfileobj(source, sys.stdout.buffer, length=4 * 1024 * 1024)
        sys.stdout.buffer.flush()
        return {"archive_bytes": archive.stat().st_size, "created_at": data.get("createdAt")}
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    try:
        if len(args) == 4 and args[0] == "restore":
            result = restore(json.loads(args[1]), Path(args[2]), Path(args[3]))
            sys.stdout.write(json.dumps(result) + "\n")
        elif len(args) == 3 and args[0] == "backup":
            result = backup(json.loads(args[1]), Path(args[2]))
            sys.stderr.write(RESULT_PREFIX + json.dumps(result) + "\n")
        else:
            sys.stderr.write("usage: agent_state restore|backup OPENCLAW_CMD_JSON ...\n")
            return EXIT_FAILED
    except (AgentStateError, OSError, ValueError) as error:
        sys.stderr.write(f"{error}\n")
        return EXIT_FAILED
    return 0


if __name__ == "__main__":
    sys.exit(main())
