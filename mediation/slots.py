"""Finding meeting times two mediators can both make: free/busy intersected in working hours.

Everything is computed on whole seconds since the epoch, so a proposal over eight weeks of
dense calendars costs a few milliseconds. Days and working hours are local wall-clock times
(``zoneinfo`` handles the daylight-saving changes); busy blocks are moments.
"""

from __future__ import annotations

import enum
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


class ShowAs(enum.StrEnum):
    """How a calendar entry shows its owner's time (Graph's ``freeBusyStatus``)."""

    FREE = "free"
    TENTATIVE = "tentative"
    BUSY = "busy"
    OOF = "oof"
    ELSEWHERE = "workingElsewhere"
    UNKNOWN = "unknown"


# Busy, away and working elsewhere rule a time out; a tentative entry only makes it worse.
BLOCKING = frozenset({ShowAs.BUSY, ShowAs.OOF, ShowAs.ELSEWHERE, ShowAs.UNKNOWN})

# The family's preferred day parts (mediation.model.DAY_PARTS), as local hours.
DAY_PART_HOURS: dict[str, tuple[time, time]] = {
    "morning": (time(8), time(12)),
    "afternoon": (time(12), time(16)),
    "evening": (time(16), time(20)),
}
WEEKDAY_CODES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class BusyBlock:
    start: datetime
    end: datetime
    show_as: ShowAs = ShowAs.BUSY

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("busy blocks need timezone-aware moments")


@dataclass(frozen=True)
class WorkingHours:
    """The days (0 = Monday) and local hours a mediator takes meetings."""

    days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    start: time = time(8)
    end: time = time(17)
    zone: str = "Europe/Helsinki"

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError("working hours must end after they start")
        ZoneInfo(self.zone)  # an unknown zone fails here, not in the middle of a proposal

    def window(self, day: date) -> tuple[int, int] | None:
        """The working hours of a date as epoch seconds, or None on a day off."""
        if day.weekday() not in self.days:
            return None
        zone = ZoneInfo(self.zone)
        lo = datetime.combine(day, self.start, tzinfo=zone)
        hi = datetime.combine(day, self.end, tzinfo=zone)
        return int(lo.timestamp()), int(hi.timestamp())


@dataclass(frozen=True)
class Schedule:
    """One mailbox's free/busy over a period, with its working hours when it has them."""

    mailbox: str
    blocks: tuple[BusyBlock, ...] = ()
    working_hours: WorkingHours | None = None


@dataclass(frozen=True)
class SlotRequest:
    start: datetime  # no slot starts before this moment
    end: datetime  # nor ends after it
    minutes: int
    zone: str = "Europe/Helsinki"
    preferred: tuple[str, ...] = ()  # "mon_morning", ... (mediation.model.PREFERRED_TIMES)
    closed_days: frozenset[date] = frozenset()  # public holidays, the family's excluded days
    default_hours: WorkingHours = field(default_factory=WorkingHours)
    step_minutes: int = 30
    limit: int = 6
    per_day: int = 2

    def __post_init__(self) -> None:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("a slot request needs timezone-aware bounds")
        if self.minutes <= 0 or self.step_minutes <= 0:
            raise ValueError("durations must be positive")


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    end: datetime
    preferred: bool = False
    tentative: bool = False  # someone has a tentative entry at that time


