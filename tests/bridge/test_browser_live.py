"""OpenClaw's browser tool on Debian's Chromium, turned on in the owner's settings.

A real pinned OpenClaw started by the bridge with the browser on: the scripted model calls the
`browser` tool to open a page this test serves on 127.0.0.1 (allowed for the test only: the
browser refuses loopback otherwise), the answer carries the page's title, and a screenshot the
agent takes is a PNG file in the agent's folder. Chromium runs headless, without its sandbox, with
its profile inside OpenClaw's state folder.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from threading import Thread

import httpx
import pytest

from openclaw_deploy.offline_model import OfflineModel
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.settings import Settings
from tests.bridge.harness import BridgeProcess as Bridge
from tests.bridge.harness import ConnectionsEndpoint, bridge_env, provision, wait_for
from tests.fakes.telegram_api import FakeTelegram

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium"),
]

TITLE = "Harbour lights 7c1e"
CHAT = 4242
PNG = b"\x89PNG"
# The screenshot's path in the tool's result, attached as a model attaches a file (`MEDIA:`).
SHOT = {
    "tool": {"name": "tool_call", "arguments": {"id": "browser", "args": {"action": "screenshot"}}},
    "reply": "Here is the page.",
    # Tool Search's `tool_call` hands the browser's result back as JSON: its quotes escaped.
    "media_from_result": r'Screenshot saved to \\?"([^"\\]+)',
}
HEADLINE = "Ferries run late tonight"
PAGE = f"""<!doctype html><html><head><title>{TITLE}</title></head>
<body><h1>{HEADLINE}</h1><p>Served to the agent's browser by the test.</p></body></html>"""


@contextmanager
def page_server() -> Iterator[tuple[str, list[str]]]:
    """One page on 127.0.0.1; yields its URL and the paths the browser asked for."""
    asked: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            asked.append(self.path)
            body = PAGE.encode() if self.path == "/news" else b"not here"
            self.send_response(200 if self.path == "/news" else 404)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/news", asked
    finally:
        server.shutdown()
        server.server_close()


def _browser(args: dict[str, object]) -> dict[str, object]:
    """A call of OpenClaw's browser tool, which it offers through its tool search."""
    return {"name": "tool_call", "arguments": {"id": "browser", "args": args}}


def _turn(
    deployment: object, connections: ConnectionsEndpoint, text: str, session: str
) -> dict[str, object]:
    msg = deployment.send(text, session=session)  # type: ignore[attr-defined]

    def done() -> list[dict[str, object]]:
        return connections.frames(
            "conn-browser", kind="chat.final", message_id=msg.message_id
        ) or connections.frames("conn-browser", kind="error", message_id=msg.message_id)

    [frame] = wait_for(done, 120, what="the agent's answer")
    assert frame["type"] == "chat.final", frame
    return frame


def test_the_agent_opens_a_page_in_chromium_and_takes_a_screenshot(
    bridge_moto: str,
    openclaw_command: list[str],
    model: OfflineModel,
    connections: ConnectionsEndpoint,
    telegram: FakeTelegram,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    deployment = provision(bridge_moto)
    deployment.connections.add("conn-browser", user="owner")
    Settings(deployment.client("dynamodb"), deployment.table(resources.SETTINGS)).put(
        {"browser": True}
    )
    arn = f"arn:aws:ecs:us-east-1:123456789012:task/agent/{uuid.uuid4().hex}"
    deployment.begin_start(arn)
    home = tmp_path_factory.mktemp("agent-home-browser")
    with page_server() as (url, asked):
        env = bridge_env(
            deployment,
            home=home,
            openclaw=openclaw_command,
            task_arn=arn,
            model_url=model.base_url,
            connections_url=connections.url,
            telegram_url=telegram.url,
            telegram_token=telegram.token,
            browser_allowed_hosts="127.0.0.1",
        )
        bridge = Bridge(env, home.parent / f"{home.name}.log").start()
        try:
            bridge.wait_running(timeout=150)
            opened = {
                # The first call launches Chromium: on a busy machine that takes longer than
                # the tool's default request budget, so the call names its own (as a model may).
                "tool": _browser({"action": "open", "url": url, "timeoutMs": 90000}),
                "echo_tool_result": True,
            }
            frame = _turn(
                deployment,
                connections,
                f"Open the page and tell me the headline <<offline:{json.dumps(opened)}>>",
                "browse",
            )
            read = {"tool": _browser({"action": "snapshot"}), "echo_tool_result": True}
            page = _turn(
                deployment,
                connections,
                f"What is its headline? <<offline:{json.dumps(read)}>>",
                "browse",
            )
            tabs = {"tool": _browser({"action": "tabs"}), "echo_tool_result": True}
            listed = _turn(
                deployment,
                connections,
                f"And its title? <<offline:{json.dumps(tabs)}>>",
                "browse",
            )
            shot_frame = _turn(
                deployment,
                connections,
                f"Take a screenshot of it <<offline:{json.dumps(SHOT)}>>",
                "browse",
            )
            # From Telegram: a conversation of its own opens the page, then shows it.
            for step in ({"tool": _browser({"action": "open", "url": url}), "reply": "open"}, SHOT):
                deployment.send(
                    f"Show me the page <<offline:{json.dumps(step)}>>",
                    session="tg-browse",
                    channel="telegram",
                    chat_id=CHAT,
                )
                wait_for(lambda: telegram.sent_texts(CHAT), 120, what="an answer in Telegram")
            try:
                photos = wait_for(
                    lambda: [f for f in telegram.sent_files if f["chat_id"] == CHAT],
                    120,
                    what="the screenshot in Telegram",
                )
            except AssertionError:
                calls = [(c.method, c.ok, str(c.params)[:300]) for c in telegram.calls]
                raise AssertionError(f"no photo; Telegram was called: {calls}") from None
        finally:
            bridge.stop()
    assert "/news" in asked, f"the browser did not fetch the page: {frame}"
    assert url in str(frame.get("text")), frame
    assert TITLE in str(listed.get("text")), listed
    assert HEADLINE in str(page.get("text")), page
    pngs = [p for p in home.rglob("*.png") if p.read_bytes().startswith(PNG)]
    assert pngs, f"no screenshot in the agent's folder; the answer was {shot_frame}"
    # The screenshot reaches the web chat as an image and Telegram as a photo.
    assert shot_frame["text"] == "Here is the page.", shot_frame
    [image] = shot_frame["attachments"]  # type: ignore[misc]
    assert image["contentType"] == "image/png", image
    assert httpx.get(image["url"], timeout=10).content.startswith(PNG)
    assert photos[-1]["method"] == "photo", photos[-1]
    assert photos[-1]["data"].startswith(PNG)
    # Chromium's profile is the agent's own, inside OpenClaw's state folder.
    profiles = list(home.rglob("browser/openclaw/user-data"))
    assert profiles, "Chromium's profile is not in the agent's state"
    assert "browser: on (" in bridge.output
