"""The deployable package as `make package` builds it: two lean, precompiled zips and the merged template.

deployment.zip runs the API, the QR resolver, the deadline sweep and the open-data export; reactions.zip runs the
stream reactions, the only function that encrypts and signs Web Push (cryptography, http_ece, py_vapid).

Builds for real (`chalice package` fetches manylinux wheels from PyPI; ~10 s with a warm cache). Without the
network the build fails and so does this test, with chalice's message: a package that was never inspected
must not pass as a green suite.
"""

import json
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tools import package

ROOT = Path(__file__).resolve().parents[2]
# Dev-only code and the runtime's own copies: none of it may reach Lambda.
FORBIDDEN = ("boto3", "botocore", "s3transfer", "moto", "pytest", "_pytest", "sklearn", "scipy", "numpy",
             "local", "tests", "bench", "tools", "aws_xray_sdk", "wrapt", "dns", "six.py", "pywebpush", "aiohttp",
             "requests", "charset_normalizer", "multidict", "yarl", "frozenlist", "propcache", "attrs")
# Per zip: the Web Push stack only where pushes are sent; stickers and request models only where they are used.
WEB_PUSH = ("cryptography", "cffi", "pycparser", "http_ece", "py_vapid")
NOT_IN = {
    "deployment.zip": WEB_PUSH + ("_cffi_backend",),
    "reactions.zip": ("PIL", "pillow", "pillow.libs", "qrcode", "pydantic", "pydantic_core", "email_validator", "idna"),
}
MUST_HAVE = {
    "deployment.zip": ("app.py", "chalicelib", "pynamodb", "PIL", "pillow.libs", "qrcode", "pydantic", "chalice",
                       "aws_lambda_powertools", "phonenumbers", "email_validator"),
    "reactions.zip": ("app.py", "chalicelib", "pynamodb", "chalice", "aws_lambda_powertools") + WEB_PUSH,
}
FUNCTIONS = {"APIHandler": "deployment.zip", "QrResolver": "deployment.zip", "DeadlineSweep": "deployment.zip",
             "OpenDataExport": "deployment.zip", "Reactions": "reactions.zip"}


def _top(name: str) -> str:
    top = name.split("/")[0]
    if top.endswith((".dist-info", ".data")):
        return top.rsplit("-", 1)[0].split("-")[0]
    return top if "/" in name or top.endswith(".py") else top.split(".")[0]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("package") / "dev"
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "tools.package", "--stage", "dev", "--out", str(out)],
                            cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, (
        "`python -m tools.package --stage dev` failed (it needs PyPI to fetch Lambda's manylinux wheels):\n"
        + result.stdout + result.stderr)
    print(f"\npackage built in {time.monotonic() - started:.1f} s\n{result.stdout}")
    names = {}
    for zip_name in NOT_IN:
        with zipfile.ZipFile(out / zip_name) as archive:
            names[zip_name] = archive.namelist()
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        wheel = archive.read(next(n for n in names["deployment.zip"]
                                  if n.startswith("pillow-") and n.endswith(".dist-info/WHEEL")))
    template = json.loads((out / "sam.json").read_text(encoding="utf-8"))
    return {"out": out, "names": names["deployment.zip"], "zips": names, "pillow_wheel": wheel.decode(),
            "template": template}


@pytest.mark.parametrize("zip_name", sorted(NOT_IN))
def test_each_zip_is_lean_precompiled_and_has_only_what_its_functions_use(built, zip_name):
    names = built["zips"][zip_name]
    size = (built["out"] / zip_name).stat().st_size
    print(f"{zip_name}: {size / 1024 / 1024:.1f} MB, {len(names)} files")

    tops = {name.split("/")[0] for name in names}
    packages = {_top(name) for name in names}
    assert not tops & set(FORBIDDEN), f"forbidden content in {zip_name}: {sorted(tops & set(FORBIDDEN))}"
    assert not packages & set(FORBIDDEN), f"forbidden distributions in {zip_name}: {sorted(packages & set(FORBIDDEN))}"
    unwanted = {p.lower() for p in packages} & {n.lower() for n in NOT_IN[zip_name]}
    assert not unwanted, f"{zip_name} carries what its functions never import: {sorted(unwanted)}"
    assert not [n for n in names if "/tests/" in n], "a package's test suite was shipped"
    assert not [n for n in names if n.startswith("phonenumbers/geodata/")], "phonenumbers' geodata was shipped"
    missing_packages = set(MUST_HAVE[zip_name]) - tops
    assert not missing_packages, f"{zip_name} lacks {sorted(missing_packages)}"

    sources = [n for n in names if n.endswith(".py")]
    compiled = set(n for n in names if n.endswith(".pyc"))
    missing = []
    for source in sources:
        folder, _, file = source.rpartition("/")
        pyc = f"{folder + '/' if folder else ''}__pycache__/{file[:-3]}.cpython-311.pyc"
        if pyc not in compiled:
            missing.append(source)
    assert [s for s in sources if s.startswith("chalicelib/")], "no chalicelib sources in the zip"
    assert not missing, f"{len(missing)} .py without a python3.11 .pyc, e.g. {missing[:5]}"
    assert not [n for n in compiled if not n.endswith(".cpython-311.pyc")], "a .pyc for another Python version"


