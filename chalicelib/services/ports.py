"""Ports the services depend on. DynamoDB adapters and in-memory fakes both implement them."""
from __future__ import annotations

from datetime import datetime
from typing import Protocol

from chalicelib.domain.model import Business, Complaint, Outlet


class Clock(Protocol):
    def now(self) -> datetime: ...


class BusinessRepository(Protocol):
    def get(self, bin: str) -> Business | None: ...
    def add(self, business: Business) -> None:
        """Store a new business; raise AlreadyExists if the BIN is taken."""


class OutletRepository(Protocol):
    def get(self, code: str, *, consistent: bool = False) -> Outlet | None: ...
    def add(self, outlet: Outlet) -> None:
        """Store a new outlet; raise AlreadyExists if the code is taken."""
    def list_by_business(self, bin: str, *, limit: int = 100, cursor: str | None = None) -> tuple[list[Outlet], str | None]: ...
    def set_status(self, code: str, status: str) -> Outlet | None:
        """Set an existing outlet's status and return it; None if there is no such outlet."""


class ComplaintRepository(Protocol):
    def get(self, complaint_id: str, *, consistent: bool = False) -> Complaint | None:
        """`consistent` asks for a strongly consistent read (right after a conditional write failed)."""
    def add(self, complaint: Complaint) -> None:
        """Store a new complaint in one conditional write; raise AlreadyExists if the id is taken."""


class ApiKeyRepository(Protocol):
    def find(self, key_hash: str) -> dict | None:
        """The key record {role, scope, label, revoked} for a key hash, or None."""
    def add(self, key_hash: str, *, role: str, scope: str | None, label: str, created_at: datetime) -> None: ...

