"""The one clock of the site: naive UTC datetimes, as every DateTime column stores them (SQLite has
no time zones; pages convert to Beijing time when they format, see ``portal._format_dt``)."""
import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)
