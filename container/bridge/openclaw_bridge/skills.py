"""The owner's skills, from the state bucket to where OpenClaw loads them.

The owner's skills live in the state bucket under `skills/` (`openclaw_deploy.runtime.skills`).
The bridge unpacks the enabled ones into a folder of its own, outside OpenClaw's state (so they
never enter a backup), which the rendered config names in `skills.load.extraDirs`: OpenClaw
watches it and takes a change on the agent's next turn. The folder and its files are the
bridge's and only readable by the agent's user (folders 0755, files 0644): a hijacked agent can
read its skills, not change what the owner gave it. Built-in skills the owner turned off are
`skills.entries.NAME.enabled: false` in the config, rendered at boot.

At boot every enabled skill is unpacked before OpenClaw starts. While the agent runs, the index
is read every few seconds with its ETag (an unchanged index costs one conditional GET); a new,
changed, disabled or removed skill is unpacked, swapped in or taken out at once. After each
change, and every minute, the bridge asks OpenClaw which skills it loaded (`skills.status` over
the gateway WebSocket) and writes the answer to `skills/agent-report.json` when it changed:
that is what `openclaw-deploy skills list` and the web page show.
"""

from __future__ import annotations

import logging
import secrets
import shutil
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from openclaw_bridge.reminders import GatewaySocket, GatewaySocketError
from openclaw_deploy.runtime.skills import (
    AgentReport,
    SkillError,
    SkillIndex,
    SkillStore,
    StoredSkill,
    entries_config,
    report_from_status,
    sha256,
    unpack,
)

log = logging.getLogger("openclaw_bridge.skills")

WATCH_SECONDS: Final = 2.0
SETTLE_SECONDS: Final = 1.0
"""After a change, how long OpenClaw's watcher (250 ms debounce) gets before it is asked."""
REPORT_EVERY_SECONDS: Final = 60.0
REPORT_RETRIES: Final = 5
"""Ticks after a change during which the report is taken again until OpenClaw shows it."""


