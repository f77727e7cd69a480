"""The moto server keeps DynamoDB's and SQS's promises under concurrency.

DynamoDB applies a conditional write to an item atomically, and SQS FIFO delivers a message
once and a message group in order. moto's threaded server, unguarded, checks a condition and
writes in two steps, so simultaneous writers can both win (the lifecycle then started two tasks
for twenty messages). `moto_compat` makes each request atomic; these tests race many requests
on one item or one queue and count the winners. The interpreter is told to switch threads as
often as it can, so an unguarded check-then-write interleaves in most rounds (without the fix,
every test here fails within its bounded rounds).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.conftest import REGION

ROUNDS = 20
WRITERS = 20


def _client(service: str) -> Any:
    # Enough pooled connections that every writer's request is in flight at once.
    config = Config(max_pool_connections=WRITERS * 2, retries={"max_attempts": 1})
    return boto3.client(service, region_name=REGION, config=config)  # type: ignore[call-overload]


def _race(count: int, work: Callable[[int], bool]) -> int:
    """Run `work` on `count` threads released together; how many returned True."""
    barrier = threading.Barrier(count)
    wins: list[int] = []
    errors: list[BaseException] = []

    def run(index: int) -> None:
        barrier.wait()
        try:
            if work(index):
                wins.append(index)
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    return len(wins)


@pytest.fixture
def table(aws_env: str) -> str:
    dynamodb = _client("dynamodb")
    dynamodb.create_table(
        TableName="race",
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    return "race"


def test_one_conditional_update_wins_per_item(table: str, eager_switching: None) -> None:
    dynamodb = _client("dynamodb")
    losers = dynamodb.exceptions.ConditionalCheckFailedException
    winners = []
    for round_ in range(ROUNDS):
        key = {"pk": {"S": f"agent-{round_}"}}
        if round_ % 2:  # half the rounds race on an existing Idle row, half on a missing one
            dynamodb.put_item(TableName=table, Item={**key, "state": {"S": "Idle"}})

        def start(_: int, key: dict[str, Any] = key) -> bool:
            try:
                dynamodb.update_item(
                    TableName=table,
                    Key=key,
                    UpdateExpression="SET #st = :starting",
                    ConditionExpression="attribute_not_exists(pk) OR #st = :idle",
                    ExpressionAttributeNames={"#st": "state"},
                    ExpressionAttributeValues={
                        ":starting": {"S": "Starting"},
                        ":idle": {"S": "Idle"},
                    },
                )
            except losers:
                return False
            return True

        winners.append(_race(WRITERS, start))
    assert winners == [1] * ROUNDS


def test_one_conditional_put_and_one_transaction_win_per_item(
    table: str, eager_switching: None
) -> None:
    dynamodb = _client("dynamodb")
    put_winners, transaction_winners = [], []
    for round_ in range(ROUNDS):

        def put(index: int, round_: int = round_) -> bool:
            try:
                dynamodb.put_item(
                    TableName=table,
                    Item={"pk": {"S": f"ticket-{round_}"}, "by": {"N": str(index)}},
                    ConditionExpression="attribute_not_exists(pk)",
                )
            except dynamodb.exceptions.ConditionalCheckFailedException:
                return False
            return True

        def transact(index: int, round_: int = round_) -> bool:
            try:
                dynamodb.transact_write_items(
                    TransactItems=[
                        {
                            "Put": {
                                "TableName": table,
                                "Item": {"pk": {"S": f"pair-{round_}"}, "by": {"N": str(index)}},
                                "ConditionExpression": "attribute_not_exists(pk)",
                            }
                        }
                    ]
                )
            except dynamodb.exceptions.TransactionCanceledException:
                return False
            return True

        put_winners.append(_race(WRITERS, put))
        transaction_winners.append(_race(WRITERS, transact))
    assert put_winners == [1] * ROUNDS
    assert transaction_winners == [1] * ROUNDS


def test_concurrent_counter_updates_lose_nothing(table: str, eager_switching: None) -> None:
    dynamodb = _client("dynamodb")
    key = {"pk": {"S": "usage#2026-11"}}

    def add(_: int) -> bool:
        for _step in range(5):
            dynamodb.update_item(
                TableName=table,
                Key=key,
                UpdateExpression="ADD tasks :one",
                ExpressionAttributeValues={":one": {"N": "1"}},
            )
        return True

    for _round in range(4):
        _race(WRITERS, add)
    item = dynamodb.get_item(TableName=table, Key=key, ConsistentRead=True)["Item"]
    assert item["tasks"] == {"N": str(4 * WRITERS * 5)}


@pytest.fixture
def fifo_queue(aws_env: str) -> str:
    answer = _client("sqs").create_queue(
        QueueName="race.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false"},
    )
    return str(answer["QueueUrl"])


def test_fifo_hands_a_busy_group_to_one_receiver_at_a_time(
    fifo_queue: str, eager_switching: None
) -> None:
    sqs = _client("sqs")
    received_per_round = []
    for round_ in range(ROUNDS):
        for index in range(3):
            sqs.send_message(
                QueueUrl=fifo_queue,
                MessageBody=f"{round_}-{index}",
                MessageGroupId=f"session-{round_}",
                MessageDeduplicationId=f"{round_}-{index}",
            )
        bodies: list[str] = []

        def receive(_: int, bodies: list[str] = bodies) -> bool:
            answer = sqs.receive_message(
                QueueUrl=fifo_queue, MaxNumberOfMessages=1, VisibilityTimeout=60
            )
            bodies.extend(message["Body"] for message in answer.get("Messages", []))
            return bool(answer.get("Messages"))

        _race(8, receive)
        received_per_round.append(sorted(bodies))
    # While its first message is in flight, a group gives nothing more to anyone.
    assert received_per_round == [[f"{r}-0"] for r in range(ROUNDS)]
