"""Local school time: the one time model of Floorwatch.

Schools keep local time, Europe/Stockholm (CET, UTC+1; CEST, UTC+2 from the last Sunday of March
to the last Sunday of October), so everything with a calendar meaning is local:

- a **day** runs from local midnight to the next (23 or 25 hours on the days the clocks change);
- a **period** "YYYY-MM" is a local month, [00:00 on the 1st, 00:00 on the next month's 1st);
- an **installation** (or contract) is active on a day when start <= day < end (end exclusive,
  no end = open-ended), its dates being local days.

Instants are stored and passed as UTC (aware datetimes, or ms/s since the epoch); this module
turns local days into those instants and back, so that no component does it on its own (taking
the UTC date of an instant is off by a day in the first one or two local hours of every day).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from floorwatch.errors import InvalidRequest

LOCAL_TZ_NAME = "Europe/Stockholm"
LOCAL_TZ = ZoneInfo(LOCAL_TZ_NAME)


def local_midnight(day: date) -> datetime:
    """00:00 local time of a day, as an aware UTC datetime."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


def local_midnight_s(day: date) -> int:
    """00:00 local time of a day, in seconds since the epoch."""
    return int(local_midnight(day).timestamp())


def local_midnight_ms(day: date) -> int:
    """00:00 local time of a day, in ms since the epoch."""
    return local_midnight_s(day) * 1000


def local_date(moment: datetime) -> date:
    """The local calendar day an instant (an aware datetime) falls on."""
    return moment.astimezone(LOCAL_TZ).date()


def local_days_between(start: datetime, end: datetime) -> set[date]:
    """The local days an interval [start, end) of instants touches."""
    first, last = local_date(start), local_date(end - timedelta(seconds=1))
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def next_month(day: date) -> date:
    """The 1st of the month after the one `day` is in."""
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def period_first_day(period: str) -> date:
    """The 1st of a period "YYYY-MM"; anything else is an InvalidRequest."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", period)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise InvalidRequest(f"period must look like 2026-10 (year-month), got {period!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """A period "YYYY-MM" as [start, end) in UTC: local midnight of the 1st to the next 1st."""
    first = period_first_day(period)
    return local_midnight(first), local_midnight(next_month(first))


def period_bounds_ms(period: str) -> tuple[int, int]:
    """A period "YYYY-MM" as [start, end) in ms since the epoch."""
    first = period_first_day(period)
    return local_midnight_ms(first), local_midnight_ms(next_month(first))


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    """Inclusive local days [first, last] as [start, end) in UTC."""
    if last < first:
        raise InvalidRequest(f"--to {last} is before --from {first}")
    return local_midnight(first), local_midnight(last + timedelta(days=1))


def periods_between(first: date, last: date) -> list[str]:
    """Every period "YYYY-MM" the local days first..last (inclusive) touch, in order."""
    periods = []
    month = first.replace(day=1)
    while month <= last:
        periods.append(f"{month:%Y-%m}")
        month = next_month(month)
    return periods


def active_on(start: date, end: date | None, day: date) -> bool:
    """Whether something running from local day `start` to `end` (exclusive; None: open-ended),
    such as an installation or a contract, is active on local day `day`."""
    return start <= day and (end is None or day < end)
