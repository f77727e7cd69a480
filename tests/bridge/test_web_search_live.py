"""OpenClaw's `web_search` through Brave, with the owner's brave key kept in the bridge.

A real pinned OpenClaw with the Brave plugin installed beside it (toolchain, as in the image):
the owner's brave key is in SSM only; the scripted model calls `web_search`; the plugin reaches
the Brave stand-in through the bridge's proxy, which adds the key in `X-Subscription-Token`;
the search result comes back into the answer. The key is nowhere on the agent's disk.
"""

from __future__ import annotations

import json
import uuid

import pytest

from openclaw_bridge.proxy import PLACEHOLDER_KEY
from openclaw_deploy.offline_model import OfflineModel
from openclaw_deploy.runtime import resources
from openclaw_deploy.runtime.keys import KeyStore
from tests.bridge.harness import BridgeProcess as Bridge
from tests.bridge.harness import ConnectionsEndpoint, bridge_env, provision, wait_for
from tests.fakes.brave_search import BraveSearch, brave_search

pytestmark = pytest.mark.slow

BRAVE_KEY = "BSA-canary-brave-3e4f5a6b"


def test_web_search_reaches_brave_through_the_proxy_with_the_owners_key(
    bridge_moto: str,
    openclaw_command: list[str],
    model: OfflineModel,
    connections: ConnectionsEndpoint,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    deployment = provision(bridge_moto)
    deployment.connections.add("conn-search", user="owner")
    KeyStore(deployment.client("ssm"), resources.keys_path(deployment.name)).store_key(
        "brave", BRAVE_KEY
    )
    arn = f"arn:aws:ecs:us-east-1:123456789012:task/agent/{uuid.uuid4().hex}"
    deployment.begin_start(arn)
    home = tmp_path_factory.mktemp("agent-home-search")
    brave: BraveSearch
    with brave_search(BRAVE_KEY) as brave:
        env = bridge_env(
            deployment,
            home=home,
            openclaw=openclaw_command,
            task_arn=arn,
            model_url=model.base_url,
            connections_url=connections.url,
            upstreams=json.dumps({"brave": brave.url}),
        )
        bridge = Bridge(env, home.parent / f"{home.name}.log").start()
        try:
            bridge.wait_running(timeout=150)
            # OpenClaw offers web_search through its tool search (`tool_call` by name).
            search = {"id": "web_search", "args": {"query": "openclaw on fargate"}}
            script = {"tool": {"name": "tool_call", "arguments": search}, "echo_tool_result": True}
            msg = deployment.send(f"search it <<offline:{json.dumps(script)}>>", session="search")

            def done() -> list[dict[str, object]]:
                return connections.frames(
                    "conn-search", kind="chat.final", message_id=msg.message_id
                ) or connections.frames("conn-search", kind="error", message_id=msg.message_id)

            [frame] = wait_for(done, 90, what="the answer with the search result")
        finally:
            bridge.stop()
    assert frame["type"] == "chat.final", frame
    assert brave.title("openclaw on fargate") in str(frame.get("text")), frame
    [search] = brave.searches
    assert (search.path, search.query, search.key) == (
        "/res/v1/web/search",
        "openclaw on fargate",
        BRAVE_KEY,
    )
    assert PLACEHOLDER_KEY != BRAVE_KEY
    texts = [bridge.output]
    texts += [p.read_bytes().decode("utf-8", "replace") for p in home.rglob("*") if p.is_file()]
    assert all(BRAVE_KEY not in text for text in texts), "the key is only in SSM and the bridge"
