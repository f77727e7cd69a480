"""The offline model: a small OpenAI-compatible streaming server that needs no key and no network.

OpenClaw talks to it as a custom `openai-completions` provider (`POST {baseUrl}/chat/completions`
with `stream: true`), so the agent, the bridge and the local target run end to end without an LLM
account. It answers every turn with a short, deterministic demo reply that quotes the user.

Tests script it through a directive inside the user's message, which survives every hop (queue,
bridge, OpenClaw) because it is plain text:

    <<offline:{"tool": {"name": "write", "arguments": {"path": "a.md", "content": "x"}},
               "reply": "saved", "delay_ms": 50, "first_token_delay_ms": 0}>>

* `tool`: answer with this tool call first; once OpenClaw sends the tool result back, answer with
  `reply` (or a default line naming the tool). OpenClaw offers only a dozen tools by name; the
  rest (e.g. `automations`, its cron jobs) sit behind Tool Search and are called through
  `{"name": "tool_call", "arguments": {"id": "automations", "args": {...}}}`, as a model would;
* `reply`: the text to stream instead of the demo answer;
* `delay_ms`: pause between streamed pieces; `first_token_delay_ms`: pause before the first one;
* `pieces`: how many pieces to stream the reply in (default: one per word);
* `echo_tool_result`: once the tool's result is back, answer with that result itself (a test
  then sees what the tool did, e.g. the output of an `exec` command);
* `media_from_result`: a regular expression with one group; once the tool's result is back,
  answer `reply` and a `MEDIA:` line with the group's first match in that result (a file the
  tool made, e.g. a browser screenshot, attached as a model would attach it);
* `report_input`: answer with what the turn's message carried: how many image parts (and their
  media types and sizes) and the text, e.g. the lines naming attached files.

Run it with `python -m openclaw_deploy.offline_model --port N`, or in-process with
`OfflineModel.start()`. Stdlib only.
"""

from __future__ import annotations

import argparse
import json
import re
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Final

MODEL_ID: Final = "demo"
PROVIDER_ID: Final = "offline"
CONTEXT_WINDOW: Final = 128_000
MAX_TOKENS: Final = 4096
DIRECTIVE: Final = re.compile(r"<<offline:(\{.*?\})>>", re.DOTALL)
DEMO_REPLY: Final = (
    "Hello from the offline demo model. I run on your machine and cannot think, but I can show "
    "you how your agent streams replies. You said: {quote}"
)
TOOL_DONE_REPLY: Final = "Done: the {tool} tool finished."
QUOTE_CHARS: Final = 200
# OpenClaw wraps what the person typed: a `[timestamp] ` prefix, a `Runtime:` line on a session's
# first turn, and internal context blocks (sometimes as a separate trailing user message).
INTERNAL_BEGIN: Final = "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>"
INTERNAL_BLOCK: Final = re.compile(
    r"<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>.*?(<<<END_OPENCLAW_INTERNAL_CONTEXT>>>|$)", re.DOTALL
)
ENVELOPE_TIME: Final = re.compile(r"^\s*\[[^\]\n]{1,64}\]\s*")
RUNTIME_MARKER: Final = "\n\nRuntime: "


@dataclass(frozen=True, kw_only=True)
class Script:
    """What one turn should do, read from a directive in the user's message."""

    reply: str | None = None
    tool: dict[str, Any] | None = None
    delay_ms: float = 0.0
    first_token_delay_ms: float = 0.0
    pieces: int | None = None
    echo_tool_result: bool = False
    report_input: bool = False
    media_from_result: str | None = None

    @classmethod
    def parse(cls, text: str) -> Script:
        match = DIRECTIVE.search(text)
        if not match:
            return cls()
        try:
            data = json.loads(match.group(1))
        except ValueError:
            return cls()
        if not isinstance(data, dict):
            return cls()
        tool = data.get("tool")
        reply = data.get("reply")
        pieces = data.get("pieces")
        return cls(
            reply=reply if isinstance(reply, str) else None,
            tool=tool if isinstance(tool, dict) and isinstance(tool.get("name"), str) else None,
            delay_ms=float(data.get("delay_ms") or 0),
            first_token_delay_ms=float(data.get("first_token_delay_ms") or 0),
            pieces=pieces if isinstance(pieces, int) and pieces > 0 else None,
            echo_tool_result=data.get("echo_tool_result") is True,
            report_input=data.get("report_input") is True,
            media_from_result=media
            if isinstance(media := data.get("media_from_result"), str)
            else None,
        )


