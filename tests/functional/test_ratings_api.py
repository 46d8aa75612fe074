"""Ratings over HTTP on moto: quick ratings (limits, replays, validation), public reads (one GetItem, cached,
CORS), review-bombing holds and the admin's release, and the outlet card's rating."""
from __future__ import annotations

import pytest
from chalice.local import LambdaEventConverter

from chalicelib.domain.codes import new_outlet_code


@pytest.fixture
def from_address(monkeypatch):
    """Requests from a given source IP (the test client always says 127.0.0.1)."""
    def use(ip: str) -> None:
        monkeypatch.setattr(LambdaEventConverter, "LOCAL_SOURCE_IP", ip)
    return use


def _outlet(demo, sector="grocery", region="71"):
    return next(o for o in demo["outlets"] if o["sector"] == sector and o["region"] == region)


def _rate(api, code, stars=5, *, device=None, key=None, **extra):
    body = {"stars": stars, **extra}
    if device:
        body["device_id"] = device
    return api.post(f"/outlets/{code}/ratings", body, headers={"Idempotency-Key": key} if key else None)


def _device(n: int) -> str:
    return f"device-{n:012d}"


def test_a_quick_rating_is_accepted_and_counted_on_the_outlet_and_business(api, demo):
    outlet = _outlet(demo)
    response = _rate(api, outlet["code"], 4, device=_device(1), comment="Быстро обслужили")
    assert response.status_code == 201
    body = response.json_body
    assert (body["accepted"], body["held"]) == (True, False)
    assert response.headers["Cache-Control"] == "no-store"
    rating = body["rating"]
    assert (rating["subject"], rating["code"], rating["count"], rating["published"], rating["reason"]) == (
        "outlet", outlet["code"], 1, False, "too_few")
    assert rating["components"]["stars"] == {"average": None, "count": 1}
    assert api.get(f"/ratings/outlets/{outlet['code']}").json_body == rating
    business = api.get(f"/ratings/businesses/{outlet['business_bin']}").json_body
    assert (business["subject"], business["bin"], business["count"]) == ("business", outlet["business_bin"], 1)
    assert business["components"]["stars"]["count"] == 1


def test_the_read_shape(api, demo):
    outlet = _outlet(demo)
    response = api.get(f"/ratings/outlets/{outlet['code']}", headers={"Origin": "http://127.0.0.1:8000"})
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["Access-Control-Allow-Origin"] == "http://127.0.0.1:8000"
    assert response.json_body == {
        "subject": "outlet", "code": outlet["code"], "score": None, "count": 0, "published": False,
        "reason": "too_few", "min_count": 10, "formula_version": "r1", "held": 0,
        "components": {"stars": {"average": None, "count": 0}, "answered_in_time": {"share": None, "count": 0},
                       "settled": {"share": None, "count": 0}, "upheld_violations": {"share": None, "count": 0}},
    }


def test_a_replay_with_the_same_key_answers_the_same_and_counts_once(api, demo, from_address):
    code = _outlet(demo)["code"]
    first = _rate(api, code, 5, device=_device(2), key="rate-1")
    from_address("192.0.2.44")  # the retry came over another network
    again = _rate(api, code, 5, device=_device(2), key="rate-1")
    assert again.status_code == 201 and again.json_body == first.json_body
    assert again.headers["Idempotent-Replayed"] == "true" and "Idempotent-Replayed" not in first.headers
    assert api.get(f"/ratings/outlets/{code}").json_body["count"] == 1
    other = _rate(api, code, 1, device=_device(2), key="rate-1")
    assert other.status_code == 409 and other.json_body["error"]["code"] == "idempotency_key_reused"


def test_one_device_rates_an_outlet_once_a_day(api, demo, from_address):
    code, other = _outlet(demo)["code"], _outlet(demo, "grocery", "75")["code"]
    assert _rate(api, code, device=_device(3)).status_code == 201
    from_address("192.0.2.10")
    refused = _rate(api, code, device=_device(3))
    assert refused.status_code == 429
    assert refused.json_body["error"]["code"] == "limit_reached"
    kk = api.post(f"/outlets/{code}/ratings", {"stars": 5, "device_id": _device(3)}, headers={"Accept-Language": "kk"})
    assert kk.json_body["error"]["message"].startswith("Бір құрылғыдан")
    assert _rate(api, other, device=_device(3)).status_code == 201
    assert api.get(f"/ratings/outlets/{code}").json_body["count"] == 1


