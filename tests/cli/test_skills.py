"""`skills` against a moto server: add from a folder, .zip or .tar.gz, list, toggle, remove; and
every hostile or broken skill refused with nothing written to the state bucket."""

from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import boto3
import pytest
from typer.testing import CliRunner

from openclaw_deploy.cli.app import app
from openclaw_deploy.config import ConfigFile, Deployment
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.skills import INDEX_KEY, SkillIndex, archive_key, read_archive

NAME = "skillbot"
ACCOUNT = "123456789012"
BUCKET = resources.STATE_BUCKET.physical_name(NAME, ACCOUNT, "us-east-1")
SKILL_MD = "---\nname: release-notes\ndescription: Write release notes from merged changes\n---\n"


@pytest.fixture
def config_path(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CI", "true")
    s3().create_bucket(Bucket=BUCKET)
    s3().put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
    config = ConfigFile(path=tmp_path / "openclaw-deploy.yaml")
    config.upsert(
        Deployment(
            name=NAME,
            target="aws",
            region="us-east-1",
            provider="anthropic",
            model="claude-sonnet-4-5",
            owner_email="me@example.com",
        )
    )
    config.save()
    return config.path


def s3() -> Any:
    return boto3.client("s3", region_name="us-east-1")


def run(*args: str, stdin: str | None = None) -> Any:
    return CliRunner().invoke(app, list(args), input=stdin, catch_exceptions=False)


def objects() -> list[str]:
    listing = s3().list_object_versions(Bucket=BUCKET)
    return sorted(v["Key"] for v in listing.get("Versions", []))


def skill_folder(root: Path, text: str = SKILL_MD) -> Path:
    folder = root / "release-notes"
    (folder / "scripts").mkdir(parents=True)
    (folder / "SKILL.md").write_text(text)
    (folder / "scripts" / "collect.sh").write_text("#!/bin/sh\ngit log --oneline\n")
    (folder / "scripts" / "collect.sh").chmod(0o755)
    return folder


def test_add_a_folder_lists_it_beside_the_built_in_ones_and_keeps_it_in_the_bucket(
    config_path: Path, tmp_path: Path
) -> None:
    result = run("skills", "add", str(skill_folder(tmp_path)), "--json")
    assert result.exit_code == 0, result.output
    added = json.loads(result.stdout)
    assert (added["skill"]["name"], added["skill"]["files"], added["replaced"]) == (
        "release-notes",
        2,
        False,
    )
    stored = s3().get_object(Bucket=BUCKET, Key=archive_key("release-notes"))["Body"].read()
    skill = read_archive(stored)
    assert sorted(skill.files) == ["SKILL.md", "scripts/collect.sh"]
    assert skill.executable == {"scripts/collect.sh"}
    assert not any(key.startswith("agent/") for key in objects()), "not in the agent's backups"

    listing = json.loads(run("skills", "list", "--json").stdout)
    mine = [s for s in listing["skills"] if s["source"] == "owner"]
    assert [(s["name"], s["enabled"], s["loaded"]) for s in mine] == [("release-notes", True, None)]
    assert listing["reported_at"] is None, "no agent has reported yet"
    built_in = {s["name"] for s in listing["skills"] if s["source"] == "built-in"}
    assert {"weather", "github", "skill-creator"} <= built_in

    text = run("skills", "list").stdout
    assert "release-notes" in text and "weather" in text


def test_zip_and_tar_gz_with_a_top_folder_are_accepted_and_replace_the_earlier_version(
    config_path: Path, tmp_path: Path
) -> None:
    archive = tmp_path / "skill.zip"
    with zipfile.ZipFile(archive, "w") as out:
        out.writestr("release-notes/SKILL.md", SKILL_MD)
    assert run("skills", "add", str(archive)).exit_code == 0
    tgz = tmp_path / "skill.tar.gz"
    with tarfile.open(tgz, "w:gz") as tar:
        data = (SKILL_MD + "\nNew body.\n").encode()
        info = tarfile.TarInfo("SKILL.md")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    result = run("skills", "add", str(tgz), "--json")
    assert json.loads(result.stdout)["replaced"] is True
    versions = [k for k in objects() if k == archive_key("release-notes")]
    assert len(versions) == 2, "the bucket keeps the earlier version"


def test_disable_enable_and_remove_with_confirmation(config_path: Path, tmp_path: Path) -> None:
    run("skills", "add", str(skill_folder(tmp_path)))
    assert (
        json.loads(run("skills", "disable", "release-notes", "--json").stdout)["enabled"] is False
    )
    index = SkillIndex.from_json(s3().get_object(Bucket=BUCKET, Key=INDEX_KEY)["Body"].read())
    assert index.skills["release-notes"].enabled is False
    assert index.enabled() == []
    run("skills", "enable", "release-notes")
    # A built-in one is turned off through OpenClaw's config at the next start.
    toggled = json.loads(run("skills", "disable", "weather", "--json").stdout)
    assert toggled["source"] == "built-in" and "next start" in toggled["applies"]
    listing = json.loads(run("skills", "list", "--json").stdout)["skills"]
    state = {s["name"]: s["enabled"] for s in listing}
    assert (state["release-notes"], state["weather"]) == (True, False)

    assert run("skills", "disable", "no-such-skill").exit_code == 9

    refused = run("skills", "remove", "release-notes", stdin="n\n")
    assert refused.exit_code != 0
    assert archive_key("release-notes") in objects()
    removed = run("skills", "remove", "release-notes", "--yes")
    assert removed.exit_code == 0, removed.output
    assert (
        "release-notes"
        not in SkillIndex.from_json(
            s3().get_object(Bucket=BUCKET, Key=INDEX_KEY)["Body"].read()
        ).skills
    )
    assert run("skills", "remove", "release-notes", "--yes").exit_code == 9
    assert run("skills", "remove", "weather", "--yes").exit_code == 9, "built-in: disable only"


def _zip(tmp_path: Path, entries: list[tuple[zipfile.ZipInfo | str, bytes]]) -> Path:
    path = tmp_path / "hostile.zip"
    with zipfile.ZipFile(path, "w") as out:
        for info, data in entries:
            out.writestr(info, data)
    return path


def _tar(tmp_path: Path, *members: tarfile.TarInfo) -> Path:
    path = tmp_path / "hostile.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        data = SKILL_MD.encode()
        info = tarfile.TarInfo("SKILL.md")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
        for member in members:
            tar.addfile(member, io.BytesIO(b"x" * member.size) if member.isreg() else None)
    return path


def _link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


def _device(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = tarfile.CHRTYPE
    info.devmajor, info.devminor = 1, 3
    return info


def _file(name: str, size: int = 1) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    return info


def _zip_link() -> zipfile.ZipInfo:
    info = zipfile.ZipInfo("evil")
    info.external_attr = 0o120777 << 16
    return info


HOSTILE: dict[str, tuple[Any, str]] = {
    "no SKILL.md": (lambda p: _zip(p, [("README.md", b"hi")]), "no SKILL.md"),
    "no frontmatter": (lambda p: _zip(p, [("SKILL.md", b"Just text")]), "no frontmatter"),
    "no name": (
        lambda p: _zip(p, [("SKILL.md", b"---\ndescription: d\n---\n")]),
        "has no name",
    ),
    "no description": (
        lambda p: _zip(p, [("SKILL.md", b"---\nname: a-skill\n---\n")]),
        "has no description",
    ),
    "built-in name": (
        lambda p: _zip(p, [("SKILL.md", b"---\nname: weather\ndescription: mine\n---\n")]),
        "built-in skill",
    ),
    "absolute path": (lambda p: _tar(p, _file("/etc/cron.d/evil")), "absolute path"),
    "dot-dot": (lambda p: _tar(p, _file("scripts/../../evil")), "leaves its folder"),
    "zip dot-dot": (
        lambda p: _zip(p, [("SKILL.md", SKILL_MD.encode()), ("../evil", b"x")]),
        "leaves its folder",
    ),
    "symlink": (lambda p: _tar(p, _link("notes", "/etc/passwd")), "a link"),
    "hard link": (lambda p: _tar(p, _link("notes", "SKILL.md", tarfile.LNKTYPE)), "a link"),
    "zip symlink": (
        lambda p: _zip(p, [("SKILL.md", SKILL_MD.encode()), (_zip_link(), b"/etc/passwd")]),
        "a link",
    ),
    "device": (lambda p: _tar(p, _device("null")), "device"),
    "file over 1 MiB": (lambda p: _tar(p, _file("big.bin", 1024 * 1024 + 1)), "at most 1.0 MiB"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_or_broken_skills_are_refused_with_a_reason_and_nothing_written(
    config_path: Path, tmp_path: Path, case: str
) -> None:
    make, reason = HOSTILE[case]
    result = run("skills", "add", str(make(tmp_path)))
    assert result.exit_code == 2, result.output
    assert reason in " ".join(result.output.split()), result.output
    assert "Nothing was stored" in result.output
    assert objects() == []


def test_an_archive_over_the_limit_is_refused_saying_the_limit(
    config_path: Path, tmp_path: Path
) -> None:
    big = tmp_path / "big.zip"
    big.write_bytes(b"PK" + b"\0" * (3 * 1024 * 1024 + 10))
    result = run("skills", "add", str(big))
    assert result.exit_code == 2
    assert "the limit is 3.0 MiB" in " ".join(result.output.split())
    assert objects() == []


def test_a_folder_with_a_link_is_refused(config_path: Path, tmp_path: Path) -> None:
    folder = skill_folder(tmp_path)
    (folder / "passwd").symlink_to("/etc/passwd")
    result = run("skills", "add", str(folder))
    assert result.exit_code == 2 and "a link" in result.output
    assert objects() == []
