"""The routing policy through the API: the preview asks when unsure, a complaint sent anyway goes to triage,
and a second body sees the complaint in its queue (read-only, without the contact) and is notified.
The classifier is a stand-in with fixed probabilities, so each case is deterministic."""
import json
from dataclasses import replace

import pytest

from tests.unit.test_routing_policy import FixedModel

H = {"Content-Type": "application/json"}


@pytest.fixture
def with_model(services):
    from chalicelib.bootstrap import use_container

    def install(model):
        use_container(replace(services, router_model=model))
    return install


def _post(client, path, body, **headers):
    return client.http.post(path, body=json.dumps(body), headers={**H, **headers})


def test_an_unsure_preview_asks_for_a_category_with_the_likeliest_ones(client, demo, with_model):
    with_model(FixedModel({"kzpp": 0.22, "ksek": 0.2, "kgd": 0.2, "police": 0.19, "ktrm": 0.19}))
    outlet = demo["outlets"][0]["code"]
    r = _post(client, "/routing/preview", {"text": "ну вообще кошмар какой-то", "outlet_code": outlet})
    assert r.status_code == 200
    body = json.loads(r.body)
    assert body["needs_category"] is True and body["method"] == "triage"
    assert body["agency"]["id"] == "kzpp" and body["suggested"]["id"] == "kzpp"
    assert 2 <= len(body["candidates"]) <= 3
    assert all(set(c["name"]) == {"kk", "ru", "en"} for c in body["candidates"])
    # the consumer answers the one question: with a category the same text is routed without asking
    chosen = body["candidates"][1]["id"]
    again = json.loads(_post(client, "/routing/preview", {"text": "ну вообще кошмар какой-то", "outlet_code": outlet,
                                                          "category": chosen}).body)
    assert again["needs_category"] is False and again["method"] == "category"


def test_a_clear_preview_does_not_ask(client, demo, with_model):
    with_model(FixedModel({"ksek": 0.9, "kzpp": 0.1}))
    body = json.loads(_post(client, "/routing/preview", {"text": "Продали просроченный кефир",
                                                         "outlet_code": demo["outlets"][0]["code"]}).body)
    assert (body["needs_category"], body["candidates"], body["agency"]["id"]) == (False, [], "ksek")


def test_sent_anyway_an_unsure_complaint_goes_to_triage_with_the_suggestion_recorded(client, demo, with_model):
    with_model(FixedModel({"ksek": 0.27, "kzpp": 0.25, "kgd": 0.24, "ktrm": 0.24}))
    r = _post(client, "/complaints", {"outlet_code": demo["outlets"][0]["code"], "text": "Ну вообще кошмар какой-то"},
              **{"Idempotency-Key": "triage-0001-aaaa"})
    assert r.status_code == 201
    made = json.loads(r.body)
    assert made["agency"]["id"] == "kzpp" and made["routing"]["method"] == "triage"
    key = demo["keys"]["agencies"]["kzpp"]
    case = json.loads(client.http.get(f"/agency/complaints/{made['id']}", headers={"Authorization": f"Bearer {key}"}).body)
    assert case["routing"]["suggested"] == "ksek" and case["routing"]["model_version"] == "test-1"


def test_a_second_body_sees_the_case_read_only_without_the_contact(client, demo, with_model, services):
    with_model(FixedModel({"kzpp": 0.88, "kgd": 0.1, "ksek": 0.02}))
    outlet = demo["outlets"][0]
    r = _post(client, "/complaints", {"outlet_code": outlet["code"], "language": "ru",
                                      "text": "Обсчитали на кассе на 500 тенге и чек не дали, касса не работает",
                                      "contact": {"name": "Айгерим С.", "phone": "+77011234567"}},
              **{"Idempotency-Key": "second-0001-aaaa"})
    assert r.status_code == 201, r.body
    made = json.loads(r.body)
    primary = made["agency"]["id"]
    (second,) = [a["id"] for a in made["secondary_agencies"]]
    assert {primary, second} == {"kzpp", "kgd"}
    tracking = json.loads(client.http.get(f"/complaints/{made['id']}",
                                          headers={"X-Tracking-Token": made["tracking_token"]}).body)
    assert [a["id"] for a in tracking["secondary_agencies"]] == [second]

    from chalicelib.bootstrap import container

    container().clock = _Later(container().clock)  # past the queue's settle lag
    auth = {"Authorization": f"Bearer {demo['keys']['agencies'][second]}"}
    queue = json.loads(client.http.get("/agency/complaints", headers=auth).body)
    assert made["id"] in [row["id"] for row in queue["items"]]
    case = json.loads(client.http.get(f"/agency/complaints/{made['id']}", headers=auth).body)
    assert case["role"] == "secondary" and case["contact"] is None and case["actions"] == []
    assert case["contact_provided"] is True
    refused = _post(client, f"/agency/complaints/{made['id']}/status", {"status": "in_review"}, **auth)
    assert refused.status_code == 403
    handling = {"Authorization": f"Bearer {demo['keys']['agencies'][primary]}"}
    mine = json.loads(client.http.get(f"/agency/complaints/{made['id']}", headers=handling).body)
    assert mine["role"] == "handling" and mine["contact"]["phone"] == "+77011234567"
    # an agency that is neither sees nothing
    other = {"Authorization": f"Bearer {demo['keys']['agencies']['ksek']}"}
    assert client.http.get(f"/agency/complaints/{made['id']}", headers=other).status_code == 404


