"""The analytics counters and reads (chalicelib/services/analytics.py) on the in-memory fakes.

Counters come from complaint state: each stored change moves them by contribution(after) - contribution(before).
These tests pin each transition's delta, the reroute that moves a whole contribution to another agency, order
and redelivery independence, the Query plan over month and year edges, the summary against a brute-force count,
and the hotspot ranking on a constructed example.
"""
from __future__ import annotations

import csv
import io
import itertools
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from chalicelib.domain.calendar import load_deadline_rules
from chalicelib.domain.catalog import load_catalog
from chalicelib.domain.complaint import (
    ComplaintChanged, GiveFeedback, MarkOverdue, Reject, Reroute, Resolve, Respond, TakeInReview, file_complaint,
    transition,
)
from chalicelib.domain.errors import ValidationFailed
from chalicelib.domain.model import CONSUMER, SYSTEM, Actor, Status
from chalicelib.domain.routing import RoutingDecision
from chalicelib.services import analytics
from chalicelib.services.analytics import (
    DIMS, OUTLETS, ItemQuery, analytics_increments, apply_change, contribution, hotspots, plan, summary, summary_csv,
    windows_for,
)
from tests.fakes import FakeCounters, FakeOutlets, FixedClock

UTC = timezone.utc
RULES = load_deadline_rules()
CATALOG = load_catalog()
AGENCIES = frozenset(CATALOG.agencies)
BIN = "940140000385"
# 20:30 UTC on Monday 30 November 2026 is 01:30 on Tuesday 1 December in Astana: the complaint's day is 1 December.
CREATED = datetime(2026, 11, 30, 20, 30, tzinfo=UTC)
DAY_KEY = ("d#2026-12", "2026-12-01#71#kzpp#overcharge#grocery#appeal")
MONTH_KEY = ("m#2026", "2026-12#71#kzpp#overcharge#grocery#appeal")
OUTLET_DAY_KEY = ("o#2026-12", "2026-12-01#TM01")
OUTLET_MONTH_KEY = ("om#2026", "2026-12#TM01")
SELLER = Actor("business", BIN, "k0000000000b1")
AGENCY = Actor("agency", "kzpp", "k0000000000a1")


def _routing(agency: str) -> RoutingDecision:
    return RoutingDecision(agency_id=agency, method="category", confidence=1.0, version="v", explanation="e",
                           matched=())


def filed(cid: str = "c1", *, at: datetime = CREATED, agency: str = "kzpp", identified: bool = True,
          category: str | None = "overcharge", sector: str = "grocery", region: str = "71",
          outlet: str | None = "TM01"):
    """A complaint as its first save stored it (version 1)."""
    complaint, _ = file_complaint(
        complaint_id=cid, now=at, rules=RULES, routing=_routing(agency), identified=identified, channel="qr",
        language="ru", text_language="ru", text="Обсчитали на кассе на 650 тенге, чек не выдали.",
        category=category, sector=sector, region=region, business_bin=BIN, business_name="ТОО «Таза Маркет»",
        business_registered=True, outlet_code=outlet, outlet_name="Таза Маркет" if outlet else None,
        outlet_address="Астана, пр. Мәңгілік Ел, 37" if outlet else None,
        contact_ref="ct_0123456789abcdef" if identified else None, share_contact_with_business=False,
        incident_at=None, fingerprint="f")
    return replace(complaint, version=1)


def act(complaint, command, actor, *, after: timedelta):
    """The complaint after one more stored change, `after` its submission."""
    changed, _ = transition(complaint, command, actor=actor, now=complaint.created_at + after, rules=RULES,
                            agencies=AGENCIES)
    return replace(changed, version=complaint.version + 1)


def moves(previous, current) -> dict:
    """Increments as {key: add}, to compare with known answers."""
    found = {}
    for inc in analytics_increments(previous, current):
        assert inc.table == "analytics" and not inc.below
        found[inc.key] = dict(inc.add)
    return found


def box(counters=None, clock=None):
    """What the services take from the Container for analytics."""
    return SimpleNamespace(counters=counters or FakeCounters(), catalog=CATALOG, clock=clock or FixedClock(),
                           outlets=FakeOutlets(), settings=SimpleNamespace(secret="analytics-test-secret"))


def feed(c, *changes) -> None:
    """Apply each (previous, current) change once, as the stream reaction would."""
    for previous, current in changes:
        marker = f"analytics#{current.id}#v{current.version}"
        increments = analytics_increments(previous, current)
        if increments:
            c.counters.apply_once(marker, increments, at=c.clock.now())


