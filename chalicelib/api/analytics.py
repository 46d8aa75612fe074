"""Analysts' room: counters by day × region × agency × category × sector × kind, as JSON or CSV, and the
problem zones. Analyst or admin keys only; every read is a few Queries on the analytics table, whatever the
number of complaints (chalicelib/services/analytics.py, docs/analytics.md)."""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api.http import cors_for_web, json_route, limit_param, query
from chalicelib.bootstrap import container
from chalicelib.domain.errors import ValidationFailed
from chalicelib.i18n import negotiate as language

analytics_api = Blueprint(__name__)
CORS = cors_for_web("X-Request-Id")  # the analysts' page may be served from another origin than the API
ROLES = ("analyst", "admin")
HOTSPOTS_MAX = 100
_RANGE = ("from", "to")
_SUMMARY_PARAMS = frozenset(_RANGE + ("group_by", "region", "agency", "category", "sector", "kind"))
_HOTSPOT_PARAMS = frozenset(_RANGE + ("level", "limit"))
_AREA_PARAMS = frozenset(_RANGE + ("level", "region", "agency", "category", "sector", "kind"))
_CASE_PARAMS = frozenset(_RANGE + ("level", "region", "category", "sector", "outlet", "limit"))


def _params(allowed: frozenset[str]) -> dict:
    """The query parameters, refusing names the route does not know: a typo ("regoin=71") would otherwise
    silently widen the answer to every region."""
    params = query(analytics_api.current_request)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise ValidationFailed("Some parameters are invalid.", fields={
            name: {"code": "extra_forbidden", "message": f"use {', '.join(sorted(allowed))}"} for name in unknown})
    return params


def _summary_args(params: dict) -> tuple:
    from chalicelib.services.analytics import FILTERS

    return params.get("from"), params.get("to"), params.get("group_by"), {f: params.get(f) for f in FILTERS}


@json_route(analytics_api, "/analytics/summary", cors=CORS, role=ROLES)
def summary(principal):
    from chalicelib.services.analytics import summary as summarise

    return summarise(*_summary_args(_params(_SUMMARY_PARAMS)), c=container())


@json_route(analytics_api, "/analytics/summary.csv", cors=CORS, role=ROLES)
def summary_csv(principal):
    from chalicelib.services.analytics import summary_csv as render

    params = _params(_SUMMARY_PARAMS)
    lang = language(analytics_api.current_request.headers.get("accept-language"))
    text = render(*_summary_args(params), c=container(), lang=lang)
    name = f"qalqan-summary-{params['from']}-{params['to']}.csv"  # both validated as ISO days by now
    return Response(body=text, status_code=200, headers={
        "Content-Type": "text/csv; charset=utf-8", "Content-Disposition": f'attachment; filename="{name}"',
        "Content-Language": lang})


@json_route(analytics_api, "/analytics/hotspots", cors=CORS, role=ROLES)
def hotspots(principal):
    from chalicelib.services.analytics import hotspots as rank

    params = _params(_HOTSPOT_PARAMS)
    return rank(params.get("from"), params.get("to"), params.get("level"), c=container(),
                limit=limit_param(params.get("limit"), default=20, maximum=HOTSPOTS_MAX))


@json_route(analytics_api, "/analytics/areas", cors=CORS, role=ROLES)
def areas(principal):
    """The map's numbers: complaints per region (or per district of `region`), per 10,000 residents and per
    registered outlet."""
    from chalicelib.services.analytics import FILTERS, areas as per_area

    params = _params(_AREA_PARAMS)
    level = params.get("level") or "region"
    # at the region level `region` is a filter like the others; at the district level it names the region
    region = params.get("region") if level == "district" else None
    filters = {f: params.get(f) for f in FILTERS if not (f == "region" and level == "district")}
    return per_area(params.get("from"), params.get("to"), level, region, filters, c=container())


@json_route(analytics_api, "/analytics/cases", cors=CORS, role=ROLES)
def cases(principal):
    """The anonymised cases behind one hotspot zone: level=region (region, sector), level=category (category,
    sector) or level=outlet (outlet)."""
    from chalicelib.services.analytics import CASES_MAX, hotspot_cases

    params = _params(_CASE_PARAMS)
    zone = {name: params.get(name) for name in ("region", "category", "sector", "outlet")}
    return hotspot_cases(params.get("from"), params.get("to"), params.get("level"), zone, c=container(),
                         limit=limit_param(params.get("limit"), default=50, maximum=CASES_MAX))
