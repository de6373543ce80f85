"""The family-law unit's walk-in service and phone hours (seed 001).

A walk-in shift is a recurring window (Thursdays 8-12, say) staffed by one worker drawn
from a rota that is fair across the unit: fewest recent shifts first, away periods
respected, never the same worker twice in a row when someone else is free. During the
shift the worker records each visit in a few taps: its kind, its minutes and whether it
was referred on. A visit carries no family identity. Phone hours are windows like
shifts, staffed by the office secretary (a ``booker``) from the same kind of rota.

A worker may hand a shift to a colleague: the colleague accepts or declines on a card,
and nobody else approves. A coordinator may re-assign a shift.
"""

from __future__ import annotations

import enum
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from mediation import errors
from mediation.model import Mediator
from mediation.slots import WEEKDAY_CODES

VISIT_MINUTES = 30  # the seed's walk-in appointment
MIN_MINUTES = 5
MAX_MINUTES = 240


class ShiftKind(enum.StrEnum):
    WALK_IN = "walk_in"  # staffed by a worker of the unit
    PHONE = "phone"  # phone hours, staffed by the office secretary (a booker)


class VisitKind(enum.StrEnum):
    ADVICE = "advice"
    AGREEMENT = "agreement"  # a quick agreement (custody, residence, contact, maintenance)
    PATERNITY = "paternity"
    OTHER = "other"


class Referral(enum.StrEnum):
    NO = "no"
    MEDIATION = "mediation"  # to the bank: the coordinators register the family
    ELSEWHERE = "elsewhere"


class SwapState(enum.StrEnum):
    OFFERED = "offered"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # taken back by the offerer, or the shift changed hands meanwhile


# -- windows ------------------------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Window:
    """A weekly window: a weekday (0 = Monday) and local start and end times."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"no weekday {self.weekday}")
        if self.end <= self.start:
            raise ValueError(f"{self.start:%H:%M}-{self.end:%H:%M} ends before it starts")

    @property
    def code(self) -> str:
        """'thu:08:00-12:00', the settings' spelling."""
        return f"{WEEKDAY_CODES[self.weekday]}:{self.start:%H:%M}-{self.end:%H:%M}"


_WINDOW = re.compile(r"([a-z]{3}):(\d{1,2})[:.](\d{2})-(\d{1,2})[:.](\d{2})")


def parse_windows(text: str) -> tuple[Window, ...]:
    """'mon:09:00-11:00;wed:09:00-11:00' -> windows, in week order; ValueError says which
    part is wrong."""
    found: list[Window] = []
    for part in text.split(";"):
        part = part.strip().lower()
        if not part:
            continue
        m = _WINDOW.fullmatch(part)
        if m is None or m[1] not in WEEKDAY_CODES:
            raise ValueError(f"{part!r} is not like thu:08:00-12:00")
        try:
            start, end = time(int(m[2]), int(m[3])), time(int(m[4]), int(m[5]))
        except ValueError:
            raise ValueError(f"{part!r} is not a time of day") from None
        window = Window(WEEKDAY_CODES.index(m[1]), start, end)
        if any(w.weekday == window.weekday and w.start < end and start < w.end for w in found):
            raise ValueError(f"{part!r} overlaps another window of the same day")
        found.append(window)
    return tuple(sorted(found))


@dataclass(frozen=True)
class WalkInPolicy:
    """The unit's windows and how its rota is kept (SOPU_WALK_IN_HOURS, SOPU_PHONE_HOURS)."""

    walk_in: tuple[Window, ...] = (Window(3, time(8), time(12)),)
    phone: tuple[Window, ...] = (Window(0, time(9), time(11)), Window(2, time(9), time(11)))
    weeks_ahead: int = 4  # the rota is filled this far ahead
    fairness_weeks: int = 12  # shifts within this many weeks count towards a worker's load
    record_days: int = 3  # visits may be recorded until this many days after the shift

    def windows(self, kind: ShiftKind) -> tuple[Window, ...]:
        return self.walk_in if kind is ShiftKind.WALK_IN else self.phone


