"""Logging for the bridge: one plain line per event on stdout, secrets redacted.

Every line — the bridge's own, OpenClaw's forwarded output, tracebacks — passes through one
formatter that replaces each known secret value (the LLM key, the Telegram token, the gateway
token of this start) with `***`. CloudWatch Logs gets the lines through the awslogs driver.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Final

REDACTED: Final = "***"
MIN_SECRET_CHARS: Final = 6
"""Shorter values are not redacted: they would blank out ordinary words."""


class Redactor:
    def __init__(self) -> None:
        self._secrets: tuple[str, ...] = ()
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        with self._lock:
            known = set(self._secrets)
            known.update(v for v in values if v and len(v) >= MIN_SECRET_CHARS)
            # Longest first, so a secret containing another is replaced whole.
            self._secrets = tuple(sorted(known, key=len, reverse=True))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text


class RedactingFormatter(logging.Formatter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self._redact = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self._redact(super().format(record))


def setup(redactor: Redactor, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(RedactingFormatter(redactor))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level if level in logging.getLevelNamesMapping() else "INFO")
    # boto and urllib3 log request details (URLs carry the Telegram token) at DEBUG only;
    # keep them at WARNING whatever the bridge's level.
    for noisy in ("botocore", "boto3", "urllib3", "httpx", "httpcore", "s3transfer"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
