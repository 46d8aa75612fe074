"""Cold-start import cost of the Lambda code, as a ratio to `import boto3` measured in the same run.

    python -m bench.cold_start [--runs 9]

Each figure is the median over fresh interpreters, timed inside the process around the import
(interpreter start-up excluded, so the ratio compares what our code adds). It runs in the venv; the deployed
package's first calls, with only the runtime's boto3 beside it, are bench/cold_start_packaged.py's (`make bench-cold`).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV = {
    "QALQAN_SECRET": "bench-secret-bench-secret-bench-secret", "AWS_REGION": "eu-central-1",
    "AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "POWERTOOLS_TRACE_DISABLED": "true",
}
CASES = {
    "import boto3": "import boto3",
    "import app": "import app",
    "import app + wire DynamoDB (first request)": "import app\nfrom chalicelib.bootstrap import container\ncontainer()",
    "+ request validation (first POST /complaints)": (
        "import app\nfrom chalicelib.bootstrap import container\ncontainer()\nimport chalicelib.api.schemas"
    ),
    "sticker rendering modules (admin only)": "import chalicelib.stickers",
}
PROBE = """
import sys, time, json
t = time.perf_counter()
exec({code!r})
elapsed = time.perf_counter() - t
print(json.dumps({{"ms": elapsed * 1000, "heavy": [m for m in ("PIL", "qrcode", "pydantic") if m in sys.modules]}}))
"""


def measure(code: str) -> dict:
    env = {**os.environ, **ENV}
    out = subprocess.run([sys.executable, "-c", PROBE.format(code=code)], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    samples = {name: [] for name in CASES}
    heavy = {}
    for _ in range(args.runs):  # interleaved, so machine noise hits every case alike
        for name, code in CASES.items():
            result = measure(code)
            samples[name].append(result["ms"])
            heavy[name] = result["heavy"]
    base = statistics.median(samples["import boto3"])
    print(f"cold-start imports, median of {args.runs} fresh interpreters (python {sys.version.split()[0]})")
    for name, values in samples.items():
        median = statistics.median(values)
        print(f"  {name:48s} {median:7.1f} ms  ratio {median / base:4.2f}  heavy modules loaded: "
              f"{', '.join(heavy[name]) or 'none'}")
    ratio = statistics.median(samples["import app"]) / base
    print(f"import app / import boto3 = {ratio:.2f} (budget 1.30) -> {'OK' if ratio <= 1.3 else 'OVER BUDGET'}")


if __name__ == "__main__":
    main()
