"""The owner's skills reach a real pinned OpenClaw, and OpenClaw says so.

A skill kept in the state bucket before the task starts is loaded at boot; one added while the
agent runs is loaded within seconds, one disabled or removed goes, a built-in one turned off is
off at the next start. What counts is OpenClaw's own answer (`skills.status`, which the bridge
stores as the agent's report), not our files read back. Also: the built-in skill names our
checks refuse are exactly the ones the pinned OpenClaw ships.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from openclaw_deploy.offline_model import OfflineModel
from openclaw_deploy.runtime.builtin_skills import BUILT_IN_SKILLS
from openclaw_deploy.runtime.skills import AgentReport, Skill, SkillStore
from tests.bridge.harness import BridgeProcess as Bridge
from tests.bridge.harness import Deployment, bridge_env, provision, wait_for

pytestmark = pytest.mark.slow


def skill(name: str, description: str) -> Skill:
    text = f"---\nname: {name}\ndescription: {description}\n---\nWhen asked, {description}.\n"
    return Skill(
        name=name,
        description=description,
        files={"SKILL.md": text.encode(), "scripts/run.sh": b"#!/bin/sh\necho hi\n"},
        executable=frozenset({"scripts/run.sh"}),
    )


def test_built_in_skill_names_are_the_pinned_openclaws(
    openclaw_command: list[str], tmp_path: Path
) -> None:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "OPENCLAW_STATE_DIR": str(tmp_path / "state"),
        "OPENCLAW_CONFIG_PATH": str(tmp_path / "openclaw.json"),
        "OPENCLAW_OFFLINE": "1",
        "OPENCLAW_DISABLE_BONJOUR": "1",
    }
    (tmp_path / "openclaw.json").write_text('{gateway: {mode: "local"}}')
    listing = subprocess.run(
        [*openclaw_command, "skills", "list", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    reported = json.loads(listing.stdout[listing.stdout.find("{") :])["skills"]
    assert {item["name"]: item["description"] for item in reported} == BUILT_IN_SKILLS


def _report(store: SkillStore) -> AgentReport | None:
    return store.report()


def _ours(report: AgentReport | None) -> dict[str, dict[str, Any]]:
    if report is None:
        return {}
    return {
        item["name"]: item
        for item in report.skills
        if item["source"] == "openclaw-extra" and item["name"] not in BUILT_IN_SKILLS
    }


def _wait_report(store: SkillStore, check: Any, timeout: float, what: str) -> AgentReport:
    def ready() -> AgentReport | None:
        report = store.report()
        return report if report is not None and check(report) else None

    found: AgentReport = wait_for(ready, timeout, interval=0.5, what=what)
    return found


def _start(deployment: Deployment, home: Path, openclaw: list[str], model: OfflineModel) -> Bridge:
    arn = f"arn:aws:ecs:us-east-1:123456789012:task/agent/{uuid.uuid4().hex}"
    deployment.begin_start(arn)
    env = bridge_env(
        deployment, home=home, openclaw=openclaw, task_arn=arn, model_url=model.base_url
    )
    bridge = Bridge(env, home.parent / f"{home.name}.log").start()
    bridge.wait_running(timeout=150)
    return bridge


def test_skills_reach_the_running_agent_within_seconds_and_openclaw_lists_them(
    bridge_moto: str,
    openclaw_command: list[str],
    model: OfflineModel,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    deployment = provision(bridge_moto)
    store = SkillStore(deployment.client("s3"), deployment.bucket)
    store.add(skill("boot-notes", "keep notes from boot"), now=time.time())
    store.set_enabled("weather", False)
    home = tmp_path_factory.mktemp("agent-home-skills")
    bridge = _start(deployment, home, openclaw_command, model)
    try:
        report = _wait_report(
            store, lambda r: "boot-notes" in _ours(r), 30, "OpenClaw to report the boot skill"
        )
        assert _ours(report)["boot-notes"]["eligible"] is True
        weather = report.find("weather")
        assert weather is not None and weather["disabled"] is True, "turned off in its config"

        # Where it is: the bridge's folder, outside OpenClaw's state, readable by anyone,
        # writable by the bridge only.
        folder = home / "skills" / "boot-notes"
        assert not str(folder).startswith(str(home / "state"))
        assert stat.S_IMODE(folder.stat().st_mode) == 0o755
        assert stat.S_IMODE((folder / "SKILL.md").stat().st_mode) == 0o644
        assert stat.S_IMODE((folder / "scripts" / "run.sh").stat().st_mode) == 0o755

        # Added while it runs: loaded within seconds.
        added_at = time.monotonic()
        store.add(skill("live-notes", "keep notes while running"), now=time.time())
        _wait_report(
            store, lambda r: "live-notes" in _ours(r), 20, "OpenClaw to report the new skill"
        )
        seconds = time.monotonic() - added_at
        print(f"skill added -> OpenClaw lists it: {seconds:.1f} s")

        store.set_enabled("boot-notes", False)
        _wait_report(store, lambda r: "boot-notes" not in _ours(r), 20, "the disabled skill to go")
        store.remove("live-notes")
        report = _wait_report(
            store, lambda r: "live-notes" not in _ours(r), 20, "the removed skill to go"
        )
        assert _ours(report) == {}
        assert not (home / "skills" / "live-notes").exists()
    finally:
        bridge.stop()
    assert "skill live-notes put in" in bridge.output