# -- shifts -------------------------------------------------------------------------------------


@dataclass
class Shift:
    """One occurrence of a window, with the worker who staffs it (None: nobody free yet)."""

    kind: ShiftKind
    day: date  # the local day
    starts_at: datetime
    ends_at: datetime
    worker_id: int | None = None
    id: int | None = None

    def passed(self, now: datetime) -> bool:
        return self.ends_at <= now

    def check_may_record(self, person_id: int, now: datetime, policy: WalkInPolicy) -> None:
        """Visits are recorded by the shift's worker, from its start until a few days after."""
        if self.kind is not ShiftKind.WALK_IN:
            raise errors.ShiftRefused("walk_in_only", "visits are recorded on walk-in shifts")
        if self.worker_id != person_id:
            raise errors.ShiftRefused("not_yours", "only the shift's worker may do this")
        if now < self.starts_at:
            raise errors.ShiftRefused("not_begun", "the shift has not begun")
        if now > self.ends_at + timedelta(days=policy.record_days):
            raise errors.ShiftRefused(
                "record_over",
                f"visits are recorded until {policy.record_days} days after the shift",
                days=policy.record_days,
            )


def shifts_due(
    policy: WalkInPolicy,
    kind: ShiftKind,
    first: date,
    last: date,
    zone: ZoneInfo,
    closed: Callable[[date], bool] = lambda day: False,
) -> list[Shift]:
    """The shifts of ``kind`` from ``first`` to ``last`` (inclusive), none on a closed day
    (a public holiday), without workers."""
    found = []
    day = first
    while day <= last:
        if not closed(day):
            for w in policy.windows(kind):
                if w.weekday == day.weekday():
                    start = datetime.combine(day, w.start, zone)
                    found.append(Shift(kind, day, start, datetime.combine(day, w.end, zone)))
        day += timedelta(days=1)
    return found


def may_staff(kind: ShiftKind, person: Mediator) -> bool:
    """Walk-in shifts are the unit's workers' (active people who are not bookers; the use
    cases offer only those the registry records with the walk-in duty); phone hours are the
    bookers'."""
    return person.active and (person.is_booker == (kind is ShiftKind.PHONE))


def rota_order(
    kind: ShiftKind,
    day: date,
    people: Iterable[Mediator],
    shifts: Sequence[Shift],
    policy: WalkInPolicy,
) -> list[Mediator]:
    """Who may staff a shift of ``kind`` on ``day``, fairest first: not the worker of the
    shift before (if anyone else is free), then fewest shifts of the kind within the
    fairness weeks either side, then whose last shift is longest ago, then by name."""
    span = timedelta(weeks=policy.fairness_weeks)
    same = sorted((s for s in shifts if s.kind is kind), key=lambda s: s.starts_at)
    before = [s for s in same if s.day < day and s.worker_id is not None]
    previous = before[-1].worker_id if before else None
    load = Counter(s.worker_id for s in same if abs(s.day - day) <= span and s.worker_id)
    last: dict[int, date] = {}
    for s in before:
        assert s.worker_id is not None
        last[s.worker_id] = s.day
    free = [p for p in people if p.id is not None and may_staff(kind, p) and p.away_on(day) is None]

    def fairness(p: Mediator) -> tuple[bool, int, date, str, int]:
        assert p.id is not None
        return (p.id == previous, load[p.id], last.get(p.id, date.min), p.name.casefold(), p.id)

    return sorted(free, key=fairness)


