"""Where the files that ship beside the code live: templates/, container/ and the built web app.

In an installed wheel they sit in `openclaw_deploy/_assets/`; in a source checkout (editable
install, tests) they are the folders at the repository root.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from openclaw_deploy.errors import ToolchainError

_PACKAGE: Final = Path(__file__).resolve().parent
_CHECKOUT: Final = _PACKAGE.parent.parent
_LAYOUT: Final = {"templates": "templates", "container": "container", "web": "web/dist"}


def asset_dir(name: str) -> Path:
    """The folder for `name` (templates, container or web)."""
    installed = _PACKAGE / "_assets" / name
    if installed.is_dir():
        return installed
    checkout = _CHECKOUT / _LAYOUT[name]
    if checkout.is_dir():
        return checkout
    hint = "scripts/build-web" if name == "web" else "pip install --force-reinstall openclaw-deploy"
    raise ToolchainError(f"The {name} files are missing from this installation.", hint=hint)


def checkout_root() -> Path | None:
    """The repository root when running from a source checkout, else None."""
    return _CHECKOUT if (_CHECKOUT / "pyproject.toml").is_file() else None
