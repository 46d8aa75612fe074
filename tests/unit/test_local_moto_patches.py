"""local/moto_patches.py: the local stack's cheaper moto transactions and Queries must mean the same thing.

A cancelled transaction leaves every item as it was (the snapshot deep-copies exactly the items it names);
a committed one keeps its writes; a table Query returns the same items, in the same order, as moto's own.
"""
from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from local import moto_patches


@pytest.fixture
def dynamodb(monkeypatch):
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-central-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "x")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "x")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-central-1")
        client.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                       {"AttributeName": "sk", "KeyType": "RANGE"}],
                            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                                  {"AttributeName": "sk", "AttributeType": "S"}])
        for i in range(30):
            client.put_item(TableName="t", Item={"pk": {"S": f"p{i % 3}"}, "sk": {"S": f"s{i:02d}"}, "n": {"N": "1"}})
        moto_patches.install()
        try:
            yield client
        finally:
            moto_patches.uninstall()


def _add(pk, sk, condition=None):
    update = {"TableName": "t", "Key": {"pk": {"S": pk}, "sk": {"S": sk}}, "UpdateExpression": "ADD n :one",
              "ExpressionAttributeValues": {":one": {"N": "1"}}}
    if condition:
        update["ConditionExpression"] = condition
    return {"Update": update}


def _n(client, pk, sk):
    item = client.get_item(TableName="t", Key={"pk": {"S": pk}, "sk": {"S": sk}}).get("Item")
    return int(item["n"]["N"]) if item else None


def test_a_cancelled_transaction_leaves_every_item_as_it_was(dynamodb):
    with pytest.raises(ClientError) as caught:
        dynamodb.transact_write_items(TransactItems=[
            _add("p0", "s00"), _add("p9", "new"),                     # applied, then rolled back
            _add("p1", "s01", condition="attribute_not_exists(n)"),   # fails: n exists
        ])
    assert caught.value.response["Error"]["Code"] == "TransactionCanceledException"
    assert (_n(dynamodb, "p0", "s00"), _n(dynamodb, "p9", "new"), _n(dynamodb, "p1", "s01")) == (1, None, 1)


def test_a_committed_transaction_keeps_its_writes(dynamodb):
    dynamodb.transact_write_items(TransactItems=[_add("p0", "s00"), _add("p9", "new")])
    assert (_n(dynamodb, "p0", "s00"), _n(dynamodb, "p9", "new")) == (2, 1)


def test_a_table_query_returns_the_partition_in_order_and_pages(dynamodb):
    def query(**extra):
        return dynamodb.query(TableName="t", KeyConditionExpression="pk = :p",
                              ExpressionAttributeValues={":p": {"S": "p1"}}, **extra)

    everything = [i["sk"]["S"] for i in query()["Items"]]
    assert everything == [f"s{i:02d}" for i in range(1, 30, 3)]
    first = query(Limit=4)
    second = query(Limit=4, ExclusiveStartKey=first["LastEvaluatedKey"])
    assert [i["sk"]["S"] for i in first["Items"] + second["Items"]] == everything[:8]
    assert [i["sk"]["S"] for i in query(ScanIndexForward=False)["Items"]] == everything[::-1]
