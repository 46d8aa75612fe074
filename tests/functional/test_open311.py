"""Open311 GeoReport v2, functionally, endpoint by endpoint, in JSON and XML: the services from the catalogue,
the service definition, a form-encoded (and a JSON) submission routed exactly like POST /complaints and
idempotent on retry, the public status without personal data, the filtered list (a Query per month, never a
Scan), and errors in the spec's shape. tests/e2e/test_open311_e2e.py drives the same with an Open311 client.
"""
import json
from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode
from xml.etree import ElementTree as ET

import pytest

FORM = {"Content-Type": "application/x-www-form-urlencoded"}
TEXT = "Продали просроченный кефир, на кассе отказались вернуть деньги."


def form(**fields):
    return urlencode(fields)


def post(client, fields, fmt="json", headers=None, query=""):
    return client.http.post(f"/open311/v2/requests.{fmt}{query}", body=form(**fields), headers={**FORM, **(headers or {})})


@pytest.fixture
def outlet(demo):
    return demo["outlets"][0]


def submission(outlet, **more):
    return {"service_code": "expired_food", "attribute[outlet_code]": outlet["code"], "description": TEXT,
            "jurisdiction_id": "kz", **more}


def test_the_services_are_the_catalogues_categories_in_the_asked_language(client, services):
    body = json.loads(client.http.get("/open311/v2/services.json?locale=kk").body)
    assert [s["service_code"] for s in body] == list(services.catalog.categories)
    first = services.catalog.categories["overcharge"]
    row = next(s for s in body if s["service_code"] == "overcharge")
    assert row["service_name"] == first.name["kk"] and row["metadata"] is True and row["type"] == "realtime"
    ru = json.loads(client.http.get("/open311/v2/services.json", headers={"Accept-Language": "ru"}).body)
    assert next(s for s in ru if s["service_code"] == "overcharge")["service_name"] == first.name["ru"]


def test_the_services_in_xml(client, services):
    response = client.http.get("/open311/v2/services.xml?locale=en")
    assert response.headers["Content-Type"].startswith("text/xml")
    root = ET.fromstring(response.body)
    assert root.tag == "services"
    codes = [s.findtext("service_code") for s in root.findall("service")]
    assert codes == list(services.catalog.categories)
    assert root.find("service").findtext("metadata") == "true"


def test_a_service_definition_names_the_outlet_code_as_required(client):
    body = json.loads(client.http.get("/open311/v2/services/overcharge.json?locale=ru").body)
    attributes = {a["code"]: a for a in body["attributes"]}
    assert body["service_code"] == "overcharge"
    assert attributes["outlet_code"]["required"] is True and attributes["outlet_code"]["datatype"] == "string"
    assert [v["key"] for v in attributes["language"]["values"]] == ["kk", "ru", "en"]
    assert attributes["publish_consent"]["datatype"] == "singlevaluelist"
    root = ET.fromstring(client.http.get("/open311/v2/services/overcharge.xml").body)
    assert root.tag == "service_definition"
    assert [a.findtext("code") for a in root.find("attributes").findall("attribute")] == [
        "outlet_code", "language", "publish_consent"]
    assert [v.findtext("key") for v in root.find("attributes").findall("attribute")[1].find("values")] == [
        "kk", "ru", "en"]


@pytest.mark.parametrize("path, status", [
    ("/open311/v2/services/nope.json", 404), ("/open311/v2/services/overcharge.csv", 404),
    ("/open311/v2/services/overcharge", 404), ("/open311/v2/services.json?jurisdiction_id=us", 404),
    ("/open311/v2/services.json?locale=de", 400),
])
def test_unknown_services_formats_and_jurisdictions_answer_the_spec_error_list(client, path, status):
    response = client.http.get(path)
    assert response.status_code == status
    errors = json.loads(response.body)
    assert isinstance(errors, list) and errors and all(set(e) == {"code", "description"} for e in errors)
    assert errors[0]["code"] == status


def test_errors_in_xml_have_the_spec_shape(client):
    response = client.http.get("/open311/v2/services/nope.xml")
    root = ET.fromstring(response.body)
    assert response.status_code == 404 and root.tag == "errors"
    assert root.find("error").findtext("code") == "404" and root.find("error").findtext("description")


