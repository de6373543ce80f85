"""Meetings in the mediators' calendars: proposing times, booking the package, keeping in sync.

The use cases here decide; the ``Calendar`` port (Microsoft Graph or Sopu's own local
calendar) only carries out. A booking is first saved with its case, then pushed to the
organising mediator's calendar with a stable transaction id, so a retry (ours, the SDK's or
a user's second click) never creates a second event. A push that did not get through stays
pending and is pushed again (``push_pending``).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Protocol

from mediation import errors
from mediation.journal import CaseEvent, CaseEventKind
from mediation.model import Case, CaseStatus, Mediator, Meeting, MeetingKind, MeetingStatus
from mediation.policy import BankPolicy
from mediation.ports import CaseChanged, Clock, Notifier, UnitOfWork
from mediation.services import actor
from mediation.slots import (
    Schedule,
    Slot,
    SlotRequest,
    WorkingHours,
    find_slots,
    is_free,
    weekday_dates,
)

# -- settings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class MeetingPolicy:
    """How long meetings last, when the follow-up is due and where proposals look."""

    individual_minutes: int = 60
    joint_minutes: int = 90
    child_minutes: int = 60
    follow_up_minutes: int = 60
    follow_up_weeks: int = 13  # about three months after the last joint meeting
    search_days: int = 28
    notice_hours: int = 18  # the first slot is at least this far ahead
    slots_shown: int = 6
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    max_held_minutes: int = 480

    def minutes(self, kind: MeetingKind) -> int:
        return {
            MeetingKind.INDIVIDUAL: self.individual_minutes,
            MeetingKind.JOINT: self.joint_minutes,
            MeetingKind.CHILD: self.child_minutes,
            MeetingKind.FOLLOW_UP: self.follow_up_minutes,
        }[kind]


# -- errors -----------------------------------------------------------------------------------


class CalendarUnavailable(errors.DomainError):
    """The calendar service did not answer in time (throttled, down); try again later."""

    key = "error.calendar_unavailable"

    def __init__(self, detail: str = "") -> None:
        super().__init__(f"the calendar service is not answering: {detail}".rstrip(": "))


class CalendarRefused(errors.DomainError):
    """The calendar service refused for good: a missing permission or an unknown mailbox."""

    key = "error.calendar_refused.request"

    def __init__(self, reason: str, mailbox: str = "") -> None:
        # reason: "permission", "mailbox" or "request"
        super().__init__(f"the calendar refused ({reason}) for {mailbox or '-'}", reason=reason)
        self.key = f"error.calendar_refused.{reason}"
        self.reason = reason
        self.mailbox = mailbox


class SlotTaken(errors.DomainError):
    key = "error.slot_taken"

    def __init__(self) -> None:
        super().__init__("that time is no longer free in both calendars")


class SlotInvalid(errors.DomainError):
    """A time that no proposal would have offered; ``why`` is one of the keys below."""

    key = "error.slot_invalid.past"
    WHY = ("past", "far", "grid", "holiday")

    def __init__(self, why: str) -> None:
        super().__init__(f"that time cannot be booked: {why}", why=why)
        self.key = f"error.slot_invalid.{why}"


class MeetingNotFound(errors.NotFound):
    key = "error.meeting_not_found"

    def __init__(self, meeting_id: object) -> None:
        super().__init__(f"meeting {meeting_id} does not exist", meeting_id=meeting_id)


class MeetingClosed(errors.DomainError):
    """A meeting already recorded or cancelled cannot be moved or cancelled."""

    key = "error.meeting_closed.cancelled"

    def __init__(self, status: str) -> None:
        super().__init__(f"the meeting is {status}", status=status)
        self.key = f"error.meeting_closed.{status}"


class MeetingNotYet(errors.DomainError):
    key = "error.meeting_not_yet"

    def __init__(self) -> None:
        super().__init__("a meeting can be recorded once it has started")


class MinutesOutOfRange(errors.DomainError):
    key = "error.minutes_range"

    def __init__(self, high: int) -> None:
        super().__init__(f"the duration must be 1 to {high} minutes", low=1, high=high)


class MeetingsPairOnly(errors.DomainError):
    key = "error.meetings_pair_only"

    def __init__(self) -> None:
        super().__init__("only the pair and the coordinators manage a case's meetings")


# -- the calendar port ----------------------------------------------------------------------


@dataclass(frozen=True)
class EventDraft:
    """What Sopu writes into a calendar: never a family's name, only the case code."""

    subject: str
    body: str
    start: datetime
    end: datetime
    attendees: tuple[str, ...]
    transaction_id: str
    online: bool = True


