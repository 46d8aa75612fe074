"""Read the complaints table's stream from moto and hand Lambda-shaped records to the reactions.

In AWS, Lambda's event-source mapping does this. Locally and in tests, `StreamReader` polls moto's
DynamoDB Streams API and turns its records into what Lambda delivers: `eventSourceARN` added and
`ApproximateCreationDateTime` back to epoch seconds (botocore parses it into a datetime).
"""
from __future__ import annotations

import sys
import threading
from collections import deque
from typing import Callable

from chalicelib.streams.records import lambda_record  # the one conversion, shared with replay-parked


class StreamReader:
    """Every new record of one table's stream, in shard order, from where the reader started."""

    def __init__(self, table_name: str, *, from_start: bool = True) -> None:
        import boto3

        self.table_name = table_name
        self.ddb = boto3.client("dynamodb")
        self.streams = boto3.client("dynamodbstreams")
        self.from_start = from_start
        self.stream_arn = self.ddb.describe_table(TableName=table_name)["Table"]["LatestStreamArn"]
        self._iterators: dict[str, str | None] = {}

    def _shards(self) -> list[str]:
        description = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]
        return [shard["ShardId"] for shard in description["Shards"]]

    def read(self, limit: int = 1000) -> list[dict]:
        """The records written since the last read (Lambda-shaped), oldest first."""
        records: list[dict] = []
        # Positions move only once every shard was read: a call that fails half-way loses no record,
        # the next call reads the same ones again.
        moved: dict[str, str | None] = {}
        for shard in self._shards():
            if shard not in self._iterators:
                kind = "TRIM_HORIZON" if self.from_start else "LATEST"
                self._iterators[shard] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType=kind)["ShardIterator"]
            iterator = self._iterators[shard]
            if iterator is None:
                continue
            page = self.streams.get_records(ShardIterator=iterator, Limit=limit)
            moved[shard] = page.get("NextShardIterator")
            records.extend(lambda_record(r, self.stream_arn) for r in page.get("Records", []))
        self._iterators.update(moved)
        return records

    @staticmethod
    def event(records: list[dict]) -> dict:
        return {"Records": records}


class PumpFailed(RuntimeError):
    """The handler raised on a batch (Lambda would retry it): the batch stays pending."""


class StreamPump:
    """What Lambda's event-source mapping does for the `reactions` function, on this machine.

    It polls the stream, hands batches of up to `batch_size` records to `handler(event, context)` (the very
    function Chalice registered, so the same code path as in AWS), and, like the mapping, retries a batch
    whose invocation raised, reading nothing newer until it goes through: order holds per shard.

    Every record handed over is also kept (the newest `keep`), so `redeliver()` can force the at-least-once
    case on demand: the same records through the same handler a second time. One lock serialises polling,
    `sync()` and `redeliver()`, as one shard is never processed by two invocations at once.
    """

    def __init__(self, reader, handler, *, function_name: str = "reactions", batch_size: int = 100,
                 interval: float = 0.25, retry_delays: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0),
                 keep: int = 50_000, report: Callable[[str], None] | None = None) -> None:
        self.reader = reader
        self.handler = handler
        self.function_name = function_name
        self.batch_size = batch_size
        self.interval = interval
        self.retry_delays = retry_delays
        self.report = report or (lambda line: print(line, file=sys.stderr, flush=True))
        self._lock = threading.Lock()
        self._pending: list[dict] = []
        self._seen: deque[dict] = deque(maxlen=keep)
        self._failures = 0
        self.stats = {"records": 0, "batches": 0, "failed_batches": 0, "reactions": 0, "skipped": 0, "parked": 0,
                      "redelivered": 0, "last_error": None}

    # --- the mapping ---------------------------------------------------------------------------------------
    def _invoke(self, records: list[dict]) -> dict:
        from chalice.local import LambdaContext

        context = LambdaContext(self.function_name, memory_size=512, max_runtime_ms=300_000)
        try:
            result = self.handler({"Records": records}, context)
        except Exception as exc:  # noqa: BLE001 - any failure of an invocation means "retry the batch"
            self.stats["failed_batches"] += 1
            # The class only: an exception text may quote request parameters.
            self.stats["last_error"] = exc.__class__.__name__
            raise PumpFailed(exc.__class__.__name__) from exc
        result = result if isinstance(result, dict) else {}
        for name in ("reactions", "skipped", "parked"):
            self.stats[name] += int(result.get(name, 0) or 0)
        self.stats["batches"] += 1
        return result

    def _step(self) -> int:
        """Deliver the pending batch, or read and deliver the next one. Records delivered (0: none new).
        Raises PumpFailed and keeps the batch pending when the handler raises. Call with the lock held."""
        if not self._pending:
            self._pending = self.reader.read(limit=self.batch_size)
        if not self._pending:
            return 0
        batch = self._pending[:self.batch_size]
        self._invoke(batch)
        del self._pending[:len(batch)]
        self._seen.extend(batch)
        self.stats["records"] += len(batch)
        return len(batch)

    def sync(self) -> int:
        """Process everything written to the stream so far; the number of records delivered now."""
        with self._lock:
            total = 0
            while (count := self._step()):
                total += count
            return total

    def redeliver(self) -> dict:
        """Catch up, then hand every record delivered so far to the handler once more, in the same
        batches' size: a forced redelivery. Returns what the handler reported for the second pass."""
        with self._lock:
            while self._step():
                pass
            records = list(self._seen)
            totals = {"records": len(records), "reactions": 0, "skipped": 0, "parked": 0}
            for start in range(0, len(records), self.batch_size):
                result = self._invoke(records[start:start + self.batch_size])
                for name in ("reactions", "skipped", "parked"):
                    totals[name] += int(result.get(name, 0) or 0)
            self.stats["redelivered"] += len(records)
            return totals

    def status(self) -> dict:
        with self._lock:
            return {**self.stats, "pending": len(self._pending), "seen": len(self._seen)}

    def run(self, stop: threading.Event) -> None:
        """Poll every `interval` seconds until `stop` is set; after a failed batch wait longer each time."""
        while not stop.is_set():
            delay = self.interval
            try:
                with self._lock:
                    self._step()
                if self._failures:
                    self.report(f"stream pump: the batch went through after {self._failures} failed attempt(s)")
                self._failures = 0
            except PumpFailed as failed:
                delay = self.retry_delays[min(self._failures, len(self.retry_delays) - 1)]
                self._failures += 1
                self.report(f"stream pump: the reactions handler raised {failed}; retrying the batch in {delay:g}s")
            except Exception as exc:  # noqa: BLE001 - moto unreachable for a moment: poll again, never die
                delay = self.retry_delays[-1]
                self.stats["last_error"] = exc.__class__.__name__
                self.report(f"stream pump: reading the stream failed ({exc.__class__.__name__}); retrying in {delay:g}s")
            stop.wait(delay)
