"""The admin CLI as a subprocess: against the running local stack (bulk CSV import with a progress bar, chain
PDF), and against a DynamoDB of its own (moto's server) for the keys it writes directly."""
import csv
import json
import os
import re
import socket
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone

import boto3
import pytest

from tests.e2e.conftest import ROOT, free_port

HEADER = "business_bin,business_name,business_region,outlet_name,address,region,sector,external_ref\n"


def _cli(stack, *args):
    return subprocess.run(
        [sys.executable, "-m", "tools.admin", "--api", stack.base, "--key", stack.demo["keys"]["admin"], *args],
        cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_bulk_import_registers_outlets_once_and_reports_bad_rows(stack, tmp_path):
    rows = [f"070941024691,ТОО «Дастархан»,75,Дастархан №{i},\"Алматы, Абай {i}\",75,food_service,дк-1{i:02d}\n"
            for i in range(10)]  # store numbers in Cyrillic: they must not break the HTTP headers
    bad = "123456789012,Bad BIN,75,Shop,\"Алматы\",75,grocery,x-1\n"
    source = tmp_path / "chain.csv"
    source.write_text(HEADER + "".join(rows) + bad, encoding="utf-8")
    out = tmp_path / "codes.csv"
    # WHEN the file is imported
    first = _cli(stack, "import-csv", str(source), "--out", str(out))
    # THEN the good rows get codes, the bad one is named with its line, and a progress bar ran
    assert first.returncode == 1, first.stderr
    assert "line 12: business_bin 123456789012 fails the BIN/IIN checksum" in first.stderr
    assert "outlets: 100%" in first.stderr and "10/10" in first.stderr
    result = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["status"] for r in result] == ["created"] * 10 + ["failed"]
    codes = [r["code"] for r in result[:10]]
    assert len(set(codes)) == 10 and all(r["qr_url"].endswith(r["code"]) for r in result[:10])
    # AND a second run changes nothing: same codes, reported as existing; it can print their stickers
    pdf = tmp_path / "imported.pdf"
    again = _cli(stack, "import-csv", str(source), "--out", str(out), "--stickers", str(pdf))
    assert "10 stickers on 3 A4 sheets" in again.stdout
    assert pdf.read_bytes().count(b"/Type /Page") - pdf.read_bytes().count(b"/Type /Pages") == 3
    result2 = list(csv.DictReader(out.open(encoding="utf-8")))
    assert [r["code"] for r in result2[:10]] == codes
    assert [r["status"] for r in result2[:10]] == ["existing"] * 10, again.stderr


