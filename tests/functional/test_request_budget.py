"""DynamoDB requests per operation, counted through botocore events (not timed)."""
import json



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
    assert dynamodb_calls == {"GetItem": 2}  # the outlet, then its rating (one item, whatever its history)
