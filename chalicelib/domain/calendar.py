"""Working-day arithmetic for legal deadlines, with holidays as data (chalicelib/data/deadlines.json)."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from functools import lru_cache

from chalicelib.domain.catalog import DATA_DIR


@dataclass(frozen=True)
class DeadlineRules:
    tz: timezone
    agency_consideration_working_days: int
    business_answer_calendar_days: int
    forward_working_days: int
    fixed_holidays: frozenset[str]      # "MM-DD"
    movable_holidays: frozenset[date]
    version: str

    def is_working_day(self, day: date) -> bool:
        return day.weekday() < 5 and day not in self.holidays(day.year)

    def holidays(self, year: int) -> frozenset[date]:
        return _holidays_for(self, year)

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """End of the `days`-th working day after `start` (counting starts the next day), in local time, as UTC."""
        day = start.astimezone(self.tz).date()
        remaining = days
        while remaining > 0:
            day += timedelta(days=1)
            if self.is_working_day(day):
                remaining -= 1
        return _end_of_day(day, self.tz)

    def add_calendar_days(self, start: datetime, days: int) -> datetime:
        day = start.astimezone(self.tz).date() + timedelta(days=days)
        return _end_of_day(day, self.tz)

    def agency_due(self, start: datetime) -> datetime:
        return self.add_working_days(start, self.agency_consideration_working_days)

    def business_due(self, start: datetime) -> datetime:
        return self.add_calendar_days(start, self.business_answer_calendar_days)


def _end_of_day(day: date, tz: timezone) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=tz).astimezone(timezone.utc)


@lru_cache(maxsize=32)
def _holidays_for(rules: DeadlineRules, year: int) -> frozenset[date]:
    days: set[date] = set()
    for mmdd in sorted(rules.fixed_holidays):
        month, dom = (int(part) for part in mmdd.split("-"))
        days.add(date(year, month, dom))
    days |= {d for d in rules.movable_holidays if d.year == year}
    # A holiday on a weekend moves to the next working day. Orthodox Christmas (7 Jan) is a
    # religious holiday that does not move; the law lists it apart from the transferable ones.
    moved = set()
    for day in sorted(days):
        if day.weekday() >= 5 and (day.month, day.day) != (1, 7):
            shifted = day
            while shifted.weekday() >= 5 or shifted in days or shifted in moved:
                shifted += timedelta(days=1)
            moved.add(shifted)
    return frozenset(days | moved)


@lru_cache(maxsize=1)
def load_deadline_rules() -> DeadlineRules:
    with open(DATA_DIR / "deadlines.json", encoding="utf-8") as fh:
        doc = json.load(fh)
    return DeadlineRules(
        tz=timezone(timedelta(hours=doc["utc_offset_hours"])),
        agency_consideration_working_days=doc["agency_consideration_working_days"],
        business_answer_calendar_days=doc["business_answer_calendar_days"],
        forward_working_days=doc["forward_working_days"],
        fixed_holidays=frozenset(doc["fixed_holidays"]),
        movable_holidays=frozenset(date.fromisoformat(d) for d in doc["movable_holidays"]),
        version=doc["version"],
    )