@dataclass
class RecordedRequest:
    """One request the model served, for tests: the headers (names in lower case) and the
    decoded JSON body."""

    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class _State:
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def message_text(message: dict[str, Any]) -> str:
    """The text of one chat message, whether `content` is a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(part.get("text", "")) for part in content if isinstance(part, dict))
    return ""


def _is_internal(text: str) -> bool:
    return text.lstrip().startswith(INTERNAL_BEGIN)


def user_words(text: str) -> str:
    """What the person typed, without OpenClaw's envelope (timestamp, runtime line, context)."""
    text = INTERNAL_BLOCK.sub("", text)
    text = ENVELOPE_TIME.sub("", text, count=1)
    return text.split(RUNTIME_MARKER, 1)[0].strip()


def plan_turn(messages: list[dict[str, Any]]) -> tuple[Script, str | None, str]:
    """Decide this call's answer: (script, tool to call now or None, text to stream).

    The directive lives in the latest message the person wrote (OpenClaw may add an internal
    context message after it, which does not count). A tool is called until its result comes
    back; after that the model answers in words.
    """
    last_user_index = max(
        (
            i
            for i, m in enumerate(messages)
            if m.get("role") == "user" and not _is_internal(message_text(m))
        ),
        default=-1,
    )
    user_text = message_text(messages[last_user_index]) if last_user_index >= 0 else ""
    script = Script.parse(user_text)
    tool_results = [m for m in messages[last_user_index + 1 :] if m.get("role") == "tool"]
    if script.tool is not None and not tool_results:
        return script, str(script.tool["name"]), ""
    if script.tool is not None and (script.media_from_result or script.echo_tool_result):
        return script, None, _from_tool_result(script, message_text(tool_results[-1]))
    if script.report_input:
        return script, None, report_input(messages[last_user_index] if last_user_index >= 0 else {})
    if script.reply is not None:
        return script, None, script.reply
    if script.tool is not None:
        return script, None, TOOL_DONE_REPLY.format(tool=script.tool["name"])
    quote = user_words(DIRECTIVE.sub("", user_text))
    if len(quote) > QUOTE_CHARS:
        quote = quote[: QUOTE_CHARS - 1] + "…"
    return script, None, DEMO_REPLY.format(quote=quote or "(nothing)")


def _from_tool_result(script: Script, result: str) -> str:
    """The answer made from the tool's result: the result itself, or a reply attaching the
    file it names."""
    if script.media_from_result:
        found = re.search(script.media_from_result, result)
        media = f"\n\nMEDIA:{found.group(1)}" if found else "\n\n(the tool made no file)"
        return (script.reply or "Here it is.") + media
    return result or "(the tool printed nothing)"


def report_input(message: dict[str, Any]) -> str:
    """What one user message carried, for tests: its image parts and its text."""
    content = message.get("content")
    images: list[str] = []
    for part in content if isinstance(content, list) else []:
        if isinstance(part, dict) and part.get("type") == "image_url":
            url = str((part.get("image_url") or {}).get("url", ""))
            head, _, data = url.partition(",")
            kind = head.removeprefix("data:").split(";")[0] or "url"
            images.append(f"{kind} {len(data) * 3 // 4} bytes")
    text = user_words(DIRECTIVE.sub("", message_text(message)))
    return f"images: {len(images)} [{'; '.join(images)}] text: {text}"


