"""Counters that move exactly once per event, and the reactions ledger, on DynamoDB.

`apply_once` is one TransactWriteItems: a conditional put of the event's marker in the reactions table plus
an ADD on every counter item. If the marker is there already (a redelivered stream record, a replayed batch,
a retried HTTP request), the whole transaction is cancelled and nothing moves. The low-level client of the
pynamodb connection is used because the counter attributes are named by the services, not declared on a
model; it is the same client (and retry policy) as every other table's.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Iterator, Sequence

from botocore.exceptions import ClientError

from chalicelib.adapters.tables import COUNTER_TABLES, ReactionTable
from chalicelib.domain.errors import ConcurrentUpdate, LimitReached
from chalicelib.services.ports import Increment

# Longer than a stream record can live (24 h) plus the parking queue's retention (14 days): a replay of a
# parked record still finds the markers of what it already did.
LEDGER_DAYS = 30


def _client():
    return ReactionTable._get_connection().connection.client


def _value(value) -> dict:
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, (int, float, Decimal)):
        return {"N": str(value)}
    return {"S": str(value)}


def _plain(attribute: dict):
    (kind, value), = attribute.items()
    if kind == "N":
        number = Decimal(value)
        return int(number) if number == number.to_integral_value() else float(number)
    if kind == "S":
        return value
    if kind == "BOOL":
        return value
    if kind == "NULL":
        return None
    raise ValueError(f"unexpected attribute type {kind}")


def _key(table: str, key: tuple[str, ...]) -> dict:
    model = COUNTER_TABLES[table]
    names = [model._hash_keyname]
    if model._range_keyname:
        names.append(model._range_keyname)
    if len(names) != len(key):
        raise ValueError(f"{table} needs a key of {names}, got {key!r}")
    return {name: {"S": part} for name, part in zip(names, key)}


def _update(inc: Increment) -> dict:
    names, values, adds, sets, conditions = {}, {}, [], [], []
    for i, (field, amount) in enumerate(sorted(inc.add.items())):
        names[f"#a{i}"] = field
        values[f":a{i}"] = _value(amount)
        adds.append(f"#a{i} :a{i}")
    for i, (field, value) in enumerate(sorted(inc.set.items())):
        names[f"#s{i}"] = field
        values[f":s{i}"] = _value(value)
        sets.append(f"#s{i} = :s{i}")
    for i, (field, bound) in enumerate(sorted(inc.below.items())):
        names[f"#b{i}"] = field
        values[f":b{i}"] = _value(bound)
        conditions.append(f"(attribute_not_exists(#b{i}) OR #b{i} < :b{i})")
    expression = " ".join(part for part in (
        "ADD " + ", ".join(adds) if adds else "", "SET " + ", ".join(sets) if sets else "") if part)
    update = {"TableName": COUNTER_TABLES[inc.table].Meta.table_name, "Key": _key(inc.table, inc.key),
              "UpdateExpression": expression, "ExpressionAttributeNames": names}
    if values:
        update["ExpressionAttributeValues"] = values
    if conditions:
        update["ConditionExpression"] = " AND ".join(conditions)
    return {"Update": update}


class DynamoCounters:
    def apply_once(self, marker: str, increments: Sequence[Increment], *, at: datetime) -> bool:
        if len(increments) > 99:
            raise ValueError("one transaction holds at most 100 items")
        expires = int((at + timedelta(days=LEDGER_DAYS)).timestamp())
        items = [{"Put": {
            "TableName": ReactionTable.Meta.table_name,
            "Item": {"key": {"S": marker}, "state": {"S": "done"}, "at": {"S": _utc(at)},
                     "expires_at": {"N": str(expires)}},
            "ConditionExpression": "attribute_not_exists(#k)", "ExpressionAttributeNames": {"#k": "key"},
        }}] + [_update(inc) for inc in increments if inc.add or inc.set]
        try:
            _client().transact_write_items(TransactItems=items)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "TransactionCanceledException":
                raise
            reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
            if reasons and reasons[0] == "ConditionalCheckFailed":
                return False  # this event was applied before
            if "ConditionalCheckFailed" in reasons[1:]:
                raise LimitReached("A limit on this counter has been reached.") from exc
            if "TransactionConflict" in reasons:
                # Another transaction on the same counters at the same moment (a crowd rating one outlet):
                # a 409 the client may retry, not a 500. The stream processor still sees it as transient
                # (it reads the cause's cancellation reasons).
                raise ConcurrentUpdate("Someone else updated these counters at the same moment; try again.") from exc
            raise  # throttling and the like: the caller retries
        return True

    def get(self, table: str, key: tuple[str, ...], *, consistent: bool = False) -> dict | None:
        found = _client().get_item(TableName=COUNTER_TABLES[table].Meta.table_name, Key=_key(table, key),
                                   ConsistentRead=consistent).get("Item")
        return {name: _plain(value) for name, value in found.items()} if found else None

    def get_many(self, table: str, keys: Sequence[tuple[str, ...]]) -> dict[tuple[str, ...], dict]:
        keys = list(dict.fromkeys(tuple(k) for k in keys))
        if len(keys) > 100:
            raise ValueError("one BatchGetItem reads at most 100 keys")
        model = COUNTER_TABLES[table]
        names = [model._hash_keyname] + ([model._range_keyname] if model._range_keyname else [])
        name = model.Meta.table_name
        found: dict[tuple[str, ...], dict] = {}
        request = {name: {"Keys": [_key(table, k) for k in keys]}} if keys else {}
        for _ in range(8):  # keys left unprocessed (throttling) are asked for again, a few times
            if not request:
                break
            page = _client().batch_get_item(RequestItems=request)
            for raw in page.get("Responses", {}).get(name, []):
                item = {n: _plain(v) for n, v in raw.items()}
                found[tuple(item[n] for n in names)] = item
            request = page.get("UnprocessedKeys") or {}
        if request:
            raise ConcurrentUpdate("The counters are busy right now; try again.")
        return found

    def query(self, table: str, partition: str, *, start: str | None = None, end: str | None = None,
              limit: int | None = None, reverse: bool = False) -> Iterator[dict]:
        model = COUNTER_TABLES[table]
        hash_name, range_name = model._hash_keyname, model._range_keyname
        names, values = {"#h": hash_name}, {":h": {"S": partition}}
        condition = "#h = :h"
        if start is not None or end is not None:
            names["#r"] = range_name
            if start is not None and end is not None:
                condition += " AND #r BETWEEN :lo AND :hi"
                values.update({":lo": {"S": start}, ":hi": {"S": end}})
            elif start is not None:
                condition += " AND #r >= :lo"
                values[":lo"] = {"S": start}
            else:
                condition += " AND #r <= :hi"
                values[":hi"] = {"S": end}
        kwargs = {"TableName": model.Meta.table_name, "KeyConditionExpression": condition,
                  "ExpressionAttributeNames": names, "ExpressionAttributeValues": values}
        if reverse:
            kwargs["ScanIndexForward"] = False
        left = limit
        while True:
            if left is not None:
                kwargs["Limit"] = left  # a page of a limited read holds only what is still wanted
            page = _client().query(**kwargs)
            for item in page.get("Items", []):
                yield {name: _plain(value) for name, value in item.items()}
            if left is not None:
                left -= len(page.get("Items", []))
                if left <= 0:
                    return
            if "LastEvaluatedKey" not in page:
                return
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _utc(at: datetime) -> str:
    return at.astimezone(timezone.utc).isoformat(timespec="microseconds")


class DynamoLedger:
    """Claim, act, complete: for reactions whose effect (a message) cannot join a DynamoDB transaction."""

    def claim(self, marker: str, *, now: datetime, lease_seconds: float) -> str:
        expires = int((now + timedelta(days=LEDGER_DAYS)).timestamp())
        try:
            _client().put_item(
                TableName=ReactionTable.Meta.table_name,
                Item={"key": {"S": marker}, "state": {"S": "claimed"}, "at": {"S": _utc(now)},
                      "lease_until": {"S": _utc(now + timedelta(seconds=lease_seconds))},
                      "expires_at": {"N": str(expires)}},
                # new, or a claim whose worker died before completing (its lease ran out)
                ConditionExpression="attribute_not_exists(#k) OR (#s = :claimed AND #l < :now)",
                ExpressionAttributeNames={"#k": "key", "#s": "state", "#l": "lease_until"},
                ExpressionAttributeValues={":claimed": {"S": "claimed"}, ":now": {"S": _utc(now)}},
                # a refused claim returns the item it met: a redelivery costs no second read
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
            item = exc.response.get("Item") or _client().get_item(
                TableName=ReactionTable.Meta.table_name, Key={"key": {"S": marker}}, ConsistentRead=True).get("Item") or {}
            return "done" if item.get("state", {}).get("S") == "done" else "busy"
        return "claimed"

    def complete(self, marker: str, *, now: datetime) -> None:
        _client().update_item(
            TableName=ReactionTable.Meta.table_name, Key={"key": {"S": marker}},
            UpdateExpression="SET #s = :done, #a = :now REMOVE #l",
            ExpressionAttributeNames={"#s": "state", "#a": "at", "#l": "lease_until"},
            ExpressionAttributeValues={":done": {"S": "done"}, ":now": {"S": _utc(now)}},
        )

    def release(self, marker: str) -> None:
        try:
            _client().delete_item(
                TableName=ReactionTable.Meta.table_name, Key={"key": {"S": marker}},
                ConditionExpression="#s = :claimed", ExpressionAttributeNames={"#s": "state"},
                ExpressionAttributeValues={":claimed": {"S": "claimed"}},
            )
        except ClientError as exc:  # completed meanwhile: keep the 'done'
            if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                raise
