"""Web Push latency and the Open311 list on the local stack: `python -m bench.push_open311 [--runs 5]`.

Starts `python -m local` on a free port, then per run: a complaint, a device subscribed through the fake push
service, the agency takes the case, and the time until the decrypted push is in /_local/outbox (the write, the
stream pump's poll, the reactions, the sender's encryption (http_ece) and VAPID signature (py_vapid), the fake service's check and
decryption). Then the mean time of GET /open311/v2/requests.json?status=open over HTTP. Prints one JSON line.
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import uuid
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.push_open311")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    from tests.e2e.conftest import start_stack

    stack, _ = start_stack(Path(tempfile.mkdtemp()))
    try:
        outlet = stack.demo["outlets"][1]
        latencies = []
        for n in range(args.runs):
            _, made = stack.json("POST", "/complaints", {
                "outlet_code": outlet["code"], "language": "ru",
                "text": f"Продали просроченный товар, деньги не вернули (замер {n})."},
                {"Idempotency-Key": f"bench-push-{uuid.uuid4()}"})
            token = {"X-Tracking-Token": made["tracking_token"]}
            _, device = stack.json("POST", "/_local/push/subscriptions")
            stack.json("POST", f"/complaints/{made['id']}/push-subscriptions", {"subscription": device}, token)
            agency = {"Authorization": f"Bearer {stack.demo['keys']['agencies'][made['agency']['id']]}"}
            started = time.monotonic()
            stack.json("POST", f"/agency/complaints/{made['id']}/status", {"status": "in_review"}, agency)
            while True:
                _, box = stack.json("GET", f"/_local/outbox?complaint_id={made['id']}")
                if any(item["channel"] == "webpush" for item in box["items"]):
                    break
                if time.monotonic() - started > 30:
                    raise SystemExit("no push within 30 s")
                time.sleep(0.02)
            latencies.append(time.monotonic() - started)
        started, reads = time.monotonic(), 20
        for _ in range(reads):
            stack.request("GET", "/open311/v2/requests.json?status=open")
        list_ms = (time.monotonic() - started) / reads * 1000
    finally:
        stack.process.terminate()
        stack.process.wait(timeout=20)
    print(json.dumps({"push_latency_s": [round(x, 2) for x in latencies],
                      "push_latency_median_s": round(statistics.median(latencies), 2),
                      "open311_list_mean_ms": round(list_ms, 1)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
