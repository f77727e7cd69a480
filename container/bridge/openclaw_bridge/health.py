"""The container health check: `python -m openclaw_bridge.health` exits 0 while the bridge lives.

The bridge touches a file in its main loop (and while it boots); a stale file means the main
loop is stuck. Stdlib only and fast: it runs every 30 s.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Final

from openclaw_bridge.config import DEFAULT_HOME, ENV_HOME

STALE_SECONDS: Final = 90.0


def alive_file(home: Path) -> Path:
    return home / "run" / "alive"


def touch(home: Path) -> None:
    path = alive_file(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()


def check(home: Path, *, now: float | None = None) -> bool:
    try:
        age = (now if now is not None else time.time()) - alive_file(home).stat().st_mtime
    except OSError:
        return False
    return age < STALE_SECONDS


def main() -> int:
    home = Path(os.environ.get(ENV_HOME) or DEFAULT_HOME)
    return 0 if check(home) else 1


if __name__ == "__main__":
    sys.exit(main())
