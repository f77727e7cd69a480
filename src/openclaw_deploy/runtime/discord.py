"""Discord's interactions: Ed25519 request verification, a small API client, the slash commands.

Stdlib only. The Lambda code asset is our `runtime` and `handlers` folders and nothing else
(infra/staging.py), so no compiled wheel (PyNaCl, cryptography) for Lambda's arm64 Python would
be there: verification is RFC 8032's Ed25519 check written out here. It handles only public
data (the application's public key, the signature and the request), so it has no secret to leak
through timing; the tests check it against the `cryptography` package and RFC 8032's vectors.

The bridge completes an interaction through its follow-up webhook, which needs no bot token:
the interaction token (valid 15 minutes) is the credential. The bot token is used only by the
CLI, to register and remove the slash commands.
"""

from __future__ import annotations

import hashlib
import json
import re
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, Final

from openclaw_deploy.runtime.contract import ascii_int
from openclaw_deploy.runtime.resources import DEFAULT_DISCORD_API_URL

MESSAGE_LIMIT: Final = 2000
SIGNATURE_HEADER: Final = "X-Signature-Ed25519"
TIMESTAMP_HEADER: Final = "X-Signature-Timestamp"
SIGNATURE_WINDOW_SECONDS: Final = 300
"""Discord does not ask for it; refusing old timestamps stops a recorded request's replay."""
APPLICATION_ID_PATTERN: Final = re.compile(r"^[0-9]{15,22}$")
PUBLIC_KEY_PATTERN: Final = re.compile(r"^[0-9a-fA-F]{64}$")
BOT_TOKEN_PATTERN: Final = re.compile(r"^[A-Za-z0-9_.-]{50,100}$")
USER_AGENT: Final = "DiscordBot (https://github.com/openclaw-deploy, 1)"

# Interaction and response types (discord.com/developers/docs/interactions/receiving-and-responding)
PING: Final = 1
APPLICATION_COMMAND: Final = 2
PONG: Final = 1
CHANNEL_MESSAGE: Final = 4
DEFERRED_CHANNEL_MESSAGE: Final = 5
EPHEMERAL: Final = 1 << 6

COMMANDS: Final[tuple[dict[str, Any], ...]] = (
    {
        "name": "ask",
        "description": "Ask your OpenClaw agent",
        "type": 1,
        "options": [
            {
                "name": "text",
                "description": "What to ask",
                "type": 3,
                "required": True,
                "max_length": 6000,
            }
        ],
    },
    {"name": "new", "description": "Start a fresh conversation", "type": 1},
    {"name": "status", "description": "Is the agent awake?", "type": 1},
)

# -- Ed25519 verification (RFC 8032, section 5.1.7) ---------------------------------------------

_P: Final = 2**255 - 19
_L: Final = 2**252 + 27742317777372353535851937790883648493
_D: Final = -121665 * pow(121666, _P - 2, _P) % _P
_SQRT_M1: Final = pow(2, (_P - 1) // 4, _P)
_Point = tuple[int, int, int, int]
"""Extended homogeneous coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z, xy = T/Z."""


def _add(p: _Point, q: _Point) -> _Point:
    a = (p[1] - p[0]) * (q[1] - q[0]) % _P
    b = (p[1] + p[0]) * (q[1] + q[0]) % _P
    c = 2 * p[3] * q[3] * _D % _P
    d = 2 * p[2] * q[2] % _P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % _P, g * h % _P, f * g % _P, e * h % _P)


def _multiply(scalar: int, point: _Point) -> _Point:
    result: _Point = (0, 1, 1, 0)
    while scalar > 0:
        if scalar & 1:
            result = _add(result, point)
        point = _add(point, point)
        scalar >>= 1
    return result


def _same(p: _Point, q: _Point) -> bool:
    return (p[0] * q[2] - q[0] * p[2]) % _P == 0 and (p[1] * q[2] - q[1] * p[2]) % _P == 0


def _recover_x(y: int, sign: int) -> int | None:
    if y >= _P:
        return None
    x2 = (y * y - 1) * pow(_D * y * y + 1, _P - 2, _P) % _P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (_P + 3) // 8, _P)
    if (x * x - x2) % _P != 0:
        x = x * _SQRT_M1 % _P
    if (x * x - x2) % _P != 0:
        return None
    if (x & 1) != sign:
        x = _P - x
    return x


def _decompress(data: bytes) -> _Point | None:
    y = int.from_bytes(data, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % _P)


