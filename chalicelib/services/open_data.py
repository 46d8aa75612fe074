"""Open data: a daily anonymised export of complaints (CSV and JSON Lines, CC BY 4.0; docs/open-data.md).

How it avoids a Scan: a stream reaction keeps one anonymised row per complaint in a partition of its
submission day (OpenDataTable, "day#<YYYY-MM-DD>"), rewritten on every change from the complaint's state, and
never rolled back by a late record (the row remembers the complaint version it was made from). A day's export
is then one Query of one partition, whatever the size of the complaints table. The nightly job writes
yesterday's files and rewrites the previous OPEN_DATA_REFRESH_DAYS days' (outcomes arrive weeks after the
complaint), so a file is a snapshot "as of exported_at" of the complaints filed that day.

A row holds codes and numbers only. The complaint's text is in it only when the consumer consented to
publication (`publish_consent`), scrubbed of personal data when the row is made and again at every export (a
better scrubber then also cleans older rows). No contact, no complaint id (`record_id` is a keyed one-way digest
of it), no business BIN/IIN or name, no outlet: a sole proprietor's IIN and name are a person's.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from chalicelib.domain.errors import InvalidCursor, NotFound, ValidationFailed, field_error
from chalicelib.domain.model import Complaint, Status
from chalicelib.domain.scrubber import scrub
from chalicelib.services.analytics import local_day

LICENCE = {"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/",
           "attribution": "Qalqan consumer-complaint platform, Kazakhstan"}
SCHEMA_VERSION = "od1"
# The columns, in order (CSV header, JSON Lines keys); docs/open-data.md describes each.
COLUMNS = ("record_id", "date", "region", "sector", "category", "agency", "kind", "channel", "status", "outcome",
           "business_answered", "business_answer_hours", "business_answered_in_time", "business_overdue",
           "agency_decided", "agency_decision_hours", "agency_overdue", "rerouted", "text_language", "text")
FORMATS = {"csv": "text/csv; charset=utf-8", "jsonl": "application/x-ndjson; charset=utf-8"}
FILE_NAME = re.compile(r"^complaints-(\d{4}-\d{2}-\d{2})\.(csv|jsonl)$")
LINK_SECONDS = 300          # a download link's life: long enough to start, short enough not to be shared on
MAX_FILES_PAGE = 366
UTC = timezone.utc


class OpenDataFileNotFound(NotFound):
    code = "open_data_file_not_found"


class OpenDataUnavailable(NotFound):
    code = "open_data_unavailable"


# --- the row -----------------------------------------------------------------------------------------------
def record_id(secret: str, complaint_id: str) -> str:
    """The same for a complaint in every file (so re-exports can be merged), and no way back to its id. Keyed
    with the stage secret (as analytics.case_ref): Open311 lists every complaint id with its outlet and time,
    so a plain digest of the id could be recomputed and the row, with its text, linked back to the outlet."""
    from chalicelib.domain.codes import keyed_digest

    return keyed_digest(secret, "open-data-record", complaint_id).hex()[:16]


def _hours(start: datetime, end: datetime) -> float:
    return round(max(0.0, (end - start).total_seconds()) / 3600, 1)


def outcome(complaint: Complaint) -> str:
    """open | settled | violation_confirmed | not_confirmed | rejected (the analytics' partition of outcomes)."""
    status = Status(complaint.status)
    if status is Status.SETTLED:
        return "settled"
    if status is Status.REJECTED:
        return "rejected"
    if status is Status.RESOLVED:
        decision = complaint.resolution.decision if complaint.resolution else None
        return decision or "resolved"
    return "open"


def row(complaint: Complaint, secret: str) -> dict:
    """The complaint's anonymised row as it stands now."""
    response, resolution = complaint.business_response, complaint.resolution
    in_time = None  # not judged while the seller's term runs and no answer came
    if response is not None:
        in_time = response.at <= complaint.business_due_at
    elif complaint.flags.business_overdue:
        in_time = False
    text = scrub(complaint.text).text if complaint.publish_consent else None
    return {
        "record_id": record_id(secret, complaint.id),
        "date": local_day(complaint.created_at).isoformat(),
        "region": complaint.region, "sector": complaint.sector, "category": complaint.category,
        "agency": complaint.agency_id, "kind": complaint.kind, "channel": complaint.channel,
        "status": Status(complaint.status).value, "outcome": outcome(complaint),
        "business_answered": response is not None,
        "business_answer_hours": _hours(complaint.created_at, response.at) if response else None,
        "business_answered_in_time": in_time,
        "business_overdue": complaint.flags.business_overdue,
        "agency_decided": resolution is not None,
        "agency_decision_hours": _hours(complaint.created_at, resolution.at) if resolution else None,
        "agency_overdue": complaint.flags.agency_overdue,
        "rerouted": any(entry.type == "rerouted" for entry in complaint.timeline),
        "text_language": complaint.text_language if text else None,
        "text": text,
    }


def apply_change(envelope, c, marker: str) -> bool | None:
    """The stream reaction: (re)write the complaint's row in its submission day's partition.

    Idempotent without the ledger: a row is a function of the complaint's state, and the store refuses a row
    made from the version it holds or an older one. So `marker` is not needed. False: that row or a newer one
    is there (a redelivered or late record)."""
    current = envelope.event.current
    if current is None or c.open_data is None:  # no store: a container built for request paths only (tests)
        return None
    return c.open_data.put_row(local_day(current.created_at).isoformat(), current.id, row(current, c.settings.secret),
                               version=current.version)


# --- the files ---------------------------------------------------------------------------------------------
# A cell a spreadsheet would run as a formula (OWASP "CSV injection"): consented texts are anyone's words.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def csv_cell(text: str) -> str:
    """The text as a spreadsheet shows it, never evaluated: a leading ' when it starts like a formula (a plain
    number such as -3.5 stays a number). web/analytics.js applies the same rule to the console's CSV."""
    if text.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return csv_cell(str(value))


def render(rows: list[dict], fmt: str) -> bytes:
    """The rows as a file: CSV (UTF-8, header, RFC 4180 quoting, formula-like cells prefixed with ') or JSON
    Lines (one object per line, the values as they are: a program reads them, not a spreadsheet)."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([_csv_value(r.get(name)) for name in COLUMNS])
        return out.getvalue().encode("utf-8")
    if fmt == "jsonl":
        return "".join(json.dumps({name: r.get(name) for name in COLUMNS}, ensure_ascii=False) + "\n"
                       for r in rows).encode("utf-8")
    raise ValueError(f"unknown format {fmt!r}")


def _published(stored: dict) -> dict:
    """A stored row as it goes out: the text scrubbed again (a scrubber improved since the row was made
    cleans it too), and only the documented columns."""
    out = {name: stored.get(name) for name in COLUMNS}
    if out["text"]:
        out["text"] = scrub(out["text"]).text
    return out


def file_name(day: date, fmt: str) -> str:
    return f"complaints-{day.isoformat()}.{fmt}"


def object_key(name: str) -> str:
    return f"complaints/{name[len('complaints-'):len('complaints-') + 4]}/{name}"


@dataclass(frozen=True)
class DayExport:
    day: date
    rows: int
    with_text: int
    files: tuple[str, ...]


def export_day(day: date, *, c) -> DayExport:
    """Write one submission day's files (both formats) and their index entries: one Query, two PUTs."""
    if c.objects is None:
        raise OpenDataUnavailable("No open-data bucket is configured (OPEN_DATA_BUCKET).")
    rows = [_published(r) for r in c.open_data.rows(day.isoformat())]
    rows.sort(key=lambda r: r["record_id"])
    now = c.clock.now().astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    names = []
    for fmt, content_type in FORMATS.items():
        body = render(rows, fmt)
        name = file_name(day, fmt)
        c.objects.put(object_key(name), body, content_type=content_type)
        c.open_data.put_file(name, {
            "day": day.isoformat(), "format": fmt, "rows": len(rows), "bytes": len(body),
            "sha256": hashlib.sha256(body).hexdigest(), "exported_at": now, "schema": SCHEMA_VERSION,
            "with_text": sum(1 for r in rows if r["text"])})
        names.append(name)
    return DayExport(day=day, rows=len(rows), with_text=sum(1 for r in rows if r["text"]), files=tuple(names))


def days_to_export(now: datetime, refresh_days: int, tz) -> list[date]:
    """Yesterday (Kazakhstan time) and the days before it that may still change, newest first. Today is not
    exported: it is not over."""
    yesterday = now.astimezone(tz).date() - timedelta(days=1)
    return [yesterday - timedelta(days=n) for n in range(refresh_days)]


def run_nightly(*, c) -> list[DayExport]:
    """The scheduled job: yesterday's files and the refresh window's, newest first."""
    return [export_day(day, c=c)
            for day in days_to_export(c.clock.now(), c.settings.open_data_refresh_days, c.rules.tz)]


def parse_day(raw: str | None) -> date:
    if raw is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw.strip()):
        raise ValidationFailed("Give a date as YYYY-MM-DD.", fields=field_error("date", "date_parsing", "YYYY-MM-DD"))
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise ValidationFailed("Give a date as YYYY-MM-DD.",
                               fields=field_error("date", "date_parsing", "YYYY-MM-DD")) from None


