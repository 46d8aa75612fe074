"""Ratings on the fakes: what each complaint transition adds (by state, so order and redelivery do not matter),
quick ratings with their limits and idempotency, review-bombing holds and their release, O(1) reads."""
from __future__ import annotations

import itertools
import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.bootstrap import Container
from chalicelib.domain.calendar import load_deadline_rules
from chalicelib.domain.catalog import load_catalog
from chalicelib.domain.complaint import (
    ComplaintChanged, GiveFeedback, MarkOverdue, Reject, Reroute, Resolve, Respond, TakeInReview, file_complaint,
    transition,
)
from chalicelib.domain.errors import (
    BusinessNotFound, ConcurrentUpdate, IdempotencyKeyReused, LimitReached, OutletNotFound, ValidationFailed,
)
from chalicelib.domain.model import Actor, Business, Outlet
from chalicelib.domain.routing import RoutingDecision, load_rules
from chalicelib.services import ratings
from chalicelib.services.ports import Increment
from chalicelib.settings import get_settings
from chalicelib.streams.processor import Envelope
from tests.fakes import (
    FakeBusinesses, FakeComplaints, FakeContactVault, FakeCounters, FakeKeys, FakeOutlets, FakeRoutingExamples,
    FixedClock,
)

UTC = timezone.utc
RULES = load_deadline_rules()
BIN, OTHER_BIN = "940140000385", "950341000052"
CODE, OTHER_CODE = "T4ZAMRK1", "T4ZAMRK2"
SUBMITTED = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # a Monday, 11:00 in Astana
BUSINESS = Actor("business", BIN, "k0000000000b1")
AGENCY = Actor("agency", "kzpp", "k0000000000a1")
CONSUMER = Actor("consumer")
OUTLET_KEY, BUSINESS_KEY = (f"outlet#{CODE}",), (f"business#{BIN}",)


# --- complaints ---------------------------------------------------------------------------------------------
def _new(*, outlet: str | None = CODE, registered: bool = True, bin: str = BIN):
    routing = RoutingDecision(agency_id="kzpp", method="category", confidence=1.0, version="r1+c1",
                              explanation="category overcharge", matched=())
    complaint, _ = file_complaint(
        complaint_id="c" + "7" * 15, now=SUBMITTED, rules=RULES, routing=routing, identified=True,
        channel="qr", language="ru", text_language="ru", text="Обсчитали на кассе на 2000 тенге, чек не дали.",
        category="overcharge", sector="grocery", region="71", business_bin=bin, business_name="ТОО «Таза»",
        business_registered=registered, outlet_code=outlet, outlet_name="Таза №1" if outlet else None,
        outlet_address="Астана" if outlet else None, contact_ref="ct_ref", share_contact_with_business=False,
        incident_at=None)
    return replace(complaint, version=1)


def _do(complaint, command, actor, *, hours: float = 1):
    now = complaint.updated_at + timedelta(hours=hours)
    changed, _ = transition(complaint, command, actor=actor, now=now, rules=RULES,
                            agencies=frozenset({"kzpp", "ktrm"}))
    return replace(changed, version=complaint.version + 1)


def _added(increments: list[Increment]) -> dict:
    return {inc.key: dict(inc.add) for inc in increments}


ROUTED = _new()
RESPONDED = _do(ROUTED, Respond("Вернём деньги", "refund"), BUSINESS)
LATE = _do(ROUTED, Respond("Вернём деньги", "refund"), BUSINESS, hours=24 * 12)
IN_REVIEW = _do(ROUTED, TakeInReview(), AGENCY)


