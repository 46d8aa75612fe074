"""Run the reactions of a batch of stream records, right under the way streams behave.

- Delivery is at least once, and a batch can be retried from its middle: every reaction is idempotent by its
  ledger marker ("<event id>|<reaction>"), so a record seen twice reacts once.
- Order holds only per item: the counter reactions apply state deltas (new minus old contribution), which
  add up to the same totals in any order.
- One poison record must not block the records behind it: a reaction that fails is retried in place when the
  failure is transient (throttling, a 5xx, a conflict), and a record that still fails is *parked* in the SQS
  parking lot with the whole record and what failed, and the batch goes on. `tools/admin.py replay-parked`
  runs parked records through this same code after a fix; reactions already done are skipped by their markers.
- Only if parking itself fails does the handler raise, so Lambda retries the batch (on both deployment
  paths: `chalice deploy`'s mapping has no partial-batch responses, and raising is safe because every
  reaction is idempotent).

Powertools' BatchProcessor gives the per-record isolation and the failure list.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from chalicelib.domain.complaint import events_between
from chalicelib.services.ports import DeliveryFailed
from chalicelib.streams.records import Change, UndecodableRecord, decode
from chalicelib.streams.registry import Reaction, reactions_for

# AWS error codes that mean "try again shortly" (DynamoDB, SNS, SES, SQS, STS).
TRANSIENT_CODES = frozenset({
    "ThrottlingException", "Throttling", "ThrottledException", "TooManyRequestsException",
    "ProvisionedThroughputExceededException", "RequestLimitExceeded", "TransactionConflictException",
    "TransactionInProgressException", "InternalServerError", "InternalError", "InternalFailure",
    "ServiceUnavailable", "ServiceUnavailableException", "KMSThrottlingException", "LimitExceededException",
})
TRANSIENT_CANCEL_REASONS = frozenset({"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"})
# Attempts per reaction and the pauses between them (seconds): ~1.5 s at most per reaction, well inside the
# stream function's timeout even for a batch of transient failures.
ATTEMPTS = 4
BACKOFF = (0.1, 0.4, 1.0)
LEASE_SECONDS = 60.0  # a message claim older than this belongs to a worker that died: it may be taken over
# Stop starting reactions when less than this is left of the invocation: enough to park what remains.
RESERVE_SECONDS = 12.0


class ClaimBusy(Exception):
    """Another worker holds a live claim on this message: try again shortly."""


class OutOfTime(Exception):
    """Too little of the invocation is left to start another reaction: the record is parked instead, so a
    Lambda timeout never leaves a record neither done nor parked."""


class RecordsNotParked(RuntimeError):
    """Records failed and could not be parked: raising makes Lambda retry the batch."""


def _aws_code(exc: BaseException) -> tuple[str, list[str], int]:
    """(error code, cancellation reasons, HTTP status) of a botocore error, also when pynamodb wraps it."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        response = getattr(exc, "response", None)
        if isinstance(response, dict) and "Error" in response:
            reasons = [r.get("Code", "") for r in response.get("CancellationReasons", []) or []]
            status = response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            return response["Error"].get("Code", ""), reasons, status
        exc = getattr(exc, "cause", None) or exc.__cause__
    return "", [], 0


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, DeliveryFailed):
        return exc.transient
    if isinstance(exc, (ClaimBusy, OutOfTime)):
        return True
    code, reasons, status = _aws_code(exc)
    if code in TRANSIENT_CODES or status >= 500:
        return True
    if code == "TransactionCanceledException" and TRANSIENT_CANCEL_REASONS & set(reasons):
        return True
    try:  # connection resets and timeouts on the way to AWS
        from botocore.exceptions import ConnectionError as BotoConnectionError
        from botocore.exceptions import HTTPClientError
    except ImportError:  # pragma: no cover - botocore is always there with pynamodb
        return False
    return isinstance(exc, (BotoConnectionError, HTTPClientError, TimeoutError, ConnectionError))


@dataclass(frozen=True)
class Envelope:
    """One event of one stream record, with the complaint as stored after the record (and before it)."""
    event_id: str
    event: object
    complaint: object
    previous: object | None


