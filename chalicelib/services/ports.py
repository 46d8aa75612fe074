"""Ports the services depend on. DynamoDB adapters and in-memory fakes both implement them
(held to one contract by tests/functional/test_repository_contract.py)."""
from __future__ import annotations

from datetime import datetime
from typing import Iterator, Protocol

from chalicelib.domain.model import ApiKey, Business, Complaint, Contact, Outlet, RoutingExample

QUEUES = ("agency", "agency_region", "business")


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
    def set_status(self, code: str, status: str, *, by: str | None = None) -> Outlet | None:
        """Set an existing outlet's status (recording the key id `by`) and return it; None if there is no such outlet."""


class ComplaintRepository(Protocol):
    def get(self, complaint_id: str, *, consistent: bool = False) -> Complaint | None:
        """`consistent` asks for a strongly consistent read (right after a conditional write failed)."""
    def save(self, complaint: Complaint) -> Complaint:
        """The one write of a complaint, keeping its queue and deadline index keys in step.

        Version 0 is a new complaint: raise AlreadyExists if the id is taken. Otherwise the stored version
        must equal `complaint.version`, else raise ConcurrentUpdate. Returns the complaint as stored
        (version + 1)."""
    def changes(self, queue: str, partition: str, *, after: str | None, until: str, limit: int,
                statuses: frozenset[str] | None = None) -> list[Complaint]:
        """Complaints in a queue (`agency`: agency id, `agency_region`: "<agency>#<region>", `business`: BIN)
        whose change key is > `after` and <= `until`, in change order, at most `limit`, optionally only
        those in `statuses`. A Query, never a Scan."""
    def due_before(self, moment: datetime) -> Iterator[Complaint]:
        """Open complaints whose next deadline is before `moment`, from the sparse deadline index."""


class ContactVault(Protocol):
    """The one port for complainants' direct identifiers (kept apart: it may live in Kazakhstan)."""
    def put(self, ref: str, contact: Contact, *, at: datetime) -> None:
        """Store (or overwrite with the same data, on a retry) the contact under `ref`."""
    def get(self, ref: str) -> Contact | None: ...
    def delete(self, ref: str) -> None:
        """Remove a contact that no complaint refers to (a refused request's); no error if absent."""


class ApiKeyRepository(Protocol):
    def get(self, key_id: str) -> ApiKey | None: ...
    def add(self, key: ApiKey) -> None:
        """Store a new key; raise AlreadyExists if the id is taken."""
    def revoke(self, key_id: str, *, at: datetime, by: str | None = None) -> bool:
        """Mark a key revoked (by the key id `by`); False if there is no such key. A second revocation
        keeps the first one's time and author."""


class RoutingExampleRepository(Protocol):
    def add(self, example: RoutingExample) -> None: ...
    def remove(self, complaint_id: str, at: datetime) -> None:
        """Withdraw an example whose reroute did not happen (the case changed in the meantime)."""
    def list_for(self, complaint_id: str) -> list[RoutingExample]: ...