class Calendar(Protocol):
    async def schedules(
        self, mailboxes: Sequence[str], start: datetime, end: datetime
    ) -> list[Schedule]:
        """Each mailbox's free/busy over [start, end), in the order asked."""
        ...

    async def create_event(self, organizer: str, draft: EventDraft) -> str:
        """Create (or find, by the draft's transaction id) the event; returns its id."""
        ...

    async def update_event(self, organizer: str, event_id: str, draft: EventDraft) -> None: ...

    async def cancel_event(self, organizer: str, event_id: str, comment: str) -> None:
        """Cancel with a message to the attendees; an event already gone is not an error."""
        ...


class LinkState(enum.StrEnum):
    """Where a meeting stands in its organiser's calendar."""

    CREATE = "create"  # saved in Sopu, not yet confirmed by the calendar
    SYNCED = "synced"
    UPDATE = "update"  # moved in Sopu, the calendar not yet patched
    CANCEL = "cancel"  # cancelled in Sopu, the calendar not yet told
    CANCELLED = "cancelled"

    @property
    def pending(self) -> bool:
        return self in (LinkState.CREATE, LinkState.UPDATE, LinkState.CANCEL)


@dataclass
class EventLink:
    """A meeting's event in its organiser's calendar."""

    meeting_id: int
    case_id: int
    organizer: str
    transaction_id: str
    state: LinkState
    starts_at: datetime
    ends_at: datetime
    attendees: tuple[str, ...] = ()
    event_id: str | None = None
    comment: str = ""  # the cancellation message


class EventLinks(Protocol):
    async def get(self, meeting_id: int) -> EventLink | None: ...

    async def for_meetings(self, meeting_ids: Sequence[int]) -> dict[int, EventLink]: ...

    async def by_event(self, organizer: str, event_id: str) -> EventLink | None: ...

    async def save(self, link: EventLink) -> None: ...

    async def pending(self) -> list[EventLink]: ...


class EventWording(Protocol):
    """The texts of calendar events, in the bank's language (the bot fills them)."""

    def subject(self, code: str, kind: MeetingKind, parent_no: int | None) -> str: ...

    def body(self, code: str) -> str: ...

    def cancel_comment(self, code: str) -> str: ...


ClosedDays = Callable[[date, date], frozenset[date]]
"""The days no meeting is booked between two dates (inclusive): public holidays."""


@dataclass(frozen=True)
class MeetingChanged:
    """A meeting was moved or cancelled outside Sopu (in Outlook); the pair hears of it."""

    case_id: int
    code: str
    meeting_id: int
    kind: MeetingKind
    parent_no: int | None
    how: str  # "moved" or "cancelled"
    starts_at: datetime
    ends_at: datetime
    mediator_ids: tuple[int, ...]


class MeetingNotifier(Protocol):
    async def meeting_changed(self, change: MeetingChanged) -> None: ...


@dataclass(frozen=True)
class UnrecordedMeeting:
    """A booked meeting whose time has passed and that nobody has recorded yet."""

    meeting_id: int
    case_id: int
    code: str
    kind: MeetingKind
    parent_no: int | None
    starts_at: datetime
    ends_at: datetime
    mediator_ids: tuple[int, ...]


class MeetingFinder(Protocol):
    async def ended_unrecorded(self, now: datetime) -> list[UnrecordedMeeting]: ...


# -- views --------------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class MeetingResult:
    meeting: MeetingView
    changed: bool
    calendar_error: errors.DomainError | None = None  # saved in Sopu; the calendar lags
    meetings: tuple[MeetingView, ...] = ()


