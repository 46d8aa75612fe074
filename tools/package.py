"""Builds the deployable package of a stage: `python -m tools.package --stage dev` (`make package STAGE=dev`).

1. Deep-merges infra/resolver.json, api.json, tables.json, reactions.json, monitoring.json, open_data.json and
   roles.json into dist/<stage>/merge.json
   (a key two files set differently is refused, so no fragment silently overrides another) and runs
   `chalice package --merge-template`, which writes dist/<stage>/sam.json and one deployment.zip for every function.
2. Rewrites the zip lean. The Lambda Python runtime ships its own precompiled boto3/botocore and what they use
   (s3transfer, jmespath, dateutil, urllib3, six); pynamodb pulls copies into the zip that would shadow them,
   uncompiled and 30 MB. The Tracer is not used, so aws_xray_sdk and wrapt (only it imports wrapt) go; so do
   phonenumbers' geocoder/carrier/timezone data (chalicelib only parses, validates and formats), test suites,
   type stubs, C sources, Powertools' Swagger UI bundle and every stale __pycache__. The shared objects are
   stripped of their symbol tables and debug info (`strip --strip-unneeded`, binutils).
3. Precompiles every .py (unchecked-hash .pyc, optimize 0, sources kept for tracebacks): /var/task is
   read-only, so without them each cold start compiles everything again.
4. Splits it in two (FUNCTION_ZIPS): deployment.zip for the API, the QR resolver, the deadline sweep and the open
   data export, without the Web Push stack (cryptography, cffi, pycparser, http_ece, py_vapid: ~13 MB that only
   the sender needs); reactions.zip for the stream reactions, with it, and without what that function never
   imports (Pillow, qrcode and the sticker fonts; pydantic, email_validator and idna, which parse requests).
   The template points the Reactions function's CodeUri at ./reactions.zip.
5. Points the QR resolver at its own light entry point (PACKAGED_HANDLERS), so its cold start skips app.py.
   `bench/cold_start_packaged.py` (`make bench-cold`) measures the result against a hand-written handler.
Prints each zip's size (zipped, unzipped, unzipped without Pillow) and the largest remaining top-level packages.
"""

from __future__ import annotations

import argparse
import collections
import compileall
import fcntl
import json
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FRAGMENTS = ("resolver.json", "api.json", "tables.json", "reactions.json", "monitoring.json", "open_data.json",
             "roles.json")
DEFAULT_REGION = "eu-central-1"

# Top-level names the Lambda python3.11 runtime already provides (precompiled), or that only unused features need.
RUNTIME_PROVIDED = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six"}
# dns (dnspython): email_validator imports it only to check deliverability, which chalicelib turns off (it
# validates the syntax; a consumer's mail server is not asked while they wait).
UNUSED = {"aws_xray_sdk", "wrapt", "wrapt-stubs", "dns"}
DROPPED_TOP_LEVEL = RUNTIME_PROVIDED | UNUSED
# Distribution names as they appear in *.dist-info / *.data directory names (normalised to lower case, "_").
DROPPED_DISTRIBUTIONS = {"boto3", "botocore", "s3transfer", "jmespath", "python_dateutil", "urllib3", "six",
                         "aws_xray_sdk", "wrapt", "dnspython"}
# phonenumbers' __init__ does not import these; chalicelib uses parse/is_valid_number/format_number only.
PHONENUMBERS_UNUSED = {"geodata", "carrierdata", "tzdata", "geocoder.py", "carrier.py", "timezone.py"}
# Build inputs of C extensions and type stubs: nothing imports them at run time.
BUILD_ONLY_SUFFIXES = (".pyi", ".pyx", ".pxd", ".pxi", ".c", ".h")
# Powertools' Swagger UI bundle serves the event handler's /swagger page, which Qalqan (a Chalice app) never mounts.
POWERTOOLS_SWAGGER_UI = "aws_lambda_powertools/event_handler/openapi/swagger_ui/"
# Never shipped whatever pulls them in: dev-only tools and the repo's own non-Lambda code.
FORBIDDEN_TOP_LEVEL = {"moto", "pytest", "_pytest", "sklearn", "scipy", "numpy", "local", "tests", "bench", "tools"}


