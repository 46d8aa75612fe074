"""Open311 and Web Push end to end over HTTP against `python -m local` (real sockets, Chalice's local server).

Open311 is driven with `georeport` (from the package index), an existing GeoReport v2 client, in JSON and XML:
the paths with a `.json`/`.xml` suffix (`services/<code>.json`, `requests/<id>.xml`) go through the local
server exactly as a client calls them. It has no POST, so the submission is a form-encoded `requests.post`, as
the specification describes. The other Python Open311 clients on the index (`open311` 1.1, `three` 0.8) are
Python 2 only (`from api import API`, `itertools.ifilter`) and do not import on 3.11.

Web Push: a device subscribes through the local fake push service (what a browser's PushManager does), the
agency acts, the stream pump runs the reactions, and the outbox lists the push that arrived, decrypted; a
dropped subscription answers 410 and is forgotten.
"""
from __future__ import annotations

import json
import time
import uuid

import pytest
import requests
from georeport import GeoReport

from tests.e2e.conftest import wait_for

TEXT = "Продали просроченный йогурт, вернуть деньги отказались, чек не выдали."


@pytest.fixture(scope="module")
def client(stack):
    return GeoReport(f"{stack.base}/open311/v2", jurisdiction="kz")


@pytest.fixture(scope="module")
def submitted(stack):
    """One complaint sent the Open311 way (form-encoded), with an email."""
    outlet = stack.demo["outlets"][0]
    fields = {"jurisdiction_id": "kz", "api_key": "e2e-open311-client", "service_code": "expired_food",
              "attribute[outlet_code]": outlet["code"],
              "description": TEXT, "email": f"open311.{uuid.uuid4().hex[:8]}@example.kz"}
    first = requests.post(f"{stack.base}/open311/v2/requests.json", data=fields, timeout=30)
    again = requests.post(f"{stack.base}/open311/v2/requests.json", data=fields, timeout=30)
    assert first.status_code == again.status_code == 201, first.text
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert first.json() == again.json()
    return first.json()[0]


def test_the_client_lists_the_services_in_json_and_xml(client, stack):
    as_json = client.get_service_list()
    as_xml = GeoReport(f"{stack.base}/open311/v2", jurisdiction="kz", output_format="xml").get_service_list()
    assert [s["service_code"] for s in as_json] == [s["service_code"] for s in as_xml]
    assert "expired_food" in {s["service_code"] for s in as_json}
    assert all(s["metadata"] == "true" for s in as_xml)


def test_the_client_reads_a_service_definition(client, stack):
    definition = client.get_service_definition("expired_food")
    assert definition["attributes"][0]["code"] == "outlet_code" and definition["attributes"][0]["required"] is True
    xml = GeoReport(f"{stack.base}/open311/v2", output_format="xml").get_service_definition("expired_food")
    assert xml["attributes"]["attribute"][0]["code"] == "outlet_code"


def test_a_submission_is_routed_and_followed_through_the_client(client, stack, submitted):
    rid = submitted["service_request_id"]
    row = client.get_service_request(rid)
    assert row["service_request_id"] == rid and row["status"] == "open" and row["service_code"] == "expired_food"
    # routed like the form: the private tracking view says the same agency
    status, tracked = stack.json("GET", f"/complaints/{rid}", headers={"X-Tracking-Token": submitted["tracking_token"]})
    assert status == 200 and row["agency_responsible"] == tracked["agency"]["name"]["en"]
    listed = client.get_service_requests(service_code="expired_food", status="open")
    assert rid in [r["service_request_id"] for r in listed]
    xml = GeoReport(f"{stack.base}/open311/v2", output_format="xml").get_service_request(rid)
    assert xml["service_request_id"] == rid
    public = json.dumps(listed, ensure_ascii=False)
    assert TEXT not in public and "@example.kz" not in public


def test_client_errors_come_in_the_spec_shape(stack):
    response = requests.get(f"{stack.base}/open311/v2/services/nope.xml", timeout=30)
    assert response.status_code == 404 and response.text.startswith("<?xml") and "<errors><error><code>404" in response.text
    response = requests.post(f"{stack.base}/open311/v2/requests.json", data={"service_code": "expired_food"},
                             timeout=30)
    assert response.status_code == 400 and all(set(e) == {"code", "description"} for e in response.json())


