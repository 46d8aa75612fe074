"""Administrator's command-line tool: bulk onboarding from CSV, chain sticker PDFs, API keys.

    python -m tools.admin import-csv outlets.csv [--out codes.csv] [--stickers outlets.pdf]
    python -m tools.admin stickers 940140000385 --out chain.pdf
    python -m tools.admin create-key --role admin --label "Aliya, MTI"
    python -m tools.admin create-key --role agency --agency kzpp --region 71 --region 75 --expires 2027-06-30
    python -m tools.admin create-key --role business --bin 940140000385 --label "Taza Market, head office"
    python -m tools.admin revoke-key k1a2b3c4d5e6f
    python -m tools.admin telegram-set-webhook --url https://<api domain>/api/channels/telegram/webhook
    python -m tools.admin push-keys --stage dev          (a Web Push VAPID pair; docs/push.md)
    python -m tools.admin push-keys --public-of key.txt  (the VAPID_PUBLIC_KEY of an existing private key)

`import-csv` and `stickers` talk to the admin API (QALQAN_API, QALQAN_ADMIN_KEY; locally they default
to .local/demo.json), so they go through the same validation, audit and idempotency as any client.
`create-key` and `revoke-key` write to DynamoDB directly (AWS credentials, AWS_REGION, QALQAN_STAGE or
TABLE_PREFIX, QALQAN_SECRET_PARAMETER): it is how the first admin key comes to exist. A key is printed
once; only its hash is stored. Mistakes in the arguments exit with status 2 before anything is written.

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
from datetime import date, datetime, timezone
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


class UsageError(Exception):
    """An invocation that cannot be right (a scope the role lacks, an unknown agency, a BIN with a typo)."""


def key_request(args, catalog) -> dict:
    """The issue_key arguments for `create-key`, with every mistake named in the CLI's own terms."""
    from chalicelib.domain.identifiers import checksum_ok

    agencies = ", ".join(catalog.agencies)
    if args.role == "agency":
        if not args.agency:
            raise UsageError(f"--role agency needs --agency <id>, one of: {agencies}")
        if args.agency not in catalog.agencies:
            raise UsageError(f"unknown agency {args.agency!r}; agency ids: {agencies}")
        for region in args.region:
            if not (len(region) == 2 and region.isascii() and region.isdigit()) or region not in catalog.regions:
                raise UsageError(f"--region {region!r} is not a 2-digit KATO oblast code; codes: "
                                 + ", ".join(catalog.regions))
    elif args.agency or args.region:
        raise UsageError("--agency and --region are only for --role agency")
    if args.role == "business":
        if not args.bin:
            raise UsageError("--role business needs --bin <12-digit BIN/IIN>")
        if not (len(args.bin) == 12 and args.bin.isascii() and args.bin.isdigit()) or not checksum_ok(args.bin):
            raise UsageError(f"--bin {args.bin} is not a valid BIN/IIN (12 digits with a correct check digit)")
    elif args.bin:
        raise UsageError("--bin is only for --role business")
    label = (args.label or "").strip() or " ".join(
        part for part in (args.role, args.agency, ",".join(args.region), args.bin) if part)
    return {"role": args.role, "label": label, "agency_id": args.agency, "regions": tuple(args.region),
            "bin": args.bin}


def expiry(value: str | None, tz, now: datetime) -> datetime | None:
    """`--expires YYYY-MM-DD`: the key stops working at 00:00 Kazakhstan time that day, as a date-only
    `expires_at` means in the admin API."""
    if value is None:
        return None
    try:
        day = date.fromisoformat(value) if len(value) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise UsageError(f"--expires {value!r} is not a date as YYYY-MM-DD")
    at = datetime.combine(day, datetime.min.time(), tzinfo=tz)
    if at <= now:
        raise UsageError(f"--expires {value} is not in the future")
    return at.astimezone(timezone.utc)


def _storage_error(exc: Exception) -> str:
    return f"cannot reach the keys table ({exc.__class__.__name__}: {str(exc)[:300]}); check the AWS credentials, " \
           "AWS_REGION, AWS_ENDPOINT_URL, QALQAN_STAGE and TABLE_PREFIX"


