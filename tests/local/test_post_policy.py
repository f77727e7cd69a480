"""The local target holds a browser upload form against its signed policy as S3 does: the form
our upload route makes passes; a bigger file, another type, another key or an expired form is
refused with S3's own error code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
import httpx
import pytest
from botocore.config import Config

from openclaw_deploy.local.iam.post_policy import Form, parse_form, refusal

BUCKET = "openclaw-agent-state-123456789012-us-east-1"
KEY = "uploads/owner/web-1/0123456789abcdef/cat.png"


def form(data: bytes, *, content_type: str = "image/png", key: str = KEY) -> Form:
    s3 = boto3.client(
        "s3",
        region_name="us-east-1",
        aws_access_key_id="LOCALAPIROLE00000000",
        aws_secret_access_key="local",
        endpoint_url="http://127.0.0.1:9",
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    signed = s3.generate_presigned_post(
        BUCKET,
        KEY,
        Fields={"Content-Type": "image/png"},
        Conditions=[{"Content-Type": "image/png"}, ["content-length-range", 10, 10]],
        ExpiresIn=300,
    )
    fields = {**signed["fields"], "Content-Type": content_type, "key": key}
    request = httpx.Request(
        "POST", signed["url"], data=fields, files={"file": ("cat.png", data, content_type)}
    )
    found = parse_form(f"/{BUCKET}", request.headers["content-type"], request.read())
    assert found is not None
    return found


def test_the_form_the_upload_route_makes_passes() -> None:
    found = form(b"0123456789")
    assert (found.bucket, found.key, found.file_size) == (BUCKET, KEY, 10)
    assert found.access_key_id == "LOCALAPIROLE00000000"
    assert refusal(found) is None


@pytest.mark.parametrize(
    ("changed", "status", "code"),
    [
        ({"data": b"0123456789-and-more"}, 400, "EntityTooLarge"),
        ({"data": b"012"}, 400, "EntityTooSmall"),
        ({"content_type": "text/html"}, 403, "AccessDenied"),
        ({"key": "uploads/owner/web-2/0123456789abcdef/cat.png"}, 403, "AccessDenied"),
    ],
)
def test_a_form_that_breaks_its_policy_is_refused(
    changed: dict[str, object], status: int, code: str
) -> None:
    data = changed.pop("data", b"0123456789")
    assert isinstance(data, bytes)
    found = form(data, **changed)  # type: ignore[arg-type]
    assert refusal(found)[:2] == (status, code)  # type: ignore[index]


def test_an_expired_form_is_refused() -> None:
    later = datetime.now(UTC) + timedelta(minutes=6)
    assert refusal(form(b"0123456789"), now=later) == (
        403,
        "AccessDenied",
        "Invalid according to Policy: Policy expired.",
    )


def test_other_requests_are_not_forms() -> None:
    assert parse_form(f"/{BUCKET}/some/key", "multipart/form-data; boundary=x", b"") is None
    assert parse_form(f"/{BUCKET}", "application/json", b"{}") is None
