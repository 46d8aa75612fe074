"""Use cases on complaints: submit, preview the routing, show the status to the complainant."""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from chalicelib.domain import codes
from chalicelib.domain.calendar import DeadlineRules
from chalicelib.domain.catalog import Catalog
from chalicelib.domain.complaint import file_complaint
from chalicelib.domain.errors import AlreadyExists, ComplaintNotFound, ValidationFailed, field_error
from chalicelib.domain.model import Complaint, Contact, Outlet
from chalicelib.domain.routing import RoutingDecision, RuleSet, route
from chalicelib.domain.text import detect_language
from chalicelib.services.idempotency import request_fingerprint, same_request
from chalicelib.services.ports import BusinessRepository, Clock, ComplaintRepository, ContactVault, OutletRepository


@dataclass(frozen=True)
class SellerRef:
    """The seller named by a consumer who has no sticker."""
    bin: str
    name: str
    region: str
    sector: str | None = None


@dataclass(frozen=True)
class SubmitComplaint:
    """`outlet_code` is canonical: the request models parse what a person typed once, at the edge."""
    text: str
    channel: str
    outlet_code: str | None = None
    business: SellerRef | None = None
    category: str | None = None
    language: str | None = None
    contact: Contact | None = None
    share_contact_with_business: bool = False
    incident_at: datetime | None = None
    publish_consent: bool = False
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


def find_outlet(code: str, *, outlets: OutletRepository, field: str = "outlet_code") -> Outlet:
    """The active outlet behind a canonical code, or a field error."""
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
                    outlets: OutletRepository, catalog: Catalog, routing_rules: RuleSet,
                    model=None) -> RoutingDecision:
    """Route exactly as a submission would, storing nothing: the outlet's sector, or the sector a
    consumer without a sticker gave (a submission without one uses "other")."""
    sector = find_outlet(outlet_code, outlets=outlets).sector if outlet_code else (sector or "other")
    return route(text=text, category=category, sector=sector, catalog=catalog, rules=routing_rules, model=model)


def contact_ref(secret: str, complaint_id: str, request_digest: str) -> str:
    """The vault key of a complaint's contact: derived from the complaint and the request, so a retry of
    the same request writes the same item, while a different request under a reused Idempotency-Key
    writes elsewhere and can never overwrite the stored complaint's contact. Pseudonymous, so the
    complaints table holds nothing that names a person."""
    return "ct_" + codes.keyed_digest(secret, "contact-ref", f"{complaint_id}\x00{request_digest}").hex()[:32]


def submit_complaint(cmd: SubmitComplaint, *, outlets: OutletRepository, businesses: BusinessRepository,
                     complaints: ComplaintRepository, contacts: ContactVault, catalog: Catalog,
                     rules: DeadlineRules, routing_rules: RuleSet, secret: str, clock: Clock,
                     model=None) -> Submission:
    """Validate the seller, route, and store the complaint in one conditional write.

    With an Idempotency-Key the complaint id is derived from the key, so a retry hits the same item:
    the conditional put fails and the stored complaint is returned instead of a second one. A retry
    is answered from the stored complaint even when the seller has changed since (an outlet
    suspended in between), so a consumer never loses the tracking link of a complaint that exists.
    The contact goes to the vault first, under a reference derived from the id: a complaint is never stored
    pointing at a contact that is not there, and a retry overwrites the same vault item.
    """
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
    decision = route(text=cmd.text, category=cmd.category, sector=seller.sector, catalog=catalog, rules=routing_rules,
                     model=model)
    now = clock.now()
    contact = cmd.contact if cmd.contact and not cmd.contact.is_empty() else None
    complaint = _new_complaint(complaint_id, cmd, seller, decision, now, rules, digest, contact)
    for _ in range(3):
        if contact is not None:
            complaint = replace(complaint, contact_ref=contact_ref(secret, complaint.id, digest))
            contacts.put(complaint.contact_ref, contact, at=now)
        try:
            complaint = complaints.save(complaint)
            return Submission(complaint, codes.tracking_token(secret, complaint.id), created=True)
        except AlreadyExists:
            if key is None:
                _withdraw(complaint, contacts)  # a random id collided (about 1 in 2^60): draw another
                complaint = replace(complaint, id=codes.new_complaint_id())
                continue
            existing = complaints.get(complaint.id, consistent=True)
            if existing is None or existing.contact_ref != complaint.contact_ref:
                _withdraw(complaint, contacts)  # not this request's twin: its contact belongs to no complaint
            return _replayed(same_request(existing, digest, what="complaint"), secret)
    raise RuntimeError("could not allocate a complaint id")


def _withdraw(complaint: Complaint, contacts: ContactVault) -> None:
    if complaint.contact_ref is not None:
        contacts.delete(complaint.contact_ref)


def _replayed(existing: Complaint, secret: str) -> Submission:
    return Submission(existing, codes.tracking_token(secret, existing.id), created=False)


def _new_complaint(complaint_id: str, cmd: SubmitComplaint, seller: Seller, decision: RoutingDecision,
                   now: datetime, rules: DeadlineRules, request_fingerprint: str, contact: Contact | None) -> Complaint:
    outlet = seller.outlet
    text_language = detect_language(cmd.text)
    complaint, _ = file_complaint(
        complaint_id=complaint_id, now=now, rules=rules, routing=decision,
        identified=bool(contact and contact.identifies_person()),
        channel=cmd.channel, language=cmd.language or text_language, text_language=text_language, text=cmd.text,
        category=cmd.category, sector=seller.sector, region=seller.region, business_bin=seller.business_bin,
        business_name=seller.business_name, business_registered=seller.business_registered,
        outlet_code=outlet.code if outlet else None, outlet_name=outlet.name if outlet else None,
        outlet_address=outlet.address if outlet else None, contact_ref=None,
        share_contact_with_business=bool(contact) and cmd.share_contact_with_business,
        incident_at=cmd.incident_at, fingerprint=request_fingerprint, publish_consent=cmd.publish_consent,
    )
    return complaint


def complaint_for_holder(complaint_id: str, token: str | None, *, complaints: ComplaintRepository,
                         secret: str, consistent: bool = False, previous_secrets: tuple[str, ...] = ()) -> Complaint:
    """The complaint for whoever holds its tracking token (made with the current secret or a previous one,
    during a rotation). A wrong token and an unknown id look the same."""
    not_found = ComplaintNotFound("No complaint matches this link.")
    if not codes.is_complaint_id(complaint_id) or not codes.token_matches(secret, complaint_id, token,
                                                                         previous_secrets):
        raise not_found  # the token is derived from the id, so this costs no database read
    complaint = complaints.get(complaint_id, consistent=consistent)
    if complaint is None:
        raise not_found
    return complaint
