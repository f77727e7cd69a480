"""`destroy` quiets the agent before CloudFormation meets it: the watchdog's schedule is disabled
first (it would wake the agent for waiting mail), the queue is purged, then tasks are stopped
until none is left — against moto's EventBridge, SQS and ECS — and a wait that runs out is told
as such, not as done."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from openclaw_deploy.infra import spec as names
from openclaw_deploy.output import RecordingReporter
from openclaw_deploy.runtime import resources
from openclaw_deploy.services import destroy
from openclaw_deploy.services.deploy import DeployContext
from tests.infra.fake_cloudformation import FakeCdk, FakeCloudFormation

NAME = "mybot"
REGION = "us-east-1"


class Recording:
    """A boto3 client whose calls are written to a shared log (the client itself is real)."""

    def __init__(self, client: Any, service: str, log: list[str]) -> None:
        self._client, self._service, self._log = client, service, log

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._client, name)
        if not callable(attribute) or name.startswith(("get_paginator", "meta")):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._log.append(f"{self._service}.{name}")
            return attribute(*args, **kwargs)

        return call


def _plan() -> destroy.DestroyPlan:
    return destroy.DestroyPlan(
        name=NAME,
        stack_name=names.stack_name(NAME),
        account="123456789012",
        region=REGION,
        stack_status="CREATE_COMPLETE",
        deleting=[],
        keeping=[],
        purging=[],
        parameters=[],
        webhook=False,
        purge=False,
    )


def _context(clients: Any, tmp: Any, clock: Any = None) -> DeployContext:
    cfn = FakeCloudFormation()
    return DeployContext(
        clients=clients,
        cdk=FakeCdk(cfn, tmp),  # type: ignore[arg-type]
        sleep=lambda _: None,
        **({"clock": clock} if clock else {}),
    )


def test_watchdog_off_queue_purged_then_every_task_stopped(aws_env: str, tmp_path: Any) -> None:
    events = boto3.client("events", region_name=REGION)
    rule = destroy.watchdog_rule(NAME)
    events.put_rule(Name=rule, ScheduleExpression="rate(1 minute)", State="ENABLED")
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(
        QueueName=resources.INBOUND.physical_name(NAME),
        Attributes={"FifoQueue": "true"},
    )["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="hi", MessageGroupId="s", MessageDeduplicationId="1")
    ecs = boto3.client("ecs", region_name=REGION)
    cluster = names.cluster_name(NAME)
    ecs.create_cluster(clusterName=cluster)
    ecs.register_task_definition(
        family=names.task_family(NAME),
        networkMode="awsvpc",
        requiresCompatibilities=["FARGATE"],
        cpu="512",
        memory="2048",
        # moto needs the container's own memory, or RunTask answers 500.
        containerDefinitions=[{"name": "agent", "image": "x", "memory": 2048, "essential": True}],
    )
    ec2 = boto3.client("ec2", region_name=REGION)
    vpc = ec2.create_vpc(CidrBlock="10.0.0.0/16")["Vpc"]["VpcId"]
    # moto's awsvpc tasks fail (500) without DNS hostnames.
    ec2.modify_vpc_attribute(VpcId=vpc, EnableDnsHostnames={"Value": True})
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.0.0.0/24")["Subnet"]["SubnetId"]
    group = ec2.create_security_group(GroupName="agent", Description="agent", VpcId=vpc)["GroupId"]
    for _ in range(2):
        ecs.run_task(
            cluster=cluster,
            taskDefinition=names.task_family(NAME),
            launchType="FARGATE",
            networkConfiguration={
                "awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [group]}
            },
        )

    log: list[str] = []

    def clients(service: str) -> Any:
        return Recording(boto3.client(service, region_name=REGION), service, log)  # type: ignore[call-overload]

    reporter = RecordingReporter()
    quiet = destroy.quiet_the_agent(_plan(), context=_context(clients, tmp_path), reporter=reporter)
    assert quiet.watchdog_disabled and quiet.queue_purged
    assert quiet.stop.stopped == 2 and quiet.stop.left == 0 and quiet.warnings == []
    assert events.describe_rule(Name=rule)["State"] == "DISABLED"
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )
    assert attributes["Attributes"]["ApproximateNumberOfMessages"] == "0"
    running = ecs.list_tasks(cluster=cluster, desiredStatus="RUNNING")["taskArns"]
    assert running == []
    # The order: nothing could wake the agent again once its tasks were being stopped.
    first_stop = log.index("ecs.stop_task")
    assert log.index("events.disable_rule") < log.index("sqs.purge_queue") < first_stop
    assert "done: No agent task left (2 stopped)" in reporter.lines


class NeverStoppingEcs:
    """A task that does not stop within the wait (a slow backup, a stuck agent)."""

    def __init__(self) -> None:
        self.stops: list[str] = []

    def get_paginator(self, name: str) -> Any:
        ecs = self

        class Pages:
            def paginate(self, **kwargs: Any) -> list[dict[str, Any]]:
                if kwargs["desiredStatus"] == "RUNNING":
                    return [{"taskArns": [] if ecs.stops else ["arn:task/1"]}]
                return [{"taskArns": ["arn:task/1"] if ecs.stops else []}]

        return Pages()

    def stop_task(self, **kwargs: Any) -> dict[str, Any]:
        self.stops.append(kwargs["task"])
        return {}

    def describe_tasks(self, **kwargs: Any) -> dict[str, Any]:
        return {"tasks": [{"taskArn": t, "lastStatus": "DEACTIVATING"} for t in kwargs["tasks"]]}


def test_a_wait_that_runs_out_says_so(aws_env: str, tmp_path: Any) -> None:
    fake = NeverStoppingEcs()
    now = [0.0]

    def clock() -> float:
        now[0] += 30.0
        return now[0]

    def clients(service: str) -> Any:
        return fake if service == "ecs" else boto3.client(service, region_name=REGION)  # type: ignore[call-overload]

    reporter = RecordingReporter()
    quiet = destroy.quiet_the_agent(
        _plan(), context=_context(clients, tmp_path, clock), reporter=reporter
    )
    # No rule and no queue (a half-deleted stack) are not errors.
    assert not quiet.watchdog_disabled and not quiet.queue_purged
    assert fake.stops == ["arn:task/1"]  # asked once, not again while it stops
    assert quiet.stop.left == 1
    assert quiet.warnings and "still running" in quiet.warnings[0]
    assert not any(line.startswith("done: No agent task left") for line in reporter.lines)


@pytest.mark.parametrize("left", [0, 1])
def test_destroy_result_is_rendered_as_it_is(left: int) -> None:
    import io

    from rich.console import Console

    from openclaw_deploy.cli.destroy import _render

    result = destroy.DestroyResult(
        name=NAME,
        stack_deleted=False,
        stopped_tasks=1,
        tasks_left=left,
        watchdog_disabled=True,
        queue_purged=True,
        webhook_removed=None,
        kept=[],
        purged=[],
        parameters_deleted=[],
    )
    out = io.StringIO()
    _render(Console(file=out, width=120), result)
    text = out.getvalue()
    assert ("in part" in text) == bool(left)
    assert ("1 still running" in text) == bool(left)
    assert "watchdog schedule disabled first" in text
