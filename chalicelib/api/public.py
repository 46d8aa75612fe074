"""Consumer-facing API: catalogue, outlet cards, routing preview, complaints and their status."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import presenters
from chalicelib.api.http import cors_for_web, json_response, json_route, outlet_code_param, read_json
from chalicelib.bootstrap import container
from chalicelib.domain.errors import OutletNotFound

public_api = Blueprint(__name__)
CORS = cors_for_web("Idempotency-Key", "X-Request-Id", "X-Tracking-Token")


def _request():
    return public_api.current_request


@json_route(public_api, "/health", cors=CORS)
def health():
    c = container()
    return {"status": "ok", "stage": c.settings.stage, "catalog_version": c.catalog.version}


@json_route(public_api, "/catalog", cors=CORS)
def catalog():
    return json_response(container().catalog.public(), headers={"Cache-Control": "public, max-age=300"})


@json_route(public_api, "/outlets/{code}", cors=CORS)
def outlet_card(code):
    c = container()
    outlet = c.outlets.get(outlet_code_param(code))
    if outlet is None or not outlet.active:
        raise OutletNotFound("No active outlet has this code.")
    from chalicelib.services.ratings import rating_for

    card = presenters.outlet_card(outlet, c.catalog, rating=rating_for("outlet", outlet.code, c=c))
    if c.settings.telegram_bot_username:
        # the bot's deep link: /start <code> opens a conversation about this outlet (docs/telegram.md)
        card["telegram_url"] = f"https://t.me/{c.settings.telegram_bot_username}?start={outlet.code}"
    return card


@json_route(public_api, "/routing/preview", methods=("POST",), cors=CORS)
def routing_preview():
    from chalicelib.api import schemas
    from chalicelib.services.complaints import preview_routing

    c = container()
    query = schemas.preview_query(read_json(_request(), max_bytes=c.settings.max_body_bytes))
    decision = preview_routing(text=query.text, category=query.category, outlet_code=query.outlet_code,
                               sector=query.sector, outlets=c.outlets, catalog=c.catalog,
                               routing_rules=c.routing_rules, model=c.routing_model())
    return presenters.routing_preview(decision, c.catalog)


@json_route(public_api, "/complaints", methods=("POST",), cors=CORS)
def submit_complaint():
    # Only the complaint's own models: the module with every route's models costs a cold start ~20 ms more.
    from chalicelib.api import complaint_schemas as schemas
    from chalicelib.services.complaints import submit_complaint as submit

    c = container()
    request = _request()
    key = schemas.idempotency_key(request.headers.get("idempotency-key"))
    command = schemas.submit_command(read_json(request, max_bytes=c.settings.max_body_bytes), key=key)
    result = submit(command, outlets=c.outlets, businesses=c.businesses, complaints=c.complaints,
                    contacts=c.contacts, catalog=c.catalog, rules=c.rules, routing_rules=c.routing_rules,
                    secret=c.settings.secret, clock=c.clock, model=c.routing_model())
    complaint = result.complaint
    body = presenters.complaint_created(
        complaint, result.tracking_token, c.settings.status_url(complaint.id, result.tracking_token), c.catalog)
    headers = {"Location": f"/complaints/{complaint.id}"}
    if not result.created:
        headers["Idempotent-Replayed"] = "true"
    # A replay answers exactly like the first call did, flagged by a header.
    return json_response(body, status=201, headers=headers)


def _token(request) -> str | None:
    return request.headers.get("x-tracking-token") or (request.query_params or {}).get("token")


def _tracking_view(complaint, c):
    return json_response(presenters.complaint_for_holder(complaint, c.catalog), headers={"Cache-Control": "no-store"})


@json_route(public_api, "/complaints/{complaint_id}", cors=CORS)
def complaint_status(complaint_id):
    from chalicelib.services.complaints import complaint_for_holder

    c = container()
    complaint = complaint_for_holder(complaint_id, _token(_request()), complaints=c.complaints, secret=c.settings.secret,
                                     previous_secrets=c.settings.previous_secrets)
    return _tracking_view(complaint, c)


@json_route(public_api, "/complaints/{complaint_id}/feedback", methods=("POST",), cors=CORS)
def complaint_feedback(complaint_id):
    """The consumer accepts or rejects the seller's offer, once, with 1-5 stars."""
    from chalicelib.api import schemas
    from chalicelib.services.cases import give_feedback

    c = container()
    request = _request()
    command = schemas.feedback_command(read_json(request, max_bytes=c.settings.max_body_bytes))
    complaint = give_feedback(complaint_id, _token(request), command, complaints=c.complaints,
                              previous_secrets=c.settings.previous_secrets, secret=c.settings.secret, clock=c.clock)
    return _tracking_view(complaint, c)
