"""DynamoDB repositories: translate between domain entities and pynamodb items. No Scan anywhere."""
from __future__ import annotations

import base64
import json
from datetime import datetime

from pynamodb.exceptions import PutError, UpdateError

from chalicelib.adapters.tables import ApiKeyTable, BusinessTable, ComplaintTable, ContactMap, OutletTable, TimelineMap
from chalicelib.domain.errors import AlreadyExists
from chalicelib.domain.model import Business, Complaint, Contact, Outlet, TimelineEntry
from chalicelib.domain.routing import RoutingDecision


def _conditional_put(item, condition) -> None:
    try:
        item.save(condition=condition)
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            raise AlreadyExists("already exists") from exc
        raise


class DynamoBusinesses:
    def get(self, bin: str) -> Business | None:
        try:
            item = BusinessTable.get(bin)
        except BusinessTable.DoesNotExist:
            return None
        return Business(bin=item.bin, kind=item.kind, name=item.name, region=item.region,
                        created_at=item.created_at, status=item.status)

    def add(self, business: Business) -> None:
        item = BusinessTable(business.bin, kind=business.kind, name=business.name, region=business.region,
                             status=business.status, created_at=business.created_at)
        _conditional_put(item, BusinessTable.bin.does_not_exist())


def _outlet(item: OutletTable) -> Outlet:
    return Outlet(
        code=item.code, business_bin=item.business_bin, business_name=item.business_name, name=item.name,
        address=item.address, region=item.region, sector=item.sector, created_at=item.created_at,
        status=item.status, kato=item.kato, external_ref=item.external_ref, fingerprint=item.fingerprint,
    )


def _encode_cursor(key: dict | None) -> str | None:
    if not key:
        return None
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode()


def _decode_cursor(cursor: str | None, key_names: set[str]) -> dict | None:
    """A cursor back into the exact key shape DynamoDB gave out; anything else is a ValueError."""
    if not cursor:
        return None
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (ValueError, TypeError) as exc:
        raise ValueError("bad cursor") from exc
    if not isinstance(key, dict) or set(key) != key_names or not all(
            isinstance(v, dict) and list(v) == ["S"] and isinstance(v["S"], str) for v in key.values()):
        raise ValueError("bad cursor")
    return key


class DynamoOutlets:
    def get(self, code: str, *, consistent: bool = False) -> Outlet | None:
        try:
            return _outlet(OutletTable.get(code, consistent_read=consistent))
        except OutletTable.DoesNotExist:
            return None

    def add(self, outlet: Outlet) -> None:
        item = OutletTable(
            outlet.code, business_bin=outlet.business_bin, business_name=outlet.business_name, name=outlet.name,
            address=outlet.address, region=outlet.region, kato=outlet.kato, sector=outlet.sector,
            status=outlet.status, external_ref=outlet.external_ref, fingerprint=outlet.fingerprint,
            created_at=outlet.created_at,
        )
        _conditional_put(item, OutletTable.code.does_not_exist())

    def set_status(self, code: str, status: str) -> Outlet | None:
        item = OutletTable(code)
        try:
            item.update(actions=[OutletTable.status.set(status)], condition=OutletTable.code.exists())
        except UpdateError as exc:
            if exc.cause_response_code == "ConditionalCheckFailedException":
                return None
            raise
        return _outlet(item)

    def list_by_business(self, bin: str, *, limit: int = 100, cursor: str | None = None):
        start = _decode_cursor(cursor, {"code", "business_bin"})
        result = OutletTable.by_business.query(bin, limit=limit, last_evaluated_key=start)
        items = [_outlet(item) for item in result]
        return items, _encode_cursor(result.last_evaluated_key)


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


class DynamoComplaints:
    def get(self, complaint_id: str, *, consistent: bool = False) -> Complaint | None:
        try:
            item = ComplaintTable.get(complaint_id, consistent_read=consistent)
        except ComplaintTable.DoesNotExist:
            return None
        return self._to_domain(item)

    def add(self, complaint: Complaint) -> None:
        _conditional_put(self._to_item(complaint), ComplaintTable.id.does_not_exist())

    @staticmethod
    def _to_item(c: Complaint) -> ComplaintTable:
        contact = None
        if c.contact and not c.contact.is_empty():
            contact = ContactMap(name=c.contact.name, phone=c.contact.phone, email=c.contact.email)
        return ComplaintTable(
            c.id, created_at=c.created_at, updated_at=c.updated_at, status=c.status, kind=c.kind,
            channel=c.channel, language=c.language, text_language=c.text_language, text=c.text, category=c.category, sector=c.sector,
            region=c.region, business_bin=c.business_bin, business_name=c.business_name,
            business_registered=c.business_registered, outlet_code=c.outlet_code, outlet_name=c.outlet_name,
            outlet_address=c.outlet_address, contact=contact,
            share_contact_with_business=c.share_contact_with_business, incident_at=c.incident_at,
            routing=c.routing.to_dict(), agency_id=c.agency_id, agency_region=f"{c.agency_id}#{c.region}",
            # microseconds, so a queue keeps arrival order within a second; the id breaks exact ties
            queued_at=f"{c.created_at.isoformat(timespec='microseconds')}#{c.id}", business_due_at=c.business_due_at,
            agency_due_at=_iso(c.agency_due_at),
            open_bucket="open" if (c.is_open and c.agency_due_at) else None,
            timeline=[TimelineMap(at=e.at, type=e.type, actor=e.actor, agency_id=e.agency_id, note=e.note)
                      for e in c.timeline],
            fingerprint=c.fingerprint,
        )

    @staticmethod
    def _to_domain(item: ComplaintTable) -> Complaint:
        contact = None
        if item.contact is not None:
            contact = Contact(name=item.contact.name, phone=item.contact.phone, email=item.contact.email)
        r = item.routing
        routing = RoutingDecision(
            agency_id=r["agency"], method=r["method"], confidence=r["confidence"], version=r["version"],
            explanation=r["explanation"], matched=tuple(r.get("matched", ())),
        )
        return Complaint(
            id=item.id, created_at=item.created_at, updated_at=item.updated_at, status=item.status,
            kind=item.kind, channel=item.channel, language=item.language, text_language=item.text_language,
            text=item.text,
            category=item.category, sector=item.sector, region=item.region, business_bin=item.business_bin,
            business_name=item.business_name, business_registered=item.business_registered,
            outlet_code=item.outlet_code, outlet_name=item.outlet_name, outlet_address=item.outlet_address,
            contact=contact, share_contact_with_business=item.share_contact_with_business,
            incident_at=item.incident_at, routing=routing, agency_id=item.agency_id,
            business_due_at=item.business_due_at,
            agency_due_at=datetime.fromisoformat(item.agency_due_at) if item.agency_due_at else None,
            timeline=tuple(
                TimelineEntry(at=e.at, type=e.type, actor=e.actor, agency_id=e.agency_id, note=e.note)
                for e in item.timeline
            ),
            fingerprint=item.fingerprint,
        )


class DynamoApiKeys:
    def find(self, key_hash: str) -> dict | None:
        try:
            item = ApiKeyTable.get(key_hash)
        except ApiKeyTable.DoesNotExist:
            return None
        return {"role": item.role, "scope": item.scope, "label": item.label, "revoked": item.revoked}

    def add(self, key_hash: str, *, role: str, scope: str | None, label: str, created_at: datetime) -> None:
        _conditional_put(
            ApiKeyTable(key_hash, role=role, scope=scope, label=label, created_at=created_at),
            ApiKeyTable.key_hash.does_not_exist(),
        )
