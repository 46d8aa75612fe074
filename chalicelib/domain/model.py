"""Entities: businesses, outlets and complaints. Plain dataclasses, no storage concerns."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.domain.routing import RoutingDecision

# Status and timeline labels are consumer-facing, so they exist in every language.
STATUS_LABELS = {
    "routed": {"kk": "Мемлекеттік органға жіберілді", "ru": "Передана в государственный орган", "en": "Sent to the state body"},
    "in_review": {"kk": "Қаралуда", "ru": "На рассмотрении", "en": "Under review"},
    "business_responded": {"kk": "Сатушы жауап берді", "ru": "Продавец ответил", "en": "The seller responded"},
    "settled": {"kk": "Сатушымен реттелді", "ru": "Урегулирована с продавцом", "en": "Settled with the seller"},
    "resolved": {"kk": "Шешім қабылданды", "ru": "Решение принято", "en": "Decision made"},
    "rejected": {"kk": "Қараусыз қалдырылды", "ru": "Оставлена без рассмотрения", "en": "Not taken up"},
    "closed": {"kk": "Жабылды", "ru": "Закрыта", "en": "Closed"},
}
OPEN_STATUSES = frozenset({"routed", "in_review", "business_responded"})
EVENT_LABELS = {
    "submitted": {"kk": "Шағым қабылданды", "ru": "Жалоба принята", "en": "Complaint received"},
    "routed": {"kk": "Қарауға жіберілді", "ru": "Направлена на рассмотрение", "en": "Sent for consideration"},
}


@dataclass(frozen=True)
class Business:
    bin: str
    kind: str                 # "bin" (legal entity) or "iin" (sole proprietor)
    name: str
    region: str               # 2-digit KATO oblast code
    created_at: datetime
    status: str = "active"


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

    @property
    def active(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True)
class Contact:
    name: str | None = None
    phone: str | None = None  # E.164
    email: str | None = None

    def identifies_person(self) -> bool:
        return bool(self.name and (self.phone or self.email))

    def is_empty(self) -> bool:
        return not (self.name or self.phone or self.email)


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    type: str
    actor: str                # "consumer", "system", "agency:<id>", "business:<bin>"
    agency_id: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Complaint:
    id: str
    created_at: datetime
    updated_at: datetime
    status: str
    kind: str                 # "appeal" (identified complainant) or "signal" (anonymous)
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
    contact: Contact | None
    share_contact_with_business: bool
    incident_at: datetime | None
    routing: RoutingDecision
    agency_id: str
    business_due_at: datetime
    agency_due_at: datetime | None
    timeline: tuple[TimelineEntry, ...] = field(default_factory=tuple)
    fingerprint: str = ""

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


def fingerprint(payload: dict) -> str:
    """A stable digest of a request, to tell a retry from a different request under the same key."""
    canonical = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
