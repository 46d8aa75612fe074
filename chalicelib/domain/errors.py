"""Domain exceptions. The API maps them to HTTP in one place (`to_response` in chalicelib/api/http.py)."""
from __future__ import annotations


class DomainError(Exception):
    """Base for every error a caller can cause. `code` is a stable machine-readable id."""

    code = "domain_error"

    def __init__(self, message: str, *, fields: dict[str, dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    """Input is malformed; `fields` maps dotted paths to {code, message}."""

    code = "validation_failed"


class InvalidOutletCode(DomainError):
    """A code that cannot be an outlet code. `reason` is "format" (wrong characters or length) or
    "checksum" (a typo: the check character does not match); callers branch on it, never on the text."""

    code = "invalid_outlet_code"

    def __init__(self, message: str, *, reason: str, fields: dict | None = None) -> None:
        super().__init__(message, fields=fields)
        self.reason = reason


class NotFound(DomainError):
    code = "not_found"


class OutletNotFound(NotFound):
    code = "outlet_not_found"


class BusinessNotFound(NotFound):
    code = "business_not_found"


class ComplaintNotFound(NotFound):
    code = "complaint_not_found"


class Conflict(DomainError):
    code = "conflict"


class IdempotencyKeyReused(Conflict):
    """The same Idempotency-Key came with a different request body."""

    code = "idempotency_key_reused"


class AlreadyExists(Conflict):
    code = "already_exists"


class ConcurrentUpdate(Conflict):
    """Someone else changed the record since it was read (optimistic locking): reload and try again."""

    code = "concurrent_update"


class LimitReached(DomainError):
    """Too many of something from one source (ratings from one device or address): 429."""

    code = "limit_reached"


class InvalidCursor(DomainError):
    """A paging cursor this API did not give out, was given for another queue, or has expired."""

    code = "invalid_cursor"


class Unauthorized(DomainError):
    code = "unauthorized"


class Forbidden(DomainError):
    code = "forbidden"


def field_error(path: str, code: str, message: str) -> dict[str, dict[str, str]]:
    return {path: {"code": code, "message": message}}
