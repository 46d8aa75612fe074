"""The open data's stores: anonymised rows and the file index on DynamoDB (OpenDataTable), the files on S3."""
from __future__ import annotations

from typing import Iterator, Mapping

from pynamodb.exceptions import PutError

from chalicelib.adapters.tables import OpenDataTable

_FILES = "files"


def _day_key(day: str) -> str:
    return f"day#{day}"


class DynamoOpenData:
    def put_row(self, day: str, complaint_id: str, row: Mapping, *, version: int) -> bool:
        item = OpenDataTable(_day_key(day), complaint_id, version=version, data=dict(row))
        try:
            # "<": the same version again is a redelivered record, already written: nothing to do
            item.save(condition=OpenDataTable.version.does_not_exist() | (OpenDataTable.version < version))
        except PutError as exc:
            if getattr(exc, "cause_response_code", None) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def rows(self, day: str) -> Iterator[dict]:
        for item in OpenDataTable.query(_day_key(day)):
            yield dict(item.data)

    def put_file(self, name: str, entry: Mapping) -> None:
        OpenDataTable(_FILES, name, data=dict(entry)).save()

    def files(self, *, limit: int, after: str | None = None) -> tuple[list[dict], str | None]:
        condition = OpenDataTable.sk < after if after else None
        result = OpenDataTable.query(_FILES, range_key_condition=condition, scan_index_forward=False, limit=limit)
        entries = [{"name": item.sk, **item.data} for item in result]
        more = result.last_evaluated_key is not None and len(entries) == limit
        return entries, (entries[-1]["name"] if more and entries else None)

    def file(self, name: str) -> dict | None:
        try:
            item = OpenDataTable.get(_FILES, name)
        except OpenDataTable.DoesNotExist:
            return None
        return {"name": item.sk, **item.data}


class S3Objects:
    """The open-data bucket. boto3 is imported on first use: the API's other routes never pay for it."""

    def __init__(self, bucket: str, region: str) -> None:
        self.bucket, self.region = bucket, region
        self._client = None

    @property
    def client(self):
        if self._client is None:
            import boto3
            from botocore.config import Config

            # SigV4 presigned links: the only kind every region accepts
            self._client = boto3.client("s3", region_name=self.region, config=Config(signature_version="s3v4"))
        return self._client

    def put(self, key: str, body: bytes, *, content_type: str) -> None:
        self.client.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type,
                               CacheControl="public, max-age=3600")

    def url(self, key: str, *, expires_seconds: int, filename: str) -> str:
        return self.client.generate_presigned_url("get_object", ExpiresIn=expires_seconds, Params={
            "Bucket": self.bucket, "Key": key,
            "ResponseContentDisposition": f'attachment; filename="{filename}"'})