# --- the counters of one change ---------------------------------------------------------------------------
def test_given_a_new_complaint_when_counted_then_its_local_day_month_and_outlet_items_get_one():
    complaint = filed()
    increments = analytics_increments(None, complaint)
    assert {inc.key: dict(inc.add) for inc in increments} == {
        DAY_KEY: {"count": 1, "appeals": 1, "open": 1},
        MONTH_KEY: {"count": 1, "appeals": 1, "open": 1},
        OUTLET_DAY_KEY: {"count": 1},
        OUTLET_MONTH_KEY: {"count": 1},
    }
    attributes = {inc.key: dict(inc.set) for inc in increments}
    assert attributes[DAY_KEY] == {"region": "71", "agency": "kzpp", "category": "overcharge", "sector": "grocery",
                                   "kind": "appeal", "day": "2026-12-01", "month": "2026-12"}
    assert attributes[MONTH_KEY] == {"region": "71", "agency": "kzpp", "category": "overcharge",
                                     "sector": "grocery", "kind": "appeal", "month": "2026-12"}
    assert attributes[OUTLET_DAY_KEY] == {"outlet": "TM01", "sector": "grocery", "region": "71",
                                          "day": "2026-12-01", "month": "2026-12"}


def test_no_id_text_contact_or_bin_reaches_the_counters():
    complaint = filed("cSECRET000000001")
    answered = act(complaint, Respond(message="Вернём 650 тенге", offer="refund"), SELLER, after=timedelta(hours=2))
    for inc in analytics_increments(None, complaint) + analytics_increments(complaint, answered):
        words = " ".join([*inc.key, *map(str, inc.set.values()), *inc.add])
        for secret in ("cSECRET000000001", BIN, "ct_0123456789abcdef", "тенге", "Таза", "Мәңгілік"):
            assert secret not in words


def test_a_complaint_without_category_or_outlet_counts_as_none_and_has_no_outlet_items():
    complaint = filed(category=None, outlet=None, identified=False)
    assert moves(None, complaint) == {
        ("d#2026-12", "2026-12-01#71#kzpp#none#grocery#signal"): {"count": 1, "signals": 1, "open": 1},
        ("m#2026", "2026-12#71#kzpp#none#grocery#signal"): {"count": 1, "signals": 1, "open": 1},
    }


ANSWERED = Respond(message="Приносим извинения, вернём деньги.", offer="refund")


@pytest.mark.parametrize("steps,delta", [
    # the seller answers 3 h after submission
    ([(ANSWERED, SELLER, 3)], {"business_answered": 1, "business_answer_seconds": 3 * 3600, "business_answer_d1": 1}),
    # the consumer accepts the offer: closed as settled
    ([(ANSWERED, SELLER, 3), (GiveFeedback(accepted=True, stars=4), CONSUMER, 5)], {"open": -1, "settled": 1}),
    # the agency confirms the violation 50 h after submission
    ([(TakeInReview(), AGENCY, 1), (Resolve("violation_confirmed", "Штраф наложен"), AGENCY, 50)],
     {"open": -1, "upheld": 1, "agency_decided": 1, "agency_decision_seconds": 50 * 3600, "agency_decision_d3": 1}),
    ([(TakeInReview(), AGENCY, 1), (Resolve("not_confirmed", "Нарушение не подтвердилось"), AGENCY, 7)],
     {"open": -1, "not_confirmed": 1, "agency_decided": 1, "agency_decision_seconds": 7 * 3600,
      "agency_decision_d1": 1}),
    ([(TakeInReview(), AGENCY, 1), (Resolve("settled", "Стороны договорились"), AGENCY, 7)],
     {"open": -1, "settled": 1, "agency_decided": 1, "agency_decision_seconds": 7 * 3600, "agency_decision_d1": 1}),
    ([(Reject("Нет сведений о нарушении"), AGENCY, 2)],
     {"open": -1, "rejected": 1, "agency_decided": 1, "agency_decision_seconds": 2 * 3600, "agency_decision_d1": 1}),
    # the seller's term (10 calendar days) runs out unanswered
    ([(MarkOverdue(as_of=CREATED + timedelta(days=12)), SYSTEM, 12 * 24)], {"business_overdue": 1}),
    # ... and the agency's (15 working days) too
    ([(MarkOverdue(as_of=CREATED + timedelta(days=40)), SYSTEM, 40 * 24)],
     {"business_overdue": 1, "agency_overdue": 1}),
])
def test_each_transition_moves_the_day_and_month_items_by_its_counters_only(steps, delta):
    """The last step's delta; the steps before it only bring the complaint where that step can happen."""
    previous = current = filed()
    for command, actor, hours in steps:
        previous, current = current, act(current, command, actor, after=timedelta(hours=hours))
    assert moves(previous, current) == {DAY_KEY: delta, MONTH_KEY: delta}


