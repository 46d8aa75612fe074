"""Cold starts of the deployable package, as Lambda runs it: `python -m bench.cold_start_packaged` (`make bench-cold`).

    python -m bench.cold_start_packaged [--runs 9] [--reuse | --zip PATH] [--boto3 venv|<version>] [--importtime CASE]
                                        [--steps]

Builds the dev package with tools/package.py into build/bench-package/dev/ (--reuse: the one built last time;
--zip PATH: any deployment.zip, e.g. dist/dev/deployment.zip), unzips it to a temporary /var/task, and times in fresh interpreters the FIRST CALL, end to end inside the process (importing the
handler's module, then calling it once), of:

  lean       a hand-written handler doing one boto3 DynamoDB GetItem (the yardstick of the issue)
  resolver   app.qr_resolver, the function URL handler, answering 302 for a seeded outlet
  complaint  app.app, the API Gateway handler, answering 201 to POST /complaints

All three against the same local DynamoDB (a moto server on 127.0.0.1 started here, its tables created and one
business and outlet seeded through the app's own use cases; AWS_ENDPOINT_URL points the SDK at it). The cases
are interleaved run by run, so machine load hits them alike; each figure is a median, and the ratios to the lean
handler come from the same run.

What each process sees, like the Lambda python3.11 runtime: /var/task (the unzipped package) first, then a
"runtime" directory holding boto3, botocore, s3transfer, jmespath, dateutil, urllib3 and six, precompiled
(Lambda's /var/runtime is), then the standard library. Never the venv's site-packages: the interpreter runs
with -I -S, so no site directory and no .pth file is read. By default the runtime directory is the venv's own
copies of those packages, copied alone (offline, and the botocore the test suite checks the code against: AWS
updates the runtime's SDK per region without notice, so no one pin is "the" runtime's). `--boto3 1.40.4`
instead pip-installs that version into build/lambda-runtime/ once (needs PyPI) to measure against a pin.

Interpreter start-up is not timed (it is the same for every handler). The verdicts use wall-clock time (what
Lambda bills); the process's CPU time is printed beside it, as it suffers less when other work loads the machine
(it leaves out the wait for the moto server, which runs in this process, on the loopback). Prints the medians, the ratios against the targets of issue 8 (resolver
<= 1.0x lean, POST /complaints <= 1.5x lean), and the zip's size zipped, unzipped, and unzipped without Pillow
(target < 25 MiB). --importtime CASE prints, for one fresh process of that case, the modules that cost most
(python -X importtime, cumulative), to see where the time goes. --steps times a cold POST /complaints step by
step instead (importing app.py, the adapters, the container, pydantic and the complaint's models, the classifier,
then the call), each step's own CPU time, median of --runs processes.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "build" / "lambda-runtime"
# Its own output directory: a `make package` running in another shell rewrites dist/dev/ under our feet.
PACKAGE_OUT = ROOT / "build" / "bench-package" / "dev"
STAGE = "dev"
REGION = "eu-central-1"
TABLE_PREFIX = "qalqan-bench"
# What the Lambda python3.11 runtime puts on sys.path after /var/task (tools/package.py drops them from the zip).
RUNTIME_MODULES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")
PILLOW_PREFIXES = ("PIL/", "pillow.libs/", "pillow-")
MIB = 1024 * 1024
TARGETS = {"resolver": 1.0, "complaint": 1.5}
UNZIPPED_WITHOUT_PILLOW_TARGET_MIB = 25

LEAN_HANDLER = '''"""The yardstick: what a hand-written function URL handler doing one GetItem costs."""
import os

import boto3

TABLE = os.environ["TABLE_PREFIX"] + "-outlets"
dynamodb = boto3.client("dynamodb")


def handler(event, context):
    code = event["rawPath"].strip("/")
    item = dynamodb.get_item(TableName=TABLE, Key={"code": {"S": code}}).get("Item")
    if item is None:
        return {"statusCode": 404, "body": ""}
    return {"statusCode": 302, "headers": {"Location": "https://example.kz/?o=" + code}, "body": ""}
'''

# Runs in the fresh interpreter. sys.path is set before the clock starts: Lambda's bootstrap has done it too.
# The handler is imported the way Lambda does it: the module and attribute named in the template's Handler.
PROBE = r'''
import sys
task, runtime, lean_dir, case, handler_name, event_path, steps = sys.argv[1:8]
sys.path[:0] = [task, lean_dir, runtime]
import importlib, json, time


class Context:
    function_name = "qalqan-dev-" + case
    function_version = "$LATEST"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:eu-central-1:000000000000:function:" + function_name
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/" + function_name
    log_stream_name = "bench"

    def __init__(self):
        self._deadline = time.monotonic() + 29

    def get_remaining_time_in_millis(self):
        return int((self._deadline - time.monotonic()) * 1000)


with open(event_path, encoding="utf-8") as f:
    event = json.load(f)
context = Context()
module_name, _, attribute = handler_name.rpartition(".")
marks = []


def mark(name):
    marks.append((name, (time.process_time() - cpu_started) * 1000))


started, cpu_started = time.perf_counter(), time.process_time()
handler = getattr(importlib.import_module(module_name), attribute)
if steps == "steps":  # what the first POST /complaints would load anyway, one part at a time, then the call
    mark("import app.py: Powertools, Chalice, the blueprints, the domain")
    import chalicelib.adapters.counters
    mark("the adapters: botocore, pynamodb, the table models")
    from chalicelib.bootstrap import container
    c = container()
    mark("the container: catalogue, deadline and routing rules")
    import pydantic
    mark("import pydantic")
    import chalicelib.api.complaint_schemas
    mark("pydantic's BaseModel and the rest, the complaint's models and use case")
    c.routing_model()
    mark("the routing classifier's model")
response = handler(event, context)
if steps == "steps":
    mark("the call: validation, routing, the DynamoDB clients and requests, the answer")
elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
shadowed = [m for m in ("boto3", "botocore") if getattr(sys.modules.get(m), "__file__", "").startswith(task)]
loaded = [m for m in ("app", "chalice", "aws_lambda_powertools", "pydantic", "phonenumbers", "PIL", "qrcode")
          if m in sys.modules]
print(json.dumps({"ms": elapsed * 1000, "cpu_ms": cpu * 1000, "status": response.get("statusCode"), "marks": marks,
                  "modules": len(sys.modules), "loaded": loaded, "shadowed": shadowed,
                  "body": str(response.get("body"))[:300]}))
'''


def build_package(reuse: bool, given: Path | None) -> Path:
    if given is not None:
        print(f"measuring {given} as given")
        return given
    zip_path = PACKAGE_OUT / "deployment.zip"
    if reuse and zip_path.exists():
        print(f"reusing {zip_path.relative_to(ROOT)} (built {_age(zip_path)} ago)")
        return zip_path
    print(f"building {PACKAGE_OUT.relative_to(ROOT)}/ with tools/package.py --stage {STAGE} ...", flush=True)
    result = subprocess.run([sys.executable, "-m", "tools.package", "--stage", STAGE, "--out", str(PACKAGE_OUT)],
                            cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"tools.package failed:\n{result.stdout}{result.stderr}")
    return zip_path


def _age(path: Path) -> str:
    import time

    minutes = (time.time() - path.stat().st_mtime) / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


def handlers(zip_path: Path) -> dict:
    """Each case's handler as the template deploys it (sam.json next to the zip), not as app.py names it; and the
    zip measured is the one the template gives the API and the resolver (deployment.zip: tools/package.py puts
    the reactions, with the Web Push stack, in a zip of their own)."""
    template = json.loads((zip_path.parent / "sam.json").read_text(encoding="utf-8"))
    functions = template["Resources"]
    for name in ("QrResolver", "APIHandler"):
        code = functions[name]["Properties"].get("CodeUri")
        if isinstance(code, str) and Path(code).name != zip_path.name:
            raise SystemExit(f"{zip_path} is not what {name} runs: the template gives it {code}")
    return {"lean": "lean_handler.handler", "resolver": functions["QrResolver"]["Properties"]["Handler"],
            "complaint": functions["APIHandler"]["Properties"]["Handler"]}


def sizes(zip_path: Path) -> dict:
    with zipfile.ZipFile(zip_path) as archive:
        infos = archive.infolist()
    unzipped = sum(i.file_size for i in infos)
    pillow = sum(i.file_size for i in infos if i.filename.startswith(PILLOW_PREFIXES))
    return {"zipped": zip_path.stat().st_size, "unzipped": unzipped, "pillow": pillow,
            "without_pillow": unzipped - pillow}


def runtime_dir(spec: str) -> Path:
    """A directory with only the runtime-provided packages, precompiled, as /var/runtime has them. Built once
    into a private directory and renamed into place, so two runs at once (the bench, test_package under
    pytest -n 2) never see a half-made one."""
    if spec == "venv":
        import boto3
        import botocore

        target = CACHE / f"venv-boto3-{boto3.__version__}-botocore-{botocore.__version__}"
    else:
        target = CACHE / f"pip-boto3-{spec}"
    if target.is_dir():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=target.name + ".", dir=CACHE))
    try:
        if spec == "venv":
            for name in RUNTIME_MODULES:
                source = Path(__import__(name).__file__)
                if source.name == "__init__.py":
                    shutil.copytree(source.parent, staging / name, ignore=shutil.ignore_patterns("__pycache__"))
                else:
                    shutil.copy2(source, staging / source.name)
        else:
            # --no-compile, then compileall: the same precompiled state as the venv copy, whatever pip defaults to.
            subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                            "--no-compile", "--target", str(staging), f"boto3=={spec}"], check=True)
        import compileall

        if not compileall.compile_dir(str(staging), ddir=str(target), quiet=1, workers=1):
            raise SystemExit(f"could not precompile {staging}")
        try:
            staging.rename(target)
        except OSError:  # another run put it in place first: theirs is as good
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def bench_environment(endpoint: str, secret: str) -> dict:
    """What the deployed dev stage sets (.chalice/config.json), pointed at the local endpoint."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text(encoding="utf-8"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHON", "QALQAN_", "POWERTOOLS_"))}
    env.update(config.get("environment_variables", {}))
    env.update(config["stages"][STAGE].get("environment_variables", {}))
    env.pop("QALQAN_SECRET_PARAMETER", None)  # the secret comes from the environment: no SSM here
    env.update({
        "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_SESSION_TOKEN": "bench",
        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "TABLE_PREFIX": TABLE_PREFIX, "QALQAN_SECRET": secret,
        "AWS_LAMBDA_FUNCTION_NAME": "qalqan-dev-bench", "LAMBDA_TASK_ROOT": "/var/task",
    })
    return env