def _views(case: Case, links: dict[int, EventLink], mp: MeetingPolicy) -> tuple[MeetingView, ...]:
    return tuple(
        _view(case, m, links.get(m.id) if m.id is not None else None, mp)
        for m in sorted(case.meetings, key=lambda m: m.starts_at)
    )


def _view(case: Case, m: Meeting, link: EventLink | None, mp: MeetingPolicy) -> MeetingView:
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


# -- helpers ------------------------------------------------------------------------------------


async def _case(uow: UnitOfWork, case_id: int, *, for_update: bool = False) -> Case:
    case = await uow.cases.get(case_id, for_update=for_update)
    if case is None:
        raise errors.CaseNotFound(case_id)
    return case


def _check_access(me: Mediator, case: Case) -> None:
    assert me.id is not None
    if case.seat_of(me.id) is None and not me.is_coordinator:
        raise MeetingsPairOnly()


def _meeting(case: Case, meeting_id: int) -> Meeting:
    found = next((m for m in case.meetings if m.id == meeting_id), None)
    if found is None:
        raise MeetingNotFound(meeting_id)
    return found


def _live(case: Case) -> list[Meeting]:
    return [m for m in case.meetings if m.status is not MeetingStatus.CANCELLED]


def next_meeting(case: Case) -> tuple[MeetingKind, int | None]:
    """What the package needs next: each parent's individual meeting, then joint meetings;
    the follow-up once the case is in follow-up."""
    live = _live(case)
    for parent in (1, 2):
        if not any(m.kind is MeetingKind.INDIVIDUAL and m.parent_no == parent for m in live):
            return MeetingKind.INDIVIDUAL, parent
    if case.status is CaseStatus.FOLLOW_UP:
        return MeetingKind.FOLLOW_UP, None
    return MeetingKind.JOINT, None


def _check_kind(kind: MeetingKind, parent_no: int | None) -> None:
    if kind is MeetingKind.INDIVIDUAL and parent_no not in (1, 2):
        raise errors.InvalidInput("parent_no", "unknown choice")
    if kind is not MeetingKind.INDIVIDUAL and parent_no is not None:
        raise errors.InvalidInput("parent_no", "unknown choice")


async def _mailboxes(uow: UnitOfWork, case: Case, me: Mediator) -> tuple[str, list[str]]:
    """The organiser's mailbox (the clicker if they hold a seat) and the pair's mailboxes."""
    holders = await uow.mediators.by_ids(case.holder_ids())
    pair = [holders[s.holder_id] for s in case.seats if s.holder_id in holders]
    if len(pair) < len(case.seats):
        raise errors.IllegalTransition("book a meeting for", case.status.value)
    organizer = me if me.id is not None and case.seat_of(me.id) is not None else pair[0]
    return organizer.email.lower(), [p.email.lower() for p in pair]


def _window_start(case: Case, kind: MeetingKind, now: datetime, mp: MeetingPolicy) -> datetime:
    earliest = now + timedelta(hours=mp.notice_hours)
    if kind is MeetingKind.FOLLOW_UP:
        others = [m.ends_at for m in _live(case) if m.kind is not MeetingKind.FOLLOW_UP]
        if others:
            earliest = max(earliest, max(others) + timedelta(weeks=mp.follow_up_weeks))
    return earliest


def _blocked(case: Case, kind: MeetingKind) -> errors.DomainError | None:
    try:
        case.check_can_book(kind)
    except errors.DomainError as exc:
        return exc
    return None


def transaction_id(case: Case, meeting: Meeting) -> str:
    """The stable key Graph uses to drop a duplicate create of the same meeting."""
    return f"sopu-{case.code}-m{meeting.id}"


