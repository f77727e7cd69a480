"""The local task at its real size: a cgroup (v1) per task with its definition's CPU and memory.

Fargate gives a task `cpu` units (1024 = one vCPU) and `memory` MiB; going over the memory kills
the task (exit 137, `OutOfMemoryError: Container killed due to memory usage`). Here each task
gets a group in the `cpu` hierarchy (`cpu.cfs_quota_us` = units / 1024 x `cpu.cfs_period_us`)
and one in the `memory` hierarchy (`memory.limit_in_bytes`, and `memory.memsw.limit_in_bytes`
where the kernel accounts swap, so swapping is no way around it). The groups sit below this
process's own groups, so whatever limits this machine already puts on it still apply.

The kernel's OOM killer is switched off in the task's memory group: over the limit, its
processes wait instead of one of them dying, and the local Fargate kills the whole task at once,
as Fargate does, rather than leaving the bridge to watch OpenClaw vanish.

Where the machine does not allow it (no cgroup v1 controllers, not root, read-only), `probe`
says why and the tasks run unsized.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

CGROUP_ROOT: Final = Path("/sys/fs/cgroup")
GROUP: Final = "openclaw-deploy"
"""The folder under this process's own groups that holds one group per task."""
OOM_REASON: Final = "OutOfMemoryError: Container killed due to memory usage"
OOM_EXIT_CODE: Final = 137
MIB: Final = 1024 * 1024
_KILL_ROUNDS: Final = 50


@dataclass(frozen=True, kw_only=True)
class Sizing:
    """Whether tasks run under their task definition's CPU and memory here, and if not, why."""

    sized: bool
    reason: str = ""


def cpu_quota_us(cpu_units: int, period_us: int) -> int:
    return max(1000, round(cpu_units / 1024 * period_us))


def _own_paths(proc_cgroup: Path) -> dict[str, str]:
    """controller -> this process's group path, from /proc/self/cgroup (v1 lines only)."""
    paths: dict[str, str] = {}
    for line in proc_cgroup.read_text(encoding="utf-8").splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(","):
            if controller:
                paths[controller] = path
    return paths


class TaskCgroup:
    """One task's CPU and memory groups."""

    def __init__(self, cpu: Path, memory: Path) -> None:
        self.cpu = cpu
        self.memory = memory

    @property
    def procs_files(self) -> list[str]:
        """What a process writes its pid (or 0, itself) to, to join the task's groups."""
        return [str(self.cpu / "cgroup.procs"), str(self.memory / "cgroup.procs")]

    def pids(self) -> list[int]:
        found: set[int] = set()
        for folder in (self.cpu, self.memory):
            with contextlib.suppress(OSError):
                text = (folder / "cgroup.procs").read_text(encoding="utf-8")
                found.update(int(pid) for pid in text.split())
        return sorted(found)

    @property
    def cpu_quota_us(self) -> int:
        return int((self.cpu / "cpu.cfs_quota_us").read_text(encoding="utf-8"))

    @property
    def memory_limit_bytes(self) -> int:
        return int((self.memory / "memory.limit_in_bytes").read_text(encoding="utf-8"))

    def under_oom(self) -> bool:
        """True when the task hit its memory limit (its processes wait: the OOM killer is off)."""
        try:
            text = (self.memory / "memory.oom_control").read_text(encoding="utf-8")
        except OSError:
            return False
        fields = dict(line.split() for line in text.splitlines() if len(line.split()) == 2)
        return fields.get("under_oom") == "1" or int(fields.get("oom_kill", "0")) > 0

    def kill_all(self) -> None:
        """SIGKILL every process in the task's groups until none is left."""
        for _ in range(_KILL_ROUNDS):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def remove(self) -> None:
        """Remove both groups (kills what is left first); a group that is still busy stays."""
        self.kill_all()
        for folder in (self.cpu, self.memory):
            for _ in range(_KILL_ROUNDS):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # EBUSY while the last exiting process is reaped
                    time.sleep(0.02)


class CgroupHost:
    """Makes task groups under this process's own cgroup v1 `cpu` and `memory` groups."""

    def __init__(
        self, *, root: Path = CGROUP_ROOT, proc_cgroup: Path = Path("/proc/self/cgroup")
    ) -> None:
        self._root = root
        self._proc_cgroup = proc_cgroup

    def _parents(self) -> tuple[Path, Path]:
        own = _own_paths(self._proc_cgroup)
        return tuple(  # type: ignore[return-value]
            self._root / controller / own.get(controller, "/").lstrip("/") / GROUP
            for controller in ("cpu", "memory")
        )

    def probe(self) -> Sizing:
        """Can tasks be sized here? Makes and removes a probe group to find out."""
        for controller, knob in (("cpu", "cpu.cfs_quota_us"), ("memory", "memory.limit_in_bytes")):
            if not (self._root / controller / knob).is_file():
                return Sizing(
                    sized=False,
                    reason=f"no cgroup v1 {controller} controller at {self._root / controller}",
                )
        if os.geteuid() != 0:
            return Sizing(sized=False, reason="cgroups need root; this runs as a normal user")
        try:
            # Its own name: two local clouds may probe at the same moment.
            probe = self.create(f"probe-{os.getpid()}", cpu_units=1024, memory_mib=64)
        except OSError as error:
            return Sizing(sized=False, reason=f"cannot make a cgroup here: {error}")
        probe.remove()
        return Sizing(sized=True)

    def create(self, name: str, *, cpu_units: int, memory_mib: int) -> TaskCgroup:
        cpu_parent, memory_parent = self._parents()
        group = TaskCgroup(cpu_parent / name, memory_parent / name)
        try:
            for folder in (group.cpu, group.memory):
                folder.mkdir(parents=True, exist_ok=True)
            period = int((group.cpu / "cpu.cfs_period_us").read_text(encoding="utf-8"))
            _write(group.cpu / "cpu.cfs_quota_us", cpu_quota_us(cpu_units, period))
            limit = memory_mib * MIB
            _write(group.memory / "memory.limit_in_bytes", limit)
            memsw = group.memory / "memory.memsw.limit_in_bytes"
            if memsw.exists():  # memory first: memsw may never be below it
                _write(memsw, limit)
            _write(group.memory / "memory.oom_control", 1)
        except OSError:
            group.remove()
            raise
        return group

    def task_groups(self, prefix: str = "") -> list[TaskCgroup]:
        """The task groups named `prefix...` that exist now (one per running task)."""
        cpu_parent, memory_parent = self._parents()
        if not memory_parent.is_dir():
            return []
        return [
            TaskCgroup(cpu_parent / child.name, child)
            for child in sorted(memory_parent.iterdir())
            if child.is_dir() and child.name.startswith(prefix)
        ]

    def sweep(self, prefix: str) -> list[str]:
        """Remove the empty groups named `prefix...` that a crashed run left behind; returns
        their names. A group with processes is never touched: another local cloud of the same
        deployment name (another folder, a parallel test) may be running its task in it."""
        removed: list[str] = []
        for group in self.task_groups(prefix):
            if group.pids():
                continue
            for folder in (group.cpu, group.memory):
                with contextlib.suppress(OSError):
                    folder.rmdir()
            removed.append(group.memory.name)
        return removed


def _write(path: Path, value: int) -> None:
    path.write_text(f"{value}\n", encoding="utf-8")