def test_the_main_zip_carries_a_manylinux_pillow_and_the_reactions_zip_no_sticker_code(built):
    names = built["names"]
    # A source-built Pillow links this machine's libraries, which Lambda doesn't have.
    assert "manylinux" in built["pillow_wheel"], f"Pillow did not come from a manylinux wheel:\n{built['pillow_wheel']}"
    assert [n for n in names if n.startswith("pillow.libs/")], "manylinux Pillow brings its libraries in pillow.libs/"
    assert "chalicelib/stickers.py" in names and [n for n in names if n.startswith("chalicelib/data/fonts/")]
    reactions = built["zips"]["reactions.zip"]
    assert not [n for n in reactions if n.startswith(("chalicelib/data/fonts/", "chalicelib/stickers.py"))]
    assert "chalicelib/adapters/webpush.py" in reactions and "chalicelib/streams/processor.py" in reactions


def test_every_function_runs_from_its_own_zip(built):
    functions = {name: r["Properties"] for name, r in built["template"]["Resources"].items()
                 if r["Type"] == "AWS::Serverless::Function"}
    assert {name: p["CodeUri"] for name, p in functions.items()} == {
        name: f"./{zip_name}" for name, zip_name in FUNCTIONS.items()}
    for zip_name in NOT_IN:
        assert (built["out"] / zip_name).is_file()


@pytest.mark.parametrize("zip_name", sorted(NOT_IN))
def test_the_zips_precompile_with_unchecked_hashes(built, zip_name):
    # Unchecked-hash .pyc are used without a stat of the source: the read-only /var/task never recompiles.
    with zipfile.ZipFile(built["out"] / zip_name) as archive:
        header = archive.read("chalicelib/__pycache__/__init__.cpython-311.pyc")[:16]
    flags = int.from_bytes(header[4:8], "little")
    assert flags == 0b01, f"expected an unchecked-hash .pyc (flags 1), got flags {flags}"


def test_the_merged_template_has_the_tables_the_function_url_and_the_reaction_guards(built):
    template = built["template"]
    resources = template["Resources"]
    for table in ("BusinessesTable", "OutletsTable", "ComplaintsTable", "ApiKeysTable"):
        assert resources[table]["Type"] == "AWS::DynamoDB::Table", table
    assert resources["ComplaintsTable"]["Properties"]["StreamSpecification"]["StreamViewType"] == "NEW_AND_OLD_IMAGES"

    assert resources["QrResolverUrl"]["Properties"]["AuthType"] == "NONE"
    assert resources["QrResolverUrl"]["Properties"]["TargetFunctionArn"] == {"Ref": "QrResolver"}
    url_permission = resources["QrResolverUrlInvokeUrlPermission"]["Properties"]
    assert (url_permission["Action"], url_permission["FunctionUrlAuthType"]) == ("lambda:InvokeFunctionUrl", "NONE")
    invoke_permission = resources["QrResolverUrlInvokeFunctionPermission"]["Properties"]
    assert (invoke_permission["Action"], invoke_permission["InvokedViaFunctionUrl"]) == ("lambda:InvokeFunction", True)

    # The guards are merged into the event source Chalice generated, not beside it.
    source = resources["Reactions"]["Properties"]["Events"]["ReactionsDynamodbEventSource"]
    assert source["Type"] == "DynamoDB" and "Stream" in source["Properties"]
    assert source["Properties"]["BisectBatchOnFunctionError"] is True
    assert source["Properties"]["DestinationConfig"]["OnFailure"]["Destination"] == {"Fn::GetAtt": ["ParkedQueue", "Arn"]}
    assert resources["Reactions"]["Properties"]["Environment"]["Variables"]["PARKED_QUEUE_URL"] == {"Ref": "ParkedQueue"}
    assert template["Parameters"]["Stage"]["Default"] == "dev"

    # The resolver's light entry point (no app.py on its cold start), and the module it names is in the zip.
    assert resources["QrResolver"]["Properties"]["Handler"] == "chalicelib.api.resolver.handler"
    assert resources["APIHandler"]["Properties"]["Handler"] == "app.app"
    assert "chalicelib/api/resolver.py" in built["names"] and "chalicelib/adapters/outlet_status.py" in built["names"]