# -- proposing ----------------------------------------------------------------------------------


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
        me = await actor(uow, cmd.actor)
        case = await _case(uow, cmd.case_id)
        _check_access(me, case)
        if not case.status.active or case.status is CaseStatus.OPEN:
            raise errors.IllegalTransition("book a meeting for", case.status.value)
        _, mailboxes = await _mailboxes(uow, case, me)
    moving: Meeting | None = None
    if cmd.meeting_id is not None:
        moving = _meeting(case, cmd.meeting_id)
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
        _check_kind(kind, parent_no)
        minutes = mp.minutes(kind)
        blocked = _blocked(case, kind)
    assert case.id is not None
    stored = await links.for_meetings([m.id for m in case.meetings if m.id is not None])
    views = _views(case, stored, mp)
    slots: tuple[Slot, ...] = ()
    if blocked is None and cmd.search:
        start = _window_start(case, kind, now, mp)
        end = start + timedelta(days=mp.search_days)
        schedules = await calendar.schedules(mailboxes, start, end)
        if moving is not None:
            schedules = [_without(s, moving) for s in schedules]
        zone = policy.timezone
        first, last = policy.local_date(start), policy.local_date(end)
        request = SlotRequest(
            start=start,
            end=end,
            minutes=minutes,
            zone=zone,
            preferred=case.intake.preferred_times,
            closed_days=closed_days(first, last)
            | weekday_dates(case.intake.excluded_days, first, last),
            default_hours=mp.working_hours,
            limit=mp.slots_shown,
        )
        slots = tuple(find_slots(schedules, request))
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


def _without(schedule: Schedule, meeting: Meeting) -> Schedule:
    """A schedule without the meeting being moved (its own time is free for it)."""
    blocks = tuple(
        b
        for b in schedule.blocks
        if not (b.start == meeting.starts_at and b.end == meeting.ends_at)
    )
    return Schedule(schedule.mailbox, blocks, schedule.working_hours)


async def _check_slot(
    calendar: Calendar,
    mailboxes: Sequence[str],
    start: datetime,
    end: datetime,
    now: datetime,
    policy: BankPolicy,
    closed_days: ClosedDays,
    moving: Meeting | None = None,
) -> None:
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
    if not is_free(schedules, start, end):
        raise SlotTaken()


# -- booking -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BookMeeting:
    actor: str
    case_id: int
    kind: MeetingKind
    start: datetime
    parent_no: int | None = None


@dataclass(frozen=True)
class CalendarDeps:
    """What the meeting use cases need besides the unit of work."""

    calendar: Calendar
    links: EventLinks
    notifier: Notifier
    clock: Clock
    policy: BankPolicy
    meetings: MeetingPolicy
    wording: EventWording
    closed_days: ClosedDays


async def book_meeting(cmd: BookMeeting, uow: UnitOfWork, d: CalendarDeps) -> MeetingResult:
    """Book one meeting of the package at a proposed time, into the organiser's calendar.

    The same booking twice (a double click) changes nothing the second time. The first
    meeting booked starts the case; booking the follow-up moves it to follow-up.
    """
    _check_kind(cmd.kind, cmd.parent_no)
    minutes = d.meetings.minutes(cmd.kind)
    end = cmd.start + timedelta(minutes=minutes)
    now = d.clock.now()
    async with uow:
        me = await actor(uow, cmd.actor)
        case = await _case(uow, cmd.case_id)
        _check_access(me, case)
        existing = _same_booking(case, cmd)
        if existing is None:
            case.check_can_book(cmd.kind)
            organizer, mailboxes = await _mailboxes(uow, case, me)
    if existing is not None:
        return await _resume(case, existing, uow, d, changed=False)
    await _check_slot(d.calendar, mailboxes, cmd.start, end, now, d.policy, d.closed_days)

    for attempt in range(5):
        async with uow:
            me = await actor(uow, cmd.actor)
            case = await _case(uow, cmd.case_id, for_update=True)
            assert me.id is not None and case.id is not None
            existing = _same_booking(case, cmd)
            if existing is not None:
                break
            case.check_can_book(cmd.kind)
            meeting = Meeting(cmd.kind, cmd.start, end, parent_no=cmd.parent_no)
            case.meetings.append(meeting)
            started = case.status is CaseStatus.PAIRED
            if started:
                case.start()
            if cmd.kind is MeetingKind.FOLLOW_UP and case.status is CaseStatus.IN_PROGRESS:
                case.begin_follow_up()
            try:
                await uow.cases.save(case)
            except errors.ConcurrentChange:
                if attempt == 4:
                    raise
                continue
            assert meeting.id is not None
            detail = {"meeting_id": meeting.id, "kind": cmd.kind.value, "start": _iso(cmd.start)}
            await uow.journal.case_event(
                CaseEvent(case.id, CaseEventKind.MEETING_BOOKED, me.id, now, detail)
            )
            if started:
                await uow.journal.case_event(CaseEvent(case.id, CaseEventKind.STARTED, me.id, now))
            await uow.commit()
        # Saved with its case; now the calendar's part, outside the unit of work.
        assert case.id is not None and meeting.id is not None
        link = EventLink(
            meeting_id=meeting.id,
            case_id=case.id,
            organizer=organizer,
            transaction_id=transaction_id(case, meeting),
            state=LinkState.CREATE,
            starts_at=meeting.starts_at,
            ends_at=meeting.ends_at,
            attendees=tuple(m for m in mailboxes if m != organizer),
        )
        await d.links.save(link)
        await d.notifier.notify(CaseChanged(case.id))
        return await _resume(case, meeting, uow, d, changed=True)
    assert existing is not None
    return await _resume(case, existing, uow, d, changed=False)