@dataclass
class RecordOutcome:
    sequence: str
    done: list[str] = field(default_factory=list)        # reactions that acted now
    skipped: list[str] = field(default_factory=list)     # reactions already done before (a redelivery)
    failures: list[dict] = field(default_factory=list)   # {event_id, reaction, error, transient}
    sent: list[str] = field(default_factory=list)        # messages sent whose "done" could not be recorded
    parked: bool = False


@dataclass
class BatchReport:
    records: int = 0
    reactions: int = 0
    skipped: int = 0
    parked: int = 0
    not_parked: int = 0


def _error(exc: BaseException) -> str:
    # The class and AWS code only: exception texts can quote request parameters (a phone, an address).
    code = _aws_code(exc)[0]
    return f"{exc.__class__.__name__}{f' ({code})' if code else ''}"


class Runner:
    """Runs the reactions of one record. `sleep` and `now` are injectable so tests run without waiting."""

    def __init__(self, c, *, sleep: Callable[[float], None] = time.sleep, attempts: int = ATTEMPTS,
                 time_left: Callable[[], float] | None = None, sent: set[str] | None = None) -> None:
        self.c = c
        self.sleep = sleep
        self.attempts = attempts
        self.time_left = time_left  # seconds left in this invocation (Lambda's context), None: no limit
        # Markers of messages already sent whose completion could not be written (throttling): a retry
        # only records them as done, never sends again. Carried in a parked payload to the replay.
        self.sent: set[str] = set(sent or ())

    def envelopes(self, change: Change) -> list[Envelope]:
        if change.current is None:  # REMOVE: complaints are never deleted by the product; retention keeps counts
            return []
        return [Envelope(event_id, event, change.current, change.previous)
                for event_id, event in events_between(change.previous, change.current)]

    def run_record(self, record: dict) -> RecordOutcome:
        outcome = RecordOutcome(sequence=str(record.get("dynamodb", {}).get("SequenceNumber", "")))
        try:
            change = decode(record)
        except UndecodableRecord as exc:
            outcome.failures.append({"event_id": None, "reaction": "decode", "error": str(exc), "transient": False})
            return outcome
        for envelope in self.envelopes(change):
            for reaction in reactions_for(envelope.event):
                try:
                    result = self._with_retries(reaction, envelope)
                except Exception as exc:  # noqa: BLE001 - any failure of one reaction must not stop the others
                    outcome.failures.append({"event_id": envelope.event_id, "reaction": reaction.name,
                                             "error": _error(exc), "transient": is_transient(exc)})
                    marker = f"{envelope.event_id}|{reaction.name}"
                    if marker in self.sent:
                        outcome.sent.append(marker)
                    continue
                if result is not None:  # None: nothing to do for this event (no channel, no contact, no delta)
                    (outcome.done if result else outcome.skipped).append(f"{envelope.event_id}|{reaction.name}")
        return outcome

    def _with_retries(self, reaction: Reaction, envelope: Envelope) -> bool | None:
        for attempt in range(self.attempts):
            if self.time_left is not None and self.time_left() < RESERVE_SECONDS:
                raise OutOfTime("too little time left in this invocation")
            try:
                return self._run(reaction, envelope)
            except Exception as exc:  # noqa: BLE001
                if not is_transient(exc) or attempt == self.attempts - 1:
                    raise
                self.sleep(BACKOFF[min(attempt, len(BACKOFF) - 1)])
        raise AssertionError("unreachable")

    def _run(self, reaction: Reaction, envelope: Envelope) -> bool | None:
        """True if the reaction acted now; False if its marker says it was done before; None if there was
        nothing to do (a counter reaction with no delta, a message with no channel or no contact)."""
        marker = f"{envelope.event_id}|{reaction.name}"
        c = self.c
        if reaction.mode == "counter":
            applied = reaction.fn(envelope, c, marker)
            return None if applied is None else bool(applied)
        if marker in self.sent:  # sent before; only its completion is missing
            c.ledger.complete(marker, now=c.clock.now())
            self.sent.discard(marker)
            return True
        message = reaction.fn(envelope, c)
        if message is None:
            return None
        state = c.ledger.claim(marker, now=c.clock.now(), lease_seconds=LEASE_SECONDS)
        if state == "done":
            return False
        if state == "busy":
            raise ClaimBusy(marker)
        try:
            c.notifier.send(message)
        except BaseException:
            c.ledger.release(marker)
            raise
        self.sent.add(marker)  # from here on a retry must not send again, only complete
        c.ledger.complete(marker, now=c.clock.now())
        self.sent.discard(marker)
        return True