@pytest.mark.parametrize("command,actor", [
    (TakeInReview(), AGENCY),  # still open, nothing decided
])
def test_a_change_that_moves_no_counter_yields_no_increment_and_no_write(command, actor):
    complaint = filed()
    changed = act(complaint, command, actor, after=timedelta(hours=1))
    assert analytics_increments(complaint, changed) == []

    class NoWrites(FakeCounters):
        def apply_once(self, marker, increments, *, at):
            raise AssertionError("nothing to count, nothing to write")

    c = box(NoWrites())
    apply_change(SimpleNamespace(event=ComplaintChanged(changed.id, changed.updated_at, complaint, changed)), c,
                 "analytics#c1#v2")


def test_a_rejected_offer_reopens_nothing_and_counts_nothing_new():
    answered = act(filed(), ANSWERED, SELLER, after=timedelta(hours=1))
    refused = act(answered, GiveFeedback(accepted=False, stars=1), CONSUMER, after=timedelta(hours=2))
    assert refused.status == Status.ROUTED
    assert analytics_increments(answered, refused) == []


def test_a_reroute_moves_the_whole_contribution_to_the_new_agencys_items():
    # An anonymous complaint is a signal at kzpp; rerouted to the police it becomes an appeal (crimes are
    # considered even when anonymous), and its seller had already answered.
    signal = filed(identified=False)
    answered = act(signal, ANSWERED, SELLER, after=timedelta(hours=1))
    moved = act(answered, Reroute(agency_id="police", reason="Это мошенничество"), AGENCY, after=timedelta(hours=4))
    assert moved.kind == "appeal"
    old_day, old_month = ("d#2026-12", "2026-12-01#71#kzpp#overcharge#grocery#signal"), \
        ("m#2026", "2026-12#71#kzpp#overcharge#grocery#signal")
    new_day, new_month = ("d#2026-12", "2026-12-01#71#police#overcharge#grocery#appeal"), \
        ("m#2026", "2026-12#71#police#overcharge#grocery#appeal")
    taken = {"count": -1, "signals": -1, "open": -1, "business_answered": -1, "business_answer_seconds": -3600,
             "business_answer_d1": -1}
    given = {"count": 1, "appeals": 1, "open": 1, "business_answered": 1, "business_answer_seconds": 3600,
             "business_answer_d1": 1, "rerouted": 1}
    assert moves(answered, moved) == {old_day: taken, old_month: taken, new_day: given, new_month: given}

    c = box()
    feed(c, (None, signal), (signal, answered), (answered, moved))
    numbers = _numbers(c)
    assert old_day not in numbers and old_month not in numbers  # emptied: every counter back to zero
    assert numbers[new_day] == numbers[new_month] == given
    assert numbers[OUTLET_DAY_KEY] == {"count": 1}  # the outlet did not move
    # ... and the emptied kzpp items are no group in a summary
    result = summary("2026-12-01", "2026-12-01", "agency", {}, c=c)
    assert [(g["agency"], g["count"], g["rerouted"]) for g in result["groups"]] == [("police", 1, 1)]


def _lifecycle():
    """The stored versions of one complaint: submitted, answered, rerouted, taken, resolved."""
    v1 = filed()
    v2 = act(v1, ANSWERED, SELLER, after=timedelta(hours=5))
    v3 = act(v2, Reroute(agency_id="ktrm", reason="Вопрос торговли"), AGENCY, after=timedelta(hours=6))
    v4 = act(v3, TakeInReview(), Actor("agency", "ktrm"), after=timedelta(hours=7))
    v5 = act(v4, Resolve("violation_confirmed", "Предписание выдано"), Actor("agency", "ktrm"),
             after=timedelta(hours=30))
    return [v1, v2, v3, v4, v5]


def _final_counts(latest) -> dict:
    return {key: dict(add) for key, (add, _) in contribution(latest).items()}


def _numbers(c) -> dict:
    """The counter table's non-zero numbers by item (descriptive attributes and emptied items left out)."""
    found = {}
    for key, item in c.counters.tables["analytics"].items():
        numbers = {name: value for name, value in item.items() if isinstance(value, int) and value}
        if numbers:
            found[key] = numbers
    return found


@pytest.mark.parametrize("order", list(itertools.permutations(range(5))))
def test_the_deltas_of_a_complaints_records_in_any_order_add_up_to_its_latest_state(order):
    versions = _lifecycle()
    records = [(None, versions[0])] + list(zip(versions, versions[1:]))  # the INSERT, then four MODIFYs
    c = box()
    feed(c, *(records[i] for i in order))
    assert _numbers(c) == _final_counts(versions[-1])


def test_insert_and_modify_in_either_order_give_the_same_totals():
    versions = _lifecycle()
    forward, backward = box(), box()
    feed(forward, (None, versions[0]), (versions[0], versions[1]))
    feed(backward, (versions[0], versions[1]), (None, versions[0]))
    assert forward.counters.tables == backward.counters.tables
    assert summary("2026-12-01", "2026-12-01", None, {}, c=forward)["totals"]["business_answered"] == 1


