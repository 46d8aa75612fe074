"""The stream reactions end to end over HTTP against `python -m local`: a write, then moto's stream, the pump,
the same `reactions` handler Lambda runs, and what it moved: the outbox, the analytics counters and the
outlet's rating. Then a forced redelivery of every record must move none of them."""
from __future__ import annotations

import collections
import time
from datetime import date, timedelta

from tests.e2e.conftest import wait_for

TEXT = "Кассир пробил товар дважды, на кассе обсчитали на 2000 тенге, деньги вернуть отказались."
PHONE = "+7 701 123 45 67"


def outbox(stack, complaint_id: str | None = None) -> list[dict]:
    status, body = stack.json("GET", "/_local/outbox" + (f"?complaint_id={complaint_id}" if complaint_id else ""))
    assert status == 200, body
    return body["items"]


def sent(items: list[dict]) -> collections.Counter:
    return collections.Counter((i["channel"], i["audience"], i["template"]) for i in items)


def test_reactions_follow_the_writes_and_a_redelivery_changes_nothing(stack):
    outlet = next(o for o in stack.demo["outlets"] if o["sector"] == "electronics")
    code, business_bin = outlet["code"], outlet["business_bin"]
    analyst = {"Authorization": f"Bearer {stack.demo['keys']['analyst']}"}
    business = {"Authorization": f"Bearer {stack.demo['keys']['businesses'][business_bin]}"}
    # the local day in Kazakhstan may be UTC's tomorrow: a three-day window holds it either way
    today = date.today()
    summary_path = (f"/analytics/summary?from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"
                    f"&group_by=region,sector&region={outlet['region']}&sector={outlet['sector']}")

    def summary():
        status, body = stack.json("GET", summary_path, headers=analyst)
        assert status == 200, body
        return body

    def rating():
        status, body = stack.json("GET", f"/ratings/outlets/{code}")
        assert status == 200, body
        return body

    assert summary()["totals"]["count"] == 0 and rating()["count"] == 0

    # WHEN a consumer with a phone number complains
    written = time.monotonic()
    status, created = stack.json("POST", "/complaints", {
        "outlet_code": code, "text": TEXT, "language": "kk", "channel": "qr", "contact": {"phone": PHONE}},
        {"Idempotency-Key": "e2e-reactions-0001"})
    assert status == 201, created
    cid, token = created["id"], created["tracking_token"]

    # THEN within seconds the agency, the business and the consumer have been told, each once
    items = wait_for("three audiences in the outbox", lambda: (
        lambda got: got if {"agency", "business", "consumer"} <= {i["audience"] for i in got} else None)(
        outbox(stack, cid)))
    assert time.monotonic() - written < 5
    by_audience = {i["audience"]: i for i in items}
    assert (by_audience["agency"]["channel"], by_audience["agency"]["template"]) == ("sns", "agency.complaint.routed")
    assert (by_audience["business"]["channel"], by_audience["business"]["template"]) == (
        "sns", "business.complaint.submitted")
    consumer = by_audience["consumer"]
    assert (consumer["channel"], consumer["template"], consumer["language"]) == ("sms", "consumer.submitted", "kk")
    assert consumer["to"] == "+7 7** *** ** 67"  # masked: the outbox can be shown on a screen
    assert by_audience["agency"]["to"] == by_audience["business"]["to"] == "qalqan-local-notifications"
    assert all(i["complaint_id"] == cid for i in items)
    assert "7011234567" not in str(outbox(stack))

    # ... and the analytics and the outlet's rating count it
    counted = wait_for("the analytics counters", lambda: (lambda s: s if s["totals"]["count"] == 1 else None)(summary()))
    [group] = counted["groups"]
    assert (group["region"], group["sector"], group["count"]) == (outlet["region"], "electronics", 1)
    assert counted["totals"]["settled"] == 0
    assert wait_for("the rating count", lambda: (lambda r: r if r["count"] == 1 else None)(rating()))

    # WHEN an anonymous consumer complains too, nobody is told on their side
    status, anonymous = stack.json("POST", "/complaints", {"outlet_code": code, "text": TEXT, "language": "ru"})
    assert status == 201, anonymous
    anonymous_items = wait_for("the anonymous complaint's messages", lambda: (
        lambda got: got if {"agency", "business"} <= {i["audience"] for i in got} else None)(
        outbox(stack, anonymous["id"])))

    # WHEN the business answers and the consumer accepts with four stars
    status, body = stack.json("POST", f"/business/complaints/{cid}/response",
                              {"message": "Кешіріңіз, айырмасын қайтарамыз.", "offer": "refund"}, business)
    assert status == 200, body
    status, body = stack.json("POST", f"/complaints/{cid}/feedback", {"accepted": True, "stars": 4},
                              {"X-Tracking-Token": token})
    assert status == 200 and body["status"] == "settled", body

    # THEN the consumer hears of both steps, and the rating and the settled counter move
    wait_for("the consumer's two new messages", lambda: {"consumer.business_responded", "consumer.settled"} <= {
        i["template"] for i in outbox(stack, cid)})
    moved = wait_for("the rating's stars", lambda: (
        lambda r: r if r["components"]["stars"]["count"] == 1 and r["components"]["settled"]["count"] == 1 else None)(
        rating()))
    assert moved["count"] == 2  # two complaints; the feedback's stars are the same voice, not a third
    assert moved["components"]["answered_in_time"]["count"] == 1
    assert moved["published"] is False and moved["reason"] == "too_few" and moved["score"] is None
    assert wait_for("the settled counter", lambda: (
        lambda s: s if s["totals"]["settled"] == 1 else None)(summary()))["totals"]["count"] == 2

    # A quick rating from the QR page counts at once (no stream involved)
    status, quick = stack.json("POST", f"/outlets/{code}/ratings", {"stars": 5, "device_id": "e2e-device-000001"},
                               {"Idempotency-Key": "e2e-quick-rating-0001"})
    assert status == 201, quick
    assert quick["accepted"] is True and quick["held"] is False
    assert quick["rating"]["count"] == 3 and quick["rating"]["components"]["stars"]["count"] == 2

    # Everything written so far has been through the handler; this is the state one delivery gives
    status, body = stack.json("POST", "/_local/streams/sync")
    assert status == 200, body
    before = {"outbox": outbox(stack), "summary": summary(), "rating": rating(),
              "business": stack.json("GET", f"/ratings/businesses/{business_bin}")}
    mine = sent(outbox(stack, cid))
    for expected in [("sns", "agency", "agency.complaint.routed"), ("sns", "business", "business.complaint.submitted"),
                     ("sms", "consumer", "consumer.submitted"), ("sms", "consumer", "consumer.business_responded"),
                     ("sms", "consumer", "consumer.settled")]:
        assert mine[expected] == 1, (expected, mine)
    # no message of any complaint went out twice
    assert set(collections.Counter((i["complaint_id"], i["channel"], i["audience"], i["template"])
                                   for i in before["outbox"]).values()) == {1}
    assert "consumer" not in {i["audience"] for i in anonymous_items}

    # WHEN every stream record is delivered a second time, through the same handler
    status, replay = stack.json("POST", "/_local/streams/redeliver")
    assert status == 200, replay
    assert replay["records"] >= 4 and replay["parked"] == 0  # 2 INSERTs + response + feedback, at least
    assert replay["skipped"] > 0

    # THEN nothing moved: no message twice, no counter twice, the same ratings
    after = {"outbox": outbox(stack), "summary": summary(), "rating": rating(),
             "business": stack.json("GET", f"/ratings/businesses/{business_bin}")}
    assert after == before
    status, pump = stack.json("GET", "/_local/streams")
    assert pump["failed_batches"] == 0 and pump["redelivered"] == replay["records"] and pump["parked"] == 0
