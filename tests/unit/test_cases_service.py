"""The case-work use cases (chalicelib/services/cases.py) on the in-memory fakes: queues, scope, actions, sweep.

What the HTTP layer and the clients rely on is pinned here without moto or HTTP: the polling contract
(filter, settle horizon, merge order, cursor), the scope checks (an object outside the caller's scope looks
missing), the read consistency of every action, and the sweep's counting and retries.
"""
from __future__ import annotations

import re
import time as systime
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.domain import codes
from chalicelib.domain.calendar import load_deadline_rules
from chalicelib.domain.complaint import GiveFeedback, MarkOverdue, Reroute, Respond, TakeInReview, kind_for
from chalicelib.domain.errors import (
    ComplaintNotFound, ConcurrentUpdate, Forbidden, InvalidCursor, ValidationFailed,
)
from chalicelib.domain.model import (
    SYSTEM, Actor, BusinessResponse, Complaint, Contact, Status, TimelineEntry, change_key,
)
from chalicelib.domain.routing import RoutingDecision
from chalicelib.services import cases, cursors
from chalicelib.services.auth import Principal
from chalicelib.services.cases import (
    Poller, QueuePage, act, agency_action, agency_queue, business_action, business_queue, case_for_agency,
    case_for_business, contact_for, give_feedback, reroute, start_of_local_day, sweep_deadlines,
)
from chalicelib.services.cursors import decode_cursor, encode_cursor
from tests.fakes import FakeComplaints, FakeContactVault, FakeRoutingExamples, FixedClock

UTC = timezone.utc
RULES = load_deadline_rules()
SECRET = "cases-secret-cases-secret-000001"
BIN = "940140000385"
OTHER_BIN = "950341000052"
AGENCIES = frozenset({"kzpp", "ktrm", "transport", "police"})
REGIONS = frozenset({"71", "75", "79"})
NOW = datetime(2026, 11, 30, 7, 15, tzinfo=UTC)
SETTLE = 5.0
NATIONAL = Principal(role="agency", key_id="k0000000000a1", label="kzpp national", agency_id="kzpp")
REGIONAL = Principal(role="agency", key_id="k0000000000a2", label="kzpp 71+75", agency_id="kzpp",
                     regions=frozenset({"75", "71"}))
SELLER = Principal(role="business", key_id="k0000000000b1", label="Таза", bin=BIN)


class RecordingComplaints(FakeComplaints):
    """The fake store, also recording how it was read: consistency matters on DynamoDB though not here."""

    def __init__(self) -> None:
        super().__init__()
        self.gets: list[tuple[str, object]] = []
        self.queries: list[dict] = []

    def get(self, complaint_id, *, consistent=False):
        self.gets.append((complaint_id, consistent))
        return super().get(complaint_id, consistent=consistent)

    def changes(self, queue, partition, *, after, until, limit, statuses=None):
        self.queries.append({"queue": queue, "partition": partition, "after": after, "until": until,
                             "limit": limit, "statuses": statuses})
        return super().changes(queue, partition, after=after, until=until, limit=limit, statuses=statuses)


