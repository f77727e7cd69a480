"""The agent's half of a backup or restore, run as the agent's user by the bridge.

OpenClaw's state belongs to the agent's user, and the bridge (another user, holding the secrets)
neither reads nor writes it. The bridge runs this module as the agent (`AgentRunner.command`)
and the archive crosses between the two only through a pipe:

    python -m openclaw_bridge.agent_state restore OPENCLAW_CMD_JSON STATE_DIR WORK < archive
        `openclaw backup restore` into WORK, then the archived state folder (found through the
        archive's manifest) replaces STATE_DIR; prints a JSON result.
    python -m openclaw_bridge.agent_state backup OPENCLAW_CMD_JSON WORK > archive
        `openclaw backup create --verify` into WORK; writes the archive on stdout and a JSON
        result as the last line of stderr.

Exit status 0 on success; otherwise the last line of stderr says why (one line, for the log).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

ARCHIVE_NAME: Final = "openclaw-state.tar.gz"
RESULT_PREFIX: Final = "result: "
EXIT_FAILED: Final = 1
OPENCLAW_TIMEOUT_SECONDS: Final = 300.0


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


def restore(command: list[str], state_dir: Path, work: Path) -> dict[str, Any]:
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        archive = work / ARCHIVE_NAME
        with archive.open("wb") as out:
            shutil.copyfileobj(sys.stdin.buffer, out, length=4 * 1024 * 1024)
        target = work / "extracted"
        data = run_openclaw(
            command, ["backup", "restore", str(archive), "--target", str(target)], cwd=work
        )
        activate(state_dir, state_asset(target, data))
        return {"restored": True, "archive_bytes": archive.stat().st_size}
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
