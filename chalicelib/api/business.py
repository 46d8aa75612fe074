"""Business room: complaints about the caller's own outlets or BIN, and its answer with an offer.
Business keys only; another business's complaint answers 404 like a missing one."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import presenters
from chalicelib.api.http import cors_for_web, json_route, limit_param, query, read_json
from chalicelib.bootstrap import container

business_api = Blueprint(__name__)
CORS = cors_for_web("X-Request-Id")  # the consoles may be served from another origin than the API
QUEUE_MAX = 100


def _detail(complaint, c):
    from chalicelib.services.cases import contact_for

    # The consumer's contact appears only when they agreed to share it with the seller.
    return presenters.case_detail(complaint, c.catalog, role="business",
                                  contact=contact_for(complaint, contacts=c.contacts, for_business=True))


@json_route(business_api, "/complaints", cors=CORS, role="business")
def inbox(principal):
    from chalicelib.services.cases import business_queue

    c = container()
    params = query(business_api.current_request)
    page = business_queue(principal, poller=c.poller(), status=params.get("status"), cursor=params.get("cursor"),
                          limit=limit_param(params.get("limit"), default=50, maximum=QUEUE_MAX))
    return presenters.queue_page(page, c.catalog)


@json_route(business_api, "/complaints/{complaint_id}", cors=CORS, role="business")
def case(complaint_id, principal):
    from chalicelib.services.cases import case_for_business

    c = container()
    return _detail(case_for_business(principal, complaint_id, complaints=c.complaints), c)


@json_route(business_api, "/complaints/{complaint_id}/response", methods=("POST",), cors=CORS, role="business")
def respond(complaint_id, principal):
    from chalicelib.api import schemas
    from chalicelib.services.cases import business_action

    c = container()
    command = schemas.response_command(read_json(business_api.current_request, max_bytes=c.settings.max_body_bytes))
    return _detail(business_action(principal, complaint_id, command, complaints=c.complaints, clock=c.clock), c)
