"""The stream processor's mechanics on fakes: exactly-once markers, retries, parking, replay.

The records are real ones: DynamoDB stream records as moto produced them (tests/functional/events/), so the
decoding is the one Lambda will run. The reactions here are stand-ins that record what they were asked to do;
the real reactions are tested on moto in tests/functional/test_stream_reactions.py.
"""
import json
from pathlib import Path
from types import SimpleNamespace

import pytest
from botocore.exceptions import ClientError

from chalicelib.services.ports import DeliveryFailed, Message
from chalicelib.streams import processor
from chalicelib.streams.registry import Reaction
from tests.fakes import FakeCounters, FakeLedger, FakeNotifier, FakeParkingLot, FixedClock

EVENTS = Path(__file__).resolve().parent.parent / "functional" / "events"
LIFECYCLE = json.loads((EVENTS / "complaint_lifecycle.json").read_text(encoding="utf-8"))["Records"]
FIRST = json.loads((EVENTS / "complaint_insert_then_response.json").read_text(encoding="utf-8"))["Records"]


def _client_error(code, reasons=None, status=400):
    response = {"Error": {"Code": code, "Message": "injected"}, "ResponseMetadata": {"HTTPStatusCode": status}}
    if reasons:
        response["CancellationReasons"] = [{"Code": r} for r in reasons]
    return ClientError(response, "TransactWriteItems")


class Recorder:
    """Stand-in reactions: a counter one that counts events through apply_once, a message one per event."""

    def __init__(self, c):
        self.c = c
        self.counter_calls = []
        self.fail_counter = []      # exceptions to raise, in order, from the counter reaction
        self.poison_ids = set()     # complaint ids whose message reaction always fails permanently

    def count(self, envelope, c, marker):
        self.counter_calls.append(marker)
        if self.fail_counter:
            raise self.fail_counter.pop(0)
        return c.counters.apply_once(marker, [_inc(envelope)], at=c.clock.now())

    def message(self, envelope, c):
        if envelope.complaint.id in self.poison_ids:
            raise ValueError("a template bug")
        return Message(channel="sns", audience="agency", to="arn:aws:sns:eu-central-1:1:t",
                       complaint_id=envelope.complaint.id, template=type(envelope.event).__name__, language="en",
                       body="{}", idempotency_key=envelope.event_id)

    def reactions_for(self, event):
        name = type(event).__name__
        if name == "ComplaintChanged":
            return (Reaction("count", self.count, "counter"),)
        return (Reaction("message", self.message, "message"),)


def _inc(envelope):
    from chalicelib.services.ports import Increment

    return Increment("analytics", ("test", envelope.complaint.id), add={"changes": 1})


@pytest.fixture
def c():
    return SimpleNamespace(counters=FakeCounters(), ledger=FakeLedger(), notifier=FakeNotifier(),
                           parking=FakeParkingLot(), clock=FixedClock())


@pytest.fixture
def rec(c, monkeypatch):
    recorder = Recorder(c)
    monkeypatch.setattr(processor, "reactions_for", recorder.reactions_for)
    return recorder


def _sleeps():
    waited = []
    return waited, waited.append


def _sent(c):
    return sorted(m.idempotency_key for m in c.notifier.sent)


def _counts(c):
    return {key[1]: item["changes"] for key, item in c.counters.tables["analytics"].items()}


def test_each_event_reacts_once_with_a_stable_id_from_the_timeline(c, rec):
    report = processor.process_records(FIRST, c, sleep=_sleeps()[1])
    assert (report.records, report.parked, report.skipped) == (2, 0, 0)
    cid = FIRST[0]["dynamodb"]["Keys"]["id"]["S"]
    assert _sent(c) == sorted([f"{cid}#0#ComplaintSubmitted", f"{cid}#1#ComplaintRouted",
                               f"{cid}#2#BusinessResponded"])
    assert _counts(c) == {cid: 2}  # one state change per record
    assert rec.counter_calls == [f"{cid}#v1|count", f"{cid}#v2|count"]


def test_every_record_delivered_twice_reacts_as_one_delivery(c, rec):
    once = processor.process_records(LIFECYCLE, c, sleep=_sleeps()[1])
    sent, counts = _sent(c), _counts(c)
    doubled = [r for r in LIFECYCLE for _ in range(2)]
    again = processor.process_records(doubled, c, sleep=_sleeps()[1])
    assert _sent(c) == sent and _counts(c) == counts
    assert again.reactions == 0 and again.skipped == 2 * (once.reactions)
    assert len(sent) == len(set(sent))


def test_a_batch_replayed_after_a_failure_in_its_middle_ends_as_one_delivery(c, rec):
    reference = SimpleNamespace(counters=FakeCounters(), ledger=FakeLedger(), notifier=FakeNotifier(),
                                parking=FakeParkingLot(), clock=FixedClock())
    processor.process_records(LIFECYCLE, reference, sleep=_sleeps()[1])  # one clean delivery: the expected end
    # Lambda-style: the batch runs up to record 4, which fails and (parking down) raises; then the whole
    # batch is delivered again from its start.
    c.parking.park = lambda payload: (_ for _ in ()).throw(RuntimeError("SQS down"))
    rec.poison_ids = {LIFECYCLE[3]["dynamodb"]["Keys"]["id"]["S"]}
    with pytest.raises(processor.RecordsNotParked):
        processor.process_records(LIFECYCLE, c, sleep=_sleeps()[1])
    rec.poison_ids = set()
    processor.process_records(LIFECYCLE, c, sleep=_sleeps()[1])
    assert _sent(c) == _sent(reference) and _counts(c) == _counts(reference)


