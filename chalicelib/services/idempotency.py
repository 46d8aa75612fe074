"""What submissions and outlet registrations share: telling a retry from a different request."""
from __future__ import annotations

from dataclasses import asdict
from typing import TypeVar

from chalicelib.domain.errors import IdempotencyKeyReused, field_error
from chalicelib.domain.model import fingerprint

T = TypeVar("T")


def request_fingerprint(command) -> str:
    """A digest of a command without its Idempotency-Key: equal digests mean the same request."""
    data = asdict(command)
    data.pop("idempotency_key", None)
    return fingerprint(data)


def same_request(existing: T | None, digest: str, *, what: str) -> T:
    """The stored twin of a retried request; anything else under the same key is a conflict."""
    if existing is None or existing.fingerprint != digest:
        raise IdempotencyKeyReused(
            f"This Idempotency-Key was already used for a different {what}.",
            fields=field_error("Idempotency-Key", "reused", "already used with a different request"),
        )
    return existing
