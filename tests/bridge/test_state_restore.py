"""The bridge's own restore of a state archive: extracted as it arrives, verified, handed to
OpenClaw's restore only for what it does not know (openclaw_bridge.agent_state)."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import tarfile
from pathlib import Path

import pytest

from openclaw_bridge.agent_state import AgentStateError, restore

ROOT = "2026-11-30T10-00-00.000+00-00-openclaw-backup"
SOURCE = "/home/openclaw/agent/state"
PAYLOAD = f"{ROOT}/payload/posix{SOURCE}"
# Fails if it runs: these archives must never reach OpenClaw's restore.
NO_OPENCLAW = ["false"]


def _database(tmp_path: Path) -> bytes:
    path = tmp_path / "made.sqlite"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (v TEXT)")
        db.execute("INSERT INTO t VALUES ('kept')")
    db.close()
    data = path.read_bytes()
    path.unlink()
    return data


def _manifest(**changes: object) -> bytes:
    manifest: dict[str, object] = {
        "schemaVersion": 1,
        "archiveRoot": ROOT,
        "assets": [{"kind": "state", "sourcePath": SOURCE, "archivePath": PAYLOAD}],
    }
    manifest.update(changes)
    return json.dumps(manifest).encode()


def _archive(entries: list[tuple[str, bytes | None, dict[str, object]]]) -> bytes:
    """A gzip tar laid out as OpenClaw's: entries (name, file content or None for a folder,
    extra TarInfo attributes)."""
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, content, extra in entries:
            info = tarfile.TarInfo(name)
            if content is None and "type" not in extra:
                info.type = tarfile.DIRTYPE
                info.mode = 0o755
            else:
                info.size = len(content or b"")
                info.mode = 0o644
            for key, value in extra.items():
                setattr(info, key, value)
            tar.addfile(info, io.BytesIO(content or b"") if content else None)
    return out.getvalue()


def _good(tmp_path: Path, **manifest: object) -> list[tuple[str, bytes | None, dict[str, object]]]:
    return [
        (PAYLOAD, None, {}),
        (f"{PAYLOAD}/state", None, {}),
        (f"{PAYLOAD}/state/openclaw.sqlite", _database(tmp_path), {}),
        (f"{PAYLOAD}/workspace/notes/cat.md", b"The cat is called Tom.", {}),
        (f"{PAYLOAD}/workspace/latest", None, {"type": tarfile.SYMTYPE, "linkname": "notes"}),
        (f"{ROOT}/manifest.json", _manifest(**manifest), {}),
    ]


def _restore(tmp_path: Path, archive: bytes, command: list[str] = NO_OPENCLAW) -> dict[str, object]:
    return restore(command, tmp_path / "state", tmp_path / "work", io.BytesIO(archive))


def test_an_archive_is_extracted_verified_and_put_in_place_without_openclaw(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    (state / "old").mkdir(parents=True)
    result = _restore(tmp_path, _archive(_good(tmp_path)))
    assert result["method"] == "extract"
    assert (state / "workspace" / "notes" / "cat.md").read_text() == "The cat is called Tom."
    assert (state / "workspace" / "latest" / "cat.md").exists()
    assert not (state / "old").exists()  # the state is the archive's, not a merge
    with sqlite3.connect(state / "state" / "openclaw.sqlite") as db:
        assert db.execute("SELECT v FROM t").fetchall() == [("kept",)]
    db.close()
    assert not (tmp_path / "work").exists()


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        (("../outside.txt", b"x", {}), "unsafe path"),
        (("/etc/evil", b"x", {}), "unsafe path"),
        (("other-root/file", b"x", {}), "more than one root"),
        ((f"{PAYLOAD}/dev", b"", {"type": tarfile.CHRTYPE}), "special file"),
        ((f"{PAYLOAD}/hard", b"", {"type": tarfile.LNKTYPE, "linkname": "../x"}), "links out"),
    ],
)
def test_a_hostile_entry_is_refused_and_the_state_is_left_alone(
    tmp_path: Path, entry: tuple[str, bytes | None, dict[str, object]], reason: str
) -> None:
    state = tmp_path / "state"
    (state / "kept.md").parent.mkdir(parents=True)
    (state / "kept.md").write_text("before")
    entries = _good(tmp_path)
    entries.insert(2, entry)
    with pytest.raises(AgentStateError, match=reason):
        _restore(tmp_path, _archive(entries))
    assert (state / "kept.md").read_text() == "before"
    assert not (tmp_path / "outside.txt").exists()


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"archiveRoot": "another"}, "another archive root"),
        ({"assets": []}, "0 state folders"),
        (
            {"assets": [{"kind": "state", "sourcePath": "/elsewhere", "archivePath": PAYLOAD}]},
            "does not match its source",
        ),
    ],
)
def test_a_manifest_that_does_not_describe_the_archive_is_refused(
    tmp_path: Path, changes: dict[str, object], reason: str
) -> None:
    with pytest.raises(AgentStateError, match=reason):
        _restore(tmp_path, _archive(_good(tmp_path, **changes)))
    assert not (tmp_path / "state").exists()


def test_a_damaged_database_or_archive_is_refused(tmp_path: Path) -> None:
    entries = _good(tmp_path)
    name, data, extra = entries[2]
    assert data is not None
    entries[2] = (name, data[:100] + b"\xff" * (len(data) - 100), extra)
    with pytest.raises(AgentStateError, match=r"openclaw\.sqlite is damaged"):
        _restore(tmp_path, _archive(entries))
    with pytest.raises(AgentStateError, match="damaged"):
        _restore(tmp_path, _archive(_good(tmp_path))[:-200])
    assert not (tmp_path / "state").exists()


def test_what_it_does_not_know_goes_to_openclaws_own_restore(tmp_path: Path) -> None:
    # Another manifest schema, or a link out of the archive (OpenClaw records and recreates
    # those): OpenClaw's restore runs on the archive as it arrived.
    calls = tmp_path / "calls"
    fake = tmp_path / "openclaw"
    fake.write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit 3\n')
    fake.chmod(0o755)
    newer = _archive(_good(tmp_path, schemaVersion=2))
    with pytest.raises(AgentStateError, match=r"`openclaw backup restore` failed \(exit 3\)"):
        _restore(tmp_path, newer, [str(fake)])
    entries = _good(tmp_path)
    entries.insert(2, (f"{PAYLOAD}/out", None, {"type": tarfile.SYMTYPE, "linkname": "/srv"}))
    with pytest.raises(AgentStateError, match="exit 3"):
        _restore(tmp_path, _archive(entries), [str(fake)])
    runs = calls.read_text().splitlines()
    assert len(runs) == 2
    assert all(run.startswith("backup restore ") and "--json" in run for run in runs)


@pytest.mark.slow
def test_an_archive_made_by_openclaw_restores_as_openclaws_own_restore_does(
    tmp_path: Path, openclaw_command: list[str]
) -> None:
    state = tmp_path / "made" / "state"
    (state / "workspace" / "notes").mkdir(parents=True)
    (state / "workspace" / "notes" / "cat.md").write_text("The cat is called Tom.")
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "OPENCLAW_STATE_DIR": str(state),
        "OPENCLAW_CONFIG_PATH": str(state / "openclaw.json"),
    }
    out = tmp_path / "out"
    out.mkdir()
    subprocess.run(
        [*openclaw_command, "backup", "create", "--output", str(out), "--json"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (archive,) = out.glob("*.tar.gz")
    ours = tmp_path / "ours"
    result = restore(openclaw_command, ours, tmp_path / "work", archive.open("rb"))
    assert result["method"] == "extract"
    theirs = tmp_path / "theirs"
    subprocess.run(
        [*openclaw_command, "backup", "restore", str(archive), "--target", str(theirs), "--json"],
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (restored,) = [p for p in theirs.rglob("state") if p.is_dir() and (p / "workspace").is_dir()]

    def tree(root: Path) -> dict[str, bytes]:
        return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}

    assert tree(ours) == tree(restored)
    assert (ours / "workspace" / "notes" / "cat.md").read_text() == "The cat is called Tom."