def create_key(args) -> int:
    """Issue a key straight into DynamoDB and print it, the only time it is ever shown."""
    from chalicelib.bootstrap import container
    from chalicelib.domain.calendar import load_deadline_rules
    from chalicelib.domain.catalog import load_catalog
    from chalicelib.domain.errors import ValidationFailed
    from chalicelib.services.auth import issue_key
    from chalicelib.settings import ConfigurationError

    # Checked before any AWS call or setting is needed: a typo costs nothing and writes nothing.
    request = key_request(args, load_catalog())
    tz = load_deadline_rules().tz
    expires_at = expiry(args.expires, tz, datetime.now(timezone.utc))
    c = container()
    try:
        issued = issue_key(**request, expires_at=expires_at, keys=c.keys, clock=c.clock,
                           known_agencies=c.catalog.agencies, known_regions=c.catalog.regions)
    except ValidationFailed as exc:  # a rule only the service knows: still the caller's mistake
        raise UsageError("; ".join(f"{k}: {v['message']}" for k, v in exc.fields.items()) or exc.message) from None
    except ConfigurationError:
        raise
    except Exception as exc:
        print(f"error: {_storage_error(exc)}", file=sys.stderr)
        return 1
    if args.json:
        from chalicelib.api.presenters import issued_key

        print(json.dumps(issued_key(issued), ensure_ascii=False))
    else:
        scope = {"agency": f"agency {issued.agency_id}" + (f", regions {', '.join(issued.regions)}"
                                                           if issued.regions else ", every region"),
                 "business": f"business {issued.bin}"}.get(issued.role, "no scope")
        expires = issued.expires_at.astimezone(tz).isoformat(" ", "minutes") if issued.expires_at else "never"
        print(f"key id:  {issued.key_id}\nkey:     {issued.key}\nrole:    {issued.role} ({scope})\n"
              f"label:   {issued.label}\nexpires: {expires}")
    print(f"Store this key now: only its hash is kept. Revoke it with `python -m tools.admin revoke-key "
          f"{issued.key_id}`.", file=sys.stderr)
    return 0


def revoke_key(key_id: str) -> int:
    from chalicelib.bootstrap import container
    from chalicelib.services.auth import revoke_key as revoke
    from chalicelib.settings import ConfigurationError

    if not (0 < len(key_id) <= 40 and key_id.isascii() and key_id.isalnum()):
        raise UsageError(f"{key_id!r} is not a key id (the `key id` create-key printed, like k1a2b3c4d5e6f)")
    c = container()
    try:
        revoked = revoke(key_id, keys=c.keys, clock=c.clock)
    except ConfigurationError:
        raise
    except Exception as exc:
        print(f"error: {_storage_error(exc)}", file=sys.stderr)
        return 1
    if not revoked:
        print(f"error: no key has the id {key_id}", file=sys.stderr)
        return 1
    print(f"revoked {key_id}: requests with it are refused from now on")
    return 0


def replay_parked(limit: int) -> int:
    """Re-drive the stream records parked in PARKED_QUEUE_URL through the same reactions (after a fix).

    Reactions that already happened are skipped by their ledger markers, so a replay never doubles a counter
    or a message. Records that still fail stay parked; the exit status is 1 if any did."""
    from chalicelib.bootstrap import container
    from chalicelib.settings import ConfigurationError
    from chalicelib.streams.processor import replay_parked as replay

    c = container()
    if not c.settings.parked_queue_url:
        raise UsageError("PARKED_QUEUE_URL is not set: there is no parking queue to replay")
    try:
        result = replay(c, limit=limit)
    except ConfigurationError:
        raise
    except Exception as exc:
        print(f"error: cannot replay ({exc.__class__.__name__}); check the AWS credentials, AWS_REGION and "
              "PARKED_QUEUE_URL", file=sys.stderr)
        return 1
    print(f"replayed {result['replayed']} parked record(s): {result['reactions']} reaction(s) done now, "
          f"{result['skipped']} already done; {result['still_failing']} still failing (left parked)")
    return 1 if result["still_failing"] else 0


