"""Swedish school calendars: public holidays, the usual breaks and terms, and school days.

Defaults follow the usual Swedish school year: autumn term from the Monday of week 34 to
about 20 December, spring term from about 8 January to mid June; autumn break in week 44,
winter sports break in week 7 (Skåne), Easter break in the week after Easter Sunday. Each
municipality sets its own dates; a calendar in the registry overrides any of these.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

from floorwatch.i18n import N_
from floorwatch.registry.schema import Calendar, DateSpan


def easter_sunday(year: int) -> date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    leap = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * leap) // 451
    month, day = divmod(h + leap - 7 * m + 114, 31)
    return date(year, month, day + 1)


def swedish_public_holidays(year: int) -> list[date]:
    """Public holidays and the eves schools close on, for one calendar year."""
    easter = easter_sunday(year)
    midsummer_eve = next(date(year, 6, d) for d in range(19, 26) if date(year, 6, d).weekday() == 4)
    all_saints = next(
        date(year, 10, 31) + timedelta(days=n)
        for n in range(7)
        if (date(year, 10, 31) + timedelta(days=n)).weekday() == 5
    )
    return sorted(
        {
            date(year, 1, 1),
            date(year, 1, 6),
            easter - timedelta(days=2),  # Good Friday
            easter + timedelta(days=1),  # Easter Monday
            date(year, 5, 1),
            easter + timedelta(days=39),  # Ascension Day
            date(year, 6, 6),
            midsummer_eve,
            all_saints,
            date(year, 12, 24),
            date(year, 12, 25),
            date(year, 12, 26),
            date(year, 12, 31),
        }
    )


def _monday_of_week(year: int, week: int) -> date:
    return date.fromisocalendar(year, week, 1)


def swedish_school_year(autumn_year: int) -> tuple[list[DateSpan], list[date], list[DateSpan]]:
    """Default (terms, holidays, breaks) for the school year starting in August of autumn_year."""
    spring_year = autumn_year + 1
    autumn_start = _monday_of_week(autumn_year, 34) + timedelta(days=2)  # Wednesday
    autumn_end = date(autumn_year, 12, 19)
    spring_start = date(spring_year, 1, 8)
    spring_end = date(spring_year, 6, 12)
    easter = easter_sunday(spring_year)
    terms = [
        DateSpan(name=N_("autumn term"), start=autumn_start, end=autumn_end),
        DateSpan(name=N_("spring term"), start=spring_start, end=spring_end),
    ]
    breaks = [
        DateSpan(
            name=N_("autumn break"),
            start=_monday_of_week(autumn_year, 44),
            end=_monday_of_week(autumn_year, 44) + timedelta(days=4),
        ),
        DateSpan(
            name=N_("winter sports break"),
            start=_monday_of_week(spring_year, 7),
            end=_monday_of_week(spring_year, 7) + timedelta(days=4),
        ),
        DateSpan(
            name=N_("Easter break"),
            start=easter + timedelta(days=1),
            end=easter + timedelta(days=5),
        ),
    ]
    holidays = [
        d
        for year in (autumn_year, spring_year)
        for d in swedish_public_holidays(year)
        if autumn_start <= d <= spring_end
    ]
    return terms, holidays, breaks


def resolved(calendar: Calendar) -> Calendar:
    """The calendar with Swedish defaults filled in where it gives no terms, holidays or breaks."""
    if calendar.swedish_defaults_from is None:
        return calendar
    terms, holidays, breaks = swedish_school_year(calendar.swedish_defaults_from)
    return calendar.model_copy(
        update={
            "terms": calendar.terms or terms,
            "holidays": sorted({*calendar.holidays, *holidays}),
            "breaks": calendar.breaks or breaks,
        }
    )


class SchoolDays:
    """Answers "is this a school day?" for a resolved calendar. Pure and cached."""

    def __init__(self, calendar: Calendar):
        self.calendar = resolved(calendar)
        self._holidays = frozenset(self.calendar.holidays)

    @lru_cache(maxsize=4096)  # noqa: B019 - one instance per calendar, lives as long as the registry
    def is_school_day(self, day: date) -> bool:
        if day.weekday() >= 5 or day in self._holidays:
            return False
        if not any(term.start <= day <= term.end for term in self.calendar.terms):
            return False
        return not any(span.start <= day <= span.end for span in self.calendar.breaks)