def test_a_transient_failure_is_retried_in_place_and_nothing_is_lost_or_doubled(c, rec):
    waited, sleep = _sleeps()
    c.notifier.fail, c.notifier.error = 2, DeliveryFailed("503 from the webhook", transient=True)
    rec.fail_counter = [_client_error("ProvisionedThroughputExceededException"),
                        _client_error("TransactionCanceledException", ["None", "TransactionConflict"])]
    report = processor.process_records(FIRST, c, sleep=sleep)
    assert report.parked == 0 and not c.parking.items
    assert len(c.notifier.sent) == 3 and len(set(_sent(c))) == 3
    cid = FIRST[0]["dynamodb"]["Keys"]["id"]["S"]
    assert _counts(c) == {cid: 2}
    assert waited == [0.1, 0.4, 0.1, 0.4]  # two retries for the message, two for the counter


def test_a_poison_record_does_not_block_the_records_after_it_and_is_parked_with_its_context(c, rec):
    poisoned = LIFECYCLE[0]["dynamodb"]["Keys"]["id"]["S"]
    rec.poison_ids = {poisoned}
    waited, sleep = _sleeps()
    report = processor.process_records(LIFECYCLE, c, sleep=sleep)
    assert waited == []  # a permanent error is not retried
    parked = list(c.parking.items.values())
    # every record of the poisoned complaint that has a message reaction is parked; the others went through
    assert report.parked == len(parked) >= 1
    assert all(p["record"]["dynamodb"]["Keys"]["id"]["S"] == poisoned for p in parked)
    assert {f["reaction"] for p in parked for f in p["failures"]} == {"message"}
    assert all(f["error"] == "ValueError" and f["transient"] is False for p in parked for f in p["failures"])
    other = LIFECYCLE[-1]["dynamodb"]["Keys"]["id"]["S"]
    assert any(m.complaint_id == other for m in c.notifier.sent)
    # the counter reaction of the poisoned records still ran: a bad template does not hold back the ratings
    assert _counts(c)[poisoned] == len([r for r in LIFECYCLE if r["dynamodb"]["Keys"]["id"]["S"] == poisoned])


def test_replay_after_the_fix_does_what_failed_and_nothing_twice(c, rec):
    poisoned = LIFECYCLE[0]["dynamodb"]["Keys"]["id"]["S"]
    rec.poison_ids = {poisoned}
    processor.process_records(LIFECYCLE, c, sleep=_sleeps()[1])
    counts = _counts(c)
    assert processor.replay_parked(c, limit=10)["replayed"] == 0  # not fixed yet: it stays parked
    assert c.parking.items
    rec.poison_ids = set()
    result = processor.replay_parked(c, limit=50)
    assert result["still_failing"] == 0 and result["replayed"] >= 1 and not c.parking.items
    assert _counts(c) == counts  # the counters were done before: skipped
    keys = _sent(c)
    assert len(keys) == len(set(keys))
    assert any(k.startswith(f"{poisoned}#0#") for k in keys)


def test_a_record_that_cannot_be_parked_makes_the_batch_fail_so_lambda_retries_it(c, rec):
    rec.poison_ids = {LIFECYCLE[0]["dynamodb"]["Keys"]["id"]["S"]}
    c.parking.park = lambda payload: (_ for _ in ()).throw(RuntimeError("SQS down"))
    with pytest.raises(processor.RecordsNotParked):
        processor.process_records(LIFECYCLE, c, sleep=_sleeps()[1])


def test_an_undecodable_record_is_parked_as_such(c, rec):
    broken = json.loads(json.dumps(FIRST[0]))
    broken["dynamodb"]["NewImage"]["status"] = {"S": "no-such-status"}
    report = processor.process_records([broken, FIRST[1]], c, sleep=_sleeps()[1])
    assert report.parked == 1
    (payload,) = c.parking.items.values()
    assert payload["failures"][0]["reaction"] == "decode" and payload["record"] == broken
    assert payload["kind"] == "qalqan.parked-stream-record"


def test_a_message_claimed_by_a_live_worker_is_not_sent_twice(c, rec):
    cid = FIRST[0]["dynamodb"]["Keys"]["id"]["S"]
    c.ledger.claim(f"{cid}#0#ComplaintSubmitted|message", now=c.clock.now(), lease_seconds=60)
    report = processor.process_records(FIRST[:1], c, sleep=_sleeps()[1])
    assert report.parked == 1  # busy after every retry: parked, to be replayed when the lease is over
    assert f"{cid}#0#ComplaintSubmitted" not in _sent(c)
    c.clock.advance(seconds=61)
    processor.replay_parked(c)
    assert f"{cid}#0#ComplaintSubmitted" in _sent(c)


