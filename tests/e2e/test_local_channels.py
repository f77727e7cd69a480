"""Slack and Discord end to end through the local target, with stand-ins playing both APIs.

One local cloud for the whole module (a start costs a real OpenClaw's boot): `channels add`
checks the tokens and registers the commands against the stand-ins; strangers get codes and
start nothing; forged, stale and replayed requests are refused; after `pair approve`, a signed
Slack event and a signed Discord interaction are answered by the real OpenClaw with the offline
model, in the Slack thread and through the interaction's follow-up webhook.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from openclaw_deploy.runtime import resources
from tests.e2e.local import Local, cli, start, stop
from tests.fakes.discord_api import FakeDiscord, fake_discord
from tests.fakes.slack_api import FakeSlack, fake_slack

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

SLACK_USER = "U0E2EUSER"
SLACK_DM = "D0E2EDM01"
DISCORD_USER = "800000000000000777"
LONG_REPLY = ("All work and no play makes a dull agent. " * 120).strip()
"""About 4,900 characters: Discord takes it in three messages."""


@pytest.fixture(scope="module")
def apis() -> Iterator[tuple[FakeSlack, FakeDiscord]]:
    with fake_slack() as slack, fake_discord() as discord:
        yield slack, discord


@pytest.fixture(scope="module")
def local(
    tmp_path_factory: pytest.TempPathFactory, apis: tuple[FakeSlack, FakeDiscord]
) -> Iterator[Local]:
    slack, discord = apis
    env = {resources.ENV_SLACK_API_URL: slack.url, resources.ENV_DISCORD_API_URL: discord.url}
    workdir: Path = tmp_path_factory.mktemp("local-channels")
    deployment = start(workdir, extra_env=env)
    try:
        added = cli(
            workdir, "channels", "add", "slack", "--bot-token", "-", "--signing-secret", "-",
            "--json", extra_env=env, stdin=f"{slack.token}\n{slack.signing_secret}\n",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        assert json.loads(added.stdout)["endpoint_url"] == f"{deployment.api_url}/slack/events"
        added = cli(
            workdir, "channels", "add", "discord", "--application-id", discord.application_id,
            "--public-key", discord.public_key, "--bot-token", discord.token, "--json",
            extra_env=env,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        answer = json.loads(added.stdout)
        assert answer["endpoint_url"] == f"{deployment.api_url}/discord/interactions"
        assert answer["commands"] == ["ask", "new", "status"]
        yield deployment
    finally:
        stop(deployment)


def _wait_for(predicate: Callable[[], object], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}")


def _awake(local: Local) -> bool:
    result = cli(local.workdir, "status", "--json", timeout=60)
    assert result.returncode == 0, result.stderr
    return bool(json.loads(result.stdout)["agent"]["state"] != "Idle")


def _approve(local: Local, code: str) -> None:
    result = cli(local.workdir, "pair", "approve", code, "--json", timeout=60)
    assert result.returncode == 0, result.stderr


def test_strangers_and_forgeries_are_held_at_the_door(
    local: Local, apis: tuple[FakeSlack, FakeDiscord]
) -> None:
    slack, discord = apis
    events_url, interactions_url = (
        f"{local.api_url}/slack/events",
        f"{local.api_url}/discord/interactions",
    )
    event = slack.message_event("hello?", user=SLACK_USER, channel=SLACK_DM)
    assert slack.deliver(events_url, event, secret="f" * 32)[0] == 401
    assert slack.deliver(events_url, event, timestamp=int(time.time()) - 600)[0] == 401
    ask = discord.interaction("ask", "hello?", user_id=DISCORD_USER)
    assert discord.deliver(interactions_url, ask, key=Ed25519PrivateKey.generate())[0] == 401
    ping = discord.deliver(interactions_url, {"id": "1", "type": 1, "token": "t"})
    assert ping == (200, {"type": 1})

    assert slack.deliver(events_url, event)[0] == 200
    status, answer = discord.deliver(interactions_url, ask)
    assert status == 200 and answer["type"] == 4
    codes = sorted(set(re.findall(r"\b[A-Z2-9]{8}\b", " ".join(slack.texts(SLACK_DM)))))
    assert len(codes) == 1
    again = discord.interaction("ask", "hello again?", user_id=DISCORD_USER)
    assert discord.deliver(interactions_url, again)[1]["data"]["content"].startswith("Your request")
    assert not _awake(local)  # no stranger woke the agent

    listed = cli(local.workdir, "pair", "list", "--json", timeout=60)
    pending = {p["channel"]: p["code"] for p in json.loads(listed.stdout)["pending"]}
    assert pending["slack"] == codes[0]
    _approve(local, pending["slack"])
    _approve(local, pending["discord"])


def test_slack_and_discord_are_answered_by_the_agent_after_one_cold_start(
    local: Local, apis: tuple[FakeSlack, FakeDiscord]
) -> None:
    slack, discord = apis
    assert not _awake(local)
    events_url = f"{local.api_url}/slack/events"
    event = slack.message_event("what is the plan?", user=SLACK_USER, channel=SLACK_DM)
    posted_before = len(slack.calls_to("chat.postMessage"))
    assert slack.deliver(events_url, event)[0] == 200
    assert slack.deliver(events_url, event, retry=1)[0] == 200  # Slack's retry: answered once
    script = json.dumps({"reply": LONG_REPLY, "pieces": 8})
    ask = discord.interaction("ask", f"tell me <<offline:{script}>>", user_id=DISCORD_USER)
    status, answer = discord.deliver(f"{local.api_url}/discord/interactions", ask)
    assert (status, answer) == (200, {"type": 5})  # deferred: Discord shows "thinking…"
    token = ask["token"]

    def answers() -> list[str]:
        return [t for t in slack.shown(SLACK_DM) if "You said" in t and "what is the plan?" in t]

    _wait_for(answers, 300, "the agent's answer in the Slack thread")
    _wait_for(lambda: len(discord.responses[token]) == 3, 120, "the Discord answer's 3 pieces")
    time.sleep(2)  # a second answer would come right behind the first
    assert len(answers()) == 1  # one message, edited as the reply grew
    posts = slack.calls_to("chat.postMessage")[posted_before:]
    assert [p.params["thread_ts"] for p in posts] == [event["event"]["ts"]] * len(posts)
    assert "Waking your agent" in posts[0].params["text"]  # said while the task started
    assert slack.calls_to("chat.update")  # the reply was streamed by editing it
    pieces = discord.responses[token]
    assert all(len(piece) <= 2000 for piece in pieces)
    assert " ".join(pieces).split() == LONG_REPLY.split()

    env = {resources.ENV_SLACK_API_URL: slack.url, resources.ENV_DISCORD_API_URL: discord.url}
    status = cli(local.workdir, "status", "--json", timeout=60, extra_env=env)
    assert status.returncode == 0, status.stderr
    health = {c["channel"]: c["healthy"] for c in json.loads(status.stdout)["channels"]}
    assert health == {"slack": True, "discord": True}  # asked of the stand-ins' APIs
