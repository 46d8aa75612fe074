"""Analytics: counters kept from complaint state, and the analysts' reads (summary, CSV, hotspots).

Counters are derived from a complaint's *state*, never from its events: a complaint contributes fixed numbers
to a few counter items (its submission day and month, by region × agency × category × sector × kind, and its
outlet's day and month), and a stored change moves the counters by contribution(after) - contribution(before).
Additions commute, so the deltas of a complaint's stream records add up to its latest state's contribution
in any order (an INSERT that arrives after its MODIFY included). The marker of `CounterStore.apply_once` makes
a redelivered record a no-op. A reroute changes the agency in the item keys, so its delta takes the whole
contribution off the old agency's items and puts it on the new one's.

Reads are Queries on the "analytics" table only. Whole months come from the month rollup, edge days from the
day items, so a year-long summary reads a dozen month items per dimension combination instead of 365 days'.
The number of requests depends on the date range and the number of distinct combinations, never on the
number of complaints. Key layout and counter meanings: docs/analytics.md.

The counters hold codes and numbers only: no complaint id, no text, no contact, no BIN/IIN (a sole
proprietor's IIN is a person's number).
"""
from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Iterator, Mapping, Sequence

from chalicelib.domain.calendar import load_deadline_rules
from chalicelib.domain.catalog import Catalog
from chalicelib.domain.errors import ValidationFailed, field_error
from chalicelib.domain.model import Complaint, Status
from chalicelib.services.ports import CounterStore, Increment

TABLE = "analytics"
# Every counter an analytics item can hold. The *_seconds are sums, published only as averages in hours.
# How long an answer took, in buckets of days (upper bounds; "more" is over the last). The seller's term is
# 10 calendar days and an agency's 15 working days (about 21 calendar days): the buckets put the terms on edges.
RESPONSE_BUCKETS = (("d1", 1), ("d3", 3), ("d10", 10), ("d21", 21), ("more", None))
RESPONSES = ("business_answer", "agency_decision")
RESPONSE_COUNTERS = tuple(f"{what}_{name}" for what in RESPONSES for name, _ in RESPONSE_BUCKETS)
COUNTERS = ("count", "appeals", "signals", "open", "settled", "upheld", "not_confirmed", "rejected",
            "business_overdue", "agency_overdue", "business_answered", "business_answer_seconds",
            "agency_decided", "agency_decision_seconds", "rerouted") + RESPONSE_COUNTERS
# What a summary row shows: the counters, with the time sums replaced by averages in hours.
PUBLIC = ("count", "appeals", "signals", "open", "settled", "upheld", "not_confirmed", "rejected",
          "business_overdue", "agency_overdue", "business_answered", "business_answer_hours_avg",
          "agency_decided", "agency_decision_hours_avg", "rerouted") + RESPONSE_COUNTERS
DIMENSIONS = ("region", "agency", "category", "sector", "kind")
PERIODS = ("day", "week", "month")
GROUPS = DIMENSIONS + PERIODS
FILTERS = DIMENSIONS
KINDS = ("appeal", "signal")
NO_CATEGORY = "none"   # a complaint the consumer filed without a category
MAX_DAYS = 366         # a leap year
EARLIEST = date(2000, 1, 1)   # far enough back for any baseline, and no date arithmetic can underflow
LATEST = date(2100, 12, 31)
BASELINE_WINDOWS = 4
LEVELS = ("region", "category", "outlet")
HOTSPOT_FORMULA = "h1"
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_HIGH = "~"  # sorts after "#" and every code character: "<day>~" closes a range of "<day>#..." keys


def local_zone():
    """Kazakhstan time (UTC+5), from the same rules as the legal deadlines: a complaint's day is its local day."""
    return load_deadline_rules().tz


# --- key layout ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Grain:
    """A family of counter items: a day partition per month and a month rollup partition per year."""
    day_prefix: str
    month_prefix: str

    def day_key(self, day: date, rest: str) -> tuple[str, str]:
        return f"{self.day_prefix}#{day:%Y-%m}", f"{day.isoformat()}#{rest}"

    def month_key(self, day: date, rest: str) -> tuple[str, str]:
        return f"{self.month_prefix}#{day:%Y}", f"{day:%Y-%m}#{rest}"


DIMS = Grain("d", "m")      # sk rest: region#agency#category#sector#kind
OUTLETS = Grain("o", "om")  # sk rest: outlet code
DISTRICTS = Grain("k", "km")  # sk rest: district (4-digit KATO prefix)#sector


def local_day(moment: datetime) -> date:
    return moment.astimezone(local_zone()).date()


def dimensions(complaint: Complaint) -> dict[str, str]:
    return {"region": complaint.region, "agency": complaint.agency_id,
            "category": complaint.category or NO_CATEGORY, "sector": complaint.sector, "kind": complaint.kind}


