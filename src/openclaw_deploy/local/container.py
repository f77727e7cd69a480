"""Starts one agent task as a container runtime would: `python -m openclaw_deploy.local.container`.

The local Fargate runs this (as root) for each task and writes a `Launch` as JSON on its stdin
(the environment holds the task's secrets, so it never goes on a command line or on disk).

* `cgroup_procs`: the task's cgroup files; the task's processes join them before anything runs.
* with `rootfs` (the image mode): a fresh mount, PID, UTS and IPC namespace. The task's PID 1 is
  the image's entrypoint (tini), run as the image's user in its working folder, with `/proc`,
  a small `/dev` (null, zero, full, random, urandom, tty, pts, a 64 MB `/dev/shm`), a read-only
  `/sys`, this machine's `/etc/resolv.conf` and its own `/etc/hosts` and host name. The network
  is the host's, so the task reaches moto and the emulator on 127.0.0.1. Every mount lives in the
  task's own namespace and goes with it.
* without `rootfs` (the process mode): the command simply replaces this process.

This process stays outside the task's groups, as a container runtime's shim does: it hands
SIGTERM (and the other stop signals) to the task's PID 1 and exits with the task's status (128 +
the signal when it was killed, so a SIGKILL reads 137). If it is killed itself, the kernel kills
the task's PID 1 and with it every process of the task.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Final

CLONE_NEWNS: Final = 0x00020000
CLONE_NEWUTS: Final = 0x04000000
CLONE_NEWIPC: Final = 0x08000000
CLONE_NEWPID: Final = 0x20000000
MS_RDONLY: Final = 0x1
MS_NOSUID: Final = 0x2
MS_NODEV: Final = 0x4
MS_NOEXEC: Final = 0x8
MS_REMOUNT: Final = 0x20
MS_BIND: Final = 0x1000
MS_REC: Final = 0x4000
MS_PRIVATE: Final = 0x40000
PR_SET_PDEATHSIG: Final = 1
DEVICES: Final = ("null", "zero", "full", "random", "urandom", "tty")
FORWARDED: Final = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT)
HOSTS: Final = (
    "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
    "fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n"
    "ff02::2\tip6-allrouters\n"
)
EXIT_CANNOT_START: Final = 127

_libc = ctypes.CDLL(None, use_errno=True)


@dataclass(frozen=True, kw_only=True)
class Launch:
    command: list[str]
    env: dict[str, str]
    cgroup_procs: list[str] = field(default_factory=list)
    rootfs: str | None = None
    user: str = "0:0"
    workdir: str = "/"
    hostname: str = "task"

    def to_json(self) -> str:
        return json.dumps(asdict(self))


class LaunchError(Exception):
    pass


def _check(result: int, what: str) -> None:
    if result != 0:
        errno = ctypes.get_errno()
        raise LaunchError(f"{what}: {os.strerror(errno)}")


def _mount(source: str, target: Path, fstype: str | None, flags: int, data: str = "") -> None:
    _check(
        _libc.mount(
            source.encode(),
            str(target).encode(),
            fstype.encode() if fstype else None,
            ctypes.c_ulong(flags),
            data.encode() if data else None,
        ),
        f"mount {fstype or source} on {target}",
    )


def _bind(source: Path, target: Path, *, read_only: bool = False) -> None:
    _mount(str(source), target, None, MS_BIND)
    if read_only:
        _mount("", target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def join_cgroups(procs_files: list[str]) -> None:
    for path in procs_files:
        Path(path).write_text("0\n", encoding="utf-8")  # 0: this process


def _file_at(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        path.touch()


def _prepare_root(root: Path, hostname: str) -> None:
    """The mounts a container runtime gives the container (in our own mount namespace)."""
    proc = root / "proc"
    proc.mkdir(exist_ok=True)
    _mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    dev = root / "dev"
    dev.mkdir(exist_ok=True)
    _mount("tmpfs", dev, "tmpfs", MS_NOSUID, "mode=755,size=65536k")
    for name in DEVICES:
        _file_at(dev / name)
        _bind(Path("/dev") / name, dev / name)
    (dev / "pts").mkdir()
    _mount("devpts", dev / "pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666")
    (dev / "shm").mkdir()
    _mount("shm", dev / "shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=65536k")
    for name, target in (
        ("ptmx", "pts/ptmx"),
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ):
        (dev / name).symlink_to(target)
    sys_dir = root / "sys"
    sys_dir.mkdir(exist_ok=True)
    try:
        _mount("sysfs", sys_dir, "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    except LaunchError:
        _mount("/sys", sys_dir, None, MS_BIND | MS_REC)
        _mount("", sys_dir, None, MS_BIND | MS_REMOUNT | MS_RDONLY)
    etc = root / "etc"
    if Path("/etc/resolv.conf").exists():
        _file_at(etc / "resolv.conf")
        _bind(Path("/etc/resolv.conf").resolve(), etc / "resolv.conf", read_only=True)
    (etc / "hosts").write_text(HOSTS + f"127.0.1.1\t{hostname}\n", encoding="utf-8")
    (etc / "hostname").write_text(hostname + "\n", encoding="utf-8")


def _table(path: Path) -> list[list[str]]:
    try:
        return [line.split(":") for line in path.read_text(encoding="utf-8").splitlines() if line]
    except OSError:
        return []


def resolve_user(spec: str, etc: Path) -> tuple[int, int, list[int], str]:
    """uid, gid, supplementary groups and home of a Docker `USER` (`name`, `uid`, `uid:gid`)."""
    user, _, group = spec.partition(":")
    passwd = _table(etc / "passwd")
    groups = _table(etc / "group")
    entry = next((row for row in passwd if len(row) > 3 and user in (row[0], row[2])), None)
    if user.isdigit():
        uid = int(user)
    elif entry is not None:
        uid = int(entry[2])
    else:
        raise LaunchError(f"unknown user {user!r} in the image")
    if group.isdigit():
        gid = int(group)
    elif group:
        match = next((row for row in groups if row[0] == group), None)
        if match is None:
            raise LaunchError(f"unknown group {group!r} in the image")
        gid = int(match[2])
    else:
        gid = int(entry[3]) if entry is not None else 0
    name = entry[0] if entry is not None else None
    extra = sorted(
        {int(row[2]) for row in groups if len(row) > 3 and name and name in row[3].split(",")}
        | {gid}
    )
    home = entry[5] if entry is not None and len(entry) > 5 and entry[5] else "/"
    return uid, gid, extra, home


def _executable(command: str, env: dict[str, str]) -> str:
    if "/" in command:
        return command
    for folder in env.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(":"):
        candidate = Path(folder) / command
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise LaunchError(f"{command}: not found on the image's PATH")


def _become_task(launch: Launch) -> None:
    """In the forked child: join the groups, enter the root, drop to the user, exec."""
    join_cgroups(launch.cgroup_procs)
    assert launch.rootfs is not None
    root = Path(launch.rootfs)
    name = launch.hostname.encode()
    _check(_libc.sethostname(name, len(name)), "sethostname")
    _prepare_root(root, launch.hostname)
    uid, gid, groups, home = resolve_user(launch.user, root / "etc")
    env = dict(launch.env)
    # As Docker does: HOME from the user's passwd entry, HOSTNAME, a PATH when the image has none.
    env.setdefault("HOME", home)
    env.setdefault("HOSTNAME", launch.hostname)
    env.setdefault("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
    os.chroot(root)
    os.chdir(launch.workdir)
    os.setgroups(groups)
    os.setgid(gid)
    os.setuid(uid)
    # After the credentials change (which would clear it): if the launcher dies, so does PID 1.
    _check(_libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl")
    os.execve(_executable(launch.command[0], env), launch.command, env)  # noqa: S606


def _wait(pid: int) -> int:
    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)

    for signum in FORWARDED:
        signal.signal(signum, forward)
    _, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.waitstatus_to_exitcode(status)


def run(launch: Launch) -> int:
    if launch.rootfs is None:
        join_cgroups(launch.cgroup_procs)
        os.execvpe(launch.command[0], launch.command, launch.env)  # noqa: S606
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC), "unshare")
    _mount("none", Path("/"), None, MS_REC | MS_PRIVATE)  # nothing of ours reaches the host
    pid = os.fork()
    if pid == 0:
        try:
            _become_task(launch)
        except (LaunchError, OSError) as error:
            sys.stderr.write(f"container: cannot start the task: {error}\n")
            sys.stderr.flush()
        os._exit(EXIT_CANNOT_START)
    return _wait(pid)


def main() -> None:
    launch = Launch(**json.loads(sys.stdin.read()))
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    try:
        code = run(launch)
    except (LaunchError, OSError) as error:
        sys.stderr.write(f"container: cannot start the task: {error}\n")
        code = EXIT_CANNOT_START
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