def fill_rota(
    due: Sequence[Shift], shifts: Sequence[Shift], people: Sequence[Mediator], policy: WalkInPolicy
) -> list[Shift]:
    """Staff the shifts ``due`` in time order from the fair rota; ``shifts`` are those kept
    already (with and without workers). Returns the shifts new or newly staffed; a shift
    nobody is free for stays without a worker, for a later run or a coordinator."""
    kept = {(s.kind, s.starts_at): s for s in shifts}
    changed: list[Shift] = []
    for wanted in sorted(due, key=lambda s: s.starts_at):
        shift = kept.get((wanted.kind, wanted.starts_at))
        if shift is not None and shift.worker_id is not None:
            continue
        if shift is None:
            shift = wanted
            kept[(shift.kind, shift.starts_at)] = shift
        order = rota_order(shift.kind, shift.day, people, list(kept.values()), policy)
        shift.worker_id = order[0].id if order else None
        if shift.id is None or shift.worker_id is not None:
            changed.append(shift)
    return changed


def reminder_due(shift: Shift, today: date, now: datetime) -> bool:
    """The worker is reminded the day before the shift (or on the day, if that was missed)."""
    return (
        shift.worker_id is not None
        and shift.day - timedelta(days=1) <= today <= shift.day
        and not shift.passed(now)
    )


# -- swaps --------------------------------------------------------------------------------------


@dataclass
class Swap:
    """A worker offers their shift to a colleague, who takes it over; with ``return_shift_id``
    the offerer takes one of the colleague's shifts in exchange."""

    shift_id: int
    from_id: int
    to_id: int
    offered_at: datetime
    return_shift_id: int | None = None
    state: SwapState = SwapState.OFFERED
    answered_at: datetime | None = None
    id: int | None = None

    @property
    def open(self) -> bool:
        return self.state is SwapState.OFFERED


def check_offer(
    shift: Shift,
    offerer: Mediator,
    colleague: Mediator,
    back: Shift | None,
    now: datetime,
) -> None:
    """A shift may be offered by its worker, before it begins, to someone who may staff it
    and is not away that day; a shift in return must be the colleague's, of the same kind,
    not yet begun, on a day the offerer is not away."""
    if shift.worker_id != offerer.id:
        raise errors.ShiftRefused("not_yours", "only the shift's worker may do this")
    if shift.starts_at <= now:
        raise _passed()
    if colleague.id == offerer.id:
        raise errors.InvalidInput("to_id", "unknown choice")
    if not may_staff(shift.kind, colleague):
        raise errors.ShiftRefused(
            "not_in_rota", f"{colleague.name} does not staff these shifts", name=colleague.name
        )
    away = colleague.away_on(shift.day)
    if away is not None:
        raise errors.MediatorAway(colleague.name, away.end.isoformat())
    if back is None:
        return
    if back.worker_id != colleague.id or back.kind is not shift.kind or back.id == shift.id:
        raise errors.InvalidInput("return_shift_id", "unknown choice")
    if back.starts_at <= now:
        raise _passed()
    away = offerer.away_on(back.day)
    if away is not None:
        raise errors.MediatorAway(offerer.name, away.end.isoformat())


def accept(
    swap: Swap,
    shift: Shift,
    back: Shift | None,
    offerer: Mediator,
    colleague: Mediator,
    now: datetime,
) -> None:
    """The colleague accepts: the shift is theirs (and the one in return the offerer's).
    Refused, with the reason, when the offer is no longer what it was."""
    if colleague.id != swap.to_id:
        raise _not_asked()
    if not swap.open:
        raise _closed(swap)
    if shift.worker_id != swap.from_id or (back is not None and back.worker_id != swap.to_id):
        raise errors.ShiftRefused("swap_changed", "the shifts have changed hands since the offer")
    check_offer(shift, offerer, colleague, back, now)
    shift.worker_id = swap.to_id
    if back is not None:
        back.worker_id = swap.from_id
    swap.state, swap.answered_at = SwapState.ACCEPTED, now


def decline(swap: Swap, person_id: int, now: datetime) -> None:
    if person_id != swap.to_id:
        raise _not_asked()
    if not swap.open:
        raise _closed(swap)
    swap.state, swap.answered_at = SwapState.DECLINED, now


