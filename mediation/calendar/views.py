"""Meetings as the cards show them: a case's package, proposals, a use case's result."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from mediation import errors
from mediation.calendar.policy import MeetingPolicy
from mediation.calendar.ports import EventLink
from mediation.model import Case, Meeting, MeetingKind, MeetingStatus
from mediation.slots import Slot


@dataclass(frozen=True)
class MeetingView:
    meeting_id: int
    case_id: int
    code: str
    kind: MeetingKind
    parent_no: int | None
    starts_at: datetime
    ends_at: datetime
    status: MeetingStatus
    held_minutes: int | None = None
    calendar_pending: bool = False
    planned_minutes: int = 0


@dataclass(frozen=True)
class Proposal:
    """Times for the next meeting of a case (or for moving one), with the package so far."""

    case_id: int
    code: str
    status: str
    kind: MeetingKind
    parent_no: int | None
    minutes: int
    slots: tuple[Slot, ...]
    meetings: tuple[MeetingView, ...]
    package_size: int
    zone: str
    blocked: errors.DomainError | None = None  # why this kind cannot be booked now
    moving: MeetingView | None = None
    preferred: tuple[str, ...] = ()
    # For a booker: the parents whose first meeting is still to be booked (the card shows
    # them only what booking needs).
    booker: bool = False
    open_parents: tuple[int, ...] = ()


@dataclass(frozen=True)
class MeetingResult:
    meeting: MeetingView
    changed: bool
    calendar_error: errors.DomainError | None = None  # saved in Sopu; the calendar lags
    meetings: tuple[MeetingView, ...] = ()


def package_views(
    case: Case, links: dict[int, EventLink], mp: MeetingPolicy
) -> tuple[MeetingView, ...]:
    """Every meeting of the case, in time order, with where each stands in its calendar."""
    return tuple(
        view_of(case, m, links.get(m.id) if m.id is not None else None, mp)
        for m in sorted(case.meetings, key=lambda m: m.starts_at)
    )


def view_of(case: Case, m: Meeting, link: EventLink | None, mp: MeetingPolicy) -> MeetingView:
    """A meeting as the pair sees it: pending until the calendar has confirmed its change."""
    assert case.id is not None and m.id is not None
    pending = m.status is not MeetingStatus.CANCELLED and (link is None or link.state.pending)
    return MeetingView(
        meeting_id=m.id,
        case_id=case.id,
        code=case.code,
        kind=m.kind,
        parent_no=m.parent_no,
        starts_at=m.starts_at,
        ends_at=m.ends_at,
        status=m.status,
        held_minutes=m.held_minutes,
        calendar_pending=pending,
        planned_minutes=int((m.ends_at - m.starts_at).total_seconds() // 60),
    )
