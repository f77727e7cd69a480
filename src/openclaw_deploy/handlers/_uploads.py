"""Files for the agent: `POST /api/uploads` hands the browser a presigned POST to the state bucket.

The file never crosses the WebSocket or a Lambda: the browser posts it straight to S3 under the
owner's and conversation's own prefix (`uploads/<owner>/<session>/<id>/<name>`), within a policy
that fixes its key, content type and exact size and expires after a few minutes. Then
`chat.send` names the key; the ws handler refuses a key outside that prefix and the bridge checks
the stored object again before the agent sees it.

Files the agent produced (`outbound/...`) are handed out as short-lived presigned GET URLs: the
history keeps the keys, and each read of the messages makes fresh URLs.
"""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any, Final

from openclaw_deploy.handlers import _common
from openclaw_deploy.handlers._common import BadRequestError, Response
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.contract import (
    ID_PATTERN,
    OUTBOUND_PREFIX,
    UPLOAD_TTL_SECONDS,
    UPLOADS_PREFIX,
    file_name_problem,
    upload_size_problem,
    upload_type_problem,
    uploads_prefix,
)

if TYPE_CHECKING:
    from openclaw_deploy.handlers.api import Request

FIELDS: Final = ("session", "name", "contentType", "size")


def _refuse(field: str, message: str) -> Response:
    return _common.respond(
        400, {"error": {"code": "bad_request", "message": message, "field": field}}
    )


def bucket() -> str:
    return _common.env(resources.STATE_BUCKET.env_var)


def create_upload(request: Request) -> Response:
    """A presigned POST for one file; 400 with `error.field` for a bad session, name, type or
    size (nothing is stored then: the URL is never made)."""
    body = request.json()
    if not isinstance(body, dict):
        raise BadRequestError('the body must be {"session", "name", "contentType", "size"}')
    session, name = body.get("session"), body.get("name")
    content_type, size = body.get("contentType"), body.get("size")
    if not isinstance(session, str) or not ID_PATTERN.match(session):
        return _refuse("session", f"session must match {ID_PATTERN.pattern}")
    if (problem := file_name_problem(name)) is not None:
        return _refuse("name", problem)
    if (problem := upload_type_problem(content_type)) is not None:
        return _refuse("contentType", problem)
    if (problem := upload_size_problem(size)) is not None:
        return _refuse("size", problem)
    assert isinstance(name, str)
    assert isinstance(content_type, str)
    assert isinstance(size, int)
    key = f"{uploads_prefix(request.user, session)}{secrets.token_hex(8)}/{name}"
    form = aws.s3().generate_presigned_post(
        Bucket=bucket(),
        Key=key,
        Fields={"Content-Type": content_type},
        Conditions=[
            {"Content-Type": content_type},
            # Exactly the size declared: a bigger (or different) file is refused by S3.
            ["content-length-range", size, size],
        ],
        ExpiresIn=UPLOAD_TTL_SECONDS,
    )
    return _common.respond(
        201,
        {
            "upload": {"url": form["url"], "fields": form["fields"]},
            "attachment": {"key": key, "name": name, "contentType": content_type, "size": size},
            "expiresAt": int(time.time()) + UPLOAD_TTL_SECONDS,
        },
    )


def download_url(key: str) -> str:
    """A short-lived GET URL for a file the agent produced."""
    return aws.s3().generate_presigned_url(
        "get_object",
        Params={"Bucket": bucket(), "Key": key},
        ExpiresIn=UPLOAD_TTL_SECONDS,
    )


def with_urls(attachments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """History attachments with fresh URLs in place of their keys."""
    found: list[dict[str, Any]] = []
    for attachment in attachments:
        key = attachment.get("key")
        entry = {k: v for k, v in attachment.items() if k != "key"}
        if isinstance(key, str) and key.startswith((OUTBOUND_PREFIX, UPLOADS_PREFIX)):
            entry["url"] = download_url(key)
        found.append(entry)
    return found
