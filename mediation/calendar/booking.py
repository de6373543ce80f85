"""Booking, moving, cancelling and retrying a case's meetings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from mediation import errors, notices
from mediation.calendar.access import check_access, find_meeting, load_case, pair_mailboxes
from mediation.calendar.errors import CalendarRefused, CalendarUnavailable, MeetingClosed
from mediation.calendar.neutral import check_booker_may_book, check_booker_may_repeat
from mediation.calendar.ports import (
    CalendarDeps,
    EventLink,
    LinkState,
    MeetingChanged,
    MeetingNotifier,
)
from mediation.calendar.proposing import check_slot
from mediation.calendar.rules import check_kind, iso_minutes, live_meetings, transaction_id
from mediation.calendar.sync import family_change, push, tell_family, tell_pair
from mediation.calendar.views import MeetingResult, package_views
from mediation.family_mail import BOOKED, FamilyMessage
from mediation.journal import CaseEvent, CaseEventKind
from mediation.model import Case, CaseStatus, Mediator, Meeting, MeetingKind, MeetingStatus
from mediation.ports import CaseChanged, UnitOfWork
from mediation.rules import meetings_to_cancel
from mediation.services import actor


@dataclass(frozen=True)
class BookMeeting:
    actor: str
    case_id: int
    kind: MeetingKind
    start: datetime
    parent_no: int | None = None


async def book_meeting(cmd: BookMeeting, uow: UnitOfWork, d: CalendarDeps) -> MeetingResult:
    """Book one meeting of the package at a proposed time, into the organiser's calendar.

    The same booking twice (a double click) changes nothing the second time. The first
    meeting booked starts the case; booking the follow-up moves it to follow-up.
    """
    check_kind(cmd.kind, cmd.parent_no)
    minutes = d.meetings.minutes(cmd.kind)
    end = cmd.start + timedelta(minutes=minutes)
    now = d.clock.now()
    async with uow:
        me = await actor(uow, cmd.actor, booker=True)
        case = await load_case(uow, cmd.case_id)
        _check_booking_access(me, case, cmd)
        existing = _same_booking(case, cmd)
        if existing is None:
            case.check_can_book(cmd.kind)
            organizer, mailboxes = await pair_mailboxes(uow, case, me)
    if existing is not None:
        return await _resume(case, existing, uow, d, changed=False)
    await check_slot(
        d.calendar,
        mailboxes,
        cmd.start,
        end,
        now,
        d.policy,
        d.closed_days,
        d.meetings.working_hours,
    )

    for attempt in range(5):
        async with uow:
            me = await actor(uow, cmd.actor, booker=True)
            case = await load_case(uow, cmd.case_id, for_update=True)
            assert me.id is not None and case.id is not None
            if me.is_booker:
                _check_booking_access(me, case, cmd)
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
            detail = {
                "meeting_id": meeting.id,
                "kind": cmd.kind.value,
                "start": iso_minutes(cmd.start),
            }
            await uow.journal.case_event(
                CaseEvent(case.id, CaseEventKind.MEETING_BOOKED, me.id, now, detail)
            )
            if started:
                await uow.journal.case_event(CaseEvent(case.id, CaseEventKind.STARTED, me.id, now))
            await uow.outbox.add([notices.card_changed(case.id, case.version, now)], now)
            if me.is_booker:
                booked = booked_change(case, meeting, "booked_by_booker")
                await tell_pair(uow, booked, "booked", now)
            await tell_family(uow, case, meeting, FamilyMessage.CONFIRMATION, BOOKED, now)
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


def _check_booking_access(me: Mediator, case: Case, cmd: BookMeeting) -> None:
    """The pair and the coordinators book any meeting; a booker a parent's first meeting,
    or the same booking again while the case is still the bank's to book."""
    if not me.is_booker:
        check_access(me, case)
    elif _same_booking(case, cmd) is None:
        check_booker_may_book(case, cmd.kind, cmd.parent_no)
    else:
        check_booker_may_repeat(case, cmd.kind, cmd.parent_no)