# Functions whose packaged entry point is not the one Chalice names. The QR resolver's cold start is what a person
# at a shop door waits for: its own entry (chalicelib/api/resolver.py `handler`, same answers as app.qr_resolver)
# does not import app.py, so it loads no API route, no wiring of other adapters and no Powertools.
PACKAGED_HANDLERS = {"QrResolver": "chalicelib.api.resolver.handler"}

# The Web Push sender's stack (RFC 8291 encryption, RFC 8292 signing) and the native code under it. Only the
# reactions function sends pushes (chalicelib/adapters/webpush.py); the API checks keys with integer arithmetic
# (chalicelib/domain/p256.py) and serves VAPID_PUBLIC_KEY as configured.
WEB_PUSH = {"cryptography", "cffi", "pycparser", "http_ece", "py_vapid", "_cffi_backend"}
# What the reactions function never imports: app.py imports the API's blueprints, but their request models
# (pydantic, and email_validator with idna for the contact's address) and the sticker renderer (Pillow, qrcode,
# the fonts) are imported inside the routes that use them, and no reaction calls one of those.
REACTIONS_UNUSED = {"PIL", "pillow", "qrcode", "pydantic", "pydantic_core", "annotated_types", "typing_inspection",
                    "email_validator", "idna"}
REACTIONS_UNUSED_FILES = ("chalicelib/stickers.py", "chalicelib/__pycache__/stickers.cpython-311.pyc",
                          "chalicelib/data/fonts/")
# Which zip each function of the template runs from; every other function runs from deployment.zip.
FUNCTION_ZIPS = {"Reactions": "reactions.zip"}
MAIN_ZIP = "deployment.zip"
PILLOW = {"PIL", "pillow"}


class PackageError(RuntimeError):
    pass


def deep_merge(base: dict, extra: dict, path: str = "") -> dict:
    """Merges `extra` into a copy of `base`; equal values are fine, different ones are a conflict."""
    merged = dict(base)
    for key, value in extra.items():
        where = f"{path}.{key}" if path else key
        if key not in merged:
            merged[key] = value
        elif isinstance(merged[key], dict) and isinstance(value, dict):
            merged[key] = deep_merge(merged[key], value, where)
        elif merged[key] != value:
            raise PackageError(f"conflicting values for {where}: {merged[key]!r} vs {value!r}")
    return merged


def merge_template(stage: str, infra: Path = ROOT / "infra") -> dict:
    merged: dict = {}
    for name in FRAGMENTS:
        merged = deep_merge(merged, json.loads((infra / name).read_text(encoding="utf-8")), name)
    # The fragments default Stage to dev; a prod package must not deploy prod functions under dev names.
    merged["Parameters"]["Stage"]["Default"] = stage
    # chalice package merges this file over its own template, so these win over the handlers it names.
    for resource, handler in PACKAGED_HANDLERS.items():
        merged.setdefault("Resources", {}).setdefault(resource, {}).setdefault("Properties", {})["Handler"] = handler
    for resource, zip_name in FUNCTION_ZIPS.items():
        merged.setdefault("Resources", {}).setdefault(resource, {}).setdefault("Properties", {})["CodeUri"] = \
            f"./{zip_name}"
    return merged


def run_chalice(stage: str, out_dir: Path, merge_path: Path) -> None:
    env = dict(os.environ)
    # app.py needs a region at import and chalice package imports app.py; the template itself is region-free.
    env.setdefault("AWS_REGION", env.get("AWS_DEFAULT_REGION", DEFAULT_REGION))
    env.setdefault("AWS_DEFAULT_REGION", env["AWS_REGION"])
    chalice = Path(sys.executable).with_name("chalice")
    command = [str(chalice) if chalice.exists() else "chalice", "package", "--stage", stage,
               "--merge-template", str(merge_path), str(out_dir)]
    # Chalice caches dependency zips in .chalice/deployments: two builds at once (pytest -n 2, make package in
    # another shell) must not write the same cache file together.
    lock_path = ROOT / ".chalice" / "deployments" / ".package.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    output = result.stdout + result.stderr
    if result.returncode != 0 or not (out_dir / "deployment.zip").exists():
        raise PackageError(
            "chalice package failed. It downloads manylinux wheels for python3.11 from PyPI, so it needs the "
            f"network to PyPI (or a warm .chalice/deployments cache).\n{output[-3000:]}")
    # Chalice only warns when it can't get a wheel and then builds (or leaves out) the package locally.
    if "Could not install dependencies" in output:
        raise PackageError(f"chalice package could not fetch every Lambda-compatible wheel:\n{output[-3000:]}")


