"""Deadlines: POST /admin/jobs/deadlines and the scheduled `deadline_sweep` flag overdue business answers
and agency decisions, through the sparse `open_by_due` index only.

Complaints are submitted on Friday 27 November 2026, 14:30 in Astana: the business's answer is due by the
end of Monday 7 December, the agency's decision by the end of Monday 21 December (Astana time).
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from tests.fakes import FixedClock
from tests.functional.test_cases_api import AGENCY_DUE, BIN_B, BUSINESS_DUE, FRIDAY, KAZAKH_LETTERS, Desk

BUSINESS_DUE_DAY, AGENCY_DUE_DAY = "2026-12-07", "2026-12-21"


@pytest.fixture
def clock(services, demo):
    pinned = FixedClock(FRIDAY)
    services.clock = pinned
    return pinned


@pytest.fixture
def desk(api, demo, services, clock):
    return Desk(api, demo, services, clock)


def sweep(desk, as_of, headers=None):
    return desk.api.post("/admin/jobs/deadlines", {"as_of": as_of}, desk.admin if headers is None else headers)


def flags(view) -> tuple[bool, bool]:
    return view["flags"]["business_overdue"], view["flags"]["agency_overdue"]


def views(desk, created, agency="kzpp", bin="940140000385"):
    """The case as the agency, the business and the consumer see it."""
    cid = created["id"]
    return [desk.case(cid, agency).json_body, desk.business_case(cid, bin).json_body, desk.track(created).json_body]


# --- who may run it, with what ---------------------------------------------------------------------------------
@pytest.mark.parametrize("who,status,code", [
    ("none", 401, "unauthorized"), ("garbage", 401, "unauthorized"), ("analyst", 403, "forbidden"),
    ("agency", 403, "forbidden"), ("business", 403, "forbidden"),
])
def test_only_an_admin_key_may_run_the_job(desk, who, status, code):
    created = desk.submit()
    headers = {"none": {}, "garbage": {"Authorization": "Bearer qk_k0123456789ab." + "A" * 43},
               "analyst": {"Authorization": f"Bearer {desk.demo['keys']['analyst']}"},
               "agency": desk.agency(), "business": desk.business()}[who]
    response = sweep(desk, "2027-01-31", headers)
    assert response.status_code == status and response.json_body["error"]["code"] == code
    assert desk.stored(created["id"]).version == 1  # nothing was flagged


@pytest.mark.parametrize("body", [
    {"as_of": "2026-13-01"}, {"as_of": "07.12.2026"}, {"as_of": "tomorrow"}, {"as_of": ""}, {"as_of": None},
    {"as_of": 20261208}, {}, {"as_of": "2026-12-08", "dry_run": True},
    # A real date, but its midnight in Astana is before year 1 in UTC: a 422, never a 500.
    {"as_of": "0001-01-01"},
])
def test_a_bad_date_is_422_in_the_callers_language(desk, body):
    created = desk.submit()
    for lang in ("kk", "ru"):
        response = desk.api.post("/admin/jobs/deadlines", body, {**desk.admin, "Accept-Language": lang})
        assert response.status_code == 422, response.body
        error = response.json_body["error"]
        assert error["code"] == "validation_failed" and error["fields"]
        assert set(error["fields"]) <= {"as_of", "dry_run"}
        assert bool(KAZAKH_LETTERS & set(error["message"])) == (lang == "kk")
    assert desk.stored(created["id"]).version == 1


# --- business answers ------------------------------------------------------------------------------------------
def test_an_unanswered_complaint_is_business_overdue_the_day_after_its_due_date_not_on_it(desk):
    late = desk.submit()
    answered = desk.submit()
    assert desk.respond(answered["id"]).status_code == 200
    for view in views(desk, late):
        assert view["business_due_at"] == BUSINESS_DUE and flags(view) == (False, False)

    on_the_day = sweep(desk, BUSINESS_DUE_DAY)
    assert on_the_day.status_code == 200, on_the_day.body
    assert on_the_day.json_body == {"as_of": BUSINESS_DUE_DAY, "checked": 0, "business_overdue": 0, "agency_overdue": 0}
    assert desk.stored(late["id"]).version == 1

    desk.clock.current = datetime(2026, 12, 8, 4, 0, tzinfo=timezone.utc)
    next_day = sweep(desk, "2026-12-08").json_body
    assert next_day == {"as_of": "2026-12-08", "checked": 1, "business_overdue": 1, "agency_overdue": 0}
    agency_view, business_view, tracking = views(desk, late)
    for view in (agency_view, business_view, tracking):
        assert flags(view) == (True, False)
    entry = agency_view["timeline"][-1]
    assert (entry["type"], entry["actor"]) == ("business_overdue", "admin") and entry["key_id"]  # who ran the job
    assert entry["at"] == "2026-12-08T04:00:00Z" and set(entry["label"]) == {"kk", "ru", "en"}
    assert entry["from"] == entry["to"] == "routed"  # a flag, not a status change
    assert tracking["timeline"][-1]["type"] == "business_overdue" and tracking["status"] == "routed"
    assert business_view["actions"] == ["respond"]  # a late answer is still welcome
    # The business that answered in time is not flagged, and the case sits in no sweep.
    assert flags(desk.case(answered["id"]).json_body) == (False, False)


def test_overdue_cases_are_flagged_in_the_queues_and_move_up_as_changed(desk):
    late = desk.submit()
    desk.settle()
    _, cursor = desk.poll_all("/agency/complaints", desk.agency())
    _, inbox_cursor = desk.poll_all("/business/complaints", desk.business())
    assert sweep(desk, "2026-12-08").json_body["business_overdue"] == 1
    desk.settle()
    changed, _ = desk.poll_all("/agency/complaints", desk.agency(), cursor=cursor)
    assert [(x["id"], x["flags"]["business_overdue"], x["overdue"]) for x in changed] == [(late["id"], True, True)]
    inbox, _ = desk.poll_all("/business/complaints", desk.business(), cursor=inbox_cursor)
    assert [(x["id"], x["overdue"]) for x in inbox] == [(late["id"], True)]


# --- agency decisions ------------------------------------------------------------------------------------------
def test_an_appeal_past_its_agency_due_date_is_agency_overdue(desk):
    appeal = desk.submit()
    signal = desk.submit(contact=False)
    assert desk.respond(appeal["id"]).status_code == 200  # the business answered; only the agency is late
    assert desk.status(appeal["id"], {"status": "in_review"}).status_code == 200

    report = sweep(desk, AGENCY_DUE_DAY).json_body
    assert (report["business_overdue"], report["agency_overdue"]) == (1, 0)  # only the signal's business
    assert flags(desk.case(appeal["id"]).json_body) == (False, False)

    report = sweep(desk, "2026-12-22").json_body
    assert (report["business_overdue"], report["agency_overdue"]) == (0, 1)
    for view in views(desk, appeal):
        assert view["agency_due_at"] == AGENCY_DUE and flags(view) == (False, True)
    case = desk.case(appeal["id"]).json_body
    assert case["status"] == "in_review" and case["overdue"] is True
    entry = case["timeline"][-1]
    assert (entry["type"], entry["actor"], entry["agency"]["id"]) == ("agency_overdue", "admin", "kzpp")
    # An anonymous signal has no legal term: it is never agency-overdue, however late.
    assert sweep(desk, "2027-12-31").json_body["agency_overdue"] == 0
    assert flags(desk.case(signal["id"]).json_body) == (True, False)


def test_closed_cases_are_never_flagged(desk):
    settled, resolved, rejected = desk.submit(), desk.submit(), desk.submit()
    assert desk.respond(settled["id"]).status_code == 200
    assert desk.feedback(settled, {"accepted": True, "stars": 5}).status_code == 200
    assert desk.status(resolved["id"], {"status": "in_review"}).status_code == 200
    assert desk.status(resolved["id"], {"status": "resolved", "decision": "not_confirmed",
                                        "result": "Нарушение не подтвердилось."}).status_code == 200
    assert desk.status(rejected["id"], {"status": "rejected", "reason": "Повторное обращение."}).status_code == 200
    before = {c["id"]: desk.stored(c["id"]) for c in (settled, resolved, rejected)}
    assert sweep(desk, "2027-06-01").json_body == {"as_of": "2027-06-01", "checked": 0, "business_overdue": 0,
                                                   "agency_overdue": 0}
    assert {cid: desk.stored(cid) for cid in before} == before


def test_a_reroute_gives_the_new_agency_its_own_term_and_clears_the_agency_flag(desk):
    appeal = desk.submit()
    assert desk.respond(appeal["id"]).status_code == 200
    desk.clock.current = datetime(2026, 12, 22, 4, 0, tzinfo=timezone.utc)  # Tuesday, 09:00 in Astana
    assert sweep(desk, "2026-12-22").json_body["agency_overdue"] == 1
    assert desk.reroute(appeal["id"], "kgd").status_code == 200
    case = desk.case(appeal["id"], "kgd").json_body
    assert flags(case) == (False, False)
    # 15 working days from Wednesday 23 December, skipping New Year (1 Jan, and 2 Jan's day off on Monday
    # 4 Jan) and Orthodox Christmas (7 Jan): Friday 15 January.
    assert case["agency_due_at"] == "2027-01-15T18:59:59Z"
    assert sweep(desk, "2027-01-15").json_body["agency_overdue"] == 0
    assert sweep(desk, "2027-01-16").json_body["agency_overdue"] == 1


# --- idempotence and cost --------------------------------------------------------------------------------------
def test_running_again_flags_nothing_new(desk):
    created = [desk.submit(), desk.submit(), desk.submit(contact=False)]
    first = sweep(desk, "2027-01-31").json_body
    assert (first["business_overdue"], first["agency_overdue"]) == (3, 2)
    stored = {c["id"]: desk.stored(c["id"]) for c in created}
    for as_of in ("2027-01-31", "2027-02-01", "2030-01-01"):
        again = sweep(desk, as_of).json_body
        assert (again["business_overdue"], again["agency_overdue"]) == (0, 0)
        assert again["checked"] == 0  # flagged deadlines left the sparse index
    assert {cid: desk.stored(cid) for cid in stored} == stored
    for c in created:
        types = [e["type"] for e in desk.track(c).json_body["timeline"]]
        assert types.count("business_overdue") == 1 and types.count("agency_overdue") <= 1


def test_the_sweep_reads_the_index_by_query_only_and_touches_only_what_is_due(desk, dynamodb_calls):
    due = [desk.submit() for _ in range(3)]
    assert desk.respond(due[0]["id"]).status_code == 200   # answered: only its agency term is watched
    desk.clock.advance(days=5)
    later = [desk.submit(bin=BIN_B, region="75", category="overcharge") for _ in range(4)]  # due 12 December
    dynamodb_calls.clear()
    report = sweep(desk, "2026-12-08").json_body
    assert report == {"as_of": "2026-12-08", "checked": 2, "business_overdue": 2, "agency_overdue": 0}
    assert "Scan" not in dynamodb_calls
    # One GetItem for the admin key, the index read by Query, one conditional put per flagged case.
    assert set(dynamodb_calls) <= {"GetItem", "Query", "PutItem"}, dynamodb_calls
    assert dynamodb_calls["GetItem"] == 1 and dynamodb_calls["PutItem"] == 2 and dynamodb_calls["Query"] >= 1
    assert all(desk.stored(c["id"]).version == 1 for c in later)


# --- the scheduled function ------------------------------------------------------------------------------------
def test_the_scheduled_function_runs_the_same_sweep_at_the_current_time(desk, client):
    late = desk.submit()
    event = client.events.generate_cw_event(source="aws.events", detail_type="Scheduled Event", detail={},
                                            resources=["arn:aws:events:eu-central-1:123456789012:rule/deadline_sweep"])
    # 23:00 in Astana on the due date: not yet late.
    desk.clock.current = datetime(2026, 12, 7, 18, 0, tzinfo=timezone.utc)
    assert client.lambda_.invoke("deadline_sweep", event).payload == {"checked": 0, "business_overdue": 0,
                                                                      "agency_overdue": 0}
    assert flags(desk.track(late).json_body) == (False, False)
    # 00:00:01 the next day in Astana.
    desk.clock.current = datetime(2026, 12, 7, 19, 0, 1, tzinfo=timezone.utc)
    assert client.lambda_.invoke("deadline_sweep", event).payload == {"checked": 1, "business_overdue": 1,
                                                                      "agency_overdue": 0}
    assert flags(desk.track(late).json_body) == (True, False)
    desk.clock.current = datetime(2026, 12, 22, 0, 0, tzinfo=timezone.utc)
    assert client.lambda_.invoke("deadline_sweep", event).payload == {"checked": 1, "business_overdue": 0,
                                                                      "agency_overdue": 1}
    for view in views(desk, late):
        assert flags(view) == (True, True)
    assert desk.track(late).json_body["agency_due_at"] == AGENCY_DUE
