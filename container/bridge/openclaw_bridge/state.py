"""The agent's own state (OpenClaw's databases, sessions, workspace, skills) in S3.

Backups are OpenClaw's own archives (`openclaw backup create --verify`): it snapshots its SQLite
databases online, skips caches and regenerable trees, and keeps the config's `${VAR}`
placeholders rather than their values. One object key in a versioned bucket holds the latest
archive; S3 versions are the history.

Restore runs before OpenClaw starts: download, `openclaw backup restore` into a fresh staging
folder (it verifies the archive first), then move the archived state folder into place. The
state folder has the same path in every task, so paths recorded inside the state stay valid.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_s3 import S3Client

log = logging.getLogger("openclaw_bridge.state")

ARCHIVE_NAME: Final = "openclaw-state.tar.gz"
CONTENT_TYPE: Final = "application/gzip"


class StateError(RuntimeError):
    """A backup or restore failed; the message says which step and why."""


@dataclass(frozen=True, kw_only=True)
class RestoreResult:
    restored: bool
    seconds: float
    download_seconds: float = 0.0
    archive_bytes: int = 0
    version_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class BackupResult:
    seconds: float
    archive_bytes: int
    version_id: str | None


class StateStore:
    def __init__(
        self,
        s3_client: S3Client,
        *,
        bucket: str,
        key: str,
        openclaw_command: list[str],
        env: Mapping[str, str],
        state_dir: Path,
        scratch_dir: Path,
    ) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._key = key
        self._command = openclaw_command
        self._env = dict(env)
        self.state_dir = state_dir
        self._scratch = scratch_dir
        self._lock = threading.Lock()

    def _openclaw(self, args: list[str], *, timeout: float) -> dict[str, Any]:
        """Run an `openclaw backup ...` command with `--json`; its JSON result."""
        try:
            result = subprocess.run(
                [*self._command, *args, "--json"],
                env=self._env,
                cwd=self._scratch,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            what = f"`openclaw {args[0]} {args[1]}`"
            raise StateError(f"{what} took longer than {timeout:.0f} s") from None
        if result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines()
            raise StateError(
                f"`openclaw {args[0]} {args[1]}` failed (exit {result.returncode}): "
                + " / ".join(lines[-3:])
            )
        try:
            data = json.loads(result.stdout[result.stdout.find("{") :])
        except ValueError:
            raise StateError(f"`openclaw {args[0]} {args[1]}` printed no JSON result") from None
        if not isinstance(data, dict):
            raise StateError(f"`openclaw {args[0]} {args[1]}` printed an unexpected result")
        return data

    # -- restore -------------------------------------------------------------------------------

    def restore(self, *, timeout: float = 120.0) -> RestoreResult:
        """Put the latest backup in place of the state folder; restored=False when none exists."""
        started = time.monotonic()
        with self._lock:
            work = self._scratch / "restore"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            archive = work / ARCHIVE_NAME
            try:
                answer = self._s3.get_object(Bucket=self._bucket, Key=self._key)
            except ClientError as error:
                info = error.response.get("Error", {})
                code = info.get("Code")
                if code in ("NoSuchKey", "404", "NotFound"):
                    shutil.rmtree(work, ignore_errors=True)
                    return RestoreResult(restored=False, seconds=time.monotonic() - started)
                raise StateError(
                    f"could not download the state backup: {code} on s3:GetObject"
                    + (f": {info['Message']}" if info.get("Message") else "")
                ) from None
            with archive.open("wb") as out:
                shutil.copyfileobj(answer["Body"], out, length=4 * 1024 * 1024)
            downloaded = time.monotonic()
            target = work / "extracted"
            data = self._openclaw(
                ["backup", "restore", str(archive), "--target", str(target)], timeout=timeout
            )
            source = _state_asset(target, data)
            self._activate(source)
            size = archive.stat().st_size
            shutil.rmtree(work, ignore_errors=True)
        return RestoreResult(
            restored=True,
            seconds=time.monotonic() - started,
            download_seconds=downloaded - started,
            archive_bytes=size,
            version_id=answer.get("VersionId"),
        )

    def _activate(self, source: Path) -> None:
        """Swap the restored state folder in (a rename: the same file system)."""
        self.state_dir.parent.mkdir(parents=True, exist_ok=True)
        old = self.state_dir.with_name(self.state_dir.name + ".replaced")
        shutil.rmtree(old, ignore_errors=True)
        if self.state_dir.exists():
            self.state_dir.rename(old)
        source.rename(self.state_dir)
        shutil.rmtree(old, ignore_errors=True)

    # -- backup --------------------------------------------------------------------------------

    def backup(self, *, timeout: float = 90.0) -> BackupResult:
        """Archive the state with OpenClaw's online backup and upload it (replacing the latest)."""
        started = time.monotonic()
        with self._lock:
            out = self._scratch / "backup"
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True)
            try:
                data = self._openclaw(
                    ["backup", "create", "--output", str(out), "--verify"], timeout=timeout
                )
                archive = Path(str(data.get("archivePath") or ""))
                if not archive.is_file():
                    raise StateError("`openclaw backup create` reported no archive")
                size = archive.stat().st_size
                with archive.open("rb") as body:  # streamed from disk (one PUT, up to 5 GB)
                    answer = self._s3.put_object(
                        Bucket=self._bucket,
                        Key=self._key,
                        Body=body,
                        ContentType=CONTENT_TYPE,
                        Metadata={"created-at": str(data.get("createdAt") or "")},
                    )
            finally:
                shutil.rmtree(out, ignore_errors=True)
        return BackupResult(
            seconds=time.monotonic() - started,
            archive_bytes=size,
            version_id=answer.get("VersionId"),
        )


def _state_asset(target: Path, result: Mapping[str, Any]) -> Path:
    """The extracted state folder, found through the archive's manifest (never guessed)."""
    root = str(result.get("archiveRoot") or "")
    manifest_path = target / root / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text())
    except (OSError, ValueError):
        raise StateError("the restored archive has no readable manifest") from None
    for asset in manifest.get("assets") or []:
        if isinstance(asset, dict) and asset.get("kind") == "state":
            path = target / str(asset.get("archivePath") or "")
            if path.is_dir():
                return path
    raise StateError("the backup archive holds no OpenClaw state folder")
