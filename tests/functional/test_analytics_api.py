"""The analysts' API over HTTP (chalice.test.Client on moto): who may read it, what it refuses, that the JSON
and the CSV agree, that counters follow complaints worked through the API, and that a summary costs the same
number of DynamoDB requests at 10 and at 1,000 complaints.

Counters are fed the way the stream reaction feeds them: `analytics_increments(before, after)` of each stored
change, applied once through `services.counters` (the stream processor itself is tested elsewhere).
"""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.complaint import file_complaint
from chalicelib.domain.routing import RoutingDecision
from chalicelib.services.analytics import PUBLIC, analytics_increments
from chalicelib.services.ports import Increment
from tests.fakes import FixedClock

FRIDAY = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)  # 14:30 in Astana
DAY = "2026-11-27"
TEXT = ("На кассе обсчитали: пробили молоко дважды, разницу в 650 тенге вернуть отказались, чек выдали только после "
        "долгого спора с администратором. Прошу проверить магазин.")
CONTACT = {"name": "Айгүл Сейтқали", "phone": "+7 701 123 45 67"}
# each route with a valid query
ROUTES = (f"/analytics/summary?from={DAY}&to={DAY}", f"/analytics/summary.csv?from={DAY}&to={DAY}",
          f"/analytics/hotspots?from={DAY}&to={DAY}&level=outlet")


@pytest.fixture
def clock(services, demo):
    pinned = FixedClock(FRIDAY)
    services.clock = pinned
    return pinned


@pytest.fixture
def analyst(demo):
    return {"Authorization": f"Bearer {demo['keys']['analyst']}"}


class Counted:
    """Complaints filed and worked over HTTP, each stored change counted as the stream reaction would."""

    def __init__(self, api, demo, services, clock):
        self.api, self.demo, self.services, self.clock = api, demo, services, clock

    def count(self, before, after) -> None:
        increments = analytics_increments(before, after)
        if increments:
            assert self.services.counters.apply_once(f"{after.id}#v{after.version}#analytics", increments,
                                                     at=self.clock.now())

    def submit(self, outlet: dict, category: str | None = "overcharge", contact: bool = True) -> str:
        body = {"outlet_code": outlet["code"], "text": TEXT, "language": "ru"}
        if category:
            body["category"] = category
        if contact:
            body["contact"] = CONTACT
        response = self.api.post("/complaints", body)
        assert response.status_code == 201, response.body
        cid = response.json_body["id"]
        self.count(None, self.services.complaints.get(cid, consistent=True))
        self.clock.advance(minutes=1)
        return cid

    def agency(self, cid: str, action: str, body: dict, agency_id: str = "kzpp") -> None:
        before = self.services.complaints.get(cid, consistent=True)
        headers = {"Authorization": f"Bearer {self.demo['keys']['agencies'][agency_id]}"}
        response = self.api.post(f"/agency/complaints/{cid}/{action}", body, headers)
        assert response.status_code == 200, response.body
        self.count(before, self.services.complaints.get(cid, consistent=True))
        self.clock.advance(minutes=1)


@pytest.fixture
def counted(api, demo, services, clock):
    return Counted(api, demo, services, clock)


def _outlet(demo, sector: str, region: str) -> dict:
    return next(o for o in demo["outlets"] if o["sector"] == sector and o["region"] == region)


def _error(response, field: str, code: str, status: int = 422) -> dict:
    assert response.status_code == status, response.body
    error = response.json_body["error"]
    assert error["code"] == "validation_failed" and error["fields"][field]["code"] == code, error
    return error


# --- who may read -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ROUTES)
def test_analytics_need_a_key(api, demo, path):
    response = api.get(path)
    assert response.status_code == 401 and response.json_body["error"]["code"] == "unauthorized"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", ROUTES)
