"""The agent's own state (OpenClaw's databases, sessions, workspace, skills) in S3.

Backups are OpenClaw's own archives (`openclaw backup create --verify`): it snapshots its SQLite
databases online, skips caches and regenerable trees, and keeps the config's `${VAR}`
placeholders rather than their values. One object key in a versioned bucket holds the latest
archive; S3 versions are the history.

Restore runs before OpenClaw starts: the download is extracted into a fresh staging folder as
it arrives and verified (`openclaw_bridge.agent_state` says how; an archive it does not know goes
through `openclaw backup restore`), then the archived state folder is moved into place. The
state folder has the same path in every task, so paths recorded inside the state stay valid.

The state is the agent's, and so are the `openclaw backup` runs: `openclaw_bridge.agent_state`
does them as the agent's user (`AgentRunner`), and the archive passes between it and the bridge
(which alone talks to S3) through a pipe. Neither reads the other's files.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Final

from botocore.exceptions import ClientError

from openclaw_bridge.agent import AgentRunner
from openclaw_bridge.agent_state import RESULT_PREFIX

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
    method: str = ""
    """How it was restored: "extract" (the bridge's own) or "openclaw" (`backup restore`)."""


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
        agent_scratch_dir: Path | None = None,
        runner: AgentRunner | None = None,
    ) -> None:
        self._s3 = s3_client
        self._bucket = bucket
        self._key = key
        self._command = openclaw_command
        self._env = dict(env)
        # The helper is the bridge's own code, run by the same interpreter as the agent's user.
        if "PYTHONPATH" in os.environ:
            self._env.setdefault("PYTHONPATH", os.environ["PYTHONPATH"])
        self.state_dir = state_dir
        self._scratch = scratch_dir
        self._agent_scratch = agent_scratch_dir or scratch_dir
        self._runner = runner or AgentRunner()
        self._lock = threading.Lock()

    def _helper(
        self, args: list[str], *, stdin: int, stdout: int | IO[bytes]
    ) -> subprocess.Popen[bytes]:
        argv = [sys.executable, "-m", "openclaw_bridge.agent_state", args[0]]
        argv += [json.dumps(self._command), *args[1:]]
        return subprocess.Popen(
            self._runner.command(argv),
            env=self._env,
            cwd="/",
            stdin=stdin,
            stdout=stdout,
            stderr=subprocess.PIPE,
        )

    def _finish(
        self,
        proc: subprocess.Popen[bytes],
        what: str,
        timeout: float,
        out: list[bytes] | None = None,
    ) -> str:
        """Wait for the helper; its stderr (its stdout appended to `out`). A helper over time
        is killed (as the agent)."""
        try:
            stdout, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._runner.signal(proc.pid, signal.SIGKILL)
            proc.communicate(timeout=10)
            raise StateError(f"{what} took longer than {timeout:.0f} s") from None
        if out is not None and stdout:
            out.append(stdout)
        text = err.decode("utf-8", "replace").strip()
        if proc.returncode != 0:
            last = text.splitlines()[-1] if text else f"exit {proc.returncode}"
            raise StateError(last)
        return text

    # -- restore -------------------------------------------------------------------------------

    def restore(self, *, timeout: float = 120.0) -> RestoreResult:
        """Put the latest backup in place of the state folder; restored=False when none exists."""
        started = time.monotonic()
        with self._lock:
            try:
                answer = self._s3.get_object(Bucket=self._bucket, Key=self._key)
            except ClientError as error:
                info = error.response.get("Error", {})
                code = info.get("Code")
                if code in ("NoSuchKey", "404", "NotFound"):
                    return RestoreResult(restored=False, seconds=time.monotonic() - started)
                raise StateError(
                    f"could not download the state backup: {code} on s3:GetObject"
                    + (f": {info['Message']}" if info.get("Message") else "")
                ) from None
            proc = self._helper(
                ["restore", str(self.state_dir), str(self._agent_scratch / "restore")],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
            )
            assert proc.stdin is not None
            size = 0
            try:
                for chunk in answer["Body"].iter_chunks(4 * 1024 * 1024):
                    proc.stdin.write(chunk)
                    size += len(chunk)
                proc.stdin.close()
            except BrokenPipeError:
                pass  # the helper failed early: its stderr says why
            except BaseException:
                with contextlib.suppress(OSError):
                    proc.stdin.close()
                self._runner.signal(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
                raise
            proc.stdin = None  # written and closed: communicate() must not flush it again
            downloaded = time.monotonic()
            printed: list[bytes] = []
            self._finish(proc, "restoring the state", timeout, printed)
        method = ""
        with contextlib.suppress(ValueError, AttributeError, IndexError):
            result = json.loads(b"".join(printed).decode().strip().splitlines()[-1])
            method = str(result.get("method") or "")
            if result.get("handed_over"):
                log.info("restore left to OpenClaw's own: %s", result["handed_over"])
        return RestoreResult(
            method=method,
            restored=True,
            seconds=time.monotonic() - started,
            download_seconds=downloaded - started,
            archive_bytes=size,
            version_id=answer.get("VersionId"),
        )

    # -- backup --------------------------------------------------------------------------------

    def backup(self, *, timeout: float = 90.0) -> BackupResult:
        """Archive the state with OpenClaw's online backup and upload it (replacing the latest)."""
        started = time.monotonic()
        with self._lock:
            out = self._scratch / "upload"  # not the helper's folder: the two may share one
            shutil.rmtree(out, ignore_errors=True)
            out.mkdir(parents=True, mode=0o700)
            try:
                archive = out / ARCHIVE_NAME
                with archive.open("wb") as sink:
                    proc = self._helper(
                        ["backup", str(self._agent_scratch / "backup")],
                        stdin=subprocess.DEVNULL,
                        stdout=sink,
                    )
                    text = self._finish(proc, "the state backup", timeout)
                created_at = ""
                for line in reversed(text.splitlines()):
                    if line.startswith(RESULT_PREFIX):
                        with contextlib.suppress(ValueError, AttributeError):
                            created_at = str(
                                json.loads(line[len(RESULT_PREFIX) :]).get("created_at") or ""
                            )
                        break
                size = archive.stat().st_size
                if size == 0:
                    raise StateError("`openclaw backup create` gave an empty archive")
                with archive.open("rb") as body:  # streamed from disk (one PUT, up to 5 GB)
                    answer = self._s3.put_object(
                        Bucket=self._bucket,
                        Key=self._key,
                        Body=body,
                        ContentType=CONTENT_TYPE,
                        Metadata={"created-at": created_at},
                    )
            finally:
                shutil.rmtree(out, ignore_errors=True)
        return BackupResult(
            seconds=time.monotonic() - started,
            archive_bytes=size,
            version_id=answer.get("VersionId"),
        )
