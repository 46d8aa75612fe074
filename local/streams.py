"""Read the complaints table's stream from moto and hand Lambda-shaped records to the reactions.

In AWS, Lambda's event-source mapping does this. Locally and in tests, `StreamReader` polls moto's
DynamoDB Streams API and turns its records into what Lambda delivers: `eventSourceARN` added and
`ApproximateCreationDateTime` back to epoch seconds (botocore parses it into a datetime).
"""
from __future__ import annotations

from datetime import datetime


def lambda_record(record: dict, stream_arn: str) -> dict:
    """A record from GetRecords as Lambda's event-source mapping would deliver it."""
    out = dict(record)
    data = dict(out.get("dynamodb", {}))
    created = data.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        data["ApproximateCreationDateTime"] = int(created.timestamp())
    out["dynamodb"] = data
    out["eventSourceARN"] = stream_arn
    return out


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
        for shard in self._shards():
            if shard not in self._iterators:
                kind = "TRIM_HORIZON" if self.from_start else "LATEST"
                self._iterators[shard] = self.streams.get_shard_iterator(
                    StreamArn=self.stream_arn, ShardId=shard, ShardIteratorType=kind)["ShardIterator"]
            iterator = self._iterators[shard]
            if iterator is None:
                continue
            page = self.streams.get_records(ShardIterator=iterator, Limit=limit)
            self._iterators[shard] = page.get("NextShardIterator")
            records.extend(lambda_record(r, self.stream_arn) for r in page.get("Records", []))
        return records

    @staticmethod
    def event(records: list[dict]) -> dict:
        return {"Records": records}
