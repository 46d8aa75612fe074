"""Two cost fixes for the in-process moto of the local stack: transactions and Queries that cost what
they touch, not the whole table. DynamoDB has neither cost; without them the demo history (fifteen thousand
analytics items) made every stream reaction take seconds and every analytics read tens of seconds.

1. A faster rollback snapshot for TransactWriteItems.

moto 5.2.5 keeps a transaction's rollback copy by deep-copying every table the transaction touches, once per
item of the transaction. The cost grows with the table: with the demo history's fifteen thousand analytics
items, one stream reaction's transaction took over six seconds on this machine, and the console's demo would
make the whole stack crawl. DynamoDB itself has no such cost.

The snapshot here copies the table object shallowly, its item index one level deep (new dicts, the same item
objects), and deep-copies only the items the transaction names, which are the only ones it can change. A
rollback then restores exactly what moto's full copy would have. Tables with a stream keep moto's own copy:
their stream records are appended in place, and the full copy is what rolls those back.

2. A Query on a table's own key (no index) reads that partition only. moto 5.2.5 builds every Query from
`Table.all_items()`, which sorts every item of the table, and then compares each one's hash key; with the
partition given, `all_items` returns just its items (the Query still sorts and pages them itself).
"""
from __future__ import annotations

import copy
import threading

_current = threading.local()


class _SnapshotCopy:
    """Stands in for the `copy` module inside moto's DynamoDB models: deepcopy of a table during a
    transaction makes the cheap snapshot; everything else is the real `copy`."""

    def __getattr__(self, name):
        return getattr(copy, name)

    @staticmethod
    def deepcopy(value, memo=None):
        keys = getattr(_current, "keys", None)
        from moto.dynamodb.models.table import Table

        if keys is None or not isinstance(value, Table) or getattr(value, "stream_shard", None) is not None:
            return copy.deepcopy(value, memo)
        return _snapshot(value, keys.get(value.name, ()))


def _snapshot(table, keys):
    from collections import defaultdict

    from moto.dynamodb.models.dynamo_type import DynamoType

    snap = copy.copy(table)
    ranged = table.range_key_attr is not None
    snap.items = defaultdict(dict)
    for hash_value, stored in table.items.items():
        snap.items[hash_value] = dict(stored) if ranged else stored
    for key in keys:
        if table.hash_key_attr not in key:
            continue
        hash_value = DynamoType(key[table.hash_key_attr])
        if hash_value not in table.items:
            continue
        if ranged:
            if table.range_key_attr not in key:
                continue
            range_value = DynamoType(key[table.range_key_attr])
            if range_value in table.items[hash_value]:
                snap.items[hash_value][range_value] = copy.deepcopy(table.items[hash_value][range_value])
        else:
            snap.items[hash_value] = copy.deepcopy(table.items[hash_value])
    return snap


def _touched(backend, transact_items) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for entry in transact_items:
        for op_type, op in entry.items():
            name = op.get("TableName")
            table = backend.tables.get(name) if name else None
            if table is None:
                continue
            if op_type == "Put":
                attrs = op.get("Item", {})
                key = {a: attrs[a] for a in (table.hash_key_attr, table.range_key_attr) if a and a in attrs}
            else:
                key = op.get("Key", {})
            found.setdefault(name, []).append(key)
    return found


_ORIGINALS: dict = {}


def uninstall() -> None:
    """Put moto back as it was (for tests that install the patch in a shared process)."""
    if not _ORIGINALS:
        return
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table

    models.DynamoDBBackend.transact_write_items = _ORIGINALS.pop("transact_write_items")
    models.copy = _ORIGINALS.pop("copy")
    Table.query, Table.all_items = _ORIGINALS.pop("query"), _ORIGINALS.pop("all_items")


def install() -> None:
    """Patch the in-process moto (idempotent)."""
    from moto.dynamodb import models
    from moto.dynamodb.models.table import Table as _Table

    backend = models.DynamoDBBackend
    if getattr(backend.transact_write_items, "_qalqan_snapshot", False):
        return
    original = backend.transact_write_items
    _ORIGINALS.update(transact_write_items=original, copy=models.copy, query=_Table.query,
                      all_items=_Table.all_items)

    def transact_write_items(self, transact_items):
        _current.keys = _touched(self, transact_items)
        try:
            return original(self, transact_items)
        finally:
            _current.keys = None

    transact_write_items._qalqan_snapshot = True
    backend.transact_write_items = transact_write_items
    models.copy = _SnapshotCopy()

    from moto.dynamodb.models.table import Table

    original_query, original_all_items = Table.query, Table.all_items

    def query(self, hash_key, *args, **kwargs):
        index_name = kwargs.get("index_name", args[6] if len(args) > 6 else None)  # moto passes it by position
        if index_name is None and hash_key is not None and self.range_key_attr:
            _current.partition = (self, hash_key)
        try:
            return original_query(self, hash_key, *args, **kwargs)
        finally:
            _current.partition = None

    def all_items(self):
        partition = getattr(_current, "partition", None)
        if partition is not None and partition[0] is self:
            return list(self.items.get(partition[1], {}).values())
        return original_all_items(self)

    Table.query, Table.all_items = query, all_items


def put_items(table_name: str):
    """A writer of whole items straight into the in-process moto's table, for bulk demo data.

    Through HTTP and botocore, fifteen thousand BatchWriteItem puts took a minute on this machine, and even
    the backend's own put_item half of that: moto re-measures an item's whole size for each attribute it
    sets. These items are small and known (under a kilobyte), so they are placed in the table's index
    directly. Only for the local stack, whose moto runs in this process, and only for a table without a
    stream (no stream record is made)."""
    def put(items: list[dict]) -> None:
        import os

        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.dynamodb.models import dynamodb_backends
        from moto.dynamodb.models.dynamo_type import DynamoType, Item

        region = os.environ.get("AWS_REGION") or os.environ["AWS_DEFAULT_REGION"]
        table = dynamodb_backends[DEFAULT_ACCOUNT_ID][region].get_table(table_name)
        if getattr(table, "stream_shard", None) is not None or table.range_key_attr is None:
            raise ValueError(f"{table_name}: bulk puts are for stream-less tables with a range key")
        for attrs in items:
            hash_value = DynamoType(_attribute(attrs[table.hash_key_attr]))
            range_value = DynamoType(_attribute(attrs[table.range_key_attr]))
            item = Item(hash_value, range_value, {})
            dict.update(item.attrs, {name: DynamoType(_attribute(value)) for name, value in attrs.items()})
            table.items[hash_value][range_value] = item
    return put


def _attribute(value) -> dict:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float)):
        return {"N": str(value)}
    return {"S": str(value)}
