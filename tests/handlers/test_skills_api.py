"""The Skills page's API on the moto server: upload an archive, list, toggle, remove; a hostile
or broken archive is refused with `error.field` and nothing stored."""

from __future__ import annotations

import base64
import io
import tarfile
import zipfile
from typing import Any

import pytest

from openclaw_deploy.handlers import api
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.skills import MAX_ARCHIVE_BYTES, AgentReport, SkillStore, archive_key
from tests.conftest import ACCOUNT, REGION
from tests.handlers.conftest import DEPLOYMENT, Stack
from tests.handlers.events import body, http_event

SKILL_MD = b"---\nname: trip-planner\ndescription: Plan trips step by step\n---\nPlan.\n"


@pytest.fixture
def bucket(stack: Stack) -> str:
    name = resources.STATE_BUCKET.physical_name(DEPLOYMENT, ACCOUNT, REGION)
    stack.client("s3").create_bucket(Bucket=name)
    return name


def stored(stack: Stack, bucket: str) -> list[str]:
    answer = stack.client("s3").list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in answer.get("Contents", []))


def zipped(*entries: tuple[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in entries:
            archive.writestr(name, data)
    return out.getvalue()


def upload(data: bytes) -> dict[str, Any]:
    event = http_event("POST", "/api/skills", headers={"content-type": "application/zip"})
    event.update(body=base64.b64encode(data).decode(), isBase64Encoded=True)
    return api.handler(event)


def test_upload_list_toggle_and_remove(stack: Stack, bucket: str) -> None:
    answer = upload(zipped(("trip-planner/SKILL.md", SKILL_MD), ("trip-planner/a.md", b"x")))
    assert answer["statusCode"] == 201, answer
    assert body(answer)["skill"]["name"] == "trip-planner"
    assert stored(stack, bucket) == [archive_key("trip-planner"), "skills/index.json"]

    listing = body(api.handler(http_event("GET", "/api/skills")))
    assert listing["limits"]["maxArchiveBytes"] == MAX_ARCHIVE_BYTES
    assert listing["reportedAt"] is None
    first = listing["skills"][0]
    assert (first["name"], first["source"], first["enabled"]) == ("trip-planner", "owner", True)
    assert any(s["name"] == "weather" and s["source"] == "built-in" for s in listing["skills"])

    off = api.handler(http_event("PUT", "/api/skills/trip-planner", body={"enabled": False}))
    assert body(off)["enabled"] is False
    builtin = api.handler(http_event("PUT", "/api/skills/weather", body={"enabled": False}))
    assert body(builtin)["source"] == "built-in"
    listing = body(api.handler(http_event("GET", "/api/skills")))["skills"]
    state = {s["name"]: s["enabled"] for s in listing}
    assert (state["trip-planner"], state["weather"]) == (False, False)
    unknown = api.handler(http_event("PUT", "/api/skills/nope", body={"enabled": True}))
    assert unknown["statusCode"] == 404

    assert api.handler(http_event("DELETE", "/api/skills/weather"))["statusCode"] == 404
    assert api.handler(http_event("DELETE", "/api/skills/trip-planner"))["statusCode"] == 204
    assert stored(stack, bucket) == ["skills/index.json"]


def _tar_with(member: tarfile.TarInfo) -> bytes:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        info = tarfile.TarInfo("SKILL.md")
        info.size = len(SKILL_MD)
        tar.addfile(info, io.BytesIO(SKILL_MD))
        tar.addfile(member, io.BytesIO(b"x" * member.size) if member.isreg() else None)
    return out.getvalue()


def _symlink() -> tarfile.TarInfo:
    info = tarfile.TarInfo("passwd")
    info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
    return info


@pytest.mark.parametrize(
    ("archive", "reason"),
    [
        (zipped(("README.md", b"hi")), "no SKILL.md"),
        (zipped(("SKILL.md", b"---\nname: x-y\n---\n")), "no description"),
        (zipped(("SKILL.md", b"---\nname: github\ndescription: d\n---\n")), "built-in"),
        (zipped(("SKILL.md", SKILL_MD), ("../../evil", b"x")), "leaves its folder"),
        (_tar_with(tarfile.TarInfo("/abs")), "absolute path"),
        (_tar_with(_symlink()), "a link"),
        (b"not an archive at all", "not a readable"),
    ],
)
def test_hostile_or_broken_archives_are_refused_with_nothing_stored(
    stack: Stack, bucket: str, archive: bytes, reason: str
) -> None:
    answer = upload(archive)
    assert answer["statusCode"] == 400
    error = body(answer)["error"]
    assert error["field"] == "archive" and reason in error["message"], error
    assert stored(stack, bucket) == []


def test_an_archive_over_the_limit_is_refused_saying_the_limit(stack: Stack, bucket: str) -> None:
    answer = upload(b"PK" + b"\0" * MAX_ARCHIVE_BYTES)
    assert answer["statusCode"] == 400
    assert "3.0 MiB" in body(answer)["error"]["message"]
    assert stored(stack, bucket) == []


def test_an_archive_that_reads_as_text_comes_through_unencoded(stack: Stack, bucket: str) -> None:
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        info = tarfile.TarInfo("SKILL.md")
        info.size = len(SKILL_MD)
        tar.addfile(info, io.BytesIO(SKILL_MD))  # a plain .tar of text: valid UTF-8
    event = http_event("POST", "/api/skills")
    event.update(body=out.getvalue().decode("utf-8"), isBase64Encoded=False)
    answer = api.handler(event)
    assert answer["statusCode"] == 201, answer


def test_ensure_creates_the_empty_index_and_report_and_never_replaces_them(
    stack: Stack, bucket: str
) -> None:
    # S3 answers a missing key with AccessDenied to the API's role (it may not list the
    # bucket); the API then creates both keys empty, with puts that only ever create.
    store = SkillStore(stack.client("s3"), bucket)
    store.ensure()
    assert stored(stack, bucket) == ["skills/agent-report.json", "skills/index.json"]
    assert store.report() is None, "an empty report is no report"
    assert store.index().skills == {}

    assert upload(zipped(("SKILL.md", SKILL_MD)))["statusCode"] == 201
    store.put_report(AgentReport(reported_at=1.0, skills=[]))
    store.ensure()
    assert "trip-planner" in store.index().skills
    report = store.report()
    assert report is not None and report.reported_at == 1.0
