"""Administrator's command-line tool: bulk onboarding from CSV, chain sticker PDFs, API keys.

    python -m tools.admin import-csv outlets.csv [--out codes.csv] [--stickers outlets.pdf]
    python -m tools.admin stickers 940140000385 --out chain.pdf
    python -m tools.admin create-key --role admin --label "Aliya, MTI"

`import-csv` and `stickers` talk to the admin API (QALQAN_API, QALQAN_ADMIN_KEY; locally they default
to .local/demo.json), so they go through the same validation, audit and idempotency as any client.
`create-key` writes to DynamoDB directly: it is how the first admin key comes to exist.

CSV columns (header row required): business_bin, business_name, business_region, outlet_name, address,
region, sector, and optionally external_ref (the chain's own store number) and kato. Re-running an
import is safe: each outlet is sent with an Idempotency-Key made from its BIN and external_ref (or
name and address), so it keeps its code.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import csv
import hashlib
import json
import os
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REQUIRED = ("business_bin", "business_name", "business_region", "outlet_name", "address", "region", "sector")


class ApiError(Exception):
    def __init__(self, status: int, body: dict | None, message: str) -> None:
        super().__init__(message)
        self.status, self.body = status, body


@dataclass
class AdminClient:
    base: str
    key: str
    timeout: float = 30.0

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None,
                accept: str = "application/json"):
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        req = urllib.request.Request(f"{self.base.rstrip('/')}{path}", data=data, method=method, headers={
            "Authorization": f"Bearer {self.key}", "Accept": accept,
            **({"Content-Type": "application/json"} if data is not None else {}), **(headers or {})})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw, content_type = resp.read(), resp.headers.get("Content-Type", "")
                return resp.status, (json.loads(raw) if content_type.startswith("application/json") else raw), resp.headers
        except urllib.error.HTTPError as err:
            raw = err.read()
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = None
            message = (parsed or {}).get("error", {}).get("message") or raw[:200].decode(errors="replace")
            fields = (parsed or {}).get("error", {}).get("fields") or {}
            detail = "; ".join(f"{k}: {v.get('message')}" for k, v in fields.items())
            raise ApiError(err.code, parsed, f"HTTP {err.code}: {message}" + (f" ({detail})" if detail else "")) from None
        except urllib.error.URLError as err:
            raise ApiError(0, None, f"cannot reach {self.base}: {err.reason}") from None


@dataclass
class Row:
    line: int
    data: dict
    errors: list[str] = field(default_factory=list)

    def outlet_key(self) -> str:
        """The Idempotency-Key for this outlet: stable across runs, ASCII whatever the store number is."""
        ref = self.data.get("external_ref") or f"{self.data['outlet_name']}|{self.data['address']}"
        return f"{self.data['business_bin']}:{hashlib.sha256(ref.encode()).hexdigest()[:32]}"


def read_rows(path: Path) -> list[Row]:
    """Parse the CSV and check what can be checked offline, so a bad file fails before any request."""
    from chalicelib.domain.catalog import load_catalog
    from chalicelib.domain.identifiers import checksum_ok

    catalog = load_catalog()
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"error: {path} lacks the columns {', '.join(missing)}")
        rows = []
        for number, raw in enumerate(reader, start=2):
            data = {k: (v or "").strip() for k, v in raw.items() if k}
            row = Row(number, data)
            for column in REQUIRED:
                if not data.get(column):
                    row.errors.append(f"{column} is empty")
            if data.get("business_bin") and not checksum_ok(data["business_bin"]):
                row.errors.append(f"business_bin {data['business_bin']} fails the BIN/IIN checksum")
            for column in ("region", "business_region"):
                if data.get(column) and data[column] not in catalog.regions:
                    row.errors.append(f"{column} {data[column]!r} is not a KATO oblast code")
            if data.get("sector") and data["sector"] not in catalog.sectors:
                row.errors.append(f"sector {data['sector']!r} is not one of {', '.join(catalog.sectors)}")
            rows.append(row)
    return rows


def _progress(total: int, desc: str):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="outlet", file=sys.stderr, dynamic_ncols=True)


def import_csv(client: AdminClient, path: Path, out: Path, workers: int, stickers_pdf: Path | None = None) -> int:
    rows = read_rows(path)
    bad = [r for r in rows if r.errors]
    for row in bad:
        print(f"line {row.line}: {'; '.join(row.errors)}", file=sys.stderr)
    good = [r for r in rows if not r.errors]
    businesses = {}
    for row in good:
        businesses.setdefault(row.data["business_bin"], row)
    failed_bins = set()
    for bin, row in businesses.items():
        try:
            client.request("POST", "/admin/businesses", {
                "bin": bin, "name": row.data["business_name"], "region": row.data["business_region"]})
        except ApiError as exc:
            print(f"business {bin} (line {row.line}): {exc}", file=sys.stderr)
            failed_bins.add(bin)
    todo = [r for r in good if r.data["business_bin"] not in failed_bins]
    results: dict[int, dict] = {}
    errors: dict[int, str] = {}

    def send(row: Row):
        body = {"business_bin": row.data["business_bin"], "name": row.data["outlet_name"],
                "address": row.data["address"], "region": row.data["region"], "sector": row.data["sector"]}
        for optional in ("external_ref", "kato"):
            if row.data.get(optional):
                body[optional] = row.data[optional]
        return client.request("POST", "/admin/outlets", body, {"Idempotency-Key": row.outlet_key()})

    with _progress(len(todo), "outlets") as bar, concurrent.futures.ThreadPoolExecutor(workers) as pool:
        futures = {pool.submit(send, row): row for row in todo}
        for future in concurrent.futures.as_completed(futures):
            row = futures[future]
            try:
                status, body, _ = future.result()
                results[row.line] = {**body, "created": status == 201}
            except ApiError as exc:
                errors[row.line] = str(exc)
            except Exception as exc:  # one bad row must not cost the report of all the others
                errors[row.line] = f"{exc.__class__.__name__}: {exc}"
            bar.update(1)
    for line, message in sorted(errors.items()):
        print(f"line {line}: {message}", file=sys.stderr)
    with open(out, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["line", "business_bin", "external_ref", "outlet_name", "code", "display_code", "qr_url", "status"])
        for row in rows:
            result = results.get(row.line)
            status = ("created" if result["created"] else "existing") if result else "failed"
            writer.writerow([row.line, row.data.get("business_bin", ""), row.data.get("external_ref", ""),
                             row.data.get("outlet_name", ""), (result or {}).get("code", ""),
                             (result or {}).get("display_code", ""), (result or {}).get("qr_url", ""), status])
    created = sum(1 for r in results.values() if r["created"])
    failed = len(rows) - len(results)
    print(f"{len(rows)} rows: {created} outlets created, {len(results) - created} already there, "
          f"{failed} failed; codes written to {out}")
    if stickers_pdf and results:
        imported = [results[line] for line in sorted(results)]
        render_stickers([o for o in imported if o["status"] == "active"], stickers_pdf)
    return 1 if failed else 0


def render_stickers(outlets: list[dict], out: Path) -> None:
    """A4 sheets for outlets as the admin API returns them, rendered here rather than in Lambda."""
    from chalicelib import stickers

    qr_base = outlets[0]["qr_url"].rsplit("/", 1)[0]
    infos = [stickers.StickerInfo(code=o["code"], outlet_name=o["name"], business_name=o["business"]["name"])
             for o in outlets]
    with _progress(len(infos), "stickers") as bar:
        def counted():
            for info in infos:
                yield info
                bar.update(1)
        pdf = stickers.render_sheets_pdf(counted(), qr_base_url=qr_base)
    out.write_bytes(pdf)
    print(f"{len(infos)} stickers on {-(-len(infos) // 4)} A4 sheets written to {out}")


def chain_stickers(client: AdminClient, bin: str, out: Path) -> int:
    outlets, cursor = [], None
    while True:
        query = "?limit=500" + (f"&cursor={cursor}" if cursor else "")
        _, page, _ = client.request("GET", f"/admin/businesses/{bin}/outlets{query}")
        outlets += [o for o in page["outlets"] if o["status"] == "active"]
        cursor = page["next_cursor"]
        if not cursor:
            break
    if not outlets:
        print(f"business {bin} has no active outlets", file=sys.stderr)
        return 1
    render_stickers(outlets, out)
    return 0


def create_key(role: str, label: str, scope: str | None) -> int:
    from chalicelib.bootstrap import container
    from chalicelib.services.admin import issue_api_key

    c = container()
    key = issue_api_key(role=role, scope=scope, label=label, keys=c.keys, clock=c.clock)
    print(key)
    print("Store this key now: only its hash is kept.", file=sys.stderr)
    return 0


def _defaults() -> tuple[str | None, str | None]:
    api, key = os.environ.get("QALQAN_API"), os.environ.get("QALQAN_ADMIN_KEY")
    demo = ROOT / ".local" / "demo.json"
    if (not api or not key) and demo.exists():
        data = json.loads(demo.read_text(encoding="utf-8"))
        api, key = api or data.get("api"), key or data.get("keys", {}).get("admin")
    return api, key


def main(argv: list[str] | None = None) -> int:
    api, key = _defaults()
    parser = argparse.ArgumentParser(prog="python -m tools.admin", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", default=api, help="API base URL (QALQAN_API)")
    parser.add_argument("--key", default=key, help="admin key (QALQAN_ADMIN_KEY)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_import = sub.add_parser("import-csv", help="register businesses and outlets from a CSV file")
    p_import.add_argument("csv", type=Path)
    p_import.add_argument("--out", type=Path, help="where to write the codes (default: <csv>.codes.csv)")
    p_import.add_argument("--workers", type=int, default=4)
    p_import.add_argument("--stickers", type=Path, help="also write the imported outlets' stickers to this PDF")
    p_stickers = sub.add_parser("stickers", help="A4 sticker sheets (PDF) for every outlet of a business")
    p_stickers.add_argument("bin")
    p_stickers.add_argument("--out", type=Path, required=True)
    p_key = sub.add_parser("create-key", help="issue an API key straight into DynamoDB")
    p_key.add_argument("--role", required=True, choices=("admin", "agency", "business"))
    p_key.add_argument("--label", required=True)
    p_key.add_argument("--scope", help="agency id or BIN for scoped roles")
    args = parser.parse_args(argv)
    if args.command == "create-key":
        return create_key(args.role, args.label, args.scope)
    if not args.api or not args.key:
        parser.error("set --api and --key (or QALQAN_API and QALQAN_ADMIN_KEY, or run `make run` for the demo)")
    client = AdminClient(args.api, args.key)
    try:
        if args.command == "import-csv":
            out = args.out or args.csv.with_suffix(".codes.csv")
            return import_csv(client, args.csv, out, max(1, args.workers), args.stickers)
        return chain_stickers(client, args.bin, args.out)
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
