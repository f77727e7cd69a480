"""S3's browser uploads (presigned POST forms) checked as S3 checks them, before moto stores them.

moto stores whatever a form posts; S3 first holds the form against its signed policy: not
expired, every condition met (exact fields, `starts-with`, the file's `content-length-range`),
and the signing role allowed `s3:PutObject` on the key. The local target does the same so a
hostile upload (another type, a bigger file, another key) is refused locally as on AWS.
(The signature itself is not recomputed: only our own handlers sign these forms.)
"""

from __future__ import annotations

import base64
import email.parser
import email.policy
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_CREDENTIAL = re.compile(r"^([^/]+)/\d{8}/[^/]+/s3/aws4_request$")


@dataclass(frozen=True)
class Form:
    """A parsed upload form: its fields (lower-case names, as S3 compares them) and the file."""

    bucket: str
    fields: dict[str, str]
    file_size: int

    @property
    def key(self) -> str:
        return self.fields.get("key", "")

    @property
    def access_key_id(self) -> str | None:
        match = _CREDENTIAL.match(self.fields.get("x-amz-credential", ""))
        return match.group(1) if match else None


def parse_form(path: str, content_type: str, body: bytes) -> Form | None:
    """The form of a `POST /<bucket>` multipart upload; None for any other request."""
    bucket = path.strip("/")
    if not bucket or "/" in bucket or not content_type.startswith("multipart/form-data"):
        return None
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
    if not message.is_multipart():
        return None
    fields: dict[str, str] = {}
    size = -1
    for part in message.iter_parts():
        name = str(part.get_param("name", header="content-disposition") or "").lower()
        raw = part.get_payload(decode=True)
        payload = raw if isinstance(raw, bytes) else b""
        if name == "file":
            size = len(payload)
            break  # S3 ignores fields after the file
        fields[name] = payload.decode("utf-8", "replace")
    if size < 0 or "policy" not in fields:
        return None
    return Form(bucket=bucket, fields=fields, file_size=size)


def refusal(form: Form, *, now: datetime | None = None) -> tuple[int, str, str] | None:
    """(status, S3 error code, message) when S3 would refuse the form; None when it passes."""
    try:
        policy: Any = json.loads(base64.b64decode(form.fields["policy"]))
        expires = datetime.fromisoformat(str(policy["expiration"]).replace("Z", "+00:00"))
        conditions = list(policy["conditions"])
    except (ValueError, KeyError, TypeError):
        return 400, "InvalidPolicyDocument", "Invalid Policy: the policy is not valid JSON"
    if expires <= (now or datetime.now(UTC)):
        return 403, "AccessDenied", "Invalid according to Policy: Policy expired."
    values = {**form.fields, "bucket": form.bucket}
    for condition in conditions:
        problem = _failed(condition, values, form.file_size)
        if problem is not None:
            return problem
    return None


def _failed(condition: Any, values: dict[str, str], size: int) -> tuple[int, str, str] | None:
    failed = (
        403,
        "AccessDenied",
        f"Invalid according to Policy: Policy Condition failed: {condition}",
    )
    if isinstance(condition, dict):
        matches = all(values.get(str(k).lower()) == str(v) for k, v in condition.items())
        return None if matches else failed
    if not isinstance(condition, list) or len(condition) != 3:
        return failed
    operator, subject, expected = condition
    if operator == "content-length-range":
        return _size_refusal(size, int(subject), int(expected))
    value = values.get(str(subject).lstrip("$").lower(), "")
    ok = (operator == "eq" and value == str(expected)) or (
        operator == "starts-with" and value.startswith(str(expected))
    )
    return None if ok else failed


def _size_refusal(size: int, least: int, most: int) -> tuple[int, str, str] | None:
    if size > most:
        return 400, "EntityTooLarge", "Your proposed upload exceeds the maximum allowed size"
    if size < least:
        return (
            400,
            "EntityTooSmall",
            "Your proposed upload is smaller than the minimum allowed size",
        )
    return None
