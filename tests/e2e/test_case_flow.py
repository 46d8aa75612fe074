"""A case end to end over real HTTP against `python -m local`, with the demo keys from its demo file:
the business answers and the consumer accepts (the agency sees it settled), an agency reroutes and the
consumer sees the new agency, and a case goes overdue through POST /admin/jobs/deadlines.
"""
import time
import uuid
from datetime import date, datetime, timedelta, timezone

ASTANA = timezone(timedelta(hours=5))
POLL_FOR = 10.0  # seconds; the local settle lag is 1 s


def auth(key):
    return {"Authorization": f"Bearer {key}"}


def submit(stack, text, *, category="overcharge", share=False):
    outlet = next(o for o in stack.demo["outlets"] if o["sector"] == "grocery" and o["region"] == "71")
    status, created = stack.json("POST", "/complaints", {
        "outlet_code": outlet["code"], "category": category, "text": text, "language": "ru", "channel": "qr",
        "contact": {"name": "Ержан Оспанов", "phone": "+7 701 765 43 21"}, "share_contact_with_business": share,
    }, {"Idempotency-Key": f"e2e-flow-{uuid.uuid4()}"})
    assert status == 201, created
    return created, outlet


def track(stack, created):
    status, view = stack.json("GET", f"/complaints/{created['id']}", headers={"X-Tracking-Token": created["tracking_token"]})
    assert status == 200, view
    return view


def start_cursor(stack, path, key):
    """A cursor at the current end of a queue, so later polls see only what changes from now on."""
    cursor = None
    while True:
        query = f"?cursor={cursor}" if cursor else ""
        status, page = stack.json("GET", path + query, headers=auth(key))
        assert status == 200, page
        cursor = page["next_cursor"] or cursor
        if not page["items"]:
            return cursor


def poll_until(stack, path, key, cursor, wanted):
    """Poll a queue with its cursor until an item satisfies `wanted`; every item comes back at most once
    per change, so the last sighting is the case's current state."""
    deadline = time.monotonic() + POLL_FOR
    seen = []
    while time.monotonic() < deadline:
        query = f"?cursor={cursor}" if cursor else ""
        status, page = stack.json("GET", path + query, headers=auth(key))
        assert status == 200, page
        seen += page["items"]
        cursor = page["next_cursor"] or cursor
        match = next((item for item in page["items"] if wanted(item)), None)
        if match is not None:
            return match, cursor
        if not page["items"]:
            time.sleep(0.2)
    raise AssertionError(f"not in {path} within {POLL_FOR}s; seen {[(i['id'], i['status']) for i in seen]}")


def test_business_answers_consumer_accepts_agency_sees_it_settled(stack):
    keys = stack.demo["keys"]
    agency_key = keys["agencies"]["kzpp"]
    agency_cursor = start_cursor(stack, "/agency/complaints", agency_key)
    created, outlet = submit(stack, "На кассе обсчитали на 1200 тенге: пробили товар дважды, деньги не вернули.",
                             share=True)
    cid = created["id"]
    assert created["agency"]["id"] == "kzpp" and created["kind"] == "appeal"

    # The business finds it in its inbox and answers with an offer.
    business_key = keys["businesses"][outlet["business_bin"]]
    item, _ = poll_until(stack, "/business/complaints", business_key, None, lambda i: i["id"] == cid)
    assert item["status"] == "routed" and item["outlet"]["code"] == outlet["code"]
    status, case = stack.json("GET", f"/business/complaints/{cid}", headers=auth(business_key))
    assert status == 200 and case["contact"]["name"] == "Ержан Оспанов" and case["actions"] == ["respond"]
    status, answered = stack.json("POST", f"/business/complaints/{cid}/response",
                                  {"message": "Приносим извинения: вернём 1200 тенге на карту сегодня.", "offer": "refund"},
                                  auth(business_key))
    assert status == 200 and answered["status"] == "business_responded", answered

    # The consumer sees the offer through the tracking link and accepts it with stars.
    view = track(stack, created)
    assert view["business_response"]["offer"] == "refund" and view["can_give_feedback"] is True
    status, accepted = stack.json("POST", f"/complaints/{cid}/feedback", {"accepted": True, "stars": 5},
                                  {"X-Tracking-Token": created["tracking_token"], "Accept-Language": "kk"})
    assert status == 200 and accepted["status"] == "settled", accepted
    assert accepted["status_label"]["kk"] and accepted["feedback"]["stars"] == 5
    status, again = stack.json("POST", f"/complaints/{cid}/feedback", {"accepted": False, "stars": 1},
                               {"X-Tracking-Token": created["tracking_token"]})
    assert status == 409 and again["error"]["code"] == "feedback_already_given"

    # The agency, polling its queue with its cursor, sees the case settled at the first stage.
    item, _ = poll_until(stack, "/agency/complaints", agency_key, agency_cursor,
                         lambda i: i["id"] == cid and i["status"] == "settled")
    assert item["business"]["bin"] == outlet["business_bin"]
    status, case = stack.json("GET", f"/agency/complaints/{cid}", headers=auth(agency_key))
    assert status == 200 and case["status"] == "settled" and case["actions"] == []
    assert [e["type"] for e in case["timeline"]] == ["submitted", "routed", "business_responded", "offer_accepted"]


