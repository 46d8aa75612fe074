"""The deployable package as `make package` builds it: a lean, precompiled zip and the merged template.

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
             "local", "tests", "bench", "tools", "aws_xray_sdk", "wrapt", "dns", "six.py")


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
    with zipfile.ZipFile(out / "deployment.zip") as archive:
        names = archive.namelist()
        wheel = archive.read(next(n for n in names if n.startswith("pillow-") and n.endswith(".dist-info/WHEEL")))
    template = json.loads((out / "sam.json").read_text(encoding="utf-8"))
    return {"out": out, "names": names, "pillow_wheel": wheel.decode(), "template": template}


def test_the_zip_is_lean_precompiled_and_carries_a_manylinux_pillow(built):
    names = built["names"]
    size = (built["out"] / "deployment.zip").stat().st_size
    print(f"deployment.zip: {size / 1024 / 1024:.1f} MB, {len(names)} files")

    tops = {name.split("/")[0] for name in names}
    assert not tops & set(FORBIDDEN), f"forbidden content in the zip: {sorted(tops & set(FORBIDDEN))}"
    assert not [n for n in names if "/tests/" in n], "a package's test suite was shipped"
    assert not [n for n in names if n.startswith("phonenumbers/geodata/")], "phonenumbers' geodata was shipped"
    assert "app.py" in tops and "chalicelib" in tops and "pynamodb" in tops and "PIL" in tops

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

    # A source-built Pillow links this machine's libraries, which Lambda doesn't have.
    assert "manylinux" in built["pillow_wheel"], f"Pillow did not come from a manylinux wheel:\n{built['pillow_wheel']}"
    assert [n for n in names if n.startswith("pillow.libs/")], "manylinux Pillow brings its libraries in pillow.libs/"


def test_the_zip_precompiles_with_unchecked_hashes(built, tmp_path):
    # Unchecked-hash .pyc are used without a stat of the source: the read-only /var/task never recompiles.
    with zipfile.ZipFile(built["out"] / "deployment.zip") as archive:
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


# Runs in the unzipped package with only the runtime's boto3 beside it (python -I -S: no venv site-packages), the
# way Lambda loads it: everything the functions use must import and work from the stripped, pruned zip.
SMOKE = r"""
import sys
sys.path[:0] = sys.argv[1:3]
import base64, io, json, os

import app  # every route, the wiring, Powertools
from chalicelib.api import resolver, schemas
from chalicelib import stickers
from chalicelib.domain.codes import new_outlet_code
body = schemas.ComplaintIn.model_validate({
    "outlet_code": new_outlet_code(), "text": "На кассе пробили сметану два раза, чек не дали.",
    "contact": {"name": "Айгүл", "phone": "8 701 123 45 67", "email": "Aigul@Example.kz"}})
assert body.contact is not None  # email_validator without dnspython, phonenumbers without its geodata
png = stickers.render_sticker_png(stickers.StickerInfo("7K3M9QX2", "Дүкен", "ЖШС «Сауда»"),
                                  qr_base_url="https://q.qalqan.kz")
assert png[:8] == b"\x89PNG\r\n\x1a\n"  # Pillow's stripped libraries, qrcode, the fonts
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
key = ec.generate_private_key(ec.SECP256R1())
key.public_key().verify(key.sign(b"x", ec.ECDSA(hashes.SHA256())), b"x", ec.ECDSA(hashes.SHA256()))
import http_ece, aiohttp, pywebpush  # the Web Push stack imports whole after stripping
from py_vapid import Vapid
receiver = ec.generate_private_key(ec.SECP256R1())
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
dh = receiver.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
secret = os.urandom(16)
sealed = http_ece.encrypt(b"status", salt=None, private_key=ec.generate_private_key(ec.SECP256R1()), dh=dh,
                          auth_secret=secret, version="aes128gcm")
assert http_ece.decrypt(sealed, private_key=receiver, auth_secret=secret, version="aes128gcm") == b"status"
vapid = Vapid()
vapid.generate_keys()
assert vapid.sign({"sub": "mailto:ops@qalqan.kz", "aud": "https://push.example"})["Authorization"]
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType
BatchProcessor(event_type=EventType.DynamoDBStreams)
print("ok")
"""


def test_the_stripped_package_imports_and_works_with_only_the_runtime_beside_it(built, tmp_path):
    from bench.cold_start_packaged import bench_environment, runtime_dir

    task = tmp_path / "task"
    with zipfile.ZipFile(built["out"] / "deployment.zip") as archive:
        archive.extractall(task)
    env = bench_environment("http://127.0.0.1:9", secret="smoke-secret-smoke-secret-smoke-secret-01")
    result = subprocess.run([sys.executable, "-I", "-S", "-c", SMOKE, str(task), str(runtime_dir("venv"))],
                            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]


def test_the_unzipped_size_is_reported_without_pillow(built):
    from bench.cold_start_packaged import sizes

    size = sizes(built["out"] / "deployment.zip")
    mib = 1024 * 1024
    print(f"\nunzipped {size['unzipped'] / mib:.1f} MiB, Pillow {size['pillow'] / mib:.1f} MiB, "
          f"without Pillow {size['without_pillow'] / mib:.1f} MiB (issue 8's target: under 25 MiB)")
    assert size["pillow"] > 0 and size["without_pillow"] < size["unzipped"]
    # Stripped: the extensions keep no symbol table and no debug info (what `strip --strip-unneeded` removes).
    with zipfile.ZipFile(built["out"] / "deployment.zip") as archive:
        for name in ("cryptography/hazmat/bindings/_rust.abi3.so",
                     next(n for n in archive.namelist() if n.startswith("aiohttp/_http_parser.") and ".so" in n)):
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
