"""The counter store and the reactions ledger: DynamoDB (on moto) and the in-memory fakes keep one contract,
so the unit tests on the fakes prove what production does."""
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.domain.errors import LimitReached
from chalicelib.services.ports import Increment
from tests.fakes import FakeCounters, FakeLedger

AT = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc)


@pytest.fixture(params=["dynamodb", "fake"])
def counters(request):
    if request.param == "fake":
        return FakeCounters()
    request.getfixturevalue("aws")
    from chalicelib.adapters.counters import DynamoCounters

    return DynamoCounters()


@pytest.fixture(params=["dynamodb", "fake"])
def ledger(request):
    if request.param == "fake":
        return FakeLedger()
    request.getfixturevalue("aws")
    from chalicelib.adapters.counters import DynamoLedger

    return DynamoLedger()


def test_apply_once_adds_sets_and_refuses_the_same_marker_twice(counters):
    incs = [Increment("ratings", ("outlet#A",), add={"stars_sum": 4, "stars_n": 1}, set={"sector": "retail"}),
            Increment("analytics", ("d#2026-12", "2026-12-01#71#kzpp"), add={"count": 1, "seconds": 3600})]
    assert counters.apply_once("c1#v1|ratings", incs, at=AT) is True
    assert counters.apply_once("c1#v1|ratings", incs, at=AT) is False
    assert counters.apply_once("c1#v2|ratings", [Increment("ratings", ("outlet#A",), add={"stars_n": -1})], at=AT)
    item = counters.get("ratings", ("outlet#A",))
    assert (item["subject"], item["stars_sum"], item["stars_n"], item["sector"]) == ("outlet#A", 4, 0, "retail")
    assert counters.get("analytics", ("d#2026-12", "2026-12-01#71#kzpp"))["seconds"] == 3600
    assert counters.get("ratings", ("outlet#B",)) is None


def test_a_bound_refuses_the_whole_transaction_and_keeps_the_marker_free(counters):
    guard = Increment("ratings", ("limit#x",), add={"n": 1}, below={"n": 2})
    rating = Increment("ratings", ("outlet#A",), add={"quick_n": 1})
    assert counters.apply_once("r1", [guard, rating], at=AT)
    assert counters.apply_once("r2", [guard, rating], at=AT)
    with pytest.raises(LimitReached):
        counters.apply_once("r3", [guard, rating], at=AT)
    assert counters.get("ratings", ("outlet#A",))["quick_n"] == 2  # the refused one added nothing
    assert counters.apply_once("r3", [rating], at=AT) is True       # and its marker was not taken


def test_query_reads_one_partition_in_key_order_within_the_bounds(counters):
    for day in ("2026-12-03", "2026-12-01", "2026-12-02"):
        counters.apply_once(f"m{day}", [Increment("analytics", ("d#2026-12", f"{day}#x"), add={"count": 1})], at=AT)
    counters.apply_once("other", [Increment("analytics", ("d#2026-11", "2026-11-30#x"), add={"count": 1})], at=AT)
    assert [i["sk"] for i in counters.query("analytics", "d#2026-12")] == \
        ["2026-12-01#x", "2026-12-02#x", "2026-12-03#x"]
    assert [i["sk"] for i in counters.query("analytics", "d#2026-12", start="2026-12-02", end="2026-12-02~")] == \
        ["2026-12-02#x"]
    assert [i["sk"] for i in counters.query("analytics", "d#2026-12", end="2026-12-01~")] == ["2026-12-01#x"]
    assert [i["sk"] for i in counters.query("analytics", "d#2026-12", start="2026-12-03")] == ["2026-12-03#x"]


def test_a_claim_is_exclusive_until_done_or_released_or_its_lease_runs_out(ledger):
    assert ledger.claim("e1|consumer", now=AT, lease_seconds=60) == "claimed"
    assert ledger.claim("e1|consumer", now=AT + timedelta(seconds=30), lease_seconds=60) == "busy"
    assert ledger.claim("e1|consumer", now=AT + timedelta(seconds=61), lease_seconds=60) == "claimed"  # taken over
    ledger.release("e1|consumer")
    assert ledger.claim("e1|consumer", now=AT, lease_seconds=60) == "claimed"
    ledger.complete("e1|consumer", now=AT)
    assert ledger.claim("e1|consumer", now=AT + timedelta(days=2), lease_seconds=60) == "done"
    ledger.release("e1|consumer")  # a late release never undoes a completed send
    assert ledger.claim("e1|consumer", now=AT, lease_seconds=60) == "done"


def test_a_dynamodb_claim_refused_costs_one_request(aws, dynamodb_calls):
    from chalicelib.adapters.counters import DynamoLedger

    ledger = DynamoLedger()
    ledger.claim("e2|agency_topic", now=AT, lease_seconds=60)
    ledger.complete("e2|agency_topic", now=AT)
    dynamodb_calls.clear()
    assert ledger.claim("e2|agency_topic", now=AT, lease_seconds=60) == "done"
    assert dynamodb_calls == {"PutItem": 1}
