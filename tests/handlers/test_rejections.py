"""A thousand requests that must all be refused: forged webhook secrets, reused and expired
tickets, malformed bodies. Each gets the right status; nothing is queued, no task starts."""

from __future__ import annotations

import itertools
import time

from openclaw_deploy.handlers import api, telegram_webhook, ws
from openclaw_deploy.handlers._tickets import Tickets
from openclaw_deploy.runtime import aws, resources
from tests.handlers.conftest import DEPLOYMENT, WEBHOOK_SECRET, Stack
from tests.handlers.events import OWNER_SUB, body, http_event, telegram_event, ws_event

MALFORMED = ["", "{", "null", "[]", '"text"', '{"update_id": "1"}', "\x00\x01", "{}" * 1000]


def test_a_thousand_bad_requests_are_all_refused(stack: Stack) -> None:
    tickets = Tickets(aws.dynamodb(), resources.TICKETS.physical_name(DEPLOYMENT))
    used, _ = tickets.issue(OWNER_SUB)
    assert ws.handler(ws_event("$connect", "first", query={"ticket": used}))["statusCode"] == 200
    expired = [
        Tickets(
            aws.dynamodb(),
            resources.TICKETS.physical_name(DEPLOYMENT),
            clock=lambda: time.time() - 120,
        ).issue(OWNER_SUB)[0]
        for _ in range(5)
    ]
    update = stack.telegram.text_update("let me in")
    bodies = itertools.cycle(MALFORMED)
    statuses: dict[str, set[int]] = {}

    def expect(kind: str, answer: dict[str, object]) -> None:
        statuses.setdefault(kind, set()).add(int(answer["statusCode"]))  # type: ignore[call-overload]

    for index in range(250):
        forged = WEBHOOK_SECRET[: index % len(WEBHOOK_SECRET)] + f"forged{index}"
        expect("forged secret", telegram_webhook.handler(telegram_event(update, forged)))
        expect(
            "reused ticket", ws.handler(ws_event("$connect", f"r{index}", query={"ticket": used}))
        )
        expect(
            "expired ticket",
            ws.handler(
                ws_event("$connect", f"e{index}", query={"ticket": expired[index % len(expired)]})
            ),
        )
        raw = next(bodies)
        if index % 3 == 0:
            expect(
                "malformed update",
                telegram_webhook.handler(telegram_event(None, WEBHOOK_SECRET, raw_body=raw)),
            )
        elif index % 3 == 1:
            expect("malformed frame", ws.handler(ws_event("$default", "first", raw_body=raw)))
        else:
            answer = api.handler(http_event("PUT", "/api/settings", raw_body=raw))
            expect("malformed settings", answer)
            assert body(answer)["error"]["code"] in ("bad_request", "too_long")

    assert statuses == {
        "forged secret": {401},
        "reused ticket": {401},
        "expired ticket": {401},
        "malformed update": {400},
        "malformed frame": {400},
        "malformed settings": {400},
    }
    assert stack.queue_depth() == 0
    assert stack.run_task_calls == []
    assert stack.tasks() == []
    assert stack.item_count(resources.CONNECTIONS) == 1, "only the first, valid connect"
    assert stack.item_count(resources.DEDUPE) == 0
    assert stack.telegram.calls == []