def _merged(blocks: Iterable[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Sorted, non-overlapping intervals as two lists (starts, ends)."""
    starts: list[int] = []
    ends: list[int] = []
    for lo, hi in sorted(blocks):
        if hi <= lo:
            continue
        if ends and lo <= ends[-1]:
            if hi > ends[-1]:
                ends[-1] = hi
        else:
            starts.append(lo)
            ends.append(hi)
    return starts, ends


def _overlaps(starts: list[int], ends: list[int], lo: int, hi: int) -> bool:
    i = bisect_right(starts, lo) - 1  # the last interval starting at or before lo
    if i >= 0 and ends[i] > lo:
        return True
    return i + 1 < len(starts) and starts[i + 1] < hi


def _seconds(moment: datetime) -> int:
    return int(moment.timestamp())


def _preferred_windows(day: date, codes: frozenset[str], zone: ZoneInfo) -> list[tuple[int, int]]:
    found = []
    prefix = WEEKDAY_CODES[day.weekday()]
    for part, (lo, hi) in DAY_PART_HOURS.items():
        if f"{prefix}_{part}" in codes:
            found.append(
                (
                    int(datetime.combine(day, lo, tzinfo=zone).timestamp()),
                    int(datetime.combine(day, hi, tzinfo=zone).timestamp()),
                )
            )
    return found


def weekday_dates(codes: Iterable[str], first: date, last: date) -> frozenset[date]:
    """The dates from ``first`` to ``last`` (inclusive) that fall on the given weekdays."""
    wanted = {WEEKDAY_CODES.index(code) for code in codes}
    if not wanted:
        return frozenset()
    days = (first + timedelta(days=n) for n in range((last - first).days + 1))
    return frozenset(day for day in days if day.weekday() in wanted)


def candidate_slots(schedules: Sequence[Schedule], request: SlotRequest) -> list[Slot]:
    """Every slot on the step grid where everyone is free within their working hours."""
    zone = ZoneInfo(request.zone)
    hard = _merged(
        (_seconds(b.start), _seconds(b.end))
        for s in schedules
        for b in s.blocks
        if b.show_as in BLOCKING
    )
    soft = _merged(
        (_seconds(b.start), _seconds(b.end))
        for s in schedules
        for b in s.blocks
        if b.show_as is ShowAs.TENTATIVE
    )
    hours = [s.working_hours or request.default_hours for s in schedules] or [request.default_hours]
    codes = frozenset(request.preferred)
    length = request.minutes * 60
    step = request.step_minutes * 60
    earliest, latest = _seconds(request.start), _seconds(request.end)
    found: list[Slot] = []
    day = request.start.astimezone(zone).date()
    last_day = request.end.astimezone(zone).date()
    while day <= last_day:
        if day not in request.closed_days:
            found.extend(
                _slots_of_day(day, zone, hours, hard, soft, codes, length, step, earliest, latest)
            )
        day += timedelta(days=1)
    return found


def _slots_of_day(
    day: date,
    zone: ZoneInfo,
    hours: Sequence[WorkingHours],
    hard: tuple[list[int], list[int]],
    soft: tuple[list[int], list[int]],
    codes: frozenset[str],
    length: int,
    step: int,
    earliest: int,
    latest: int,
) -> list[Slot]:
    lo, hi = earliest, latest
    for wh in hours:
        window = wh.window(day)
        if window is None:
            return []
        lo, hi = max(lo, window[0]), min(hi, window[1])
    if hi - lo < length:
        return []
    # Slots start on the step grid of the bank's local clock (9:00, 9:30, ...).
    midnight = int(datetime.combine(day, time(0), tzinfo=zone).timestamp())
    first = midnight + -(-(lo - midnight) // step) * step
    preferred = _preferred_windows(day, codes, zone) if codes else []
    slots = []
    start = first
    while start + length <= hi:
        end = start + length
        if not _overlaps(*hard, start, end):
            slots.append(
                Slot(
                    datetime.fromtimestamp(start, UTC),
                    datetime.fromtimestamp(end, UTC),
                    preferred=any(p_lo <= start < p_hi for p_lo, p_hi in preferred),
                    tentative=_overlaps(*soft, start, end),
                )
            )
        start += step
    return slots


def find_slots(schedules: Sequence[Schedule], request: SlotRequest) -> list[Slot]:
    """The best few slots, in time order: the family's preferred times first, no tentative
    clashes if avoidable, the earliest days first, at most ``per_day`` on one day."""
    zone = ZoneInfo(request.zone)
    ranked = sorted(
        candidate_slots(schedules, request),
        key=lambda s: (not s.preferred, s.tentative, s.start),
    )
    chosen: list[Slot] = []
    per_day: dict[date, int] = {}
    for slot in ranked:
        day = slot.start.astimezone(zone).date()
        if per_day.get(day, 0) >= request.per_day:
            continue
        per_day[day] = per_day.get(day, 0) + 1
        chosen.append(slot)
        if len(chosen) >= request.limit:
            break
    return sorted(chosen)


def within_hours(
    schedules: Sequence[Schedule], start: datetime, end: datetime, default: WorkingHours
) -> bool:
    """Whether [start, end) lies in everyone's working hours on its day (the default
    hours for a mailbox that states none), as every proposed time does."""
    hours = [s.working_hours or default for s in schedules] or [default]
    first, last = _seconds(start), _seconds(end)
    for h in hours:
        day = start.astimezone(ZoneInfo(h.zone)).date()
        window = h.window(day)
        if window is None or not window[0] <= first or not last <= window[1]:
            return False
    return True


def is_free(schedules: Sequence[Schedule], start: datetime, end: datetime) -> bool:
    """Whether nobody has a blocking entry in [start, end)."""
    hard = _merged(
        (_seconds(b.start), _seconds(b.end))
        for s in schedules
        for b in s.blocks
        if b.show_as in BLOCKING
    )
    return not _overlaps(*hard, _seconds(start), _seconds(end))
