"""The WebSocket API: `$connect` (one-time ticket), `$disconnect`, and `$default` (chat frames).

Frames follow `runtime.contract` (docs/protocol.md). Answers go out through the `@connections`
API, not as route responses, so the bridge and this handler speak on the socket the same way.
A `chat.send` is acked once it is queued, then the agent's status follows; the reply itself
comes from the bridge. The integration may take no longer than 29 s, so nothing here waits for
the agent: waking it is one conditional write and one RunTask.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Mapping
from typing import Any

import boto3  # noqa: F401 - imported first, not nested: see bench/handler_imports.py
from botocore.exceptions import BotoCoreError, ClientError

from openclaw_deploy.handlers import _common, _inbound
from openclaw_deploy.handlers._common import BadRequestError, Event, Response
from openclaw_deploy.handlers._tickets import Tickets
from openclaw_deploy.runtime import aws, resources
from openclaw_deploy.runtime.contract import (
    FRAME_BYTES,
    ID_PATTERN,
    ClientFrame,
    ContractError,
    QueueMessage,
    ReplyTarget,
    StopRequest,
    is_upload_of,
    loads,
    parse_client_frame,
    server_frame,
)
from openclaw_deploy.runtime.lifecycle import AgentStatus

UNAUTHORIZED = "a valid ticket is required: get one from POST /api/ws-ticket"
UNAVAILABLE = "a service the agent needs did not answer; try again"
NOT_YOURS = "an attachment is not one of this conversation's uploads: upload it again"


@_common.logged
def handler(event: Event, context: Any = None) -> Response:
    event = _common.mapping(event)
    ctx = _common.request_context(event)
    route = ctx.get("routeKey")
    connection_id = ctx.get("connectionId")
    if not isinstance(connection_id, str) or not connection_id:
        return _common.error(400, "bad_request", "not a WebSocket event (no connectionId)")
    if route in ("$connect", "$disconnect"):
        try:
            if route == "$connect":
                return _connect(event, connection_id)
            _common.connections().remove(connection_id)
            return _common.respond(200)
        except (ClientError, BotoCoreError):
            _common.log.exception("AWS call failed on %s", route)
            return _common.error(503, "internal", UNAVAILABLE)
    socket = _Socket(ctx, connection_id)
    try:
        return _default(event, socket)
    except Exception as problem:  # noqa: BLE001 - the client gets an error frame, the log the rest
        _common.log.exception("%s failed on %s", type(problem).__name__, route)
        transient = isinstance(problem, ClientError | BotoCoreError)
        with contextlib.suppress(ClientError, BotoCoreError):
            message = (
                "a service the agent needs did not answer" if transient else "unexpected error"
            )
            socket.send(server_frame("error", id=None, code="internal", message=message))
        return _status(503 if transient else 500)


def _status(code: int) -> Response:
    """A `$default` answer: status only. With no route response configured API Gateway drops a
    body, and the local emulator would send one as a frame: frames go through `@connections`."""
    return {"statusCode": code}


def _connect(event: Event, connection_id: str) -> Response:
    query = _common.mapping(event.get("queryStringParameters"))
    tickets = Tickets(aws.dynamodb(), resources.table_name(resources.TICKETS))
    user = tickets.consume(query.get("ticket"))
    if user is None:
        return _common.error(401, "unauthorized", UNAUTHORIZED)
    _common.connections().add(connection_id, user=user)
    return _common.respond(200)


class _Socket:
    """Posting frames back to the connection that sent one.

    A frame that cannot be posted is logged and the socket treated as closed, never raised:
    whatever was accepted stays accepted, and a client that missed its `ack` resends (and is
    acked again without a second enqueue).
    """

    def __init__(self, ctx: Mapping[str, Any], connection_id: str) -> None:
        self._ctx = ctx
        self._connection_id = connection_id
        self.connection_id = connection_id
        self.open = True

    def send(self, frame: str) -> None:
        if not self.open:
            return
        endpoint = _management_url(self._ctx)
        if endpoint is None:
            _common.log.error("no management endpoint: set %s", resources.ENV_WS_MANAGEMENT_URL)
            self.open = False
            return
        try:
            api = aws.connections_api(endpoint)
            self.open = _common.connections().post(api, self._connection_id, frame)
        except (ClientError, BotoCoreError) as error:
            _common.log.warning("could not post to connection %s: %s", self._connection_id, error)
            self.open = False


def _management_url(ctx: Mapping[str, Any]) -> str | None:
    configured = os.environ.get(resources.ENV_WS_MANAGEMENT_URL)
    if configured:
        return configured.rstrip("/")
    domain, stage = ctx.get("domainName"), ctx.get("stage")
    if isinstance(domain, str) and domain and isinstance(stage, str) and stage:
        return f"https://{domain}/{stage}"
    return None


def status_frame(status: AgentStatus) -> str:
    return server_frame("agent.status", state=status.state, phase=status.phase, since=status.since)


def _own_uploads(frame: ClientFrame, socket: _Socket) -> bool:
    """Every attachment is an upload this connection's user made for this conversation."""
    user = _common.connections().user_of(socket.connection_id)
    return user is not None and all(
        a.key is not None and is_upload_of(a.key, user, frame.session or "")
        for a in frame.attachments
    )