def test_a_new_complaint_counts_once_for_its_outlet_and_its_business():
    increments = ratings.rating_increments(None, ROUTED)
    assert _added(increments) == {OUTLET_KEY: {"complaints": 1}, BUSINESS_KEY: {"complaints": 1}}
    sets = {inc.key: dict(inc.set) for inc in increments}
    assert sets[OUTLET_KEY] == {"kind": "outlet", "name": "Таза №1", "sector": "grocery", "business_bin": BIN}
    assert sets[BUSINESS_KEY] == {"kind": "business", "name": "ТОО «Таза»", "registered": 1}
    assert all(inc.table == "ratings" and not inc.below for inc in increments)


@pytest.mark.parametrize("name, before, after, delta", [
    ("answer in time", ROUTED, RESPONDED, {"answer_due": 1, "answered_in_time": 1}),
    ("answer after the term", ROUTED, LATE, {"answer_due": 1}),
    ("term missed, no answer", ROUTED, _do(ROUTED, MarkOverdue(as_of=SUBMITTED + timedelta(days=11)), Actor("system")),
     {"answer_due": 1}),
    ("accepted with 4 stars", RESPONDED, _do(RESPONDED, GiveFeedback(True, 4), CONSUMER),
     {"stars_sum": 4, "stars_n": 1, "closed": 1, "settled": 1}),
    ("offer rejected with 2 stars", RESPONDED, _do(RESPONDED, GiveFeedback(False, 2), CONSUMER),
     {"stars_sum": 2, "stars_n": 1}),
    ("violation upheld", IN_REVIEW, _do(IN_REVIEW, Resolve("violation_confirmed", "Штраф"), AGENCY),
     {"closed": 1, "decided": 1, "upheld": 1}),
    ("not confirmed", IN_REVIEW, _do(IN_REVIEW, Resolve("not_confirmed", "Нарушение не подтвердилось"), AGENCY),
     {"closed": 1, "decided": 1}),
    ("settled by the agency's decision: not the consumer's acceptance", IN_REVIEW,
     _do(IN_REVIEW, Resolve("settled", "Урегулировано"), AGENCY), {"closed": 1, "decided": 1}),
    ("left without consideration", ROUTED, _do(ROUTED, Reject("Вне компетенции"), AGENCY), {"closed": 1}),
])
def test_each_transition_adds_its_state_difference(name, before, after, delta):
    assert _added(ratings.rating_increments(before, after)) == {OUTLET_KEY: delta, BUSINESS_KEY: delta}


@pytest.mark.parametrize("name, before, after", [
    ("taken in review", ROUTED, IN_REVIEW),
    ("rerouted", ROUTED, _do(ROUTED, Reroute("ktrm", "Это транспорт"), AGENCY)),
    ("answered late after the overdue flag", _do(ROUTED, MarkOverdue(as_of=SUBMITTED + timedelta(days=11)), Actor("system")),
     None),
])
def test_transitions_that_move_no_counter_give_no_increment(name, before, after):
    if after is None:  # the late answer: answer_due was already 1 (overdue) and it is not in time
        after = _do(before, Respond("Простите", "apology"), BUSINESS, hours=24 * 12)
    assert ratings.rating_increments(before, after) == []


def test_an_answer_at_the_last_second_of_the_term_is_in_time():
    due = ROUTED.business_due_at
    at_due = _do(ROUTED, Respond("Вернём деньги", "refund"), BUSINESS, hours=(due - ROUTED.updated_at).total_seconds() / 3600)
    assert at_due.business_response.at == due
    a_second_late = _do(ROUTED, Respond("Вернём деньги", "refund"), BUSINESS,
                        hours=(due - ROUTED.updated_at).total_seconds() / 3600 + 1 / 3600)
    assert _added(ratings.rating_increments(ROUTED, at_due))[OUTLET_KEY] == {"answer_due": 1, "answered_in_time": 1}
    assert _added(ratings.rating_increments(ROUTED, a_second_late))[OUTLET_KEY] == {"answer_due": 1}


