"""One contract, two implementations: the in-memory fakes and pynamodb on moto must behave alike.

Every test takes `repos` and runs twice: against tests/fakes.py and against the DynamoDB adapters on moto.
Where moto is more lenient than DynamoDB, the moto run is made as strict as DynamoDB (see
`enforce_between_bounds`), so a query that real DynamoDB would refuse fails here too.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.calendar import load_deadline_rules
from chalicelib.domain.errors import AlreadyExists, ConcurrentUpdate
from chalicelib.domain.model import (
    ApiKey, Business, BusinessResponse, Complaint, Contact, Feedback, Flags, Outlet, Resolution, RoutingExample,
    Status, TimelineEntry, change_key,
)
from chalicelib.domain.routing import RoutingDecision
from tests.fakes import (
    FakeBusinesses, FakeComplaints, FakeContactVault, FakeKeys, FakeOutlets, FakeRoutingExamples,
)

UTC = timezone.utc
NOW = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
RULES = load_deadline_rules()
BIN_A, BIN_B = "940140000385", "950341000052"


def enforce_between_bounds(monkeypatch) -> None:
    """Make moto refuse `BETWEEN lo AND hi` with lo > hi, as DynamoDB does ("ValidationException: Invalid
    KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower
    bound"). moto answers such a query with no items, which hides a request that fails in AWS."""
    from moto.dynamodb import responses
    from moto.dynamodb.exceptions import MockValidationException

    original = responses.parse_expression

    def strict(*args, **kwargs):
        hash_conditions, range_conditions, names = original(*args, **kwargs)
        for _, comparison, values in range_conditions:
            if comparison == "BETWEEN" and len(values) == 2:
                (low_type, low), (_, high) = next(iter(values[0].items())), next(iter(values[1].items()))
                low, high = (float(low), float(high)) if low_type == "N" else (low, high)
                if low > high:
                    raise MockValidationException(
                        "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater "
                        "than or equal to lower bound")
        return hash_conditions, range_conditions, names

    monkeypatch.setattr(responses, "parse_expression", strict)


@dataclass
class Repos:
    businesses: object
    outlets: object
    complaints: object
    contacts: object
    keys: object
    examples: object


@pytest.fixture(params=["fake", "dynamodb"])
def repos(request, monkeypatch):
    if request.param == "fake":
        yield Repos(FakeBusinesses(), FakeOutlets(), FakeComplaints(), FakeContactVault(), FakeKeys(),
                    FakeRoutingExamples())
    else:
        request.getfixturevalue("aws")
        enforce_between_bounds(monkeypatch)
        from chalicelib.adapters.repositories import (
            DynamoApiKeys, DynamoBusinesses, DynamoComplaints, DynamoContactVault, DynamoOutlets,
            DynamoRoutingExamples,
        )

        yield Repos(DynamoBusinesses(), DynamoOutlets(), DynamoComplaints(), DynamoContactVault(), DynamoApiKeys(),
                    DynamoRoutingExamples())


# --- businesses and outlets ---------------------------------------------------------------------------------
def _outlet(code, bin=BIN_A, status="active"):
    return Outlet(code=code, business_bin=bin, business_name="ТОО «Таза»", name=f"Shop {code}", address="Астана",
                  region="71", sector="grocery", created_at=NOW, status=status, external_ref=code.lower())


def test_added_business_reads_back_equal_and_cannot_be_added_twice(repos):
    business = Business(bin=BIN_A, kind="bin", name="ТОО «Таза»", region="71", created_at=NOW, created_by="kadmin")
    repos.businesses.add(business)
    assert repos.businesses.get(BIN_A) == business
    with pytest.raises(AlreadyExists):
        repos.businesses.add(replace(business, name="other"))
    assert repos.businesses.get(BIN_A).name == "ТОО «Таза»"
    assert repos.businesses.get(BIN_B) is None


def test_outlets_read_back_and_list_by_business_in_pages(repos):
    outlets = repos.outlets
    codes = ["0000000A", "1111111B", "2222222C", "3333333D", "4444444E"]
    for code in codes:
        outlets.add(_outlet(code))
    outlets.add(_outlet("5555555F", bin=BIN_B))
    assert outlets.get("2222222C") == _outlet("2222222C")
    assert outlets.get("2222222C", consistent=True) == _outlet("2222222C")
    with pytest.raises(AlreadyExists):
        outlets.add(_outlet("2222222C"))
    seen, cursor, pages = [], None, 0
    while True:
        page, cursor = outlets.list_by_business(BIN_A, limit=2, cursor=cursor)
        seen += [o.code for o in page]
        pages += 1
        if not cursor:
            break
    assert sorted(seen) == codes and pages == 3
    with pytest.raises(ValueError):
        outlets.list_by_business(BIN_A, cursor="not-a-cursor")


def test_set_status_changes_an_existing_outlet_only(repos):
    outlets = repos.outlets
    outlets.add(_outlet("0000000A"))
    suspended = outlets.set_status("0000000A", "suspended", by="kadmin")
    assert suspended == replace(_outlet("0000000A"), status="suspended", status_by="kadmin")
    assert outlets.get("0000000A").status == "suspended" and not outlets.get("0000000A").active
    assert outlets.get("0000000A").status_by == "kadmin"
    assert outlets.set_status("1111111B", "suspended") is None
    assert outlets.get("1111111B") is None


# --- complaints ---------------------------------------------------------------------------------------------
def _complaint(n: int, *, at: datetime | None = None, agency: str = "kzpp", region: str = "71", bin: str = BIN_A,
               status: Status = Status.ROUTED, kind: str = "appeal", **changes) -> Complaint:
    """Complaint number `n`, last changed at `at` (default: n seconds after NOW)."""
    created = NOW
    at = at or NOW + timedelta(seconds=n)
    return replace(Complaint(
        id=f"c{n:015d}", created_at=created, updated_at=at, status=status, kind=kind, channel="qr",
        language="ru", text_language="ru", text=f"Жалоба номер {n}: обсчитали на кассе.", category="overcharge",
        sector="grocery", region=region, business_bin=bin, business_name="ТОО «Таза»", business_registered=True,
        outlet_code="0000000A", outlet_name="Таза №1", outlet_address="Астана, Мәңгілік Ел 37",
        contact_ref=None, identified=kind == "appeal", share_contact_with_business=False, incident_at=None,
        routing=RoutingDecision(agency_id=agency, method="category", confidence=1.0, version="r1+c1",
                                explanation="category overcharge", matched=()),
        agency_id=agency, business_due_at=RULES.business_due(created),
        agency_due_at=RULES.agency_due(created) if kind == "appeal" else None,
        timeline=(TimelineEntry(at=created, type="submitted", actor="consumer"),
                  TimelineEntry(at=created, type="routed", actor="system", agency_id=agency, note="category 1.00",
                                to_status="routed")),
        fingerprint="f" * 64,
    ), **changes)


def _full(n: int) -> Complaint:
    """A complaint with every optional part filled, to prove nothing is lost on the way to storage."""
    at = NOW + timedelta(days=2, microseconds=123456)
    return _complaint(
        n, at=at, status=Status.RESOLVED, contact_ref="ct_" + "a" * 32, share_contact_with_business=True,
        incident_at=NOW - timedelta(days=1, microseconds=7),
        routing=RoutingDecision(agency_id="kzpp", method="rules", confidence=0.73, version="r7+c3",
                                explanation="phrase rules: обсчитали", matched=("overcharge.ru", "till.ru")),
        business_response=BusinessResponse(message="Вернём 2000 ₸", offer="refund", at=NOW + timedelta(hours=3),
                                           key_id="kb0000000001"),
        feedback=Feedback(accepted=False, stars=2, at=NOW + timedelta(hours=5), comment="Не вернули"),
        resolution=Resolution(status=Status.RESOLVED, at=at, decision="violation_confirmed", text="Оштрафован."),
        flags=Flags(business_overdue=True, agency_overdue=True),
        timeline=(TimelineEntry(at=NOW, type="submitted", actor="consumer"),
                  TimelineEntry(at=at, type="resolved", actor="agency:kzpp", agency_id="kzpp",
                                note="violation_confirmed", key_id="ka0000000001", from_status="in_review",
                                to_status="resolved")),
    )


def test_a_new_complaint_is_stored_as_version_one_and_reads_back_equal(repos):
    for complaint in (_full(1), _complaint(2, kind="signal", outlet_code=None, outlet_name=None,
                                           outlet_address=None, business_registered=False)):
        stored = repos.complaints.save(complaint)
        assert stored == replace(complaint, version=1)
        assert repos.complaints.get(complaint.id) == stored
        assert repos.complaints.get(complaint.id, consistent=True) == stored
    assert repos.complaints.get("c" + "9" * 15) is None


def test_a_second_new_complaint_with_the_same_id_is_already_exists_and_changes_nothing(repos):
    first = repos.complaints.save(_complaint(1))
    with pytest.raises(AlreadyExists):
        repos.complaints.save(_complaint(1, text="Другой текст, тот же идентификатор."))
    assert repos.complaints.get(first.id) == first


def test_a_save_with_the_stored_version_updates_and_bumps_the_version(repos):
    v1 = repos.complaints.save(_complaint(1))
    v2 = repos.complaints.save(replace(v1, status=Status.IN_REVIEW, updated_at=v1.updated_at + timedelta(minutes=1)))
    assert v2.version == 2 and v2.status is Status.IN_REVIEW
    assert repos.complaints.get(v1.id) == v2
    v3 = repos.complaints.save(replace(v2, flags=Flags(business_overdue=True)))
    assert v3.version == 3 and repos.complaints.get(v1.id).flags.business_overdue


def test_a_save_with_a_stale_version_is_a_concurrent_update_and_changes_nothing(repos):
    v1 = repos.complaints.save(_complaint(1))
    v2 = repos.complaints.save(replace(v1, status=Status.IN_REVIEW))
    # GIVEN someone read version 1 before version 2 was stored WHEN they save THEN they lose the race
    with pytest.raises(ConcurrentUpdate):
        repos.complaints.save(replace(v1, status=Status.REJECTED))
    assert repos.complaints.get(v1.id) == v2
    # AND an update of a complaint that was never stored is no silent insert
    with pytest.raises(ConcurrentUpdate):
        repos.complaints.save(replace(_complaint(2), version=4))
    assert repos.complaints.get(_complaint(2).id) is None


def _ids(rows):
    return [c.id for c in rows]


@pytest.fixture
def queue(repos):
    """Seven complaints across two agencies, two regions and two businesses, changed one second apart."""
    rows = [
        _complaint(1, agency="kzpp", region="71", bin=BIN_A),
        _complaint(2, agency="kzpp", region="75", bin=BIN_B),
        _complaint(3, agency="ktrm", region="71", bin=BIN_A),
        _complaint(4, agency="kzpp", region="71", bin=BIN_B, status=Status.SETTLED),
        _complaint(5, agency="kzpp", region="75", bin=BIN_A, status=Status.IN_REVIEW),
        _complaint(6, agency="kzpp", region="71", bin=BIN_A, status=Status.REJECTED),
        _complaint(7, agency="kzpp", region="75", bin=BIN_A),
    ]
    for row in rows:
        repos.complaints.save(row)
    return {c.id[-1]: c for c in rows}


FAR = (NOW + timedelta(days=365)).isoformat(timespec="microseconds") + "#~"


def test_changes_come_in_change_order_per_queue_kind(repos, queue):
    changes = repos.complaints.changes
    n = lambda *digits: [queue[d].id for d in digits]  # noqa: E731
    assert _ids(changes("agency", "kzpp", after=None, until=FAR, limit=50)) == n("1", "2", "4", "5", "6", "7")
    assert _ids(changes("agency", "ktrm", after=None, until=FAR, limit=50)) == n("3")
    assert _ids(changes("agency_region", "kzpp#75", after=None, until=FAR, limit=50)) == n("2", "5", "7")
    assert _ids(changes("agency_region", "ktrm#75", after=None, until=FAR, limit=50)) == []
    assert _ids(changes("business", BIN_A, after=None, until=FAR, limit=50)) == n("1", "3", "5", "6", "7")
    assert _ids(changes("agency", "police", after=None, until=FAR, limit=50)) == []
    # AND what comes back is the stored complaint, version and all
    assert changes("business", BIN_B, after=None, until=FAR, limit=1) == [replace(queue["2"], version=1)]


def test_changes_are_strictly_after_the_cursor_up_to_and_including_until_and_at_most_limit(repos, queue):
    changes = repos.complaints.changes
    after, until = change_key(queue["2"]), change_key(queue["6"])
    assert _ids(changes("agency", "kzpp", after=after, until=until, limit=50)) == [queue[d].id for d in "456"]
    assert _ids(changes("agency", "kzpp", after=after, until=until, limit=2)) == [queue[d].id for d in "45"]
    assert _ids(changes("agency", "kzpp", after=change_key(queue["7"]), until=FAR, limit=50)) == []
    # An `until` just before an item's change key leaves it out: the poller's settle horizon relies on it
    horizon = (queue["5"].updated_at - timedelta(microseconds=1)).isoformat(timespec="microseconds") + "#~"
    assert _ids(changes("agency", "kzpp", after=None, until=horizon, limit=50)) == [queue[d].id for d in "124"]


def test_changes_with_a_cursor_past_the_horizon_are_empty_not_an_error(repos, queue):
    # GIVEN a cursor given out by a poller whose clock ran ahead (another Lambda's clock, a longer settle lag)
    after = change_key(queue["6"])
    until = (queue["6"].updated_at - timedelta(seconds=2)).isoformat(timespec="microseconds") + "#~"
    # WHEN this poller's horizon is earlier than the cursor THEN there is nothing new yet, and no error
    assert repos.complaints.changes("agency", "kzpp", after=after, until=until, limit=50) == []


def test_changes_filtered_by_status_fill_the_limit_with_matches(repos, queue):
    changes = repos.complaints.changes
    open_ = frozenset({"routed", "business_responded", "in_review"})
    assert _ids(changes("agency", "kzpp", after=None, until=FAR, limit=50, statuses=open_)) == \
        [queue[d].id for d in "1257"]
    assert _ids(changes("agency", "kzpp", after=None, until=FAR, limit=50, statuses=frozenset({"settled"}))) == \
        [queue["4"].id]
    assert _ids(changes("agency", "kzpp", after=change_key(queue["2"]), until=FAR, limit=1, statuses=open_)) == \
        [queue["5"].id]


def test_a_status_filter_reads_past_a_full_page_of_non_matching_complaints(repos):
    # GIVEN 30 closed complaints, then 2 open ones: more non-matches than one DynamoDB page of the query
    for n in range(1, 31):
        repos.complaints.save(_complaint(n, status=Status.RESOLVED))
    for n in (31, 32):
        repos.complaints.save(_complaint(n))
    found = repos.complaints.changes("agency", "kzpp", after=None, until=FAR, limit=2,
                                     statuses=frozenset({"routed"}))
    assert _ids(found) == [_complaint(31).id, _complaint(32).id]


def test_an_updated_complaint_moves_to_its_last_change_and_appears_once(repos, queue):
    moved = repos.complaints.save(replace(queue["1"], version=1, status=Status.IN_REVIEW,
                                          updated_at=NOW + timedelta(minutes=5)))
    rows = repos.complaints.changes("agency", "kzpp", after=None, until=FAR, limit=50)
    assert _ids(rows) == [queue[d].id for d in "24567"] + [moved.id]
    assert rows[-1] == moved and _ids(rows).count(moved.id) == 1
    region = repos.complaints.changes("agency_region", "kzpp#71", after=change_key(queue["6"]), until=FAR, limit=50)
    assert region == [moved]


def test_a_rerouted_complaint_leaves_the_old_agencys_queue(repos, queue):
    moved = repos.complaints.save(replace(queue["1"], version=1, agency_id="ktrm",
                                          updated_at=NOW + timedelta(minutes=5)))
    assert moved.id not in _ids(repos.complaints.changes("agency", "kzpp", after=None, until=FAR, limit=50))
    assert moved.id not in _ids(repos.complaints.changes("agency_region", "kzpp#71", after=None, until=FAR, limit=50))
    assert _ids(repos.complaints.changes("agency", "ktrm", after=None, until=FAR, limit=50)) == \
        [queue["3"].id, moved.id]


def test_due_before_lists_open_complaints_with_a_watched_deadline_earliest_first(repos):
    # GIVEN an appeal and a signal submitted a day apart, an answered signal, a flagged appeal, a closed case
    later = NOW + timedelta(days=1)
    appeal = _complaint(1)
    signal = _complaint(2, kind="signal", created_at=later, business_due_at=RULES.business_due(later))
    answered = _complaint(3, kind="signal", business_response=BusinessResponse("Ок", "apology", NOW))
    flagged = _complaint(4, flags=Flags(business_overdue=True))   # only the agency's term is left
    closed = _complaint(5, status=Status.RESOLVED)
    for c in (signal, closed, flagged, answered, appeal):
        repos.complaints.save(c)
    assert answered.next_due_at is None and closed.next_due_at is None
    far = NOW + timedelta(days=400)
    found = list(repos.complaints.due_before(far))
    assert _ids(found) == [appeal.id, signal.id, flagged.id]
    assert [c.next_due_at for c in found] == [appeal.business_due_at, signal.business_due_at, flagged.agency_due_at]
    # WHEN the moment is exactly a deadline THEN that deadline is not before it
    assert _ids(repos.complaints.due_before(appeal.business_due_at)) == []
    assert _ids(repos.complaints.due_before(appeal.business_due_at + timedelta(seconds=1))) == [appeal.id]


def test_due_before_a_moment_with_a_fraction_of_a_second_includes_a_deadline_just_passed(repos):
    # The scheduled sweep passes the clock's own time, microseconds and all.
    appeal = repos.complaints.save(_complaint(1))
    moment = appeal.business_due_at + timedelta(milliseconds=500)
    assert _ids(repos.complaints.due_before(moment)) == [appeal.id]


def test_a_flagged_or_closed_complaint_leaves_the_deadline_index(repos):
    stored = repos.complaints.save(_complaint(1))
    far = NOW + timedelta(days=400)
    flagged = repos.complaints.save(replace(stored, flags=Flags(business_overdue=True, agency_overdue=True)))
    assert list(repos.complaints.due_before(far)) == []
    reopened = repos.complaints.save(replace(flagged, flags=Flags(business_overdue=True)))
    assert _ids(repos.complaints.due_before(far)) == [stored.id]
    repos.complaints.save(replace(reopened, status=Status.SETTLED))
    assert list(repos.complaints.due_before(far)) == []


# --- the contact vault --------------------------------------------------------------------------------------
def test_the_vault_keeps_a_contact_under_its_reference_and_a_retry_overwrites_it(repos):
    vault = repos.contacts
    contact = Contact(name="Айгүл Сейітова", phone="+77011234567", email="aigul@example.kz")
    vault.put("ct_1", contact, at=NOW)
    vault.put("ct_2", Contact(phone="+77021234567"), at=NOW)
    assert vault.get("ct_1") == contact
    assert vault.get("ct_2") == Contact(name=None, phone="+77021234567", email=None)
    vault.put("ct_1", contact, at=NOW + timedelta(seconds=3))
    assert vault.get("ct_1") == contact
    assert vault.get("ct_3") is None


# --- API keys -----------------------------------------------------------------------------------------------
def _key(key_id="k0123456789ab", **changes):
    return replace(ApiKey(key_id=key_id, key_hash="ab" * 32, role="agency", label="КЗПП Алматы", created_at=NOW,
                          agency_id="kzpp", regions=("71", "75"), expires_at=NOW + timedelta(days=90),
                          created_by="kadmin0000001"), **changes)


def test_an_added_key_reads_back_equal_and_its_id_cannot_be_taken_twice(repos):
    keys = repos.keys
    keys.add(_key())
    keys.add(_key("kbbbbbbbbbbbb", role="business", agency_id=None, regions=(), bin=BIN_A, expires_at=None,
                  created_by=None))
    assert keys.get("k0123456789ab") == _key()
    assert keys.get("kbbbbbbbbbbbb") == _key("kbbbbbbbbbbbb", role="business", agency_id=None, regions=(),
                                             bin=BIN_A, expires_at=None, created_by=None)
    with pytest.raises(AlreadyExists):
        keys.add(_key(key_hash="cd" * 32, role="admin"))
    assert keys.get("k0123456789ab").key_hash == "ab" * 32 and keys.get("k0123456789ab").role == "agency"
    assert keys.get("kcccccccccccc") is None


def test_a_revoked_key_keeps_everything_but_its_revocation_time(repos):
    keys = repos.keys
    keys.add(_key())
    at = NOW + timedelta(hours=2)
    assert keys.revoke("k0123456789ab", at=at) is True
    assert keys.get("k0123456789ab") == _key(revoked_at=at)
    # WHEN an unknown key is revoked THEN nothing is created
    assert keys.revoke("kdddddddddddd", at=at) is False
    assert keys.get("kdddddddddddd") is None


# --- routing examples ---------------------------------------------------------------------------------------
def _example(complaint_id, at, to="ktrm"):
    return RoutingExample(complaint_id=complaint_id, at=at, text="Обвешивают на рынке", category="other",
                          sector="grocery", from_agency="kzpp", to_agency=to, reason="Весы — метрология",
                          routing_method="rules", routing_version="r1+c1", key_id="ka0000000001")


def test_routing_examples_are_listed_per_complaint_in_time_order_and_can_be_withdrawn(repos):
    examples = repos.examples
    first, second = _example("c1", NOW + timedelta(hours=1), "police"), _example("c1", NOW, "ktrm")
    other = _example("c2", NOW)
    for e in (first, second, other):
        examples.add(e)
    assert examples.list_for("c1") == [second, first]
    assert examples.list_for("c2") == [other]
    assert examples.list_for("c3") == []
    examples.remove("c1", NOW)
    assert examples.list_for("c1") == [first]
    examples.remove("c1", NOW)  # withdrawing twice (a retried rollback) is harmless
    examples.remove("c9", NOW)
    assert examples.list_for("c1") == [first] and examples.list_for("c2") == [other]