def _frame_id(raw: str) -> str | None:
    """The `id` of a frame we refuse, when there is one to echo back."""
    try:
        data = loads(raw, max_bytes=FRAME_BYTES)
    except ContractError:
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return value if isinstance(value, str) and ID_PATTERN.match(value) else None


def _control(frame: ClientFrame, socket: _Socket) -> None:
    """`ping`, `resume` and `chat.stop`: nothing is queued for the agent to answer."""
    if frame.type == "ping":
        socket.send(server_frame("pong", id=frame.id))
    elif frame.type == "resume":
        socket.send(status_frame(_common.lifecycle().get()))
    elif frame.type == "chat.stop":
        # Its own message group: the session's group is held by the turn being stopped. The
        # reply then ends with `chat.final` marked `stopped` (from the bridge).
        from openclaw_deploy.runtime.queue import enqueue_stop

        stop = StopRequest(session=frame.session or "", message_id=frame.id)
        enqueue_stop(aws.sqs(), _common.queue_url(), stop)


def _default(event: Event, socket: _Socket) -> Response:
    raw = ""
    try:
        raw = _common.body_text(event)
        frame = parse_client_frame(raw)
    except (BadRequestError, ContractError) as problem:
        code = problem.code if problem.code in ("bad_request", "too_long") else "bad_request"
        message = problem.message if isinstance(problem, BadRequestError) else str(problem)
        socket.send(server_frame("error", id=_frame_id(raw), code=code, message=message))
        return _status(400)

    if frame.type != "chat.send":
        _control(frame, socket)
        return _status(200)

    # chat.send: the contract guarantees both.
    session, text = frame.session or "", frame.text or ""
    if frame.attachments and not _own_uploads(frame, socket):
        socket.send(server_frame("error", id=frame.id, code="bad_request", message=NOT_YOURS))
        return _status(400)
    msg = QueueMessage(
        channel="web",
        session=session,
        message_id=frame.id,
        text=text,
        received_at=time.time(),
        reply=ReplyTarget(),
        attachments=frame.attachments,
    )
    claim = _inbound.accept(msg, dedupe_key=f"web#{frame.id}")
    if claim == "busy":
        return _status(202)  # the invocation holding the claim acks it
    socket.send(server_frame("ack", id=frame.id))
    if claim == "done":
        return _status(200)  # a resend of something queued before: ack only
    wake = _inbound.wake()
    if wake.status is not None:
        socket.send(status_frame(wake.status))
    if wake.error is not None:
        socket.send(server_frame("error", id=frame.id, code="agent_failed", message=wake.error))
    return _status(200)