def export_corrections(out: Path) -> int:
    """Agencies' reroutes as labelled examples for `tools/train_router.py --corrections`: JSON lines
    {text, to_agency, from_agency, category, sector, at, complaint_id}: one per case, its last reroute, if
    the case is still with that agency. An example whose reroute never happened (a save that lost its race
    after the example was written) or was corrected by a later reroute is skipped.
    The export holds complaint texts: keep it where the complaints are kept, and delete it after training."""
    from chalicelib.adapters.tables import RoutingExampleTable
    from chalicelib.bootstrap import container

    c = container()
    written = 0
    latest: dict[str, object] = {}
    total = 0
    for item in RoutingExampleTable.scan():  # a CLI export, never a request path
        total += 1
        if item.complaint_id not in latest or item.at > latest[item.complaint_id].at:
            latest[item.complaint_id] = item  # an earlier reroute of a case rerouted again was corrected later
    with open(out, "w", encoding="utf-8") as fh:
        for item in latest.values():
            complaint = c.complaints.get(item.complaint_id)
            # one label per case: its last reroute, and only if the case is still with that agency
            happened = complaint is not None and complaint.agency_id == item.to_agency and any(
                e.type == "rerouted" and e.agency_id == item.to_agency and abs((e.at - item.at).total_seconds()) < 1
                for e in complaint.timeline)
            if not happened:
                skipped += 1
                continue
            fh.write(json.dumps({"text": item.text, "to_agency": item.to_agency, "from_agency": item.from_agency,
                                 "category": item.category, "sector": item.sector, "at": item.at.isoformat(),
                                 "complaint_id": item.complaint_id}, ensure_ascii=False) + "\n")
            written += 1
    skipped = total - written
    print(f"wrote {written} correction(s) to {out}; skipped {skipped} (rerouted again, or no matching reroute)")
    return 0


def export_open_data(day_text: str | None) -> int:
    """Write one submission day's open-data files (docs/open-data.md) to OPEN_DATA_BUCKET, as the nightly job
    does; without --date, yesterday in Kazakhstan time. Re-running a day replaces its files."""
    from datetime import timedelta

    from chalicelib.bootstrap import container
    from chalicelib.domain.errors import ValidationFailed
    from chalicelib.services.open_data import export_day, parse_day

    c = container()
    if c.objects is None:
        raise UsageError("OPEN_DATA_BUCKET is not set: there is no bucket to export to")
    try:
        day = parse_day(day_text) if day_text else c.clock.now().astimezone(c.rules.tz).date() - timedelta(days=1)
    except ValidationFailed:
        raise UsageError(f"--date must be a date as YYYY-MM-DD, got {day_text!r}") from None
    done = export_day(day, c=c)
    print(f"exported {done.rows} complaint(s) filed on {day.isoformat()} ({done.with_text} with published text): "
          + ", ".join(done.files))
    return 0


def _defaults() -> tuple[str | None, str | None]:
    api, key = os.environ.get("QALQAN_API"), os.environ.get("QALQAN_ADMIN_KEY")
    demo = ROOT / ".local" / "demo.json"
    if (not api or not key) and demo.exists():
        data = json.loads(demo.read_text(encoding="utf-8"))
        api, key = api or data.get("api"), key or data.get("keys", {}).get("admin")
    return api, key


def telegram_set_webhook(url: str, *, drop_pending: bool, max_connections: int) -> int:
    """Point the Telegram bot at the stage's webhook (setWebhook), with the stage's secret token, which Telegram
    then sends in X-Telegram-Bot-Api-Secret-Token. The token and the secret come from the same settings as the
    API (TELEGRAM_BOT_TOKEN[_PARAMETER], TELEGRAM_SECRET_TOKEN[_PARAMETER]); neither is printed."""
    from urllib.parse import urlsplit

    from chalicelib.adapters.telegram import HttpBotApi
    from chalicelib.services.telegram import BotApiError
    from chalicelib.settings import get_settings

    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise UsageError("--url must be an https URL: Telegram calls webhooks over HTTPS only")
    if not parts.path.endswith("/channels/telegram/webhook"):
        raise UsageError("--url must end in /channels/telegram/webhook (the API route the bot answers on)")
    if not 1 <= max_connections <= 100:
        raise UsageError("--max-connections must be from 1 to 100 (Telegram's range)")
    settings = get_settings()
    if not settings.telegram_configured:
        raise UsageError("set TELEGRAM_BOT_TOKEN[_PARAMETER] and TELEGRAM_SECRET_TOKEN[_PARAMETER] first")
    bot = HttpBotApi(settings.telegram_bot_token, settings.telegram_api_base_url, timeout=15)
    try:
        bot.set_webhook(url, secret_token=settings.telegram_secret_token, max_connections=max_connections,
                        drop_pending_updates=drop_pending)
        info = bot.get_webhook_info()
    except BotApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"webhook set: {info.get('url', url)}  pending updates: {info.get('pending_update_count', 0)}  "
          f"updates: {', '.join(info.get('allowed_updates') or ['message', 'callback_query'])}")
    if info.get("last_error_message"):
        print(f"Telegram's last delivery error: {info['last_error_message']}", file=sys.stderr)
    return 0


