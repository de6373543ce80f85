"""The statistics' read side: small dataclasses of a year's figures and the query port.

The figures are computed by SQL aggregation in storage/stats.py; nothing here walks cases.
Small counts: statistics that leave the coordinators' own view show 1-4 as "< 5".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from mediation.intake import may_identify
from mediation.policy import BankPolicy

SMALL_COUNT = 5  # counts from 1 to SMALL_COUNT - 1 are hidden outside the coordinators' view
SMALL_TEXT = "< 5"


def shown(count: int) -> str:
    """A count as it may leave the coordinators' view: 0 and 5+ exactly, 1-4 as "< 5"."""
    return SMALL_TEXT if 0 < count < SMALL_COUNT else str(count)


def median_of_counts(histogram: Mapping[int, int]) -> float | None:
    """The median of values given as {value: how many}; the mean of the two middle ones."""
    total = sum(histogram.values())
    if total == 0:
        return None
    middle = ((total - 1) // 2, total // 2)  # 0-based ranks of the middle value(s)
    found: list[int] = []
    seen = 0
    for value in sorted(histogram):
        count = histogram[value]
        for rank in middle:
            if seen <= rank < seen + count:
                found.append(value)
        seen += count
    return sum(found) / len(found)


@dataclass(frozen=True)
class Median:
    days: float | None
    count: int  # how many families the median is taken over


@dataclass(frozen=True)
class Average:
    value: float | None
    count: int  # answers behind it

    @property
    def withheld(self) -> bool:
        """An average of fewer than 5 answers is not shown: it says too much of each answer."""
        return self.value is not None and self.count < SMALL_COUNT


@dataclass(frozen=True)
class ClientFeedbackFigures:
    links: int  # links given out (each for two parents)
    uses: int  # answers sent through them
    felt_heard: Average
    impartial: Average
    child_view: Average
    settled: dict[str, int] = field(default_factory=dict)
    recommend: dict[str, int] = field(default_factory=dict)
    heard_from: dict[str, int] = field(default_factory=dict)

    @property
    def answers(self) -> int:
        return self.uses

    @property
    def response_rate(self) -> float | None:
        """Answers as a share of the possible answers (two parents per link), in percent."""
        possible = 2 * self.links
        return 100.0 * self.uses / possible if possible else None


@dataclass(frozen=True)
class MediatorFeedbackFigures:
    case_answers: int
    case_possible: int  # two seats per closed case
    package: Average
    pair: Average
    meeting: Average  # ratings given after meetings
    cooperation: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class MediatorFigures:
    mediator_id: int
    name: str
    employer: str
    packages: dict[str, int]  # term name -> packages (seats taken in that term)
    year_quota: int
    term_quota: dict[str, int]
    minutes: int  # held meeting time of the cases they sit on

    @property
    def year_packages(self) -> int:
        return sum(self.packages.values())

    @property
    def hours(self) -> float:
        return self.minutes / 60


@dataclass(frozen=True)
class YearStats:
    year: int
    terms: tuple[str, ...]  # term names in the year's order
    families: dict[str, int]  # term -> families (cases by date of intake)
    by_status: dict[tuple[str, str], int]  # (term, status) -> count
    by_outcome: dict[tuple[str, str], int]  # (term, outcome or "") -> count
    by_area: dict[str, int]
    by_referral: dict[str, int]
    to_pair: Median
    to_first_meeting: Median
    meetings_held: dict[tuple[str, str], int]  # (term, kind) -> held meetings, by meeting date
    meetings_not_held: int
    client: ClientFeedbackFigures
    mediator_feedback: MediatorFeedbackFigures
    mediators: tuple[MediatorFigures, ...]
    minutes_by_employer: dict[str, int]

    @property
    def total_families(self) -> int:
        return sum(self.families.values())

    def outcome_count(self, outcome: str, term: str | None = None) -> int:
        return sum(
            n for (tm, o), n in self.by_outcome.items() if o == outcome and term in (None, tm)
        )

    def status_count(self, status: str, term: str | None = None) -> int:
        return sum(n for (tm, s), n in self.by_status.items() if s == status and term in (None, tm))

    def held(self, kind: str, term: str | None = None) -> int:
        return sum(
            n for (tm, k), n in self.meetings_held.items() if k == kind and term in (None, tm)
        )


# Who wrote a written answer, in the order the joint meetings go through them.
WRITTEN_SOURCES = ("parent_good", "parent_missing", "mediator_case", "mediator_meeting")


@dataclass(frozen=True)
class WrittenAnswer:
    """One written answer of the year: its term and who wrote it, never the case or the day."""

    term: str
    source: str  # one of WRITTEN_SOURCES
    text: str


@dataclass(frozen=True)
class WrittenLine:
    """A written answer as the coordinators read it, with a warning where it may identify."""

    term: str
    source: str
    text: str
    may_identify: bool


def written_lines(answers: Iterable[WrittenAnswer], places: Sequence[str]) -> list[WrittenLine]:
    """The year's written answers by term and writer, each marked if it may identify someone."""
    order = {source: n for n, source in enumerate(WRITTEN_SOURCES)}
    lines = [
        WrittenLine(a.term, a.source, a.text.strip(), may_identify(a.text, places))
        for a in answers
        if a.text.strip()
    ]
    # Sorted by their words within a term and writer: the order tells nothing of the cases.
    return sorted(lines, key=lambda w: (w.term, order.get(w.source, 99), w.text.casefold()))


class StatsQueries(Protocol):
    async def year(self, year: int, policy: BankPolicy, now: datetime) -> YearStats:
        """The year's figures; ``now`` only closes the period for a year still running."""
        ...

    async def written(self, year: int, policy: BankPolicy) -> list[WrittenAnswer]:
        """The year's written answers of parents and mediators, by term and writer only."""
        ...
