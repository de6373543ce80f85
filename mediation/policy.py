"""The bank's settings that the rules read: terms, quotas, experience, package size."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class TermSpec:
    """A term of the year, by calendar months (inclusive), with its package quota."""

    name: str
    first_month: int
    last_month: int
    quota: int


@dataclass(frozen=True, order=True)
class Term:
    """One term of one year, e.g. spring 2027."""

    year: int
    name: str
    start: date
    end: date  # exclusive

    @property
    def label(self) -> str:
        return f"{self.name} {self.year}"


DEFAULT_TERMS = (TermSpec("spring", 1, 6, 2), TermSpec("autumn", 7, 12, 2))
# The Keski-Uusimaa bank's municipalities (Keusote and Kerava) and their larger districts.
DEFAULT_AREAS = (
    "Hyvinkää",
    "Järvenpää",
    "Kerava",
    "Mäntsälä",
    "Nurmijärvi",
    "Nurmijärvi – Klaukkala",
    "Nurmijärvi – Rajamäki",
    "Pornainen",
    "Tuusula",
    "Tuusula – Hyrylä",
    "Tuusula – Jokela",
    "Tuusula – Kellokoski",
)
BANK_LANGUAGES = ("fi", "sv", "en")

# The years of every date Sopu takes from a person: its work is with people alive now, and
# the bounds keep date arithmetic (an end time, a reminder before) far from date's limits.
FIRST_YEAR = 2000
LAST_YEAR = 2100


def within_years(day: date) -> bool:
    return FIRST_YEAR <= day.year <= LAST_YEAR


@dataclass(frozen=True)
class BankPolicy:
    """What the coordinators can tune; the defaults are the Keski-Uusimaa bank's."""

    experience_threshold: int = 2
    terms: tuple[TermSpec, ...] = DEFAULT_TERMS
    year_quota: int = 4
    package_min: int = 4
    package_max: int = 6
    timezone: str = "Europe/Helsinki"
    # The intake's area is chosen from these: a typed area could name the family.
    areas: tuple[str, ...] = DEFAULT_AREAS
    # The language of what the whole bank channel reads (the case cards).
    language: str = "fi"
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        months = sorted(m for t in self.terms for m in range(t.first_month, t.last_month + 1))
        if months != list(range(1, 13)):
            raise ValueError("terms must cover the twelve months exactly once")
        if self.experience_threshold < 0 or self.year_quota < 0:
            raise ValueError("thresholds and quotas cannot be negative")
        if not 1 <= self.package_min <= self.package_max:
            raise ValueError("package size must satisfy 1 <= min <= max")
        if not self.areas or any(not a.strip() or len(a) > 80 for a in self.areas):
            raise ValueError("areas must be a non-empty list of place names")
        if self.language not in BANK_LANGUAGES:
            raise ValueError(f"the bank's language must be one of {', '.join(BANK_LANGUAGES)}")
        object.__setattr__(self, "_zone", ZoneInfo(self.timezone))

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    def local_date(self, moment: datetime) -> date:
        """The bank's calendar date of an aware moment."""
        if moment.tzinfo is None:
            raise ValueError("naive datetime: the bank's clock must be timezone-aware")
        return moment.astimezone(self._zone).date()

    def term_of(self, day: date | datetime) -> Term:
        if isinstance(day, datetime):
            day = self.local_date(day)
        for spec in self.terms:
            if spec.first_month <= day.month <= spec.last_month:
                start = date(day.year, spec.first_month, 1)
                end = (
                    date(day.year + 1, 1, 1)
                    if spec.last_month == 12
                    else date(day.year, spec.last_month + 1, 1)
                )
                return Term(day.year, spec.name, start, end)
        raise AssertionError("terms cover every month")  # guarded in __post_init__

    def term_quota(self, term: Term) -> int:
        return next(t.quota for t in self.terms if t.name == term.name)

    def bounds_utc(self, start: date, end: date) -> tuple[datetime, datetime]:
        """Local-midnight bounds of a date range, as aware datetimes."""
        lo = datetime(start.year, start.month, start.day, tzinfo=self._zone)
        hi = datetime(end.year, end.month, end.day, tzinfo=self._zone)
        return lo, hi

    def year_bounds(self, year: int) -> tuple[date, date]:
        return date(year, 1, 1), date(year + 1, 1, 1)

    def one_day(self) -> timedelta:
        return timedelta(days=1)
