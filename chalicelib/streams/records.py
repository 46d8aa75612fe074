"""One DynamoDB stream record (as Lambda delivers it) -> the complaint before and after.

Images are decoded with the pynamodb model and the repository's own mapping, so the stream sees exactly
the complaint the services stored: no second, hand-written mapping to drift out of step.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.domain.model import Complaint


class UndecodableRecord(ValueError):
    """A record that is not a complaint change we can read (a poison record: parked, never retried blindly)."""


@dataclass(frozen=True)
class Change:
    name: str                      # INSERT | MODIFY | REMOVE
    sequence: str                  # the record's sequence number in its shard
    previous: Complaint | None
    current: Complaint | None


def _complaint(image: dict | None) -> Complaint | None:
    if not image:
        return None
    from chalicelib.adapters.repositories import DynamoComplaints
    from chalicelib.adapters.tables import ComplaintTable

    return DynamoComplaints._to_domain(ComplaintTable.from_raw_data(image))


def decode(record: dict) -> Change:
    try:
        name = record["eventName"]
        data = record["dynamodb"]
        sequence = str(data.get("SequenceNumber", ""))
        previous, current = _complaint(data.get("OldImage")), _complaint(data.get("NewImage"))
    except Exception as exc:  # any shape or type problem: this record can never be read as it is
        raise UndecodableRecord(f"cannot decode the stream record: {exc.__class__.__name__}") from exc
    if name not in ("INSERT", "MODIFY", "REMOVE"):
        raise UndecodableRecord(f"unknown eventName {name!r}")
    if name != "REMOVE" and current is None:
        raise UndecodableRecord("no NewImage: the stream must be NEW_AND_OLD_IMAGES")
    if name == "MODIFY" and previous is None:
        raise UndecodableRecord("no OldImage: the stream must be NEW_AND_OLD_IMAGES")
    return Change(name=name, sequence=sequence, previous=previous, current=current)


def lambda_record(record: dict, stream_arn: str) -> dict:
    """A record from the Streams API (GetRecords) as Lambda's event-source mapping delivers it:
    `eventSourceARN` added, `ApproximateCreationDateTime` back to epoch seconds (botocore parses it)."""
    out = dict(record)
    data = dict(out.get("dynamodb", {}))
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        data["ApproximateCreationDateTime"] = int(created.timestamp())
    out["dynamodb"] = data
    out["eventSourceARN"] = stream_arn
    return out
