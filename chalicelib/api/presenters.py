"""Response bodies. Output models are kept apart from storage items, so the API shape stays ours."""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib.domain.catalog import Catalog
from chalicelib.domain.codes import display_code
from chalicelib.domain.identifiers import structure_warnings
from chalicelib.domain.model import Business, Complaint, Contact, Outlet, Status
from chalicelib.domain.routing import RoutingDecision
from chalicelib.i18n import label


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z") if value else None


def agency(catalog: Catalog, agency_id: str) -> dict:
    return catalog.agency(agency_id).public()


def outlet_card(outlet: Outlet, catalog: Catalog, *, rating: dict | None = None) -> dict:
    """What anyone may see about an outlet: no BIN/IIN (a sole proprietor's IIN is personal data).
    The public card also carries the outlet's rating (the GET /ratings/outlets/{code} shape)."""
    region = catalog.regions.get(outlet.region)
    sector = catalog.sectors.get(outlet.sector)
    card = {
        "code": outlet.code,
        "display_code": display_code(outlet.code),
        "name": outlet.name,
        "address": outlet.address,
        "business": {"name": outlet.business_name},
        "region": {"code": outlet.region, "name": dict(region.name) if region else None},
        "sector": {"id": outlet.sector, "name": dict(sector.name) if sector else None},
    }
    if rating is not None:
        card["rating"] = rating
    return card


def quick_rating(result) -> dict:
    """The answer to a quick rating: accepted, whether it is held for review, and the outlet's rating."""
    return {"accepted": True, "held": result.held, "rating": result.rating}


def outlet_admin(outlet: Outlet, catalog: Catalog, qr_base_url: str) -> dict:
    return {
        **outlet_card(outlet, catalog),
        "qr_url": f"{qr_base_url}/{outlet.code}",
        "business_bin": outlet.business_bin,
        "status": outlet.status,
        "kato": outlet.kato,
        "external_ref": outlet.external_ref,
        "created_at": _iso(outlet.created_at),
    }


def business_admin(business: Business) -> dict:
    return {"bin": business.bin, "kind": business.kind, "name": business.name, "region": business.region,
            "status": business.status, "created_at": _iso(business.created_at),
            # the checksum is a hard check; a number that bends the usual structure is only flagged
            "warnings": structure_warnings(business.bin)}


def routing_preview(decision: RoutingDecision, catalog: Catalog) -> dict:
    """Where a complaint would go. When the router is unsure, `needs_category` asks the form to let the
    consumer pick one of `candidates` (the likeliest categories, best first) before sending; sent without
    one, it would go to the coordinating body's triage (`agency`), with `suggested` as the evidence's pick."""
    return {
        "agency": agency(catalog, decision.agency_id),
        "confidence": decision.confidence,
        "method": decision.method,
        "explanation": decision.explanation,
        "version": decision.version,
        "needs_category": decision.needs_category,
        "candidates": [_names(catalog.categories, cat) for cat in decision.candidates if cat in catalog.categories],
        "suggested": agency(catalog, decision.suggested) if decision.suggested in catalog.agencies else None,
        "secondary_agencies": [agency(catalog, a) for a in decision.secondary if a in catalog.agencies],
    }


def complaint_created(complaint: Complaint, token: str, status_url: str, catalog: Catalog) -> dict:
    return {
        "id": complaint.id,
        "tracking_token": token,
        "status": complaint.status,
        "kind": complaint.kind,
        "agency": agency(catalog, complaint.agency_id),
        "secondary_agencies": [agency(catalog, a) for a in complaint.secondary_agencies if a in catalog.agencies],
        "routing": {"method": complaint.routing.method, "confidence": complaint.routing.confidence},
        "status_url": status_url,
        "publish_consent": complaint.publish_consent,
    }


def _names(catalog_map, key: str | None) -> dict | None:
    item = catalog_map.get(key) if key else None
    return {"id": item.id, "name": dict(item.name)} if item else None


def _outlet_ref(c: Complaint) -> dict | None:
    if not c.outlet_code:
        return None
    return {"code": c.outlet_code, "display_code": display_code(c.outlet_code), "name": c.outlet_name,
            "address": c.outlet_address, "business_name": c.business_name}


def _response(c: Complaint) -> dict | None:
    r = c.business_response
    return {"message": r.message, "offer": r.offer, "offer_label": label("offer", r.offer), "at": _iso(r.at)} if r else None


def _feedback(c: Complaint) -> dict | None:
    f = c.feedback
    return {"accepted": f.accepted, "stars": f.stars, "comment": f.comment, "at": _iso(f.at)} if f else None


def _outcome(c: Complaint) -> tuple[dict | None, dict | None]:
    """(result, rejection): the agency's decision with its text for the consumer, or its refusal."""
    r = c.resolution
    if r is None:
        return None, None
    if r.status is Status.RESOLVED:
        return {"decision": r.decision, "decision_label": label("decision", r.decision), "result": r.text,
                "at": _iso(r.at)}, None
    return None, {"reason": r.text, "at": _iso(r.at)}