def test_agency_and_business_keys_may_not_read_analytics(api, demo, path):
    for key in (demo["keys"]["agencies"]["kzpp"], demo["keys"]["businesses"]["940140000385"]):
        response = api.get(path, {"Authorization": f"Bearer {key}"})
        assert response.status_code == 403 and response.json_body["error"]["code"] == "forbidden"


@pytest.mark.parametrize("path", ROUTES)
def test_analyst_and_admin_keys_may(api, demo, path):
    for key in (demo["keys"]["analyst"], demo["keys"]["admin"]):
        assert api.get(path, {"Authorization": f"Bearer {key}"}).status_code == 200


# --- what is refused --------------------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/analytics/summary", "/analytics/summary.csv"])
@pytest.mark.parametrize("params,field,code", [
    ("to=2026-11-30", "from", "missing"),
    ("from=27.11.2026&to=2026-11-30", "from", "date_parsing"),
    ("from=2026-11-30&to=2026-11-01", "to", "out_of_range"),
    ("from=2025-11-01&to=2026-11-02", "to", "out_of_range"),  # 367 days
    ("from=2026-11-01&to=2026-11-30&group_by=region,shop", "group_by", "enum"),
    ("from=2026-11-01&to=2026-11-30&region=99", "region", "unknown_region"),
    ("from=2026-11-01&to=2026-11-30&agency=kgb", "agency", "unknown_agency"),
    ("from=2026-11-01&to=2026-11-30&category=overcharge,gossip", "category", "unknown_category"),
    ("from=2026-11-01&to=2026-11-30&sector=casino", "sector", "unknown_sector"),
    ("from=2026-11-01&to=2026-11-30&regoin=71", "regoin", "extra_forbidden"),
])
def test_a_bad_summary_query_is_a_422_naming_the_field(api, analyst, path, params, field, code):
    _error(api.get(f"{path}?{params}", analyst), field, code)


@pytest.mark.parametrize("params,field,code", [
    ("from=2026-11-01&to=2026-11-07", "level", "missing"),
    ("from=2026-11-01&to=2026-11-07&level=business", "level", "enum"),
    ("from=2026-11-07&to=2026-11-01&level=outlet", "to", "out_of_range"),
    ("from=2026-11-01&to=2026-11-07&level=outlet&group_by=region", "group_by", "extra_forbidden"),
])
def test_a_bad_hotspot_query_is_a_422_naming_the_field(api, analyst, params, field, code):
    _error(api.get(f"/analytics/hotspots?{params}", analyst), field, code)


def test_a_hotspot_limit_out_of_range_is_refused(api, analyst):
    response = api.get("/analytics/hotspots?from=2026-11-01&to=2026-11-07&level=region&limit=1000", analyst)
    assert response.status_code == 400 and response.json_body["error"]["code"] == "invalid_limit"


def test_a_refusal_speaks_the_callers_language(api, analyst):
    error = _error(api.get("/analytics/summary?from=2026-11-01&to=2026-11-30&region=99",
                           {**analyst, "Accept-Language": "kk"}), "region", "unknown_region")
    assert error["fields"]["region"]["message"] == "Мұндай өңір жоқ."