def test_a_form_submission_is_routed_like_post_complaints(client, api, outlet, services):
    response = post(client, submission(outlet, email="a.nurlanova@example.kz", first_name="Айгүл",
                                       last_name="Нұрланова"))
    assert response.status_code == 201
    [created] = json.loads(response.body)
    assert set(created) >= {"service_request_id", "service_notice", "account_id"}
    stored = services.complaints.get(created["service_request_id"])
    # the same routing as the form: compare with a POST /complaints of the same complaint
    twin = json.loads(api.post("/complaints", {"outlet_code": outlet["code"], "category": "expired_food",
                                               "text": TEXT, "channel": "api"}).body)
    assert stored.agency_id == twin["agency"]["id"] and stored.routing.method == twin["routing"]["method"]
    assert stored.category == "expired_food" and stored.outlet_code == outlet["code"] and stored.channel == "api"
    # the contact went to the vault, as with the form
    assert services.contacts.get(stored.contact_ref).email == "a.nurlanova@example.kz"
    assert services.contacts.get(stored.contact_ref).name == "Айгүл Нұрланова"
    agency_name = services.catalog.agencies[stored.agency_id].name["en"]
    assert agency_name in created["service_notice"]
    assert created["status_url"].endswith(f"id={stored.id}&token={created['tracking_token']}")


def test_a_retry_of_the_same_submission_makes_one_complaint(client, outlet, services):
    fields = submission(outlet, api_key="city-dashboard-1")
    first, again = post(client, fields), post(client, fields)
    assert json.loads(first.body)[0]["service_request_id"] == json.loads(again.body)[0]["service_request_id"]
    assert again.headers.get("Idempotent-Replayed") == "true"
    # another client's identical text is its own request
    other = post(client, {**fields, "api_key": "another-client"})
    assert json.loads(other.body)[0]["service_request_id"] != json.loads(first.body)[0]["service_request_id"]


def test_without_an_api_key_or_an_idempotency_key_the_same_fields_are_two_complaints(client, outlet):
    """A replay answers with the complaint's tracking token: a stranger posting the same fields (a shopper typing
    the same short text, or someone copying a listed request) must not get the first submitter's private link."""
    fields = submission(outlet)
    first, second = json.loads(post(client, fields).body)[0], post(client, fields)
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    second = json.loads(second.body)[0]
    assert second["service_request_id"] != first["service_request_id"]
    assert second["tracking_token"] != first["tracking_token"]


def test_the_first_clients_token_never_reaches_a_client_without_its_api_key(client, outlet):
    fields = submission(outlet, api_key="city-dashboard-7")
    first = json.loads(post(client, fields).body)[0]
    others = [post(client, {k: v for k, v in fields.items() if k != "api_key"}),
              post(client, {**fields, "api_key": "city-dashboard-8"}),
              post(client, {**fields, "api_key": ""})]
    for other in others:
        assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
        body = json.loads(other.body)[0]
        assert body["tracking_token"] != first["tracking_token"]
        assert first["tracking_token"] not in body["status_url"]


def test_the_retry_key_is_keyed_with_the_stage_secret():
    """Without the secret nobody can compute the key (and so the complaint id) a client's request maps to."""
    from chalicelib.services.open311 import submission as to_complaint

    body = {"service_code": "expired_food", "attribute[outlet_code]": "7KQ4M2XP", "description": TEXT}
    one = to_complaint(body, api_key="client-a", secret="s1").derived_key
    assert one == to_complaint(dict(body), api_key="client-a", secret="s1").derived_key
    assert one != to_complaint(body, api_key="client-a", secret="s2").derived_key
    assert one != to_complaint(body, api_key="client-b", secret="s1").derived_key
    assert to_complaint(body, api_key=None, secret="s1").derived_key is None


def test_an_idempotency_key_header_wins_and_a_reused_key_is_a_conflict(client, outlet):
    headers = {"Idempotency-Key": "open311-test-key-1"}
    first = post(client, submission(outlet), headers=headers)
    again = post(client, submission(outlet), headers=headers)
    assert json.loads(first.body) == json.loads(again.body)
    different = post(client, submission(outlet, description=TEXT + " Ещё и нагрубили."), headers=headers)
    assert different.status_code == 409 and json.loads(different.body)[0]["code"] == 409


