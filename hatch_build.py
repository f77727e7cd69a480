"""Build hook: put templates/, container/ and the built web app inside the wheel.

An editable install skips this (the package finds the folders in the checkout). A regular wheel
needs `web/dist`: build it first with `scripts/build-web` (the test command does).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

ASSETS = {"templates": "templates", "container": "container", "web/dist": "web"}


class AssetsHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "editable":
            return
        root = Path(self.root)
        for source, target in ASSETS.items():
            folder = root / source
            if not folder.is_dir():
                raise RuntimeError(
                    f"{source}/ is missing; the wheel must carry it. "
                    "Run scripts/build-web (for web/dist) and build again."
                )
            build_data["force_include"][str(folder)] = f"openclaw_deploy/_assets/{target}"
