"""Administrator API: onboard businesses and outlets, print stickers. Every view needs an admin key."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import presenters
from chalicelib.api.deps import container
from chalicelib.api.http import HttpError, json_response, json_route, outlet_code_param, read_json
from chalicelib.domain.errors import BusinessNotFound, Forbidden, OutletNotFound, Unauthorized
from chalicelib.domain.identifiers import checksum_ok
from chalicelib.services.admin import Principal, authenticate

admin_api = Blueprint(__name__)
SHEET_PAGE_MAX = 200  # outlets per chain PDF request; the CLI renders whole chains locally


def _require_admin() -> Principal:
    principal = authenticate(admin_api.current_request.headers.get("authorization"), keys=container().keys)
    if principal is None:
        raise Unauthorized("Send a valid key as 'Authorization: Bearer <key>'.")
    if principal.role != "admin":
        raise Forbidden("This key may not use the admin API.")
    return principal


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


@json_route(admin_api, "/businesses", methods=("POST",))
def create_business():
    from chalicelib.api import schemas
    from chalicelib.services.admin import register_business

    _require_admin()
    c = container()
    command = schemas.business_command(read_json(admin_api.current_request, max_bytes=c.settings.max_body_bytes))
    business, created = register_business(command, businesses=c.businesses, clock=c.clock)
    return json_response(presenters.business_admin(business), status=201 if created else 200)


@json_route(admin_api, "/businesses/{bin}")
def get_business(bin):
    _require_admin()
    business = container().businesses.get(_business_bin(bin))
    if business is None:
        raise BusinessNotFound("No business with this BIN is registered.")
    return presenters.business_admin(business)


def _outlets_page(bin: str, *, default: int, maximum: int):
    """One page of a business's outlets from the request's `limit` and `cursor`."""
    params = admin_api.current_request.query_params or {}
    limit = _limit(params.get("limit"), default=default, maximum=maximum)
    try:
        return container().outlets.list_by_business(_business_bin(bin), limit=limit, cursor=params.get("cursor"))
    except ValueError:
        raise HttpError(400, "invalid_cursor", "The cursor is not one this API gave out.",
                        fields={"cursor": {"code": "invalid", "message": "unknown cursor"}}) from None


@json_route(admin_api, "/businesses/{bin}/outlets")
def list_outlets(bin):
    _require_admin()
    c = container()
    items, cursor = _outlets_page(bin, default=100, maximum=500)
    outlets = [presenters.outlet_admin(o, c.catalog, c.settings.qr_base_url) for o in items]
    return {"outlets": outlets, "next_cursor": cursor}


def _limit(raw, *, default: int, maximum: int) -> int:
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= maximum:
        raise HttpError(400, "invalid_limit", f"limit must be a whole number from 1 to {maximum}.",
                        fields={"limit": {"code": "out_of_range", "message": f"1..{maximum}"}})
    return int(raw)


@json_route(admin_api, "/outlets", methods=("POST",))
def create_outlet():
    from chalicelib.api import schemas
    from chalicelib.services.admin import register_outlet

    _require_admin()
    c = container()
    request = admin_api.current_request
    key = schemas.idempotency_key(request.headers.get("idempotency-key"))
    command = schemas.outlet_command(read_json(request, max_bytes=c.settings.max_body_bytes), key=key)
    outlet, created = register_outlet(command, businesses=c.businesses, outlets=c.outlets,
                                      secret=c.settings.secret, clock=c.clock)
    body = presenters.outlet_admin(outlet, c.catalog, c.settings.qr_base_url)
    body["sticker_png"] = f"/admin/outlets/{outlet.code}/sticker.png"
    body["sticker_pdf"] = f"/admin/outlets/{outlet.code}/sticker.pdf"
    return json_response(body, status=201 if created else 200)


@json_route(admin_api, "/outlets/{code}")
def get_outlet(code):
    _require_admin()
    c = container()
    return presenters.outlet_admin(_outlet(code), c.catalog, c.settings.qr_base_url)


@json_route(admin_api, "/outlets/{code}", methods=("PATCH",))
def update_outlet(code):
    """Suspend an outlet (its sticker then leads to the "not found" page) or make it active again."""
    from chalicelib.api import schemas

    _require_admin()
    c = container()
    status = schemas.outlet_status(read_json(admin_api.current_request, max_bytes=c.settings.max_body_bytes))
    outlet = c.outlets.set_status(_outlet(code).code, status)
    if outlet is None:
        raise OutletNotFound("No outlet has this code.")
    return presenters.outlet_admin(outlet, c.catalog, c.settings.qr_base_url)


def _sticker(code: str, kind: str) -> Response:
    from chalicelib import stickers

    _require_admin()
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


@json_route(admin_api, "/outlets/{code}/sticker.png", binary=True)
def sticker_png(code):
    return _sticker(code, "png")


@json_route(admin_api, "/outlets/{code}/sticker.pdf", binary=True)
def sticker_pdf(code):
    return _sticker(code, "pdf")


@json_route(admin_api, "/businesses/{bin}/stickers.pdf", binary=True)
def chain_stickers(bin):
    """A4 sheets for up to SHEET_PAGE_MAX outlets; `next_cursor` comes back in a header for the rest."""
    from chalicelib import stickers

    _require_admin()
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