def _keep(name: str) -> bool:
    parts = name.split("/")
    top = parts[0]
    if top in DROPPED_TOP_LEVEL or top.removesuffix(".py") in RUNTIME_PROVIDED or name.endswith(BUILD_ONLY_SUFFIXES):
        return False
    if name.startswith(POWERTOOLS_SWAGGER_UI) and not name.endswith(".py"):
        return False
    if top.endswith((".dist-info", ".data")):
        dist = top.rsplit("-", 1)[0].split("-")[0].lower().replace(".", "_").replace("-", "_")
        if dist in DROPPED_DISTRIBUTIONS:
            return False
    if "__pycache__" in parts or "tests" in parts[:-1] or name.endswith(".pyc"):
        return False
    if top == "phonenumbers" and len(parts) > 1 and parts[1] in PHONENUMBERS_UNUSED:
        return False
    return True


def top_level_sizes(zip_path: Path) -> collections.Counter:
    sizes: collections.Counter = collections.Counter()
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            sizes[info.filename.split("/")[0]] += info.compress_size
    return sizes


def strip_shared_objects(tree: Path) -> int:
    """`strip --strip-unneeded` on every ELF shared object under tree; returns the bytes saved.

    Wheels ship their extensions with symbol tables and often DWARF debug info (cryptography's Rust binding alone
    carries ~3 MB, aiohttp's parsers ~80 % of their size); the dynamic symbols the loader needs stay."""
    strip = shutil.which("strip")
    if strip is None:
        print("package: `strip` (binutils) was not found: the shared objects keep their debug symbols and the "
              "package is larger (apt-get install binutils)", file=sys.stderr)
        return 0
    saved = 0
    for path in sorted(tree.rglob("*.so*")):
        if not path.is_file() or path.read_bytes()[:4] != b"\x7fELF":
            continue
        before = path.stat().st_size
        result = subprocess.run([strip, "--strip-unneeded", str(path)], capture_output=True, text=True)
        if result.returncode != 0:
            raise PackageError(f"strip failed on {path.relative_to(tree)}: {result.stderr.strip()}")
        saved += before - path.stat().st_size
    return saved


def distribution_of(name: str) -> str:
    """The import or distribution name an entry of the zip belongs to, lower case with "_" (top-level package,
    module, extension, *.dist-info / *.data directory, or "pillow" for Pillow's bundled libraries)."""
    parts = name.split("/")
    top = parts[1] if parts[0] == "__pycache__" and len(parts) > 1 else parts[0]
    if top.endswith((".dist-info", ".data")):
        top = top.rsplit("-", 1)[0].split("-")[0]
    elif top.endswith(".libs"):
        top = top.removesuffix(".libs")
    elif len(parts) == 1 or parts[0] == "__pycache__":
        top = top.split(".")[0]
    return top.lower().replace("-", "_").replace(".", "_")


def _in(name: str, distributions: set[str]) -> bool:
    return distribution_of(name) in {d.lower() for d in distributions}


def keep_in_main(name: str) -> bool:
    return not _in(name, WEB_PUSH)


def keep_in_reactions(name: str) -> bool:
    return not _in(name, REACTIONS_UNUSED) and not name.startswith(REACTIONS_UNUSED_FILES)


ZIP_FILTERS = {MAIN_ZIP: keep_in_main, "reactions.zip": keep_in_reactions}


