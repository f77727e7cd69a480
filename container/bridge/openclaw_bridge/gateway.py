"""OpenClaw as a child process, and the one client that talks to it.

The gateway runs on loopback with a token made for this start. Readiness is OpenClaw's own
`/readyz`; a gateway that exits first (a config it refuses exits with 78) fails the start with
the last lines it printed. Its output is forwarded line by line to our log, redacted.

Turns go through the documented OpenAI-compatible endpoint with `stream: true` and the
`x-openclaw-session-key` header: OpenClaw keeps the session's history, the bridge sends only the
new message. Closing the stream cancels OpenClaw's run (how a turn is handed back on SIGTERM).
"""

from __future__ import annotations

import collections
import contextlib
import ctypes
import json
import logging
import re
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Final

import httpx
from httpx_sse import connect_sse

from openclaw_bridge.agent import AgentRunner

log = logging.getLogger("openclaw_bridge.gateway")
openclaw_log = logging.getLogger("openclaw")

AGENT_MODEL: Final = "openclaw/default"
RESERVED_SESSION_PREFIXES: Final = ("subagent:", "cron:", "acp:")
ANSI: Final = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TAIL_LINES: Final = 40
CONSOLE_LEVELS: Final = {
    "trace": logging.DEBUG,
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "fatal": logging.CRITICAL,
}
PR_SET_PDEATHSIG: Final = 1


class GatewayStartError(RuntimeError):
    """OpenClaw did not become ready; the message says why, for the owner."""


class TurnError(RuntimeError):
    """OpenClaw answered a turn with an error (HTTP status or an error event)."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class TurnCancelledError(RuntimeError):
    """The turn's stream was closed by the bridge (it is shutting down)."""


def openclaw_session_key(session: str) -> str:
    """Our session ids are OpenClaw session keys, except in OpenClaw's reserved namespaces."""
    if session.startswith(RESERVED_SESSION_PREFIXES):
        return f"chat:{session}"
    return session


def _load_prctl() -> Callable[..., int] | None:
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # not Linux: no parent-death signal
        return None


_PRCTL = _load_prctl()


def _die_with_parent() -> None:
    # Runs in the child between fork and exec. If the bridge is killed outright (SIGKILL, OOM),
    # the kernel sends OpenClaw SIGTERM instead of leaving it orphaned. The signal follows the
    # *thread* that forked: start OpenClaw from the main thread only.
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0)


def console_record(line: str) -> tuple[int, str] | None:
    """What to log for one line of OpenClaw's console: (level, text), or None to drop it.

    OpenClaw prints JSON records (`logging.consoleStyle: "json"`) at warn level and above. Its
    CLI runtime also prints each finished reply as a bare info record; that is conversation
    content, kept out of the task log (the history table has it). Anything that is not a
    record (a crash before logging started) is passed on as it is.
    """
    try:
        record = json.loads(line)
    except ValueError:
        return logging.INFO, line
    if not isinstance(record, dict) or not isinstance(record.get("message"), str):
        return logging.INFO, line
    level = CONSOLE_LEVELS.get(str(record.get("level", "")).lower(), logging.INFO)
    if level < logging.WARNING:
        return None
    subsystem = record.get("subsystem")
    text = record["message"].strip().replace("\n", " / ")
    if isinstance(subsystem, str) and subsystem:
        text = f"[{subsystem}] {text}"
    error = record.get("error")
    if isinstance(error, str) and error and error not in text:
        text = f"{text}: {error}"
    return level, text


