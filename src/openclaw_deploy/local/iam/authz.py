"""The enforcement point: every request to the local moto server is authorized first.

Each component signs its calls with its own access key id (one per role, see `Identity`), so the
SigV4 `Credential=` scope names the role. Requests signed by a role are mapped to the checks AWS
makes (`requests.checks`), each evaluated against the role's synthesized policies; a refusal gets
AWS's own error for that protocol and never reaches moto. Requests signed by any other key (the
CLI: the user's own credentials, which are unrestricted) and unsigned requests (the browser's
Cognito sign-in) pass as they would on AWS. Every decision is written to a JSON-lines audit file.

The check runs inside moto's own WSGI server, in front of its application: no extra hop.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from openclaw_deploy.local.iam import requests
from openclaw_deploy.local.iam.evaluator import EXPLICIT_DENY, Decision, Evaluator
from openclaw_deploy.local.iam.policies import Role

log = logging.getLogger("openclaw_deploy.local.iam")

ENV_ENFORCE: Final = "OPENCLAW_LOCAL_IAM"
"""`off` turns enforcement off (debugging only: the local target then accepts what AWS refuses)."""
UNASSIGNED_KEY: Final = "LOCALNOROLE000000000"
"""The access key id of code that runs in the local cloud's process without a role: refused."""

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def enforcing(environ: Mapping[str, str] | None = None) -> bool:
    value = (os.environ if environ is None else environ).get(ENV_ENFORCE, "on")
    return value.strip().lower() not in ("off", "0", "false", "no")


@dataclass(frozen=True, kw_only=True)
class Identity:
    """The credentials one component signs with, and who AWS would say it is."""

    component: str
    role: Role
    access_key_id: str
    secret_access_key: str
    session_name: str

    @property
    def principal(self) -> str:
        account = self.role.arn.split(":")[4]
        return f"arn:aws:sts::{account}:assumed-role/{self.role.name}/{self.session_name}"

    def environment(self) -> dict[str, str]:
        """What Lambda and ECS put in the environment of code running under the role."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }


def access_key_for(component: str, deployment: str) -> str:
    """A stable, AWS-shaped (20 characters, upper case) access key id per role."""
    digest = hashlib.sha256(f"{deployment}/{component}".encode()).hexdigest().upper()
    return ("ASIALOCAL" + component.upper().replace("-", "") + digest)[:20]


def identities(
    roles: Mapping[str, Role], deployment: str, sessions: Mapping[str, str]
) -> dict[str, Identity]:
    """component → its identity; `sessions` names each session as AWS would (the function
    name for a Lambda, the task id for the task: here, the family)."""
    return {
        component: Identity(
            component=component,
            role=role,
            access_key_id=access_key_for(component, deployment),
            secret_access_key=hashlib.sha256(
                f"secret/{deployment}/{component}".encode()
            ).hexdigest()[:40],
            session_name=sessions.get(component, component),
        )
        for component, role in roles.items()
    }


@dataclass(frozen=True, kw_only=True)
class Refusal:
    identity: Identity | None
    check: requests.Check | None
    reason: str

    def message(self) -> str:
        who = self.identity.principal if self.identity else "an unknown caller"
        if self.check is None:
            return f"User: {who} is not authorized to perform this call: {self.reason}"
        action, resource = self.check.action, self.check.resource
        why = (
            "with an explicit deny in an identity-based policy"
            if self.reason == EXPLICIT_DENY
            else f"because no identity-based policy allows the {action} action"
        )
        return f"User: {who} is not authorized to perform: {action} on resource: {resource} {why}"


class Audit:
    """Every decision, one JSON object a line (the figures and the debugging start here)."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._lock = threading.Lock()
        self._stream = path.open("a", encoding="utf-8") if path else None

    def record(self, **fields: Any) -> None:
        if self._stream is None:
            return
        line = json.dumps({"time": round(time.time(), 3), **fields}, sort_keys=True)
        with self._lock:
            self._stream.write(line + "\n")
            self._stream.flush()

    def close(self) -> None:
        if self._stream is not None:
            with self._lock:
                self._stream.close()
                self._stream = None