def test_agency_reroutes_and_the_consumer_sees_the_new_agency(stack):
    keys = stack.demo["keys"]
    created, _ = submit(stack, "На кассе обсчитали на 300 тенге: пробили хлеб дважды, кассир отказалась вернуть.")
    cid = created["id"]
    assert created["agency"]["id"] == "kzpp", created
    status, moved = stack.json("POST", f"/agency/complaints/{cid}/reroute",
                               {"agency_id": "kgd", "reason": "Касса без чека — это налоговая."},
                               auth(keys["agencies"]["kzpp"]))
    assert status == 200 and moved["agency"]["id"] == "kgd" and moved["status"] == "routed", moved
    view = track(stack, created)
    assert view["agency"]["id"] == "kgd"
    assert view["timeline"][-1]["type"] == "rerouted" and view["timeline"][-1]["agency"]["id"] == "kgd"
    status, gone = stack.json("GET", f"/agency/complaints/{cid}", headers=auth(keys["agencies"]["kzpp"]))
    assert status == 404 and gone["error"]["code"] == "complaint_not_found"
    item, _ = poll_until(stack, "/agency/complaints", keys["agencies"]["kgd"], None, lambda i: i["id"] == cid)
    assert item["status"] == "routed" and item["agency"]["id"] == "kgd"


def test_a_case_goes_overdue_through_the_deadline_job(stack):
    keys = stack.demo["keys"]
    created, outlet = submit(stack, "Продали просроченный кефир и обсчитали на кассе, чек не выдали.")
    cid = created["id"]
    as_of = datetime.now(ASTANA).date() + timedelta(days=30)
    status, refused = stack.json("POST", "/admin/jobs/deadlines", {"as_of": as_of.isoformat()},
                                 auth(keys["agencies"]["kzpp"]))
    assert status == 403 and refused["error"]["code"] == "forbidden"
    status, report = stack.json("POST", "/admin/jobs/deadlines", {"as_of": as_of.isoformat()}, auth(keys["admin"]))
    assert status == 200, report
    assert report["as_of"] == as_of.isoformat() and report["checked"] >= 1 and report["business_overdue"] >= 1

    view = track(stack, created)
    # 30 days on, the 10-day business term has passed; the agency's 15 working days too unless a long run of
    # holidays pushed its due date past the sweep's day (then it is correctly not flagged).
    agency_due = datetime.fromisoformat(view["agency_due_at"].replace("Z", "+00:00"))
    agency_late = agency_due < datetime.combine(as_of, datetime.min.time(), tzinfo=ASTANA)
    assert view["flags"] == {"business_overdue": True, "agency_overdue": agency_late}
    assert "business_overdue" in [e["type"] for e in view["timeline"]]
    assert date.fromisoformat(view["business_due_at"][:10]) < as_of
    for path, key in ((f"/agency/complaints/{cid}", keys["agencies"]["kzpp"]),
                      (f"/business/complaints/{cid}", keys["businesses"][outlet["business_bin"]])):
        status, case = stack.json("GET", path, headers=auth(key))
        assert status == 200 and case["flags"]["business_overdue"] is True and case["overdue"] is True
    # A second run for the same day flags nothing new.
    status, again = stack.json("POST", "/admin/jobs/deadlines", {"as_of": as_of.isoformat()}, auth(keys["admin"]))
    assert status == 200 and again["business_overdue"] == 0 and again["agency_overdue"] == 0