def test_a_send_that_fails_releases_its_claim_so_the_retry_can_send(c, rec):
    c.notifier.fail, c.notifier.error = 1, DeliveryFailed("timeout", transient=True)
    processor.process_records(FIRST[:1], c, sleep=_sleeps()[1])
    assert all(state == "done" for state, _ in c.ledger.items.values())


@pytest.mark.parametrize("exc,transient", [
    (_client_error("ThrottlingException"), True),
    (_client_error("ProvisionedThroughputExceededException"), True),
    (_client_error("ValidationException"), False),
    (_client_error("AccessDeniedException", status=403), False),
    (_client_error("SomethingNew", status=503), True),
    (_client_error("TransactionCanceledException", ["None", "ConditionalCheckFailed"]), False),
    (_client_error("TransactionCanceledException", ["None", "ThrottlingError"]), True),
    (DeliveryFailed("x", transient=True), True),
    (DeliveryFailed("x", transient=False), False),
    (processor.ClaimBusy("m"), True),
    (ValueError("bug"), False),
    (TimeoutError(), True),
])
def test_what_counts_as_transient(exc, transient):
    assert processor.is_transient(exc) is transient


def test_a_pynamodb_wrapped_throttle_is_transient():
    from pynamodb.exceptions import TransactWriteError

    wrapped = TransactWriteError("failed", cause=_client_error("ThrottlingException"))
    assert processor.is_transient(wrapped)


def test_a_removed_complaint_sets_off_nothing(c, rec):
    removed = json.loads(json.dumps(FIRST[1]))
    removed["eventName"] = "REMOVE"
    removed["dynamodb"]["OldImage"] = removed["dynamodb"].pop("NewImage", None) or removed["dynamodb"]["OldImage"]
    report = processor.process_records([removed], c, sleep=_sleeps()[1])
    assert (report.reactions, report.parked, c.notifier.sent) == (0, 0, [])


def test_when_the_invocation_runs_low_on_time_the_rest_is_parked_not_started(c, rec):
    left = iter([60.0, 60.0, 60.0] + [5.0] * 100)  # plenty for the first reactions, then almost nothing
    report = processor.process_records(LIFECYCLE, c, sleep=_sleeps()[1], time_left=lambda: next(left))
    assert report.reactions == 3 and report.parked == len(LIFECYCLE) - 1  # the first record's three ran
    assert all(f["error"] == "OutOfTime" and f["transient"] for p in c.parking.items.values()
               for f in p["failures"])
    assert processor.replay_parked(c, limit=50)["still_failing"] == 0  # nothing lost: the replay does the rest
    assert len(_sent(c)) == len(set(_sent(c)))


def test_a_send_whose_completion_cannot_be_recorded_is_never_sent_again(c, rec):
    real_complete, failures = c.ledger.complete, [ _client_error("ProvisionedThroughputExceededException")] * 5

    def flaky_complete(marker, *, now):
        if failures:
            raise failures.pop()
        real_complete(marker, now=now)

    c.ledger.complete = flaky_complete
    report = processor.process_records(FIRST[:1], c, sleep=_sleeps()[1])
    assert report.parked == 1  # the completion kept failing: parked, and the payload says it was sent
    (payload,) = c.parking.items.values()
    cid = FIRST[0]["dynamodb"]["Keys"]["id"]["S"]
    assert f"{cid}#0#ComplaintSubmitted|message" in payload["sent"]
    c.clock.advance(seconds=120)  # even after the claim's lease ran out
    processor.replay_parked(c)
    assert _sent(c).count(f"{cid}#0#ComplaintSubmitted") == 1
    assert c.ledger.items[f"{cid}#0#ComplaintSubmitted|message"][0] == "done"


def test_a_completion_that_fails_once_is_retried_alone(c, rec):
    real_complete, failures = c.ledger.complete, [_client_error("ThrottlingException")]

    def flaky_complete(marker, *, now):
        if failures:
            raise failures.pop()
        real_complete(marker, now=now)

    c.ledger.complete = flaky_complete
    report = processor.process_records(FIRST[:1], c, sleep=_sleeps()[1])
    assert report.parked == 0 and len(c.notifier.sent) == len(set(_sent(c))) == 2


def test_a_range_from_an_on_failure_message_stays_parked_until_read_back_in_full(c, rec):
    first, second = (r["dynamodb"]["SequenceNumber"] for r in FIRST)
    info = {"shardId": "s1", "startSequenceNumber": first, "endSequenceNumber": second, "batchSize": 2,
            "streamArn": "arn:aws:dynamodb:eu-central-1:1:table/t/stream/x"}
    c.parking.batches[("s1", first)] = FIRST[:1]  # only part of the range came back
    c.parking.park({"DDBStreamBatchInfo": info})
    assert processor.replay_parked(c, limit=1) == {"replayed": 0, "still_failing": 1, "reactions": 3, "skipped": 0}
    assert c.parking.items  # kept
    c.parking.batches[("s1", first)] = FIRST  # the stream answers in full now
    assert processor.replay_parked(c, limit=1)["replayed"] == 1 and not c.parking.items
