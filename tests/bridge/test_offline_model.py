"""The offline model speaks OpenAI's streaming chat format and follows scripts in the message."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from openclaw_deploy.offline_model import OfflineModel, plan_turn, user_words
from tests.bridge.harness import REPO


@pytest.fixture
def server() -> Iterator[OfflineModel]:
    with OfflineModel.start() as model:
        yield model


def stream(server: OfflineModel, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """POST a streamed chat completion; the decoded chunks (and check the SSE framing)."""
    chunks: list[dict[str, Any]] = []
    with httpx.stream(
        "POST",
        f"{server.base_url}/chat/completions",
        json={"model": "demo", "stream": True, "messages": messages},
        headers={"Authorization": "Bearer k"},
        timeout=10,
    ) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in answer.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    for line in lines[:-1]:
        assert line.startswith("data: ")
        chunks.append(json.loads(line.removeprefix("data: ")))
    return chunks


def text_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)


def test_streams_chat_completion_chunks_that_quote_the_user(server: OfflineModel) -> None:
    chunks = stream(server, [{"role": "user", "content": "[Thu 2026-11-26 06:54 UTC] hi there"}])

    assert {c["object"] for c in chunks} == {"chat.completion.chunk"}
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert len(chunks) > 5, "one piece per word: a real stream, not one blob"
    assert text_of(chunks).endswith("You said: hi there")
    assert server.requests[-1].headers["authorization"] == "Bearer k"


def test_a_scripted_tool_call_then_the_scripted_reply(server: OfflineModel) -> None:
    directive = (
        'save it <<offline:{"tool": {"name": "write", "arguments": '
        '{"path": "notes.md", "content": "the cat is Tom"}}, "reply": "saved"}>>'
    )
    first = stream(server, [{"role": "user", "content": directive}])

    calls = [
        c["choices"][0]["delta"]["tool_calls"][0]
        for c in first
        if c["choices"][0]["delta"].get("tool_calls")
    ]
    assert calls[0]["function"]["name"] == "write"
    arguments = "".join(call["function"].get("arguments", "") for call in calls)
    assert json.loads(arguments) == {"path": "notes.md", "content": "the cat is Tom"}
    assert first[-1]["choices"][0]["finish_reason"] == "tool_calls"

    # OpenClaw runs the tool and comes back with its result (and an internal context message).
    second = stream(
        server,
        [
            {"role": "user", "content": directive},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": calls[0]["id"],
                        "type": "function",
                        "function": {"name": "write", "arguments": arguments},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": calls[0]["id"], "content": "Successfully wrote"},
            {
                "role": "user",
                "content": [
                    {
                        "type": "text",
                        "text": "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\nnone\n"
                        "<<<END_OPENCLAW_INTERNAL_CONTEXT>>>",
                    }
                ],
            },
        ],
    )
    assert text_of(second) == "saved"
    assert second[-1]["choices"][0]["finish_reason"] == "stop"


def test_the_directive_is_read_from_the_persons_message_not_openclaws_context() -> None:
    messages = [
        {"role": "system", "content": "You are a personal assistant"},
        {
            "role": "user",
            "content": '[Thu] x <<offline:{"reply": "scripted"}>>\n\nRuntime: agent=main',
        },
        {"role": "user", "content": "<<<BEGIN_OPENCLAW_INTERNAL_CONTEXT>>>\ndata\n"},
    ]
    _, tool, text = plan_turn(messages)
    assert tool is None
    assert text == "scripted"
    assert user_words("[Thu 2026-11-26 06:54 UTC] hello\n\nRuntime: agent=main | x") == "hello"


def test_pieces_and_non_streamed_answers(server: OfflineModel) -> None:
    scripted = '<<offline:{"reply": "abcdefgh", "pieces": 4}>>'
    chunks = stream(server, [{"role": "user", "content": scripted}])
    pieces = [c["choices"][0]["delta"].get("content") for c in chunks[1:-1]]
    assert pieces == ["ab", "cd", "ef", "gh"]

    answer = httpx.post(
        f"{server.base_url}/chat/completions",
        timeout=10,
        json={"model": "demo", "messages": [{"role": "user", "content": "yo"}]},
    )
    assert answer.json()["choices"][0]["message"]["content"].endswith("You said: yo")
    models = httpx.get(f"{server.base_url}/models", timeout=10).json()
    assert [m["id"] for m in models["data"]] == ["demo"]


def test_runs_as_a_module_and_prints_its_url() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "openclaw_deploy.offline_model", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env={"PYTHONPATH": str(REPO / "src")},
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/models", timeout=10).status_code == 200
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_a_refused_post_on_a_kept_alive_connection_leaves_the_next_request_intact(
    server: OfflineModel,
) -> None:
    # A client that pools connections (OpenClaw, the bridge's model proxy) sends an embeddings
    # call and then a turn on one connection: the refused body must not leak into the turn.
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        refused = client.post("/embeddings", json={"model": "x", "input": ["a" * 500]})
        answer = client.post(
            "/chat/completions", json={"messages": [{"role": "user", "content": "hi"}]}
        )
    assert refused.status_code == 404
    assert answer.status_code == 200, answer.text
    assert "You said: hi" in answer.json()["choices"][0]["message"]["content"]


def test_a_file_the_tool_names_is_attached_with_a_media_line() -> None:
    script = {
        "tool": {"name": "browser", "arguments": {"action": "screenshot"}},
        "reply": "The page:",
        "media_from_result": r'saved to "([^"]+)"',
    }
    asked = {"role": "user", "content": f"shoot <<offline:{json.dumps(script)}>>"}
    assert plan_turn([asked])[1] == "browser"
    result = {"role": "tool", "content": '[Screenshot saved to "/state/media/a b.png". Ready.]'}
    assert plan_turn([asked, result])[2] == "The page:\n\nMEDIA:/state/media/a b.png"
    nothing = {"role": "tool", "content": "no screenshot"}
    assert "MEDIA:" not in plan_turn([asked, nothing])[2]