def new_vapid_keys() -> tuple[str, str]:
    """A fresh Web Push VAPID pair: (VAPID_PRIVATE_KEY as base64url raw 32-byte scalar, VAPID_PUBLIC_KEY)."""
    import base64

    from cryptography.hazmat.primitives.asymmetric import ec

    scalar = ec.generate_private_key(ec.SECP256R1()).private_numbers().private_value.to_bytes(32, "big")
    private = base64.urlsafe_b64encode(scalar).rstrip(b"=").decode()
    return private, vapid_public_key(private)


def vapid_public_key(private_key: str) -> str:
    """VAPID_PUBLIC_KEY for a private key (base64url raw, base64url DER or PEM), as the sender reads it.

    Not chalicelib.adapters.webpush.application_server_key: that module loads the table models, which read the
    settings at import, and neither this tool nor `python -m local` (before its environment is set) has them."""
    import base64

    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
    from py_vapid import Vapid

    text = private_key.strip()
    signer = Vapid.from_pem(text.encode()) if text.startswith("-----BEGIN") else Vapid.from_string(private_key=text)
    point = signer.public_key.public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)
    return base64.urlsafe_b64encode(point).rstrip(b"=").decode()


def push_keys(stage: str, out: Path | None, public_of: str | None) -> int:
    """Makes a VAPID pair: the private half into a new file only its owner can read (never on the terminal, so not
    in a scrollback or a CI log), the SSM command that stores it, and the public half for the stage's config.
    With public_of ("-" for stdin): prints the public half of an existing private key (an installation that set
    only VAPID_PRIVATE_KEY before VAPID_PUBLIC_KEY existed)."""
    if public_of is not None:
        text = sys.stdin.read() if public_of == "-" else Path(public_of).read_text(encoding="utf-8")
        try:
            print(vapid_public_key(text))
        except Exception as exc:  # noqa: BLE001 - py_vapid raises several kinds for a key it cannot read
            raise UsageError(f"not a VAPID private key (base64url raw, base64url DER or PEM): "
                             f"{exc.__class__.__name__}") from None
        return 0
    path = out or Path.cwd() / f"vapid-private-key-{stage}.txt"
    private, public = new_vapid_keys()
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise UsageError(f"{path} exists: a second pair would replace a key browsers already subscribed with") from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(private + "\n")
    parameter = f"/qalqan/{stage}/vapid-private-key"
    print(f"private key written to {path} (mode 600). Store it, then delete the file:\n\n"
          f"  aws ssm put-parameter --name {parameter} --type SecureString --value \"$(cat {path})\" && rm {path}\n\n"
          f"and add to the \"{stage}\" stage's environment_variables in .chalice/config.json:\n\n"
          f"  \"VAPID_PRIVATE_KEY_PARAMETER\": \"{parameter}\",\n"
          f"  \"VAPID_PUBLIC_KEY\": \"{public}\",\n"
          f"  \"VAPID_SUBJECT\": \"mailto:<the operator's address>\"\n")
    return 0