_GY: Final = 4 * pow(5, _P - 2, _P) % _P
_GX: Final = _recover_x(_GY, 0) or 0
_BASE: Final[_Point] = (_GX, _GY, 1, _GX * _GY % _P)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether `signature` is `public_key`'s Ed25519 signature of `message`."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = _decompress(public_key)
    r = _decompress(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= _L:
        return False
    digest = hashlib.sha512(signature[:32] + public_key + message).digest()
    h = int.from_bytes(digest, "little") % _L
    return _same(_multiply(s, _BASE), _add(r, _multiply(h, a)))


def verify_request(
    public_key_hex: str, *, signature_hex: str | None, timestamp: str | None, body: str, now: float
) -> bool:
    """Whether an interaction request is Discord's: signed over timestamp + body, and recent."""
    stamp = ascii_int(timestamp)
    if not signature_hex or timestamp is None or stamp is None:
        return False
    if abs(now - stamp) > SIGNATURE_WINDOW_SECONDS:
        return False
    try:
        key, signed = bytes.fromhex(public_key_hex), bytes.fromhex(signature_hex)
    except ValueError:
        return False
    return ed25519_verify(key, (timestamp + body).encode("utf-8", "surrogatepass"), signed)


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Discord-sized pieces (2,000 characters), cut at paragraphs, lines or words if possible."""
    from openclaw_deploy.runtime.telegram import split_message as split

    # Telegram's splitter counts UTF-16 units: never more than Discord's character count.
    return split(text, limit)


# -- the API ----------------------------------------------------------------------------------


class DiscordError(Exception):
    """Discord's API said no (or could not be reached). `status` 0 means no HTTP answer."""

    def __init__(self, status: int, message: str, retry_after: float | None = None) -> None:
        super().__init__(f"Discord API error {status}: {message}")
        self.status = status
        self.message = message
        self.retry_after = retry_after


@dataclass(frozen=True, kw_only=True)
class DiscordApp:
    """The application as stored in SSM (JSON): its id and the key interactions are signed with."""

    application_id: str
    public_key: str

    def to_json(self) -> str:
        return json.dumps({"application_id": self.application_id, "public_key": self.public_key})

    @classmethod
    def from_json(cls, text: str) -> DiscordApp:
        data = json.loads(text)
        return cls(application_id=str(data["application_id"]), public_key=str(data["public_key"]))


class DiscordClient:
    def __init__(
        self, token: str | None = None, *, api_url: str | None = None, timeout: float = 10.0
    ) -> None:
        self._token = token
        self._api_url = (api_url or DEFAULT_DISCORD_API_URL).rstrip("/")
        self._timeout = timeout

    def call(self, method: str, path: str, payload: Any = None) -> Any:
        headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if self._token:
            headers["Authorization"] = f"Bot {self._token}"
        request = urllib.request.Request(  # noqa: S310 - the scheme comes from our own config
            f"{self._api_url}{path}",
            data=None if payload is None else json.dumps(payload).encode(),
            headers=headers,
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310
                raw = response.read()
        except urllib.error.HTTPError as error:
            data = _error_body(error)
            retry = data.get("retry_after")
            raise DiscordError(
                error.code,
                str(data.get("message") or error.reason),
                retry_after=float(retry) if isinstance(retry, int | float) else None,
            ) from None
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DiscordError(0, f"could not reach the Discord API ({reason})") from None
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            raise DiscordError(0, "Discord answered with something that is not JSON") from None

    def application(self) -> dict[str, Any]:
        """The bot token's application (checks the token)."""
        data = self.call("GET", "/applications/@me")
        return data if isinstance(data, dict) else {}

    def set_commands(self, application_id: str, commands: list[dict[str, Any]]) -> list[str]:
        """Replace the application's global commands; return their names."""
        data = self.call("PUT", f"/applications/{application_id}/commands", commands)
        return [str(c.get("name")) for c in data or [] if isinstance(c, dict)]

    def commands(self, application_id: str) -> list[str]:
        data = self.call("GET", f"/applications/{application_id}/commands")
        return [str(c.get("name")) for c in data or [] if isinstance(c, dict)]

    def edit_original(self, application_id: str, token: str, content: str) -> None:
        """Set the interaction's (deferred) response to `content`."""
        self.call(
            "PATCH",
            f"/webhooks/{application_id}/{token}/messages/@original",
            {"content": content, "allowed_mentions": {"parse": []}},
        )

    def follow_up(self, application_id: str, token: str, content: str) -> str:
        """Another message answering the interaction; return its id."""
        data = self.call(
            "POST",
            f"/webhooks/{application_id}/{token}",
            {"content": content, "allowed_mentions": {"parse": []}},
        )
        return str(data.get("id", "")) if isinstance(data, dict) else ""


def _error_body(error: urllib.error.HTTPError) -> dict[str, Any]:
    try:
        data = json.loads(error.read() or b"{}")
    except (ValueError, OSError):
        return {}
    return data if isinstance(data, dict) else {}