def withdraw(swap: Swap, person_id: int, now: datetime) -> None:
    if person_id != swap.from_id:
        raise errors.ShiftRefused("not_yours", "only the worker who offered it may do this")
    if not swap.open:
        raise _closed(swap)
    swap.state, swap.answered_at = SwapState.WITHDRAWN, now


def _passed() -> errors.ShiftRefused:
    return errors.ShiftRefused("passed", "the shift has already begun or passed")


def _not_asked() -> errors.ShiftRefused:
    return errors.ShiftRefused("not_asked", "only the colleague asked may answer")


def _closed(swap: Swap) -> errors.ShiftRefused:
    """An offer answered or withdrawn already: the reason names what became of it."""
    state = swap.state.value
    return errors.ShiftRefused(f"swap_{state}", f"the offer was {state} already")


# -- visits -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Visit:
    """One walk-in visit: what it was about, how long it took, where it went on. Nothing
    about who came."""

    shift_id: int
    kind: VisitKind
    minutes: int
    referral: Referral
    booked: bool  # the matter needed a booked appointment after all
    recorded_by: int
    recorded_at: datetime
    id: int | None = None

    def __post_init__(self) -> None:
        if not MIN_MINUTES <= self.minutes <= MAX_MINUTES:
            raise errors.ShiftRefused(
                "minutes",
                f"a visit takes {MIN_MINUTES} to {MAX_MINUTES} minutes",
                low=MIN_MINUTES,
                high=MAX_MINUTES,
            )


# -- figures ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WalkInFigures:
    """A period's walk-in service and its rota, as the unit reports them."""

    first: date
    last: date
    shifts: int  # walk-in shifts that were held (begun) in the period
    visits: int
    by_kind: Mapping[str, int]  # visits per VisitKind
    minutes: int
    without_booking: int  # visits handled there and then, with no appointment booked
    referrals: Mapping[str, int]  # referred on: mediation, elsewhere
    # (name, walk-in shifts, phone hours) per person staffing a shift in the period, planned
    # shifts included: the rota's fairness.
    per_worker: tuple[tuple[str, int, int], ...] = field(default=())

    def per_shift(self, count: int) -> float | None:
        return round(count / self.shifts, 1) if self.shifts else None

    @property
    def share_without_booking(self) -> int | None:
        """Per cent of the visits handled without a booking."""
        return round(100 * self.without_booking / self.visits) if self.visits else None


def walk_in_figures(
    shifts: Sequence[Shift],
    visits: Sequence[Visit],
    names: Mapping[int, str],
    first: date,
    last: date,
    now: datetime,
) -> WalkInFigures:
    """Visits per shift by kind, the share handled without a booking, referrals on, and
    shifts per worker, for the shifts from ``first`` to ``last``."""
    within = [s for s in shifts if first <= s.day <= last]
    held = {s.id for s in within if s.kind is ShiftKind.WALK_IN and s.starts_at <= now}
    counted = [v for v in visits if v.shift_id in held]
    by_kind = Counter(v.kind.value for v in counted)
    referrals = Counter(v.referral.value for v in counted if v.referral is not Referral.NO)
    walk_ins = Counter(s.worker_id for s in within if s.kind is ShiftKind.WALK_IN)
    phones = Counter(s.worker_id for s in within if s.kind is ShiftKind.PHONE)
    staff = sorted(
        (names.get(p, "?"), walk_ins[p], phones[p])
        for p in set(walk_ins) | set(phones)
        if p is not None
    )
    return WalkInFigures(
        first,
        last,
        len(held),
        len(counted),
        {k.value: by_kind[k.value] for k in VisitKind},
        sum(v.minutes for v in counted),
        sum(1 for v in counted if not v.booked),
        {r.value: referrals[r.value] for r in (Referral.MEDIATION, Referral.ELSEWHERE)},
        tuple(staff),
    )