class Authorizer:
    """Decides one request: allowed, or the refusal to answer with."""

    def __init__(
        self,
        *,
        evaluator: Evaluator,
        identities: Mapping[str, Identity],
        target: requests.Target,
        audit: Audit,
    ) -> None:
        self._evaluator = evaluator
        self._by_key = {identity.access_key_id: identity for identity in identities.values()}
        self._target = target
        self.audit = audit

    def identity(self, access_key_id: str) -> Identity | None:
        return self._by_key.get(access_key_id)

    def authorize(self, request: requests.Request) -> tuple[Identity | None, Refusal | None]:
        """(who, refusal or None). Callers that are no role of ours pass unchecked."""
        signed = requests.signer(request.headers, request.query)
        if signed is None:
            return None, None
        key, _region, service = signed
        if key == UNASSIGNED_KEY:
            refusal = Refusal(
                identity=None,
                check=None,
                reason="code of the local cloud made an AWS call outside any component's role",
            )
            log.warning("IAM refused a call made without a role: %s %s", service, request.path)
            self.audit.record(role=None, decision="Refused", reason=refusal.reason)
            return None, refusal
        identity = self._by_key.get(key)
        if identity is None:
            return None, None
        try:
            found = requests.checks(request, service, self._target)
        except requests.UnknownRequest as error:
            refusal = Refusal(identity=identity, check=None, reason=str(error))
            self._refused(identity, None, refusal.reason)
            return identity, refusal
        return identity, self.evaluate(identity, found)

    def authorize_call(
        self, headers: Mapping[str, str], action: str, resource: str, *, service: str
    ) -> tuple[int, dict[str, str], bytes] | None:
        """One check for a request another emulator answers (API Gateway's `@connections`):
        None when allowed or not signed by a role, else AWS's refusal to answer with."""
        signed = requests.signer(headers, "")
        identity = self._by_key.get(signed[0]) if signed else None
        if identity is None:
            return None
        refusal = self.evaluate(identity, [requests.Check(action=action, resource=resource)])
        return None if refusal is None else denial(service, refusal, method="POST")

    def evaluate(self, identity: Identity, found: list[requests.Check]) -> Refusal | None:
        for check in found:
            decision = self._evaluator.decide(
                identity.component,
                principal=identity.principal,
                action=check.action,
                resource=check.resource,
                context=check.context,
            )
            self._record(identity, check, decision)
            if not decision.allowed:
                reason = decision.result if not decision.detail else decision.detail
                self._refused(identity, check, reason)
                return Refusal(identity=identity, check=check, reason=decision.result)
        return None

    def _record(self, identity: Identity, check: requests.Check, decision: Decision) -> None:
        self.audit.record(
            component=identity.component,
            role=identity.role.name,
            action=check.action,
            resource=check.resource,
            context=dict(check.context) or None,
            decision=decision.result,
            cached=decision.cached,
            detail=decision.detail or None,
        )

    def _refused(self, identity: Identity, check: requests.Check | None, reason: str) -> None:
        if check is None:
            self.audit.record(
                component=identity.component,
                role=identity.role.name,
                decision="Refused",
                reason=reason,
            )
        log.warning(
            "IAM refused %s (role %s): %s on %s (%s)",
            identity.component,
            identity.role.name,
            check.action if check else "?",
            check.resource if check else "?",
            reason,
        )


# --- AWS's error answers ---------------------------------------------------------------------

_JSON_400: Final = frozenset({"dynamodb", "ecs", "ssm", "logs", "cognito-idp"})