def start_local_dynamodb():
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    return server, f"http://{host}:{port}"


def seed(env: dict) -> str:
    """Creates the tables and one business with one outlet through the app's use cases; returns its code."""
    os.environ.update(env)  # the app reads its settings once, at import: set them first
    sys.path.insert(0, str(ROOT))
    from chalicelib.adapters.tables import create_tables
    from chalicelib.bootstrap import container
    from chalicelib.services.admin import RegisterBusiness, RegisterOutlet, register_business, register_outlet

    create_tables()
    c = container()
    register_business(RegisterBusiness(bin="940140000385", name="ТОО «Таза Маркет»", region="71"),
                      businesses=c.businesses, clock=c.clock)
    outlet, _ = register_outlet(
        RegisterOutlet(business_bin="940140000385", name="Таза Маркет — Мәңгілік Ел",
                       address="Астана, пр. Мәңгілік Ел, 37", region="71", sector="grocery",
                       external_ref="bench-001", idempotency_key="bench:940140000385:001"),
        businesses=c.businesses, outlets=c.outlets, secret=c.settings.secret, clock=c.clock)
    return outlet.code


def events(code: str) -> dict:
    import time

    now = int(time.time() * 1000)
    function_url = {
        "version": "2.0", "routeKey": "$default", "rawPath": f"/{code}", "rawQueryString": "",
        "headers": {"accept-language": "ru-RU,ru;q=0.9", "user-agent": "bench"},
        "requestContext": {"http": {"method": "GET", "path": f"/{code}", "protocol": "HTTP/1.1",
                                    "sourceIp": "203.0.113.7", "userAgent": "bench"},
                           "requestId": "bench", "timeEpoch": now, "domainName": "q.dev.qalqan.kz"},
        "isBase64Encoded": False,
    }
    body = json.dumps({"outlet_code": code, "category": "overcharge", "language": "ru", "channel": "qr",
                       "text": "На кассе пробили сметану два раза, чек показали только после скандала."},
                      ensure_ascii=False)
    headers = {"content-type": "application/json", "accept-language": "ru", "host": "api.dev.qalqan.kz",
               "origin": "https://dev.qalqan.kz", "x-forwarded-for": "203.0.113.7"}
    api_gateway = {
        "resource": "/complaints", "path": "/complaints", "httpMethod": "POST",
        "headers": headers, "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "queryStringParameters": None, "multiValueQueryStringParameters": None, "pathParameters": None,
        "stageVariables": None, "body": body, "isBase64Encoded": False,
        "requestContext": {"resourcePath": "/complaints", "httpMethod": "POST", "path": "/api/complaints",
                           "stage": "api", "requestId": "bench", "requestTimeEpoch": now,
                           "accountId": "000000000000", "apiId": "bench",
                           "identity": {"sourceIp": "203.0.113.7", "userAgent": "bench"}},
    }
    return {"lean": function_url, "resolver": function_url, "complaint": api_gateway}


