"""Legal deadlines in working days, with Kazakhstan's holidays."""
import time
from datetime import date, datetime, timedelta, timezone
from datetime import time as dtime

import pytest

from chalicelib.domain.calendar import load_deadline_rules

RULES = load_deadline_rules()


def test_weekends_and_holidays_are_not_working_days():
    assert not RULES.is_working_day(date(2026, 11, 28))  # Saturday
    assert not RULES.is_working_day(date(2026, 12, 16))  # Independence Day, Wednesday
    assert not RULES.is_working_day(date(2026, 5, 27))   # Kurban Ait 2026 (data)
    assert RULES.is_working_day(date(2026, 12, 15))


def test_a_holiday_on_a_weekend_moves_to_monday():
    # 21-23 March 2026: Saturday, Sunday, Monday -> the weekend ones move to Tue 24 and Wed 25
    assert not RULES.is_working_day(date(2026, 3, 24))
    assert not RULES.is_working_day(date(2026, 3, 25))
    assert RULES.is_working_day(date(2026, 3, 26))


def test_orthodox_christmas_on_a_weekend_does_not_move():
    # 7 Jan 2024 was a Sunday; Monday 8 Jan 2024 was a working day
    assert RULES.is_working_day(date(2024, 1, 8))


def test_fifteen_working_days_skip_weekends_and_holidays():
    # Fri 4 Dec 2026 + 15 working days: 16 Dec (Wed) is a holiday -> Mon 28 Dec, end of day in UTC+5
    due = RULES.agency_due(datetime(2026, 12, 4, 10, 0, tzinfo=timezone.utc))
    assert due == datetime(2026, 12, 28, 18, 59, 59, tzinfo=timezone.utc)


def test_business_answer_is_ten_calendar_days():
    due = RULES.business_due(datetime(2026, 11, 27, 20, 0, tzinfo=timezone.utc))  # 28 Nov 01:00 local
    assert due == datetime(2026, 12, 8, 18, 59, 59, tzinfo=timezone.utc)


# ------------------------------------------------------------------------ local midnight in Almaty (UTC+5)

ALMATY = timezone(timedelta(hours=5))


@pytest.fixture
def machine_zone(monkeypatch):
    """Set the process's local time zone (TZ), as a developer laptop or a differently configured host has it.

    Deadlines must depend only on Kazakhstan's time, never on the zone of the machine computing them.
    POSIX zone strings need no tz database: "<+10>-10" is UTC+10.
    """
    def use(zone: str) -> None:
        monkeypatch.setenv("TZ", zone)
        time.tzset()

    yield use
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("zone", ["UTC0", "<+10>-10", "<-07>7"])
@pytest.mark.parametrize(("start_utc", "agency_due_utc", "business_due_utc"), [
    # 23:30 on Thursday 3 Dec in Almaty: counting starts on Friday 4 Dec
    (datetime(2026, 12, 3, 18, 30), datetime(2026, 12, 25, 18, 59, 59), datetime(2026, 12, 13, 18, 59, 59)),
    (datetime(2026, 12, 3, 18, 59, 59), datetime(2026, 12, 25, 18, 59, 59), datetime(2026, 12, 13, 18, 59, 59)),
    # 00:00 and 00:30 on Friday 4 Dec in Almaty, still Thursday in UTC: counting starts on Monday 7 Dec
    (datetime(2026, 12, 3, 19, 0), datetime(2026, 12, 28, 18, 59, 59), datetime(2026, 12, 14, 18, 59, 59)),
    (datetime(2026, 12, 3, 19, 30), datetime(2026, 12, 28, 18, 59, 59), datetime(2026, 12, 14, 18, 59, 59)),
])
def test_deadlines_follow_the_date_in_almaty_whatever_the_machine_zone(
        machine_zone, zone, start_utc, agency_due_utc, business_due_utc):
    machine_zone(zone)
    start = start_utc.replace(tzinfo=timezone.utc)
    for due, expected in ((RULES.agency_due(start), agency_due_utc), (RULES.business_due(start), business_due_utc)):
        assert due == expected.replace(tzinfo=timezone.utc)
        # stored and shown as UTC ("...Z"), so the offset itself is part of the answer
        assert due.utcoffset() == timedelta(0) and due.tzinfo == timezone.utc
    # the same instant given in Almaty time gives the same deadlines
    assert RULES.agency_due(start.astimezone(ALMATY)) == RULES.agency_due(start)


def test_the_due_time_is_the_last_second_of_the_day_in_almaty():
    due = RULES.agency_due(datetime(2026, 12, 3, 10, 0, tzinfo=timezone.utc))
    local = due.astimezone(ALMATY)
    assert (local.date(), local.time()) == (date(2026, 12, 25), dtime(23, 59, 59))
    assert RULES.tz.utcoffset(None) == timedelta(hours=5)
