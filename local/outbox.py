"""The local stack's outbox: every message the stream reactions send, captured and listed as JSON.

Locally the reactions send through the real `AwsNotifier`, on moto: SNS topic messages, SMS through SNS and
email through SES all make the same API calls as in AWS. `RecordingNotifier` wraps it and writes one line per
message that went out into an `Outbox`, which `GET /_local/outbox` shows (local server only: the route lives
in local/server.py, never in app.py, so it cannot be deployed).

Webhooks are recorded, not delivered: the local stack has no public HTTPS endpoint to call, and the webhook
address rules (https only, no loopback or private addresses) rightly refuse anything on this machine.

An outbox line has no message body and a masked recipient: a body carries the consumer's tracking link, and
the outbox is meant to be shown on a screen. Telegram is the exception: the local stack's fake Bot API
(local/telegram.py) records what the chat would read, "text" and "buttons", so a whole conversation can be
driven over HTTP; status pushes to a chat are recorded, not sent, with their text too.
"""
from __future__ import annotations

import threading
from collections import deque
from datetime import datetime, timezone
from typing import Callable

FIELDS = ("at", "channel", "audience", "to", "complaint_id", "template", "language")
# Enough for any demo or test run; the oldest lines go first so a long-running stack stays bounded.
CAPACITY = 10_000


def _utc_now() -> datetime:
    return datetime.now(timezone.utc)


class Outbox:
    """A thread-safe list of sent messages, oldest first: the pump thread appends while HTTP threads read."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        self._items: deque[dict] = deque(maxlen=capacity)
        self._lock = threading.Lock()

    def append(self, item: dict) -> None:
        with self._lock:
            self._items.append(item)

    def items(self, complaint_id: str | None = None) -> list[dict]:
        """Copies of the lines, newest last; only one complaint's when `complaint_id` is given."""
        with self._lock:
            snapshot = list(self._items)
        return [dict(item) for item in snapshot if complaint_id is None or item["complaint_id"] == complaint_id]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class RecordingNotifier:
    """A Notifier that sends through `inner` (webhooks excepted, see the module docstring) and records
    each message that went out. A failed send records nothing and raises as `inner` did, so the stream
    processor retries or parks it exactly as in AWS, and a retried send appears once."""

    def __init__(self, inner, outbox: Outbox | None = None, *, clock: Callable[[], datetime] = _utc_now) -> None:
        self.inner = inner
        self.outbox = outbox if outbox is not None else Outbox()
        self._clock = clock

    def send(self, message) -> None:
        if message.channel not in ("webhook", "telegram"):
            self.inner.send(message)
        if message.channel == "webpush":
            return  # the fake push service (local/push.py) records each device's push, decrypted, itself
        line = self.line(message)
        if message.channel == "telegram":
            # The fake Bot API (local/telegram.py): what the chat would read is the point of the line.
            line["text"] = message.body
        self.outbox.append(line)

    def line(self, message) -> dict:
        from chalicelib.services.notifications import masked

        return {
            "at": self._clock().astimezone(timezone.utc).isoformat(timespec="milliseconds"),
            "channel": message.channel, "audience": message.audience,
            "to": masked(message.to, message.channel), "complaint_id": message.complaint_id,
            "template": message.template, "language": message.language,
        }


def install(container, *, outbox: Outbox | None = None) -> RecordingNotifier:
    """Wrap the container's notifier (the one the stream handler uses) so every message is recorded."""
    current = container.notifier
    if isinstance(current, RecordingNotifier):  # installing twice must not record every message twice
        return current
    recorder = RecordingNotifier(current, outbox)
    container.notifier = recorder
    return recorder
