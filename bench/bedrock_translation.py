"""What the Bedrock translation in the model proxy costs, side by side with a passthrough.

The same streamed Anthropic Messages request (OpenClaw-sized: about 50 KB of system prompt and
tools) goes through the bridge's proxy to two stand-ins that stream the same answer with the
same pacing (tests/fakes/provider_apis.py): `/anthropic` (the proxy only swaps the key) and
`/bedrock` (the proxy rewrites the body, signs it with SigV4, decodes Bedrock's event stream and
re-encodes each event as SSE; the stand-in verifies the signature with botocore). Interleaved
request by request; the time to the first SSE event and to the end of the stream.

    .venv/bin/python bench/bedrock_translation.py [--requests 40]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src"), str(REPO / "container" / "bridge")]

import httpx  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402
from tests.fakes.provider_apis import provider_apis  # noqa: E402

from openclaw_bridge.proxy import ModelProxy, upstream_for  # noqa: E402
from openclaw_deploy.runtime.providers import get_provider  # noqa: E402

KEY = "sk-ant-bench-0123456789"


def request_body(model: str) -> bytes:
    tools = [
        {
            "name": f"tool_{i}",
            "description": "A tool OpenClaw offers. " * 20,
            "input_schema": {"type": "object", "properties": {"arg": {"type": "string"}}},
        }
        for i in range(12)
    ]
    return json.dumps(
        {
            "model": model,
            "max_tokens": 1024,
            "stream": True,
            "system": [{"type": "text", "text": "You are the owner's agent. " * 1500}],
            "tools": tools,
            "messages": [{"role": "user", "content": "hello"}],
        }
    ).encode()


def one(client: httpx.Client, url: str, body: bytes) -> tuple[float, float]:
    started = time.perf_counter()
    first = 0.0
    headers = {"content-type": "application/json", "x-api-key": "placeholder"}
    with client.stream("POST", url, content=body, headers=headers) as answer:
        assert answer.status_code == 200, answer.read()
        for line in answer.iter_lines():
            if line.startswith("event:") and not first:
                first = time.perf_counter() - started
    return first, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    results: dict[str, list[tuple[float, float]]] = {"anthropic": [], "bedrock": []}
    with provider_apis({"anthropic": KEY}, aws=Credentials("AKIDBENCH", "bench-secret")) as apis:
        routes = [
            upstream_for(get_provider(p), base_url=apis.base(p), region="us-east-1")
            for p in ("anthropic", "bedrock")
        ]
        creds = Credentials("AKIDBENCH", "bench-secret")
        with (
            ModelProxy(routes, key_for=lambda _p: KEY, credentials=lambda: creds) as proxy,
            httpx.Client(timeout=30) as client,
        ):
            bodies = {
                "anthropic": request_body("claude-bench"),
                "bedrock": request_body("anthropic.claude-bench-v1:0"),
            }
            for provider in results:  # warm both paths (imports, connections)
                one(client, f"{proxy.url(provider)}/v1/messages", bodies[provider])
            for _ in range(args.requests):
                for provider, samples in results.items():
                    url = f"{proxy.url(provider)}/v1/messages"
                    samples.append(one(client, url, bodies[provider]))
    print(f"{args.requests} streamed requests each, {len(bodies['bedrock']) // 1024} KB bodies")
    base_first = statistics.median(f for f, _ in results["anthropic"])
    base_total = statistics.median(t for _, t in results["anthropic"])
    for provider, samples in results.items():
        first = statistics.median(f for f, _ in samples)
        total = statistics.median(t for _, t in samples)
        print(
            f"  {provider:9s} first event {first * 1000:6.1f} ms ({first / base_first:4.2f}x)"
            f"   whole stream {total * 1000:6.1f} ms ({total / base_total:4.2f}x)"
        )


if __name__ == "__main__":
    main()
