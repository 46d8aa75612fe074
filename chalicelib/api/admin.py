"""Administrator API: onboard businesses and outlets, print stickers. Every view needs an admin key."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import presenters
from chalicelib.api.http import HttpError, json_response, json_route, limit_param, outlet_code_param, read_json
from chalicelib.bootstrap import container
from chalicelib.domain.errors import BusinessNotFound, NotFound, OutletNotFound
from chalicelib.domain.identifiers import checksum_ok

admin_api = Blueprint(__name__)
SHEET_PAGE_MAX = 200  # outlets per chain PDF request; the CLI renders whole chains locally
ADMIN = "admin"


def _outlet(code: str):
    outlet = container().outlets.get(outlet_code_param(code))
    if outlet is None:
        raise OutletNotFound("No outlet has this code.")
    return outlet


def _business_bin(bin: str) -> str:
    if not checksum_ok(bin):
        raise HttpError(400, "invalid_bin", "Not a valid BIN/IIN.",
                        fields={"bin": {"code": "invalid_bin", "message": "12 digits with a correct check digit"}})
    return bin


@json_route(admin_api, "/businesses", methods=("POST",), role=ADMIN)
def create_business(principal):
    from chalicelib.api import schemas
    from chalicelib.services.admin import register_business

    c = container()
    command = schemas.business_command(read_json(admin_api.current_request, max_bytes=c.settings.max_body_bytes))
    business, created = register_business(command, businesses=c.businesses, clock=c.clock, actor=principal.key_id)
    return json_response(presenters.business_admin(business), status=201 if created else 200)


@json_route(admin_api, "/businesses/{bin}", role=ADMIN)
def get_business(bin, principal):
    business = container().businesses.get(_business_bin(bin))
    if business is None:
        raise BusinessNotFound("No business with this BIN is registered.")
    return presenters.business_admin(business)


def _outlets_page(bin: str, *, default: int, maximum: int):
    """One page of a business's outlets from the request's `limit` and `cursor`."""
    params = admin_api.current_request.query_params or {}
    limit = limit_param(params.get("limit"), default=default, maximum=maximum)
    try:
        return container().outlets.list_by_business(_business_bin(bin), limit=limit, cursor=params.get("cursor"))
    except ValueError:
        raise HttpError(400, "invalid_cursor", "The cursor is not one this API gave out.",
                        fields={"cursor": {"code": "invalid", "message": "unknown cursor"}}) from None


@json_route(admin_api, "/businesses/{bin}/outlets", role=ADMIN)
def list_outlets(bin, principal):
    c = container()
    items, cursor = _outlets_page(bin, default=100, maximum=500)
    outlets = [presenters.outlet_admin(o, c.catalog, c.settings.qr_base_url) for o in items]
    return {"outlets": outlets, "next_cursor": cursor}


@json_route(admin_api, "/outlets", methods=("POST",), role=ADMIN)
def create_outlet(principal):
    from chalicelib.api import schemas
    from chalicelib.services.admin import register_outlet

    c = container()
    request = admin_api.current_request
    key = schemas.idempotency_key(request.headers.get("idempotency-key"))
    command = schemas.outlet_command(read_json(request, max_bytes=c.settings.max_body_bytes), key=key)
    outlet, created = register_outlet(command, businesses=c.businesses, outlets=c.outlets,
                                      secret=c.settings.secret, clock=c.clock, actor=principal.key_id)
    # Counted for the analysts' "per registered outlet" on every call, not only when created: a retry after a
    # failed count completes it, and the count itself is exactly once (services/analytics.record_outlet).
    from chalicelib.services.analytics import record_outlet

    record_outlet(outlet, c=c)
    body = presenters.outlet_admin(outlet, c.catalog, c.settings.qr_base_url)
    body["sticker_png"] = f"/admin/outlets/{outlet.code}/sticker.png"
    body["sticker_pdf"] = f"/admin/outlets/{outlet.code}/sticker.pdf"
    return json_response(body, status=201 if created else 200)


@json_route(admin_api, "/outlets/{code}", role=ADMIN)
def get_outlet(code, principal):
    c = container()
    return presenters.outlet_admin(_outlet(code), c.catalog, c.settings.qr_base_url)


@json_route(admin_api, "/outlets/{code}", methods=("PATCH",), role=ADMIN)
def update_outlet(code, principal):
    """Suspend an outlet (its sticker then leads to the "not found" page) or make it active again."""
    from chalicelib.api import schemas

    c = container()
    status = schemas.outlet_status(read_json(admin_api.current_request, max_bytes=c.settings.max_body_bytes))
    outlet = c.outlets.set_status(_outlet(code).code, status, by=principal.key_id)
    if outlet is None:
        raise OutletNotFound("No outlet has this code.")
    return presenters.outlet_admin(outlet, c.catalog, c.settings.qr_base_url)


def _sticker(code: str, kind: str) -> Response:
    from chalicelib import stickers

    c = container()
    outlet = _outlet(code)
    info = stickers.StickerInfo(code=outlet.code, outlet_name=outlet.name, business_name=outlet.business_name)
    if kind == "png":
        body, content_type = stickers.render_sticker_png(info, qr_base_url=c.settings.qr_base_url), "image/png"
    else:
        body, content_type = stickers.render_sticker_pdf(info, qr_base_url=c.settings.qr_base_url), "application/pdf"
    return Response(body=body, status_code=200, headers={
        "Content-Type": content_type,
        "Content-Disposition": f'inline; filename="qalqan-{outlet.code}.{kind}"',
    })


@json_route(admin_api, "/outlets/{code}/sticker.png", binary=True, role=ADMIN)
def sticker_png(code, principal):
    return _sticker(code, "png")


@json_route(admin_api, "/outlets/{code}/sticker.pdf", binary=True, role=ADMIN)
def sticker_pdf(code, principal):
    return _sticker(code, "pdf")


@json_route(admin_api, "/businesses/{bin}/stickers.pdf", binary=True, role=ADMIN)
def chain_stickers(bin, principal):
    """A4 sheets for up to SHEET_PAGE_MAX outlets; `next_cursor` comes back in a header for the rest."""
    from chalicelib import stickers

    c = container()
    items, cursor = _outlets_page(bin, default=SHEET_PAGE_MAX, maximum=SHEET_PAGE_MAX)
    active = [o for o in items if o.active]
    if not active:
        raise OutletNotFound("This business has no active outlets to print.")
    pdf = stickers.render_sheets_pdf(
        [stickers.StickerInfo(code=o.code, outlet_name=o.name, business_name=o.business_name) for o in active],
        qr_base_url=c.settings.qr_base_url,
    )
    headers = {"Content-Type": "application/pdf",
               "Content-Disposition": f'inline; filename="qalqan-{bin}-stickers.pdf"'}
    if cursor:
        headers["X-Next-Cursor"] = cursor
    return Response(body=pdf, status_code=200, headers=headers)


@json_route(admin_api, "/keys", methods=("POST",), role=ADMIN)
def create_key(principal):
    """Issue a key for a role and scope; the key is in this response only."""
    from chalicelib.api import schemas
    from chalicelib.services.auth import issue_key

    c = container()
    data = schemas.key_request(read_json(admin_api.current_request, max_bytes=c.settings.max_body_bytes))
    issued = issue_key(role=data.role, label=data.label, agency_id=data.agency_id, regions=data.regions, bin=data.bin,
                       expires_at=data.expires_at, keys=c.keys, clock=c.clock, known_agencies=c.catalog.agencies,
                       known_regions=c.catalog.regions, created_by=principal.key_id)
    return json_response(presenters.issued_key(issued), status=201, headers={"Cache-Control": "no-store"})


@json_route(admin_api, "/keys/{key_id}", methods=("DELETE",), role=ADMIN)
def revoke_key(key_id, principal):
    from chalicelib.services.auth import revoke_key as revoke

    c = container()
    if len(key_id) > 40 or not revoke(key_id, keys=c.keys, clock=c.clock, by=principal.key_id):
        raise NotFound("No key has this id.")
    return {"key_id": key_id, "revoked": True}


@json_route(admin_api, "/jobs/deadlines", methods=("POST",), role=ADMIN)
def run_deadline_sweep(principal):
    """The scheduled deadline sweep, on demand and for any date (operators, the local stack, tests)."""
    from chalicelib.api import schemas
    from chalicelib.services.cases import start_of_local_day, sweep_deadlines

    c = container()
    as_of = schemas.deadline_job(read_json(admin_api.current_request, max_bytes=c.settings.max_body_bytes))
    report = sweep_deadlines(start_of_local_day(as_of, c.rules), complaints=c.complaints, clock=c.clock,
                             actor=principal.actor)
    return {"as_of": as_of.isoformat(), "checked": report.checked, "business_overdue": report.business_overdue,
            "agency_overdue": report.agency_overdue}