def test_a_reroute_to_the_second_body_makes_it_the_handling_one(client, demo, with_model, services):
    with_model(FixedModel({"kzpp": 0.88, "kgd": 0.1, "ksek": 0.02}))
    made = json.loads(_post(client, "/complaints", {"outlet_code": demo["outlets"][0]["code"],
                                                    "text": "Обсчитали на кассе на 500 тенге и чек не дали, касса не работает"},
                            **{"Idempotency-Key": "second-0002-aaaa"}).body)
    primary, second = made["agency"]["id"], made["secondary_agencies"][0]["id"]
    auth = {"Authorization": f"Bearer {demo['keys']['agencies'][primary]}"}
    assert _post(client, f"/agency/complaints/{made['id']}/reroute", {"agency_id": second, "reason": "Это ваш случай"},
                 **auth).status_code == 200
    stored = services.complaints.get(made["id"])
    assert stored.agency_id == second and stored.secondary_agencies == ()


def _submitted_with_a_second_body(services, demo, with_model, client, key):
    """A complaint about two bodies, its ComplaintSubmitted envelope, and a container with a topic."""
    from chalicelib.domain.complaint import events_between
    from chalicelib.streams.processor import Envelope

    with_model(FixedModel({"kzpp": 0.88, "kgd": 0.1, "ksek": 0.02}))
    made = json.loads(_post(client, "/complaints", {"outlet_code": demo["outlets"][0]["code"],
                                                    "text": "Обсчитали на кассе на 500 тенге и чек не дали, касса не работает"},
                            **{"Idempotency-Key": key}).body)
    complaint = services.complaints.get(made["id"])
    c = replace(services, settings=replace(services.settings, notifications_topic_arn="arn:aws:sns:eu-central-1:1:t"))
    (submitted,) = [Envelope(i, e, complaint, None) for i, e in events_between(None, complaint)
                    if type(e).__name__ == "ComplaintSubmitted"]
    return complaint, submitted, c


def test_the_second_body_is_notified(services, demo, with_model, client):
    from chalicelib.services import notifications

    complaint, submitted, c = _submitted_with_a_second_body(services, demo, with_model, client, "second-0003-aaaa")
    message = notifications.secondary_agency_topic(submitted, c)
    second = complaint.secondary_agencies[0]
    assert message.attributes["agency"] == second and message.attributes["role"] == "secondary"
    assert json.loads(message.body)["handling_agency"] == complaint.agency_id
    assert "Обсчитали" not in message.body


class _Later:
    def __init__(self, clock):
        self.clock = clock

    def now(self):
        from datetime import timedelta

        return self.clock.now() + timedelta(minutes=1)


def test_reroutes_are_exported_as_training_examples_and_orphans_are_skipped(client, demo, services, tmp_path, capsys):
    from datetime import datetime, timezone

    from chalicelib.domain.model import RoutingExample
    from tools.admin import main as admin

    made = json.loads(_post(client, "/complaints", {"outlet_code": demo["outlets"][0]["code"],
                                                    "text": "Продали просроченный кефир"},
                            **{"Idempotency-Key": "export-0001-aaaa"}).body)
    agency = made["agency"]["id"]
    target = "kgd" if agency != "kgd" else "kzpp"
    auth = {"Authorization": f"Bearer {demo['keys']['agencies'][agency]}"}
    assert _post(client, f"/agency/complaints/{made['id']}/reroute", {"agency_id": target, "reason": "не наше"},
                 **auth).status_code == 200
    services.routing_examples.add(RoutingExample(  # an example whose save lost its race: no reroute happened
        complaint_id=made["id"], at=datetime(2020, 1, 1, tzinfo=timezone.utc), text="x", category=None,
        sector="grocery", from_agency=agency, to_agency="police", reason="r", routing_method="rules",
        routing_version="v"))
    out = tmp_path / "corrections.jsonl"
    assert admin(["export-corrections", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["complaint_id"], r["to_agency"], r["from_agency"], r["text"]) for r in rows] == [
        (made["id"], target, agency, "Продали просроченный кефир")]
    assert "skipped 1" in capsys.readouterr().out


def test_a_case_rerouted_twice_exports_only_its_last_label(client, demo, services, tmp_path):
    from tools.admin import main as admin

    made = json.loads(_post(client, "/complaints", {"outlet_code": demo["outlets"][0]["code"],
                                                    "text": "Продали просроченный кефир"},
                            **{"Idempotency-Key": "export-0002-aaaa"}).body)
    first = made["agency"]["id"]
    second = "kgd" if first != "kgd" else "kzpp"
    for by, to in ((first, second), (second, first)):
        auth = {"Authorization": f"Bearer {demo['keys']['agencies'][by]}"}
        assert _post(client, f"/agency/complaints/{made['id']}/reroute", {"agency_id": to, "reason": "не наше"},
                     **auth).status_code == 200
    out = tmp_path / "corrections.jsonl"
    assert admin(["export-corrections", "--out", str(out)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [(r["complaint_id"], r["to_agency"]) for r in rows] == [(made["id"], first)]


def test_the_second_bodys_message_has_a_delivery_id_of_its_own(services, demo, with_model, client):
    from chalicelib.services import notifications

    _, submitted, c = _submitted_with_a_second_body(services, demo, with_model, client, "second-0004-aaaa")
    business = notifications.business_topic(submitted, c)
    second = notifications.secondary_agency_topic(submitted, c)
    assert business.idempotency_key != second.idempotency_key
