"""Where a local deployment keeps its files: `.openclaw-deploy/local/<name>/` beside the config."""

from __future__ import annotations

import contextlib
import json
import os
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

    @property
    def access(self) -> Path:
        """How the owner reaches it (port, login): kept across destroy/init until --purge, so
        bookmarks and a browser's saved password keep working. Readable by this user only."""
        return self.home / "access.json"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def _read_access(self) -> dict[str, object]:
        try:
            data = json.loads(self.access.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def _write_access(self, **changes: object) -> None:
        data = {**self._read_access(), **changes}
        self.home.mkdir(parents=True, exist_ok=True)
        partial = self.access.with_suffix(".tmp")
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=2)
        partial.replace(self.access)

    def remembered_port(self) -> int | None:
        port = self._read_access().get("port")
        return port if isinstance(port, int) and 0 < port < 65536 else None

    def remember_port(self, port: int) -> None:
        self._write_access(port=port)

    def remembered_login(self) -> tuple[str, str] | None:
        """(email, password) the owner was last given, or None."""
        data = self._read_access()
        email, password = data.get("owner_email"), data.get("owner_password")
        if isinstance(email, str) and isinstance(password, str) and password:
            return email, password
        return None

    def remember_login(self, email: str, password: str) -> None:
        self._write_access(owner_email=email, owner_password=password)