def test_a_redelivered_record_changes_nothing():
    versions = _lifecycle()
    c = box()
    records = [(None, versions[0])] + list(zip(versions, versions[1:]))

    def deliver():
        outcomes = []
        for previous, current in records:
            envelope = SimpleNamespace(event=ComplaintChanged(current.id, current.updated_at, previous, current))
            outcomes.append(apply_change(envelope, c, f"{current.id}#v{current.version}|analytics"))
        return outcomes

    # the review (v4) moves no counter: no write, so no marker either
    assert deliver() == [True, True, True, None, True]
    once = {key: dict(item) for key, item in c.counters.tables["analytics"].items()}
    assert deliver() == [False, False, False, None, False]  # the whole batch again
    assert c.counters.tables["analytics"] == once
    totals = summary("2026-12-01", "2026-12-01", None, {}, c=c)["totals"]
    assert (totals["count"], totals["upheld"], totals["open"], totals["rerouted"]) == (1, 1, 0, 1)
    assert totals["agency_decision_hours_avg"] == 30.0 and totals["business_answer_hours_avg"] == 5.0


# --- which items a range reads ----------------------------------------------------------------------------
def _q(partition, start, end, monthly):
    return ItemQuery(partition, start, end, monthly)


def test_a_range_inside_one_month_reads_its_days_only():
    assert plan([(date(2026, 3, 5), date(2026, 3, 9))]) == [_q("d#2026-03", "2026-03-05", "2026-03-09~", False)]


def test_whole_months_come_from_the_rollup_and_edge_days_from_day_items():
    assert plan([(date(2026, 1, 15), date(2026, 4, 10))]) == [
        _q("d#2026-01", "2026-01-15", "2026-01-31~", False),
        _q("m#2026", "2026-02", "2026-03~", True),
        _q("d#2026-04", "2026-04-01", "2026-04-10~", False),
    ]


def test_a_whole_month_is_one_rollup_query_and_february_of_a_leap_year_ends_on_the_29th():
    assert plan([(date(2028, 2, 1), date(2028, 2, 29))]) == [_q("m#2028", "2028-02", "2028-02~", True)]
    assert plan([(date(2028, 2, 1), date(2028, 2, 28))]) == [_q("d#2028-02", "2028-02-01", "2028-02-28~", False)]


def test_across_a_year_edge_the_rollup_splits_by_year_partition():
    assert plan([(date(2025, 2, 1), date(2026, 1, 31))]) == [
        _q("m#2025", "2025-02", "2025-12~", True), _q("m#2026", "2026-01", "2026-01~", True)]
    assert plan([(date(2025, 12, 20), date(2026, 1, 10))]) == [
        _q("d#2025-12", "2025-12-20", "2025-12-31~", False), _q("d#2026-01", "2026-01-01", "2026-01-10~", False)]


def test_grouping_by_day_or_week_reads_day_items_for_every_month():
    assert plan([(date(2026, 1, 15), date(2026, 3, 10))], daily=True) == [
        _q("d#2026-01", "2026-01-15", "2026-01-31~", False), _q("d#2026-02", "2026-02-01", "2026-02-28~", False),
        _q("d#2026-03", "2026-03-01", "2026-03-10~", False)]


def test_hotspot_windows_read_a_month_from_the_rollup_only_when_one_window_holds_it_whole():
    windows = windows_for(date(2026, 11, 1), date(2026, 11, 30))
    assert windows[0] == (date(2026, 7, 4), date(2026, 8, 2)) and windows[-1] == (date(2026, 11, 1), date(2026, 11, 30))
    assert plan(windows, OUTLETS) == [
        _q("o#2026-07", "2026-07-04", "2026-07-31~", False), _q("o#2026-08", "2026-08-01", "2026-08-31~", False),
        _q("o#2026-09", "2026-09-01", "2026-09-30~", False), _q("o#2026-10", "2026-10-01", "2026-10-31~", False),
        _q("om#2026", "2026-11", "2026-11~", True)]


class CountingCounters(FakeCounters):
    def __init__(self):
        super().__init__()
        self.queries = []

    def query(self, table, partition, *, start=None, end=None):
        self.queries.append(partition)
        return super().query(table, partition, start=start, end=end)


# --- summary ----------------------------------------------------------------------------------------------
_serial = itertools.count()


def _spread(c, days: list[date], **kwargs) -> list:
    """One complaint submitted at noon (Astana) on each day, counted; returns them."""
    made = []
    for day in days:
        at = datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)
        complaint = filed(f"s{next(_serial):07d}", at=at, **kwargs)
        feed(c, (None, complaint))
        made.append(complaint)
    return made


