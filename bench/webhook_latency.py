"""How long the Telegram webhook handler takes to answer 200, with the AWS side on moto.

Cases are interleaved round by round and shown beside one bare FIFO `SendMessage` on the same
moto server (the least any accepted message costs), all in one run:

* paired text while the agent runs (dedupe claim, pairing lookup, history, enqueue, status);
* paired text while the agent sleeps (the same, plus the Starting transition and RunTask);
* the same update delivered again (answered from the dedupe table);
* a stranger's first message (pairing code) and a forged secret (refused);
* a cold container: the first paired text after the boto3 clients were dropped.

Goal: 200 within about a second (Telegram's patience) in every case it accepts. moto runs in
its own process so it does not share this one's GIL.

    .venv/bin/python bench/webhook_latency.py [--rounds 40]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src")]

import boto3  # noqa: E402
import httpx  # noqa: E402
from tests.fakes.telegram_api import FakeTelegram, fake_telegram  # noqa: E402
from tests.handlers.conftest import DEPLOYMENT, WEBHOOK_SECRET, provision  # noqa: E402
from tests.handlers.events import telegram_event  # noqa: E402

from openclaw_deploy.handlers import telegram_webhook  # noqa: E402
from openclaw_deploy.runtime import aws, resources  # noqa: E402
from openclaw_deploy.runtime.lifecycle import Lifecycle, ensure_agent_running  # noqa: E402
from openclaw_deploy.runtime.pairing import Pairing  # noqa: E402

GOAL_SECONDS = 1.0
USER = 4242


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_moto(port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("moto did not start")


def timed(call: Callable[[], object]) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    port = free_port()
    moto = start_moto(port)
    home = tempfile.mkdtemp(prefix="webhook-bench-")
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
        with fake_telegram() as telegram:
            stack, environment = provision(os.environ["AWS_ENDPOINT_URL"], telegram)
            os.environ.update(environment)
            run(args.rounds, stack.queue_url, telegram)
    finally:
        moto.terminate()
        moto.wait(timeout=10)


class Bench:
    """The deployment under test and the calls being timed."""

    def __init__(self, queue_url: str, telegram: FakeTelegram) -> None:
        self.queue_url = queue_url
        self.telegram = telegram
        self.lifecycle = Lifecycle(aws.dynamodb(), resources.TASK_STATE.physical_name(DEPLOYMENT))
        self.sqs = boto3.client("sqs")
        self.counter = iter(range(10**9))
        pairing = Pairing(aws.dynamodb(), resources.PAIRING.physical_name(DEPLOYMENT))
        pairing.redeem(pairing.create_code().code, USER, "Ada", USER)

    def deliver(self, update: dict[str, Any], secret: str = WEBHOOK_SECRET) -> None:
        answer = telegram_webhook.handler(telegram_event(update, secret))
        assert answer["statusCode"] in (200, 401), answer

    def send_bare(self) -> None:
        self.sqs.send_message(
            QueueUrl=self.queue_url,
            MessageBody="{}",
            MessageGroupId="bench",
            MessageDeduplicationId=f"bare-{next(self.counter)}",
        )

    def text(self) -> dict[str, Any]:
        return self.telegram.text_update(f"message {next(self.counter)}", user_id=USER)

    def sleep_agent(self) -> None:
        status = self.lifecycle.get()
        if status.task_arn:
            aws.ecs().stop_task(cluster=os.environ[resources.ENV_CLUSTER], task=status.task_arn)
            self.lifecycle.mark_idle(status.task_arn, "bench")

    def wake_agent(self) -> None:
        status = ensure_agent_running(self.lifecycle, aws.ecs())
        assert status.task_arn is not None
        self.lifecycle.mark_running(status.task_arn, {})

    def round(self, index: int, samples: dict[str, list[float]]) -> None:
        samples[BASELINE].append(timed(self.send_bare))
        self.wake_agent()
        update = self.text()
        samples["paired text, agent running"].append(timed(lambda: self.deliver(update)))
        samples["same update again (duplicate)"].append(timed(lambda: self.deliver(update)))
        self.sleep_agent()
        asleep = self.text()
        samples["paired text, agent asleep (+RunTask)"].append(timed(lambda: self.deliver(asleep)))
        self.sleep_agent()
        stranger = self.telegram.text_update("hi", user_id=10_000 + index)
        samples["stranger's first message"].append(timed(lambda: self.deliver(stranger)))
        samples["forged secret"].append(timed(lambda: self.deliver(stranger, "forged")))

    def cold(self) -> float:
        self.wake_agent()
        aws.clear_caches()  # a new Lambda container: clients and the secret are rebuilt
        update = self.text()
        took = timed(lambda: self.deliver(update))
        self.sleep_agent()
        return took


BASELINE = "bare SQS SendMessage (baseline)"
CASES = [
    BASELINE,
    "paired text, agent running",
    "paired text, agent asleep (+RunTask)",
    "same update again (duplicate)",
    "stranger's first message",
    "forged secret",
]


def run(rounds: int, queue_url: str, telegram: FakeTelegram) -> None:
    bench = Bench(queue_url, telegram)
    bench.deliver(bench.text())  # warm the clients once, as a warm Lambda container has them
    samples: dict[str, list[float]] = {case: [] for case in CASES}
    cold: list[float] = []
    for index in range(rounds):
        bench.round(index, samples)
        if index < 5:
            cold.append(bench.cold())
    samples["cold container, paired text (running)"] = cold

    base = statistics.median(samples[BASELINE])
    print(f"webhook handler time to answer, moto in its own process, {rounds} rounds interleaved")
    print(f"{'case':40} {'p50 ms':>8} {'p90 ms':>8} {'max ms':>8} {'p50 vs SendMessage':>19}")
    worst = 0.0
    for name, values in samples.items():
        ordered = sorted(values)
        p50 = statistics.median(ordered)
        p90 = ordered[int(0.9 * (len(ordered) - 1))]
        if name != BASELINE:
            worst = max(worst, ordered[-1])
        print(
            f"{name:40} {p50 * 1000:8.1f} {p90 * 1000:8.1f} {ordered[-1] * 1000:8.1f} "
            f"{p50 / base:18.1f}x"
        )
    verdict = "met" if worst <= GOAL_SECONDS else "NOT met"
    print(f"slowest answer {worst * 1000:.0f} ms (goal ≤ {GOAL_SECONDS * 1000:.0f} ms: {verdict})")


if __name__ == "__main__":
    main()