def park_payload(record: dict, outcome: RecordOutcome, *, at: datetime, source: str) -> dict:
    return {"kind": "qalqan.parked-stream-record", "version": 1, "parked_at": at.isoformat(),
            "source": source, "sequence": outcome.sequence, "failures": outcome.failures,
            "done": outcome.done, "sent": outcome.sent, "record": record}


def process_records(records: list[dict], c, *, logger=None, sleep: Callable[[float], None] = time.sleep,
                    source: str = "lambda", time_left: Callable[[], float] | None = None) -> BatchReport:
    """Run every record's reactions; park what keeps failing; raise only if something could not be parked.

    `time_left` (seconds left in the invocation, from Lambda's context): when it runs low, the remaining
    records are parked rather than started, so a slow webhook cannot make Lambda time out mid-batch."""
    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType

    runner = Runner(c, sleep=sleep, time_left=time_left)
    report = BatchReport(records=len(records))

    def handle(record) -> None:
        raw = getattr(record, "raw_event", record)
        outcome = runner.run_record(raw)
        report.reactions += len(outcome.done)
        report.skipped += len(outcome.skipped)
        if not outcome.failures:
            return
        c.parking.park(park_payload(raw, outcome, at=c.clock.now().astimezone(timezone.utc), source=source))
        report.parked += 1
        if logger is not None:
            logger.warning("stream record parked", extra={"sequence": outcome.sequence,
                                                          "failures": outcome.failures})

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    with processor(records=records, handler=handle):
        processor.process()
    report.not_parked = len(processor.fail_messages)
    if report.not_parked:
        if logger is not None:
            logger.error("stream records could not be parked; the batch will be retried",
                         extra={"count": report.not_parked,
                                "errors": [_error(e) for e in processor.exceptions if isinstance(e, BaseException)]})
        raise RecordsNotParked(f"{report.not_parked} record(s) failed and could not be parked")
    return report


def replay_parked(c, *, limit: int = 100, sleep: Callable[[float], None] = time.sleep) -> dict:
    """Re-drive parked records through the same reactions. A record whose reactions now all succeed is
    deleted from the parking lot; one that still fails stays there (visible again after its timeout)."""
    result = {"replayed": 0, "still_failing": 0, "reactions": 0, "skipped": 0}
    seen = 0
    while seen < limit:
        batch = c.parking.receive(limit=min(10, limit - seen))
        if not batch:
            break
        for receipt, payload in batch:
            seen += 1
            runner = Runner(c, sleep=sleep, sent=set(payload.get("sent") or ()))
            try:
                records, complete = _parked_records(payload, c)
            except Exception:  # noqa: BLE001 - e.g. trimmed from the stream: keep it for a person, go on
                records, complete = [], False
            failed = not complete  # a range not read back in full stays parked
            sent = []
            for record in records:
                outcome = runner.run_record(record)
                result["reactions"] += len(outcome.done)
                result["skipped"] += len(outcome.skipped)
                failed = failed or bool(outcome.failures)
                sent.extend(outcome.sent)
            if failed:
                result["still_failing"] += 1
                if sent and "record" in payload:  # remember what this replay sent: the next one must not resend
                    c.parking.park({**payload, "sent": sorted(set(payload.get("sent") or ()) | set(sent))})
                    c.parking.delete(receipt)
            else:
                c.parking.delete(receipt)
                result["replayed"] += 1
    return result


def _parked_records(payload: dict, c) -> tuple[list[dict], bool]:
    """The records a parked message stands for, and whether that is all of them."""
    if "record" in payload:  # parked by this handler: the record itself
        return [payload["record"]], True
    info = payload.get("DDBStreamBatchInfo")
    if info:  # Lambda's on-failure destination (packaged path): a shard and a sequence range
        records = c.parking.failed_batch(info)
        last = records[-1]["dynamodb"]["SequenceNumber"] if records else None
        whole = bool(records) and (len(records) >= int(info.get("batchSize", 0) or 0)
                                   or int(last) >= int(info["endSequenceNumber"]))
        return records, whole
    return [], False
