"""What IAM enforcement adds to each AWS call of the local target, side by side in one run.

One moto backend behind two servers in this process (as the local cloud runs it): one plain,
one with the authorizer in front. Rounds interleave the same calls through both:

* DynamoDB GetItem and SQS GetQueueAttributes signed as a component's role (decision cached
  after the first call, as in a running local cloud), through the enforcing server;
* the same calls signed with the user's own keys through the enforcing server (pass-through);
* the same calls on the plain server (no enforcement at all);
* an uncached decision: one round trip to the evaluator's Node process.

    .venv/bin/python bench/iam_enforcement.py [--rounds 300]
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "src")]

import boto3  # noqa: E402

from openclaw_deploy.config import AgentSpec  # noqa: E402
from openclaw_deploy.infra.spec import InfraSpec, function_name  # noqa: E402
from openclaw_deploy.local import moto_compat, provision  # noqa: E402
from openclaw_deploy.local.iam import enforce, policies  # noqa: E402
from openclaw_deploy.runtime import resources  # noqa: E402

NAME = "bench"
REGION = "us-east-1"
ACCOUNT = "123456789012"


def client(service: str, endpoint: str, keys: tuple[str, str]) -> Any:
    return boto3.client(  # type: ignore[call-overload]
        service,
        region_name=REGION,
        endpoint_url=endpoint,
        aws_access_key_id=keys[0],
        aws_secret_access_key=keys[1],
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=300)
    rounds = parser.parse_args().rounds
    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    spec = InfraSpec(
        name=NAME,
        region=REGION,
        account=ACCOUNT,
        availability_zones=(f"{REGION}a", f"{REGION}b"),
        agent=AgentSpec(),
        provider="offline",
        model="demo",
        secret_parameters={s.key: s.parameter_name(NAME) for s in resources.SECRETS},
    )
    started = time.perf_counter()
    job = enforce.TemplateJob(spec)
    template = job.result()
    print(
        f"template: {'cached' if job.from_cache else 'synthesized'} "
        f"in {time.perf_counter() - started:.1f}s"
    )

    moto_compat.apply()
    plain, guarded = enforce.MotoServer(), enforce.MotoServer()
    plain_url, guarded_url = plain.start(), guarded.start()
    admin = ("local", "local")
    provision.provision_tables(client("dynamodb", plain_url, admin), NAME)
    queues, dead = provision.provision_queues(client("sqs", plain_url, admin), NAME)
    started = time.perf_counter()
    enforcement = enforce.enforce(
        template,
        names=policies.LocalNames(
            deployment=NAME,
            region=REGION,
            account=ACCOUNT,
            api_id="local",
            queue_urls={u.rsplit("/", 1)[-1]: u for u in [*queues.values(), *dead.values()]},
        ),
        sessions={k: function_name(NAME, k) for k in policies.LAMBDA_COMPONENTS},
        audit_path=None,
    )
    guarded.enforce_with(enforcement.authorizer)
    print(f"evaluator start and policy load: {time.perf_counter() - started:.2f}s")
    ws = enforcement.identities["ws"]
    role = (ws.access_key_id, ws.secret_access_key)
    table = resources.TASK_STATE.physical_name(NAME)
    queue = queues["inbound"]

    def calls(endpoint: str, keys: tuple[str, str]) -> list[Callable[[], Any]]:
        ddb, sqs = client("dynamodb", endpoint, keys), client("sqs", endpoint, keys)
        return [
            lambda: ddb.get_item(TableName=table, Key={"pk": {"S": "x"}}),
            lambda: sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["All"]),
        ]

    cases = {
        "plain moto (no enforcement)": calls(plain_url, admin),
        "enforcing, user's own keys": calls(guarded_url, admin),
        "enforcing, role (cached decision)": calls(guarded_url, role),
    }
    for case in cases.values():  # warm connections and the decision cache
        for call in case:
            call()
    samples: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(rounds):
        for name, case in cases.items():
            for call in case:
                begin = time.perf_counter()
                call()
                samples[name].append(time.perf_counter() - begin)
    uncached: list[float] = []
    for index in range(rounds):
        begin = time.perf_counter()
        enforcement.evaluator.decide(
            "ws",
            principal=ws.principal,
            action="dynamodb:GetItem",
            resource=f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{table}",
            context={"aws:SourceIp": f"10.0.{index // 250}.{index % 250}"},
        )
        uncached.append(time.perf_counter() - begin)

    base = statistics.median(samples["plain moto (no enforcement)"])
    print(f"\n{rounds} rounds, GetItem + GetQueueAttributes each, median per call:")
    for name, values in samples.items():
        median = statistics.median(values)
        p95 = sorted(values)[int(len(values) * 0.95)]
        print(
            f"  {name:36s} {median * 1000:6.2f} ms  p95 {p95 * 1000:6.2f} ms  "
            f"(+{(median - base) * 1000:5.2f} ms, x{median / base:4.2f})"
        )
    print(
        f"  {'uncached decision (Node round trip)':36s} "
        f"{statistics.median(uncached) * 1000:6.2f} ms  (paid once per distinct "
        "role, action, resource, context)"
    )
    enforcement.close()
    plain.stop()
    guarded.stop()


if __name__ == "__main__":
    main()
