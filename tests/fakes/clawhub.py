"""A stand-in for ClawHub, OpenClaw's public skill registry, on 127.0.0.1.

It answers what the pinned OpenClaw's `openclaw skills install SLUG` asks (openclaw@2026.9.6,
`dist/clawhub-*.mjs`): the install resolution (`GET /api/v1/skills/{slug}/install`), the release's
security verdict (`POST /api/v1/skills/-/security-verdicts`), the archive (a .zip with the
skill's files), the verification envelope and the install telemetry. A skill can be published
as clean or as blocked (malicious); an unknown slug is a 404.
"""

from __future__ import annotations

import io
import json
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse


@dataclass
class Published:
    slug: str
    version: str
    files: dict[str, str]
    blocked: bool = False

    def archive(self) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for name, text in self.files.items():
                archive.writestr(name, text)
        return out.getvalue()


@dataclass
class FakeClawHub:
    url: str = ""
    skills: dict[str, Published] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def publish(
        self, slug: str, files: dict[str, str], *, version: str = "1.0.0", blocked: bool = False
    ) -> None:
        self.skills[slug] = Published(slug, version, files, blocked)


def _verdict(hub: FakeClawHub, item: dict[str, Any]) -> dict[str, Any]:
    slug = str(item.get("slug"))
    skill = hub.skills.get(slug)
    asked = {"requestedSlug": slug, "requestedVersion": item.get("version")}
    if skill is None:
        return {**asked, "slug": slug, "version": None, "error": {"code": "skill_not_found"}}
    return {
        **asked,
        "slug": slug,
        "version": skill.version,
        "ok": not skill.blocked,
        "decision": "blocked" if skill.blocked else "pass",
        "security": {
            "status": "malicious" if skill.blocked else "clean",
            "passed": not skill.blocked,
        },
        "reasons": ["scan:malicious"] if skill.blocked else [],
        "overview": "Flagged as malicious." if skill.blocked else "No findings.",
        "securityAuditUrl": f"{hub.url}/skills/{slug}/security",
    }


@contextmanager
def fake_clawhub() -> Iterator[FakeClawHub]:
    hub = FakeClawHub()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, data: Any) -> None:
            self._send(status, json.dumps(data).encode())

        def do_GET(self) -> None:
            parsed = urlparse(self.path)
            hub.requests.append(f"GET {parsed.path}")
            query = {k: v[0] for k, v in parse_qs(parsed.query).items()}
            parts = [unquote(p) for p in parsed.path.strip("/").split("/")]
            if parts[:3] == ["api", "v1", "download"]:
                skill = hub.skills.get(query.get("slug", ""))
                if skill is None:
                    self._json(404, {"error": "not found"})
                else:
                    self._send(200, skill.archive(), "application/zip")
                return
            if parts[:3] == ["api", "v1", "skills"] and len(parts) >= 4:
                skill = hub.skills.get(parts[3])
                if skill is None:
                    self._json(404, {"error": "skill not found"})
                elif parts[4:] == ["install"]:
                    self._json(
                        200,
                        {
                            "ok": True,
                            "slug": skill.slug,
                            "installKind": "archive",
                            "archive": {
                                "version": skill.version,
                                "downloadUrl": f"{hub.url}/api/v1/download?slug={skill.slug}"
                                f"&version={skill.version}",
                            },
                        },
                    )
                elif parts[4:] == ["verify"]:
                    self._json(
                        200, {"ok": True, "decision": "pass", "reasons": [], "slug": skill.slug}
                    )
                elif parts[4:] == []:
                    self._json(
                        200,
                        {
                            "skill": {"slug": skill.slug},
                            "latestVersion": {"version": skill.version},
                        },
                    )
                else:
                    self._json(404, {"error": "no such route"})
                return
            self._json(404, {"error": "no such route"})

        def do_POST(self) -> None:
            parsed = urlparse(self.path)
            hub.requests.append(f"POST {parsed.path}")
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length) or b"{}")
            if parsed.path == "/api/v1/skills/-/security-verdicts":
                self._json(200, {"items": [_verdict(hub, item) for item in body.get("items", [])]})
            elif parsed.path == "/api/cli/telemetry/install":
                self._json(200, {"ok": True})
            else:
                self._json(404, {"error": "no such route"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