def test_a_summary_equals_a_brute_force_count_for_ranges_across_month_and_year_edges():
    c = box(CountingCounters())
    days = [date(2025, 11, 1) + timedelta(days=3 * i) for i in range(150)]  # Nov 2025 .. Dec 2026, every 3 days
    regions = ["71", "75", "79"]
    for i, day in enumerate(days):
        at = datetime(day.year, day.month, day.day, 7, 0, tzinfo=UTC)
        feed(c, (None, filed(f"c{i:05d}", at=at, region=regions[i % 3], identified=i % 2 == 0)))
    for first, last in [(date(2025, 12, 15), date(2026, 2, 10)), (date(2026, 1, 1), date(2026, 12, 31)),
                        (date(2025, 11, 2), date(2026, 11, 1)), (date(2026, 3, 3), date(2026, 3, 3))]:
        c.counters.queries.clear()
        result = summary(first.isoformat(), last.isoformat(), "region,kind", {}, c=c)
        expected = {}
        for i, day in enumerate(days):
            if first <= day <= last:
                key = (regions[i % 3], "appeal" if i % 2 == 0 else "signal")
                expected[key] = expected.get(key, 0) + 1
        assert {(g["region"], g["kind"]): g["count"] for g in result["groups"]} == expected
        assert result["totals"]["count"] == sum(expected.values())
        assert len(c.counters.queries) == len(plan([(first, last)]))
    c.counters.queries.clear()
    summary("2026-01-01", "2026-12-31", "region", {}, c=c)
    assert c.counters.queries == ["m#2026"]  # a calendar year: twelve months from one rollup partition


def test_a_summary_groups_by_month_week_and_day_in_local_time():
    c = box()
    _spread(c, [date(2026, 1, 20), date(2026, 2, 10), date(2026, 3, 5), date(2026, 3, 15)])
    late = filed("late", at=datetime(2026, 2, 28, 20, 0, tzinfo=UTC))  # 1 March, 01:00 in Astana
    feed(c, (None, late))
    by_month = summary("2026-01-15", "2026-03-10", "month", {}, c=c)
    assert [(g["month"], g["count"]) for g in by_month["groups"]] == [("2026-01", 1), ("2026-02", 1), ("2026-03", 2)]
    by_week = summary("2026-02-23", "2026-03-10", "week", {}, c=c)
    assert [(g["week"], g["count"]) for g in by_week["groups"]] == [("2026-W09", 1), ("2026-W10", 1)]
    by_day = summary("2026-02-28", "2026-03-01", "day", {}, c=c)
    assert [(g["day"], g["count"]) for g in by_day["groups"]] == [("2026-03-01", 1)]


def test_filters_select_items_and_an_empty_group_by_gives_one_row_of_totals():
    c = box()
    _spread(c, [date(2026, 5, 4)] * 3, region="71")
    _spread(c, [date(2026, 5, 5)] * 2, region="75", category=None, sector="pharmacy")
    only = summary("2026-05-01", "2026-05-31", "", {"region": "75"}, c=c)
    assert only["groups"] == [only["totals"]] and only["totals"]["count"] == 2
    assert only["filters"] == {"region": ["75"]}
    both = summary("2026-05-01", "2026-05-31", "category", {"region": "71,75", "category": "none"}, c=c)
    assert [(g["category"], g["count"]) for g in both["groups"]] == [("none", 2)]
    assert summary("2026-05-01", "2026-05-31", "sector", {"sector": "taxi"}, c=c)["groups"] == []


def test_a_summary_row_carries_every_public_counter_and_hour_averages():
    c = box()
    first = filed("a1")
    answered = act(first, ANSWERED, SELLER, after=timedelta(hours=2))
    second = filed("a2")
    answered2 = act(second, ANSWERED, SELLER, after=timedelta(hours=5))
    feed(c, (None, first), (first, answered), (None, second), (second, answered2), (None, filed("a3")))
    row = summary("2026-12-01", "2026-12-01", "agency", {}, c=c)["groups"][0]
    assert list(row) == ["agency", *analytics.PUBLIC]
    assert (row["count"], row["business_answered"], row["business_answer_hours_avg"]) == (3, 2, 3.5)
    assert row["agency_decision_hours_avg"] is None and row["agency_decided"] == 0


@pytest.mark.parametrize("params,field,code", [
    (("", "2026-01-31"), "from", "missing"),
    (("2026-1-5", "2026-01-31"), "from", "date_parsing"),
    (("20260105", "2026-01-31"), "from", "date_parsing"),
    (("2026-W02-1", "2026-01-31"), "from", "date_parsing"),
    (("2026-02-30", "2026-03-31"), "from", "date_parsing"),
    (("2026-01-05", None), "to", "missing"),
    (("2026-02-01", "2026-01-31"), "to", "out_of_range"),
    (("2025-01-01", "2026-01-02"), "to", "out_of_range"),   # 367 days
    (("0001-01-01", "0001-01-02"), "from", "out_of_range"),
])
def test_bad_ranges_are_refused_with_the_field(params, field, code):
    with pytest.raises(ValidationFailed) as caught:
        summary(*params, None, {}, c=box())
    assert caught.value.fields[field]["code"] == code


