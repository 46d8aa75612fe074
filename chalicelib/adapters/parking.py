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
    def __init__(self, queue_url: str | None) -> None:
        self.queue_url = queue_url
        self._sqs = None

    def _client(self):
        if not self.queue_url:
            raise ParkingNotConfigured("PARKED_QUEUE_URL is not set: a failing stream record cannot be parked")
        if self._sqs is None:
            import boto3  # only the stream function and the CLI park or replay: keep it off the request path

            self._sqs = boto3.client("sqs")
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
