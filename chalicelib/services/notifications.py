"""What the stream reactions tell agencies, businesses and consumers: message builders (they never send).

A builder has the message reactions' signature `fn(envelope, c) -> Message | None`; the stream processor
claims the ledger marker, hands the message to `c.notifier.send` and completes the marker.
"""
from __future__ import annotations

from urllib.parse import urlsplit


def masked(to: str, channel: str) -> str:
    """A recipient as logs and the local outbox may show it: "+7 7** *** ** 67", "a***@mail.kz", a
    webhook's host only, a topic's name only. Never enough to contact anyone."""
    if not to:
        return ""
    if channel == "sms":
        digits = "".join(ch for ch in to if ch.isdigit())
        if to.startswith("+7") and len(digits) == 11:
            return f"+7 {digits[1]}** *** ** {digits[-2:]}"
        return f"+{'*' * max(len(digits) - 2, 0)}{digits[-2:]}" if len(digits) > 4 else "***"
    if channel == "email":
        local, _, domain = to.rpartition("@")
        return f"{local[:1]}***@{domain}" if local else "***"
    if channel == "webhook":
        try:
            return urlsplit(to).hostname or "***"
        except ValueError:
            return "***"
    if channel == "sns":
        return to.rsplit(":", 1)[-1]
    return "***"
