"""Entities: businesses, outlets and complaints. Plain dataclasses, no storage concerns.

A complaint changes only through `chalicelib.domain.complaint.transition`; its labels for people live in
`chalicelib.i18n`.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum

from chalicelib.domain.routing import RoutingDecision

UTC = timezone.utc


class Status(str, Enum):
    """Where a complaint stands. A str, so it is stored and compared as its plain value."""

    ROUTED = "routed"                          # with the agency and the business, nobody has acted yet
    BUSINESS_RESPONDED = "business_responded"  # the seller answered; the consumer may accept or reject
    IN_REVIEW = "in_review"                    # the agency took the case
    SETTLED = "settled"                        # the consumer accepted the seller's offer (first stage)
    RESOLVED = "resolved"                      # the agency decided
    REJECTED = "rejected"                      # the agency left it without consideration

    def __str__(self) -> str:
        return self.value


OPEN_STATUSES = frozenset({Status.ROUTED, Status.BUSINESS_RESPONDED, Status.IN_REVIEW})
DECISIONS = ("violation_confirmed", "not_confirmed", "settled")
OFFERS = ("refund", "replacement", "repair", "apology", "other")


@dataclass(frozen=True)
class Business:
    bin: str
    kind: str                 # "bin" (legal entity) or "iin" (sole proprietor)
    name: str
    region: str               # 2-digit KATO oblast code
    created_at: datetime
    status: str = "active"
    created_by: str | None = None   # the admin key id that registered it


@dataclass(frozen=True)
class Outlet:
    code: str
    business_bin: str
    business_name: str        # denormalised so the public card and a submission need one read
    name: str
    address: str
    region: str
    sector: str
    created_at: datetime
    status: str = "active"    # "active" | "suspended"
    kato: str | None = None   # full 9-digit KATO code when known
    external_ref: str | None = None
    fingerprint: str = ""
    created_by: str | None = None   # the admin key id that registered it
    status_by: str | None = None    # the admin key id that last suspended or reactivated it

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class Contact:
    """A complainant's direct identifiers. Kept only in the contact vault, never on the complaint."""
    name: str | None = None
    phone: str | None = None  # E.164
    email: str | None = None

    def identifies_person(self) -> bool:
        return bool(self.name and (self.phone or self.email))

    def is_empty(self) -> bool:
        return not (self.name or self.phone or self.email)


@dataclass(frozen=True)
class Actor:
    """Who did something: the consumer, the system, or a principal (role, scope and the key id it used)."""
    kind: str                 # "consumer" | "system" | "agency" | "business" | "admin"
    scope: str | None = None  # agency id or BIN
    key_id: str | None = None

    def __str__(self) -> str:
        return f"{self.kind}:{self.scope}" if self.scope else self.kind


CONSUMER = Actor("consumer")
SYSTEM = Actor("system")


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    type: str
    actor: str                # "consumer", "system", "agency:<id>", "business:<bin>", "admin"
    agency_id: str | None = None
    note: str | None = None
    key_id: str | None = None  # the API key that acted (its id, never the key)
    from_status: str | None = None
    to_status: str | None = None


@dataclass(frozen=True)
class BusinessResponse:
    message: str
    offer: str
    at: datetime
    key_id: str | None = None


@dataclass(frozen=True)
class Feedback:
    accepted: bool
    stars: int
    at: datetime
    comment: str | None = None


@dataclass(frozen=True)
class Resolution:
    """The agency's outcome: a decision with a result for the consumer, or a rejection with a reason."""
    status: Status            # RESOLVED or REJECTED
    at: datetime
    decision: str | None = None
    text: str = ""            # the result (resolved) or the reason (rejected)


@dataclass(frozen=True)
class Flags:
    business_overdue: bool = False
    agency_overdue: bool = False


@dataclass(frozen=True)
class Complaint:
    id: str
    created_at: datetime
    updated_at: datetime
    status: Status
    kind: str                 # "appeal" (identified complainant, or a crime report) or "signal" (anonymous)
    channel: str
    language: str             # the consumer's language, for what we tell them
    text_language: str        # the language the complaint is written in (detected), for routing and analytics
    text: str
    category: str | None
    sector: str
    region: str
    business_bin: str
    business_name: str
    business_registered: bool
    outlet_code: str | None
    outlet_name: str | None
    outlet_address: str | None
    contact_ref: str | None   # pseudonymous key into the contact vault; None when no contact was given
    identified: bool          # the contact names a person and a way to reach them
    share_contact_with_business: bool
    incident_at: datetime | None
    routing: RoutingDecision
    agency_id: str
    business_due_at: datetime
    agency_due_at: datetime | None
    timeline: tuple[TimelineEntry, ...] = field(default_factory=tuple)
    fingerprint: str = ""
    business_response: BusinessResponse | None = None
    feedback: Feedback | None = None
    resolution: Resolution | None = None
    flags: Flags = Flags()
    version: int = 0          # optimistic lock: 0 = never stored; each save expects the stored version
    # Other bodies the complaint plainly also concerns (no receipt AND overcharging): they see it in their
    # queues, read-only, and are notified; the handling agency stays `agency_id`.
    secondary_agencies: tuple[str, ...] = ()
    # The consumer let the complaint's text be published, scrubbed of personal data, in the open data.
    publish_consent: bool = False

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def next_due_at(self) -> datetime | None:
        """The earliest deadline still to be watched: what the sparse `open_by_due` index sorts by."""
        if not self.is_open:
            return None
        pending = []
        if self.business_response is None and not self.flags.business_overdue:
            pending.append(self.business_due_at)
        if self.agency_due_at is not None and not self.flags.agency_overdue:
            pending.append(self.agency_due_at)
        return min(pending) if pending else None

    @property
    def can_give_feedback(self) -> bool:
        return self.is_open and self.business_response is not None and self.feedback is None


def fingerprint(payload: dict) -> str:
    """A stable digest of a request, to tell a retry from a different request under the same key."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def change_key(complaint: Complaint) -> str:
    """A complaint's position in the work queues: its last change (microseconds, UTC) then its id.

    Every save moves the complaint to the end of its queues, so "everything after my cursor" is exactly
    what is new or changed since the last poll.
    """
    return f"{complaint.updated_at.astimezone(UTC).isoformat(timespec='microseconds')}#{complaint.id}"


@dataclass(frozen=True)
class ApiKey:
    """A stored credential: only the hash of the key, its role and its scope."""
    key_id: str
    key_hash: str
    role: str                           # admin | analyst | agency | business
    label: str
    created_at: datetime
    agency_id: str | None = None
    regions: tuple[str, ...] = ()       # empty: every region
    bin: str | None = None
    expires_at: datetime | None = None
    revoked_at: datetime | None = None
    created_by: str | None = None
    revoked_by: str | None = None


@dataclass(frozen=True)
class RoutingExample:
    """An agency's correction of the router (a reroute), kept as a labelled example."""
    complaint_id: str
    at: datetime
    text: str
    category: str | None
    sector: str
    from_agency: str
    to_agency: str
    reason: str
    routing_method: str
    routing_version: str
    key_id: str | None = None
