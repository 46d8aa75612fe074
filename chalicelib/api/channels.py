"""Notification channels: where an agency or a business wants its messages besides the SNS topic.

- `GET/PUT /agency/channels`: an agency key, for its own agency. Changing it needs a key for the whole
  agency: a regional department's key would otherwise redirect every region's notifications.
- `GET/PUT /business/channels`: a business key, for its own BIN (webhook and email).
- `PUT /admin/channels/{owner}`: an admin, for "agency:<id>" or "business:<bin>" ("#" works too, encoded).

PUT body: `{"webhook_url"?: string|null, "email"?: string|null}` (email: businesses only). A field left out
stays as it is; null removes it. Setting a webhook URL (even the same one) issues a new signing secret,
returned once in that answer as `webhook_secret`; no GET ever shows it again. Registered with full paths
and no prefix (app.py).
"""
from __future__ import annotations

import socket
from urllib.parse import unquote

from chalice import Blueprint

from chalicelib.api.http import HttpError, cors_for_web, json_route, read_json
from chalicelib.bootstrap import container
from chalicelib.domain.errors import BusinessNotFound, Forbidden, NotFound
from chalicelib.domain.identifiers import checksum_ok

channels_api = Blueprint(__name__)
CORS = cors_for_web("X-Request-Id")  # the consoles may be served from another origin than the API
# DNS for the webhook check. A module attribute read at call time, so a test can answer for hosts that
# do not exist offline; production always uses the system resolver.
RESOLVE = socket.getaddrinfo


def _changes(model, body: dict) -> dict:
    """The fields the caller sent (None meaning "remove"); fields left out are not in the result."""
    from chalicelib.api.schemas import parse  # the house's 422 with `fields`, shared with every request model

    parsed = parse(model, body)
    return {name: getattr(parsed, name) for name in parsed.model_fields_set}


def _present(channels, *, with_email: bool, secret: str | None = None) -> dict:
    out = {
        "owner": channels.owner,
        "webhook_url": channels.webhook_url,
        "webhook_secret_set": bool(channels.webhook_secret),
        "updated_at": channels.updated_at.isoformat() if channels.updated_at else None,
    }
    if with_email:
        out["email"] = channels.email
    if secret is not None:
        out["webhook_secret"] = secret  # once: only the answer that issued it carries it
    return out


def _show(owner: str, *, with_email: bool) -> dict:
    from chalicelib.services.notifications import get_channels

    return _present(get_channels(owner, channels=container().channels), with_email=with_email)


def _update(owner: str, kind: str, principal) -> dict:
    """`kind`: "agency" or "business" (a business may also set an email). The body models live in
    api/schemas.py with the others, so pydantic loads only when a request body is parsed."""
    from chalicelib.api import schemas
    from chalicelib.services.notifications import set_channels

    model = schemas.BusinessChannelsIn if kind == "business" else schemas.AgencyChannelsIn
    c = container()
    changes = _changes(model, read_json(channels_api.current_request, max_bytes=c.settings.max_body_bytes))
    result = set_channels(owner, by=principal.key_id, channels=c.channels, clock=c.clock, resolve=RESOLVE, **changes)
    return _present(result.channels, with_email=kind == "business", secret=result.new_secret)


def _whole_agency(principal) -> None:
    if principal.regions:
        raise Forbidden("Only a key for the whole agency may change its notification channels.")


@json_route(channels_api, "/agency/channels", cors=CORS, role="agency")
def agency_channels(principal):
    from chalicelib.services.notifications import agency_owner

    return _show(agency_owner(principal.agency_id), with_email=False)


@json_route(channels_api, "/agency/channels", methods=("PUT",), cors=CORS, role="agency")
def set_agency_channels(principal):
    from chalicelib.services.notifications import agency_owner

    _whole_agency(principal)
    return _update(agency_owner(principal.agency_id), "agency", principal)


@json_route(channels_api, "/business/channels", cors=CORS, role="business")
def business_channels(principal):
    from chalicelib.services.notifications import business_owner

    return _show(business_owner(principal.bin), with_email=True)


@json_route(channels_api, "/business/channels", methods=("PUT",), cors=CORS, role="business")
def set_business_channels(principal):
    from chalicelib.services.notifications import business_owner

    return _update(business_owner(principal.bin), "business", principal)


def _owner(raw: str) -> tuple[str, str]:
    """"agency:<id>" / "business:<bin>" (or with "#") -> the stored owner and its body model; the agency or
    business must exist."""
    from chalicelib.services.notifications import agency_owner, business_owner

    kind, sep, ident = unquote(raw).replace("#", ":", 1).partition(":")
    c = container()
    if sep and kind == "agency":
        if ident not in c.catalog.agencies:
            raise NotFound("No agency has this id.")
        return agency_owner(ident), "agency"
    if sep and kind == "business":
        if not checksum_ok(ident):
            raise HttpError(400, "invalid_owner", "Not a valid BIN/IIN.",
                            fields={"owner": {"code": "invalid_bin", "message": "12 digits with a correct check digit"}})
        if c.businesses.get(ident) is None:
            raise BusinessNotFound("No seller with this BIN/IIN is registered.")
        return business_owner(ident), "business"
    raise HttpError(400, "invalid_owner", "The owner must be agency:<id> or business:<BIN>.",
                    fields={"owner": {"code": "invalid_owner", "message": "agency:<id> or business:<BIN>"}})


@json_route(channels_api, "/admin/channels/{owner}", methods=("PUT",), role="admin")
def set_channels_as_admin(owner, principal):
    stored_owner, model = _owner(owner)
    return _update(stored_owner, model, principal)
