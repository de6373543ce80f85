"""Proposing times both mediators are free, and checking a time before it is booked."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from mediation import errors
from mediation.calendar.access import check_access, find_meeting, load_case, pair_mailboxes
from mediation.calendar.errors import MeetingClosed, SlotInvalid, SlotTaken
from mediation.calendar.neutral import (
    PARENTS,
    check_booker_may_book,
    check_booker_may_see,
    first_meetings_open,
)
from mediation.calendar.policy import MeetingPolicy
from mediation.calendar.ports import Calendar, ClosedDays, EventLinks
from mediation.calendar.rules import booking_blocked, check_kind, live_meetings, next_meeting
from mediation.calendar.views import Proposal, package_views
from mediation.model import Case, CaseStatus, Meeting, MeetingKind, MeetingStatus
from mediation.policy import BankPolicy
from mediation.ports import Clock, UnitOfWork
from mediation.services import actor
from mediation.slots import (
    Schedule,
    Slot,
    SlotRequest,
    WorkingHours,
    find_slots,
    is_free,
    weekday_dates,
    within_hours,
)


def _window_start(case: Case, kind: MeetingKind, now: datetime, mp: MeetingPolicy) -> datetime:
    earliest = now + timedelta(hours=mp.notice_hours)
    if kind is MeetingKind.FOLLOW_UP:
        others = [m.ends_at for m in live_meetings(case) if m.kind is not MeetingKind.FOLLOW_UP]
        if others:
            earliest = max(earliest, max(others) + timedelta(weeks=mp.follow_up_weeks))
    return earliest


@dataclass(frozen=True)
class ProposeTimes:
    actor: str
    case_id: int
    kind: MeetingKind | None = None  # None: what the package needs next
    parent_no: int | None = None
    meeting_id: int | None = None  # times for moving this meeting
    search: bool = True  # False: only the package so far, without asking the calendars


async def propose_times(
    cmd: ProposeTimes,
    uow: UnitOfWork,
    calendar: Calendar,
    links: EventLinks,
    clock: Clock,
    policy: BankPolicy,
    mp: MeetingPolicy,
    closed_days: ClosedDays,
) -> Proposal:
    """The best times both mediators are free for the next meeting (or a moved one)."""
    now = clock.now()
    async with uow:
        me = await actor(uow, cmd.actor, booker=True)
        case = await load_case(uow, cmd.case_id)
        plan = booker_plan(case, cmd) if me.is_booker else None
        if plan is None:
            check_access(me, case)
            if not case.status.active or case.status is CaseStatus.OPEN:
                raise errors.IllegalTransition("book a meeting for", case.status.value)
        _, mailboxes = await pair_mailboxes(uow, case, me)
    if plan is not None:
        return await _for_booker(
            plan, case, mailboxes, calendar, links, now, policy, mp, closed_days
        )
    moving: Meeting | None = None
    if cmd.meeting_id is not None:
        moving = find_meeting(case, cmd.meeting_id)
        if moving.status is not MeetingStatus.BOOKED:
            raise MeetingClosed(moving.status.value)
        kind, parent_no = moving.kind, moving.parent_no
        minutes = int((moving.ends_at - moving.starts_at).total_seconds() // 60)
        blocked = None
    else:
        if cmd.kind is None:
            kind, parent_no = next_meeting(case)
        else:
            kind, parent_no = cmd.kind, cmd.parent_no
        check_kind(kind, parent_no)
        minutes = mp.minutes(kind)
        blocked = booking_blocked(case, kind)
    assert case.id is not None
    stored = await links.for_meetings([m.id for m in case.meetings if m.id is not None])
    views = package_views(case, stored, mp)
    slots: tuple[Slot, ...] = ()
    if blocked is None and cmd.search:
        slots = await _free_slots(
            case, kind, minutes, mailboxes, moving, calendar, now, policy, mp, closed_days
        )
    return Proposal(
        case_id=case.id,
        code=case.code,
        status=case.status.value,
        kind=kind,
        parent_no=parent_no,
        minutes=minutes,
        slots=slots,
        meetings=views,
        package_size=case.package_size,
        zone=policy.timezone,
        blocked=blocked,
        moving=next((v for v in views if moving and v.meeting_id == moving.id), None),
        preferred=case.intake.preferred_times,
    )


async def _free_slots(
    case: Case,
    kind: MeetingKind,
    minutes: int,
    mailboxes: Sequence[str],
    moving: Meeting | None,
    calendar: Calendar,
    now: datetime,
    policy: BankPolicy,
    mp: MeetingPolicy,
    closed_days: ClosedDays,
) -> tuple[Slot, ...]:
    """The best times all the mailboxes are free, within the family's days and hours."""
    start = _window_start(case, kind, now, mp)
    end = start + timedelta(days=mp.search_days)
    schedules = await calendar.schedules(mailboxes, start, end)
    if moving is not None:
        schedules = [_without(s, moving) for s in schedules]
    first, last = policy.local_date(start), policy.local_date(end)
    request = SlotRequest(
        start=start,
        end=end,
        minutes=minutes,
        zone=policy.timezone,
        preferred=case.intake.preferred_times,
        closed_days=closed_days(first, last)
        | weekday_dates(case.intake.excluded_days, first, last),
        default_hours=mp.working_hours,
        limit=mp.slots_shown,
    )
    return tuple(find_slots(schedules, request))


