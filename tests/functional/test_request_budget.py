"""DynamoDB requests per operation, counted through botocore events (not timed)."""
import collections
import json

import pytest


@pytest.fixture
def dynamodb_calls(services, demo):
    from chalicelib.adapters.tables import ALL_TABLES

    calls = collections.Counter()

    def count(event_name, **kwargs):
        calls[event_name.rsplit(".", 1)[-1]] += 1

    for table in ALL_TABLES:
        table._get_connection().connection.client.meta.events.register(
            "before-call.dynamodb", count, unique_id=f"budget-{table.__name__}")
    yield calls
    for table in ALL_TABLES:
        table._get_connection().connection.client.meta.events.unregister(
            "before-call.dynamodb", unique_id=f"budget-{table.__name__}")


def _submit(client, body, headers=None):
    return client.http.post("/complaints", body=json.dumps(body),
                            headers={"Content-Type": "application/json", **(headers or {})})


def test_a_submission_costs_at_most_two_requests_and_never_a_scan(client, demo, dynamodb_calls):
    code = demo["outlets"][0]["code"]
    text = "На кассе обсчитали: пробили товар дважды, чек выдали только после скандала."
    _submit(client, {"outlet_code": code, "text": text})  # warm: clients and catalogue loaded
    dynamodb_calls.clear()
    for i in range(5):
        assert _submit(client, {"outlet_code": code, "text": text}, {"Idempotency-Key": f"k{i}"}).status_code == 201
    assert dynamodb_calls == {"GetItem": 5, "PutItem": 5}
    dynamodb_calls.clear()
    assert client.http.get("/catalog").status_code == 200
    assert client.http.get(f"/outlets/{code}").status_code == 200
    assert dynamodb_calls == {"GetItem": 1}
