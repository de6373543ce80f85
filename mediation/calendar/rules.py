"""The package's small rules: what it needs next, what may be booked, the event's stable key."""

from __future__ import annotations

from datetime import datetime

from mediation import errors
from mediation.model import Case, CaseStatus, Meeting, MeetingKind, MeetingStatus


def live_meetings(case: Case) -> list[Meeting]:
    """The case's meetings that are not cancelled."""
    return [m for m in case.meetings if m.status is not MeetingStatus.CANCELLED]


def next_meeting(case: Case) -> tuple[MeetingKind, int | None]:
    """What the package needs next: each parent's individual meeting, then joint meetings;
    the follow-up once the case is in follow-up."""
    live = live_meetings(case)
    for parent in (1, 2):
        if not any(m.kind is MeetingKind.INDIVIDUAL and m.parent_no == parent for m in live):
            return MeetingKind.INDIVIDUAL, parent
    if case.status is CaseStatus.FOLLOW_UP:
        return MeetingKind.FOLLOW_UP, None
    return MeetingKind.JOINT, None


def check_kind(kind: MeetingKind, parent_no: int | None) -> None:
    """An individual meeting names its parent (1 or 2); the other kinds name none."""
    if kind is MeetingKind.INDIVIDUAL and parent_no not in (1, 2):
        raise errors.InvalidInput("parent_no", "unknown choice")
    if kind is not MeetingKind.INDIVIDUAL and parent_no is not None:
        raise errors.InvalidInput("parent_no", "unknown choice")


def booking_blocked(case: Case, kind: MeetingKind) -> errors.DomainError | None:
    """Why a meeting of this kind cannot be booked now, or None."""
    try:
        case.check_can_book(kind)
    except errors.DomainError as exc:
        return exc
    return None


def transaction_id(case: Case, meeting: Meeting) -> str:
    """The stable key Graph uses to drop a duplicate create of the same meeting."""
    return f"sopu-{case.code}-m{meeting.id}"


def iso_minutes(moment: datetime) -> str:
    """A moment as the journal writes it, to the minute."""
    return moment.isoformat(timespec="minutes")