def test_a_leap_year_is_the_longest_range():
    assert summary("2028-01-01", "2028-12-31", None, {}, c=box())["totals"]["count"] == 0


@pytest.mark.parametrize("group_by,filters,field,code", [
    ("region,colour", {}, "group_by", "enum"),
    (None, {"region": "71,99"}, "region", "unknown_region"),
    (None, {"agency": "kgb"}, "agency", "unknown_agency"),
    (None, {"category": "overcharge,nonsense"}, "category", "unknown_category"),
    (None, {"sector": "casino"}, "sector", "unknown_sector"),
    (None, {"kind": "complaint"}, "kind", "enum"),
])
def test_unknown_groupings_and_filter_values_are_refused(group_by, filters, field, code):
    with pytest.raises(ValidationFailed) as caught:
        summary("2026-01-01", "2026-01-31", group_by, filters, c=box())
    assert caught.value.fields[field]["code"] == code


def test_the_csv_has_the_summarys_rows_with_names_in_the_callers_language():
    c = box()
    _spread(c, [date(2026, 5, 4)] * 3, region="71")
    _spread(c, [date(2026, 5, 5)] * 2, region="75", category=None)
    text = summary_csv("2026-05-01", "2026-05-31", "region,category", {}, c=c, lang="kk")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    groups = summary("2026-05-01", "2026-05-31", "region,category", {}, c=c)["groups"]
    assert [(r["region"], r["category"], int(r["count"])) for r in rows] == [
        (g["region"], g["category"], g["count"]) for g in groups]
    assert rows[0]["region_name"] == CATALOG.regions["71"].name["kk"]
    assert rows[1]["category_name"] == ""  # "none" is no catalogue category
    assert rows[0]["business_answer_hours_avg"] == ""
    assert list(rows[0]) == ["region", "region_name", "category", "category_name", *analytics.PUBLIC]


# --- hotspots ---------------------------------------------------------------------------------------------
WEEK = (date(2026, 11, 2), date(2026, 11, 8))  # the window; the baseline is the four weeks before it


def _outlet_weeks(c, outlet: str, counts: list[int], *, sector="grocery", region="71", tag="") -> None:
    """`counts[k]` complaints about `outlet` in week k (the four baseline weeks, then the window)."""
    windows = windows_for(*WEEK)
    serial = 0
    for (first, _), count in zip(windows, counts):
        for n in range(count):
            at = datetime(first.year, first.month, first.day, 6, 0, tzinfo=UTC) + timedelta(days=n % 7)
            feed(c, (None, filed(f"{outlet}{tag}{serial:05d}", at=at, outlet=outlet, sector=sector, region=region)))
            serial += 1


def test_a_spiking_outlet_ranks_above_a_big_but_steady_one():
    c = box()
    _outlet_weeks(c, "SPIKE", [1, 0, 1, 0, 12])
    _outlet_weeks(c, "BIGONE", [30, 30, 30, 30, 31])
    for name in ("QUIET1", "QUIET2", "QUIET3", "QUIET4"):
        _outlet_weeks(c, name, [2, 2, 2, 2, 2])
    _outlet_weeks(c, "PHARM", [0, 0, 0, 0, 3], sector="pharmacy", region="75")  # another sector: not a peer
    result = hotspots(WEEK[0].isoformat(), WEEK[1].isoformat(), "outlet", c=c)
    ranked = [item["outlet"] for item in result["items"]]
    assert ranked[0] == "SPIKE" and ranked.index("SPIKE") < ranked.index("BIGONE")
    spike = result["items"][0]
    # grocery in the window: 12 + 31 + 4 × 2 = 51 complaints over 6 outlets
    assert spike == {"rank": 1, "outlet": "SPIKE", "sector": "grocery", "region": "71", "current": 12,
                     "baseline": 0.5, "baseline_windows": [1, 0, 1, 0], "peer_expected": 8.5, "sector_current": 51,
                     "peers": 6, "trend": round(13 / 1.5, 3), "peer": round(13 / 9.5, 3),
                     "score": round(13 / 1.5 * 13 / 9.5, 3)}
    big = next(item for item in result["items"] if item["outlet"] == "BIGONE")
    assert (big["current"], big["baseline"], big["trend"]) == (31, 30.0, round(32 / 31, 3))
    pharmacy = next(item for item in result["items"] if item["outlet"] == "PHARM")
    assert (pharmacy["peer_expected"], pharmacy["peers"]) == (3.0, 1)
    assert result["baseline"] == {"windows": 4, "from": "2026-10-05", "to": "2026-11-01"}
    assert (result["current_total"], result["zones"]) == (54, 7)
    assert [item["rank"] for item in result["items"]] == list(range(1, 8))
    assert [item["outlet"] for item in hotspots("2026-11-02", "2026-11-08", "outlet", c=c, limit=2)["items"]] == \
        ranked[:2]


