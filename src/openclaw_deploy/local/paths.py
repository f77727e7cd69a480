"""Where a local deployment keeps its files: `.openclaw-deploy/local/<name>/` beside the config."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Final

ROOT_DIRNAME: Final = ".openclaw-deploy"


@dataclass(frozen=True)
class LocalPaths:
    home: Path

    @classmethod
    def for_deployment(cls, config_path: Path, name: str) -> LocalPaths:
        return cls(config_path.resolve().parent / ROOT_DIRNAME / "local" / name)

    @property
    def spec(self) -> Path:
        """What the daemon should run (written by the CLI before starting it)."""
        return self.home / "spec.json"

    @property
    def state(self) -> Path:
        """Written by the daemon once everything answers: ports, URLs, resource names."""
        return self.home / "state.json"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def data(self) -> Path:
        """User data kept across destroy/init: table items and the agent's state backups."""
        return self.home / "data"

    @property
    def agent_home(self) -> Path:
        """Scratch space of the running agent task (its durable state lives in the bucket)."""
        return self.home / "agent"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"