def test_a_json_submission_with_an_attribute_object_works_too(client, outlet):
    body = {"service_code": "expired_food", "description": TEXT, "lat": 51.128, "long": 71.43,
            "attribute": {"outlet_code": outlet["code"], "language": "ru"}}
    response = client.http.post("/open311/v2/requests.xml", body=json.dumps(body),
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 201
    root = ET.fromstring(response.body)
    assert root.tag == "service_requests" and root.find("request").findtext("service_request_id")


def test_the_address_id_may_carry_the_outlet_code_but_not_a_different_one(client, outlet, demo):
    fields = {"service_code": "expired_food", "address_id": outlet["code"], "description": TEXT}
    assert post(client, fields).status_code == 201
    clash = post(client, {**fields, "attribute[outlet_code]": demo["outlets"][1]["code"]})
    assert clash.status_code == 400 and "address_id" in clash.body.decode()


@pytest.mark.parametrize("fields, mentions", [
    ({"attribute[outlet_code]": None}, "attribute[outlet_code]"),  # neither an outlet nor a business
    ({"service_code": "nope"}, "service_code"),
    ({"description": "short"}, "description"),
    ({"phone": "12345"}, "phone"),
    ({"lat": "95"}, "lat"),
    ({"attribute[publish_consent]": "yes"}, "attribute[publish_consent]"),
    ({"attribute[colour]": "red"}, "attribute[colour]"),
    ({"status": "closed"}, "status"),
    ({"jurisdiction_id": "us"}, "jurisdiction_id"),
])
def test_a_bad_submission_answers_400_naming_the_field(client, outlet, services, fields, mentions):
    before = len(list(services.complaints.requested_between(datetime(2020, 1, 1, tzinfo=timezone.utc),
                                                            datetime.now(timezone.utc), limit=200)))
    data = {k: v for k, v in {**submission(outlet), **fields}.items() if v is not None}
    response = post(client, data)
    assert response.status_code in (400, 404)
    errors = json.loads(response.body)
    assert any(e["description"].startswith(mentions) or mentions in e["description"] for e in errors), errors
    after = len(list(services.complaints.requested_between(datetime(2020, 1, 1, tzinfo=timezone.utc),
                                                           datetime.now(timezone.utc), limit=200)))
    assert after == before


def test_error_descriptions_follow_the_locale(client, outlet):
    response = post(client, {**submission(outlet), "description": "short"}, query="?locale=ru")
    assert "символов" in json.loads(response.body)[0]["description"]


def test_a_malformed_form_is_a_400(client):
    response = client.http.post("/open311/v2/requests.json", body=b"\xff\xfe=1", headers=FORM)
    assert response.status_code == 400 and json.loads(response.body)[0]["code"] == 400


def test_the_public_status_has_no_text_and_no_contact(client, outlet, services):
    made = json.loads(post(client, submission(outlet, email="private.person@example.kz", phone="+77011234567")).body)[0]
    rid = made["service_request_id"]
    response = client.http.get(f"/open311/v2/requests/{rid}.json?locale=ru")
    [row] = json.loads(response.body)
    assert row["service_request_id"] == rid and row["status"] == "open" and row["service_code"] == "expired_food"
    assert row["status_notes"] == "Направлена в государственный орган"
    assert row["address_id"] and row["requested_datetime"].endswith("Z") and row["expected_datetime"]
    raw = response.body.decode()
    for secret in (TEXT, "private.person", "7011234567", made["tracking_token"]):
        assert secret not in raw
    root = ET.fromstring(client.http.get(f"/open311/v2/requests/{rid}.xml").body)
    assert root.find("request").findtext("status") == "open"
    assert client.http.get("/open311/v2/requests/AAAAAAAAAAAA.json").status_code == 404
    assert client.http.get("/open311/v2/requests/not-an-id.xml").status_code == 404


def test_a_closed_complaint_is_closed(client, outlet, services, demo):
    made = json.loads(post(client, submission(outlet)).body)[0]
    stored = services.complaints.get(made["service_request_id"])
    key = demo["keys"]["agencies"][stored.agency_id]
    auth = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    client.http.post(f"/agency/complaints/{stored.id}/status", body=json.dumps({"status": "in_review"}), headers=auth)
    client.http.post(f"/agency/complaints/{stored.id}/status", headers=auth, body=json.dumps(
        {"status": "rejected", "reason": "Не относится к нашей компетенции."}))
    [row] = json.loads(client.http.get(f"/open311/v2/requests/{stored.id}.json").body)
    assert row["status"] == "closed" and row["expected_datetime"] is None
    closed = json.loads(client.http.get("/open311/v2/requests.json?status=closed").body)
    assert [r["service_request_id"] for r in closed] == [stored.id]
    opened = json.loads(client.http.get("/open311/v2/requests.json?status=open").body)
    assert stored.id not in [r["service_request_id"] for r in opened]


def test_the_list_filters_by_service_and_dates_with_queries_only(client, outlet, services, dynamodb_calls):
    a = json.loads(post(client, submission(outlet)).body)[0]["service_request_id"]
    b = json.loads(post(client, submission(outlet, service_code="no_receipt",
                                           description="Чек не выдали, сказали что касса сломана.")).body)[0][
        "service_request_id"]
    dynamodb_calls.clear()
    rows = json.loads(client.http.get("/open311/v2/requests.json?service_code=no_receipt").body)
    assert [r["service_request_id"] for r in rows] == [b]
    assert "Scan" not in dynamodb_calls and dynamodb_calls["Query"] >= 1
    both = json.loads(client.http.get("/open311/v2/requests.json?service_code=no_receipt,expired_food").body)
    assert [r["service_request_id"] for r in both] == [b, a]  # newest first
    later = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert json.loads(client.http.get(f"/open311/v2/requests.json?start_date={later}").body) == []
    ids = json.loads(client.http.get(f"/open311/v2/requests.json?service_request_id={a},{b}").body)
    assert {r["service_request_id"] for r in ids} == {a, b}
    limited = json.loads(client.http.get("/open311/v2/requests.json?limit=1").body)
    assert [r["service_request_id"] for r in limited] == [b]
    root = ET.fromstring(client.http.get("/open311/v2/requests.xml?service_code=expired_food").body)
    assert [r.findtext("service_request_id") for r in root.findall("request")] == [a]


def test_the_list_reads_one_query_per_month_of_the_range(client, outlet, dynamodb_calls):
    post(client, submission(outlet))
    dynamodb_calls.clear()
    client.http.get("/open311/v2/requests.json?start_date=2026-09-15T00:00:00Z&end_date=2026-11-30T00:00:00Z")
    assert dict(dynamodb_calls) == {"Query": 3}  # September, October, November


def test_a_filtered_list_over_many_non_matching_complaints_reads_a_bounded_number_of_queries(
        client, outlet, dynamodb_calls, monkeypatch):
    """Unauthenticated, a rare service_code over a busy range must not page through the whole range: at most
    2 Queries per month spanned (8 at most), the newest matches found, possibly fewer than exist."""
    from chalicelib.adapters import repositories

    # with limit=3, pages of 3: sixty complaints are twenty pages (before the bound: three pages of 25, all read)
    monkeypatch.setattr(repositories, "REQUESTED_FILTERED_PAGE", 3, raising=False)
    since = (datetime.now(timezone.utc) - timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rare = json.loads(post(client, submission(outlet, service_code="no_receipt",
                                              description="Чек не выдали, сказали что касса сломана.")).body)[0]
    for n in range(60):
        assert post(client, submission(outlet, description=f"{TEXT} Случай {n}.")).status_code == 201
    months = 1 if datetime.now(timezone.utc).strftime("%Y-%m") == since[:7] else 2
    dynamodb_calls.clear()
    rows = json.loads(client.http.get(
        f"/open311/v2/requests.json?service_code=no_receipt&start_date={since}&limit=3").body)
    assert dict(dynamodb_calls) == {"Query": 2 * months}
    assert rare["service_request_id"] not in [r["service_request_id"] for r in rows]  # shortened, as documented
    # narrowing the range finds it
    dynamodb_calls.clear()
    end = (datetime.now(timezone.utc) + timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    rows = json.loads(client.http.get(
        f"/open311/v2/requests.json?service_code=expired_food&start_date={since}&end_date={end}&limit=12").body)
    assert len(rows) == 12 and dict(dynamodb_calls)["Query"] <= 2 * months


@pytest.mark.parametrize("query, field", [
    ("status=pending", "status"), ("service_code=nope", "service_code"), ("start_date=yesterday", "start_date"),
    ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "end_date"),
    ("start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "end_date"),
    ("limit=0", "limit"), ("limit=5000", "limit"), ("page=2", "page"),
])
def test_bad_list_parameters_are_400(client, query, field):
    response = client.http.get(f"/open311/v2/requests.json?{query}")
    assert response.status_code == 400
    assert json.loads(response.body)[0]["description"].startswith(field)


def test_cors_lets_any_civic_client_read(client):
    response = client.http.get("/open311/v2/services.json")
    assert response.headers["Access-Control-Allow-Origin"] == "*"


@pytest.mark.parametrize("given, stored", [({}, False), ({"attribute[publish_consent]": "true"}, True),
                                           ({"attribute[publish_consent]": "false"}, False)])
def test_the_publication_consent_reaches_the_complaint(client, outlet, services, given, stored):
    made = json.loads(post(client, submission(outlet, **given)).body)[0]
    assert services.complaints.get(made["service_request_id"]).publish_consent is stored


def test_a_json_publication_consent_must_be_a_boolean(client, outlet):
    body = {"service_code": "expired_food", "description": TEXT, "attribute": {"outlet_code": outlet["code"]},
            "publish_consent": "yes"}
    response = client.http.post("/open311/v2/requests.json", body=json.dumps(body),
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 400 and json.loads(response.body)[0]["description"].startswith("publish_consent")


@pytest.mark.parametrize("attribute", [{"outlet_code": True}, {"outlet_code": ["A", "B"]}, {"language": 7},
                                       {"publish_consent": "maybe"}])
def test_json_attributes_of_the_wrong_type_are_400(client, outlet, attribute):
    body = {"service_code": "expired_food", "description": TEXT, "attribute": {"outlet_code": outlet["code"],
                                                                              **attribute}}
    response = client.http.post("/open311/v2/requests.json", body=json.dumps(body),
                                headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.body
    assert json.loads(response.body)[0]["description"].startswith(f"attribute[{next(iter(attribute))}]")
