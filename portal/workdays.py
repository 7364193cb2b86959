"""Working days (工作日) in China: Monday to Friday, except the public holidays (法定节假日) of the
State Council's yearly notice, plus the weekend days it makes working days (调休上班).

Deadlines such as "受理 within 3 working days" are counted with :func:`add_working_days`. The
calendar is a CSV file (``date,kind,name`` with kind 休 or 班; ``#`` starts a comment), by default
data/calendar/holidays_cn.csv; ``HOLIDAY_CALENDAR`` names another. A year missing from the file
falls back to Monday–Friday.
"""
from __future__ import annotations

import csv
import datetime as dt
import threading
from pathlib import Path

DEFAULT_CALENDAR = Path(__file__).resolve().parent.parent / "data" / "calendar" / "holidays_cn.csv"

_cache: dict[str, tuple[frozenset, frozenset]] = {}
_lock = threading.Lock()


class CalendarError(ValueError):
    pass


def load_calendar(path: str | Path) -> tuple[frozenset, frozenset]:
    """(holidays, working weekend days) from a calendar file; raises CalendarError on a bad line."""
    holidays, workdays = set(), set()
    with open(path, encoding="utf-8") as fh:
        rows = csv.reader(line for line in fh if line.strip() and not line.lstrip().startswith("#"))
        for n, row in enumerate(rows, 1):
            try:
                day, kind = dt.date.fromisoformat(row[0].strip()), row[1].strip()
            except (IndexError, ValueError):
                raise CalendarError(f"{path}: 第{n}条记录格式不正确：{','.join(row)}") from None
            if kind == "休":
                holidays.add(day)
            elif kind == "班":
                workdays.add(day)
            else:
                raise CalendarError(f"{path}: 第{n}条记录的类型应为“休”或“班”：{kind}")
    return frozenset(holidays), frozenset(workdays)


def _calendar() -> tuple[frozenset, frozenset]:
    from flask import current_app, has_app_context

    path = str((current_app.config.get("HOLIDAY_CALENDAR") if has_app_context() else None) or DEFAULT_CALENDAR)
    with _lock:
        if path not in _cache:
            _cache[path] = load_calendar(path)
        return _cache[path]


def is_working_day(day: dt.date) -> bool:
    holidays, workdays = _calendar()
    if day in workdays:
        return True
    if day in holidays:
        return False
    return day.weekday() < 5


def add_working_days(start: dt.date, days: int) -> dt.date:
    """The day ``days`` working days after ``start`` (``start`` itself not counted)."""
    day, left = start, days
    while left > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day