def test_merging_refuses_a_conflict_and_sets_the_stage(tmp_path):
    assert package.deep_merge({"a": {"b": 1}}, {"a": {"c": 2}}) == {"a": {"b": 1, "c": 2}}
    with pytest.raises(package.PackageError, match=r"Resources\.X\.Type"):
        package.deep_merge({"Resources": {"X": {"Type": "A"}}}, {"Resources": {"X": {"Type": "B"}}})
    assert package.merge_template("prod")["Parameters"]["Stage"]["Default"] == "prod"


# Runs in the unzipped deployment.zip with only the runtime's boto3 beside it (python -I -S: no venv site-packages),
# the way Lambda loads the API, the resolver, the sweep and the export: everything they use must import and work
# from the stripped, pruned zip, and nothing of the Web Push stack is there to be imported by accident.
SMOKE_MAIN = r"""
import sys
sys.path[:0] = sys.argv[1:3]
import base64, importlib.util, io, json, os

import app  # every route, the wiring, Powertools; the sweep's and the export's handlers
from chalicelib.api import resolver, schemas, push_schemas
from chalicelib import stickers
from chalicelib.domain.codes import new_outlet_code
from chalicelib.services.push import check_keys
body = schemas.ComplaintIn.model_validate({
    "outlet_code": new_outlet_code(), "text": "На кассе пробили сметану два раза, чек не дали.",
    "contact": {"name": "Айгүл", "phone": "8 701 123 45 67", "email": "Aigul@Example.kz"}})
assert body.contact is not None  # email_validator without dnspython, phonenumbers without its geodata
png = stickers.render_sticker_png(stickers.StickerInfo("7K3M9QX2", "Дүкен", "ЖШС «Сауда»"),
                                  qr_base_url="https://q.qalqan.kz")
assert png[:8] == b"\x89PNG\r\n\x1a\n"  # Pillow's stripped libraries, qrcode, the fonts
# a browser's subscription key, checked on the curve without cryptography (a point made elsewhere: argv[3])
check_keys(sys.argv[3], base64.urlsafe_b64encode(os.urandom(16)).decode())
for name in ("cryptography", "cffi", "_cffi_backend", "http_ece", "py_vapid", "pywebpush"):
    assert importlib.util.find_spec(name) is None, name + " is in the API's zip"
print("ok")
"""

# The reactions function from reactions.zip, end to end: the tables and a push subscription on a local DynamoDB
# (a moto server in the test process), the recorded lifecycle of a complaint through app.reactions, and every
# status change pushed to a device through the local fake push service (which checks the VAPID signature and
# decrypts the body with the device's private key, as a browser's push service and the browser would).
SMOKE_REACTIONS = r"""
import sys
sys.path[:0] = sys.argv[1:3]
import importlib.util, json, os
from datetime import datetime, timezone
import boto3

os.environ["PARKED_QUEUE_URL"] = boto3.client("sqs").create_queue(QueueName="parked")["QueueUrl"]
os.environ["NOTIFICATIONS_TOPIC_ARN"] = boto3.client("sns").create_topic(Name="notifications")["TopicArn"]
from chalicelib.adapters.tables import create_tables
create_tables()
import app
from chalicelib.adapters.webpush import VaultPushSubscriptions
from chalicelib.services.ports import PushSubscription
from chalicelib.services.push import push_ref, subscription_id

sub = json.loads(sys.argv[4])
VaultPushSubscriptions().add(push_ref(os.environ["QALQAN_SECRET"], "BMYQG7XM2STH"), PushSubscription(
    id=subscription_id(sub["endpoint"]), endpoint=sub["endpoint"], p256dh=sub["keys"]["p256dh"],
    auth=sub["keys"]["auth"], lang="ru"), limit=5, at=datetime.now(timezone.utc))

class Context:
    function_name, memory_limit_in_mb, aws_request_id = "qalqan-dev-reactions", 512, "smoke"
    invoked_function_arn = "arn:aws:lambda:eu-central-1:000000000000:function:qalqan-dev-reactions"
    def get_remaining_time_in_millis(self):
        return 120000

with open(sys.argv[3], encoding="utf-8") as events:
    report = app.reactions({"Records": json.load(events)["Records"]}, Context())
for name in ("PIL", "qrcode", "pydantic", "pydantic_core", "email_validator"):
    assert importlib.util.find_spec(name) is None, name + " is in the reactions' zip"
print(json.dumps(report))
"""


def _unzipped(built, zip_name, tmp_path) -> Path:
    task = tmp_path / zip_name.removesuffix(".zip")
    with zipfile.ZipFile(built["out"] / zip_name) as archive:
        archive.extractall(task)
    return task


