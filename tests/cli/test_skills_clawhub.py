"""`skills add clawhub:NAME` against a stand-in of ClawHub: the pinned OpenClaw installs the skill
(install resolution, release trust check, download) on this machine, then it is checked and
stored like any other; a release ClawHub flags as malicious and an unknown name are refused with
nothing stored."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from openclaw_deploy.runtime.skills import archive_key, read_archive
from tests.cli.test_skills import BUCKET, config_path, objects, run, s3
from tests.fakes.clawhub import FakeClawHub, fake_clawhub

pytestmark = pytest.mark.slow
__all__ = ["config_path"]  # the fixture, shared


@pytest.fixture
def hub(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClawHub]:
    repo = Path(__file__).resolve().parents[2]
    monkeypatch.setenv(
        "OPENCLAW_DEPLOY_CACHE",
        os.environ.get("OPENCLAW_DEPLOY_CACHE", str(repo / ".cache" / "openclaw-deploy")),
    )
    with fake_clawhub() as registry:
        registry.publish(
            "focus-timer",
            {
                "SKILL.md": "---\nname: focus-timer\ndescription: Run focus sessions\n---\nGo.\n",
                "notes/tips.md": "Take breaks.\n",
            },
        )
        registry.publish(
            "evil-skill",
            {"SKILL.md": "---\nname: evil-skill\ndescription: bad\n---\n"},
            blocked=True,
        )
        yield registry


def test_a_clawhub_skill_is_installed_by_openclaw_checked_and_stored(
    config_path: Path, hub: FakeClawHub
) -> None:
    result = run("skills", "add", "clawhub:focus-timer", "--registry", hub.url, "--json")
    assert result.exit_code == 0, result.output
    added = json.loads(result.stdout)["skill"]
    assert (added["name"], added["origin"]) == ("focus-timer", "clawhub:focus-timer@1.0.0")
    stored = read_archive(
        s3().get_object(Bucket=BUCKET, Key=archive_key("focus-timer"))["Body"].read()
    )
    assert {"SKILL.md", "notes/tips.md"} <= set(stored.files)
    assert "GET /api/v1/download" in hub.requests, "downloaded from the registry given"
    assert "POST /api/v1/skills/-/security-verdicts" in hub.requests, "ClawHub's trust check"


@pytest.mark.parametrize(
    ("name", "reason"), [("evil-skill", "blocked"), ("no-such-skill", "not found")]
)
def test_a_flagged_or_unknown_clawhub_skill_is_refused_with_nothing_stored(
    config_path: Path, hub: FakeClawHub, name: str, reason: str
) -> None:
    result = run("skills", "add", f"clawhub:{name}", "--registry", hub.url)
    assert result.exit_code == 2, result.output
    assert reason in result.output.lower(), result.output
    assert "Nothing was stored" in " ".join(result.output.split())
    assert objects() == []