class OpenClawProcess:
    def __init__(
        self,
        command: list[str],
        *,
        port: int,
        env: Mapping[str, str],
        cwd: Path,
        redact: Callable[[str], str] = lambda line: line,
        runner: AgentRunner | None = None,
    ) -> None:
        self.command = [*command, "gateway", "run", "--port", str(port), "--bind", "loopback"]
        self.port = port
        self._runner = runner or AgentRunner()
        self._env = dict(env)
        self._cwd = cwd
        self._redact = redact
        self._proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._tail: collections.deque[str] = collections.deque(maxlen=TAIL_LINES)
        self.started_at: float | None = None
        self.spawned_at: float | None = None
        """Wall-clock time of the spawn, to place OpenClaw's own log records after it."""

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def start(self) -> None:
        self.started_at = time.monotonic()
        self.spawned_at = time.time()
        self._proc = subprocess.Popen(
            # As the agent's user; the switch sets the parent-death signal again after it.
            self._runner.command(self.command, die_with_parent=True, cwd=self._cwd),
            env=self._env,
            cwd="/" if self._runner.separate else self._cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,  # noqa: PLW1509 - see _die_with_parent
        )
        assert self._proc.stdout is not None
        self._reader = threading.Thread(
            target=self._forward, args=(self._proc.stdout,), name="openclaw-log", daemon=True
        )
        self._reader.start()

    def _forward(self, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            line = ANSI.sub("", raw.decode("utf-8", "replace")).rstrip()
            if not line:
                continue
            forwarded = console_record(line)
            if forwarded is None:
                continue
            level, text = forwarded
            text = self._redact(text)
            self._tail.append(text)
            openclaw_log.log(level, "%s", text)
        stream.close()

    def returncode(self) -> int | None:
        return None if self._proc is None else self._proc.poll()

    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def tail(self, lines: int = 8) -> str:
        return " / ".join(list(self._tail)[-lines:])

    def wait_ready(self, timeout: float, *, abort: threading.Event | None = None) -> float:
        """Block until `/readyz` says ready; return the seconds since spawn."""
        assert self.started_at is not None, "start() first"
        deadline = self.started_at + timeout
        # Each look costs the task CPU that OpenClaw's start needs (2 % of a core at 20 looks a
        # second, 4 % of a 0.5 vCPU task): often at first, then four times a second.
        pause = 0.05
        with httpx.Client(timeout=httpx.Timeout(2.0)) as http:
            while True:
                code = self.returncode()
                if code is not None:
                    if self._reader is not None:
                        self._reader.join(timeout=2)
                    raise GatewayStartError(
                        f"OpenClaw exited with code {code} while starting"
                        + (f": {self.tail(2)}" if self._tail else "")
                    )
                with contextlib.suppress(httpx.HTTPError):
                    answer = http.get(f"{self.base_url}/readyz")
                    if answer.status_code == 200 and answer.json().get("ready") is True:
                        return time.monotonic() - self.started_at
                if abort is not None and abort.is_set():
                    raise GatewayStartError("the agent was asked to stop while OpenClaw started")
                if time.monotonic() > deadline:
                    raise GatewayStartError(f"OpenClaw was not ready after {timeout:.0f} s")
                time.sleep(pause)
                pause = min(0.25, pause * 1.5)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, then SIGKILL after `timeout`; return the exit code."""
        proc = self._proc
        if proc is None:
            return None
        if proc.poll() is None:
            # Through the runner: the bridge's own uid may not signal the agent's user.
            self._runner.signal(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("OpenClaw did not stop within %.0f s; killing it", timeout)
                self._runner.signal(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        if self._reader is not None:
            self._reader.join(timeout=2)
        return proc.returncode


def openclaw_start_phases(
    log_text: str, spawned_at: float, ready_seconds: float
) -> dict[str, float]:
    """OpenClaw's start by its own phases, in seconds, from the records of its log file's text.

    `modules`: spawn to "loading configuration" (Node and OpenClaw's code loading);
    `config`: to "starting HTTP server" (config, auth, plugins and runtime); `http`: to "http
    server listening"; `sidecars`: to "gateway ready" (channels, cron, hooks); `readyz`: to the
    bridge seeing `/readyz` ready. A phase whose record is missing is left out.
    """
    milestones = (
        ("modules", "loading configuration"),
        ("config", "starting HTTP server"),
        ("http", "http server listening"),
        ("sidecars", "gateway ready"),
    )
    if not log_text.strip():
        return {}
    seen: dict[str, float] = {}
    for line in log_text.splitlines():
        try:
            record = json.loads(line)
            message = str(record.get("message") or record.get("1") or "")
            at = datetime.fromisoformat(str(record["time"])).timestamp()
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        for phase, prefix in milestones:
            if phase not in seen and message.startswith(prefix) and at >= spawned_at - 1:
                seen[phase] = at
    phases: dict[str, float] = {}
    previous = spawned_at
    for phase, _ in milestones:
        if phase in seen:
            phases[phase] = round(max(0.0, seen[phase] - previous), 3)
            previous = seen[phase]
    phases["readyz"] = round(max(0.0, spawned_at + ready_seconds - previous), 3)
    return phases


class GatewayClient:
    """Streams turns from the gateway's `/v1/chat/completions`."""

    def __init__(self, base_url: str, token: str, *, turn_timeout: float = 900.0) -> None:
        self._http = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {token}"},
            # A turn may run tools for minutes between two tokens; shutdown closes the stream.
            timeout=httpx.Timeout(connect=5.0, read=turn_timeout, write=30.0, pool=10.0),
            limits=httpx.Limits(max_connections=32, max_keepalive_connections=8),
        )

    def close(self) -> None:
        self._http.close()

    def stream_reply(
        self,
        session: str,
        text: str,
        *,
        on_open: Callable[[Callable[[], None]], None] | None = None,
        model: str | None = None,
        images: list[dict[str, Any]] | None = None,
    ) -> Iterator[str]:
        """Yield the reply's text pieces as OpenClaw streams them.

        `model` (`provider/model`) runs this turn on that model instead of the configured one
        (OpenClaw's `x-openclaw-model`): how a model chosen in the settings applies at once.

        `on_open` receives a function that closes the stream; calling it from another thread
        cancels the run (the iterator then raises TurnCancelledError).
        """
        # `images`: `image_url` parts (data URIs) the model sees with the text.
        content: Any = [{"type": "text", "text": text}, *images] if images else text
        body: dict[str, Any] = {
            "model": AGENT_MODEL,
            "stream": True,
            "messages": [{"role": "user", "content": content}],
        }
        headers = {"x-openclaw-session-key": openclaw_session_key(session)}
        if model:
            headers["x-openclaw-model"] = model
        cancelled = threading.Event()
        try:
            with connect_sse(
                self._http, "POST", "/v1/chat/completions", json=body, headers=headers
            ) as source:
                response = source.response
                if on_open is not None:

                    def cancel() -> None:
                        cancelled.set()
                        # The read wakes on the shut socket and this thread closes the response
                        # itself: an httpx response is not safe to close from another thread
                        # while it is being read.
                        if not _shut_down(response):
                            response.close()

                    on_open(cancel)
                if response.status_code != 200:
                    response.read()
                    raise TurnError(_error_message(response), status=response.status_code)
                for event in source.iter_sse():
                    if event.data == "[DONE]":
                        return
                    yield from _pieces(event.data)
        except (httpx.HTTPError, RuntimeError) as error:
            if cancelled.is_set():
                raise TurnCancelledError("the turn was handed back") from None
            if isinstance(error, TurnError):
                raise
            if isinstance(error, httpx.HTTPError):
                name = type(error).__name__
                raise TurnError(f"lost the connection to OpenClaw ({name})") from None
            raise
        if cancelled.is_set():
            raise TurnCancelledError("the turn was handed back")
        raise TurnError("OpenClaw's stream ended without [DONE]")


def _shut_down(response: httpx.Response) -> bool:
    """Shut the response's socket down (False: it has none): closing the response alone does
    not wake a read blocked on it (OpenClaw sends nothing while a tool runs), and OpenClaw
    aborts the run only once it sees the connection go."""
    stream = response.extensions.get("network_stream")
    sock = stream.get_extra_info("socket") if stream is not None else None
    if not isinstance(sock, socket.socket):
        return False
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return True


def _pieces(data: str) -> Iterator[str]:
    try:
        chunk = json.loads(data)
    except ValueError:
        return
    if not isinstance(chunk, dict):
        return
    error = chunk.get("error")
    if error:
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise TurnError(str(message or "OpenClaw reported an error"))
    for choice in chunk.get("choices") or []:
        delta = choice.get("delta") if isinstance(choice, dict) else None
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, str) and content:
            yield content


def _error_message(response: httpx.Response) -> str:
    try:
        data = response.json()
    except ValueError:
        return f"OpenClaw answered HTTP {response.status_code}"
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return f"OpenClaw answered HTTP {response.status_code}: {error['message']}"
    return f"OpenClaw answered HTTP {response.status_code}"