def test_a_zone_without_complaints_in_the_window_is_not_listed():
    c = box()
    _outlet_weeks(c, "GONE", [5, 5, 5, 5, 0])
    _outlet_weeks(c, "HERE", [0, 0, 0, 0, 1])
    assert [item["outlet"] for item in hotspots("2026-11-02", "2026-11-08", "outlet", c=c)["items"]] == ["HERE"]


def test_a_region_is_compared_with_its_sectors_national_share():
    c = box()
    # in the window: 71 grocery 8, 71 pharmacy 2, 75 grocery 2, 75 pharmacy 8 (no history)
    for tag, region, sector, count in (("a", "71", "grocery", 8), ("b", "71", "pharmacy", 2),
                                       ("c", "75", "grocery", 2), ("d", "75", "pharmacy", 8)):
        _outlet_weeks(c, f"O{region}{sector[:3].upper()}", [0, 0, 0, 0, count], sector=sector, region=region,
                      tag=tag)
    items = hotspots("2026-11-02", "2026-11-08", "region", c=c)["items"]
    top = items[0]
    # expected for 71/grocery: grocery 10 × region 71's 10 / national 20 = 5
    assert {k: top[k] for k in ("region", "sector", "current", "peer_expected", "sector_current", "region_current",
                                "national_current", "trend", "peer")} in [
        {"region": r, "sector": s, "current": 8, "peer_expected": 5.0, "sector_current": 10, "region_current": 10,
         "national_current": 20, "trend": 9.0, "peer": 1.5} for r, s in (("71", "grocery"), ("75", "pharmacy"))]
    assert [(i["current"], i["score"]) for i in items] == [(8, 13.5), (8, 13.5), (2, 1.5), (2, 1.5)]


def test_categories_rank_within_their_sector():
    c = box()
    for i in range(6):
        feed(c, (None, filed(f"x{i}", at=datetime(2026, 11, 3, 6, tzinfo=UTC), category="expired_food")))
    feed(c, (None, filed("y0", at=datetime(2026, 11, 3, 6, tzinfo=UTC), category="overcharge")))
    items = hotspots("2026-11-02", "2026-11-08", "category", c=c)["items"]
    assert [(i["category"], i["sector"], i["current"]) for i in items] == [
        ("expired_food", "grocery", 6), ("overcharge", "grocery", 1)]


@pytest.mark.parametrize("level,code", [(None, "missing"), ("business", "enum"), ("", "missing")])
def test_an_unknown_level_is_refused(level, code):
    with pytest.raises(ValidationFailed) as caught:
        hotspots("2026-11-02", "2026-11-08", level, c=box())
    assert caught.value.fields["level"]["code"] == code


def test_the_baseline_reaches_back_four_windows_of_the_same_length():
    assert windows_for(date(2026, 3, 1), date(2026, 3, 1)) == [
        (date(2026, 2, 25), date(2026, 2, 25)), (date(2026, 2, 26), date(2026, 2, 26)),
        (date(2026, 2, 27), date(2026, 2, 27)), (date(2026, 2, 28), date(2026, 2, 28)),
        (date(2026, 3, 1), date(2026, 3, 1))]


# --- on the real stream records moto produced (tests/functional/events/) -----------------------------------
def test_the_recorded_stream_of_a_lifecycle_counts_its_latest_state_forwards_backwards_and_twice():
    import json
    from pathlib import Path

    from chalicelib.streams.processor import Runner
    from chalicelib.streams.records import decode

    path = Path(__file__).resolve().parent.parent / "functional" / "events" / "complaint_lifecycle.json"
    changes = [decode(record) for record in json.loads(path.read_text(encoding="utf-8"))["Records"]]
    latest = {}
    for change in changes:
        latest[change.current.id] = change.current
    expected = {}
    for complaint in latest.values():
        for key, add in _final_counts(complaint).items():
            expected[key] = {name: expected.get(key, {}).get(name, 0) + value for name, value in add.items()}

    for order in (changes, changes[::-1], changes + changes):
        c = box()
        runner = Runner(c)
        for change in order:
            for envelope in runner.envelopes(change):
                if isinstance(envelope.event, ComplaintChanged):
                    apply_change(envelope, c, f"{envelope.event_id}|analytics")
        assert _numbers(c) == expected
    assert sum(add["count"] for key, add in expected.items() if key[0].startswith("d#")) == len(latest)


# --- the console's additions: response-time buckets, districts, registered outlets, cases -------------------
@pytest.mark.parametrize("seconds,bucket", [(0, "d1"), (86400, "d1"), (86401, "d3"), (3 * 86400, "d3"),
                                            (10 * 86400, "d10"), (10 * 86400 + 1, "d21"), (21 * 86400, "d21"),
                                            (21 * 86400 + 1, "more")])
def test_an_answer_falls_in_the_bucket_whose_bound_it_does_not_pass(seconds, bucket):
    assert analytics._bucket(seconds) == bucket


