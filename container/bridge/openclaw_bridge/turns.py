"""One turn at a time per session, several sessions at once.

SQS FIFO already holds back a session's next message while one is in flight, but one receive
may return several messages of the same session together; they queue here, in order, and a
session's turns run one after the other (OpenClaw answers a second concurrent request on the
same session with HTTP 500). Different sessions run side by side on a small pool of threads.
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Generic, TypeVar

log = logging.getLogger("openclaw_bridge.turns")

T = TypeVar("T")


class SessionScheduler(Generic[T]):
    def __init__(self, handle: Callable[[T], None], *, workers: int) -> None:
        self._handle = handle
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="turn")
        self._lock = threading.Lock()
        self._queues: dict[str, collections.deque[T]] = {}
        self._running: set[str] = set()
        self._closed = False
        self._idle = threading.Condition(self._lock)

    def submit(self, session: str, item: T) -> bool:
        """Queue `item` behind the session's earlier ones; False once closed."""
        with self._lock:
            if self._closed:
                return False
            queue = self._queues.get(session)
            if queue is not None:
                queue.append(item)
                return True
            self._queues[session] = collections.deque([item])
        self._pool.submit(self._drain, session)
        return True

    def _drain(self, session: str) -> None:
        while True:
            with self._lock:
                queue = self._queues.get(session)
                if not queue or self._closed:
                    return  # close() took what had not started
                item = queue[0]
                self._running.add(session)
            try:
                self._handle(item)
            except Exception:
                log.exception("a turn failed unexpectedly")
            with self._lock:
                self._running.discard(session)
                queue.popleft()
                if not queue:
                    del self._queues[session]
                    self._idle.notify_all()
                    return

    def busy(self) -> bool:
        with self._lock:
            return bool(self._queues)

    def close(self) -> list[T]:
        """Take no more items; return those queued but not started (to hand back)."""
        with self._lock:
            self._closed = True
            waiting: list[T] = []
            for session, queue in list(self._queues.items()):
                if session in self._running:
                    waiting.extend(list(queue)[1:])
                    while len(queue) > 1:
                        queue.pop()
                else:
                    waiting.extend(queue)
                    del self._queues[session]
            self._idle.notify_all()
            return waiting

    def wait_idle(self, timeout: float) -> bool:
        """Wait for the running turns to end; True if they did within `timeout`."""
        with self._lock:
            return self._idle.wait_for(lambda: not self._queues, timeout=timeout)

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