# --- Web Push -----------------------------------------------------------------------------------------------
def _push_lines(stack, complaint_id):
    status, body = stack.json("GET", f"/_local/outbox?complaint_id={complaint_id}")
    assert status == 200
    return [i for i in body["items"] if i["channel"] == "webpush"]


def test_a_status_change_reaches_the_subscribed_device_decrypted(stack):
    outlet = stack.demo["outlets"][1]
    status, made = stack.json("POST", "/complaints", {"outlet_code": outlet["code"], "language": "ru", "text": TEXT},
                              {"Idempotency-Key": f"e2e-push-{uuid.uuid4()}"})
    assert status == 201, made
    token = {"X-Tracking-Token": made["tracking_token"]}
    status, key = stack.json("GET", "/push/key")
    assert status == 200 and len(key["public_key"]) == 87  # 65 bytes, base64url
    # GIVEN two devices follow the complaint (one in Kazakh)
    status, phone = stack.json("POST", "/_local/push/subscriptions")
    status2, tablet = stack.json("POST", "/_local/push/subscriptions")
    assert status == status2 == 201
    path = f"/complaints/{made['id']}/push-subscriptions"
    assert stack.json("POST", path, {"subscription": phone, "lang": "ru"}, token)[0] == 201
    assert stack.json("POST", path, {"subscription": phone, "lang": "ru"}, token)[0] == 200
    assert stack.json("POST", path, {"subscription": tablet, "lang": "kk"}, token)[0] == 201
    # WHEN the agency takes the case
    agency = {"Authorization": f"Bearer {stack.demo['keys']['agencies'][made['agency']['id']]}"}
    assert stack.json("POST", f"/agency/complaints/{made['id']}/status", {"status": "in_review"}, agency)[0] == 200
    lines = wait_for("two pushes", lambda: (found := _push_lines(stack, made["id"])) and len(found) >= 2 and found)
    # THEN each device got it, decrypted by the fake push service with the device's private key
    assert len(lines) == 2
    by_lang = {line["payload"]["lang"]: line for line in lines}
    assert set(by_lang) == {"ru", "kk"}
    for line in lines:
        payload = line["payload"]
        assert payload["complaint_id"] == made["id"] and payload["status"] == "in_review"
        assert payload["path"] == f"track.html#id={made['id']}&token={made['tracking_token']}"
        assert line["vapid_key"] == key["public_key"] and line["urgency"] == "normal"
        assert TEXT not in json.dumps(payload, ensure_ascii=False)
    assert "шағым" in by_lang["kk"]["payload"]["body"] and "жалоб" in by_lang["ru"]["payload"]["body"]

    # WHEN the tablet's browser drops the subscription and the seller answers
    endpoint_id = tablet["endpoint"].rsplit("/", 1)[-1]
    assert stack.request("DELETE", f"/_local/push/subscriptions/{endpoint_id}")[0] == 204
    business = {"Authorization": f"Bearer {stack.demo['keys']['businesses'][outlet['business_bin']]}"}
    assert stack.json("POST", f"/business/complaints/{made['id']}/response",
                      {"message": "Вернём деньги, приходите с чеком.", "offer": "refund"}, business)[0] == 200
    # THEN only the phone gets it, and the tablet's 410 made the server forget it
    wait_for("the phone's second push", lambda: len(_push_lines(stack, made["id"])) >= 3)
    time.sleep(1.0)
    lines = _push_lines(stack, made["id"])
    assert [line["payload"]["template"] for line in lines[2:]] == ["business_responded"]
    assert lines[2]["payload"]["lang"] == "ru"
    assert stack.json("POST", path, {"subscription": tablet, "lang": "kk"}, token)[0] == 201  # new again
    # AND unsubscribing over the API stops the phone's pushes
    assert stack.request("DELETE", path, json.dumps({"subscription": phone}).encode(),
                         {"Content-Type": "application/json", **token})[0] == 204
