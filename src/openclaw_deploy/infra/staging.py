"""The two code assets, staged as folders the CDK zips and uploads (no `aws_cdk` import here).

* Lambda code: `openclaw_deploy/__init__.py`, `openclaw_deploy/runtime/` and
  `openclaw_deploy/handlers/` — stdlib and boto3 only, so nothing is bundled or installed.
* The image build context, laid out like the repository root: `container/`, `templates/` and
  `src/openclaw_deploy/{__init__.py,offline_model.py,runtime/}`, so `container/Dockerfile`
  builds the same way from a checkout, in CodeBuild and with a local Docker.

Both come from the installed package (or the checkout in development). Caches and compiled
files are left out so the asset hash, and with it the image tag, changes only with the sources.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import openclaw_deploy
from openclaw_deploy.assets import asset_dir
from openclaw_deploy.errors import ToolchainError

PACKAGE_DIR: Final = Path(openclaw_deploy.__file__).resolve().parent
HANDLER_MODULES: Final[dict[str, str]] = {
    "api": "openclaw_deploy.handlers.api",
    "ws": "openclaw_deploy.handlers.ws",
    "telegram": "openclaw_deploy.handlers.telegram_webhook",
    "slack": "openclaw_deploy.handlers.slack_events",
    "discord": "openclaw_deploy.handlers.discord_interactions",
    "watchdog": "openclaw_deploy.handlers.watchdog",
    "notifier": "openclaw_deploy.handlers.notifier",
    "schedule": "openclaw_deploy.handlers.schedule",
}
"""Lambda function key → the module whose `handler(event, context)` it runs."""
DOCKERFILE: Final = "container/Dockerfile"


def _arg_line(name: str) -> re.Pattern[str]:
    return re.compile(rf"^ARG {name}=\S*$", re.MULTILINE)


_IGNORE: Final = shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo", ".pytest_cache", ".*")


@dataclass(frozen=True)
class StagedSources:
    lambda_code: Path
    image_context: Path
    missing: tuple[str, ...]
    """What a deploy needs but this installation lacks (handler modules, the Dockerfile)."""


def handler_path(key: str) -> str:
    """The Lambda `handler` setting of a function key (`openclaw_deploy.handlers.api.handler`)."""
    return f"{HANDLER_MODULES[key]}.handler"


def _module_file(module: str) -> Path:
    relative = module.removeprefix("openclaw_deploy.").replace(".", "/")
    return PACKAGE_DIR / f"{relative}.py"


def _copy_package(destination: Path, parts: tuple[str, ...]) -> None:
    """Copy the package's `__init__.py` and the listed modules/subpackages of it."""
    destination.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(PACKAGE_DIR / "__init__.py", destination / "__init__.py")
    for part in parts:
        source = PACKAGE_DIR / part
        if source.is_dir():
            shutil.copytree(source, destination / part, ignore=_IGNORE)
        elif source.is_file():
            shutil.copyfile(source, destination / part)


def pin_openclaw(dockerfile: Path, version: str) -> None:
    """Make the staged Dockerfile install `version` of OpenClaw (its `ARG OPENCLAW_VERSION`
    default), so the build context, its hash and with it the image tag change with the version."""
    _pin_arg(dockerfile, "OPENCLAW_VERSION", version, f"pin OpenClaw {version} with")


def pin_browser(dockerfile: Path, browser: bool) -> None:
    """Make the staged Dockerfile install Chromium or not (its `ARG BROWSER` default): the
    browser's image gets its own tag, and an image without it is about 680 MB smaller."""
    _pin_arg(dockerfile, "BROWSER", "1" if browser else "0", "choose the browser with")


def _pin_arg(dockerfile: Path, name: str, value: str, purpose: str) -> None:
    text = dockerfile.read_text(encoding="utf-8")
    pinned, count = _arg_line(name).subn(f"ARG {name}={value}", text, count=1)
    if count != 1:
        raise ToolchainError(
            f"{DOCKERFILE} has no ARG {name} line to {purpose}.",
            hint="pip install --force-reinstall openclaw-deploy",
        )
    if pinned != text:
        dockerfile.write_text(pinned, encoding="utf-8")


def stage_sources(
    workdir: Path, *, openclaw_version: str | None = None, browser: bool = False
) -> StagedSources:
    """Lay out both assets under `workdir` (emptied first) and list anything missing.

    `openclaw_version` pins another OpenClaw release than the Dockerfile's own default;
    `browser` puts Chromium in the image (`agent.browser` of the deployment)."""
    shutil.rmtree(workdir, ignore_errors=True)
    lambda_code = workdir / "lambda"
    _copy_package(lambda_code / "openclaw_deploy", ("runtime", "handlers"))

    context = workdir / "image"
    # offline_model.py: the bridge serves the offline demo model when no LLM key is set.
    _copy_package(context / "src" / "openclaw_deploy", ("runtime", "offline_model.py"))
    missing = [
        f"the Lambda handler module {module}"
        for module in HANDLER_MODULES.values()
        if not _module_file(module).is_file()
    ]
    for name in ("container", "templates"):
        try:
            shutil.copytree(asset_dir(name), context / name, ignore=_IGNORE)
        except ToolchainError:  # reported as missing: synth still works, deploy refuses
            (context / name).mkdir(parents=True, exist_ok=True)
            missing.append(f"the {name}/ folder")
    if not (context / DOCKERFILE).is_file():
        missing.append(DOCKERFILE)
    else:
        if openclaw_version:
            pin_openclaw(context / DOCKERFILE, openclaw_version)
        pin_browser(context / DOCKERFILE, browser)
    return StagedSources(lambda_code=lambda_code, image_context=context, missing=tuple(missing))