@pytest.mark.parametrize("kato,district", [("711300000", "7113"), ("710000000", None), ("7113", None),
                                           ("71130000x", None), (None, None), ("", None)])
def test_a_district_is_the_first_four_digits_of_a_full_kato_code(kato, district):
    assert analytics.district_of(kato) == district


def test_a_district_of_another_region_than_the_complaints_is_not_counted():
    assert analytics.district_increments(filed(region="71"), "751100000") == []
    day, month = analytics.district_increments(filed(region="71"), "711300000")
    assert (day.key, month.key) == (("k#2026-12", "2026-12-01#7113#grocery"), ("km#2026", "2026-12#7113#grocery"))
    assert day.add == month.add == {"count": 1}


def _outlet(code="TM01", kato="711300000", region="71"):
    from chalicelib.domain.model import Outlet

    return Outlet(code=code, business_bin=BIN, business_name="ТОО", name="n", address="a", region=region,
                  sector="grocery", created_at=CREATED, kato=kato)


def test_an_outlet_is_registered_once_even_after_its_ledger_marker_is_gone():
    c = box()
    assert analytics.record_outlet(_outlet(), c=c) is True
    assert analytics.record_outlet(_outlet(), c=c) is False          # the marker
    c.counters.markers.clear()                                        # 30 days later: the ledger forgot it
    assert analytics.record_outlet(_outlet(), c=c) is False          # the outlet's own guard
    analytics.record_outlet(_outlet("TM02", kato=None), c=c)
    assert analytics.registered_outlets(c.counters) == {("71", "7113"): 1, ("71", "-"): 1}


def test_a_case_item_takes_the_newest_state_and_never_goes_back():
    c = box()
    complaint = filed()
    answered = act(complaint, ANSWERED, SELLER, after=timedelta(hours=3))
    envelope = lambda cur: SimpleNamespace(event=ComplaintChanged(cur.id, cur.updated_at, None, cur))
    assert analytics.apply_case(envelope(answered), c, "m2") is True
    assert analytics.apply_case(envelope(complaint), c, "m1") is None   # the older state, arriving late
    cases = analytics.hotspot_cases("2026-12-01", "2026-12-01", "outlet", {"outlet": "TM01"}, c=c)["cases"]
    assert len(cases) == 1 and cases[0]["status"] == "business_responded" and cases[0]["business_answer_hours"] == 3.0
    assert "text" not in cases[0]
    assert complaint.id not in str(cases)


def test_a_consented_text_is_published_scrubbed():
    consented = replace(filed(), publish_consent=True,
                        text="Кассир Иванов И.И. обсчитал на 650 тенге, звоните +7 701 123 45 67")
    found = analytics.case_attributes(consented)
    assert "650 тенге" in found["text"] and "Иванов" not in found["text"] and "701" not in found["text"]


def test_a_new_complaint_about_an_outlet_with_a_kato_code_counts_in_its_district():
    c = box()
    c.outlets.add(_outlet())
    complaint = filed()
    apply_change(SimpleNamespace(event=ComplaintChanged(complaint.id, complaint.updated_at, None, complaint)), c, "x")
    assert c.counters.get("analytics", ("k#2026-12", "2026-12-01#7113#grocery"))["count"] == 1
    answered = act(complaint, ANSWERED, SELLER, after=timedelta(hours=3))
    apply_change(SimpleNamespace(event=ComplaintChanged(complaint.id, answered.updated_at, complaint, answered)), c, "y")
    assert c.counters.get("analytics", ("k#2026-12", "2026-12-01#7113#grocery"))["count"] == 1  # counted once


def test_the_demo_history_counts_every_complaint_once_in_every_region():
    from chalicelib.bootstrap import Container
    from chalicelib.domain.routing import load_rules
    from local.seed import seed_history
    from tests.fakes import FakeBusinesses, FakeComplaints, FakeContactVault, FakeKeys, FakeRoutingExamples

    c = Container(settings=SimpleNamespace(secret="demo-secret"), catalog=CATALOG, rules=RULES,
                  routing_rules=load_rules(), clock=FixedClock(CREATED), businesses=FakeBusinesses(),
                  outlets=FakeOutlets(), complaints=FakeComplaints(), keys=FakeKeys(), contacts=FakeContactVault(),
                  routing_examples=FakeRoutingExamples(), counters=FakeCounters())
    done = seed_history(c, complaints=400)
    assert done["complaints"] == 400 and done["outlets"] == 67
    result = summary("2026-08-01", "2026-12-01", ["region"], {}, c=c)
    assert result["totals"]["count"] == 400
    assert {g["region"] for g in result["groups"]} == set(CATALOG.regions)
    totals = result["totals"]
    assert sum(totals[o] for o in ("open", "settled", "upheld", "not_confirmed", "rejected")) == 400