@dataclass(frozen=True)
class BookerPlan:
    kind: MeetingKind
    parent_no: int | None
    open_parents: tuple[int, ...]
    search: bool


def booker_plan(case: Case, cmd: ProposeTimes) -> BookerPlan:
    """What a booker's proposal is for: the first open parent's meeting, unless named."""
    if cmd.meeting_id is not None:
        raise errors.BookerNotAllowed()
    open_parents = first_meetings_open(case)
    kind = cmd.kind or MeetingKind.INDIVIDUAL
    parent_no: int | None = cmd.parent_no
    if cmd.kind is None and cmd.parent_no is None:
        parent_no = (open_parents or PARENTS)[0]
    search = cmd.search and bool(open_parents)
    if search:
        check_booker_may_book(case, kind, parent_no)
    else:
        check_booker_may_see(case)
    return BookerPlan(kind, parent_no, open_parents, search)


async def _for_booker(
    plan: BookerPlan,
    case: Case,
    mailboxes: Sequence[str],
    calendar: Calendar,
    links: EventLinks,
    now: datetime,
    policy: BankPolicy,
    mp: MeetingPolicy,
    closed_days: ClosedDays,
) -> Proposal:
    """A booker's proposal: the pair's common free times and the first meetings, no more."""
    kind, parent_no = plan.kind, plan.parent_no
    assert case.id is not None
    minutes = mp.minutes(kind)
    stored = await links.for_meetings([m.id for m in case.meetings if m.id is not None])
    first = tuple(v for v in package_views(case, stored, mp) if v.kind is MeetingKind.INDIVIDUAL)
    slots: tuple[Slot, ...] = ()
    if plan.search:
        slots = await _free_slots(
            case, kind, minutes, mailboxes, None, calendar, now, policy, mp, closed_days
        )
    return Proposal(
        case_id=case.id,
        code=case.code,
        status=case.status.value,
        kind=kind,
        parent_no=parent_no,
        minutes=minutes,
        slots=slots,
        meetings=first,
        package_size=case.package_size,
        zone=policy.timezone,
        preferred=case.intake.preferred_times,
        booker=True,
        open_parents=plan.open_parents,
    )


def _without(schedule: Schedule, meeting: Meeting) -> Schedule:
    """A schedule without the meeting being moved (its own time is free for it)."""
    blocks = tuple(
        b
        for b in schedule.blocks
        if not (b.start == meeting.starts_at and b.end == meeting.ends_at)
    )
    return Schedule(schedule.mailbox, blocks, schedule.working_hours)


async def check_slot(
    calendar: Calendar,
    mailboxes: Sequence[str],
    start: datetime,
    end: datetime,
    now: datetime,
    policy: BankPolicy,
    closed_days: ClosedDays,
    hours: WorkingHours,
    moving: Meeting | None = None,
) -> None:
    """A time that someone picked (or forged) is one a proposal could have offered."""
    if start <= now:
        raise SlotInvalid("past")
    if start > now + timedelta(days=400):
        raise SlotInvalid("far")
    local = start.astimezone(policy.zone)
    if local.minute % 30 or local.second or local.microsecond:
        raise SlotInvalid("grid")
    day = local.date()
    if day in closed_days(day, day):
        raise SlotInvalid("holiday")
    schedules = await calendar.schedules(mailboxes, start, end)
    if moving is not None:
        schedules = [_without(s, moving) for s in schedules]
    if not within_hours(schedules, start, end, hours):
        raise SlotInvalid("hours")
    if not is_free(schedules, start, end):
        raise SlotTaken()
