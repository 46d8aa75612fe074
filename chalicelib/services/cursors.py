"""Signed polling cursors for the work queues.

A cursor carries a queue position (a change key) and is bound to the queue and filter it was given for,
with an HMAC over both, so a client can neither forge a position nor replay a cursor against another
agency's queue. A cursor older than CURSOR_TTL is stale: the client starts again from the beginning.
"""
from __future__ import annotations

import base64
import hmac
import json
from datetime import datetime, timedelta

from chalicelib.domain.codes import keyed_digest
from chalicelib.domain.errors import InvalidCursor, field_error

CURSOR_TTL = timedelta(days=30)


def _bad(why: str) -> InvalidCursor:
    return InvalidCursor(f"The cursor is not valid for this queue ({why}); start again without a cursor.",
                         fields=field_error("cursor", "invalid_cursor", why))


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def encode_cursor(position: str, *, binding: str, secret: str, now: datetime) -> str:
    payload = _b64(json.dumps({"p": position, "t": int(now.timestamp())}, separators=(",", ":")).encode())
    signature = _b64(keyed_digest(secret, "queue-cursor", f"{binding}\x00{payload}")[:18])
    return f"{payload}.{signature}"


def decode_cursor(cursor: str, *, binding: str, secret: str, now: datetime) -> str:
    """The position inside a cursor this API gave out for `binding`; InvalidCursor otherwise."""
    if not isinstance(cursor, str) or len(cursor) > 400 or cursor.count(".") != 1 or not cursor.isascii():
        raise _bad("malformed")
    payload, signature = cursor.split(".")
    expected = _b64(keyed_digest(secret, "queue-cursor", f"{binding}\x00{payload}")[:18])
    if not hmac.compare_digest(signature, expected):
        raise _bad("not issued for this queue and filter")
    try:
        data = json.loads(_unb64(payload))
        position, issued = data["p"], data["t"]
    except (ValueError, KeyError, TypeError):
        raise _bad("malformed") from None
    if not isinstance(position, str) or not isinstance(issued, int):
        raise _bad("malformed")
    if now.timestamp() - issued > CURSOR_TTL.total_seconds():
        raise _bad("stale")
    return position
