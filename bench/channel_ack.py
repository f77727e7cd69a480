"""How long the Slack and Discord handlers take to acknowledge, beside Telegram's, on moto.

Slack retries an event that is not acknowledged within 3 seconds and Discord fails an
interaction that is not answered within 3 seconds, so each case below must stay well under that.
Cases are interleaved round by round, all in one run, with the same AWS side (moto in its own
process) and the channels' API stand-ins on 127.0.0.1:

* paired message while the agent runs (verify, dedupe claim, pairing, history, enqueue);
* paired message while the agent sleeps (the same, plus the Starting transition and RunTask;
  Slack also posts "waking up" in the thread);
* the same delivery again (Slack's retry / a replayed interaction: answered from the dedupe table);
* a forged signature (refused before any AWS call but the secret's, which is cached).

The Ed25519 check of a Discord interaction is timed on its own as well.

    .venv/bin/python bench/channel_ack.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src")]

import boto3  # noqa: E402
from bench.webhook_latency import free_port, start_moto, timed  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from tests.fakes.discord_api import FakeDiscord, fake_discord  # noqa: E402
from tests.fakes.slack_api import FakeSlack, fake_slack  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram, fake_telegram  # noqa: E402
from tests.handlers.conftest import DEPLOYMENT, WEBHOOK_SECRET, provision  # noqa: E402
from tests.handlers.events import http_event, telegram_event  # noqa: E402

from openclaw_deploy.handlers import discord_interactions, slack_events, telegram_webhook  # noqa: E402
from openclaw_deploy.runtime import aws, discord, resources  # noqa: E402
from openclaw_deploy.runtime.lifecycle import Lifecycle, ensure_agent_running  # noqa: E402
from openclaw_deploy.runtime.pairing import Pairing  # noqa: E402

GOAL_SECONDS = 3.0
SLACK_USER = "U0BENCH01"
DISCORD_USER = "800000000000000999"
TELEGRAM_USER = 4242


class Bench:
    def __init__(self, slack: FakeSlack, discord_api: FakeDiscord, telegram: FakeTelegram) -> None:
        self.slack, self.discord, self.telegram = slack, discord_api, telegram
        self.lifecycle = Lifecycle(aws.dynamodb(), resources.TASK_STATE.physical_name(DEPLOYMENT))
        self.forger = Ed25519PrivateKey.generate()
        pairing = Pairing(aws.dynamodb(), resources.PAIRING.physical_name(DEPLOYMENT))
        for user, channel in (
            (f"slack:{SLACK_USER}", "slack"),
            (f"discord:{DISCORD_USER}", "discord"),
        ):
            pairing.redeem(pairing.create_code().code, user, "Ada", 0, channel=channel)
        pairing.redeem(pairing.create_code().code, TELEGRAM_USER, "Ada", TELEGRAM_USER)

    # -- one delivery per channel ------------------------------------------------------------------

    def slack_event(self) -> dict[str, Any]:
        return self.slack.message_event("hello", user=SLACK_USER)

    def to_slack(self, payload: dict[str, Any], *, secret: str | None = None) -> None:
        raw = json.dumps(payload)
        headers = self.slack.signed_headers(raw, secret=secret)
        answer = slack_events.handler(
            http_event("POST", "/slack/events", raw_body=raw, headers=headers, sub=None)
        )
        assert answer["statusCode"] in (200, 401), answer

    def discord_ask(self) -> dict[str, Any]:
        return self.discord.interaction("ask", "hello", user_id=DISCORD_USER)

    def to_discord(self, interaction: dict[str, Any], *, forged: bool = False) -> None:
        raw = json.dumps(interaction)
        headers = self.discord.signed_headers(raw, key=self.forger if forged else None)
        event = http_event("POST", "/discord/interactions", raw_body=raw, headers=headers, sub=None)
        answer = discord_interactions.handler(event)
        assert answer["statusCode"] in (200, 401), answer

    def telegram_update(self) -> dict[str, Any]:
        return self.telegram.text_update("hello", user_id=TELEGRAM_USER)

    def to_telegram(self, update: dict[str, Any], *, secret: str = WEBHOOK_SECRET) -> None:
        answer = telegram_webhook.handler(telegram_event(update, secret))
        assert answer["statusCode"] in (200, 401), answer

    # -- the agent's state --------------------------------------------------------------------

    def sleep_agent(self) -> None:
        status = self.lifecycle.get()
        if status.task_arn:
            aws.ecs().stop_task(cluster=os.environ[resources.ENV_CLUSTER], task=status.task_arn)
            self.lifecycle.mark_idle(status.task_arn, "bench")

    def wake_agent(self) -> None:
        status = ensure_agent_running(self.lifecycle, aws.ecs())
        assert status.task_arn is not None
        self.lifecycle.mark_running(status.task_arn, {})

    def round(self, samples: dict[str, list[float]]) -> None:
        channels: list[
            tuple[str, Callable[[], Any], Callable[[Any], None], Callable[[Any], None]]
        ] = [
            ("slack", self.slack_event, self.to_slack, lambda p: self.to_slack(p, secret="f" * 32)),
            (
                "discord",
                self.discord_ask,
                self.to_discord,
                lambda p: self.to_discord(p, forged=True),
            ),
            (
                "telegram",
                self.telegram_update,
                self.to_telegram,
                lambda p: self.to_telegram(p, secret="forged"),  # noqa: S106
            ),
        ]
        for name, make, send, forge in channels:
            self.wake_agent()
            item = make()
            samples[f"{name}: paired, agent running"].append(timed(lambda: send(item)))  # noqa: B023
            samples[f"{name}: same delivery again"].append(timed(lambda: send(item)))  # noqa: B023
            samples[f"{name}: forged signature"].append(timed(lambda: forge(item)))  # noqa: B023
            self.sleep_agent()
            asleep = make()
            samples[f"{name}: paired, agent asleep (+RunTask)"].append(timed(lambda: send(asleep)))  # noqa: B023
            self.sleep_agent()


def run(rounds: int, slack: FakeSlack, discord_api: FakeDiscord, telegram: FakeTelegram) -> None:
    bench = Bench(slack, discord_api, telegram)
    bench.to_slack(bench.slack_event())  # warm clients and cached secrets, as a warm container
    bench.to_discord(bench.discord_ask())
    bench.to_telegram(bench.telegram_update())
    bench.sleep_agent()
    samples: defaultdict[str, list[float]] = defaultdict(list)
    for _ in range(rounds):
        bench.round(samples)
    key = bytes.fromhex(discord_api.public_key)
    body = json.dumps(bench.discord_ask()).encode()
    signature = discord_api.key.sign(body)
    verify = [timed(lambda: discord.ed25519_verify(key, body, signature)) for _ in range(50)]
    samples["discord: Ed25519 check alone"] = verify

    print(f"acknowledgement time of the chat webhooks, moto in its own process, {rounds} rounds")
    print(f"{'case':44} {'p50 ms':>8} {'p90 ms':>8} {'max ms':>8}")
    worst = 0.0
    for name in sorted(samples):
        ordered = sorted(samples[name])
        worst = max(worst, ordered[-1])
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        p50 = statistics.median(ordered)
        print(f"{name:44} {p50 * 1000:8.1f} {p90 * 1000:8.1f} {ordered[-1] * 1000:8.1f}")
    verdict = "met" if worst <= GOAL_SECONDS else "NOT met"
    goal = f"goal ≤ {GOAL_SECONDS * 1000:.0f} ms: {verdict}"
    print(f"slowest acknowledgement {worst * 1000:.0f} ms ({goal})")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    port = free_port()
    moto = start_moto(port)
    home = tempfile.mkdtemp(prefix="channel-bench-")
    os.environ.update(
        {
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_CONFIG_FILE": f"{home}/config",
            "AWS_SHARED_CREDENTIALS_FILE": f"{home}/credentials",
        }
    )
    try:
        with fake_telegram() as telegram, fake_slack() as slack, fake_discord() as discord_api:
            _, environment = provision(os.environ["AWS_ENDPOINT_URL"], telegram)
            os.environ.update(environment)
            os.environ[resources.ENV_SLACK_API_URL] = slack.url
            ssm = boto3.client("ssm")
            app = discord.DiscordApp(
                application_id=discord_api.application_id, public_key=discord_api.public_key
            )
            for secret, value in (
                (resources.SLACK_BOT_TOKEN, slack.token),
                (resources.SLACK_SIGNING_SECRET, slack.signing_secret),
                (resources.DISCORD_APP, app.to_json()),
            ):
                ssm.put_parameter(
                    Name=secret.parameter_name(DEPLOYMENT), Value=value, Type="SecureString"
                )
            run(args.rounds, slack, discord_api, telegram)
    finally:
        moto.terminate()
        moto.wait(timeout=10)


if __name__ == "__main__":
    main()