def counters(complaint: Complaint) -> dict[str, int]:
    """What one complaint in its current state adds to its items (zeros left out).

    The four outcomes partition the closed complaints: settled (the consumer accepted the seller's offer, or
    the agency decided "settled"), upheld (violation confirmed), not_confirmed, rejected (left without
    consideration). So open + settled + upheld + not_confirmed + rejected == count.
    """
    decision = complaint.resolution.decision if complaint.status == Status.RESOLVED and complaint.resolution else None
    values = {
        "count": 1,
        "appeals": int(complaint.kind == "appeal"),
        "signals": int(complaint.kind == "signal"),
        "open": int(complaint.is_open),
        "settled": int(complaint.status == Status.SETTLED or decision == "settled"),
        "upheld": int(decision == "violation_confirmed"),
        "not_confirmed": int(decision == "not_confirmed"),
        "rejected": int(complaint.status == Status.REJECTED),
        "business_overdue": int(complaint.flags.business_overdue),
        "agency_overdue": int(complaint.flags.agency_overdue),
        "rerouted": int(any(entry.type == "rerouted" for entry in complaint.timeline)),
    }
    if complaint.business_response is not None:
        values["business_answered"] = 1
        values["business_answer_seconds"] = _seconds(complaint.business_response.at - complaint.created_at)
        values[f"business_answer_{_bucket(values['business_answer_seconds'])}"] = 1
    if complaint.resolution is not None:  # resolved or rejected: the agency's decision either way
        values["agency_decided"] = 1
        values["agency_decision_seconds"] = _seconds(complaint.resolution.at - complaint.created_at)
        values[f"agency_decision_{_bucket(values['agency_decision_seconds'])}"] = 1
    return {name: value for name, value in values.items() if value}


def _bucket(seconds: int) -> str:
    """The response-time bucket of an answer that took `seconds` (a bound is included in its bucket)."""
    for name, days in RESPONSE_BUCKETS:
        if days is None or seconds <= days * 86400:
            return name
    raise AssertionError("the last bucket is open")


def _seconds(delta: timedelta) -> int:
    return max(0, round(delta.total_seconds()))


def contribution(complaint: Complaint) -> dict[tuple[str, str], tuple[dict[str, int], dict[str, str]]]:
    """Item key -> (numbers to add, descriptive attributes) for one complaint in its current state."""
    day = local_day(complaint.created_at)
    dims = dimensions(complaint)
    rest = "#".join(dims[name] for name in DIMENSIONS)
    numbers = counters(complaint)
    month = f"{day:%Y-%m}"
    items = {
        DIMS.day_key(day, rest): (numbers, {**dims, "day": day.isoformat(), "month": month}),
        DIMS.month_key(day, rest): (numbers, {**dims, "month": month}),
    }
    if complaint.outlet_code:
        # Outlets keep only the count, which never changes after submission: their items are written once.
        where = {"outlet": complaint.outlet_code, "sector": complaint.sector, "region": complaint.region}
        items[OUTLETS.day_key(day, complaint.outlet_code)] = ({"count": 1}, {**where, "day": day.isoformat(),
                                                                            "month": month})
        items[OUTLETS.month_key(day, complaint.outlet_code)] = ({"count": 1}, {**where, "month": month})
    return items


def analytics_increments(previous: Complaint | None, current: Complaint) -> list[Increment]:
    """The counter moves of one stored change: contribution(current) - contribution(previous), item by item.

    At most 8 items (4 keys before, 4 after; apply_change adds a new complaint's 2 district items), far below
    a transaction's 100."""
    before = contribution(previous) if previous is not None else {}
    after = contribution(current)
    moves = []
    for key in sorted(before.keys() | after.keys()):
        add_before, set_before = before.get(key, ({}, {}))
        add_after, set_after = after.get(key, ({}, {}))
        delta = {name: add_after.get(name, 0) - add_before.get(name, 0)
                 for name in sorted(add_before.keys() | add_after.keys())}
        delta = {name: value for name, value in delta.items() if value}
        if delta:
            # The attributes are a function of the key, so either side's are the item's.
            moves.append(Increment(table=TABLE, key=key, add=delta, set=set_after or set_before))
    return moves


def apply_change(envelope, c, marker: str) -> bool | None:
    """The counter reaction to ComplaintChanged: one transaction with the marker, or no write at all when
    nothing moves (None). False: the marker was there, this record was counted before.

    A new complaint about an outlet that carries a KATO code also counts in its district's items: the
    district comes from the outlet (one GetItem, on the INSERT record only), and those items hold only the
    count, which never changes after submission, so no later record needs the outlet again."""
    event = envelope.event
    increments = analytics_increments(event.previous, event.current)
    if event.previous is None and event.current.outlet_code:
        outlet = c.outlets.get(event.current.outlet_code)
        increments += district_increments(event.current, outlet.kato if outlet is not None else None)
    if not increments:
        return None
    return c.counters.apply_once(marker, increments, at=c.clock.now())