def test_chain_stickers_pdf_has_one_a4_sheet_per_four_outlets(stack, tmp_path):
    out = tmp_path / "chain.pdf"
    status, listing = stack.json("GET", "/admin/businesses/940140000385/outlets",
                                 headers={"Authorization": f"Bearer {stack.demo['keys']['admin']}"})
    active = len(listing["outlets"])
    result = _cli(stack, "stickers", "940140000385", "--out", str(out))
    assert result.returncode == 0, result.stderr
    pdf = out.read_bytes()
    assert pdf.startswith(b"%PDF")
    assert f"{active} stickers on {-(-active // 4)} A4 sheets" in result.stdout
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == -(-active // 4)


def test_codes_go_to_the_working_directory_never_next_to_an_input_inside_the_repo(stack, tmp_path):
    # GIVEN the sample file that ships inside the repo, and an operator working in another directory
    source = ROOT / "tools" / "sample_outlets.csv"
    beside_input = source.with_name("sample_outlets.codes.csv")
    assert not beside_input.exists(), f"remove {beside_input}, left by an older import-csv"
    work = tmp_path / "work"
    work.mkdir()
    # WHEN it is imported without --out
    result = subprocess.run(
        [sys.executable, "-m", "tools.admin", "--api", stack.base, "--key", stack.demo["keys"]["admin"],
         "import-csv", str(source)],
        cwd=work, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=300)
    # THEN the codes are in the working directory, named after the input, and the repo gained no file
    assert result.returncode == 0, result.stderr
    out = work / "sample_outlets.codes.csv"
    assert f"codes written to {out}" in result.stdout
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    expected = list(csv.DictReader(source.open(encoding="utf-8")))
    assert [r["external_ref"] for r in rows] == [r["external_ref"] for r in expected]
    assert all(r["status"] in ("created", "existing") and r["code"] for r in rows)
    assert not beside_input.exists()


# --- create-key and revoke-key: straight into DynamoDB --------------------------------------------------

KEY_PREFIX = "qalqan-clitest"
AUTHENTICATE = """
import json, sys
from chalicelib.bootstrap import container
from chalicelib.domain.errors import Unauthorized
from chalicelib.services.auth import authenticate
c = container()
try:
    p = authenticate("Bearer " + sys.argv[1], keys=c.keys, clock=c.clock)
except Unauthorized as exc:
    print(json.dumps({"refused": exc.message}))
else:
    record = c.keys.get(p.key_id)
    print(json.dumps({"role": p.role, "key_id": p.key_id, "label": p.label, "agency_id": p.agency_id,
                      "regions": sorted(p.regions), "bin": p.bin,
                      "expires_at": record.expires_at.isoformat() if record.expires_at else None}))
"""


class Dynamo:
    """moto's DynamoDB in a process of its own, with Qalqan's tables, and the environment that points at it."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        base = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "QALQAN_", "TABLE_"))}
        self.env = {**base, "AWS_ENDPOINT_URL": endpoint, "AWS_REGION": "eu-central-1",
                    "AWS_DEFAULT_REGION": "eu-central-1", "AWS_ACCESS_KEY_ID": "cli", "AWS_SECRET_ACCESS_KEY": "cli",
                    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled", "QALQAN_STAGE": "clitest", "TABLE_PREFIX": KEY_PREFIX,
                    "QALQAN_SECRET": "cli-test-secret-cli-test-secret-0001", "LOG_LEVEL": "WARNING"}

    def python(self, code: str, *args: str) -> str:
        done = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "tools.admin", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)

    def authenticate(self, key: str) -> dict:
        return json.loads(self.python(AUTHENTICATE, key).strip().splitlines()[-1])

    def stored_keys(self) -> list[dict]:
        client = boto3.client("dynamodb", endpoint_url=self.endpoint, region_name="eu-central-1",
                              aws_access_key_id="cli", aws_secret_access_key="cli")
        return client.scan(TableName=f"{KEY_PREFIX}-api-keys")["Items"]


@pytest.fixture(scope="module")
def dynamo():
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "moto_server did not start"
                time.sleep(0.1)
        d = Dynamo(f"http://127.0.0.1:{port}")
        d.python("from chalicelib.adapters.tables import create_tables; create_tables()")
        yield d
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_agency_key_is_scoped_to_its_agency_and_regions_and_expires_at_midnight_in_kazakhstan(dynamo):
    # GIVEN an expiry about a year ahead (relative, so the test never ages out)
    day = date.today() + timedelta(days=400)
    # WHEN an agency key for two oblasts is created
    result = dynamo.cli("create-key", "--role", "agency", "--agency", "kzpp", "--region", "75", "--region", "71",
                        "--label", "Астана/Алматы, инспектор", "--expires", day.isoformat(), "--json")
    assert result.returncode == 0, result.stderr
    issued = json.loads(result.stdout)
    # THEN it is printed once, with its id, and the key works as that agency in those regions only
    assert re.fullmatch(rf"qk_{issued['key_id']}\.[A-Za-z0-9_-]{{20,100}}", issued["key"])
    assert f"revoke-key {issued['key_id']}" in result.stderr
    principal = dynamo.authenticate(issued["key"])
    assert principal["role"] == "agency" and principal["agency_id"] == "kzpp"
    assert principal["regions"] == ["71", "75"] and principal["bin"] is None
    assert principal["key_id"] == issued["key_id"] and principal["label"] == "Астана/Алматы, инспектор"
    midnight_almaty = datetime.combine(day, datetime.min.time(), tzinfo=timezone(timedelta(hours=5)))
    assert datetime.fromisoformat(principal["expires_at"]) == midnight_almaty
    assert datetime.fromisoformat(issued["expires_at"].replace("Z", "+00:00")) == midnight_almaty
    # AND only its hash is stored
    stored = json.dumps(dynamo.stored_keys())
    assert issued["key_id"] in stored and issued["key"] not in stored and issued["key"].split(".")[1] not in stored


def test_business_key_works_until_revoked_by_its_id(dynamo):
    # GIVEN a business key, printed for a person to copy
    result = dynamo.cli("create-key", "--role", "business", "--bin", "940140000385")
    assert result.returncode == 0, result.stderr
    printed = dict(re.findall(r"^(key id|key|role|label|expires):\s+(.+)$", result.stdout, re.M))
    assert printed["role"] == "business (business 940140000385)" and printed["expires"] == "never"
    principal = dynamo.authenticate(printed["key"])
    assert (principal["role"], principal["bin"], principal["key_id"]) == ("business", "940140000385", printed["key id"])
    assert principal["label"] == "business 940140000385" and principal["agency_id"] is None
    # WHEN it is revoked
    revoked = dynamo.cli("revoke-key", printed["key id"])
    # THEN the key is refused from the next request on, and its record stays (for the audit trail)
    assert revoked.returncode == 0, revoked.stderr
    assert f"revoked {printed['key id']}" in revoked.stdout
    assert dynamo.authenticate(printed["key"]) == {"refused": "This key has been revoked."}
    assert printed["key id"] in json.dumps(dynamo.stored_keys())
    # AND an id that was never issued is an error, not a silent success
    unknown = dynamo.cli("revoke-key", "k000000000000")
    assert unknown.returncode == 1 and "no key has the id k000000000000" in unknown.stderr


def test_analyst_key_has_no_scope(dynamo):
    result = dynamo.cli("create-key", "--role", "analyst", "--label", "MTI analytics", "--json")
    assert result.returncode == 0, result.stderr
    issued = json.loads(result.stdout)
    assert (issued["role"], issued["agency_id"], issued["regions"], issued["bin"]) == ("analyst", None, [], None)
    principal = dynamo.authenticate(issued["key"])
    assert (principal["role"], principal["agency_id"], principal["regions"], principal["bin"]) == (
        "analyst", None, [], None)


@pytest.mark.parametrize("args, message", [
    (["--role", "agency"], "--role agency needs --agency <id>, one of: kzpp"),
    (["--role", "agency", "--agency", "kzpq"], "unknown agency 'kzpq'; agency ids: kzpp"),
    (["--role", "agency", "--agency", "kzpp", "--region", "7"], "--region '7' is not a 2-digit KATO oblast code"),
    (["--role", "agency", "--agency", "kzpp", "--region", "99"], "--region '99' is not a 2-digit KATO oblast code"),
    (["--role", "agency", "--agency", "kzpp", "--region", "٧١"], "--region '٧١' is not a 2-digit KATO oblast code"),
    (["--role", "admin", "--agency", "kzpp"], "--agency and --region are only for --role agency"),
    (["--role", "business"], "--role business needs --bin <12-digit BIN/IIN>"),
    (["--role", "business", "--bin", "940140000386"], "--bin 940140000386 is not a valid BIN/IIN"),
    (["--role", "business", "--bin", "94014000038"], "--bin 94014000038 is not a valid BIN/IIN"),
    (["--role", "analyst", "--bin", "940140000385"], "--bin is only for --role business"),
    (["--role", "admin", "--expires", "2020-01-01"], "--expires 2020-01-01 is not in the future"),
    (["--role", "admin", "--expires", "31.12.2030"], "--expires '31.12.2030' is not a date as YYYY-MM-DD"),
    (["--role", "auditor"], "argument --role: invalid choice: 'auditor'"),
])
def test_invalid_key_requests_exit_2_with_a_clear_error_and_write_nothing(dynamo, args, message):
    before = len(dynamo.stored_keys())
    result = dynamo.cli("create-key", *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert result.stdout == "" and len(dynamo.stored_keys()) == before


def test_key_commands_name_the_missing_settings_instead_of_a_traceback(dynamo):
    env = {k: v for k, v in dynamo.env.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION", "QALQAN_SECRET")}
    result = subprocess.run([sys.executable, "-m", "tools.admin", "revoke-key", "k000000000000"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "AWS_REGION must be set" in result.stderr and "Traceback" not in result.stderr


def test_an_unreachable_dynamodb_is_a_one_line_error_not_a_traceback(dynamo):
    env = {**dynamo.env, "AWS_ENDPOINT_URL": f"http://127.0.0.1:{free_port()}"}  # nothing listens there
    result = subprocess.run([sys.executable, "-m", "tools.admin", "create-key", "--role", "admin"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.startswith("error: cannot reach the keys table") and "Traceback" not in result.stderr