def test_a_complaint_without_a_sticker_counts_for_the_business_only():
    unregistered = _new(outlet=None, registered=False, bin=OTHER_BIN)
    increments = ratings.rating_increments(None, unregistered)
    assert _added(increments) == {(f"business#{OTHER_BIN}",): {"complaints": 1}}
    # a consumer typed that name; nothing marks the BIN as a registered business
    assert dict(increments[0].set) == {"kind": "business"}


def _changes():
    """A complaint's life as its stream records: INSERT, then MODIFYs."""
    states = [None, ROUTED, RESPONDED, _do(RESPONDED, GiveFeedback(True, 5), CONSUMER)]
    return [(f"e{i}|ratings", before, after) for i, (before, after) in enumerate(zip(states, states[1:]))]


def _apply(counters, order):
    for marker, before, after in order:
        increments = ratings.rating_increments(before, after)
        if increments:
            counters.apply_once(marker, increments, at=SUBMITTED)


def test_applying_every_record_once_gives_the_same_totals_in_any_order():
    expected = {"complaints": 1, "answer_due": 1, "answered_in_time": 1, "stars_sum": 5, "stars_n": 1,
                "closed": 1, "settled": 1}
    results = []
    for order in itertools.permutations(_changes()):
        counters = FakeCounters()
        _apply(counters, order)
        results.append(counters.tables["ratings"])
    for tables in results:
        for key in (OUTLET_KEY, BUSINESS_KEY):
            assert {k: v for k, v in tables[key].items() if isinstance(v, int) and k != "registered" and v} == expected


def test_a_modify_that_arrives_before_its_insert_still_counts():
    insert, modify = _changes()[0], _changes()[1]
    counters = FakeCounters()
    _apply(counters, [modify])
    assert counters.tables["ratings"][OUTLET_KEY]["answer_due"] == 1
    _apply(counters, [insert])
    assert counters.tables["ratings"][OUTLET_KEY]["complaints"] == 1


def _container(**overrides) -> Container:
    clock = overrides.pop("clock", None) or FixedClock(datetime(2026, 11, 27, 9, 30, tzinfo=UTC))
    c = Container(settings=get_settings(), catalog=load_catalog(), rules=RULES, routing_rules=load_rules(),
                  clock=clock, businesses=FakeBusinesses(), outlets=FakeOutlets(), complaints=FakeComplaints(),
                  keys=FakeKeys(), contacts=FakeContactVault(), routing_examples=FakeRoutingExamples(),
                  counters=FakeCounters())
    created = datetime(2026, 1, 1, tzinfo=UTC)
    c.businesses.add(Business(bin=BIN, kind="bin", name="ТОО «Таза»", region="71", created_at=created))
    for code in (CODE, OTHER_CODE):
        c.outlets.add(Outlet(code=code, business_bin=BIN, business_name="ТОО «Таза»", name=f"Таза {code}",
                             address="Астана", region="71", sector="grocery", created_at=created))
    return c


def _envelope(before, after, event_id="rec-1#0"):
    event = ComplaintChanged(after.id, after.updated_at, before, after)
    return Envelope(event_id=event_id, event=event, complaint=after, previous=before)


def test_apply_change_counts_a_redelivered_record_once():
    c = _container()
    assert ratings.apply_change(_envelope(ROUTED, RESPONDED), c, "rec-1#0|ratings") is True
    once = json.dumps(c.counters.tables["ratings"][OUTLET_KEY], sort_keys=True)
    assert ratings.apply_change(_envelope(ROUTED, RESPONDED), c, "rec-1#0|ratings") is False
    assert json.dumps(c.counters.tables["ratings"][OUTLET_KEY], sort_keys=True) == once
    assert c.counters.tables["ratings"][OUTLET_KEY]["answered_in_time"] == 1


def test_apply_change_writes_nothing_when_nothing_moves():
    c = _container()
    assert ratings.apply_change(_envelope(ROUTED, IN_REVIEW), c, "rec-2#0|ratings") is None
    assert c.counters.markers == set() and c.counters.tables["ratings"] == {}


