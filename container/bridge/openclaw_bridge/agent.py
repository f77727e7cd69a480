"""How the bridge runs OpenClaw (and anything else of the agent's) as the agent's own user.

In the image the bridge runs as `bridge` and holds the secrets; OpenClaw runs as `openclaw`
(uid 10001) and holds none. Two helpers, copies of util-linux `setpriv` and procps `kill`, are
the only privileged files, each with the one file capability it needs and executable only by
the bridge's group (root:bridge, mode 0750):

* `agent-setpriv` (CAP_SETUID, CAP_SETGID, CAP_SETPCAP) starts a command as the agent's user
  with no supplementary group, empty inheritable, ambient and bounding capability sets and
  `no_new_privs`, so nothing the agent runs can gain a privilege again (a set-uid or file-capable
  binary included); its parent-death signal is set again after the switch, so OpenClaw still
  dies with the bridge.
* `agent-kill` (CAP_KILL) signals the agent's processes: after the switch the bridge's own uid
  may no longer signal them, and stop and restart need SIGTERM and SIGKILL.

Without `OPENCLAW_BRIDGE_AGENT_USER` (the local target's process mode, tests) the commands run
as the bridge's own user, through the same code paths.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

HELPERS_DIR: Final = Path("/usr/local/libexec/openclaw-deploy")
SETPRIV: Final = "agent-setpriv"
KILL: Final = "agent-kill"
DEFAULT_PATH: Final = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


class AgentUserError(RuntimeError):
    """The agent's user or the helpers that switch to it are missing or unusable."""


@dataclass(frozen=True, kw_only=True)
class AgentRunner:
    """Runs commands as the agent's user (or, with no user, as the bridge's own)."""

    user: str | None = None
    uid: int = field(default_factory=os.getuid)
    gid: int = field(default_factory=os.getgid)
    home: str | None = None
    helpers: Path = HELPERS_DIR

    @classmethod
    def for_user(cls, user: str | None, *, helpers: Path = HELPERS_DIR) -> AgentRunner:
        if not user:
            return cls(home=os.environ.get("HOME"))
        try:
            entry = pwd.getpwuid(int(user)) if user.isdigit() else pwd.getpwnam(user)
        except (KeyError, ValueError):
            raise AgentUserError(f"the agent's user {user!r} does not exist") from None
        if entry.pw_uid == os.getuid():
            raise AgentUserError(f"the agent's user {user!r} is the bridge's own user")
        for name in (SETPRIV, KILL):
            if not os.access(helpers / name, os.X_OK):
                raise AgentUserError(f"{helpers / name} is missing or not executable")
        return cls(
            user=entry.pw_name,
            uid=entry.pw_uid,
            gid=entry.pw_gid,
            home=entry.pw_dir,
            helpers=helpers,
        )

    @property
    def separate(self) -> bool:
        """True when the agent runs as another user than the bridge."""
        return self.user is not None

    def command(
        self, argv: list[str], *, die_with_parent: bool = False, cwd: Path | None = None
    ) -> list[str]:
        """`argv` as the agent's user: through `agent-setpriv` when the user is separate (then
        `cwd` is entered as that user; the caller starts the command anywhere)."""
        if not self.separate:
            return list(argv)
        if cwd is not None:
            argv = ["/usr/bin/env", f"--chdir={cwd}", *argv]
        prefix = [
            str(self.helpers / SETPRIV),
            f"--reuid={self.uid}",
            f"--regid={self.gid}",
            "--clear-groups",
            "--inh-caps=-all",
            "--ambient-caps=-all",
            "--bounding-set=-all",
            "--no-new-privs",
        ]
        if die_with_parent:
            prefix.append("--pdeathsig=TERM")
        return [*prefix, "--", *argv]

    def run(self, argv: list[str], *, timeout: float) -> str:
        """Run `argv` as the agent's user with an empty environment; its stdout. Raises
        AgentUserError with its last line of output when it fails."""
        try:
            result = subprocess.run(
                self.command(argv),
                env={"PATH": DEFAULT_PATH},
                cwd="/",
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise AgentUserError(f"could not run {argv[0]} as the agent: {error}") from None
        if result.returncode != 0:
            lines = (result.stderr or result.stdout).strip().splitlines()
            raise AgentUserError(
                f"{argv[0]} as the agent failed (exit {result.returncode})"
                + (f": {lines[-1]}" if lines else "")
            )
        return result.stdout

    def read_text(self, path: Path) -> str:
        """A file of the agent's, read as the agent (the bridge does not open its files); ""
        when it cannot be read."""
        try:
            return self.run(["cat", "--", str(path)], timeout=30)
        except AgentUserError:
            return ""

    def signal(self, pid: int, signum: int) -> None:
        """Send `signum` to the agent's process `pid` (a child of the bridge, not yet reaped)."""
        if not self.separate:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)
            return
        name = signal.Signals(signum).name.removeprefix("SIG")
        subprocess.run(
            [str(self.helpers / KILL), "-s", name, str(pid)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=10,
            check=False,
        )
