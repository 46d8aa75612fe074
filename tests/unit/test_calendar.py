"""Legal deadlines in working days, with Kazakhstan's holidays."""
from datetime import date, datetime, timezone

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