def _same_booking(case: Case, cmd: BookMeeting) -> Meeting | None:
    return next(
        (
            m
            for m in _live(case)
            if m.kind is cmd.kind and m.parent_no == cmd.parent_no and m.starts_at == cmd.start
        ),
        None,
    )


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


async def _resume(
    case: Case, meeting: Meeting, uow: UnitOfWork, d: CalendarDeps, *, changed: bool
) -> MeetingResult:
    """Push the meeting's pending calendar change, if any, and describe where it stands."""
    assert meeting.id is not None
    link = await d.links.get(meeting.id)
    problem: errors.DomainError | None = None
    if link is not None and link.state.pending:
        try:
            await push(link, case, meeting, d)
        except (CalendarUnavailable, CalendarRefused) as exc:
            problem = exc
    stored = await d.links.for_meetings([m.id for m in case.meetings if m.id is not None])
    views = _views(case, stored, d.meetings)
    view = next(v for v in views if v.meeting_id == meeting.id)
    return MeetingResult(view, changed, problem, views)


@dataclass(frozen=True)
class RetryMeeting:
    actor: str
    meeting_id: int
    case_id: int


async def retry_meeting(cmd: RetryMeeting, uow: UnitOfWork, d: CalendarDeps) -> MeetingResult:
    """Push a meeting's change that the calendar did not confirm (the card's retry button)."""
    async with uow:
        me = await actor(uow, cmd.actor)
        case = await _case(uow, cmd.case_id)
        _check_access(me, case)
        meeting = _meeting(case, cmd.meeting_id)
    link = await d.links.get(cmd.meeting_id)
    result = await _resume(case, meeting, uow, d, changed=False)
    if result.calendar_error is not None:
        raise result.calendar_error
    return replace(result, changed=link is not None and link.state.pending)


async def push(link: EventLink, case: Case, meeting: Meeting, d: CalendarDeps) -> None:
    """Carry a pending change of a meeting over to its organiser's calendar."""
    draft = EventDraft(
        subject=d.wording.subject(case.code, meeting.kind, meeting.parent_no),
        body=d.wording.body(case.code),
        start=link.starts_at,
        end=link.ends_at,
        attendees=link.attendees,
        transaction_id=link.transaction_id,
    )
    if link.state is LinkState.CREATE or (link.state is LinkState.UPDATE and not link.event_id):
        link.event_id = await d.calendar.create_event(link.organizer, draft)
        link.state = LinkState.SYNCED
    elif link.state is LinkState.UPDATE:
        assert link.event_id is not None
        await d.calendar.update_event(link.organizer, link.event_id, draft)
        link.state = LinkState.SYNCED
    elif link.state is LinkState.CANCEL:
        if link.event_id:
            comment = link.comment or d.wording.cancel_comment(case.code)
            await d.calendar.cancel_event(link.organizer, link.event_id, comment)
        link.state = LinkState.CANCELLED
    await d.links.save(link)


