"""The QR resolver's one read, in plain botocore: does an outlet have this code, and is it active?

The packaged resolver (chalicelib.api.resolver.handler) answers while a person waits at a shop door, and a
cold start of it must cost no more than a hand-written handler doing one GetItem (issue 8). pynamodb, the table
models and the domain entities cost it about a tenth more, for one item of which it reads two attributes, so
this reader sends the GetItem itself. It reads the table `tables.OutletTable` maps (`code` key, `status`
attribute); tests/functional/test_resolver_entry.py keeps the two in step and compares the answers with
`DynamoOutlets`.
"""
from __future__ import annotations

from typing import NamedTuple

ACTIVE = "active"  # OutletTable.status's default, and what Outlet.active tests for


class OutletState(NamedTuple):
    """What the resolver needs of an Outlet: its code and whether it takes complaints."""
    code: str
    active: bool


class OutletStatusReader:
    """One GetItem on the outlets table, projected to the code and the status."""

    def __init__(self, table_name: str, region: str, *, client=None) -> None:
        self._table_name = table_name
        self._region = region
        self._client = client

    def _dynamodb(self):
        if self._client is None:
            import botocore.session
            from botocore.config import Config

            # Short timeouts and one retry: the resolver sends the person on to the form when storage is slow
            # (the form looks the outlet up again), so waiting pynamodb's 15 s/30 s would only strand them.
            config = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "total_max_attempts": 2})
            # AWS_ENDPOINT_URL (local stack, bench) is honoured by botocore itself, as for the pynamodb tables.
            self._client = botocore.session.get_session().create_client(
                "dynamodb", region_name=self._region, config=config)
        return self._client

    def get(self, code: str) -> OutletState | None:
        item = self._dynamodb().get_item(
            TableName=self._table_name, Key={"code": {"S": code}},
            ProjectionExpression="#code, #status", ExpressionAttributeNames={"#code": "code", "#status": "status"},
        ).get("Item")
        if item is None:
            return None
        status = item.get("status", {}).get("S", ACTIVE)
        return OutletState(code=item["code"]["S"], active=status == ACTIVE)
