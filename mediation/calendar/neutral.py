"""Neutral booking: an office secretary (a booker) books each parent's first meeting.

A booker sees what booking needs and nothing else: the case code, its language and
interpreter need, the family's preferred times, and which first meetings are still to be
booked. No names, no contact details, no notes, no history. Booking itself is the
mediators' own use case (``booking.book_meeting``); these rules say when a booker may use it.
"""

from __future__ import annotations

from dataclasses import dataclass

from mediation import errors
from mediation.calendar.rules import live_meetings
from mediation.model import Case, CaseStatus, MeetingKind
from mediation.ports import UnitOfWork
from mediation.services import actor

PARENTS = (1, 2)
# A booker books a case once its pair is complete and until its meetings run.
BOOKABLE_STATUSES = (CaseStatus.PAIRED, CaseStatus.IN_PROGRESS)


def first_meetings_open(case: Case) -> tuple[int, ...]:
    """The parents whose individual meeting is neither booked nor held."""
    booked = {m.parent_no for m in live_meetings(case) if m.kind is MeetingKind.INDIVIDUAL}
    return tuple(p for p in PARENTS if p not in booked)


def waits_for_booker(case: Case) -> bool:
    """A case a booker may book: a complete pair, not closed, a first meeting unbooked."""
    return case.status in BOOKABLE_STATUSES and case.full and bool(first_meetings_open(case))


def check_booker_may_book(case: Case, kind: MeetingKind, parent_no: int | None) -> None:
    """A booker books only an unbooked first individual meeting of a case with its pair."""
    if (
        kind is not MeetingKind.INDIVIDUAL
        or not waits_for_booker(case)
        or parent_no not in first_meetings_open(case)
    ):
        raise errors.BookerFirstMeetingsOnly(case.code)


def check_booker_may_see(case: Case) -> None:
    """A booker sees a case, and repeats a booking on it, only while the case is the
    bank's to book: its pair complete, not closed or cancelled."""
    if case.status not in BOOKABLE_STATUSES or not case.full:
        raise errors.BookerFirstMeetingsOnly(case.code)


def check_booker_may_repeat(case: Case, kind: MeetingKind, parent_no: int | None) -> None:
    """A booker's booking again (a double click) only of a first meeting of such a case."""
    if kind is not MeetingKind.INDIVIDUAL or parent_no not in PARENTS:
        raise errors.BookerFirstMeetingsOnly(case.code)
    check_booker_may_see(case)


@dataclass(frozen=True)
class CaseToBook:
    """What a booker sees of a case: what booking needs, and nothing of the family."""

    case_id: int
    code: str
    language: str
    interpreter: bool
    open_parents: tuple[int, ...]


async def cases_to_book(actor_aad: str, uow: UnitOfWork) -> list[CaseToBook]:
    """The cases whose pair is complete and whose first meetings are not all booked."""
    async with uow:
        me = await actor(uow, actor_aad, booker=True)
        if not me.is_booker and not me.is_coordinator:
            raise errors.BookingDeskOnly()
        cases = await uow.cases.with_status(list(BOOKABLE_STATUSES))
    return [
        CaseToBook(c.id, c.code, c.intake.language, c.intake.interpreter, first_meetings_open(c))
        for c in sorted(cases, key=lambda c: c.code)
        if c.id is not None and waits_for_booker(c)
    ]
