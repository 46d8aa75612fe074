"""Use cases on complaints: submit, preview the routing, show the status to the complainant."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain import codes
from chalicelib.domain.calendar import DeadlineRules
from chalicelib.domain.catalog import Catalog
from chalicelib.domain.errors import (
    AlreadyExists, ComplaintNotFound, InvalidOutletCode, ValidationFailed, field_error,
)
from chalicelib.domain.model import Complaint, Contact, Outlet, TimelineEntry
from chalicelib.domain.routing import RoutingDecision, route
from chalicelib.domain.text import detect_language
from chalicelib.services.idempotency import request_fingerprint, same_request
from chalicelib.services.ports import BusinessRepository, Clock, ComplaintRepository, OutletRepository


CRIME_AGENCIES = frozenset({"police"})


@dataclass(frozen=True)
class SellerRef:
    """The seller named by a consumer who has no sticker."""
    bin: str
    name: str
    region: str
    sector: str | None = None


@dataclass(frozen=True)
class SubmitComplaint:
    text: str
    channel: str
    outlet_code: str | None = None
    business: SellerRef | None = None
    category: str | None = None
    language: str | None = None
    contact: Contact | None = None
    share_contact_with_business: bool = False
    incident_at: datetime | None = None
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Submission:
    complaint: Complaint
    tracking_token: str
    created: bool


@dataclass(frozen=True)
class Seller:
    """Where a complaint points: a registered outlet, or a business named by the consumer."""
    business_bin: str
    business_name: str
    business_registered: bool
    region: str
    sector: str
    outlet: Outlet | None = None


def find_outlet(raw_code: str, *, outlets: OutletRepository, field: str = "outlet_code") -> Outlet:
    """The active outlet behind a code, or a field error that tells a typo from an unknown code."""
    try:
        code = codes.parse_outlet_code(raw_code)
    except InvalidOutletCode as exc:
        raise ValidationFailed(exc.message, fields={field: exc.fields["outlet_code"]}) from exc
    outlet = outlets.get(code)
    if outlet is None or not outlet.active:
        raise ValidationFailed(
            "No active outlet has this code.",
            fields=field_error(field, "unknown_outlet", "no active outlet has this code"),
        )
    return outlet


def resolve_seller(cmd: SubmitComplaint, *, outlets: OutletRepository, businesses: BusinessRepository) -> Seller:
    if cmd.outlet_code is not None:
        outlet = find_outlet(cmd.outlet_code, outlets=outlets)
        return Seller(business_bin=outlet.business_bin, business_name=outlet.business_name,
                      business_registered=True, region=outlet.region, sector=outlet.sector, outlet=outlet)
    ref = cmd.business
    assert ref is not None, "the request schema guarantees an outlet code or a business"
    known = businesses.get(ref.bin)
    return Seller(
        business_bin=ref.bin,
        business_name=known.name if known else ref.name,
        business_registered=known is not None,
        region=ref.region,
        sector=ref.sector or "other",
    )


def preview_routing(*, text: str, category: str | None, outlet_code: str | None, sector: str | None = None,
                    outlets: OutletRepository, catalog: Catalog) -> RoutingDecision:
    """Route exactly as a submission would, storing nothing: the outlet's sector, or the sector a
    consumer without a sticker gave (a submission without one uses "other")."""
    sector = find_outlet(outlet_code, outlets=outlets).sector if outlet_code else (sector or "other")
    return route(text=text, category=category, sector=sector, catalog=catalog)


def _canonical(cmd: SubmitComplaint) -> SubmitComplaint:
    """The command as it will be stored, so that `vvr7-1x6b` and `VVR71X6B` are the same request."""
    if cmd.outlet_code is None:
        return cmd
    try:
        return replace(cmd, outlet_code=codes.parse_outlet_code(cmd.outlet_code))
    except InvalidOutletCode:
        return cmd  # resolve_seller reports it


def submit_complaint(cmd: SubmitComplaint, *, outlets: OutletRepository, businesses: BusinessRepository,
                     complaints: ComplaintRepository, catalog: Catalog, rules: DeadlineRules,
                     secret: str, clock: Clock) -> Submission:
    """Validate the seller, route, and store the complaint in one conditional write.

    With an Idempotency-Key the complaint id is derived from the key, so a retry hits the same item:
    the conditional put fails and the stored complaint is returned instead of a second one. A retry
    is answered from the stored complaint even when the seller has changed since (an outlet
    suspended in between), so a consumer never loses the tracking link of a complaint that exists.
    """
    cmd = _canonical(cmd)
    digest = request_fingerprint(cmd)
    key = cmd.idempotency_key
    complaint_id = codes.complaint_id_for_key(secret, key) if key else codes.new_complaint_id()
    try:
        seller = resolve_seller(cmd, outlets=outlets, businesses=businesses)
    except ValidationFailed:
        if key:
            # A strongly consistent read: the first attempt's write may be milliseconds old.
            existing = complaints.get(complaint_id, consistent=True)
            if existing is not None:
                return _replayed(same_request(existing, digest, what="complaint"), secret)
        raise
    decision = route(text=cmd.text, category=cmd.category, sector=seller.sector, catalog=catalog)
    complaint = _new_complaint(complaint_id, cmd, seller, decision, clock.now(), rules, digest)
    for _ in range(3):
        try:
            complaints.add(complaint)
            return Submission(complaint, codes.tracking_token(secret, complaint.id), created=True)
        except AlreadyExists:
            if key is None:
                # A random id collided (about 1 in 2^60): draw another.
                complaint = replace(complaint, id=codes.new_complaint_id())
                continue
            existing = complaints.get(complaint.id, consistent=True)
            return _replayed(same_request(existing, digest, what="complaint"), secret)
    raise RuntimeError("could not allocate a complaint id")


def _replayed(existing: Complaint, secret: str) -> Submission:
    return Submission(existing, codes.tracking_token(secret, existing.id), created=False)


def _new_complaint(complaint_id: str, cmd: SubmitComplaint, seller: Seller, decision: RoutingDecision,
                   now: datetime, rules: DeadlineRules, request_fingerprint: str) -> Complaint:
    contact = cmd.contact if cmd.contact and not cmd.contact.is_empty() else None
    # Anonymous complaints are signals (analytics, monitoring), not formal appeals with a legal term,
    # except reports of crimes, which the police must consider even when anonymous.
    identified = bool(contact and contact.identifies_person())
    kind = "appeal" if identified or decision.agency_id in CRIME_AGENCIES else "signal"
    outlet = seller.outlet
    text_language = detect_language(cmd.text)
    return Complaint(
        id=complaint_id, created_at=now, updated_at=now, status="routed", kind=kind, channel=cmd.channel,
        language=cmd.language or text_language, text_language=text_language, text=cmd.text, category=cmd.category,
        sector=seller.sector, region=seller.region, business_bin=seller.business_bin,
        business_name=seller.business_name, business_registered=seller.business_registered,
        outlet_code=outlet.code if outlet else None, outlet_name=outlet.name if outlet else None,
        outlet_address=outlet.address if outlet else None, contact=contact,
        share_contact_with_business=bool(contact) and cmd.share_contact_with_business,
        incident_at=cmd.incident_at, routing=decision, agency_id=decision.agency_id,
        business_due_at=rules.business_due(now),
        agency_due_at=rules.agency_due(now) if kind == "appeal" else None,
        timeline=(
            TimelineEntry(at=now, type="submitted", actor="consumer"),
            TimelineEntry(at=now, type="routed", actor="system", agency_id=decision.agency_id,
                          note=f"{decision.method} {decision.confidence:.2f}"),
        ),
        fingerprint=request_fingerprint,
    )


def complaint_for_holder(complaint_id: str, token: str | None, *, complaints: ComplaintRepository,
                         secret: str) -> Complaint:
    """The complaint for whoever holds its tracking token. A wrong token and an unknown id look the same."""
    not_found = ComplaintNotFound("No complaint matches this link.")
    if not codes.is_complaint_id(complaint_id) or not codes.token_matches(secret, complaint_id, token):
        raise not_found  # the token is derived from the id, so this costs no database read
    complaint = complaints.get(complaint_id)
    if complaint is None:
        raise not_found
    return complaint
