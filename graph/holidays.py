"""Days no mediation meeting is booked: Finnish public holidays, Midsummer Eve, Christmas Eve."""

from __future__ import annotations

import functools
from datetime import date, timedelta

import holidays


def midsummer_eve(year: int) -> date:
    """The Friday between 19 and 25 June."""
    day = date(year, 6, 19)
    return day + timedelta(days=(4 - day.weekday()) % 7)


@functools.cache
def _year(year: int) -> frozenset[date]:
    days = set(holidays.Finland(years=year).keys())
    # Not public holidays by law, but nobody books a family on them.
    days |= {midsummer_eve(year), date(year, 12, 24)}
    return frozenset(days)


def finnish_closed_days(start: date, end: date) -> frozenset[date]:
    """The closed days between two dates, both included (fits ``mediation.calendar.ClosedDays``)."""
    found: set[date] = set()
    for year in range(start.year, end.year + 1):
        found |= {d for d in _year(year) if start <= d <= end}
    return frozenset(found)
