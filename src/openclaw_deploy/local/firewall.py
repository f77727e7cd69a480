"""Keeps an image task's agent user off the local cloud's own ports (iptables, as root).

An image task shares this machine's network, and the local cloud's servers (moto, the API
Gateway emulator, the local Bedrock, the offline model) listen on 127.0.0.1. On AWS the agent
has no door to the deployment's data: every call needs the task role's credentials, which only
the bridge holds. Locally moto would serve a made-up key, so while an image task runs, one rule
per task refuses TCP from the agent's uid to those ports on loopback (a reset: "connection
refused"). The bridge's uid, the CLI and everything else still reach them, and the agent still
reaches the bridge's model proxy and its own gateway (other ports).

Each rule carries a comment `openclaw-local:<daemon pid>:<task>`: a task's rules go when it
ends, the daemon's when it stops, and a new daemon removes those of a daemon that is gone.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

from openclaw_deploy.errors import DeployError

TAG: Final = "openclaw-local"
CHAIN: Final = "OUTPUT"
PROBE_UID: Final = 4294967294
"""A uid nobody runs as: the start-up check adds and removes a rule for it."""
MULTIPORT_MAX: Final = 15
SEARCH_PATH: Final = ("/usr/sbin", "/sbin", "/usr/bin", "/bin")

Runner = Callable[[list[str]], "subprocess.CompletedProcess[str]"]


class FirewallError(DeployError):
    """iptables is missing or refused a rule: the agent is not kept off the local cloud."""


@dataclass(frozen=True, kw_only=True)
class Guard:
    """Whether image tasks are kept off the local cloud's ports, and how or why not."""

    guarded: bool
    reason: str


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, check=False, timeout=60)


def find_iptables() -> str | None:
    """On the PATH, or in the sbin folders a non-login root shell may leave off it."""
    return shutil.which(
        "iptables", path=os.pathsep.join([os.environ.get("PATH", ""), *SEARCH_PATH])
    )


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _comment(rule: list[str]) -> str | None:
    if "--comment" in rule:
        index = rule.index("--comment")
        if index + 1 < len(rule):
            return rule[index + 1]
    return None


class LoopbackGuard:
    """The rules of one local cloud (its `owner` pid) for the loopback `ports` it serves."""

    def __init__(
        self,
        ports: Sequence[int],
        *,
        owner: int | None = None,
        iptables: str | None = None,
        run: Runner = _run,
    ) -> None:
        self.ports = sorted(set(ports))
        self.owner = os.getpid() if owner is None else owner
        self._iptables = iptables if iptables is not None else find_iptables()
        self._run = run

    def tag(self, task: str) -> str:
        return f"{TAG}:{self.owner}:{task}"

    def _call(self, *args: str) -> str:
        if self._iptables is None:
            raise FirewallError(
                "iptables is not installed: image tasks can reach the local cloud's ports",
                hint="apt-get install iptables (scripts/setup does), then restart the local cloud",
            )
        try:
            answer = self._run([self._iptables, "-w", *args])
        except OSError as error:
            raise FirewallError(
                f"iptables cannot run: {error.strerror or error}",
                hint="apt-get install iptables (scripts/setup does), as root",
            ) from error
        if answer.returncode != 0:
            lines = (answer.stderr or answer.stdout).strip().splitlines()
            detail = lines[-1] if lines else f"exit {answer.returncode}"
            raise FirewallError(
                f"iptables {' '.join(args[:2])} failed: {detail}",
                hint="run the local cloud as root on a kernel with netfilter (owner match)",
            )
        return answer.stdout

    def _spec(self, uid: int, ports: Sequence[int], tag: str) -> list[str]:
        return [
            "-o", "lo", "-p", "tcp",
            "-m", "owner", "--uid-owner", str(uid),
            "-m", "multiport", "--dports", ",".join(str(port) for port in ports),
            "-m", "comment", "--comment", tag,
            "-j", "REJECT", "--reject-with", "tcp-reset",
        ]  # fmt: skip

    def rules(self) -> list[list[str]]:
        """Every tagged rule in the chain (of any local cloud), as `iptables -S` writes it."""
        found = []
        for line in self._call("-S", CHAIN).splitlines():
            rule = shlex.split(line)
            comment = _comment(rule)
            if rule[:2] == ["-A", CHAIN] and comment and comment.startswith(f"{TAG}:"):
                found.append(rule)
        return found

    def _delete(self, keep: Callable[[str], bool]) -> list[str]:
        removed = []
        for rule in self.rules():
            comment = _comment(rule) or ""
            if keep(comment):
                continue
            self._call("-D", CHAIN, *rule[2:])
            removed.append(comment)
        return removed

    def protect(self, task: str, uid: int) -> None:
        """Refuse `uid`'s TCP to the ports, first in the chain (before any ACCEPT)."""
        tag = self.tag(task)
        added = 0
        try:
            for start in range(0, len(self.ports), MULTIPORT_MAX):
                chunk = self.ports[start : start + MULTIPORT_MAX]
                self._call("-I", CHAIN, "1", *self._spec(uid, chunk, tag))
                added += 1
        except FirewallError:
            if added:
                self.release(task)
            raise

    def release(self, task: str) -> list[str]:
        """Remove `task`'s rules; returns their tags."""
        tag = self.tag(task)
        return self._delete(lambda comment: comment != tag)

    def close(self) -> list[str]:
        """Remove every rule of this local cloud."""
        mine = f"{TAG}:{self.owner}:"
        return self._delete(lambda comment: not comment.startswith(mine))

    def sweep(self) -> list[str]:
        """Remove the rules of local clouds that are gone (a crash leaves them behind)."""

        def keep(comment: str) -> bool:
            pid = comment.split(":")[1] if comment.count(":") >= 2 else ""
            if not pid.isdigit():
                return False
            return int(pid) != self.owner and _alive(int(pid))

        return self._delete(keep)

    def check(self) -> Guard:
        """Sweep leftovers, then add and remove one rule: can this machine keep tasks off?"""
        try:
            swept = self.sweep()
            self.protect("check", PROBE_UID)
            self.release("check")
        except FirewallError as error:
            return Guard(guarded=False, reason=error.message)
        ports = ", ".join(str(port) for port in self.ports)
        note = f"; removed {len(swept)} leftover rule(s)" if swept else ""
        return Guard(guarded=True, reason=f"iptables refuses the agent's uid ports {ports}{note}")
