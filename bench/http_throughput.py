"""Throughput and latency of the local stack over HTTP, with concurrent clients.

    python -m bench.http_throughput [--requests 400] [--clients 8]

Starts `python -m local` on a free 127.0.0.1 port, sends a bounded number of requests, stops it.
The figures describe this machine's embedded stack (moto in-process, 2 cores), not AWS.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import json
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEXT = "На кассе обсчитали: пробили товар дважды, чек выдали только после скандала, деньги не вернули."


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def _call(method: str, url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, float]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method,
                                 headers={"Content-Type": "application/json", **(headers or {})})
    started = time.perf_counter()
    try:
        with _OPENER.open(req, timeout=30) as resp:
            resp.read()
            status = resp.status
    except urllib.error.HTTPError as err:
        status = err.code
    return status, (time.perf_counter() - started) * 1000


def _run(name: str, count: int, clients: int, make_call) -> None:
    started = time.perf_counter()
    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = list(pool.map(make_call, range(count)))
    elapsed = time.perf_counter() - started
    latencies = sorted(ms for _, ms in results)
    statuses = sorted({status for status, _ in results})
    p95 = latencies[int(len(latencies) * 0.95) - 1]
    print(f"  {name:34s} {count / elapsed:7.1f} req/s  p50 {statistics.median(latencies):6.1f} ms  "
          f"p95 {p95:6.1f} ms  statuses {statuses}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    demo_file = Path(tempfile.mkdtemp()) / "demo.json"
    stack = subprocess.Popen([sys.executable, "-m", "local", "--port", str(port), "--demo-file", str(demo_file)],
                             cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            line = stack.stdout.readline()
            if line.startswith("ready") or not line:
                break
        demo = json.loads(demo_file.read_text())
        base, code = demo["api"], demo["outlets"][0]["code"]
        print(f"local stack over HTTP, {args.requests} requests per row, {args.clients} concurrent clients")
        _run("GET /q/<code> (resolver, 302)", args.requests, args.clients, lambda i: _call("GET", f"{base}/q/{code}"))
        _run("GET /outlets/<code>", args.requests, args.clients, lambda i: _call("GET", f"{base}/outlets/{code}"))
        _run("POST /complaints", args.requests, args.clients, lambda i: _call(
            "POST", f"{base}/complaints", {"outlet_code": code, "text": TEXT, "channel": "qr"},
            {"Idempotency-Key": f"bench-{i}"}))
        print("Moto in-process and one Python process on 2 cores: AWS Lambda scales out instead.")
    finally:
        stack.terminate()
        stack.wait(timeout=20)


if __name__ == "__main__":
    main()
