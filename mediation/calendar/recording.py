"""Recording whether a meeting was held, and finding the ones not yet recorded."""

from __future__ import annotations

from dataclasses import dataclass

from mediation import errors
from mediation.calendar.access import check_access, find_meeting, load_case
from mediation.calendar.errors import MeetingClosed, MeetingNotYet, MinutesOutOfRange
from mediation.calendar.policy import MeetingPolicy
from mediation.calendar.ports import EventLinks, MeetingFinder, UnrecordedMeeting
from mediation.calendar.views import MeetingResult, MeetingView, package_views, view_of
from mediation.journal import CaseEvent, CaseEventKind
from mediation.model import MeetingStatus
from mediation.ports import Clock, UnitOfWork
from mediation.services import actor


@dataclass(frozen=True)
class RecordMeeting:
    actor: str
    meeting_id: int
    case_id: int
    held: bool
    minutes: int | None = None


async def record_meeting(
    cmd: RecordMeeting,
    uow: UnitOfWork,
    links: EventLinks,
    clock: Clock,
    mp: MeetingPolicy,
) -> MeetingResult:
    """The pair records whether a meeting was held and how long it took; a correction is
    allowed, the same answer twice changes nothing."""
    if cmd.held:
        if cmd.minutes is None:
            raise errors.InvalidInput("minutes", "required")
        if not 1 <= cmd.minutes <= mp.max_held_minutes:
            raise MinutesOutOfRange(mp.max_held_minutes)
    for attempt in range(5):
        now = clock.now()
        async with uow:
            me = await actor(uow, cmd.actor)
            case = await load_case(uow, cmd.case_id, for_update=True)
            check_access(me, case)
            assert me.id is not None and case.id is not None
            meeting = find_meeting(case, cmd.meeting_id)
            if meeting.status is MeetingStatus.CANCELLED:
                raise MeetingClosed(meeting.status.value)
            if now < meeting.starts_at:
                raise MeetingNotYet()
            status = MeetingStatus.HELD if cmd.held else MeetingStatus.NOT_HELD
            minutes = cmd.minutes if cmd.held else None
            changed = (meeting.status, meeting.held_minutes) != (status, minutes)
            if changed:
                meeting.status, meeting.held_minutes = status, minutes
                try:
                    await uow.cases.save(case)
                except errors.ConcurrentChange:
                    if attempt == 4:
                        raise
                    continue
                detail = {"meeting_id": meeting.id, "status": status.value, "minutes": minutes}
                await uow.journal.case_event(
                    CaseEvent(case.id, CaseEventKind.MEETING_RECORDED, me.id, now, detail)
                )
                await uow.commit()
        # The links live in their own store: read them once this unit of work has closed.
        stored = await links.for_meetings([m.id for m in case.meetings if m.id is not None])
        views = package_views(case, stored, mp)
        view = next(v for v in views if v.meeting_id == meeting.id)
        return MeetingResult(view, changed, None, views)
    raise AssertionError("unreachable")


async def meeting_view(
    actor_aad: str,
    meeting_id: int,
    case_id: int,
    uow: UnitOfWork,
    links: EventLinks,
    mp: MeetingPolicy,
) -> MeetingView:
    """One meeting as the pair sees it (for the record card)."""
    async with uow:
        me = await actor(uow, actor_aad)
        case = await load_case(uow, case_id)
        check_access(me, case)
        meeting = find_meeting(case, meeting_id)
    return view_of(case, meeting, await links.get(meeting_id), mp)


async def meetings_to_record(finder: MeetingFinder, clock: Clock) -> list[UnrecordedMeeting]:
    """Booked meetings that have ended and are not recorded: the scheduler asks the pair."""
    return await finder.ended_unrecorded(clock.now())
