"""Response bodies. Output models are kept apart from storage items, so the API shape stays ours."""
from __future__ import annotations

from datetime import datetime

from chalicelib.domain.catalog import Catalog
from chalicelib.domain.codes import display_code
from chalicelib.domain.identifiers import structure_warnings
from chalicelib.domain.model import EVENT_LABELS, STATUS_LABELS, Business, Complaint, Outlet
from chalicelib.domain.routing import RoutingDecision


def _iso(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value else None


def agency(catalog: Catalog, agency_id: str) -> dict:
    return catalog.agency(agency_id).public()


def outlet_card(outlet: Outlet, catalog: Catalog) -> dict:
    """What anyone may see about an outlet: no BIN/IIN (a sole proprietor's IIN is personal data)."""
    region = catalog.regions.get(outlet.region)
    sector = catalog.sectors.get(outlet.sector)
    return {
        "code": outlet.code,
        "display_code": display_code(outlet.code),
        "name": outlet.name,
        "address": outlet.address,
        "business": {"name": outlet.business_name},
        "region": {"code": outlet.region, "name": dict(region.name) if region else None},
        "sector": {"id": outlet.sector, "name": dict(sector.name) if sector else None},
    }


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
    return {
        "agency": agency(catalog, decision.agency_id),
        "confidence": decision.confidence,
        "method": decision.method,
        "explanation": decision.explanation,
        "version": decision.version,
    }


def complaint_created(complaint: Complaint, token: str, status_url: str, catalog: Catalog) -> dict:
    return {
        "id": complaint.id,
        "tracking_token": token,
        "status": complaint.status,
        "kind": complaint.kind,
        "agency": agency(catalog, complaint.agency_id),
        "routing": {"method": complaint.routing.method, "confidence": complaint.routing.confidence},
        "status_url": status_url,
    }


def complaint_for_holder(complaint: Complaint, catalog: Catalog) -> dict:
    """The tracking page's view. Contact details are not echoed: a shared link must not leak them."""
    category = catalog.categories.get(complaint.category) if complaint.category else None
    outlet = None
    if complaint.outlet_code:
        outlet = {
            "code": complaint.outlet_code, "display_code": display_code(complaint.outlet_code),
            "name": complaint.outlet_name, "address": complaint.outlet_address,
            "business_name": complaint.business_name,
        }
    return {
        "id": complaint.id,
        "status": complaint.status,
        "status_label": STATUS_LABELS[complaint.status],
        "kind": complaint.kind,
        "created_at": _iso(complaint.created_at),
        "updated_at": _iso(complaint.updated_at),
        "agency": agency(catalog, complaint.agency_id),
        "outlet": outlet,
        "business": {"name": complaint.business_name},
        "category": {"id": category.id, "name": dict(category.name)} if category else None,
        "routing": {"method": complaint.routing.method, "confidence": complaint.routing.confidence},
        "contact_provided": complaint.contact is not None,
        "due_at": _iso(complaint.agency_due_at),
        "business_response": None,
        "result": None,
        "timeline": [
            {
                "at": _iso(entry.at),
                "type": entry.type,
                "label": EVENT_LABELS.get(entry.type, {"kk": entry.type, "ru": entry.type, "en": entry.type}),
                "agency": agency(catalog, entry.agency_id) if entry.agency_id else None,
            }
            for entry in complaint.timeline
        ],
    }
