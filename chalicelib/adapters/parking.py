"""The parking lot for stream records that keep failing: an SQS queue (`PARKED_QUEUE_URL`).

A parked message holds the whole Lambda-shaped stream record plus why and where it failed, so
`tools/admin.py replay-parked` can run it through the same handler after a fix. The queue keeps messages
for 14 days (infra/); an alarm on its depth tells an operator that something is parked.
"""
from __future__ import annotations

import json


class ParkingNotConfigured(RuntimeError):
    pass


class SqsParkingLot:
    def __init__(self, queue_url: str | None, region: str | None = None) -> None:
        self.queue_url = queue_url
        self.region = region or None  # boto3 reads AWS_DEFAULT_REGION, not AWS_REGION: pass the setting
        self._sqs = None

    def _client(self):
        if not self.queue_url:
            raise ParkingNotConfigured("PARKED_QUEUE_URL is not set: a failing stream record cannot be parked")
        if self._sqs is None:
            import boto3  # only the stream function and the CLI park or replay: keep it off the request path

            self._sqs = boto3.client("sqs", region_name=self.region)
        return self._sqs

    def park(self, payload: dict) -> None:
        self._client().send_message(QueueUrl=self.queue_url,
                                    MessageBody=json.dumps(payload, ensure_ascii=False, default=str))

    def receive(self, *, limit: int = 10) -> list[tuple[str, dict]]:
        found = self._client().receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=min(limit, 10),
                                               WaitTimeSeconds=0, VisibilityTimeout=60)
        return [(m["ReceiptHandle"], json.loads(m["Body"])) for m in found.get("Messages", [])]

    def delete(self, receipt: str) -> None:
        self._client().delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)

    def failed_batch(self, info: dict) -> list[dict]:
        """The records of a batch Lambda gave up on (its on-failure destination message names the shard and
        the sequence range, not the records): read them back from the stream while it still holds them (24 h)."""
        import boto3

        from chalicelib.streams.records import lambda_record

        streams = boto3.client("dynamodbstreams", region_name=self.region)
        iterator = streams.get_shard_iterator(
            StreamArn=info["streamArn"], ShardId=info["shardId"], ShardIteratorType="AT_SEQUENCE_NUMBER",
            SequenceNumber=info["startSequenceNumber"])["ShardIterator"]
        last, records, empty_pages = int(info["endSequenceNumber"]), [], 0
        # A shard may answer empty pages before the records: keep reading (bounded) until the range's end.
        while iterator and empty_pages < 20:
            page = streams.get_records(ShardIterator=iterator, Limit=100)
            found = page.get("Records", [])
            empty_pages = 0 if found else empty_pages + 1
            for record in found:
                if int(record["dynamodb"]["SequenceNumber"]) > last:
                    return records
                records.append(lambda_record(record, info["streamArn"]))
                if int(record["dynamodb"]["SequenceNumber"]) == last:
                    return records
            iterator = page.get("NextShardIterator")
        return records
