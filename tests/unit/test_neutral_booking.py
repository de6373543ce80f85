"""Neutral booking: a booker books the parents' first meetings and may do nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mediation import calendar as cal
from mediation import errors, services
from mediation.calendar.neutral import (
    check_booker_may_book,
    first_meetings_open,
    waits_for_booker,
)
from mediation.model import CaseStatus, Meeting, MeetingKind, MeetingStatus, Role
from mediation.outbox import MessageKind
from mediation.registry import parse_registry
from mediation.reminders import reachable
from mediation.rules import check_holds_seats
from tests.unit.factories import case as make_case
from tests.unit.factories import mediator
from tests.unit.test_calendar_services import NOW, Bank

HEADER = "aad_object_id,name,email,employer,languages,experienced,role,active\n"


def _paired():  # type: ignore[no-untyped-def]
    case = make_case()
    case.take_seat(1, 11, NOW)
    case.take_seat(2, 12, NOW)
    return case


def _meeting(parent_no: int, status: MeetingStatus = MeetingStatus.BOOKED) -> Meeting:
    start = NOW + timedelta(days=3)
    return Meeting(
        MeetingKind.INDIVIDUAL, start, start + timedelta(hours=1), status, parent_no=parent_no
    )


def test_a_parent_whose_meeting_was_cancelled_waits_again() -> None:
    case = _paired()
    assert first_meetings_open(case) == (1, 2)
    case.meetings.append(_meeting(1))
    case.meetings.append(_meeting(2, MeetingStatus.CANCELLED))
    assert first_meetings_open(case) == (2,)


def test_only_a_complete_pair_with_a_first_meeting_open_waits_for_the_booker() -> None:
    half = make_case()
    half.take_seat(1, 11, NOW)
    assert not waits_for_booker(half)
    case = _paired()
    assert waits_for_booker(case)
    case.meetings += [_meeting(1), _meeting(2, MeetingStatus.HELD)]
    assert not waits_for_booker(case)
    closed = _paired()
    closed.status = CaseStatus.CANCELLED
    assert not waits_for_booker(closed)


def test_a_booker_books_only_an_open_first_individual_meeting() -> None:
    case = _paired()
    case.meetings.append(_meeting(1))
    check_booker_may_book(case, MeetingKind.INDIVIDUAL, 2)
    for kind, parent in ((MeetingKind.INDIVIDUAL, 1), (MeetingKind.JOINT, None)):
        with pytest.raises(errors.BookerFirstMeetingsOnly):
            check_booker_may_book(case, kind, parent)


def test_a_booker_holds_no_seat_and_gets_no_mediators_reminders() -> None:
    booker = mediator("Sanna Sihteeri", role=Role.BOOKER)
    with pytest.raises(errors.BookerHoldsNoSeat):
        check_holds_seats(booker)
    check_holds_seats(mediator("Olli Kokenut"))
    assert not reachable(booker, NOW.date())


def test_the_registry_takes_booker_as_a_role() -> None:
    row = "0f8fad5b-d9cb-469f-a165-70867728950e,Sanna Sihteeri,s@x.fi,Kerava,fi,no,booker,yes\n"
    (parsed,) = parse_registry(HEADER + row)
    assert parsed.role is Role.BOOKER
    with pytest.raises(errors.DomainError, match="mediator, coordinator or booker"):
        parse_registry(HEADER + row.replace("booker", "secretary"))


async def _with_booker(bank: Bank) -> str:
    async with bank.uow:
        booker = await bank.uow.mediators.add(mediator("Sanna Sihteeri", role=Role.BOOKER))
        await bank.uow.commit()
    return booker.aad_object_id


async def _propose(bank: Bank, aad: str, **kw: object) -> cal.Proposal:
    return await cal.propose_times(
        cal.ProposeTimes(aad, bank.case_id, **kw),  # type: ignore[arg-type]
        bank.uow,
        bank.calendar,
        bank.links,
        bank.clock,
        bank.deps.policy,
        bank.deps.meetings,
        bank.deps.closed_days,
    )


async def test_a_booker_books_both_first_meetings_and_the_pair_is_told() -> None:
    bank = Bank()
    await bank.setup()
    booker = await _with_booker(bank)
    assert [c.code for c in await cal.cases_to_book(booker, bank.uow)] == ["2026-001"]

    proposal = await _propose(bank, booker)
    assert proposal.booker and proposal.open_parents == (1, 2)
    assert (proposal.kind, proposal.parent_no) == (MeetingKind.INDIVIDUAL, 1)
    assert proposal.slots
    start = proposal.slots[0].start
    cmd = cal.BookMeeting(booker, bank.case_id, MeetingKind.INDIVIDUAL, start, 1)
    result = await cal.book_meeting(cmd, bank.uow, bank.deps)
    assert result.changed
    assert not (await cal.book_meeting(cmd, bank.uow, bank.deps)).changed  # a double click
    (event,) = bank.calendar.events.values()
    assert event["organizer"] == "olli@example.org"  # the pair's calendar, not the booker's
    told = [k for k in bank.uow.store.outbox if k.kind is MessageKind.MEETING_CHANGED]
    assert {k.recipient for k in told} == {bank.olli.aad_object_id, bank.outi.aad_object_id}

    # The same parent twice, or a joint meeting, is not the booker's to book.
    later = start + timedelta(days=1)
    for kind, parent in ((MeetingKind.INDIVIDUAL, 1), (MeetingKind.JOINT, None)):
        with pytest.raises(errors.BookerFirstMeetingsOnly):
            await cal.book_meeting(
                cal.BookMeeting(booker, bank.case_id, kind, later, parent), bank.uow, bank.deps
            )
    second = await _propose(bank, booker)
    assert (second.parent_no, second.open_parents) == (2, (2,))
    await cal.book_meeting(
        cal.BookMeeting(booker, bank.case_id, MeetingKind.INDIVIDUAL, second.slots[0].start, 2),
        bank.uow,
        bank.deps,
    )
    assert await cal.cases_to_book(booker, bank.uow) == []
    done = await _propose(bank, booker, search=False)
    assert done.open_parents == () and done.slots == () and len(done.meetings) == 2


async def test_a_booker_is_refused_everything_else() -> None:
    bank = Bank()
    await bank.setup()
    booker = await _with_booker(bank)
    result = await bank.book()  # the pair books parent 1 themselves
    meeting_id = result.meeting.meeting_id
    refusals = [
        cal.move_meeting(
            cal.MoveMeeting(booker, meeting_id, bank.case_id, NOW + timedelta(days=9)),
            bank.uow,
            bank.deps,
        ),
        cal.cancel_meeting(
            cal.CancelMeeting(booker, meeting_id, bank.case_id), bank.uow, bank.deps
        ),
        services.view_details(
            services.ViewDetails(booker, bank.case_id), bank.uow, bank.clock, bank.deps.policy
        ),
        services.case_summary(booker, bank.case_id, bank.uow, bank.clock, bank.deps.policy),
        services.my_cases(booker, bank.uow, bank.clock, bank.deps.policy),
        _propose(bank, booker, meeting_id=meeting_id),
    ]
    for attempt in refusals:
        with pytest.raises(errors.BookerNotAllowed):
            await attempt
    with pytest.raises(errors.BookingDeskOnly):
        await cal.cases_to_book(bank.aad("olli"), bank.uow)
    coordinator_sees = await cal.cases_to_book(bank.aad("coord"), bank.uow)
    assert [c.open_parents for c in coordinator_sees] == [(2,)]


async def _set_status(bank: Bank, status: CaseStatus) -> None:
    async with bank.uow:
        case = await bank.uow.cases.get(bank.case_id, for_update=True)
        assert case is not None
        case.status = status
        await bank.uow.cases.save(case)
        await bank.uow.commit()


async def test_a_booker_cannot_read_a_closed_or_cancelled_case_by_its_id() -> None:
    for status in (CaseStatus.CANCELLED, CaseStatus.CLOSED):
        bank = Bank()
        await bank.setup()
        booker = await _with_booker(bank)
        await _set_status(bank, status)
        for search in (True, False):
            with pytest.raises(errors.BookerFirstMeetingsOnly):
                await _propose(bank, booker, search=search)


async def test_a_booker_repeating_a_booking_on_a_case_no_longer_to_book_is_refused() -> None:
    bank = Bank()
    await bank.setup()
    booker = await _with_booker(bank)
    start = (await _propose(bank, booker)).slots[0].start
    cmd = cal.BookMeeting(booker, bank.case_id, MeetingKind.INDIVIDUAL, start, 1)
    await cal.book_meeting(cmd, bank.uow, bank.deps)
    bank.calendar.events.clear()
    await _set_status(bank, CaseStatus.CANCELLED)
    with pytest.raises(errors.BookerFirstMeetingsOnly):
        await cal.book_meeting(cmd, bank.uow, bank.deps)
    assert bank.calendar.events == {}  # nothing pushed to the pair's calendars


async def test_a_booker_cannot_repeat_a_meeting_the_pair_booked_that_is_not_a_first_one() -> None:
    bank = Bank()
    await bank.setup()
    booker = await _with_booker(bank)
    start = NOW + timedelta(days=20)
    async with bank.uow:  # a joint meeting the pair has on the case
        case = await bank.uow.cases.get(bank.case_id, for_update=True)
        assert case is not None
        case.meetings.append(Meeting(MeetingKind.JOINT, start, start + timedelta(hours=2)))
        await bank.uow.cases.save(case)
        await bank.uow.commit()
    cmd = cal.BookMeeting(booker, bank.case_id, MeetingKind.JOINT, start, None)
    with pytest.raises(errors.BookerFirstMeetingsOnly):
        await cal.book_meeting(cmd, bank.uow, bank.deps)
