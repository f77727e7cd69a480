"""Where moto differs from AWS in a way our system would feel, made to behave like AWS.

SQS FIFO long polls: moto decides which message groups are busy once, when a long poll begins,
and keeps that view for the whole wait (up to 20 s). Real SQS looks again as groups free up. The
bridge long-polls while it answers a message, so on moto the *next* message of the same
conversation waited for that poll to run out — 20 s of added latency that AWS does not have.
Here a long poll looks again at least every POLL_SECONDS, as SQS does when groups free up.

Atomic requests: moto's server answers requests on many threads and guards no data. A
DynamoDB conditional write reads the item, checks the condition, then writes — with no lock, two
concurrent `attribute_not_exists(pk)` updates can both pass the check and both write (seen as two
RunTask calls from twenty simultaneous messages). DynamoDB applies each single-item write and
each transaction atomically. Here every DynamoDB request runs alone (one lock per process:
stricter than per item, never weaker), and so do the SQS calls that change a queue (a FIFO
deduplication check and its append, a receive that marks a message group busy), so concurrent
senders and receivers see SQS's once-only, in-order delivery.

Applied by the local cloud and by the test suite's moto server (both run moto in-process).
"""

from __future__ import annotations

import functools
import inspect
import threading
import time
from collections.abc import Callable
from typing import Any, Final

POLL_SECONDS: Final = 0.05
"""How often a waiting receive looks again (new messages wake it at once)."""

_DYNAMODB_LOCK: Final = threading.RLock()
_SQS_LOCK: Final = threading.RLock()
_SQS_CHANGES: Final = (
    "send_message",
    "send_message_batch",
    "delete_message",
    "delete_message_batch",
    "change_message_visibility",
    "change_message_visibility_batch",
    "purge_queue",
)
_NOT_ACTIONS: Final = frozenset({"call_action", "get_endpoint_name"})


def apply() -> None:
    _serialize_dynamodb()
    _serialize_sqs()
    _slice_sqs_long_polls()


def _locked(function: Callable[..., Any], lock: threading.RLock) -> Callable[..., Any]:
    @functools.wraps(function)
    def run(*args: Any, **kwargs: Any) -> Any:
        with lock:
            return function(*args, **kwargs)

    run._atomic = True  # type: ignore[attr-defined]
    return run


def _serialize_dynamodb() -> None:
    """Every DynamoDB action (the handler's whole request: read, check, write and the
    ReturnValues it computes from the old item) runs under one lock."""
    from moto.dynamodb.responses import DynamoHandler

    for name, member in list(vars(DynamoHandler).items()):
        if name.startswith("_") or name in _NOT_ACTIONS or not inspect.isfunction(member):
            continue
        if getattr(member, "_atomic", False):
            continue
        setattr(DynamoHandler, name, _locked(member, _DYNAMODB_LOCK))


def _serialize_sqs() -> None:
    from moto.sqs.models import SQSBackend

    for name in _SQS_CHANGES:
        member = getattr(SQSBackend, name)
        if not getattr(member, "_atomic", False):
            setattr(SQSBackend, name, _locked(member, _SQS_LOCK))


def _slice_sqs_long_polls() -> None:
    from moto.sqs.models import SQSBackend

    original = SQSBackend.receive_message
    if getattr(original, "_sliced", False):
        return

    def receive_message(
        self: Any,
        queue_name: str,
        count: int,
        wait_seconds_timeout: int,
        visibility_timeout: int,
        message_attribute_names: list[str] | None = None,
    ) -> Any:
        # Each look runs under the queue lock with no wait of its own (so a long poll never
        # holds the lock); between looks the poll sleeps on the queue's own "message added"
        # signal, at most POLL_SECONDS, which also notices messages that became visible.
        deadline = time.monotonic() + wait_seconds_timeout
        while True:
            with _SQS_LOCK:
                result = original(
                    self, queue_name, count, 0, visibility_timeout, message_attribute_names
                )
            left = deadline - time.monotonic()
            if result or left <= 0:
                return result
            _wait_for_a_message(self, queue_name, min(POLL_SECONDS, left))

    receive_message._sliced = True  # type: ignore[attr-defined]
    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]


def _wait_for_a_message(backend: Any, queue_name: str, seconds: float) -> None:
    signal = getattr(backend.get_queue(queue_name), "_messages_lock", None)
    if isinstance(signal, threading.Condition):
        with signal:
            signal.wait(timeout=seconds)
    else:
        time.sleep(seconds)