# --- the numbers ------------------------------------------------------------------------------------------
def test_counters_follow_complaints_worked_through_the_api_and_json_and_csv_agree(api, analyst, counted, demo):
    astana, almaty = _outlet(demo, "grocery", "71"), _outlet(demo, "electronics", "75")
    upheld, rejected, moved = counted.submit(astana), counted.submit(astana), counted.submit(astana)
    counted.submit(almaty, category="warranty")
    counted.submit(almaty, category=None, contact=False)  # an anonymous signal without a category
    counted.agency(upheld, "status", {"status": "in_review"})
    counted.agency(upheld, "status", {"status": "resolved", "decision": "violation_confirmed",
                                      "result": "Продавцу выдано предписание, деньги вернули."})
    counted.agency(rejected, "status", {"status": "rejected", "reason": "Повторное обращение по тому же чеку."})
    counted.agency(moved, "reroute", {"agency_id": "kgd", "reason": "Чек не выдали: это вопрос налоговой."})

    url = f"/analytics/summary?from={DAY}&to={DAY}&group_by=region,agency,category"
    response = api.get(url, analyst)
    assert response.status_code == 200, response.body
    body = response.json_body
    assert (body["from"], body["to"], body["group_by"], body["filters"]) == (DAY, DAY, ["region", "agency",
                                                                                        "category"], {})
    table = {(g["region"], g["agency"], g["category"]): g for g in body["groups"]}
    warranty_agency = next(k[1] for k in table if k[2] == "warranty")
    assert set(table) == {("71", "kzpp", "overcharge"), ("71", "kgd", "overcharge"),
                          ("75", warranty_agency, "warranty"), ("75", next(k[1] for k in table if k[2] == "none"),
                                                                 "none")}
    kzpp = table[("71", "kzpp", "overcharge")]
    assert {k: kzpp[k] for k in ("count", "open", "upheld", "rejected", "agency_decided", "rerouted")} == {
        "count": 2, "open": 0, "upheld": 1, "rejected": 1, "agency_decided": 2, "rerouted": 0}
    assert kzpp["agency_decision_hours_avg"] > 0
    kgd = table[("71", "kgd", "overcharge")]
    assert (kgd["count"], kgd["open"], kgd["rerouted"]) == (1, 1, 1)
    totals = body["totals"]
    assert {k: totals[k] for k in ("count", "appeals", "signals", "open", "upheld", "rejected", "rerouted")} == {
        "count": 5, "appeals": 4, "signals": 1, "open": 3, "upheld": 1, "rejected": 1, "rerouted": 1}
    assert set(totals) == set(PUBLIC)

    csv_response = api.get(url.replace("/summary?", "/summary.csv?"), {**analyst, "Accept-Language": "ru"})
    assert csv_response.status_code == 200
    assert csv_response.headers["Content-Type"].startswith("text/csv")
    assert csv_response.headers["Content-Disposition"] == \
        f'attachment; filename="qalqan-summary-{DAY}-{DAY}.csv"'
    rows = list(csv.DictReader(io.StringIO(csv_response.body.decode("utf-8-sig"))))
    assert len(rows) == len(body["groups"])
    for row, group in zip(rows, body["groups"]):
        for name, value in group.items():
            assert row[name] == ("" if value is None else str(value)), name
    assert (rows[0]["region"], rows[0]["region_name"]) == ("71", counted.services.catalog.regions["71"].name["ru"])


def test_filters_narrow_the_summary_and_hotspots_name_outlets_by_code_only(api, analyst, counted, demo):
    astana, almaty = _outlet(demo, "grocery", "71"), _outlet(demo, "electronics", "75")
    for _ in range(3):
        counted.submit(astana)
    counted.submit(almaty, category="warranty")
    only = api.get(f"/analytics/summary?from={DAY}&to={DAY}&region=75&group_by=sector", analyst).json_body
    assert [(g["sector"], g["count"]) for g in only["groups"]] == [("electronics", 1)]
    assert only["filters"] == {"region": ["75"]}
    spots = api.get(f"/analytics/hotspots?from={DAY}&to={DAY}&level=outlet", analyst).json_body
    assert [(i["outlet"], i["sector"], i["region"], i["current"]) for i in spots["items"]] == [
        (astana["code"], "grocery", "71", 3), (almaty["code"], "electronics", "75", 1)]
    words = str(spots)
    for private in (astana["name"], astana["business_name"], astana["business_bin"], CONTACT["name"], "650"):
        assert private not in words
    regions = api.get(f"/analytics/hotspots?from={DAY}&to={DAY}&level=region", analyst).json_body
    assert {(i["region"], i["sector"]) for i in regions["items"]} == {("71", "grocery"), ("75", "electronics")}