def test_one_address_rates_an_outlet_at_most_three_times_a_day(api, demo, from_address):
    code = _outlet(demo)["code"]
    from_address("198.51.100.7")
    for n in range(3):
        assert _rate(api, code, device=_device(10 + n)).status_code == 201
    refused = _rate(api, code, device=_device(13))
    assert refused.status_code == 429 and refused.json_body["error"]["code"] == "limit_reached"
    assert _rate(api, code).status_code == 429  # without a device id the address still counts
    from_address("198.51.100.8")
    assert _rate(api, code, device=_device(13)).status_code == 201
    assert api.get(f"/ratings/outlets/{code}").json_body["count"] == 4


@pytest.mark.parametrize("body, field, code", [
    ({"stars": 0}, "stars", "greater_than_equal"),
    ({"stars": 6}, "stars", "less_than_equal"),
    ({"stars": "5"}, "stars", "int_type"),
    ({"stars": 4.5}, "stars", "int_type"),
    ({"stars": True}, "stars", "int_type"),
    ({}, "stars", "missing"),
    ({"stars": 5, "comment": "x" * 501}, "comment", "string_too_long"),
    ({"stars": 5, "device_id": "short"}, "device_id", "string_pattern_mismatch"),
    ({"stars": 5, "device_id": "device id with spaces!"}, "device_id", "string_pattern_mismatch"),
    ({"stars": 5, "outlet": "x"}, "outlet", "extra_forbidden"),
])
def test_invalid_bodies_are_422_with_the_field(api, demo, body, field, code):
    outlet = _outlet(demo)["code"]
    response = api.post(f"/outlets/{outlet}/ratings", body)
    assert response.status_code == 422
    error = response.json_body["error"]
    assert error["code"] == "validation_failed" and error["fields"][field]["code"] == code
    assert api.get(f"/ratings/outlets/{outlet}").json_body["count"] == 0


def test_unknown_and_suspended_outlets_and_unknown_businesses_are_404(api, demo, services):
    unknown = new_outlet_code()
    for response in (api.get(f"/ratings/outlets/{unknown}"), _rate(api, unknown)):
        assert response.status_code == 404 and response.json_body["error"]["code"] == "outlet_not_found"
    missing_bin = api.get("/ratings/businesses/070740000007")  # a valid checksum, never registered
    assert missing_bin.status_code == 404 and missing_bin.json_body["error"]["code"] == "business_not_found"
    bad_bin = api.get("/ratings/businesses/123456789012")
    assert bad_bin.status_code == 400 and bad_bin.json_body["error"]["code"] == "invalid_bin"
    code = _outlet(demo)["code"]
    typo = api.get(f"/ratings/outlets/{code[:-1] + ('0' if code[-1] != '0' else '1')}")
    assert typo.status_code == 400 and typo.json_body["error"]["code"] == "invalid_outlet_code"
    assert _rate(api, code, device=_device(20)).status_code == 201
    services.outlets.set_status(code, "suspended", by="k-admin")
    suspended = _rate(api, code, device=_device(21))
    assert suspended.status_code == 404 and suspended.json_body["error"]["code"] == "outlet_not_found"
    # its history stays readable: a rating records what happened
    assert api.get(f"/ratings/outlets/{code}").json_body["count"] == 1


def _burst(api, code, from_address, stars, count, start=100):
    answers = []
    for n in range(start, start + count):
        from_address(f"203.0.113.{n % 250}")
        response = _rate(api, code, stars, device=_device(n))
        assert response.status_code == 201, response.json_body
        answers.append(response.json_body)
    return answers


def test_a_burst_is_held_until_an_admin_publishes_it(api, demo, from_address, admin_headers):
    outlet = _outlet(demo)
    code = outlet["code"]
    answers = _burst(api, code, from_address, 1, 10)
    assert [a["held"] for a in answers] == [False] * 9 + [True]
    held = api.get(f"/ratings/outlets/{code}").json_body
    assert (held["count"], held["held"], held["published"], held["reason"]) == (0, 10, False, "held_for_review")
    assert api.get(f"/ratings/businesses/{outlet['business_bin']}").json_body["held"] == 10
    assert _burst(api, code, from_address, 1, 1, start=200)[0]["held"] is True

    path = f"/admin/ratings/outlets/{code}/release"
    assert api.post(path, {"decision": "publish"}).status_code == 401
    analyst = {"Authorization": f"Bearer {demo['keys']['analyst']}"}
    assert api.post(path, {"decision": "publish"}, headers=analyst).status_code == 403
    wrong = api.post(path, {"decision": "keep"}, headers=admin_headers)
    assert wrong.status_code == 422 and wrong.json_body["error"]["fields"]["decision"]["code"] == "literal_error"

    released = api.post(path, {"decision": "publish"}, headers=admin_headers)
    assert released.status_code == 200
    assert (released.json_body["released"], released.json_body["decision"]) == (11, "publish")
    rating = api.get(f"/ratings/outlets/{code}").json_body
    assert (rating["count"], rating["held"], rating["published"], rating["reason"]) == (11, 0, True, None)
    assert rating["components"]["stars"] == {"average": 1.0, "count": 11}
    # 11 one-star ratings: S = ((15 + 11)/16 - 1)/4 = 0.15625 -> 5 * (0.4*0.15625 + 0.3) = 1.8125
    assert rating["score"] == 1.8
    business = api.get(f"/ratings/businesses/{outlet['business_bin']}").json_body
    assert (business["count"], business["held"]) == (11, 0)
    again = api.post(path, {"decision": "publish"}, headers=admin_headers)
    assert again.json_body["released"] == 0
    assert api.get(f"/ratings/outlets/{code}").json_body["count"] == 11