EXPECTED_STATUS = {"lean": 302, "resolver": 302, "complaint": 201}


def run_case(case: str, paths: dict, env: dict, importtime: bool = False, steps: bool = False) -> dict:
    command = [sys.executable, "-I", "-S"] + (["-X", "importtime"] if importtime else []) + [
        "-c", PROBE, str(paths["task"]), str(paths["runtime"]), str(paths["lean"]), case,
        paths["handlers"][case], str(paths["events"][case]), "steps" if steps else "-"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=paths["lean"])
    if result.returncode != 0:
        raise SystemExit(f"{case}: the process failed:\n{result.stderr[-3000:]}")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if report["status"] != EXPECTED_STATUS[case]:
        raise SystemExit(f"{case}: expected {EXPECTED_STATUS[case]}, got {report['status']}: {report['body']}")
    if report["shadowed"]:
        raise SystemExit(f"{case}: {report['shadowed']} came from the package, not the runtime")
    report["stderr"] = result.stderr
    return report


def print_importtime(stderr: str, top: int = 30) -> None:
    rows = []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        own, cumulative, name = line[len("import time:"):].split("|")
        rows.append((int(cumulative), int(own), name.rstrip()))
    rows.sort(reverse=True)
    print(f"{'cumulative':>10s} {'self':>8s}  module (us, one process, python -X importtime)")
    for cumulative, own, name in rows[:top]:
        print(f"{cumulative:10d} {own:8d}  {name}")


