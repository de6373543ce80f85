"""What the walk-in service's cards show, and to whom: views the use cases hand the builders.

A view is built for one person: the buttons it allows are decided here (their own shifts
may be offered, a coordinator may re-assign), so a card only lays out what it is given.
Nothing about families is in any of them: a visit is a kind, minutes and a referral.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from mediation.walk_in import Referral, ShiftKind, SwapState, VisitKind


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class ShiftLine:
    id: int
    kind: ShiftKind
    day: date
    starts_at: datetime
    ends_at: datetime
    worker: Person | None  # None: nobody free yet
    mine: bool


@dataclass(frozen=True)
class SwapLine:
    """An open offer of a shift: from whom, to whom, and the shift in return, if any."""

    id: int
    shift: ShiftLine
    offerer: Person
    colleague: Person
    in_return: ShiftLine | None
    state: SwapState = SwapState.OFFERED


@dataclass(frozen=True)
class VisitLine:
    id: int
    kind: VisitKind
    minutes: int
    referral: Referral
    booked: bool
    recorded_at: datetime


@dataclass(frozen=True)
class ShiftsView:
    """The rota of the coming weeks for one person, with the offers they are part of."""

    viewer: Person
    coordinator: bool
    shifts: tuple[ShiftLine, ...]
    offers_to_me: tuple[SwapLine, ...] = ()
    my_offers: tuple[SwapLine, ...] = ()


@dataclass(frozen=True)
class ShiftView:
    """One shift for its worker (or a coordinator): its visits, and what may be done now."""

    viewer: Person
    shift: ShiftLine
    visits: tuple[VisitLine, ...] = ()
    may_record: bool = False  # the worker, from the shift's start until a few days after
    may_offer: bool = False  # the worker, before the shift begins
    colleagues: tuple[Person, ...] = ()  # who may take it over (not away that day)
    in_return: tuple[ShiftLine, ...] = ()  # colleagues' shifts the worker may take instead
    open_offer: SwapLine | None = None
    # A coordinator's choices for re-assigning it: who may staff it that day, fairest first.
    assignable: tuple[Person, ...] = ()