def main(argv: list[str] | None = None) -> int:
    api, key = _defaults()
    parser = argparse.ArgumentParser(prog="python -m tools.admin", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--api", default=api, help="API base URL (QALQAN_API)")
    parser.add_argument("--key", default=key, help="admin key (QALQAN_ADMIN_KEY)")
    sub = parser.add_subparsers(dest="command", required=True)
    p_import = sub.add_parser("import-csv", help="register businesses and outlets from a CSV file")
    p_import.add_argument("csv", type=Path)
    p_import.add_argument("--out", type=Path,
                          help="where to write the codes (default: <csv name>.codes.csv in the current directory)")
    p_import.add_argument("--workers", type=int, default=4)
    p_import.add_argument("--stickers", type=Path, help="also write the imported outlets' stickers to this PDF")
    p_stickers = sub.add_parser("stickers", help="A4 sticker sheets (PDF) for every outlet of a business")
    p_stickers.add_argument("bin")
    p_stickers.add_argument("--out", type=Path, required=True)
    p_key = sub.add_parser("create-key", help="issue an API key straight into DynamoDB (printed once)")
    p_key.add_argument("--role", required=True, choices=("admin", "analyst", "agency", "business"))
    p_key.add_argument("--agency", help="agency id, for --role agency (e.g. kzpp)")
    p_key.add_argument("--region", action="append", default=[], metavar="KATO",
                       help="limit an agency key to a 2-digit KATO oblast; repeat for more (default: every region)")
    p_key.add_argument("--bin", help="the business's BIN/IIN, for --role business")
    p_key.add_argument("--label", help="who holds the key, for the audit trail (default: role and scope)")
    p_key.add_argument("--expires", metavar="YYYY-MM-DD",
                       help="the key stops working at 00:00 Kazakhstan time that day")
    p_key.add_argument("--json", action="store_true", help="print the issued key as JSON, as the admin API does")
    p_revoke = sub.add_parser("revoke-key", help="revoke an API key by its key id (straight in DynamoDB)")
    p_revoke.add_argument("key_id")
    p_replay = sub.add_parser("replay-parked",
                              help="re-drive stream records parked in PARKED_QUEUE_URL (straight in AWS)")
    p_replay.add_argument("--limit", type=int, default=100, help="at most this many parked records (default 100)")
    p_export = sub.add_parser("export-corrections",
                              help="agencies' reroutes as training examples (JSON lines) for tools/train_router.py")
    p_export.add_argument("--out", type=Path, required=True)
    p_open = sub.add_parser("export-open-data",
                            help="write a day's open-data files (CSV, JSON Lines) to OPEN_DATA_BUCKET (straight in AWS)")
    p_open.add_argument("--date", metavar="YYYY-MM-DD",
                        help="the submission day to export (default: yesterday, Kazakhstan time)")
    p_telegram = sub.add_parser("telegram-set-webhook",
                                help="point the Telegram bot at the API's webhook, with the secret token (setWebhook)")
    p_telegram.add_argument("--url", required=True, help="https://<api>/channels/telegram/webhook")
    p_telegram.add_argument("--drop-pending-updates", action="store_true",
                            help="forget updates Telegram queued while no webhook answered")
    p_telegram.add_argument("--max-connections", type=int, default=40, help="parallel deliveries (1-100, default 40)")
    p_push = sub.add_parser("push-keys", help="make a Web Push VAPID key pair (or print an existing key's public half)")
    p_push.add_argument("--stage", choices=("dev", "prod"), default="dev", help="names the SSM parameter (default dev)")
    p_push.add_argument("--out", type=Path, help="file for the private key (default ./vapid-private-key-<stage>.txt)")
    p_push.add_argument("--public-of", metavar="FILE",
                        help="print VAPID_PUBLIC_KEY for this existing private key file ('-': stdin) instead")
    args = parser.parse_args(argv)
    if args.command == "push-keys":
        try:
            return push_keys(args.stage, args.out, args.public_of)
        except UsageError as exc:
            p_push.error(str(exc))
    if args.command == "telegram-set-webhook":
        from chalicelib.settings import ConfigurationError

        try:
            return telegram_set_webhook(args.url, drop_pending=args.drop_pending_updates,
                                        max_connections=args.max_connections)
        except UsageError as exc:
            p_telegram.error(str(exc))
        except ConfigurationError as exc:
            p_telegram.error(f"the environment is not set up: {exc}")
    if args.command == "export-open-data":
        from chalicelib.settings import ConfigurationError

        try:
            return export_open_data(args.date)
        except UsageError as exc:
            p_open.error(str(exc))
        except ConfigurationError as exc:
            p_open.error(f"the environment is not set up for DynamoDB and S3: {exc}")
    if args.command == "export-corrections":
        from chalicelib.settings import ConfigurationError

        try:
            return export_corrections(args.out)
        except ConfigurationError as exc:
            p_export.error(f"the environment is not set up for DynamoDB: {exc}")
    if args.command in ("create-key", "revoke-key", "replay-parked"):
        from chalicelib.settings import ConfigurationError

        sub_parser = {"create-key": p_key, "revoke-key": p_revoke, "replay-parked": p_replay}[args.command]
        try:
            if args.command == "replay-parked":
                return replay_parked(max(1, args.limit))
            return create_key(args) if args.command == "create-key" else revoke_key(args.key_id)
        except UsageError as exc:
            sub_parser.error(str(exc))
        except ConfigurationError as exc:
            sub_parser.error(f"the environment is not set up for DynamoDB: {exc}")
    if not args.api or not args.key:
        parser.error("set --api and --key (or QALQAN_API and QALQAN_ADMIN_KEY, or run `make run` for the demo)")
    client = AdminClient(args.api, args.key)
    try:
        if args.command == "import-csv":
            # Not next to the input: a sample or a chain's file inside the repo would gain an untracked file.
            out = args.out or Path.cwd() / f"{args.csv.stem}.codes.csv"
            return import_csv(client, args.csv, out, max(1, args.workers), args.stickers)
        return chain_stickers(client, args.bin, args.out)
    except ApiError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
