"""Working days around the 2026 public holidays (portal/workdays.py, data/calendar/holidays_cn.csv)."""
import datetime as dt

import pytest

from portal.workdays import CalendarError, add_working_days, is_working_day, load_calendar

D = dt.date


def test_spring_festival_2026_is_not_counted_and_its_working_saturdays_are():
    # Friday 13 February, three working days: Sat 14 (调休上班), then 15–23 off, Tue 24, Wed 25
    assert add_working_days(D(2026, 2, 13), 3) == D(2026, 2, 25)
    assert is_working_day(D(2026, 2, 14)) and is_working_day(D(2026, 2, 28))
    assert not any(is_working_day(D(2026, 2, d)) for d in range(15, 24))


def test_national_day_golden_week_2026():
    assert add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    assert is_working_day(D(2026, 10, 10))  # Saturday, 调休上班
    assert is_working_day(D(2026, 9, 20))  # Sunday, 调休上班


def test_ordinary_weeks_and_years_not_in_the_file_follow_monday_to_friday():
    assert add_working_days(D(2026, 11, 27), 1) == D(2026, 11, 30)
    assert add_working_days(D(2031, 1, 3), 1) == D(2031, 1, 6)


def test_an_operator_calendar_replaces_the_default(app, tmp_path):
    cal = tmp_path / "cal.csv"
    cal.write_text("# 本地安排\n2026-11-30,休,地方节日\n", encoding="utf-8")
    app.config["HOLIDAY_CALENDAR"] = str(cal)
    with app.test_request_context():
        assert add_working_days(D(2026, 11, 27), 1) == D(2026, 12, 1)


@pytest.mark.parametrize("line", ["2026-13-01,休,x", "2026-01-05,放,x", "nonsense"])
def test_a_bad_calendar_line_is_refused_with_its_number(tmp_path, line):
    cal = tmp_path / "bad.csv"
    cal.write_text(f"2026-01-01,休,元旦\n{line}\n", encoding="utf-8")
    with pytest.raises(CalendarError, match="第2条"):
        load_calendar(cal)
