"""Where moto differs from AWS in a way our system would feel, made to behave like AWS.

SQS FIFO long polls: moto decides which message groups are busy once, when a long poll begins,
and keeps that view for the whole wait (up to 20 s). Real SQS looks again as groups free up. The
bridge long-polls while it answers a message, so on moto the *next* message of the same
conversation waited for that poll to run out — 20 s of added latency that AWS does not have.
Slicing a long poll into one-second polls gives AWS's behaviour within a second.

Applied by the local cloud and by the test suite's moto server (both run moto in-process).
"""

from __future__ import annotations

import time
from typing import Any, Final

SLICE_SECONDS: Final = 1


def apply() -> None:
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
        deadline = time.monotonic() + wait_seconds_timeout
        while True:
            wait = SLICE_SECONDS if time.monotonic() < deadline else 0
            result = original(
                self, queue_name, count, wait, visibility_timeout, message_attribute_names
            )
            if result or wait == 0 or time.monotonic() >= deadline:
                return result

    receive_message._sliced = True  # type: ignore[attr-defined]
    SQSBackend.receive_message = receive_message  # type: ignore[method-assign]