def test_the_main_zip_imports_and_works_with_only_the_runtime_beside_it(built, tmp_path):
    from bench.cold_start_packaged import bench_environment, runtime_dir
    from local.push import new_keys

    task = _unzipped(built, "deployment.zip", tmp_path)
    env = bench_environment("http://127.0.0.1:9", secret="smoke-secret-smoke-secret-smoke-secret-01")
    result = subprocess.run([sys.executable, "-I", "-S", "-c", SMOKE_MAIN, str(task), str(runtime_dir("venv")),
                             new_keys()[1]], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]


def test_the_reactions_zip_sends_each_status_push_with_only_the_runtime_beside_it(built, tmp_path):
    import http.server
    import threading

    from bench.cold_start_packaged import bench_environment, runtime_dir, start_local_dynamodb
    from local.push import FakePushService
    from local.outbox import Outbox
    from tools.admin import new_vapid_keys

    outbox = Outbox()
    service = FakePushService(outbox)
    answers = []

    class PushService(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status, _ = service.deliver(self.path.rsplit("/", 1)[-1], dict(self.headers.items()), body)
            answers.append(status)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    push_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), PushService)
    threading.Thread(target=push_server.serve_forever, daemon=True).start()
    dynamodb, endpoint = start_local_dynamodb()
    try:
        base = f"http://127.0.0.1:{push_server.server_address[1]}"
        device = service.subscribe(base)
        private, public = new_vapid_keys()
        env = bench_environment(endpoint, secret="smoke-secret-smoke-secret-smoke-secret-01")
        env.update({"VAPID_PRIVATE_KEY": private, "VAPID_PUBLIC_KEY": public, "VAPID_SUBJECT": "mailto:ops@qalqan.kz",
                    "PUSH_ENDPOINT_PREFIXES": f"{base}/_local/push/", "CONTACT_VAULT_ENDPOINT": endpoint})
        task = _unzipped(built, "reactions.zip", tmp_path)
        result = subprocess.run(
            [sys.executable, "-I", "-S", "-c", SMOKE_REACTIONS, str(task), str(runtime_dir("venv")),
             str(ROOT / "tests" / "functional" / "events" / "complaint_lifecycle.json"), json.dumps(device)],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=180)
    finally:
        dynamodb.stop()
        push_server.shutdown()
        push_server.server_close()
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["records"] == 8 and report["parked"] == 0, report
    # the six status changes of BMYQG7XM2STH, each verified and decrypted by the fake push service
    assert answers == [201] * 6
    pushed = [line["payload"] for line in outbox.items("BMYQG7XM2STH")]
    assert [p["status"] for p in pushed] == ["business_responded", "routed", "in_review", "routed", "in_review",
                                             "resolved"]
    assert all(p["lang"] == "ru" and "BMYQG7XM2STH" in p["body"] for p in pushed)
    assert {line["vapid_key"] for line in outbox.items("BMYQG7XM2STH")} == {public}


def test_the_unzipped_sizes_are_reported_without_pillow(built):
    mib = 1024 * 1024
    sizes = {zip_name: package.sizes(built["out"] / zip_name) for zip_name in NOT_IN}
    for zip_name, size in sizes.items():
        print(f"\n{zip_name}: {size['zipped'] / mib:.1f} MiB zipped, unzipped {size['unzipped'] / mib:.1f} MiB, "
              f"Pillow {size['pillow'] / mib:.1f} MiB, without Pillow {size['without_pillow'] / mib:.1f} MiB "
              f"(issue 8's target: under 25 MiB)")
        assert size["without_pillow"] < 25 * mib, zip_name
    assert sizes["deployment.zip"]["pillow"] > 0 and sizes["reactions.zip"]["pillow"] == 0
    # Stripped: the extensions keep no symbol table and no debug info (what `strip --strip-unneeded` removes).
    for zip_name, prefix in (("reactions.zip", "cryptography/hazmat/bindings/_rust"),
                             ("deployment.zip", "pydantic_core/_pydantic_core")):
        with zipfile.ZipFile(built["out"] / zip_name) as archive:
            name = next(n for n in archive.namelist() if n.startswith(prefix) and ".so" in n)
            sections = _elf_section_names(archive.read(name))
        assert ".text" in sections and ".dynsym" in sections, name
        assert not {".symtab", ".debug_info"} & sections, f"{name} is not stripped: {sorted(sections)}"


def _elf_section_names(elf: bytes) -> set[str]:
    """Section names of a little-endian ELF64 file (the x86_64 Lambda's)."""
    import struct

    shoff, = struct.unpack_from("<Q", elf, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", elf, 0x3A)
    strtab_offset, = struct.unpack_from("<Q", elf, shoff + shstrndx * shentsize + 0x18)
    names = set()
    for index in range(shnum):
        name_offset, = struct.unpack_from("<I", elf, shoff + index * shentsize)
        start = strtab_offset + name_offset
        names.add(elf[start:elf.index(b"\0", start)].decode())
    return names