class SkillSync:
    """Keeps `folder` holding exactly the owner's enabled skills."""

    def __init__(
        self,
        store: SkillStore,
        folder: Path,
        *,
        staging: Path,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.folder = folder
        self._staging = staging
        self._clock = clock
        self._etag: str | None = None
        self._index = SkillIndex()
        self._installed: dict[str, str] = {}
        """Name -> digest of the archive unpacked in the folder."""
        self._last_report: list[dict[str, Any]] | None = None
        self._reported_at = 0.0
        self._pending_reports = 0
        self._socket: GatewaySocket | None = None

    def connect(self, base_url: str, token: str) -> None:
        """Ask the gateway at `base_url` (its http:// root) with `token` from now on."""
        self._socket = GatewaySocket(base_url.replace("http://", "ws://", 1), token)

    def close(self) -> None:
        if self._socket is not None:
            self._socket.close()

    # -- the folder -----------------------------------------------------------------------------

    def prepare(self) -> None:
        """A fresh, empty folder readable by the agent's user, whatever the umask."""
        for path in (self.folder, self._staging):
            shutil.rmtree(path, ignore_errors=True)
            path.mkdir(parents=True, mode=0o755)
            path.chmod(0o755)
        self._installed.clear()
        self._etag = None

    def config_section(self) -> dict[str, Any]:
        """OpenClaw's `skills` config: our folder as an extra skill root, watched; the built-in
        skills the owner turned off."""
        section: dict[str, Any] = {"load": {"extraDirs": [str(self.folder)], "watch": True}}
        disabled = entries_config(self._index.disabled_built_in)
        if disabled:
            section["entries"] = disabled
        return section

    @property
    def installed(self) -> dict[str, str]:
        return dict(self._installed)

    def sync(self) -> bool:
        """Bring the folder in line with the index if it changed; True when anything did."""
        changed = self.store.index_if_changed(self._etag)
        if changed is None:
            return False
        self._index, self._etag = changed
        wanted = {skill.name: skill for skill in self._index.enabled()}
        touched = False
        for name in sorted(set(self._installed) - set(wanted)):
            self._take_out(name)
            log.info("skill %s taken out", name)
            touched = True
        for name, skill in wanted.items():
            if self._installed.get(name) == skill.sha256:
                continue
            if self._put_in(skill):
                touched = True
        if touched:
            self._pending_reports = REPORT_RETRIES
        return touched

    def _put_in(self, skill: StoredSkill) -> bool:
        try:
            archive = self.store.archive(skill.name)
        except ClientError as error:
            log.warning("skill %s could not be fetched: %s", skill.name, error)
            return False
        if sha256(archive) != skill.sha256:
            log.warning("skill %s: its archive does not match the index; skipped", skill.name)
            return False
        fresh = self._staging / f"{skill.name}.{secrets.token_hex(4)}"
        try:
            unpacked = unpack(archive, fresh)
        except (SkillError, OSError) as error:
            shutil.rmtree(fresh, ignore_errors=True)
            log.warning("skill %s refused: %s", skill.name, error)
            return False
        if unpacked.name != skill.name:
            shutil.rmtree(fresh, ignore_errors=True)
            log.warning("skill %s: its SKILL.md names %s; skipped", skill.name, unpacked.name)
            return False
        self._take_out(skill.name)
        fresh.rename(self.folder / skill.name)
        self._installed[skill.name] = skill.sha256
        log.info("skill %s put in (%d files)", skill.name, len(unpacked.files))
        return True

    def _take_out(self, name: str) -> None:
        current = self.folder / name
        if current.exists():
            old = self._staging / f"{name}.old.{secrets.token_hex(4)}"
            current.rename(old)
            shutil.rmtree(old, ignore_errors=True)
        self._installed.pop(name, None)

    # -- what OpenClaw says ---------------------------------------------------------------------

    def report(self, *, force: bool = False) -> AgentReport | None:
        """Ask OpenClaw which skills it has; store the answer when it changed (or `force`)."""
        if self._socket is None:
            return None
        answer = self._socket.request("skills.status", {})
        report = report_from_status(answer, now=self._clock())
        if not force and report.skills == self._last_report:
            return None
        self.store.put_report(report)
        self._last_report = report.skills
        self._reported_at = report.reported_at
        return report

    def shows_installed(self) -> bool:
        """Whether the last report lists every skill in the folder and none taken out."""
        if self._last_report is None:
            return False
        reported = {
            item["name"] for item in self._last_report if item["source"] == "openclaw-extra"
        }
        return set(self._installed) <= reported and not (
            reported - set(self._installed) - _plugin_skills(self._last_report)
        )

    def tick(self) -> None:
        """One look: sync, then report if something changed, is still settling or is due."""
        if self.sync():
            time.sleep(SETTLE_SECONDS)
        due = self._clock() - self._reported_at >= REPORT_EVERY_SECONDS
        if self._pending_reports > 0 or due:
            self.report(force=due)
            if self._pending_reports > 0:
                self._pending_reports = 0 if self.shows_installed() else self._pending_reports - 1


def _plugin_skills(report: list[dict[str, Any]]) -> set[str]:
    """Skills a plugin ships report as `openclaw-extra` too; they are not ours."""
    from openclaw_deploy.runtime.builtin_skills import BUILT_IN_SKILLS

    return {item["name"] for item in report if item["name"] in BUILT_IN_SKILLS}


def watch(
    sync: SkillSync,
    stop: threading.Event,
    *,
    every: float = WATCH_SECONDS,
) -> None:
    """Look every few seconds until `stop` is set (a thread of the bridge)."""
    while not stop.wait(every):
        try:
            sync.tick()
        except (GatewaySocketError, ClientError, BotoCoreError, OSError, ValueError) as error:
            log.warning("could not bring the skills up to date: %s", error)
    sync.close()
