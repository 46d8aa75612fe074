"""Public transparency: the outlet's and the business's public record, and the open-data files. One Blueprint
with full paths (registered in app.py without a prefix). Nothing here needs a key; nothing here shows
personal data."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import (
    HttpError, cors_for_web, json_response, json_route, limit_param, outlet_code_param, query,
)
from chalicelib.bootstrap import container
from chalicelib.domain.identifiers import checksum_ok

transparency_api = Blueprint(__name__)
CORS = cors_for_web("X-Request-Id")
# The counters move with each complaint, but a page that is five minutes old is as true for a shopper at the
# door, and a crowd scanning one sticker then reads the cache, not the table.
PAGE_HEADERS = {"Cache-Control": "public, max-age=300"}
# A new file appears once a night.
LISTING_HEADERS = {"Cache-Control": "public, max-age=600"}


def _bin(raw: str) -> str:
    if not checksum_ok(raw):
        raise HttpError(400, "invalid_bin", "Not a valid BIN/IIN.",
                        fields={"bin": {"code": "invalid_bin", "message": "12 digits with a correct check digit"}})
    return raw


@json_route(transparency_api, "/public/outlets/{code}", cors=CORS)
def outlet_page(code):
    from chalicelib.services.transparency import outlet_page as page

    return json_response(page(outlet_code_param(code), c=container()), headers=PAGE_HEADERS)


@json_route(transparency_api, "/public/businesses/{bin}", cors=CORS)
def business_page(bin):
    from chalicelib.services.transparency import MAX_OUTLETS_PAGE, business_page as page

    params = query(transparency_api.current_request)
    limit = limit_param(params.get("limit"), default=20, maximum=MAX_OUTLETS_PAGE)
    return json_response(page(_bin(bin), c=container(), limit=limit, cursor=params.get("cursor") or None),
                         headers=PAGE_HEADERS)


@json_route(transparency_api, "/open-data", cors=CORS)
def open_data_listing():
    from chalicelib.services.open_data import MAX_FILES_PAGE, listing

    params = query(transparency_api.current_request)
    limit = limit_param(params.get("limit"), default=60, maximum=MAX_FILES_PAGE)
    return json_response(listing(c=container(), limit=limit, after=params.get("cursor") or None),
                         headers=LISTING_HEADERS)


@json_route(transparency_api, "/open-data/{name}", cors=CORS)
def open_data_file(name):
    """A 302 to a short-lived link on the bucket: the file itself never passes through the API."""
    from chalicelib.services.open_data import download_link

    location = download_link(name, c=container())
    return Response(body="", status_code=302, headers={"Location": location, "Cache-Control": "no-store"})