class LosingComplaints(RecordingComplaints):
    """A store where every update loses a race (another writer always got there first)."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts = 0

    def save(self, complaint):
        if complaint.version == 0:
            return super().save(complaint)
        self.attempts += 1
        raise ConcurrentUpdate("changed")


def _case(*, updated_at: datetime = NOW - timedelta(minutes=1), status: Status = Status.ROUTED, region: str = "71",
          agency_id: str = "kzpp", business_bin: str = BIN, identified: bool = True, responded: bool = False,
          created_at: datetime = NOW - timedelta(days=7), **changes) -> Complaint:
    """A complaint as filed `created_at`, last changed `updated_at` (not yet stored: version 0)."""
    kind = kind_for(identified=identified, agency_id=agency_id)
    response = (BusinessResponse(message="Вернём деньги", offer="refund", at=created_at + timedelta(hours=1),
                                 key_id="k0000000000b0") if responded else None)
    base = Complaint(
        id=codes.new_complaint_id(), created_at=created_at, updated_at=updated_at, status=status, kind=kind,
        channel="qr", language="ru", text_language="ru", text="Обсчитали на кассе на 2000 тенге, чек не дали.",
        category="overcharge", sector="grocery", region=region, business_bin=business_bin,
        business_name="ТОО «Таза»", business_registered=True, outlet_code=None, outlet_name=None,
        outlet_address=None, contact_ref="ct_ref" if identified else None, identified=identified,
        share_contact_with_business=False, incident_at=None,
        routing=RoutingDecision(agency_id=agency_id, method="category", confidence=1.0, version="r1+c1",
                                explanation="category overcharge", matched=()),
        agency_id=agency_id, business_due_at=RULES.business_due(created_at),
        agency_due_at=RULES.agency_due(created_at) if kind == "appeal" else None,
        timeline=(TimelineEntry(at=created_at, type="submitted", actor="consumer"),),
        business_response=response,
    )
    return replace(base, **changes)


def _stored(repo: FakeComplaints, **kwargs) -> Complaint:
    """Put a complaint in the store as it is, keeping its `updated_at` (the queue position under test)."""
    complaint = replace(_case(**kwargs), version=1)
    repo.items[complaint.id] = complaint
    return complaint


@pytest.fixture
def repo():
    return RecordingComplaints()


@pytest.fixture
def clock():
    return FixedClock(NOW)


@pytest.fixture
def poller(repo, clock):
    return Poller(complaints=repo, clock=clock, secret=SECRET, settle_seconds=SETTLE)


@pytest.fixture
def away_from_utc(monkeypatch):
    """The process's local time zone is not UTC (a developer's laptop): nothing may depend on it."""
    monkeypatch.setenv("TZ", "America/New_York")
    systime.tzset()
    yield
    monkeypatch.undo()
    systime.tzset()


def _position(cursor: str, binding: str) -> str:
    return decode_cursor(cursor, binding=binding, secret=SECRET, now=NOW)


# --- Poller.poll -----------------------------------------------------------------------------------------------
def test_given_an_unknown_status_filter_when_polling_then_it_is_a_status_field_error_listing_the_choices(poller):
    with pytest.raises(ValidationFailed) as info:
        poller.poll([("agency", "kzpp")], binding="b", status="closed", cursor=None, limit=10)
    assert info.value.message == "Some fields are invalid."
    expected = "one of open, routed, business_responded, in_review, settled, resolved, rejected"
    assert info.value.fields == {"status": {"code": "enum", "message": expected}}


def test_given_a_status_filter_then_the_cursor_is_bound_to_it_and_not_to_the_unfiltered_queue(repo, poller):
    # GIVEN one settled case old enough to be read
    item = _stored(repo)
    # WHEN it is polled with and without a filter
    filtered = poller.poll([("agency", "kzpp")], binding="agency:kzpp::", status="open", cursor=None, limit=10)
    plain = poller.poll([("agency", "kzpp")], binding="agency:kzpp::", status=None, cursor=None, limit=10)
    # THEN each cursor carries the binding with its own filter after a '|'
    assert _position(filtered.next_cursor, "agency:kzpp::|open") == change_key(item)
    assert _position(plain.next_cursor, "agency:kzpp::|") == change_key(item)
    # AND one filter's cursor is refused for the other
    with pytest.raises(InvalidCursor):
        poller.poll([("agency", "kzpp")], binding="agency:kzpp::", status=None, cursor=filtered.next_cursor, limit=10)
    with pytest.raises(InvalidCursor):
        poller.poll([("agency", "kzpp")], binding="agency:kzpp::", status="routed", cursor=plain.next_cursor,
                    limit=10)


def test_given_writes_younger_than_the_settle_lag_then_they_wait_for_a_later_poll(repo, poller, clock):
    # GIVEN a case changed exactly at the horizon, one just before it and one just after it
    at_horizon = _stored(repo, updated_at=NOW - timedelta(seconds=SETTLE))
    older = _stored(repo, updated_at=NOW - timedelta(seconds=SETTLE, microseconds=1))
    younger = _stored(repo, updated_at=NOW - timedelta(seconds=SETTLE) + timedelta(microseconds=1))
    # WHEN the queue is polled now
    page = poller.poll([("agency", "kzpp")], binding="b", status=None, cursor=None, limit=10)
    # THEN the horizon is now - settle, inclusive of every id at that microsecond, exclusive after it
    assert [c.id for c in page.items] == [older.id, at_horizon.id]
    assert repo.queries[0]["until"] == "2026-11-30T07:14:55.000000+00:00#~"
    # AND the younger one comes with the next poll, after the cursor
    clock.advance(seconds=1)
    later = poller.poll([("agency", "kzpp")], binding="b", status=None, cursor=page.next_cursor, limit=10)
    assert [c.id for c in later.items] == [younger.id]


def test_given_a_clock_in_local_time_then_the_horizon_is_still_written_in_utc(repo, away_from_utc):
    # GIVEN a clock that reports Astana time, in a process whose local zone is New York
    astana = FixedClock(NOW.astimezone(timezone(timedelta(hours=5))))
    poller = Poller(complaints=repo, clock=astana, secret=SECRET, settle_seconds=SETTLE)
    item = _stored(repo, updated_at=NOW - timedelta(seconds=6))
    # WHEN polled THEN the bound compares with the stored UTC change keys
    page = poller.poll([("agency", "kzpp")], binding="b", status=None, cursor=None, limit=10)
    assert repo.queries[0]["until"] == "2026-11-30T07:14:55.000000+00:00#~"
    assert [c.id for c in page.items] == [item.id]


def test_given_two_regions_then_the_partitions_are_merged_in_change_order_and_cut_at_the_limit(repo, poller):
    # GIVEN cases in two regions changed alternately
    base = NOW - timedelta(hours=1)
    made = [_stored(repo, region=("71" if i % 2 else "75"), updated_at=base + timedelta(minutes=i)) for i in range(5)]
    _stored(repo, region="79", updated_at=base)  # a region this key does not see
    # WHEN a regional key polls with a limit of 3
    page = agency_queue(REGIONAL, poller=poller, status=None, region=None, cursor=None, limit=3,
                        known_regions=REGIONS)
    # THEN it reads one partition per region, in a stable order, and gets the earliest three of the merge
    assert [(q["queue"], q["partition"]) for q in repo.queries] == [
        ("agency_region", "kzpp#71"), ("secondary_region", "kzpp#71"),
        ("agency_region", "kzpp#75"), ("secondary_region", "kzpp#75")]
    assert all(q["limit"] == 3 for q in repo.queries)
    assert [c.id for c in page.items] == [c.id for c in made[:3]]
    # AND the cursor is the last returned item's position; the next page continues from there
    binding = "agency:kzpp:71,75:|"
    assert _position(page.next_cursor, binding) == change_key(made[2])
    rest = agency_queue(REGIONAL, poller=poller, status=None, region=None, cursor=page.next_cursor, limit=3,
                        known_regions=REGIONS)
    assert [c.id for c in rest.items] == [c.id for c in made[3:]]
    assert repo.queries[-1]["after"] == change_key(made[2])


def test_given_nothing_new_after_a_cursor_then_the_cursor_keeps_its_position(repo, poller):
    item = _stored(repo)
    first = poller.poll([("business", BIN)], binding="business:x", status=None, cursor=None, limit=10)
    again = poller.poll([("business", BIN)], binding="business:x", status=None, cursor=first.next_cursor, limit=10)
    assert again.items == [] and _position(again.next_cursor, "business:x|") == change_key(item)


def test_given_an_empty_queue_and_no_cursor_then_there_is_no_cursor_to_give(poller):
    page = poller.poll([("business", BIN)], binding="business:x", status=None, cursor=None, limit=10)
    assert page == QueuePage([], None, None)


def test_given_a_filter_then_the_first_page_is_filtered_and_later_pages_report_every_change(repo, poller, clock):
    # GIVEN an open and a settled case
    open_case = _stored(repo, updated_at=NOW - timedelta(minutes=2))
    closed = _stored(repo, status=Status.SETTLED, updated_at=NOW - timedelta(minutes=1))
    # WHEN the open queue is read
    first = poller.poll([("agency", "kzpp")], binding="b", status="open", cursor=None, limit=10)
    # THEN only the open case is listed, the store was asked for the open statuses
    assert [c.id for c in first.items] == [open_case.id]
    assert repo.queries[0]["statuses"] == frozenset({"routed", "business_responded", "in_review"})
    assert first.statuses == frozenset({"routed", "business_responded", "in_review"})
    # AND once the open case is settled, the next poll reports it so the client can drop it
    settled = replace(open_case, status=Status.SETTLED, updated_at=NOW + timedelta(seconds=1))
    repo.items[settled.id] = settled
    clock.advance(seconds=SETTLE + 2)
    second = poller.poll([("agency", "kzpp")], binding="b", status="open", cursor=first.next_cursor, limit=10)
    assert repo.queries[-1]["statuses"] is None
    # (the case that was already closed lies after the cursor too: every change after it is reported, and
    # the client, which never listed it, ignores it)
    assert [c.id for c in second.items] == [closed.id, settled.id]
    assert not any(second.in_filter(c) for c in second.items) and first.in_filter(open_case)


def test_given_a_single_status_filter_then_only_that_status_matches():
    page = QueuePage([], None, cases.STATUS_FILTERS["in_review"])
    assert page.in_filter(_case(status=Status.IN_REVIEW))
    assert not page.in_filter(_case(status=Status.ROUTED))
    assert QueuePage([], None).in_filter(_case(status=Status.REJECTED))


# --- agency queue and scope ---------------------------------------------------------------------------------
def test_given_an_unknown_region_then_it_is_a_region_field_error(poller):
    with pytest.raises(ValidationFailed) as info:
        agency_queue(NATIONAL, poller=poller, status=None, region="99", cursor=None, limit=10, known_regions=REGIONS)
    assert info.value.message == "Some fields are invalid."
    assert info.value.fields == {"region": {"code": "unknown_region", "message": "no such region"}}


def test_given_a_region_outside_the_keys_scope_then_it_is_forbidden_without_reading(repo, poller):
    with pytest.raises(Forbidden) as info:
        agency_queue(REGIONAL, poller=poller, status=None, region="79", cursor=None, limit=10, known_regions=REGIONS)
    assert info.value.message == "This key may not read that region's queue."
    assert repo.queries == []


def test_given_one_region_asked_then_only_its_partition_is_read_and_the_cursor_is_bound_to_it(repo, poller):
    item = _stored(repo, region="75")
    _stored(repo, region="71")
    page = agency_queue(REGIONAL, poller=poller, status="open", region="75", cursor=None, limit=10,
                        known_regions=REGIONS)
    assert [(q["queue"], q["partition"]) for q in repo.queries] == [("agency_region", "kzpp#75"),
                                                                    ("secondary_region", "kzpp#75")]
    assert [c.id for c in page.items] == [item.id]
    assert _position(page.next_cursor, "agency:kzpp:71,75:75|open") == change_key(item)


def test_given_a_national_key_then_the_whole_agency_partition_is_read(repo, poller):
    mine = _stored(repo, region="79")
    _stored(repo, agency_id="ktrm")
    page = agency_queue(NATIONAL, poller=poller, status=None, region=None, cursor=None, limit=10,
                        known_regions=REGIONS)
    assert [(q["queue"], q["partition"]) for q in repo.queries] == [("agency", "kzpp"), ("secondary", "kzpp")]
    assert [c.id for c in page.items] == [mine.id]
    assert _position(page.next_cursor, "agency:kzpp::|") == change_key(mine)


def test_given_a_national_key_asking_for_one_region_then_its_regional_partition_is_read(repo, poller):
    agency_queue(NATIONAL, poller=poller, status=None, region="79", cursor=None, limit=10, known_regions=REGIONS)
    assert [(q["queue"], q["partition"]) for q in repo.queries] == [("agency_region", "kzpp#79"),
                                                                    ("secondary_region", "kzpp#79")]


def test_given_a_business_key_then_its_queue_is_its_bin_and_the_cursor_is_bound_to_it(repo, poller):
    mine = _stored(repo)
    _stored(repo, business_bin=OTHER_BIN)
    page = business_queue(SELLER, poller=poller, status=None, cursor=None, limit=10)
    assert [c.id for c in page.items] == [mine.id]
    assert _position(page.next_cursor, f"business:{BIN}|") == change_key(mine)


@pytest.mark.parametrize("changes", [{"agency_id": "ktrm"}, {"region": "79"}])
def test_given_a_case_outside_the_agency_keys_scope_then_it_looks_missing(repo, changes):
    other = _stored(repo, **changes)
    with pytest.raises(ComplaintNotFound) as info:
        case_for_agency(REGIONAL, other.id, complaints=repo)
    assert info.value.message == "No complaint with this id is in your queue."


def test_given_a_case_in_scope_then_the_agency_reads_it_eventually_consistent_by_default(repo):
    mine = _stored(repo, region="75")
    assert case_for_agency(REGIONAL, mine.id, complaints=repo) == mine
    assert case_for_agency(REGIONAL, mine.id, complaints=repo, consistent=True) == mine
    assert repo.gets == [(mine.id, False), (mine.id, True)]


@pytest.mark.parametrize("bad_id", ["", "x", "c" + "7" * 15, "../../etc", None])
def test_given_a_malformed_id_then_it_is_not_found_without_reading_the_store(repo, bad_id):
    for read in (case_for_agency, case_for_business):
        with pytest.raises(ComplaintNotFound):
            read(NATIONAL if read is case_for_agency else SELLER, bad_id, complaints=repo)
    assert repo.gets == []


def test_given_another_sellers_case_then_the_business_sees_it_as_missing(repo):
    mine, theirs = _stored(repo), _stored(repo, business_bin=OTHER_BIN)
    assert case_for_business(SELLER, mine.id, complaints=repo) == mine
    with pytest.raises(ComplaintNotFound) as info:
        case_for_business(SELLER, theirs.id, complaints=repo)
    assert info.value.message == "No complaint with this id is in your queue."
    with pytest.raises(ComplaintNotFound):
        case_for_business(SELLER, codes.new_complaint_id(), complaints=repo)
    assert [consistent for _, consistent in repo.gets] == [False, False, False]


# --- contact --------------------------------------------------------------------------------------------------
def test_given_a_contact_then_the_agency_always_gets_it_and_the_business_only_with_consent():
    vault = FakeContactVault()
    contact = Contact(name="Айдана", phone="+77011234567")
    vault.put("ct_ref", contact, at=NOW)
    private = _case()
    shared = _case(share_contact_with_business=True)
    assert contact_for(private, contacts=vault) == contact
    assert contact_for(private, contacts=vault, for_business=True) is None
    assert contact_for(shared, contacts=vault, for_business=True) == contact
    assert contact_for(_case(identified=False, share_contact_with_business=True), contacts=vault,
                       for_business=True) is None


# --- actions ----------------------------------------------------------------------------------------------------
def test_given_a_command_that_changes_nothing_then_act_does_not_write(repo, clock):
    # GIVEN a case whose terms are still running
    case = _stored(repo, created_at=NOW - timedelta(hours=1))
    writes = repo.writes
    # WHEN the overdue check runs THEN nothing is stored and the same case comes back
    stored, events = act(case, MarkOverdue(NOW), actor=SYSTEM, complaints=repo, clock=clock)
    assert stored is case and events == () and repo.writes == writes


def test_given_a_reroute_through_act_then_the_rules_and_agencies_reach_the_transition(repo, clock):
    case = _stored(repo)
    stored, events = act(case, Reroute("ktrm", "Это торговля"), actor=NATIONAL.actor, complaints=repo, clock=clock,
                         rules=RULES, agencies=AGENCIES)
    assert stored.agency_id == "ktrm" and stored.version == case.version + 1 and len(events) == 1
    assert stored.agency_due_at == RULES.agency_due(NOW)


def test_given_an_agency_action_then_it_reads_consistently_and_records_the_key(repo, clock):
    case = _stored(repo, region="71")
    stored = agency_action(REGIONAL, case.id, TakeInReview(), complaints=repo, clock=clock)
    assert stored.status == Status.IN_REVIEW and repo.items[case.id] == stored
    assert stored.timeline[-1].actor == "agency:kzpp" and stored.timeline[-1].key_id == REGIONAL.key_id
    assert repo.gets == [(case.id, True)]


def test_given_a_business_action_then_it_reads_consistently_and_stays_in_its_scope(repo, clock):
    case, theirs = _stored(repo), _stored(repo, business_bin=OTHER_BIN)
    stored = business_action(SELLER, case.id, Respond("Вернём деньги", "refund"), complaints=repo, clock=clock)
    assert stored.status == Status.BUSINESS_RESPONDED and stored.business_response.key_id == SELLER.key_id
    assert repo.gets == [(case.id, True)]
    with pytest.raises(ComplaintNotFound):
        business_action(SELLER, theirs.id, Respond("x", "refund"), complaints=repo, clock=clock)
    assert repo.items[theirs.id] == theirs


def _reroute(principal, case_id, repo, examples, clock):
    return reroute(principal, case_id, Reroute("ktrm", "  Это торговля, не наша компетенция  "), complaints=repo,
                   examples=examples, rules=RULES, agencies=AGENCIES, clock=clock)


def test_given_a_reroute_then_the_correction_is_kept_as_a_labelled_example(repo, clock):
    case = _stored(repo, region="71")
    examples = FakeRoutingExamples()
    stored = _reroute(REGIONAL, case.id, repo, examples, clock)
    assert stored.agency_id == "ktrm" and repo.items[case.id] == stored
    assert repo.gets == [(case.id, True)]
    [example] = examples.list_for(case.id)
    assert (example.complaint_id, example.at, example.text, example.category, example.sector) == (
        case.id, NOW, case.text, "overcharge", "grocery")
    assert (example.from_agency, example.to_agency, example.reason) == ("kzpp", "ktrm",
                                                                        "Это торговля, не наша компетенция")
    assert (example.routing_method, example.routing_version, example.key_id) == ("category", "r1+c1",
                                                                                 REGIONAL.key_id)


def test_given_a_reroute_that_loses_a_race_then_the_example_is_withdrawn_and_the_conflict_raised(clock):
    repo, examples = LosingComplaints(), FakeRoutingExamples()
    case = _stored(repo)
    with pytest.raises(ConcurrentUpdate):
        _reroute(NATIONAL, case.id, repo, examples, clock)
    assert examples.items == {} and repo.items[case.id] == case


def test_given_a_reroute_of_a_case_outside_scope_then_nothing_is_recorded(repo, clock):
    case = _stored(repo, region="79")
    examples = FakeRoutingExamples()
    with pytest.raises(ComplaintNotFound):
        _reroute(REGIONAL, case.id, repo, examples, clock)
    assert examples.items == {} and repo.items[case.id] == case


def test_given_the_holder_of_the_token_then_feedback_is_stored_after_a_consistent_read(repo, clock):
    case = _stored(repo, responded=True, status=Status.BUSINESS_RESPONDED)
    token = codes.tracking_token(SECRET, case.id)
    stored = give_feedback(case.id, token, GiveFeedback(accepted=True, stars=5), complaints=repo, secret=SECRET,
                           clock=clock)
    assert stored.status == Status.SETTLED and stored.feedback.stars == 5 and repo.items[case.id] == stored
    assert stored.timeline[-1].actor == "consumer"
    assert repo.gets == [(case.id, True)]
    with pytest.raises(ComplaintNotFound):
        give_feedback(case.id, "x" * 25, GiveFeedback(accepted=False, stars=1), complaints=repo, secret=SECRET,
                      clock=clock)


# --- the deadline sweep ----------------------------------------------------------------------------------------
AS_OF = NOW


def test_given_cases_with_missed_terms_then_the_sweep_counts_them_per_party(repo, clock):
    # GIVEN an anonymous case past its business term, an identified one past both, and one in time
    _stored(repo, identified=False, created_at=NOW - timedelta(days=20))
    both = _stored(repo, identified=True, created_at=NOW - timedelta(days=60))
    _stored(repo, created_at=NOW - timedelta(hours=2))
    admin = Actor("admin", None, "k00000000adm1")
    # WHEN an admin runs the sweep
    report = sweep_deadlines(AS_OF, complaints=repo, clock=clock, actor=admin)
    # THEN every due case was checked once and each party's missed terms counted
    assert report == cases.SweepReport(as_of=AS_OF, checked=2, business_overdue=2, agency_overdue=1)
    assert [e.type for e in repo.items[both.id].timeline[-2:]] == ["business_overdue", "agency_overdue"]
    assert repo.items[both.id].timeline[-1].actor == "admin" and repo.items[both.id].timeline[-1].key_id == admin.key_id
    # AND, every save having succeeded, nothing was read again and each flagged case was written once
    assert repo.gets == [] and repo.items[both.id].version == 2


def test_given_the_schedule_runs_the_sweep_then_the_system_is_the_actor(repo, clock):
    case = _stored(repo, identified=False, created_at=NOW - timedelta(days=20))
    sweep_deadlines(AS_OF, complaints=repo, clock=clock)
    assert repo.items[case.id].timeline[-1].actor == "system"


class RepeatingIndex(RecordingComplaints):
    """An index that lists a case twice (DynamoDB index pages can repeat an item that moved while read)."""

    def due_before(self, moment):
        due = list(super().due_before(moment))
        for complaint in due:
            yield complaint
            yield complaint


def test_given_an_index_that_repeats_a_case_then_it_is_swept_once_and_the_rest_still_are(clock):
    repo = RepeatingIndex()
    first = _stored(repo, identified=False, created_at=NOW - timedelta(days=21))
    second = _stored(repo, identified=False, created_at=NOW - timedelta(days=20))
    report = sweep_deadlines(AS_OF, complaints=repo, clock=clock)
    assert (report.checked, report.business_overdue, report.agency_overdue) == (2, 2, 0)
    assert repo.items[first.id].flags.business_overdue and repo.items[second.id].flags.business_overdue


def test_given_a_case_that_keeps_losing_races_then_the_sweep_tries_three_times_with_fresh_reads(clock):
    repo = LosingComplaints()
    case = _stored(repo, identified=False, created_at=NOW - timedelta(days=20))
    other = _stored(repo, identified=False, created_at=NOW - timedelta(days=19))
    report = sweep_deadlines(AS_OF, complaints=repo, clock=clock)
    assert repo.attempts == 6 and report.business_overdue == 0 and report.checked == 2
    assert repo.gets == [(case.id, True)] * 3 + [(other.id, True)] * 3


class ChangedMidSweep(RecordingComplaints):
    """Another writer changes a case between the index read and the sweep's save: the consumer settles it
    (`closes`), or some other open-state change only moves its version on."""

    def __init__(self, *, closes: bool) -> None:
        super().__init__()
        self.victim: str | None = None
        self.closes = closes

    def save(self, complaint):
        if complaint.id == self.victim:
            self.victim = None
            stored = self.items[complaint.id]
            status = Status.SETTLED if self.closes else stored.status
            self.items[complaint.id] = replace(stored, status=status, version=stored.version + 1)
        return super().save(complaint)


def test_given_a_case_closed_during_the_sweep_then_it_is_reloaded_and_skipped(clock):
    repo = ChangedMidSweep(closes=True)
    case = _stored(repo, identified=False, created_at=NOW - timedelta(days=20))
    repo.victim = case.id
    report = sweep_deadlines(AS_OF, complaints=repo, clock=clock)
    assert report.business_overdue == 0 and report.checked == 1
    assert repo.items[case.id].status == Status.SETTLED and not repo.items[case.id].flags.business_overdue
    assert repo.gets == [(case.id, True)]


def test_given_a_conflict_once_then_the_retry_flags_the_reloaded_case(clock):
    repo = ChangedMidSweep(closes=False)
    case = _stored(repo, identified=False, created_at=NOW - timedelta(days=20))
    repo.victim = case.id
    report = sweep_deadlines(AS_OF, complaints=repo, clock=clock)
    assert (report.checked, report.business_overdue) == (1, 1)
    assert repo.items[case.id].flags.business_overdue and repo.items[case.id].version == 3


# --- calendar ------------------------------------------------------------------------------------------------------
def test_given_a_day_then_its_start_is_midnight_in_kazakhstan_as_utc(away_from_utc):
    start = start_of_local_day(date(2026, 11, 30), RULES)
    assert start == datetime(2026, 11, 29, 19, 0, tzinfo=UTC)
    assert start.utcoffset() == timedelta(0) and start.isoformat() == "2026-11-29T19:00:00+00:00"


# --- the cursors the poller gives out --------------------------------------------------------------------------
def _payload(cursor: str) -> bytes:
    from chalicelib.services.cursors import _unb64

    return _unb64(cursor.split(".")[0])


@pytest.mark.parametrize("position", ["", "a", "ab", "abc", "abcd", "2026-11-30T07:14:55.000000+00:00#ABCDEFGHJKMN"])
def test_given_positions_of_every_length_then_the_cursor_is_compact_unpadded_and_round_trips(position):
    cursor = encode_cursor(position, binding="b|", secret=SECRET, now=NOW)
    # no '=' padding anywhere, and the JSON is written without spaces (a shorter URL)
    assert "=" not in cursor and re.fullmatch(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{24}", cursor)
    assert _payload(cursor) == ('{"p":"%s","t":%d}' % (position, int(NOW.timestamp()))).encode()
    assert decode_cursor(cursor, binding="b|", secret=SECRET, now=NOW) == position


def test_given_a_cursor_of_exactly_400_characters_then_its_length_alone_does_not_refuse_it():
    payload, signature = encode_cursor("x", binding="b|", secret=SECRET, now=NOW).split(".")
    long_cursor = payload + "A" * (400 - len(payload) - len(signature) - 1) + "." + signature
    assert len(long_cursor) == 400
    with pytest.raises(InvalidCursor) as info:
        decode_cursor(long_cursor, binding="b|", secret=SECRET, now=NOW)
    assert info.value.fields["cursor"]["message"] == "not issued for this queue and filter"
    with pytest.raises(InvalidCursor) as info:
        decode_cursor("A" + long_cursor, binding="b|", secret=SECRET, now=NOW)
    assert info.value.fields["cursor"]["message"] == "malformed"


def test_given_a_stale_cursor_then_the_error_tells_the_client_to_start_again():
    cursor = encode_cursor("x", binding="b|", secret=SECRET, now=NOW)
    assert decode_cursor(cursor, binding="b|", secret=SECRET, now=NOW + cursors.CURSOR_TTL) == "x"
    with pytest.raises(InvalidCursor) as info:
        decode_cursor(cursor, binding="b|", secret=SECRET, now=NOW + cursors.CURSOR_TTL + timedelta(seconds=1))
    assert info.value.message == "The cursor is not valid for this queue (stale); start again without a cursor."
    assert info.value.fields == {"cursor": {"code": "invalid_cursor", "message": "stale"}}