def print_steps(paths: dict, env: dict, runs: int) -> None:
    """Each step's own CPU time in a cold POST /complaints, beside the lean handler's whole first call; the
    processes are interleaved like the main measurement's."""
    lean, complaint = [], []
    for _ in range(runs):
        lean.append(run_case("lean", paths, env)["cpu_ms"])
        complaint.append(run_case("complaint", paths, env, steps=True))
    names = [name for name, _ in complaint[0]["marks"]]
    print(f"cold POST /complaints, step by step: CPU ms, median of {runs} fresh processes")
    for i, name in enumerate(names):
        own = [r["marks"][i][1] - (r["marks"][i - 1][1] if i else 0.0) for r in complaint]
        print(f"  {statistics.median(own):7.1f}  {name}")
    total, yardstick = statistics.median(r["cpu_ms"] for r in complaint), statistics.median(lean)
    print(f"  {total:7.1f}  in all ({total / yardstick:.2f}x the lean handler's {yardstick:.1f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--reuse", action="store_true", help="reuse the package this bench built last time")
    parser.add_argument("--zip", type=Path, help="measure this deployment.zip (e.g. dist/dev/deployment.zip)")
    parser.add_argument("--boto3", default="venv", help="'venv' (default) or a boto3 version to pip-install")
    parser.add_argument("--importtime", choices=("lean", "resolver", "complaint"),
                        help="print where one cold start of this case spends its import time, then stop")
    parser.add_argument("--steps", action="store_true",
                        help="time a cold POST /complaints step by step (median of --runs), then stop")
    args = parser.parse_args(argv)

    zip_path = build_package(args.reuse, args.zip)
    size = sizes(zip_path)
    runtime = runtime_dir(args.boto3)
    server, endpoint = start_local_dynamodb()
    try:
        with tempfile.TemporaryDirectory(prefix="qalqan-cold-") as tmp:
            tmp_path = Path(tmp)
            task = tmp_path / "task"
            with zipfile.ZipFile(zip_path) as archive:
                archive.extractall(task)
            lean = tmp_path / "lean"
            lean.mkdir()
            (lean / "lean_handler.py").write_text(LEAN_HANDLER, encoding="utf-8")
            env = bench_environment(endpoint, secret="bench-secret-bench-secret-bench-secret-0001")
            code = seed(env)
            event_paths = {}
            for case, event in events(code).items():
                event_paths[case] = tmp_path / f"{case}.json"
                event_paths[case].write_text(json.dumps(event, ensure_ascii=False), encoding="utf-8")
            paths = {"task": task, "runtime": runtime, "lean": lean, "events": event_paths,
                     "handlers": handlers(zip_path)}

            if args.importtime:
                print_importtime(run_case(args.importtime, paths, env, importtime=True)["stderr"])
                return 0
            if args.steps:
                print_steps(paths, env, args.runs)
                return 0

            samples = {case: {"ms": [], "cpu_ms": []} for case in EXPECTED_STATUS}
            last = {}
            for _ in range(args.runs):  # interleaved: each round runs every case once
                for case in samples:
                    last[case] = run_case(case, paths, env)
                    for key in ("ms", "cpu_ms"):
                        samples[case][key].append(last[case][key])
    finally:
        server.stop()

    boto3_version = next(runtime.glob("boto3-*.dist-info"), None)
    print(f"\nfirst call after a cold start (import + one call), median of {args.runs} fresh processes, interleaved; "
          f"python {sys.version.split()[0]}, runtime SDK: {runtime.name}"
          f"{'' if boto3_version is None else ' (' + boto3_version.name + ')'}")
    print(f"  {'case':34s} {'handler':32s} {'wall ms':>8s} {'ratio':>6s} {'CPU ms':>8s} {'ratio':>6s}")
    medians = {case: {k: statistics.median(v) for k, v in values.items()} for case, values in samples.items()}
    labels = {"lean": "lean handler, one GetItem (302)", "resolver": "qr_resolver, function URL (302)",
              "complaint": "API, POST /complaints (201)"}
    verdicts = []
    for case, median in medians.items():
        wall = median["ms"] / medians["lean"]["ms"]
        cpu = median["cpu_ms"] / medians["lean"]["cpu_ms"]
        target = TARGETS.get(case)
        verdict = ""
        if target is not None:
            # Both clocks must agree: on a loaded machine one of them alone can pass or fail by luck.
            met = wall <= target and cpu <= target
            verdicts.append(met)
            verdict = f"  target <= {target:.1f}x: {'OK' if met else 'OVER'}"
        print(f"  {labels[case]:34s} {paths['handlers'][case]:32s} {median['ms']:8.1f} {wall:5.2f}x "
              f"{median['cpu_ms']:8.1f} {cpu:5.2f}x{verdict}")
    waited = medians["lean"]["ms"] / medians["lean"]["cpu_ms"]
    if waited > 1.5:
        print(f"  (the machine is loaded: the lean handler's wall time is {waited:.1f}x its CPU time, so the wall-clock "
              "ratios are noise; read the CPU ones)")
    for case in samples:
        print(f"  {case}: {last[case]['modules']} modules loaded; of the heavy ones: "
              f"{', '.join(last[case]['loaded']) or 'none'}")
    within = size["without_pillow"] / MIB < UNZIPPED_WITHOUT_PILLOW_TARGET_MIB
    verdicts.append(within)
    print(f"deployment.zip: {size['zipped'] / MIB:.1f} MiB zipped, {size['unzipped'] / MIB:.1f} MiB unzipped, "
          f"Pillow's share {size['pillow'] / MIB:.1f} MiB, without Pillow {size['without_pillow'] / MIB:.1f} MiB "
          f"(target < {UNZIPPED_WITHOUT_PILLOW_TARGET_MIB} MiB: {'OK' if within else 'OVER'})")
    reactions_zip = zip_path.with_name("reactions.zip")
    if reactions_zip.exists():  # not timed here: a stream's batch waits for it, no person does
        other = sizes(reactions_zip)
        print(f"reactions.zip (the stream reactions only): {other['zipped'] / MIB:.1f} MiB zipped, "
              f"{other['unzipped'] / MIB:.1f} MiB unzipped, without Pillow {other['without_pillow'] / MIB:.1f} MiB")
    return 0 if all(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