async def push_pending(uow: UnitOfWork, d: CalendarDeps) -> int:
    """Push every calendar change that did not get through; returns how many went through.

    For the scheduler: a booking saved while Graph was down reaches the calendar later.
    """
    done = 0
    for link in await d.links.pending():
        async with uow:
            case = await uow.cases.get(link.case_id)
        if case is None:
            continue
        meeting = next((m for m in case.meetings if m.id == link.meeting_id), None)
        if meeting is None:
            continue
        try:
            await push(link, case, meeting, d)
        except (CalendarUnavailable, CalendarRefused):
            continue
        done += 1
    return done


# -- moving and cancelling ---------------------------------------------------------------------


@dataclass(frozen=True)
class MoveMeeting:
    actor: str
    meeting_id: int
    case_id: int
    start: datetime


async def move_meeting(cmd: MoveMeeting, uow: UnitOfWork, d: CalendarDeps) -> MeetingResult:
    """Re-book a meeting at another time: the calendar event is patched, not duplicated."""
    now = d.clock.now()
    async with uow:
        me = await actor(uow, cmd.actor)
        case = await _case(uow, cmd.case_id)
        _check_access(me, case)
        meeting = _meeting(case, cmd.meeting_id)
        _, mailboxes = await _mailboxes(uow, case, me)
    if meeting.starts_at == cmd.start and meeting.status is MeetingStatus.BOOKED:
        return await _resume(case, meeting, uow, d, changed=False)
    if meeting.status is not MeetingStatus.BOOKED:
        raise MeetingClosed(meeting.status.value)
    length = meeting.ends_at - meeting.starts_at
    await _check_slot(
        d.calendar,
        mailboxes,
        cmd.start,
        cmd.start + length,
        now,
        d.policy,
        d.closed_days,
        moving=meeting,
    )

    def change(case: Case, meeting: Meeting) -> dict[str, object] | None:
        if meeting.starts_at == cmd.start:
            return None
        if meeting.status is not MeetingStatus.BOOKED:
            raise MeetingClosed(meeting.status.value)
        before = meeting.starts_at
        meeting.starts_at, meeting.ends_at = cmd.start, cmd.start + length
        return {"from": _iso(before), "to": _iso(cmd.start)}

    return await _change_meeting(
        cmd.actor,
        cmd.case_id,
        cmd.meeting_id,
        CaseEventKind.MEETING_MOVED,
        change,
        uow,
        d,
        state=LinkState.UPDATE,
    )


@dataclass(frozen=True)
class CancelMeeting:
    actor: str
    meeting_id: int
    case_id: int
    message: str = ""


async def cancel_meeting(cmd: CancelMeeting, uow: UnitOfWork, d: CalendarDeps) -> MeetingResult:
    """Cancel a booked meeting; the calendar event is cancelled with a message to attendees."""

    def change(case: Case, meeting: Meeting) -> dict[str, object] | None:
        if meeting.status is MeetingStatus.CANCELLED:
            return None
        if meeting.status is not MeetingStatus.BOOKED:
            raise MeetingClosed(meeting.status.value)
        meeting.status = MeetingStatus.CANCELLED
        return {"kind": meeting.kind.value}

    return await _change_meeting(
        cmd.actor,
        cmd.case_id,
        cmd.meeting_id,
        CaseEventKind.MEETING_CANCELLED,
        change,
        uow,
        d,
        state=LinkState.CANCEL,
        comment=cmd.message,
    )


async def _change_meeting(
    actor_aad: str,
    case_id: int,
    meeting_id: int,
    kind: CaseEventKind,
    change: Callable[[Case, Meeting], dict[str, object] | None],
    uow: UnitOfWork,
    d: CalendarDeps,
    *,
    state: LinkState,
    comment: str = "",
) -> MeetingResult:
    for attempt in range(5):
        now = d.clock.now()
        async with uow:
            me = await actor(uow, actor_aad)
            case = await _case(uow, case_id, for_update=True)
            _check_access(me, case)
            assert me.id is not None and case.id is not None
            meeting = _meeting(case, meeting_id)
            detail = change(case, meeting)
            if detail is None:
                break
            try:
                await uow.cases.save(case)
            except errors.ConcurrentChange:
                if attempt == 4:
                    raise
                continue
            await uow.journal.case_event(
                CaseEvent(case.id, kind, me.id, now, {"meeting_id": meeting_id, **detail})
            )
            await uow.commit()
        link = await d.links.get(meeting_id)
        if link is not None:
            link.starts_at, link.ends_at = meeting.starts_at, meeting.ends_at
            if state is LinkState.CANCEL and not link.event_id and link.state is LinkState.CREATE:
                link.state = LinkState.CANCELLED  # it never reached a calendar
            else:
                link.state = state
            link.comment = comment
            await d.links.save(link)
        return await _resume(case, meeting, uow, d, changed=True)
    return await _resume(case, meeting, uow, d, changed=False)