def denial(service: str, refusal: Refusal, *, method: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of AWS's AccessDenied for the protocol `service` speaks."""
    message = refusal.message()
    request_id = str(uuid.uuid4())
    if service == "s3":
        body = (
            b""
            if method == "HEAD"
            else (
                '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code>'
                f"<Message>{_xml(message)}</Message><RequestId>{request_id}</RequestId>"
                "</Error>"
            ).encode()
        )
        return 403, {"Content-Type": "application/xml", "x-amz-request-id": request_id}, body
    if service == "sqs":
        # SQS answers the JSON protocol with the query protocol's code in a header.
        headers = {
            "Content-Type": "application/x-amz-json-1.0",
            "x-amzn-RequestId": request_id,
            "x-amzn-query-error": "AccessDenied;Sender",
        }
        body = json.dumps(
            {"__type": "com.amazon.coral.service#AccessDeniedException", "message": message}
        ).encode()
        return 403, headers, body
    # DynamoDB, ECS, SSM, CloudWatch Logs and Cognito answer AccessDeniedException with 400.
    status = 400 if service in _JSON_400 else 403
    headers = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": request_id}
    body = json.dumps(
        {"__type": "AccessDeniedException", "Message": message, "message": message}
    ).encode()
    return status, headers, body


def sqs_query_denial(refusal: Refusal) -> tuple[int, dict[str, str], bytes]:
    """SQS's query (XML) protocol."""
    body = (
        '<?xml version="1.0"?><ErrorResponse><Error><Type>Sender</Type>'
        f"<Code>AccessDenied</Code><Message>{_xml(refusal.message())}</Message><Detail/>"
        f"</Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>"
    ).encode()
    return 403, {"Content-Type": "text/xml"}, body


def _xml(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- the WSGI middleware ---------------------------------------------------------------------


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    length = environ.get("CONTENT_LENGTH") or ""
    if length.isdigit():
        body: bytes = stream.read(int(length))
    elif environ.get("wsgi.input_terminated"):
        body = stream.read()
    else:
        body = b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    return body


class Middleware:
    """Moto's WSGI application behind the authorizer."""

    def __init__(self, app: WsgiApp, authorizer: Authorizer) -> None:
        self._app = app
        self._authorizer = authorizer

    def _upload_refused(
        self, environ: dict[str, Any], headers: Mapping[str, str]
    ) -> tuple[int, dict[str, str], bytes] | None:
        """S3's answer to a browser upload form it would refuse (`post_policy`); None to pass."""
        from openclaw_deploy.local.iam import post_policy

        body = _read_body(environ)
        form = post_policy.parse_form(
            str(environ.get("PATH_INFO", "/")), headers.get("content-type", ""), body
        )
        if form is None:
            return None
        problem = post_policy.refusal(form)
        if problem is not None:
            status, code, message = problem
            log.warning("refused an upload form for %s: %s", form.key, message)
            answer = (
                '<?xml version="1.0" encoding="UTF-8"?>\n'
                f"<Error><Code>{code}</Code><Message>{_xml(message)}</Message></Error>"
            ).encode()
            return status, {"Content-Type": "application/xml"}, answer
        identity = self._authorizer.identity(form.access_key_id or "")
        if identity is None:
            return None
        target = f"arn:aws:s3:::{form.bucket}/{form.key}"
        check = requests.Check(action="s3:PutObject", resource=target)
        refusal = self._authorizer.evaluate(identity, [check])
        return None if refusal is None else denial("s3", refusal, method="POST")

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        headers = {
            key[5:].replace("_", "-").lower(): str(value)
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        if "CONTENT_TYPE" in environ:
            headers["content-type"] = str(environ["CONTENT_TYPE"])
        query = str(environ.get("QUERY_STRING", ""))
        if environ.get("REQUEST_METHOD") == "POST" and headers.get("content-type", "").startswith(
            "multipart/form-data"
        ):
            refused = self._upload_refused(environ, headers)
            if refused is not None:
                status, answer_headers, answer = refused
                if "origin" in headers:  # the bucket's CORS rule answers the page, as S3 does
                    answer_headers["Access-Control-Allow-Origin"] = headers["origin"]
                start_response(
                    f"{status} {'Bad Request' if status == 400 else 'Forbidden'}",
                    [*answer_headers.items(), ("Content-Length", str(len(answer)))],
                )
                return [answer]
        signed = requests.signer(headers, query)
        if signed is None or (
            self._authorizer.identity(signed[0]) is None and signed[0] != UNASSIGNED_KEY
        ):
            return self._app(environ, start_response)  # the user's own calls: unrestricted
        service = signed[2]
        body = b"" if service == "s3" else _read_body(environ)
        request = requests.Request(
            method=str(environ.get("REQUEST_METHOD", "GET")),
            path=str(environ.get("PATH_INFO", "/")),
            query=query,
            headers=headers,
            body=body,
        )
        _identity, refusal = self._authorizer.authorize(request)
        if refusal is None:
            return self._app(environ, start_response)
        if service == "sqs" and not headers.get("x-amz-target"):
            status, answer_headers, answer = sqs_query_denial(refusal)
        else:
            status, answer_headers, answer = denial(service, refusal, method=request.method)
        reason = {400: "Bad Request", 403: "Forbidden"}[status]
        start_response(
            f"{status} {reason}",
            [*answer_headers.items(), ("Content-Length", str(len(answer)))],
        )
        return [answer]
