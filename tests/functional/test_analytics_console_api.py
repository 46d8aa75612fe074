"""The analytics console's API (chalice.test.Client on moto): GET /analytics/areas (per region and, for Astana,
per district, with population and registered outlets) and GET /analytics/cases (a problem zone's anonymised
cases); registered outlets counted once by the admin API; the district and case reactions on DynamoDB; and
that these reads cost the same number of DynamoDB requests at 10 and at 1,000 complaints.

Reactions are fed as the stream processor feeds them: each stored change as ComplaintChanged(before, after)
to `analytics.apply_change` and `analytics.apply_case`, each with its own marker.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from chalicelib.domain.complaint import ComplaintChanged
from chalicelib.services import analytics
from tests.fakes import FixedClock

FRIDAY = datetime(2026, 11, 27, 9, 30, tzinfo=timezone.utc)  # 14:30 in Astana
DAY = "2026-11-27"
TEXT = ("На кассе обсчитали на 650 тенге, кассир Иванов И.И. отказался вернуть разницу. Звоните: +7 701 123 45 67.")
CONTACT = {"name": "Айгүл Сейтқали", "phone": "+7 701 123 45 67"}
ASTANA_POPULATION = 1423000


@pytest.fixture
def clock(services, demo):
    pinned = FixedClock(FRIDAY)
    services.clock = pinned
    return pinned


@pytest.fixture
def analyst(demo):
    return {"Authorization": f"Bearer {demo['keys']['analyst']}"}


def react(services, before, after):
    envelope = SimpleNamespace(event=ComplaintChanged(after.id, after.updated_at, before, after))
    marker = f"{after.id}#v{after.version}"
    analytics.apply_change(envelope, services, marker + "|analytics")
    analytics.apply_case(envelope, services, marker + "|analytics_cases")


def submit(api, services, outlet_code, *, category="overcharge"):
    response = api.post("/complaints", {"outlet_code": outlet_code, "text": TEXT, "language": "ru",
                                        "category": category, "contact": CONTACT})
    assert response.status_code == 201, response.body
    complaint = services.complaints.get(response.json_body["id"], consistent=True)
    react(services, None, complaint)
    services.clock.advance(minutes=1)
    return complaint


def new_outlet(api, admin_headers, *, kato=None, key="k1", region="71", sector="grocery"):
    body = {"business_bin": "940140000385", "name": "Таза Маркет — Есіл", "address": "Астана, Тұран 1",
            "region": region, "sector": sector}
    if kato:
        body["kato"] = kato
    return api.post("/admin/outlets", body, {**admin_headers, "Idempotency-Key": key})


def _error(response, field, code, status=422):
    assert response.status_code == status, response.body
    assert response.json_body["error"]["fields"][field]["code"] == code, response.json_body
    return response.json_body["error"]


# --- areas -------------------------------------------------------------------------------------------------
def test_areas_list_every_region_with_population_outlets_and_rates(api, analyst, services, demo, clock):
    astana = [o for o in demo["outlets"] if o["region"] == "71"]
    for outlet in astana[:3]:
        submit(api, services, outlet["code"])
    body = api.get(f"/analytics/areas?from={DAY}&to={DAY}", analyst).json_body
    rows = {r["code"]: r for r in body["rows"]}
    assert set(rows) == set(services.catalog.regions) and len(rows) == 20
    assert rows["71"]["count"] == 3 and body["total"] == 3
    assert rows["71"]["population"] == ASTANA_POPULATION
    assert rows["71"]["per_10k"] == round(3 * 10000 / ASTANA_POPULATION, 3)
    # the demo's outlets were counted as registered when seeded: five in Astana, three in Almaty
    assert (rows["71"]["outlets"], rows["75"]["outlets"]) == (len(astana), 3)
    assert rows["71"]["per_outlet"] == round(3 / len(astana), 3)
    assert rows["75"]["count"] == 0 and rows["75"]["per_10k"] == 0.0
    assert rows["10"]["outlets"] == 0 and rows["10"]["per_outlet"] is None  # no outlet: no rate, not infinity
    assert body["population"]["as_of"] == "2024-01-01" and "Bureau of National Statistics" in body["population"]["source"]
    # the other filters apply
    assert api.get(f"/analytics/areas?from={DAY}&to={DAY}&category=price_tag", analyst).json_body["total"] == 0


def test_an_outlet_is_counted_as_registered_once_however_often_it_is_registered(api, analyst, admin_headers, demo):
    first = new_outlet(api, admin_headers, kato="711300000")
    again = new_outlet(api, admin_headers, kato="711300000")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json_body["code"] == again.json_body["code"]
    rows = {r["code"]: r for r in api.get(f"/analytics/areas?from={DAY}&to={DAY}", analyst).json_body["rows"]}
    astana = sum(1 for o in demo["outlets"] if o["region"] == "71")
    assert rows["71"]["outlets"] == astana + 1
    districts = api.get(f"/analytics/areas?from={DAY}&to={DAY}&level=district&region=71", analyst).json_body
    assert {r["code"]: r["outlets"] for r in districts["rows"]}["7113"] == 1


def test_astana_by_district_counts_complaints_about_outlets_with_a_kato_code(api, analyst, admin_headers, services,
                                                                          demo, clock):
    code = new_outlet(api, admin_headers, kato="711300000").json_body["code"]
    submit(api, services, code)
    submit(api, services, code, category="price_tag")
    without = next(o for o in demo["outlets"] if o["region"] == "71")   # the demo's outlets carry no KATO code
    submit(api, services, without["code"])
    body = api.get(f"/analytics/areas?from={DAY}&to={DAY}&level=district&region=71", analyst).json_body
    rows = {r["code"]: r for r in body["rows"]}
    assert set(rows) == {"7111", "7112", "7113", "7114", "7115"}
    assert rows["7113"]["count"] == 2 and rows["7113"]["name"]["kk"] == "Сарыарқа ауданы"
    assert sum(r["count"] for r in body["rows"]) == 2
    assert (body["total"], body["unassigned"]) == (3, 1)
    # the district level takes the sector filter, and refuses the others by name
    other = api.get(f"/analytics/areas?from={DAY}&to={DAY}&level=district&region=71&sector=pharmacy", analyst)
    assert other.json_body["total"] == 0 and all(r["count"] == 0 for r in other.json_body["rows"])
    _error(api.get(f"/analytics/areas?from={DAY}&to={DAY}&level=district&region=71&category=overcharge", analyst),
           "category", "not_supported")


def test_a_redelivered_insert_counts_the_district_once(api, analyst, admin_headers, services, demo, clock):
    code = new_outlet(api, admin_headers, kato="711300000").json_body["code"]
    complaint = submit(api, services, code)
    envelope = SimpleNamespace(event=ComplaintChanged(complaint.id, complaint.updated_at, None, complaint))
    assert analytics.apply_change(envelope, services, f"{complaint.id}#v{complaint.version}|analytics") is False
    body = api.get(f"/analytics/areas?from={DAY}&to={DAY}&level=district&region=71", analyst).json_body
    assert {r["code"]: r["count"] for r in body["rows"]}["7113"] == 1


@pytest.mark.parametrize("query,field,code", [
    ("level=district", "region", "missing"),
    ("level=district&region=75", "region", "no_districts"),
    ("level=district&region=99", "region", "unknown_region"),
    ("level=oblast", "level", "enum"),
    ("regoin=71", "regoin", "extra_forbidden"),
    ("sector=spaceships", "sector", "unknown_sector"),
])
def test_a_bad_areas_query_is_a_422_naming_the_field(api, analyst, query, field, code):
    _error(api.get(f"/analytics/areas?from={DAY}&to={DAY}&{query}", analyst), field, code)


# --- cases -------------------------------------------------------------------------------------------------
def test_a_zones_cases_are_anonymised_and_show_text_only_with_consent(api, analyst, services, demo, clock):
    outlet = next(o for o in demo["outlets"] if o["region"] == "71" and o["sector"] == "grocery")
    plain = submit(api, services, outlet["code"])
    consented = submit(api, services, outlet["code"], category="price_tag")
    # the consumer's publication consent (contract 1), as the stored change that set it would carry it
    published = replace(consented, publish_consent=True, version=consented.version + 1)
    react(services, consented, published)
    body = api.get(f"/analytics/cases?from={DAY}&to={DAY}&level=region&region=71&sector=grocery", analyst).json_body
    assert len(body["cases"]) == 2 and body["more"] is False
    newest, oldest = body["cases"]
    assert newest["category"] == "price_tag" and oldest["category"] == "overcharge"   # newest first
    assert "text" not in oldest
    assert "650 тенге" in newest["text"]
    words = str(body)
    for secret in (plain.id, consented.id, "Иванов", "701 123", CONTACT["name"], "940140000385", "Таза"):
        assert secret not in words
    assert newest["outlet"] == outlet["code"] and newest["outcome"] == "open" and newest["agency"] == "kzpp"
    by_outlet = api.get(f"/analytics/cases?from={DAY}&to={DAY}&level=outlet&outlet={outlet['code']}", analyst)
    assert [c["ref"] for c in by_outlet.json_body["cases"]] == [c["ref"] for c in body["cases"]]
    by_category = api.get(f"/analytics/cases?from={DAY}&to={DAY}&level=category&category=overcharge&sector=grocery",
                          analyst).json_body
    assert [c["category"] for c in by_category["cases"]] == ["overcharge"]
    limited = api.get(f"/analytics/cases?from={DAY}&to={DAY}&level=region&region=71&sector=grocery&limit=1", analyst)
    assert len(limited.json_body["cases"]) == 1 and limited.json_body["more"] is True


def test_a_case_follows_its_complaint_and_a_late_old_record_does_not_go_back(api, analyst, services, demo, clock):
    outlet = next(o for o in demo["outlets"] if o["region"] == "71" and o["sector"] == "grocery")
    filed = submit(api, services, outlet["code"])
    headers = {"Authorization": f"Bearer {demo['keys']['agencies'][filed.agency_id]}"}
    assert api.post(f"/agency/complaints/{filed.id}/status", {"status": "rejected", "reason": "Нет сведений о нарушении"},
                    headers).status_code == 200
    rejected = services.complaints.get(filed.id, consistent=True)
    react(services, filed, rejected)
    # the INSERT's record again, under a marker the ledger no longer holds: the case must stay rejected
    envelope = SimpleNamespace(event=ComplaintChanged(filed.id, filed.updated_at, None, filed))
    assert analytics.apply_case(envelope, services, "replayed-after-the-ledger-expired") is None
    case, = api.get(f"/analytics/cases?from={DAY}&to={DAY}&level=outlet&outlet={outlet['code']}",
                    analyst).json_body["cases"]
    assert (case["outcome"], case["status"]) == ("rejected", "rejected")
    assert case["agency_decision_hours"] == 0.0


@pytest.mark.parametrize("query,field,code", [
    ("level=region&region=71", "sector", "missing"),
    ("level=region&region=99&sector=grocery", "region", "unknown_region"),
    ("level=category&category=nope&sector=grocery", "category", "unknown_category"),
    ("level=outlet", "outlet", "missing"),
    ("level=outlet&outlet=%3Cscript%3E", "outlet", "invalid"),
    ("level=district&region=71&sector=grocery", "level", "enum"),
    ("level=outlet&outlet=AB12&text=x", "text", "extra_forbidden"),
])
def test_a_bad_cases_query_is_a_422_naming_the_field(api, analyst, query, field, code):
    _error(api.get(f"/analytics/cases?from={DAY}&to={DAY}&{query}", analyst), field, code)


def test_cases_refuse_a_bad_limit_and_other_roles(api, analyst, demo):
    response = api.get(f"/analytics/cases?from={DAY}&to={DAY}&level=outlet&outlet=AB12&limit=101", analyst)
    assert response.status_code == 400 and response.json_body["error"]["code"] == "invalid_limit"
    agency = {"Authorization": f"Bearer {demo['keys']['agencies']['kzpp']}"}
    assert api.get(f"/analytics/cases?from={DAY}&to={DAY}&level=outlet&outlet=AB12", agency).status_code == 403
    assert api.get(f"/analytics/areas?from={DAY}&to={DAY}", agency).status_code == 403
    assert api.get(f"/analytics/areas?from={DAY}&to={DAY}").status_code == 401


# --- cost: the same requests whatever the volume -------------------------------------------------------------
READS = {
    "areas": f"/analytics/areas?from=2026-11-01&to=2026-11-30",
    "districts": f"/analytics/areas?from=2026-11-01&to=2026-11-30&level=district&region=71",
    "cases": f"/analytics/cases?from=2026-11-01&to=2026-11-30&level=region&region=71&sector=grocery&limit=20",
}


def _flood(services, complaints, start, n):
    """n more complaints' counters, district counts and case items, as the reactions would leave them: the
    counters summed per item in a few transactions, the case items (one per complaint and zone) in batches
    (moto deep-copies a table for every item of a transaction, which a thousand transactions make crawl)."""
    import boto3

    from chalicelib.services.ports import Increment

    base = complaints[0]
    summed, cases = {}, []
    for i in range(start, start + n):
        at = base.created_at.replace(day=1 + i % 28)
        c = replace(base, id=f"flood{i:05d}", created_at=at, updated_at=at)
        for inc in analytics.analytics_increments(None, c) + analytics.district_increments(c, "711300000"):
            item = summed.setdefault(inc.key, ({}, dict(inc.set)))
            for name, amount in inc.add.items():
                item[0][name] = item[0].get(name, 0) + amount
        cases += analytics.case_increments(c, analytics.case_ref("s", c.id))
    moves = [Increment(table="analytics", key=key, add=add, set=attrs) for key, (add, attrs) in summed.items()]
    for first in range(0, len(moves), 99):
        services.counters.apply_once(f"flood-{start}-{first}", moves[first:first + 99], at=FRIDAY)
    table = boto3.resource("dynamodb").Table(services.settings.table_name("analytics"))
    with table.batch_writer() as batch:
        for inc in cases:
            batch.put_item(Item={"pk": inc.key[0], "sk": inc.key[1], **inc.set})


def test_the_consoles_reads_cost_the_same_requests_at_10_and_at_1000_complaints(api, analyst, services, demo, clock,
                                                                                dynamodb_calls):
    outlet = next(o for o in demo["outlets"] if o["region"] == "71" and o["sector"] == "grocery")
    seed = [submit(api, services, outlet["code"])]

    def costs():
        found = {}
        for name, path in READS.items():
            dynamodb_calls.clear()
            assert api.get(path, analyst).status_code == 200
            found[name] = dict(dynamodb_calls)
        return found

    _flood(services, seed, 0, 9)
    api.get(READS["areas"], analyst)  # warm
    small = costs()
    _flood(services, seed, 9, 990)
    large = costs()
    totals = api.get(READS["districts"], analyst).json_body
    assert totals["total"] == 1000 and {r["code"]: r["count"] for r in totals["rows"]}["7113"] == 999
    # cases read at most `limit` items, newest month first: the same page however many cases there are
    assert small["cases"] == large["cases"] == {"GetItem": 1, "Query": 1}
    assert small["areas"] == large["areas"] == {"GetItem": 1, "Query": 2}        # the rollup, the registry
    assert small["districts"] == large["districts"] == {"GetItem": 1, "Query": 3}  # + the district rollup
