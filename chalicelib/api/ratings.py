"""Ratings: public reads per outlet and per business, quick ratings from the QR page, and the admin's release
of ratings held for review. One Blueprint with full paths (registered in app.py without a prefix)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import presenters
from chalicelib.api.http import HttpError, cors_for_web, json_response, json_route, outlet_code_param, read_json
from chalicelib.bootstrap import container
from chalicelib.domain.identifiers import checksum_ok

ratings_api = Blueprint(__name__)
CORS = cors_for_web("Idempotency-Key", "X-Request-Id")
# Ratings move slowly and a QR scan crowd reads the same outlet: a minute of shared caching is harmless.
READ_HEADERS = {"Cache-Control": "public, max-age=60"}


def _bin(raw: str) -> str:
    if not checksum_ok(raw):
        raise HttpError(400, "invalid_bin", "Not a valid BIN/IIN.",
                        fields={"bin": {"code": "invalid_bin", "message": "12 digits with a correct check digit"}})
    return raw


def _source_ip(request) -> str | None:
    return ((request.context or {}).get("identity") or {}).get("sourceIp") or None


@json_route(ratings_api, "/ratings/outlets/{code}", cors=CORS)
def outlet_rating(code):
    from chalicelib.services.ratings import public_rating

    rating = public_rating("outlet", outlet_code_param(code), c=container())
    return json_response(rating, headers=READ_HEADERS)


@json_route(ratings_api, "/ratings/businesses/{bin}", cors=CORS)
def business_rating(bin):
    from chalicelib.services.ratings import public_rating

    rating = public_rating("business", _bin(bin), c=container())
    return json_response(rating, headers=READ_HEADERS)


@json_route(ratings_api, "/outlets/{code}/ratings", methods=("POST",), cors=CORS)
def rate_outlet(code):
    """A quick rating from the QR page: stars, no complaint."""
    from chalicelib.api.schemas import QuickRatingIn, idempotency_key, parse
    from chalicelib.services.ratings import submit_quick_rating

    code = outlet_code_param(code)
    c = container()
    request = ratings_api.current_request
    key = idempotency_key(request.headers.get("idempotency-key"))
    body = parse(QuickRatingIn, read_json(request, max_bytes=c.settings.max_body_bytes))
    result = submit_quick_rating(code, body.stars, body.comment, body.device_id,
                                 _source_ip(request), key, c=c)
    headers = {"Cache-Control": "no-store"}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return json_response(presenters.quick_rating(result), status=201, headers=headers)


@json_route(ratings_api, "/admin/ratings/outlets/{code}/release", methods=("POST",), role="admin")
def release(code, principal):
    """Publish or discard an outlet's quick ratings held for review, and clear its flag."""
    from chalicelib.api.schemas import ReleaseIn, parse
    from chalicelib.services.ratings import release_held

    c = container()
    body = parse(ReleaseIn, read_json(ratings_api.current_request, max_bytes=c.settings.max_body_bytes))
    return release_held(outlet_code_param(code), body.decision, c=c, by=principal.key_id)
