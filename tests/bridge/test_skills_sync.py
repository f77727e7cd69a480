"""The bridge's skill sync without OpenClaw, on the moto server: the folder OpenClaw loads holds
exactly the enabled skills, readable by another user whatever the bridge's umask (the image runs
the bridge with umask 077 and OpenClaw as another user), and an archive that does not match the
index or that holds a link is not unpacked, even if it reached the bucket."""

from __future__ import annotations

import io
import os
import stat
import tarfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from openclaw_bridge.skills import SkillSync
from openclaw_deploy.runtime.skills import (
    INDEX_KEY,
    Skill,
    SkillIndex,
    SkillStore,
    StoredSkill,
    archive_key,
    sha256,
)
from tests.bridge.harness import Deployment, provision


def skill(name: str) -> Skill:
    text = f"---\nname: {name}\ndescription: does {name}\n---\nBody.\n"
    return Skill(
        name=name,
        description=f"does {name}",
        files={"SKILL.md": text.encode(), "lib/helper.py": b"print(1)\n"},
    )


@pytest.fixture
def deployment(bridge_moto: str) -> Deployment:
    return provision(bridge_moto)


@pytest.fixture
def strict_umask() -> Iterator[None]:
    old = os.umask(0o077)
    try:
        yield
    finally:
        os.umask(old)


def _sync(deployment: Deployment, home: Path) -> tuple[SkillStore, SkillSync]:
    store = SkillStore(deployment.client("s3"), deployment.bucket)
    sync = SkillSync(store, home / "skills", staging=home / "skills-staging")
    sync.prepare()
    return store, sync


def _modes(root: Path) -> dict[str, int]:
    return {
        str(path.relative_to(root)): stat.S_IMODE(path.stat().st_mode)
        for path in [root, *root.rglob("*")]
    }


def test_the_folder_holds_the_enabled_skills_readable_by_another_user(
    deployment: Deployment, tmp_path: Path, strict_umask: None
) -> None:
    store, sync = _sync(deployment, tmp_path)
    store.add(skill("alpha"), now=time.time())
    store.add(skill("beta"), now=time.time())
    store.set_enabled("beta", False)
    store.set_enabled("weather", False)
    assert sync.sync() is True
    assert sorted(p.name for p in (tmp_path / "skills").iterdir()) == ["alpha"]
    assert _modes(tmp_path / "skills") == {
        ".": 0o755,
        "alpha": 0o755,
        "alpha/SKILL.md": 0o644,
        "alpha/lib": 0o755,
        "alpha/lib/helper.py": 0o644,
    }
    assert sync.config_section() == {
        "load": {"extraDirs": [str(tmp_path / "skills")], "watch": True},
        "entries": {"weather": {"enabled": False}},
    }
    assert sync.sync() is False, "an unchanged index is one conditional GET, nothing more"

    store.set_enabled("beta", True)
    store.remove("alpha")
    assert sync.sync() is True
    assert sorted(p.name for p in (tmp_path / "skills").iterdir()) == ["beta"]
    assert sorted(sync.installed) == ["beta"]
    assert list((tmp_path / "skills-staging").iterdir()) == [], "nothing left half-done"


def _put_raw(deployment: Deployment, name: str, archive: bytes, digest: str) -> None:
    s3 = deployment.client("s3")
    s3.put_object(Bucket=deployment.bucket, Key=archive_key(name), Body=archive)
    entry = StoredSkill(
        name=name, description="x", sha256=digest, size=len(archive), files=1, added_at=0
    )
    index = SkillIndex(skills={name: entry})
    s3.put_object(Bucket=deployment.bucket, Key=INDEX_KEY, Body=index.to_json())


def test_an_archive_that_does_not_match_the_index_or_holds_a_link_is_not_unpacked(
    deployment: Deployment, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, sync = _sync(deployment, tmp_path)
    good = skill("gamma").archive()
    _put_raw(deployment, "gamma", good, "0" * 64)
    assert sync.sync() is False
    assert "does not match the index" in caplog.text

    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w:gz") as tar:
        text = b"---\nname: gamma\ndescription: x\n---\n"
        info = tarfile.TarInfo("SKILL.md")
        info.size = len(text)
        tar.addfile(info, io.BytesIO(text))
        link = tarfile.TarInfo("shadow")
        link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
        tar.addfile(link)
    hostile = raw.getvalue()
    _put_raw(deployment, "gamma", hostile, sha256(hostile))
    assert sync.sync() is False
    assert "skill gamma refused: the archive holds a link" in caplog.text
    assert list((tmp_path / "skills").iterdir()) == []
    assert list((tmp_path / "skills-staging").iterdir()) == []