def test_a_burst_an_admin_discards_leaves_no_trace_in_the_score(api, demo, from_address, admin_headers):
    outlet = _outlet(demo, "electronics", "75")
    code = outlet["code"]
    _burst(api, code, from_address, 1, 12)
    released = api.post(f"/admin/ratings/outlets/{code}/release", {"decision": "discard"}, headers=admin_headers)
    assert released.status_code == 200 and released.json_body["released"] == 12
    for path in (f"/ratings/outlets/{code}", f"/ratings/businesses/{outlet['business_bin']}"):
        rating = api.get(path).json_body
        assert (rating["count"], rating["held"], rating["components"]["stars"]["count"]) == (0, 0, 0)
    # the flag is cleared: the next rating counts at once
    assert _burst(api, code, from_address, 5, 1, start=300)[0]["held"] is False
    assert api.get(f"/ratings/outlets/{code}").json_body["count"] == 1


def _bulk(services, code, bin, quick, *, chunk=100):
    """`quick` more one-to-five-star ratings of a demo outlet, as counter state: `chunk` ratings per
    transaction (moto takes ~20 ms per transaction; what a read costs depends on the items, not on how
    the counts got there)."""
    from chalicelib.services.ports import Increment

    for start in range(0, quick, chunk):
        n = min(chunk, quick - start)
        add = {"stars_sum": 3 * n, "stars_n": n, "quick_n": n}
        services.counters.apply_once(f"bulk#{code}#{start}", [
            Increment("ratings", (f"outlet#{code}",), add={**add, "quick_total": n}),
            Increment("ratings", (f"business#{bin}",), add=add),
        ], at=services.clock.now())


@pytest.mark.parametrize("ratings", [10, 1000])
def test_reads_are_one_get_item_whatever_the_number_of_ratings(api, demo, services, dynamodb_calls, from_address,
                                                               ratings):
    from datetime import datetime, timedelta, timezone

    from tests.fakes import FixedClock

    outlet = _outlet(demo, "pharmacy")
    services.clock = FixedClock(datetime.now(timezone.utc).replace(minute=0, second=0, microsecond=0)
                                + timedelta(hours=1))
    for n in range(10):  # ten real ones (1..5 stars twice), 7 minutes apart: nine in an hour is no burst
        services.clock.advance(minutes=7)
        from_address(f"203.0.113.{n}")
        assert _rate(api, outlet["code"], 1 + n % 5, device=_device(500 + n)).status_code == 201
    _bulk(services, outlet["code"], outlet["business_bin"], ratings - 10)
    dynamodb_calls.clear()
    outlet_rating = api.get(f"/ratings/outlets/{outlet['code']}").json_body
    assert dynamodb_calls == {"GetItem": 1}
    dynamodb_calls.clear()
    business_rating = api.get(f"/ratings/businesses/{outlet['business_bin']}").json_body
    assert dynamodb_calls == {"GetItem": 1}
    assert outlet_rating["count"] == business_rating["count"] == ratings
    assert outlet_rating["held"] == 0
    assert outlet_rating["components"]["stars"]["average"] == 3.0 and outlet_rating["published"] is True


def test_a_quick_rating_costs_three_reads_and_one_transaction(api, demo, dynamodb_calls):
    code = _outlet(demo)["code"]
    _rate(api, code, device=_device(40))  # warm
    dynamodb_calls.clear()
    assert _rate(api, code, device=_device(41)).status_code == 201
    # the outlet, its rating item, this hour's bucket; then everything in one TransactWriteItems
    assert dynamodb_calls == {"GetItem": 3, "TransactWriteItems": 1}


def test_the_outlet_card_carries_the_rating(api, demo):
    code = _outlet(demo)["code"]
    _rate(api, code, 3, device=_device(50))
    card = api.get(f"/outlets/{code}").json_body
    assert card["rating"] == api.get(f"/ratings/outlets/{code}").json_body
    assert card["rating"]["components"]["stars"]["count"] == 1