def _timeline(c: Complaint, catalog: Catalog, *, audit: bool) -> list[dict]:
    """The timeline as recorded. Agencies and businesses also see who acted and the notes (audit);
    the consumer sees what happened and where the case went."""
    rows = []
    for e in c.timeline:
        row = {"at": _iso(e.at), "type": e.type, "label": label("event", e.type),
               "agency": agency(catalog, e.agency_id) if e.agency_id else None}
        if audit:
            row.update(actor=e.actor.split(":")[0], actor_scope=e.actor.partition(":")[2] or None, key_id=e.key_id,
                       note=e.note, **{"from": e.from_status, "to": e.to_status})
        rows.append(row)
    return rows


def _flags(c: Complaint) -> dict:
    return {"business_overdue": c.flags.business_overdue, "agency_overdue": c.flags.agency_overdue}


def case_summary(c: Complaint, catalog: Catalog) -> dict:
    """A queue row for agencies and businesses (no text beyond an excerpt, no contact)."""
    region = catalog.regions.get(c.region)
    return {
        "id": c.id, "status": c.status.value, "status_label": label("status", c.status.value), "kind": c.kind,
        "created_at": _iso(c.created_at), "updated_at": _iso(c.updated_at),
        "category": _names(catalog.categories, c.category), "sector": _names(catalog.sectors, c.sector),
        "region": {"code": c.region, "name": dict(region.name) if region else None},
        "agency": agency(catalog, c.agency_id), "business": {"name": c.business_name, "bin": c.business_bin},
        "secondary_agencies": [agency(catalog, a) for a in c.secondary_agencies if a in catalog.agencies],
        "outlet": _outlet_ref(c), "excerpt": c.text[:160],
        "business_due_at": _iso(c.business_due_at), "agency_due_at": _iso(c.agency_due_at),
        "flags": _flags(c), "overdue": c.flags.business_overdue or c.flags.agency_overdue,
    }


def queue_page(page, catalog: Catalog) -> dict:
    """A work-queue page; with a status filter each item says whether it (still) matches it."""
    items = []
    for c in page.items:
        row = case_summary(c, catalog)
        if page.statuses is not None:
            row["in_filter"] = page.in_filter(c)
        items.append(row)
    return {"items": items, "next_cursor": page.next_cursor}


def _contact(contact: Contact | None) -> dict | None:
    return {"name": contact.name, "phone": contact.phone, "email": contact.email} if contact else None


def case_detail(c: Complaint, catalog: Catalog, *, role: str, contact: Contact | None) -> dict:
    """The whole case for the handling agency or the business complained about. `contact` is passed
    only to those entitled to it (the agency; the business with the consumer's consent)."""
    from chalicelib.domain.complaint import allowed_actions  # the lifecycle module loads only for case views

    result, rejection = _outcome(c)
    body = {
        **case_summary(c, catalog), "text": c.text, "language": c.language, "channel": c.channel,
        "incident_at": _iso(c.incident_at), "business_response": _response(c), "feedback": _feedback(c),
        "decision": result, "rejection": rejection, "contact": _contact(contact),
        "contact_provided": c.contact_ref is not None,
        "share_contact_with_business": c.share_contact_with_business,
        "timeline": _timeline(c, catalog, audit=True), "version": c.version,
        "actions": allowed_actions(c, role),
    }
    if role in ("agency", "agency_secondary"):
        body["routing"] = {"method": c.routing.method, "confidence": c.routing.confidence,
                           "explanation": c.routing.explanation, "version": c.routing.version,
                           "model_version": c.routing.model_version, "suggested": c.routing.suggested}
        body["role"] = "handling" if role == "agency" else "secondary"
    return body


def complaint_for_holder(complaint: Complaint, catalog: Catalog) -> dict:
    """The tracking page's view. Contact details are not echoed: a shared link must not leak them."""
    result, rejection = _outcome(complaint)
    return {
        "id": complaint.id,
        "status": complaint.status.value,
        "status_label": label("status", complaint.status.value),
        "kind": complaint.kind,
        "created_at": _iso(complaint.created_at),
        "updated_at": _iso(complaint.updated_at),
        "agency": agency(catalog, complaint.agency_id),
        "secondary_agencies": [agency(catalog, a) for a in complaint.secondary_agencies if a in catalog.agencies],
        "outlet": _outlet_ref(complaint),
        "business": {"name": complaint.business_name},
        "category": _names(catalog.categories, complaint.category),
        "routing": {"method": complaint.routing.method, "confidence": complaint.routing.confidence},
        "contact_provided": complaint.contact_ref is not None,
        "publish_consent": complaint.publish_consent,
        "due_at": _iso(complaint.agency_due_at),
        "business_due_at": _iso(complaint.business_due_at),
        "agency_due_at": _iso(complaint.agency_due_at),
        "flags": _flags(complaint),
        "business_response": _response(complaint),
        "feedback": _feedback(complaint),
        "can_give_feedback": complaint.can_give_feedback,
        "result": result,
        "rejection": rejection,
        "timeline": _timeline(complaint, catalog, audit=False),
    }


def issued_key(k) -> dict:
    return {"key_id": k.key_id, "key": k.key, "role": k.role, "agency_id": k.agency_id, "regions": list(k.regions),
            "bin": k.bin, "label": k.label, "expires_at": _iso(k.expires_at)}