def lean_tree(zip_path: Path, tree: Path) -> tuple[dict[str, int], int]:
    """Unpacks what Lambda needs of zip_path into tree, strips the shared objects and adds a .pyc for every .py.
    Returns the files' modes and the bytes stripping saved."""
    modes: dict[str, int] = {}
    with zipfile.ZipFile(zip_path) as archive:
        for info in archive.infolist():
            if info.is_dir() or not _keep(info.filename):
                continue
            archive.extract(info, tree)
            modes[info.filename] = info.external_attr
    stripped = strip_shared_objects(tree)
    # ddir: tracebacks on Lambda name /var/task/..., not this temporary directory.
    ok = compileall.compile_dir(str(tree), ddir="/var/task", quiet=1, optimize=0, workers=1,
                                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    if not ok:
        raise PackageError("compileall failed on a file of the package (see above)")
    return modes, stripped


def write_zip(tree: Path, modes: dict[str, int], zip_path: Path, keep) -> None:
    files = sorted(p for p in tree.rglob("*") if p.is_file())
    partial = zip_path.with_suffix(".partial.zip")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for path in files:
            name = path.relative_to(tree).as_posix()
            if not keep(name):
                continue
            # Fixed timestamps: the same inputs give the same zip (and the same CodeSha256).
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = modes.get(name, 0o644 << 16)
            out.writestr(info, path.read_bytes())
    partial.replace(zip_path)


def lean_zips(zip_path: Path) -> int:
    """Turns chalice's zip_path into the lean zips of ZIP_FILTERS beside it (zip_path itself becomes the main
    one). Returns the bytes stripping saved."""
    with tempfile.TemporaryDirectory(prefix="qalqan-package-") as tmp:
        tree = Path(tmp) / "task"
        modes, stripped = lean_tree(zip_path, tree)
        for name, keep in ZIP_FILTERS.items():
            write_zip(tree, modes, zip_path.with_name(name), keep)
    return stripped


def sizes(zip_path: Path) -> dict:
    """Bytes of a zip: zipped, unzipped, and unzipped without Pillow (the share issue 8's target leaves out)."""
    with zipfile.ZipFile(zip_path) as archive:
        infos = archive.infolist()
    unzipped = sum(i.file_size for i in infos)
    pillow = sum(i.file_size for i in infos if _in(i.filename, PILLOW))
    return {"zipped": zip_path.stat().st_size, "unzipped": unzipped, "pillow": pillow,
            "without_pillow": unzipped - pillow}


def build(stage: str, out_dir: Path) -> dict:
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in (*ZIP_FILTERS, "sam.json"):
        (out_dir / stale).unlink(missing_ok=True)
    merge_path = out_dir / "merge.json"
    merge_path.write_text(json.dumps(merge_template(stage), indent=2) + "\n", encoding="utf-8")
    run_chalice(stage, out_dir, merge_path)
    zip_path = out_dir / MAIN_ZIP
    before = zip_path.stat().st_size
    stripped = lean_zips(zip_path)
    zips = {name: out_dir / name for name in ZIP_FILTERS}
    return {"zip": zip_path, "zips": zips, "before": before, "after": zip_path.stat().st_size, "stripped": stripped,
            "sizes": {name: sizes(path) for name, path in zips.items()},
            "largest": top_level_sizes(zip_path).most_common(10)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", required=True, choices=("dev", "prod"))
    parser.add_argument("--out", type=Path, help="output directory (default dist/<stage>)")
    args = parser.parse_args(argv)
    out_dir = args.out or ROOT / "dist" / args.stage
    try:
        report = build(args.stage, out_dir)
    except PackageError as error:
        print(f"package: {error}", file=sys.stderr)
        return 1
    mb = 1024 * 1024
    print(f"chalice packaged {report['before'] / mb:.1f} MB; stripping the shared objects saved "
          f"{report['stripped'] / mb:.1f} MB unzipped")
    for name, path in report["zips"].items():
        size = report["sizes"][name]
        print(f"{path}: {size['zipped'] / mb:.1f} MB zipped, {size['unzipped'] / mb:.1f} MB unzipped, "
              f"{size['without_pillow'] / mb:.1f} MB unzipped without Pillow")
    print(f"largest top-level entries of {MAIN_ZIP} (compressed):")
    for name, size in report["largest"]:
        print(f"  {size / mb:6.2f} MB  {name}")
    print(f"template: {out_dir / 'sam.json'} (merged from {', '.join('infra/' + f for f in FRAGMENTS)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
