"""The owner's skills over the HTTP API (the web Skills page); the same checks and store as
`openclaw-deploy skills` (`runtime.skills`).

    GET    /api/skills               every skill (the owner's, then the built-in ones), the
                                     agent's last report time and the archive limits
    POST   /api/skills               the .zip/.tar.gz itself as the body -> 201 {"skill", ...};
                                     400 with error.field "archive" and the reason, nothing stored
    PUT    /api/skills/{name}        {"enabled": bool} -> 200 {"name", "enabled", "source", ...}
    DELETE /api/skills/{name}        one of the owner's -> 204; 404 for a built-in or unknown one
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import ClientError

from openclaw_deploy.handlers import _common
from openclaw_deploy.handlers._common import BadRequestError, Response
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.skills import (
    MAX_ARCHIVE_BYTES,
    AgentReport,
    SkillError,
    SkillIndex,
    SkillStore,
    human_size,
    limits,
    read_archive,
    rows,
)

if TYPE_CHECKING:
    from openclaw_deploy.handlers.api import Request

APPLIES: Final = "The running agent has it within seconds; a sleeping one at its next start."
BUILT_IN_APPLIES: Final = "Applies at the agent's next start."


def _store() -> SkillStore:
    return SkillStore(aws.s3(), _common.env(resources.STATE_BUCKET.env_var))


def _read(store: SkillStore) -> tuple[SkillIndex, AgentReport | None]:
    """The index and the agent's report. This role may not list the bucket, so S3 answers a
    key that does not exist yet with AccessDenied: then both are created empty and read again."""
    try:
        return store.index(), store.report()
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "AccessDenied":
            raise
    store.ensure()
    return store.index(), store.report()


def _refuse(message: str) -> Response:
    return _common.respond(
        400, {"error": {"code": "bad_skill", "message": message, "field": "archive"}}
    )


def list_skills(request: Request) -> Response:
    index, report = _read(_store())
    return _common.respond(
        200,
        {
            "skills": [row.public() for row in rows(index, report)],
            "reportedAt": report.reported_at if report else None,
            "limits": limits(),
        },
    )


def _archive(event: Mapping[str, Any]) -> bytes:
    """The request's body as bytes: an archive is binary, which API Gateway passes base64
    encoded (bodies that happen to be UTF-8 may come as text). Bigger than the limit: refused
    before it is decoded."""
    raw = event.get("body")
    if not isinstance(raw, str) or not raw:
        raise BadRequestError("the body must be the skill's .zip or .tar.gz archive")
    if event.get("isBase64Encoded") is True:
        if len(raw) > (MAX_ARCHIVE_BYTES + 2) // 3 * 4:
            raise SkillError(too_big())
        try:
            return base64.b64decode(raw, validate=True)
        except (binascii.Error, ValueError):
            raise BadRequestError("the body is not valid base64") from None
    data = raw.encode("utf-8", "surrogateescape")
    if len(data) > MAX_ARCHIVE_BYTES:
        raise SkillError(too_big())
    return data


def too_big() -> str:
    return f"the archive is larger than the limit of {human_size(MAX_ARCHIVE_BYTES)}"


def add_skill(request: Request) -> Response:
    try:
        data = _archive(request.event)
    except SkillError as problem:
        return _refuse(str(problem))
    try:
        skill = read_archive(data)
    except SkillError as problem:
        return _refuse(str(problem))
    store = _store()
    replaced = skill.name in _read(store)[0].skills
    stored = store.add(skill, now=time.time())
    return _common.respond(
        201, {"skill": stored.public(), "replaced": replaced, "applies": APPLIES}
    )


def set_skill(request: Request) -> Response:
    body = request.json()
    enabled = body.get("enabled") if isinstance(body, dict) else None
    if not isinstance(enabled, bool):
        raise BadRequestError('the body must be {"enabled": true|false}')
    name = request.params["name"]
    store = _store()
    _read(store)
    source = store.set_enabled(name, enabled)
    if source is None:
        return _common.error(404, "not_found", f"there is no skill named {name}")
    applies = APPLIES if source == "owner" else BUILT_IN_APPLIES
    return _common.respond(
        200, {"name": name, "enabled": enabled, "source": source, "applies": applies}
    )


def remove_skill(request: Request) -> Response:
    name = request.params["name"]
    store = _store()
    _read(store)
    if store.remove(name) is None:
        return _common.error(
            404, "not_found", f"there is no skill of yours named {name} (built-in ones: disable)"
        )
    return _common.respond(204)
