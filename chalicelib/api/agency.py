"""Agency room: the work queue, the whole case, status changes and reroutes. Agency keys only; a case
outside the key's agency (or regions) answers 404 like a missing one."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.api import presenters
from chalicelib.api.http import cors_for_web, json_route, limit_param, query, read_json
from chalicelib.bootstrap import container

agency_api = Blueprint(__name__)
CORS = cors_for_web("X-Request-Id")  # the consoles may be served from another origin than the API
QUEUE_MAX = 100


def _detail(complaint, c, principal):
    from chalicelib.services.cases import contact_for

    # A second body reads the case to act on its own part, but the complainant's contact is the
    # handling agency's: it is not shown to the second body.
    handling = complaint.agency_id == principal.agency_id
    return presenters.case_detail(complaint, c.catalog, role="agency" if handling else "agency_secondary",
                                  contact=contact_for(complaint, contacts=c.contacts) if handling else None)


@json_route(agency_api, "/complaints", cors=CORS, role="agency")
def queue(principal):
    from chalicelib.services.cases import agency_queue

    c = container()
    params = query(agency_api.current_request)
    page = agency_queue(principal, poller=c.poller(), status=params.get("status"), region=params.get("region"),
                        cursor=params.get("cursor"), limit=limit_param(params.get("limit"), default=50, maximum=QUEUE_MAX),
                        known_regions=c.catalog.regions)
    return presenters.queue_page(page, c.catalog)


@json_route(agency_api, "/complaints/{complaint_id}", cors=CORS, role="agency")
def case(complaint_id, principal):
    from chalicelib.services.cases import case_for_agency

    c = container()
    return _detail(case_for_agency(principal, complaint_id, complaints=c.complaints), c, principal)


@json_route(agency_api, "/complaints/{complaint_id}/status", methods=("POST",), cors=CORS, role="agency")
def change_status(complaint_id, principal):
    from chalicelib.api import schemas
    from chalicelib.services.cases import agency_action

    c = container()
    command = schemas.status_command(read_json(agency_api.current_request, max_bytes=c.settings.max_body_bytes))
    return _detail(agency_action(principal, complaint_id, command, complaints=c.complaints, clock=c.clock), c,
                   principal)


@json_route(agency_api, "/complaints/{complaint_id}/reroute", methods=("POST",), cors=CORS, role="agency")
def reroute(complaint_id, principal):
    from chalicelib.api import schemas
    from chalicelib.services.cases import reroute as reroute_case

    c = container()
    command = schemas.reroute_command(read_json(agency_api.current_request, max_bytes=c.settings.max_body_bytes))
    moved = reroute_case(principal, complaint_id, command, complaints=c.complaints, examples=c.routing_examples,
                         rules=c.rules, agencies=frozenset(c.catalog.agencies), clock=c.clock)
    # The case has left the caller's queue: it gets where it went, not the case itself.
    return {"id": moved.id, "status": moved.status.value, "agency": presenters.agency(c.catalog, moved.agency_id)}