# -- recording ------------------------------------------------------------------------------------


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
            case = await _case(uow, cmd.case_id, for_update=True)
            _check_access(me, case)
            assert me.id is not None and case.id is not None
            meeting = _meeting(case, cmd.meeting_id)
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
        views = _views(case, stored, mp)
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
        case = await _case(uow, case_id)
        _check_access(me, case)
        meeting = _meeting(case, meeting_id)
    return _view(case, meeting, await links.get(meeting_id), mp)


async def meetings_to_record(finder: MeetingFinder, clock: Clock) -> list[UnrecordedMeeting]:
    """Booked meetings that have ended and are not recorded: the scheduler asks the pair."""
    return await finder.ended_unrecorded(clock.now())


# -- changes made in the calendar ------------------------------------------------------------


@dataclass(frozen=True)
class EventSeen:
    """An event as a calendar's change feed reports it."""

    organizer: str
    event_id: str
    start: datetime | None = None
    end: datetime | None = None
    cancelled: bool = False
    removed: bool = False


async def apply_calendar_change(
    seen: EventSeen,
    uow: UnitOfWork,
    links: EventLinks,
    notifier: MeetingNotifier,
    case_notifier: Notifier,
    clock: Clock,
) -> MeetingChanged | None:
    """A meeting moved or deleted in Outlook: the case follows and the pair is told.

    Sopu's own changes come back through the same feed and change nothing here.
    """
    link = await links.by_event(seen.organizer.lower(), seen.event_id)
    if link is None or link.state is not LinkState.SYNCED:
        return None  # not Sopu's event, or Sopu's own change is still on its way
    for attempt in range(5):
        now = clock.now()
        async with uow:
            case = await uow.cases.get(link.case_id, for_update=True)
            if case is None or case.id is None:
                return None
            meeting = next((m for m in case.meetings if m.id == link.meeting_id), None)
            if meeting is None or meeting.status is not MeetingStatus.BOOKED:
                return None
            if seen.removed or seen.cancelled:
                meeting.status = MeetingStatus.CANCELLED
                how, kind = "cancelled", CaseEventKind.MEETING_CANCELLED
                detail: dict[str, object] = {"meeting_id": meeting.id, "source": "calendar"}
            elif (
                seen.start is not None
                and seen.end is not None
                and (seen.start != meeting.starts_at or seen.end != meeting.ends_at)
            ):
                detail = {
                    "meeting_id": meeting.id,
                    "from": _iso(meeting.starts_at),
                    "to": _iso(seen.start),
                    "source": "calendar",
                }
                meeting.starts_at, meeting.ends_at = seen.start, seen.end
                how, kind = "moved", CaseEventKind.MEETING_MOVED
            else:
                return None
            try:
                await uow.cases.save(case)
            except errors.ConcurrentChange:
                if attempt == 4:
                    raise
                continue
            await uow.journal.case_event(CaseEvent(case.id, kind, None, now, detail))
            await uow.commit()
        link.starts_at, link.ends_at = meeting.starts_at, meeting.ends_at
        if how == "cancelled":
            link.state = LinkState.CANCELLED
        await links.save(link)
        assert meeting.id is not None
        change = MeetingChanged(
            case.id,
            case.code,
            meeting.id,
            meeting.kind,
            meeting.parent_no,
            how,
            meeting.starts_at,
            meeting.ends_at,
            tuple(case.holder_ids()),
        )
        await notifier.meeting_changed(change)
        await case_notifier.notify(CaseChanged(case.id))
        return change
    return None
