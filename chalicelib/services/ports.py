"""Ports the services depend on. DynamoDB adapters and in-memory fakes both implement them
(held to one contract by tests/functional/test_repository_contract.py)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator, Mapping, Protocol, Sequence

from chalicelib.domain.model import ApiKey, Business, Complaint, Contact, Outlet, RoutingExample

QUEUES = ("agency", "agency_region", "business", "secondary", "secondary_region")


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
    def requested_between(self, start: datetime, end: datetime, *, limit: int,
                          categories: frozenset[str] | None = None,
                          statuses: frozenset[str] | None = None) -> list[Complaint]:
        """Complaints filed within [start, end], newest first, at most `limit`, optionally only those in
        `categories` and `statuses`: Queries of the requested_by_month index, newest month first, at most 2
        per month spanned and 8 in all, so a filtered answer may hold fewer matches than exist."""


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


# --- the stream reactions ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Increment:
    """Add numbers to one counter item (creating it at zero), and set its descriptive attributes.

    `table` is "ratings" (key: (subject,)) or "analytics" (key: (pk, sk)). `below` makes the whole
    transaction conditional: each named counter must be below its bound before the add (a limit)."""
    table: str
    key: tuple[str, ...]
    add: Mapping[str, int | float] = field(default_factory=dict)
    set: Mapping[str, str | int | float] = field(default_factory=dict)
    below: Mapping[str, int | float] = field(default_factory=dict)


class CounterStore(Protocol):
    """Counters that a redelivered event never moves twice (ratings, analytics)."""
    def apply_once(self, marker: str, increments: Sequence[Increment], *, at: datetime) -> bool:
        """In one transaction: record `marker` in the reactions ledger and apply every increment.
        False (and nothing changed) if the marker was already recorded. Raise LimitReached if an
        increment's `below` bound does not hold."""
    def get(self, table: str, key: tuple[str, ...], *, consistent: bool = False) -> dict | None:
        """One item's attributes (numbers as int or float), or None."""
    def get_many(self, table: str, keys: Sequence[tuple[str, ...]]) -> dict[tuple[str, ...], dict]:
        """Several items at once (BatchGetItem, at most 100 keys): key -> attributes, absent keys left out."""
    def query(self, table: str, partition: str, *, start: str | None = None, end: str | None = None,
              limit: int | None = None, reverse: bool = False) -> Iterator[dict]:
        """Items of one partition whose sort key is within [start, end] (either open), in key order (descending
        with `reverse`), at most `limit`. A Query."""


class ReactionLedger(Protocol):
    """For reactions with a side effect outside DynamoDB (a message): claim, act, complete."""
    def claim(self, marker: str, *, now: datetime, lease_seconds: float) -> str:
        """'claimed' (go ahead), 'done' (already sent: skip) or 'busy' (another worker holds a live claim)."""
    def complete(self, marker: str, *, now: datetime) -> None: ...
    def release(self, marker: str) -> None:
        """Give a claim up after a failed send, so a retry may claim it again."""


@dataclass(frozen=True)
class Message:
    """One notification to send. `to` is a topic ARN, phone (E.164), email address or webhook URL;
    `attributes` are SNS message attributes that subscriptions filter on. `idempotency_key` travels
    with the message (SNS attribute, webhook header) so a receiver can drop the rare duplicate."""
    channel: str              # "sns" | "sms" | "email" | "webhook"
    audience: str             # "agency" | "business" | "consumer"
    to: str
    complaint_id: str
    template: str
    language: str
    body: str
    subject: str = ""
    attributes: Mapping[str, str] = field(default_factory=dict)
    idempotency_key: str = ""
    signing_secret: str = field(default="", repr=False)  # webhooks: HMAC-SHA256 key


class Notifier(Protocol):
    def send(self, message: Message) -> None:
        """Deliver one message; raise on failure (the reaction is retried or parked)."""


@dataclass(frozen=True)
class Channels:
    """An agency's or business's own notification channels."""
    owner: str                       # "agency#<id>" | "business#<bin>"
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    email: str | None = None
    updated_at: datetime | None = None
    updated_by: str | None = None


class ChannelDirectory(Protocol):
    def get(self, owner: str) -> Channels | None: ...
    def put(self, channels: Channels) -> None: ...


class ParkingLot(Protocol):
    """Where a stream record that keeps failing waits, with its context, until someone replays it."""
    def park(self, payload: dict) -> None: ...
    def receive(self, *, limit: int = 10) -> list[tuple[str, dict]]:
        """Up to `limit` parked payloads with a receipt handle each (they reappear unless deleted)."""
    def delete(self, receipt: str) -> None: ...
    def failed_batch(self, info: dict) -> list[dict]:
        """The Lambda-shaped records of a batch named by an on-failure destination message
        (`DDBStreamBatchInfo`: streamArn, shardId, start/endSequenceNumber), read back from the stream."""


class DeliveryFailed(Exception):
    """A notifier could not deliver. `transient` (a timeout, a 5xx, throttling) is retried by the stream
    processor; a permanent failure (a 4xx, a refused address) goes straight to the parking lot."""

    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


# --- open data (chalicelib/services/open_data.py) ----------------------------------------------------------
class OpenDataStore(Protocol):
    """The anonymised rows of the open data, one partition per submission day, and the exported files' index."""
    def put_row(self, day: str, complaint_id: str, row: Mapping, *, version: int) -> bool:
        """Store a complaint's row made from its `version`; False (nothing written) if a row from this or a
        later version is there already (a redelivered record is a no-op; a late one never rolls a row back)."""
    def rows(self, day: str) -> Iterator[dict]:
        """Every row of one submission day (a Query), in complaint id order."""
    def put_file(self, name: str, entry: Mapping) -> None:
        """Record (or replace) an exported file's entry in the index."""
    def files(self, *, limit: int, after: str | None = None) -> tuple[list[dict], str | None]:
        """Index entries, newest file name first, at most `limit`, after the file name `after`; and the name
        to continue after, or None. A Query."""
    def file(self, name: str) -> dict | None: ...


class ObjectStore(Protocol):
    """Where the exported files are kept (S3)."""
    def put(self, key: str, body: bytes, *, content_type: str) -> None: ...
    def url(self, key: str, *, expires_seconds: int, filename: str) -> str:
        """A time-limited link a browser can download `key` from."""


# --- Web Push (chalicelib/services/push.py) ---------------------------------------------------------------
@dataclass(frozen=True)
class PushSubscription:
    """One device's Web Push subscription to one complaint (personal data: the endpoint reaches a device)."""
    id: str                    # derived from the endpoint: the same subscription twice is one
    endpoint: str = field(repr=False)
    p256dh: str = field(repr=False)
    auth: str = field(repr=False)
    lang: str = "ru"
    at: datetime | None = None


class PushSubscriptions(Protocol):
    """Subscriptions by a pseudonymous reference (one per complaint), kept on the contact vault's side."""
    def add(self, ref: str, subscription: PushSubscription, *, limit: int, at: datetime) -> str:
        """"created", "updated" (same endpoint, new keys or language), "exists" (nothing changed), or "full"
        (nothing stored: `ref` already holds `limit` other subscriptions)."""
    def remove(self, ref: str, subscription_id: str) -> bool:
        """False if there was no such subscription."""
    def list(self, ref: str) -> list[PushSubscription]: ...