# --- reading: which items cover a date range --------------------------------------------------------------
@dataclass(frozen=True)
class ItemQuery:
    """One Query: a partition and a sort-key range, of day items or month rollup items."""
    partition: str
    start: str
    end: str
    monthly: bool


def _months(start: date, end: date) -> Iterator[date]:
    month = start.replace(day=1)
    while month <= end:
        yield month
        month = (month + timedelta(days=32)).replace(day=1)


def _month_end(month: date) -> date:
    return (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def plan(windows: Sequence[tuple[date, date]], grain: Grain = DIMS, *, daily: bool = False) -> list[ItemQuery]:
    """The Queries that read contiguous `windows` (oldest first, each (first, last) day) with the fewest items.

    A month that lies wholly inside one window is read from the month rollup (consecutive such months of one
    year in one Query); any other month (a window starts or ends in it, or `daily` asks for days) is read
    from its day items, the days in range only."""
    start, end = windows[0][0], windows[-1][1]
    queries: list[ItemQuery] = []
    run: list[date] = []

    def close_run() -> None:
        if run:
            queries.append(ItemQuery(grain.month_key(run[0], "")[0], f"{run[0]:%Y-%m}", f"{run[-1]:%Y-%m}{_HIGH}",
                                     monthly=True))
            run.clear()

    for month in _months(start, end):
        last = _month_end(month)
        whole = not daily and any(first <= month and last <= final for first, final in windows)
        if whole:
            if run and run[-1].year != month.year:
                close_run()
            run.append(month)
            continue
        close_run()
        lo, hi = max(month, start), min(last, end)
        queries.append(ItemQuery(grain.day_key(lo, "")[0], lo.isoformat(), f"{hi.isoformat()}{_HIGH}", monthly=False))
    close_run()
    return queries


def _read(store: CounterStore, windows: Sequence[tuple[date, date]], grain: Grain, *,
          daily: bool = False) -> Iterator[tuple[int, dict]]:
    """(window index, item) for every counter item of the windows."""
    for q in plan(windows, grain, daily=daily):
        for item in store.query(TABLE, q.partition, start=q.start, end=q.end):
            when = date.fromisoformat(item["month"] + "-01") if q.monthly else date.fromisoformat(item["day"])
            index = next((i for i, (first, last) in enumerate(windows) if first <= when <= last), None)
            if index is not None:
                yield index, item


# --- validation -------------------------------------------------------------------------------------------
def _invalid(path: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed("Some parameters are invalid.", fields=field_error(path, code, message))


def _day(raw: str | None, path: str) -> date:
    if raw is None or not str(raw).strip():
        raise _invalid(path, "missing", "a date, YYYY-MM-DD")
    raw = str(raw).strip()
    try:
        if not _ISO_DAY.match(raw):  # fromisoformat also takes 20261127 and 2026-W48-5
            raise ValueError(raw)
        day = date.fromisoformat(raw)
    except ValueError:
        raise _invalid(path, "date_parsing", "a date, YYYY-MM-DD") from None
    if not EARLIEST <= day <= LATEST:
        raise _invalid(path, "out_of_range", f"{EARLIEST.isoformat()}..{LATEST.isoformat()}")
    return day


def date_range(from_day: str | None, to_day: str | None) -> tuple[date, date]:
    """Two ISO days (Kazakhstan time), first <= last, at most MAX_DAYS days counting both."""
    start, end = _day(from_day, "from"), _day(to_day, "to")
    if end < start:
        raise _invalid("to", "out_of_range", "on or after 'from'")
    if (end - start).days + 1 > MAX_DAYS:
        raise _invalid("to", "out_of_range", f"at most {MAX_DAYS} days after 'from', counting both")
    return start, end


def _values(raw: str | Sequence[str] | None) -> list[str]:
    """A comma-separated parameter (or a list) as its distinct non-empty values, in order."""
    if raw is None:
        return []
    parts = raw.split(",") if isinstance(raw, str) else [part for value in raw for part in str(value).split(",")]
    return list(dict.fromkeys(part.strip() for part in parts if part.strip()))


def group_by_param(raw: str | Sequence[str] | None) -> list[str]:
    groups = _values(raw)
    unknown = [g for g in groups if g not in GROUPS]
    if unknown:
        raise _invalid("group_by", "enum", f"unknown {', '.join(unknown)}; use {', '.join(GROUPS)}")
    return groups


def allowed_values(catalog: Catalog) -> dict[str, frozenset[str]]:
    return {"region": frozenset(catalog.regions), "agency": frozenset(catalog.agencies),
            "category": frozenset(catalog.categories) | {NO_CATEGORY}, "sector": frozenset(catalog.sectors),
            "kind": frozenset(KINDS)}


_UNKNOWN = {"region": "unknown_region", "agency": "unknown_agency", "category": "unknown_category",
            "sector": "unknown_sector", "kind": "enum"}


def filter_params(filters: Mapping[str, str | Sequence[str] | None], catalog: Catalog) -> dict[str, list[str]]:
    allowed = allowed_values(catalog)
    chosen = {}
    for name in FILTERS:
        values = _values(filters.get(name))
        unknown = [v for v in values if v not in allowed[name]]
        if unknown:
            raise _invalid(name, _UNKNOWN[name], f"unknown {', '.join(unknown)}")
        if values:
            chosen[name] = values
    return chosen


# --- summary ----------------------------------------------------------------------------------------------
def _week(day: str) -> str:
    year, week, _ = date.fromisoformat(day).isocalendar()
    return f"{year}-W{week:02d}"


def _group_value(item: dict, group: str) -> str:
    if group == "week":
        return _week(item["day"])
    return str(item[group])


def _public(numbers: Mapping[str, int]) -> dict:
    """A row's counters as published: the time sums turned into average hours (None when nothing to average)."""
    row = {}
    for name in PUBLIC:
        if name.endswith("_hours_avg"):
            stem = name[: -len("_hours_avg")]  # business_answer / agency_decision
            done = numbers.get({"business_answer": "business_answered", "agency_decision": "agency_decided"}[stem], 0)
            total = numbers.get(f"{stem}_seconds", 0)
            row[name] = round(total / done / 3600, 2) if done else None
        else:
            row[name] = int(numbers.get(name, 0))
    return row


def summary(from_day: str | None, to_day: str | None, group_by, filters: Mapping[str, str | Sequence[str] | None],
            *, c) -> dict:
    """Counters of complaints submitted between two local days (both included), grouped and filtered.

    `group_by`: any of region, agency, category, sector, kind, day, week (ISO, "2026-W48"), month; `filters`:
    region, agency, category, sector, kind, each one or more values. Groups are sorted by their key; a
    week at either end of the range holds only the days in range. Query only; whole months read month items."""
    start, end = date_range(from_day, to_day)
    groups = group_by_param(group_by)
    chosen = filter_params(filters, c.catalog)
    daily = any(g in ("day", "week") for g in groups)  # month items cannot be split into days
    rows: dict[tuple[str, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    totals: dict[str, int] = defaultdict(int)
    for _, item in _read(c.counters, [(start, end)], DIMS, daily=daily):
        if any(str(item.get(name)) not in values for name, values in chosen.items()):
            continue
        row = rows[tuple(_group_value(item, g) for g in groups)]
        for name in COUNTERS:
            amount = int(item.get(name, 0) or 0)
            row[name] += amount
            totals[name] += amount
    # An item that a reroute emptied stays behind with zeros: it is no group.
    kept = sorted((key, numbers) for key, numbers in rows.items() if any(numbers.values()))
    return {
        "from": start.isoformat(), "to": end.isoformat(), "group_by": groups, "filters": chosen,
        "groups": [{**dict(zip(groups, key)), **_public(numbers)} for key, numbers in kept],
        "totals": _public(totals),
    }


def _name(catalog: Catalog, dimension: str, value: str, lang: str) -> str:
    table = {"region": catalog.regions, "agency": catalog.agencies, "category": catalog.categories,
             "sector": catalog.sectors}[dimension]
    found = table.get(value)
    return found.name.get(lang, "") if found is not None else ""


def summary_csv(from_day: str | None, to_day: str | None, group_by, filters, *, c, lang: str = "en") -> str:
    """The summary's groups as CSV: a header row, then one row per group (the totals when nothing is grouped).

    Each catalogue dimension gets a `<name>_name` column in `lang` beside its code. It starts with a byte-order
    mark so that spreadsheet programs read the Kazakh and Russian names as UTF-8."""
    result = summary(from_day, to_day, group_by, filters, c=c)
    groups = result["group_by"]
    header = []
    for g in groups:
        header.append(g)
        if g in ("region", "agency", "category", "sector"):
            header.append(f"{g}_name")
    header += list(PUBLIC)
    rows = result["groups"] if groups else [result["totals"]]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        cells = []
        for g in groups:
            cells.append(row[g])
            if g in ("region", "agency", "category", "sector"):
                cells.append(_name(c.catalog, g, row[g], lang))
        cells += ["" if row[name] is None else row[name] for name in PUBLIC]
        writer.writerow(cells)
    return "\ufeff" + out.getvalue()


# --- hotspots ---------------------------------------------------------------------------------------------
@dataclass
class _Unit:
    key: dict[str, str]
    sector: str
    counts: list[int]   # one per window, oldest first; the last is the window asked about

    @property
    def current(self) -> int:
        return self.counts[-1]

    @property
    def baseline(self) -> float:
        return sum(self.counts[:-1]) / (len(self.counts) - 1)


def windows_for(start: date, end: date, previous: int = BASELINE_WINDOWS) -> list[tuple[date, date]]:
    """The window and the `previous` windows of the same length right before it, oldest first."""
    length = timedelta(days=(end - start).days + 1)
    return [(start - length * k, end - length * k) for k in range(previous, -1, -1)]


def level_param(raw: str | None) -> str:
    if raw is None or not raw.strip():
        raise _invalid("level", "missing", f"one of {', '.join(LEVELS)}")
    if raw.strip() not in LEVELS:
        raise _invalid("level", "enum", f"one of {', '.join(LEVELS)}")
    return raw.strip()


def _units(store: CounterStore, windows: list[tuple[date, date]], level: str) -> dict[tuple, _Unit]:
    units: dict[tuple, _Unit] = {}
    grain = OUTLETS if level == "outlet" else DIMS
    for index, item in _read(store, windows, grain):
        amount = int(item.get("count", 0) or 0)
        if not amount:
            continue
        if level == "outlet":
            key = {"outlet": str(item["outlet"]), "sector": str(item["sector"]), "region": str(item["region"])}
        else:
            key = {level: str(item[level]), "sector": str(item["sector"])}
        ident = tuple(key.values())
        unit = units.get(ident)
        if unit is None:
            unit = units[ident] = _Unit(key=key, sector=key["sector"], counts=[0] * len(windows))
        unit.counts[index] += amount
    return units


def hotspots(from_day: str | None, to_day: str | None, level: str | None, *, c, limit: int = 20) -> dict:
    """Problem zones of a window, ranked by a score that is high only when a zone is above both its own past
    and its peers of the same sector (formula h1, docs/analytics.md):

        trend = (current + 1) / (baseline + 1)        baseline: mean of the 4 same-length windows before
        peer  = (current + 1) / (peer_expected + 1)
        score = trend × peer

    peer_expected is, for an outlet, the mean count per outlet of its sector (outlets with complaints in any
    of the five windows); for a region or category within a sector, the count it would have if the sector's
    complaints were spread like all complaints: sector total × its own total / national total. The +1s keep
    small counts from producing huge ratios (0 -> 1 complaint is a trend of 2, not infinity). Zones without
    complaints in the window are not listed."""
    start, end = date_range(from_day, to_day)
    level = level_param(level)
    windows = windows_for(start, end)
    units = _units(c.counters, windows, level)
    current = [u for u in units.values() if u.current > 0]
    national = sum(u.current for u in current)
    by_sector: dict[str, int] = defaultdict(int)
    by_zone: dict[str, int] = defaultdict(int)   # region or category total across sectors
    outlets_in_sector: dict[str, int] = defaultdict(int)
    for unit in units.values():
        by_sector[unit.sector] += unit.current
        outlets_in_sector[unit.sector] += 1
        if level != "outlet":
            by_zone[unit.key[level]] += unit.current

    ranked = []
    for unit in current:
        if level == "outlet":
            peers = outlets_in_sector[unit.sector]
            expected = by_sector[unit.sector] / peers
            basis = {"sector_current": by_sector[unit.sector], "peers": peers}
        else:
            zone = unit.key[level]
            expected = by_sector[unit.sector] * by_zone[zone] / national
            basis = {"sector_current": by_sector[unit.sector], f"{level}_current": by_zone[zone],
                     "national_current": national}
        trend = (unit.current + 1) / (unit.baseline + 1)
        peer = (unit.current + 1) / (expected + 1)
        ranked.append((trend * peer, unit, expected, trend, peer, basis))
    ranked.sort(key=lambda r: (-r[0], -r[1].current, tuple(r[1].key.values())))
    items = []
    for rank, (score, unit, expected, trend, peer, basis) in enumerate(ranked[:limit], start=1):
        items.append({
            "rank": rank, **unit.key, "current": unit.current, "baseline": round(unit.baseline, 2),
            "baseline_windows": unit.counts[:-1], "peer_expected": round(expected, 2), **basis,
            "trend": round(trend, 3), "peer": round(peer, 3), "score": round(score, 3),
        })
    return {
        "from": start.isoformat(), "to": end.isoformat(), "level": level, "formula": HOTSPOT_FORMULA,
        "baseline": {"windows": BASELINE_WINDOWS, "from": windows[0][0].isoformat(),
                     "to": windows[-2][1].isoformat()},
        "current_total": national, "zones": len(current), "items": items,
    }


# --- districts: where outlets carry a KATO code ----------------------------------------------------------
_KATO = re.compile(r"^\d{9}$")


def district_of(kato: str | None) -> str | None:
    """The district part of a 9-digit KATO code: its first four digits (oblast or city, then district);
    None for a missing code or one that names only the oblast or city (AA0000000)."""
    if not kato or not _KATO.match(kato) or kato[2:4] == "00":
        return None
    return kato[:4]


def district_increments(complaint: Complaint, kato: str | None) -> list[Increment]:
    """A new complaint's count in its outlet's district (day and month items); none without a district."""
    district = district_of(kato)
    if district is None or district[:2] != complaint.region:
        return []  # a KATO code of another region than the complaint's is a data error: not counted as a district
    day = local_day(complaint.created_at)
    rest = f"{district}#{complaint.sector}"
    where = {"region": complaint.region, "district": district, "sector": complaint.sector, "month": f"{day:%Y-%m}"}
    return [Increment(table=TABLE, key=DISTRICTS.day_key(day, rest), add={"count": 1},
                      set={**where, "day": day.isoformat()}),
            Increment(table=TABLE, key=DISTRICTS.month_key(day, rest), add={"count": 1}, set=where)]


# --- registered outlets, the denominator of "per outlet" ------------------------------------------------
REGISTRY_OUTLET = "rego"   # pk "rego#<code>": one item per outlet, its guard against counting it twice
REGISTRY_AREAS = "rega"    # pk "rega", sk "<region>#<district or ->": registered outlets per area


def registration_increments(outlet) -> list[Increment]:
    district = district_of(outlet.kato)
    if district is not None and district[:2] != outlet.region:
        district = None
    return [
        # `below` makes the transaction fail on an outlet counted before, even after its ledger marker expired
        Increment(table=TABLE, key=(f"{REGISTRY_OUTLET}#{outlet.code}", "outlet"), add={"n": 1}, below={"n": 1}),
        Increment(table=TABLE, key=(REGISTRY_AREAS, f"{outlet.region}#{district or '-'}"), add={"outlets": 1},
                  set={"region": outlet.region, "district": district or "-"}),
    ]


def record_outlet(outlet, *, c) -> bool:
    """Count a registered outlet in its region (and district) once, however often its registration is
    repeated (a bulk import rerun, a retried request). True if it was counted now."""
    from chalicelib.domain.errors import LimitReached

    try:
        return c.counters.apply_once(f"outlet-registered:{outlet.code}", registration_increments(outlet),
                                     at=c.clock.now())
    except LimitReached:
        return False


def registered_outlets(store: CounterStore) -> dict[tuple[str, str], int]:
    """(region, district or "-") -> registered outlets. One Query: one item per area, a few hundred at most."""
    return {(str(item["region"]), str(item["district"])): int(item.get("outlets", 0) or 0)
            for item in store.query(TABLE, REGISTRY_AREAS)}


# --- population (versioned reference data) ---------------------------------------------------------------
@dataclass(frozen=True)
class Population:
    version: str
    as_of: str
    source: str
    regions: Mapping[str, int]
    districts: Mapping[str, Mapping[str, dict]]   # region -> district code -> {"name": {...}, "population": n}


def load_population() -> Population:
    import json
    from pathlib import Path

    data = json.loads((Path(__file__).resolve().parent.parent / "data" / "population.json").read_text("utf-8"))
    return Population(version=data["version"], as_of=data["as_of"], source=data["source"]["name"],
                      regions={code: int(n) for code, n in data["regions"].items()},
                      districts={region: {d["code"]: d for d in items} for region, items in data["districts"].items()})


_POPULATION: Population | None = None


def population() -> Population:
    global _POPULATION
    if _POPULATION is None:
        _POPULATION = load_population()
    return _POPULATION


# --- areas: the map's numbers ----------------------------------------------------------------------------
AREA_LEVELS = ("region", "district")
DISTRICT_FILTERS = ("sector",)   # district items hold the count by sector only


def _rate(count: int, base: int | None, per: int = 1) -> float | None:
    return round(count * per / base, 3) if base else None


def areas(from_day: str | None, to_day: str | None, level: str | None, region: str | None,
          filters: Mapping[str, str | Sequence[str] | None], *, c) -> dict:
    """Complaints per area of the map, with what to divide them by: residents (per 10,000) and registered
    outlets. Every region (or every known district of `region`) is listed, those without complaints at zero.

    `level=district` needs `region` (one with district data: Astana) and takes only the `sector` filter; the
    complaints of the region whose outlet carries no district code are reported as `unassigned`."""
    start, end = date_range(from_day, to_day)
    level = (level or "region").strip()
    if level not in AREA_LEVELS:
        raise _invalid("level", "enum", f"one of {', '.join(AREA_LEVELS)}")
    people = population()
    outlets = registered_outlets(c.counters)
    if level == "region":
        if region:
            raise _invalid("region", "extra_forbidden", "only with level=district; filter regions on the map")
        result = summary(start.isoformat(), end.isoformat(), ["region"], filters, c=c)
        counts = {row["region"]: row["count"] for row in result["groups"]}
        per_region: dict[str, int] = defaultdict(int)
        for (code, _), n in outlets.items():
            per_region[code] += n
        rows = [{"code": code, "count": counts.get(code, 0), "population": people.regions.get(code),
                 "per_10k": _rate(counts.get(code, 0), people.regions.get(code), 10000),
                 "outlets": per_region.get(code, 0), "per_outlet": _rate(counts.get(code, 0), per_region.get(code))}
                for code in c.catalog.regions]
        return {"from": result["from"], "to": result["to"], "level": level, "filters": result["filters"],
                "rows": rows, "total": result["totals"]["count"],
                "population": {"version": people.version, "as_of": people.as_of, "source": people.source}}

    if not region or region not in c.catalog.regions:
        raise _invalid("region", "unknown_region" if region else "missing", "a region with district data")
    known = people.districts.get(region)
    if not known:
        raise _invalid("region", "no_districts", f"district data exists for {', '.join(sorted(people.districts))}")
    extra = sorted(name for name in FILTERS if name not in DISTRICT_FILTERS and filters.get(name))
    if extra:
        raise _invalid(extra[0], "not_supported", "at the district level only the sector filter applies")
    chosen = filter_params({"sector": filters.get("sector")}, c.catalog)
    counts: dict[str, int] = defaultdict(int)
    for _, item in _read(c.counters, [(start, end)], DISTRICTS):
        if item.get("region") != region or any(str(item.get(n)) not in v for n, v in chosen.items()):
            continue
        counts[str(item["district"])] += int(item.get("count", 0) or 0)
    whole = summary(start.isoformat(), end.isoformat(), [], {**chosen, "region": region}, c=c)["totals"]["count"]
    codes = list(known) + sorted(code for code in counts if code not in known)
    rows = []
    for code in codes:
        info = known.get(code, {})
        n, pop, shops = counts.get(code, 0), info.get("population"), outlets.get((region, code), 0)
        rows.append({"code": code, "name": info.get("name"), "count": n, "population": pop,
                     "per_10k": _rate(n, pop, 10000), "outlets": shops, "per_outlet": _rate(n, shops)})
    return {"from": start.isoformat(), "to": end.isoformat(), "level": level, "region": region, "filters": chosen,
            "rows": rows, "total": whole, "unassigned": max(0, whole - sum(counts.values())),
            "population": {"version": people.version, "as_of": people.as_of, "source": people.source}}


# --- anonymised cases behind a hotspot -------------------------------------------------------------------
# One item per complaint and zone kind, in a partition per local month, its sort key starting with the zone:
#   zr#<YYYY-MM>  <region>#<sector>#<local time>#<ref>
#   zc#<YYYY-MM>  <category>#<sector>#<local time>#<ref>
#   zo#<YYYY-MM>  <outlet>#<local time>#<ref>
# `ref` is a keyed digest of the complaint id: it tells cases apart and cannot be turned back into the id
# (which is a tracking link's half). No contact, no business name, no BIN/IIN; the text only where the
# consumer consented to publication, and then scrubbed of personal data.
CASE_ZONES = {"region": "zr", "category": "zc", "outlet": "zo"}
CASES_MAX = 100
OUTCOMES = ("open", "settled", "upheld", "not_confirmed", "rejected")


def case_ref(secret: str, complaint_id: str) -> str:
    from chalicelib.domain.codes import keyed_digest

    return keyed_digest(secret, "analytics-case", complaint_id).hex()[:16]


def outcome(complaint: Complaint) -> str:
    numbers = counters(complaint)
    return next(name for name in OUTCOMES if numbers.get(name))


def _hours(seconds: int | None) -> float | None:
    return None if seconds is None else round(seconds / 3600, 1)


def case_attributes(complaint: Complaint) -> dict:
    from chalicelib.domain.scrubber import scrub

    numbers = counters(complaint)
    moment = complaint.created_at.astimezone(local_zone())
    found = {"day": moment.date().isoformat(), "region": complaint.region, "sector": complaint.sector,
             "category": complaint.category or NO_CATEGORY, "agency": complaint.agency_id, "kind": complaint.kind,
             "outcome": outcome(complaint), "status": complaint.status.value,
             "business_overdue": int(complaint.flags.business_overdue),
             "agency_overdue": int(complaint.flags.agency_overdue), "version": complaint.version}
    if complaint.outlet_code:
        found["outlet"] = complaint.outlet_code
    if "business_answer_seconds" in numbers or complaint.business_response is not None:
        found["business_answer_hours"] = _hours(numbers.get("business_answer_seconds", 0))
    if complaint.resolution is not None:
        found["agency_decision_hours"] = _hours(numbers.get("agency_decision_seconds", 0))
    if complaint.publish_consent and complaint.text:
        found["text"] = scrub(complaint.text).text
    return found


def case_increments(complaint: Complaint, ref: str) -> list[Increment]:
    """The complaint's case items, set to its current state; each write is conditional on an older stored
    version, so a late redelivery of an earlier state never overwrites a newer one."""
    moment = complaint.created_at.astimezone(local_zone())
    month, when = f"{moment:%Y-%m}", moment.strftime("%Y-%m-%dT%H:%M:%S")
    found = {k: v for k, v in case_attributes(complaint).items() if v is not None}
    keys = [(f"zr#{month}", f"{complaint.region}#{complaint.sector}#{when}#{ref}"),
            (f"zc#{month}", f"{complaint.category or NO_CATEGORY}#{complaint.sector}#{when}#{ref}")]
    if complaint.outlet_code:
        keys.append((f"zo#{month}", f"{complaint.outlet_code}#{when}#{ref}"))
    return [Increment(table=TABLE, key=key, set=found, below={"version": complaint.version}) for key in keys]


def apply_case(envelope, c, marker: str) -> bool | None:
    """The case-index reaction to ComplaintChanged: the anonymised case items take the complaint's latest
    state. None when the stored items are already as new or newer (an out-of-order or replayed record)."""
    from chalicelib.domain.errors import LimitReached

    current = envelope.event.current
    try:
        return c.counters.apply_once(marker, case_increments(current, case_ref(c.settings.secret, current.id)),
                                     at=c.clock.now())
    except LimitReached:
        return None


def _zone(level: str, zone: Mapping[str, str | None], catalog: Catalog) -> str:
    """The sort-key prefix of a hotspot zone, from its validated parts."""
    def need(name: str, allowed) -> str:
        value = (zone.get(name) or "").strip()
        if not value:
            raise _invalid(name, "missing", f"the zone's {name}")
        if allowed is not None and value not in allowed:
            raise _invalid(name, _UNKNOWN.get(name, "enum"), f"unknown {value}")
        return value

    if level == "outlet":
        code = need("outlet", None)
        if not re.fullmatch(r"[A-Za-z0-9-]{1,40}", code):
            raise _invalid("outlet", "invalid", "an outlet code")
        return f"{code}#"
    values = allowed_values(catalog)
    return f"{need(level, values[level])}#{need('sector', values['sector'])}#"


def hotspot_cases(from_day: str | None, to_day: str | None, level: str | None, zone: Mapping[str, str | None], *,
                  c, limit: int = 50) -> dict:
    """The anonymised cases of one hotspot zone filed in the window, newest first, at most `limit`: one Query
    per local month of the window (newest month first), each stopping at what is still wanted."""
    start, end = date_range(from_day, to_day)
    level = level_param(level)
    prefix = _zone(level, zone, c.catalog)
    cases: list[dict] = []
    for month in reversed(list(_months(start, end))):
        if len(cases) >= limit:
            break
        lo, hi = max(month, start), min(_month_end(month), end)
        items = c.counters.query(TABLE, f"{CASE_ZONES[level]}#{month:%Y-%m}", start=f"{prefix}{lo.isoformat()}",
                                 end=f"{prefix}{hi.isoformat()}{_HIGH}", limit=limit - len(cases), reverse=True)
        for item in items:
            ref = str(item.get("sk", "")).rsplit("#", 1)[-1]
            shown = {name: item.get(name) for name in (
                "day", "region", "sector", "category", "agency", "kind", "outlet", "status", "outcome",
                "business_answer_hours", "agency_decision_hours", "text") if item.get(name) is not None}
            shown["overdue"] = [f for f in ("business_overdue", "agency_overdue") if item.get(f)]
            cases.append({"ref": ref, **shown})
    return {"from": start.isoformat(), "to": end.isoformat(), "level": level,
            "zone": {k: v for k, v in zone.items() if v}, "cases": cases, "more": len(cases) >= limit}


__all__ = [
    "TABLE", "COUNTERS", "PUBLIC", "DIMENSIONS", "GROUPS", "FILTERS", "LEVELS", "NO_CATEGORY", "MAX_DAYS",
    "BASELINE_WINDOWS", "Grain", "DIMS", "OUTLETS", "ItemQuery", "local_zone", "local_day", "dimensions",
    "counters", "contribution", "analytics_increments", "apply_change", "plan", "date_range", "group_by_param",
    "filter_params", "summary", "summary_csv", "windows_for", "level_param", "hotspots",
    "RESPONSE_BUCKETS", "RESPONSE_COUNTERS", "DISTRICTS", "district_of", "district_increments",
    "registration_increments", "record_outlet", "registered_outlets", "population", "areas", "CASE_ZONES",
    "case_ref", "case_increments", "apply_case", "hotspot_cases",
]