# --- reads for GET /open-data/ -------------------------------------------------------------------------------
def listing(*, c, limit: int, after: str | None) -> dict:
    """The exported files, newest first, with the licence and the schema. One Query."""
    if after is not None and not FILE_NAME.match(after):
        # the same 400 invalid_cursor as every other paged list of the API
        raise InvalidCursor("The cursor is not one this API gave out.",
                            fields=field_error("cursor", "invalid", "a file name from a previous page"))
    entries, next_after = c.open_data.files(limit=limit, after=after)
    return {
        "available": c.objects is not None,
        "licence": LICENCE,
        "schema": {"version": SCHEMA_VERSION, "columns": list(COLUMNS),
                   "documentation": "docs/open-data.md"},
        "files": [{**entry, "path": f"/open-data/{entry['name']}"} for entry in entries],
        "next_cursor": next_after,
    }


def download_link(name: str, *, c) -> str:
    """A short-lived link to an exported file; OpenDataFileNotFound for a name never exported."""
    if not FILE_NAME.match(name or ""):
        raise OpenDataFileNotFound("No open-data file has this name.")
    if c.objects is None:
        raise OpenDataUnavailable("The open data is not available on this installation.")
    if c.open_data.file(name) is None:
        raise OpenDataFileNotFound("No open-data file has this name.")
    return c.objects.url(object_key(name), expires_seconds=LINK_SECONDS, filename=name)