# --- the cost of a read -----------------------------------------------------------------------------------
def _flood(services, demo, how_many: int, start: int) -> None:
    """`how_many` complaints about one outlet on one day, counted straight into the counters.

    Their increments are summed per item and applied in one transaction: the same items and totals as one
    transaction per complaint (additions commute), without 1,000 round trips to moto in a test."""
    outlet = _outlet(demo, "grocery", "71")
    routing = RoutingDecision(agency_id="kzpp", method="category", confidence=1.0, version="v", explanation="e",
                              matched=())
    sums: dict = {}
    for i in range(start, start + how_many):
        at = FRIDAY + timedelta(seconds=i)
        complaint, _ = file_complaint(
            complaint_id=f"flood{i:011d}", now=at, rules=services.rules, routing=routing, identified=i % 3 > 0,
            channel="qr", language="ru", text_language="ru", text=TEXT, category="overcharge", sector="grocery",
            region="71", business_bin=outlet["business_bin"], business_name=outlet["business_name"],
            business_registered=True, outlet_code=outlet["code"], outlet_name=outlet["name"], outlet_address="",
            contact_ref=None, share_contact_with_business=False, incident_at=None, fingerprint="f")
        for inc in analytics_increments(None, complaint):
            add, attributes = sums.setdefault(inc.key, ({}, dict(inc.set)))
            for name, amount in inc.add.items():
                add[name] = add.get(name, 0) + amount
    increments = [Increment("analytics", key, add=add, set=attributes) for key, (add, attributes) in sums.items()]
    assert services.counters.apply_once(f"flood#{start}", increments, at=FRIDAY)


READS = {
    "day": f"/analytics/summary?from={DAY}&to={DAY}&group_by=region,category",
    "month": "/analytics/summary?from=2026-11-01&to=2026-11-30&group_by=agency",
    "year": "/analytics/summary?from=2025-12-01&to=2026-11-30&group_by=sector",
    "weeks": "/analytics/summary?from=2026-11-01&to=2026-11-30&group_by=week",
    "csv": "/analytics/summary.csv?from=2026-10-15&to=2026-11-30&group_by=region",
    "hotspots": "/analytics/hotspots?from=2026-11-23&to=2026-11-29&level=outlet",
    "hotspots_month": "/analytics/hotspots?from=2026-11-01&to=2026-11-30&level=region",
}


def _costs(api, analyst, dynamodb_calls) -> dict:
    costs = {}
    for name, url in READS.items():
        dynamodb_calls.clear()
        response = api.get(url, analyst)
        assert response.status_code == 200, response.body
        costs[name] = dict(dynamodb_calls)
    return costs


def test_a_read_costs_the_same_requests_at_10_and_at_1000_complaints(api, analyst, services, demo, dynamodb_calls):
    _flood(services, demo, 10, 0)
    api.get(READS["day"], analyst)  # warm: clients and catalogue loaded
    small = _costs(api, analyst, dynamodb_calls)
    _flood(services, demo, 990, 10)
    large = _costs(api, analyst, dynamodb_calls)
    assert large == small
    totals = api.get(READS["day"], analyst).json_body["totals"]
    assert (totals["count"], totals["appeals"], totals["signals"]) == (1000, 666, 334)
    # one GetItem for the key; then one Query per planned partition range, never a Scan
    assert small["day"] == {"GetItem": 1, "Query": 1}        # the day's items
    assert small["month"] == {"GetItem": 1, "Query": 1}      # one month rollup
    assert small["year"] == {"GetItem": 1, "Query": 2}       # December 2025 and Jan-Nov 2026: two year partitions
    assert small["weeks"] == {"GetItem": 1, "Query": 1}      # weeks need the month's day items
    assert small["csv"] == {"GetItem": 1, "Query": 2}        # 15-31 October's days, November's rollup
    assert small["hotspots"] == {"GetItem": 1, "Query": 2}   # five weeks, 26 Oct .. 29 Nov: two months of days
    # November and the four 30-day windows before it (from 4 July): July to October by days, November's rollup
    assert small["hotspots_month"] == {"GetItem": 1, "Query": 5}