# --- reads --------------------------------------------------------------------------------------------------
class CountingCounters(FakeCounters):
    def __init__(self):
        super().__init__()
        self.gets = 0

    def get(self, table, key, *, consistent=False):
        self.gets += 1
        return super().get(table, key, consistent=consistent)


@pytest.mark.parametrize("complaints", [10, 1000])
def test_a_read_is_one_get_whatever_the_number_of_complaints(complaints):
    c = _container()
    c.counters = CountingCounters()
    c.counters.tables["ratings"][OUTLET_KEY] = {"complaints": complaints, "closed": complaints,
                                                "settled": complaints // 2}
    shown = ratings.rating_for("outlet", CODE, c=c)
    assert c.counters.gets == 1
    assert (shown["subject"], shown["code"], shown["count"], shown["published"]) == ("outlet", CODE, complaints, True)
    assert shown["components"]["settled"] == {"share": 0.5, "count": complaints}


def test_public_rating_knows_unknown_subjects_from_unrated_ones():
    c = _container()
    assert ratings.public_rating("outlet", CODE, c=c)["count"] == 0  # registered, nothing yet
    assert ratings.public_rating("business", BIN, c=c)["bin"] == BIN
    with pytest.raises(OutletNotFound):
        ratings.public_rating("outlet", "ZZZZZZZZ", c=c)
    with pytest.raises(BusinessNotFound):
        ratings.public_rating("business", OTHER_BIN, c=c)
    # complaints named an unregistered BIN: its counters exist, but it is still not a known business
    _apply(c.counters, [("x|ratings", None, _new(outlet=None, registered=False, bin=OTHER_BIN))])
    with pytest.raises(BusinessNotFound):
        ratings.public_rating("business", OTHER_BIN, c=c)


# --- quick ratings ------------------------------------------------------------------------------------------
def _rate(c, stars=5, *, device=None, ip=None, key=None, code=CODE, comment=None, n=[0]):
    n[0] += 1
    return ratings.submit_quick_rating(code, stars, comment, device if device is not None else f"device-{n[0]:010d}",
                                       ip if ip is not None else f"10.0.{n[0] // 250}.{n[0] % 250}", key, c=c)


def test_a_quick_rating_counts_on_the_outlet_and_its_business():
    c = _container()
    result = _rate(c, 4)
    assert (result.held, result.replayed) == (False, False)
    assert result.rating["components"]["stars"] == {"average": None, "count": 1}  # 1 < MIN_COUNT: withheld
    assert result.rating["count"] == 1
    for key in (OUTLET_KEY, BUSINESS_KEY):
        item = c.counters.tables["ratings"][key]
        assert (item["stars_sum"], item["stars_n"], item["quick_n"]) == (4, 1, 1)
    assert result.rating == ratings.rating_for("outlet", CODE, c=c)


@pytest.mark.parametrize("stars", [0, 6, True, 4.5])
def test_stars_outside_one_to_five_are_refused(stars):
    with pytest.raises(ValidationFailed) as err:
        _rate(_container(), stars)
    assert err.value.fields["stars"]["code"] == "invalid_stars"


def test_only_active_outlets_take_ratings():
    c = _container()
    c.outlets.set_status(CODE, "suspended")
    with pytest.raises(OutletNotFound):
        _rate(c)
    with pytest.raises(OutletNotFound):
        _rate(c, code="ZZZZZZZZ")
    assert c.counters.tables["ratings"] == {}


def test_one_rating_per_device_per_outlet_per_local_day():
    # 18:59 UTC is 23:59 in Astana (UTC+5): the next rating at 19:00 UTC is on the next local day
    c = _container(clock=FixedClock(datetime(2026, 11, 27, 18, 59, tzinfo=UTC)))
    _rate(c, device="phone-aaaaaaaaaaaa")
    with pytest.raises(LimitReached):
        _rate(c, device="phone-aaaaaaaaaaaa")
    _rate(c, device="phone-aaaaaaaaaaaa", code=OTHER_CODE)  # another outlet is another question
    c.clock.advance(minutes=1)
    _rate(c, device="phone-aaaaaaaaaaaa")
    assert c.counters.tables["ratings"][OUTLET_KEY]["stars_n"] == 2


def test_at_most_three_per_address_per_outlet_per_day():
    c = _container()
    for _ in range(3):
        _rate(c, ip="203.0.113.7")
    with pytest.raises(LimitReached):
        _rate(c, ip="203.0.113.7")
    _rate(c, ip="203.0.113.8")
    _rate(c, ip="203.0.113.7", code=OTHER_CODE)
    assert c.counters.tables["ratings"][OUTLET_KEY]["stars_n"] == 4


def test_a_refused_rating_changes_nothing():
    c = _container()
    _rate(c, device="phone-aaaaaaaaaaaa")
    before = _dump(c.counters)
    with pytest.raises(LimitReached):
        _rate(c, device="phone-aaaaaaaaaaaa")
    assert _dump(c.counters) == before


def test_devices_addresses_and_comments_are_stored_nowhere():
    c = _container()
    _rate(c, 2, device="phone-secret-id-123456", ip="198.51.100.23", key="key-1", comment="Кассир +77011234567 грубил")
    stored = _dump(c.counters) + json.dumps(sorted(c.counters.markers))
    for secret in ("phone-secret-id-123456", "198.51.100.23", "77011234567", "грубил", "key-1"):
        assert secret not in stored
    guards = [item for key, item in c.counters.tables["ratings"].items() if key[0].startswith("guard#")]
    assert len(guards) == 2
    # personal data for two days at most
    assert {g["expires_at"] for g in guards} == {int((c.clock.now() + timedelta(days=2)).timestamp())}


def test_the_same_idempotency_key_answers_the_same_and_counts_once():
    c = _container()
    first = _rate(c, 3, device="phone-aaaaaaaaaaaa", key="k-1")
    again = _rate(c, 3, device="phone-aaaaaaaaaaaa", key="k-1")  # even from another address
    assert (again.held, again.rating, again.replayed) == (first.held, first.rating, True)
    assert c.counters.tables["ratings"][OUTLET_KEY]["stars_n"] == 1
    with pytest.raises(IdempotencyKeyReused) as err:
        _rate(c, 4, device="phone-aaaaaaaaaaaa", key="k-1")
    assert "Idempotency-Key" in err.value.fields


def test_a_replay_that_lost_the_race_answers_from_the_first_request():
    """The first request's write lands between the replay's look and its write: the ledger refuses the second
    write and the replay answers from what the first stored."""
    c = _container()
    _rate(c, 5, device="phone-aaaaaaaaaaaa", key="k-2")
    stored_idem = {k: v for k, v in c.counters.tables["ratings"].items() if k[0].startswith("idem#")}
    c.counters.tables["ratings"] = {k: v for k, v in c.counters.tables["ratings"].items() if k not in stored_idem}
    real_apply = c.counters.apply_once

    def racing(marker, increments, *, at):
        c.counters.tables["ratings"].update(stored_idem)  # the first request's record becomes visible now
        return real_apply(marker, increments, at=at)

    c.counters.apply_once = racing
    again = _rate(c, 5, device="phone-aaaaaaaaaaaa", key="k-2")
    assert again.replayed and c.counters.tables["ratings"][OUTLET_KEY]["stars_n"] == 1


# --- review-bombing ----------------------------------------------------------------------------------------
def _dump(counters) -> str:
    """Everything the fake store holds, as text (keys are tuples)."""
    return json.dumps({table: {"|".join(key): item for key, item in items.items()}
                       for table, items in counters.tables.items()}, sort_keys=True, ensure_ascii=False, default=str)


def _item(c, key=OUTLET_KEY):
    return c.counters.tables["ratings"].get(key, {})


def test_a_burst_flags_the_outlet_and_holds_the_whole_hour():
    c = _container()
    for _ in range(9):
        assert _rate(c, 5).held is False
    assert not _item(c).get("flagged")
    tenth = _rate(c, 1)
    assert tenth.held is True
    item = _item(c)
    assert item["flagged"] == 1 and item["flagged_at"].startswith("2026-11-27T09:30")
    # the nine published earlier this hour are moved out with it, on the outlet and on its business
    for key in (OUTLET_KEY, BUSINESS_KEY):
        assert (_item(c, key)["stars_n"], _item(c, key)["quick_n"]) == (0, 0)
        assert (_item(c, key)["held_n"], _item(c, key)["held_sum"]) == (10, 46)
    assert tenth.rating["held"] == 10 and tenth.rating["reason"] == "held_for_review"
    c.clock.advance(hours=3)  # flagged until an admin looks, whatever the hour
    assert _rate(c, 5).held is True
    assert _item(c)["held_n"] == 11


def test_a_flag_holds_new_ratings_for_a_day_then_only_the_bursts_own_wait_for_the_admin():
    c = _container()
    for _ in range(10):
        _rate(c, 1)
    c.clock.advance(hours=23)
    assert _rate(c, 5).held is True          # still within the hold
    c.clock.advance(hours=2)
    later = _rate(c, 5)
    assert later.held is False               # a bought burst cannot freeze genuine ratings for ever
    item = _item(c)
    assert (item["held_n"], item["stars_n"], item["flagged"]) == (11, 1, 1)  # the burst still waits
    assert ratings.release_held(CODE, "discard", c=c, by="k-admin")["released"] == 11
    assert (_item(c)["stars_n"], _item(c)["held_n"]) == (1, 0)


def test_the_baseline_is_the_outlets_own_history():
    c = _container()  # the outlet has existed since 1 January: ~7,900 hours
    hours = (c.clock.now().replace(minute=0) - datetime(2026, 1, 1, tzinfo=UTC)).total_seconds() / 3600
    c.counters.tables["ratings"][OUTLET_KEY] = {"quick_total": int(hours * 4)}  # four an hour on average
    for _ in range(19):
        assert _rate(c).held is False  # a busy outlet: 10 an hour is normal, 20 (5x) is not
    assert _rate(c).held is True


def test_a_release_publishes_the_held_ratings_exactly_once():
    c = _container()
    for _ in range(10):
        _rate(c, 5)
    business_before = dict(_item(c, BUSINESS_KEY))
    result = ratings.release_held(CODE, "publish", c=c, by="k-admin")
    assert result["released"] == 10 and result["rating"]["held"] == 0
    item = _item(c)
    assert (item["stars_n"], item["stars_sum"], item["quick_n"], item["held_n"], item["flagged"]) == (10, 50, 10, 0, 0)
    assert item["released_by"] == "k-admin" and item["release_decision"] == "publish"
    assert (_item(c, BUSINESS_KEY)["stars_n"], _item(c, BUSINESS_KEY)["held_n"]) == (10, 0)
    assert business_before["held_n"] == 10
    assert result["rating"]["published"] is True and result["rating"]["components"]["stars"]["average"] == 5.0
    again = ratings.release_held(CODE, "publish", c=c, by="k-admin")
    assert again["released"] == 0 and _item(c)["stars_n"] == 10
    # the admin saw this hour: more ratings in the same hour are published, not flagged again
    assert _rate(c, 4).held is False
    c.clock.advance(hours=1)
    for _ in range(9):
        _rate(c, 1)
    assert _rate(c, 1).held is True  # a new hour, a new burst


def test_a_release_can_discard_the_held_ratings():
    c = _container()
    _rate(c, 4)
    for _ in range(11):  # the 10th of the hour flags: all 12 are held
        _rate(c, 1)
    result = ratings.release_held(CODE, "discard", c=c, by="k-admin")
    assert result["released"] == 12
    item = _item(c)
    assert (item["stars_n"], item["held_n"], item["quick_discarded"], item["flagged"]) == (0, 0, 12, 0)
    assert (_item(c, BUSINESS_KEY)["stars_n"], _item(c, BUSINESS_KEY)["held_n"]) == (0, 0)
    assert result["rating"]["count"] == 0


def test_release_needs_a_known_outlet_and_a_decision():
    c = _container()
    with pytest.raises(OutletNotFound):
        ratings.release_held("ZZZZZZZZ", "publish", c=c, by="k")
    with pytest.raises(ValidationFailed):
        ratings.release_held(CODE, "keep", c=c, by="k")
    assert ratings.release_held(CODE, "publish", c=c, by="k")["released"] == 0  # nothing held: nothing moves
    assert c.counters.markers == set()


def test_a_rating_decided_on_a_stale_review_state_is_decided_again():
    """Another request's burst flags the outlet between this request's look and its write: the write is
    refused (review_version moved) and the rating is decided again, on the flagged state: held."""
    c = _container()
    real_apply = c.counters.apply_once
    moved = []

    def flag_first(marker, increments, *, at):
        if not moved:
            moved.append(True)
            real_apply("someone-else", [Increment("ratings", OUTLET_KEY, add={"review_version": 1},
                                                  set={"flagged": 1, "flagged_at": "2026-11-27T09:00:00"})], at=at)
        return real_apply(marker, increments, at=at)

    c.counters.apply_once = flag_first
    assert _rate(c, 5).held is True
    assert (_item(c)["held_n"], _item(c).get("stars_n", 0)) == (1, 0)


def test_a_release_racing_a_new_held_rating_moves_it_too():
    c = _container()
    for _ in range(10):
        _rate(c, 2)
    real_apply = c.counters.apply_once
    late = []

    def one_more_first(marker, increments, *, at):
        if marker.startswith("release#") and not late:
            late.append(True)
            c.counters.apply_once = real_apply
            _rate(c, 2)  # held: lands after the release looked
            c.counters.apply_once = one_more_first
        return real_apply(marker, increments, at=at)

    c.counters.apply_once = one_more_first
    assert ratings.release_held(CODE, "publish", c=c, by="k")["released"] == 11
    assert (_item(c)["held_n"], _item(c)["stars_n"]) == (0, 11)


def test_a_state_that_never_settles_gives_up_with_a_conflict():
    c = _container()

    def always_moved(marker, increments, *, at):
        raise LimitReached("moved")

    c.counters.apply_once = always_moved
    with pytest.raises(ConcurrentUpdate):
        _rate(c, device="phone-aaaaaaaaaaaa")


def test_a_colliding_transaction_is_tried_again_and_counts_once():
    """Concurrent transactions on one outlet's items are refused (ConcurrentUpdate from the store): the
    rating is decided and written again, once."""
    c = _container()
    real_apply, collided = c.counters.apply_once, []

    def collide_once(marker, increments, *, at):
        if not collided:
            collided.append(marker)
            raise ConcurrentUpdate("transaction conflict")
        return real_apply(marker, increments, at=at)

    c.counters.apply_once = collide_once
    assert _rate(c, 5, key="k-3").held is False
    assert _item(c)["stars_n"] == 1 and len(collided) == 1


@pytest.mark.parametrize("raw,network", [
    ("203.0.113.7", "203.0.113.7"),
    ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
    ("2001:db8:1:3::1", "2001:db8:1:3::/64"),
    ("::ffff:203.0.113.7", "203.0.113.7"),
    ("not-an-ip", "not-an-ip"),
])
def test_one_address_for_the_limit_is_an_ipv4_address_or_an_ipv6_64(raw, network):
    from chalicelib.services.ratings import address_network

    assert address_network(raw) == network
