"""DynamoDB requests per operation, counted through botocore events, and in-process throughput.

    python -m bench.dynamodb_requests [--n 200]

Runs the real app (chalice.test.Client) on moto. Counts are per operation on a warm container:
every botocore `before-call.dynamodb.*` event is one request on the wire.
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import time

os.environ.update({
    "QALQAN_SECRET": "bench-secret-bench-secret-bench-secret", "AWS_REGION": "eu-central-1",
    "AWS_DEFAULT_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "POWERTOOLS_TRACE_DISABLED": "true", "LOG_LEVEL": "WARNING",
    "TABLE_PREFIX": "qalqan-bench", "QUEUE_SETTLE_SECONDS": "0",
})
os.environ.pop("AWS_ENDPOINT_URL", None)

TEXT = "На кассе пробили товар дважды, обсчитали на 2000 тенге, чек выдали только после скандала."


class Counter:
    def __init__(self) -> None:
        self.calls = collections.Counter()

    def __call__(self, event_name, **kwargs):
        self.calls[event_name.rsplit(".", 1)[-1]] += 1

    def take(self) -> collections.Counter:
        calls, self.calls = self.calls, collections.Counter()
        return calls


def attach(counter: Counter) -> None:
    from chalicelib.adapters.tables import ALL_TABLES

    for table in ALL_TABLES:
        client = table._get_connection().connection.client
        client.meta.events.register("before-call.dynamodb", counter, unique_id=f"bench-{table.__name__}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    args = parser.parse_args()
    from chalice.test import Client
    from moto import mock_aws

    with mock_aws():
        from chalicelib.adapters.tables import create_tables
        from chalicelib.bootstrap import container

        create_tables()
        from local.seed import seed_demo

        demo = seed_demo(container())
        from app import app

        code = demo["outlets"][0]["code"]
        counter = Counter()
        attach(counter)
        headers = {"Content-Type": "application/json"}
        with Client(app) as client:
            def post(path, body, extra=None):
                return client.http.post(path, body=json.dumps(body), headers={**headers, **(extra or {})})

            post("/complaints", {"outlet_code": code, "text": TEXT})  # warm-up
            counter.take()
            ops = {
                "POST /complaints (QR outlet)": lambda i: post("/complaints", {"outlet_code": code, "text": TEXT}),
                "POST /complaints (business, no sticker)": lambda i: post("/complaints", {
                    "business": {"bin": "950341000052", "name": "Shop", "region": "75"}, "text": TEXT}),
                "POST /complaints with Idempotency-Key": lambda i: post(
                    "/complaints", {"outlet_code": code, "text": TEXT}, {"Idempotency-Key": f"k{i}"}),
                "POST /complaints retried (same key)": lambda i: post(
                    "/complaints", {"outlet_code": code, "text": TEXT}, {"Idempotency-Key": "k0"}),
                "POST /routing/preview (with outlet)": lambda i: post(
                    "/routing/preview", {"text": TEXT, "outlet_code": code}),
                "GET /outlets/{code}": lambda i: client.http.get(f"/outlets/{code}"),
                "GET /catalog": lambda i: client.http.get("/catalog"),
            }
            created = post("/complaints", {"outlet_code": code, "text": TEXT}).json_body
            counter.take()
            ops["GET /complaints/{id}?token"] = lambda i: client.http.get(
                f"/complaints/{created['id']}?token={created['tracking_token']}")
            ops["GET /complaints/{id} wrong token"] = lambda i: client.http.get(
                f"/complaints/{created['id']}?token=wrong")
            # Working a case: each action needs a case in the right state, so make one per iteration first.
            agency_key = demo["keys"]["agencies"][created["agency"]["id"]]
            business_key = demo["keys"]["businesses"][demo["outlets"][0]["business_bin"]]
            auth = {"agency": {"Authorization": f"Bearer {agency_key}"},
                    "business": {"Authorization": f"Bearer {business_key}"}}
            fresh = [post("/complaints", {"outlet_code": code, "text": TEXT, "contact": {
                "name": "Bench Person", "phone": "+77011234567"}}).json_body for _ in range(args.n)]
            counter.take()
            ops["GET /agency/complaints (page of 50)"] = lambda i: client.http.get(
                "/agency/complaints?limit=50", headers=auth["agency"])
            ops["GET /agency/complaints/{id} (with contact)"] = lambda i: client.http.get(
                f"/agency/complaints/{fresh[i]['id']}", headers=auth["agency"])
            ops["GET /business/complaints/{id}"] = lambda i: client.http.get(
                f"/business/complaints/{fresh[i]['id']}", headers=auth["business"])
            ops["POST /business/complaints/{id}/response"] = lambda i: post(
                f"/business/complaints/{fresh[i]['id']}/response", {"message": "We refund", "offer": "refund"},
                auth["business"])
            ops["POST /complaints/{id}/feedback"] = lambda i: post(
                f"/complaints/{fresh[i]['id']}/feedback", {"accepted": False, "stars": 2},
                {"X-Tracking-Token": fresh[i]["tracking_token"]})
            ops["POST /agency/complaints/{id}/status"] = lambda i: post(
                f"/agency/complaints/{fresh[i]['id']}/status", {"status": "in_review"}, auth["agency"])
            print(f"DynamoDB requests per operation (warm, mean of {args.n}; moto in-process)")
            for name, op in ops.items():
                started = time.perf_counter()
                for i in range(args.n):
                    response = op(i)
                    assert response.status_code < 300 or "wrong" in name, (name, response.body[:200])
                elapsed = time.perf_counter() - started
                calls = counter.take()
                per_op = sum(calls.values()) / args.n
                detail = ", ".join(f"{k} {v / args.n:g}" for k, v in sorted(calls.items())) or "none"
                print(f"  {name:42s} {per_op:4.2f} requests ({detail});  {args.n / elapsed:7.0f} ops/s in-process")
            from app import qr_resolver
            from local.server import function_url_event

            event = function_url_event("GET", f"/q/{code}", "", {})
            started = time.perf_counter()
            for _ in range(args.n):
                assert qr_resolver(event, None)["statusCode"] == 302
            elapsed = time.perf_counter() - started
            calls = counter.take()
            print(f"  {'QR resolver (function URL)':42s} {sum(calls.values()) / args.n:4.2f} requests "
                  f"({', '.join(f'{k} {v / args.n:g}' for k, v in calls.items())});  {args.n / elapsed:7.0f} ops/s in-process")
    print("Throughput is moto-bound and single-threaded: it shows the relative cost, not AWS latency.")


if __name__ == "__main__":
    main()