def split_pieces(text: str, pieces: int | None) -> list[str]:
    """Split text into streamed pieces: one per word (keeping spaces), or `pieces` even parts."""
    if not text:
        return []
    if pieces is None:
        return re.findall(r"\S+\s*|\s+", text)
    size = max(1, -(-len(text) // pieces))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _chunk(completion_id: str, created: int, delta: dict[str, Any], finish: str | None) -> str:
    body = {
        "id": completion_id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": MODEL_ID,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }
    return "data: " + json.dumps(body, separators=(",", ":"), ensure_ascii=False) + "\n\n"


def stream_events(script: Script, tool: str | None, text: str) -> Iterator[tuple[float, str]]:
    """The SSE events of one streamed answer, each with the pause (seconds) to take before it."""
    completion_id = "chatcmpl-" + uuid.uuid4().hex[:24]
    created = int(time.time())
    first = script.first_token_delay_ms / 1000
    step = script.delay_ms / 1000
    yield first, _chunk(completion_id, created, {"role": "assistant", "content": ""}, None)
    if tool is not None:
        assert script.tool is not None
        arguments = json.dumps(script.tool.get("arguments") or {}, ensure_ascii=False)
        call_id = "call_" + uuid.uuid4().hex[:20]
        head = {
            "index": 0,
            "id": call_id,
            "type": "function",
            "function": {"name": tool, "arguments": ""},
        }
        yield 0.0, _chunk(completion_id, created, {"tool_calls": [head]}, None)
        for piece in split_pieces(arguments, 3):
            delta = {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}
            yield step, _chunk(completion_id, created, delta, None)
        yield 0.0, _chunk(completion_id, created, {}, "tool_calls")
    else:
        for piece in split_pieces(text, script.pieces):
            yield step, _chunk(completion_id, created, {"content": piece}, None)
        yield 0.0, _chunk(completion_id, created, {}, "stop")
    yield 0.0, "data: [DONE]\n\n"


def completion_body(tool: str | None, text: str, script: Script) -> dict[str, Any]:
    """A non-streamed `chat.completion`, for clients that do not ask for a stream."""
    message: dict[str, Any] = {"role": "assistant", "content": text}
    finish = "stop"
    if tool is not None and script.tool is not None:
        message["content"] = None
        message["tool_calls"] = [
            {
                "id": "call_" + uuid.uuid4().hex[:20],
                "type": "function",
                "function": {
                    "name": tool,
                    "arguments": json.dumps(script.tool.get("arguments") or {}),
                },
            }
        ]
        finish = "tool_calls"
    return {
        "id": "chatcmpl-" + uuid.uuid4().hex[:24],
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL_ID,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 0, "completion_tokens": len(text.split()), "total_tokens": 0},
    }


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: request lines would carry nothing useful and clutter the agent's log."""

    def _send_json(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [
                        {"id": MODEL_ID, "object": "model", "created": 0, "owned_by": PROVIDER_ID}
                    ],
                },
            )
        elif self.path in ("/healthz", "/"):
            self._send_json(200, {"ok": True})
        else:
            self._send_json(404, {"error": {"message": "not found", "type": "not_found"}})

    def do_POST(self) -> None:
        # The body is read first, whatever the path: left unread on a kept-alive connection, it
        # would be taken for the next request (a client that pools connections, like OpenClaw's
        # or the bridge's model proxy, then gets a 400 for its next call).
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not self.path.rstrip("/").endswith("/chat/completions"):
            self._send_json(404, {"error": {"message": "not found", "type": "not_found"}})
            return
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self._send_json(
                400, {"error": {"message": "body is not JSON", "type": "invalid_request_error"}}
            )
            return
        messages = body.get("messages") if isinstance(body, dict) else None
        if not isinstance(messages, list):
            self._send_json(
                400,
                {"error": {"message": "messages must be a list", "type": "invalid_request_error"}},
            )
            return
        with self.server.state.lock:
            self.server.state.requests.append(
                RecordedRequest(
                    path=self.path,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
            )
        script, tool, text = plan_turn([m for m in messages if isinstance(m, dict)])
        if not body.get("stream"):
            self._send_json(200, completion_body(tool, text, script))
            return
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        try:
            for pause, event in stream_events(script, tool, text):
                if pause > 0:
                    time.sleep(pause)
                self.wfile.write(event.encode())
                self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return  # the client (OpenClaw) went away mid-stream: nothing left to do


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: _State


class OfflineModel:
    """The offline model server, started in a background thread (tests, the local target)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = _Server((host, port), _Handler)
        self._server.state = _State()
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="offline-model", daemon=True
        )

    @classmethod
    def start(cls, host: str = "127.0.0.1", port: int = 0) -> OfflineModel:
        model = cls(host, port)
        model._thread.start()
        return model

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        """The `baseUrl` OpenClaw's provider entry needs (it appends `/chat/completions`)."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._server.state.lock:
            return list(self._server.state.requests)

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> OfflineModel:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m openclaw_deploy.offline_model",
        description="An OpenAI-compatible streaming demo model that needs no key.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    server = _Server((args.host, args.port), _Handler)
    server.state = _State()
    # The chosen port on stdout lets a parent that passed --port 0 find the server.
    url = f"http://{args.host}:{server.server_address[1]}/v1"
    print(f"offline model listening on {url}", flush=True)  # noqa: T201
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