def booked_change(case: Case, meeting: Meeting, how: str) -> MeetingChanged:
    """A meeting booked by someone outside the pair, as the pair's note tells it."""
    assert case.id is not None and meeting.id is not None
    return MeetingChanged(
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


def _same_booking(case: Case, cmd: BookMeeting) -> Meeting | None:
    return next(
        (
            m
            for m in live_meetings(case)
            if m.kind is cmd.kind and m.parent_no == cmd.parent_no and m.starts_at == cmd.start
        ),
        None,
    )


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
    views = package_views(case, stored, d.meetings)
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
        case = await load_case(uow, cmd.case_id)
        check_access(me, case)
        meeting = find_meeting(case, cmd.meeting_id)
    link = await d.links.get(cmd.meeting_id)
    result = await _resume(case, meeting, uow, d, changed=False)
    if result.calendar_error is not None:
        raise result.calendar_error
    return replace(result, changed=link is not None and link.state.pending)


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
        case = await load_case(uow, cmd.case_id)
        check_access(me, case)
        meeting = find_meeting(case, cmd.meeting_id)
        _, mailboxes = await pair_mailboxes(uow, case, me)
    if meeting.starts_at == cmd.start and meeting.status is MeetingStatus.BOOKED:
        return await _resume(case, meeting, uow, d, changed=False)
    if meeting.status is not MeetingStatus.BOOKED:
        raise MeetingClosed(meeting.status.value)
    length = meeting.ends_at - meeting.starts_at
    await check_slot(
        d.calendar,
        mailboxes,
        cmd.start,
        cmd.start + length,
        now,
        d.policy,
        d.closed_days,
        d.meetings.working_hours,
        moving=meeting,
    )

    def change(case: Case, meeting: Meeting) -> dict[str, object] | None:
        if meeting.starts_at == cmd.start:
            return None
        if meeting.status is not MeetingStatus.BOOKED:
            raise MeetingClosed(meeting.status.value)
        before = meeting.starts_at
        meeting.starts_at, meeting.ends_at = cmd.start, cmd.start + length
        return {"from": iso_minutes(before), "to": iso_minutes(cmd.start)}

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


async def cancel_meetings_ahead(
    actor_aad: str,
    case_id: int,
    uow: UnitOfWork,
    d: CalendarDeps,
    notifier: MeetingNotifier,
) -> list[MeetingChanged]:
    """After a close or a cancel: the meetings still ahead are cancelled in both calendars,
    and the pair is told of each. A calendar that cannot be reached now is retried later,
    as for any cancelled meeting (the link stays pending)."""
    async with uow:
        case = await load_case(uow, case_id)
    ahead = meetings_to_cancel(case, d.clock.now())
    comment = d.wording.cancel_comment(case.code)
    done: list[MeetingChanged] = []
    for meeting in ahead:
        assert meeting.id is not None and case.id is not None
        cmd = CancelMeeting(actor_aad, meeting.id, case.id, comment)
        result = await cancel_meeting(cmd, uow, d)
        if not result.changed:
            continue
        change = MeetingChanged(
            case.id,
            case.code,
            meeting.id,
            meeting.kind,
            meeting.parent_no,
            "cancelled_with_case",
            meeting.starts_at,
            meeting.ends_at,
            tuple(case.holder_ids()),
        )
        async with uow:
            await tell_pair(uow, change, "with-case", d.clock.now())
            await uow.commit()
        await notifier.meeting_changed(change)
        done.append(change)
    return done


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
            case = await load_case(uow, case_id, for_update=True)
            check_access(me, case)
            assert me.id is not None and case.id is not None
            meeting = find_meeting(case, meeting_id)
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
            await tell_family(uow, case, meeting, *family_change(case, meeting), now)
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
