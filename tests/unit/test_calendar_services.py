"""The meeting use cases with an in-memory bank and calendar: the package's rules and retries."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from mediation import calendar as cal
from mediation import errors
from mediation.model import CaseStatus, Family, MeetingKind, MeetingStatus, Parent, Role
from mediation.policy import BankPolicy
from mediation.ports import CaseChanged
from mediation.slots import BusyBlock, Schedule
from tests.clock import FixedClock
from tests.fakes.memory_uow import MemoryUnitOfWork, RecordingNotifier
from tests.unit.factories import case as make_case
from tests.unit.factories import mediator

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday


class MemoryCalendar:
    def __init__(self) -> None:
        self.events: dict[str, dict[str, object]] = {}
        self.by_tid: dict[str, str] = {}
        self.busy: dict[str, list[BusyBlock]] = {}
        self.down = 0  # how many of the next writes fail
        self.calls: list[str] = []
        self._ids = itertools.count(1)

    async def schedules(
        self, mailboxes: Sequence[str], start: datetime, end: datetime
    ) -> list[Schedule]:
        self.calls.append("schedules")
        result = []
        for m in mailboxes:
            blocks = list(self.busy.get(m, []))
            for e in self.events.values():
                if not e["cancelled"] and (e["organizer"] == m or m in e["attendees"]):  # type: ignore[operator]
                    blocks.append(BusyBlock(e["start"], e["end"]))  # type: ignore[arg-type]
            result.append(Schedule(m, tuple(blocks)))
        return result

    def _maybe_down(self) -> None:
        if self.down:
            self.down -= 1
            raise cal.CalendarUnavailable("503")

    async def create_event(self, organizer: str, draft: cal.EventDraft) -> str:
        self.calls.append("create")
        self._maybe_down()
        if draft.transaction_id in self.by_tid:
            return self.by_tid[draft.transaction_id]
        event_id = f"ev{next(self._ids)}"
        self.by_tid[draft.transaction_id] = event_id
        self.events[event_id] = {
            "organizer": organizer,
            "subject": draft.subject,
            "start": draft.start,
            "end": draft.end,
            "attendees": draft.attendees,
            "cancelled": False,
        }
        return event_id

    async def update_event(self, organizer: str, event_id: str, draft: cal.EventDraft) -> None:
        self.calls.append("update")
        self._maybe_down()
        self.events[event_id].update(start=draft.start, end=draft.end)

    async def cancel_event(self, organizer: str, event_id: str, comment: str) -> None:
        self.calls.append("cancel")
        self._maybe_down()
        self.events[event_id].update(cancelled=True, comment=comment)


class MemoryLinks:
    def __init__(self) -> None:
        self.links: dict[int, cal.EventLink] = {}

    async def get(self, meeting_id: int) -> cal.EventLink | None:
        link = self.links.get(meeting_id)
        return None if link is None else cal.EventLink(**vars(link))

    async def for_meetings(self, meeting_ids: Sequence[int]) -> dict[int, cal.EventLink]:
        return {i: cal.EventLink(**vars(self.links[i])) for i in meeting_ids if i in self.links}

    async def by_event(self, organizer: str, event_id: str) -> cal.EventLink | None:
        for link in self.links.values():
            if link.organizer == organizer and link.event_id == event_id:
                return cal.EventLink(**vars(link))
        return None

    async def save(self, link: cal.EventLink) -> None:
        self.links[link.meeting_id] = cal.EventLink(**vars(link))

    async def pending(self) -> list[cal.EventLink]:
        return [cal.EventLink(**vars(v)) for v in self.links.values() if v.state.pending]


class Wording:
    def subject(self, code: str, kind: MeetingKind, parent_no: int | None) -> str:
        return f"Mediation {code}: {kind.value} {parent_no or ''}".strip()

    def body(self, code: str) -> str:
        return f"Booked in Sopu for {code}."

    def cancel_comment(self, code: str) -> str:
        return f"{code} cancelled."


class Told:
    def __init__(self) -> None:
        self.changes: list[cal.MeetingChanged] = []

    async def meeting_changed(self, change: cal.MeetingChanged) -> None:
        self.changes.append(change)


class Bank:
    def __init__(self, safety: bool = False) -> None:
        self.uow = MemoryUnitOfWork()
        self.clock = FixedClock(NOW)
        self.calendar = MemoryCalendar()
        self.links = MemoryLinks()
        self.notifier = RecordingNotifier()
        self.safety = safety
        self.deps = cal.CalendarDeps(
            calendar=self.calendar,
            links=self.links,
            notifier=self.notifier,
            clock=self.clock,
            policy=BankPolicy(),
            meetings=cal.MeetingPolicy(),
            wording=Wording(),
            closed_days=lambda a, b: frozenset(),
        )

    async def setup(self) -> int:
        async with self.uow:
            self.olli = await self.uow.mediators.add(mediator("Olli Kokenut", id=None))
            self.outi = await self.uow.mediators.add(mediator("Outi Osaava", id=None))
            self.coord = await self.uow.mediators.add(
                mediator("Kaisa Koordinaattori", role=Role.COORDINATOR)
            )
            self.sven = await self.uow.mediators.add(mediator("Sven Svensson"))
            case = make_case(safety=self.safety)
            case.id = None
            assert self.olli.id and self.outi.id
            case.take_seat(1, self.olli.id, NOW)
            case.take_seat(2, self.outi.id, NOW)
            family = Family((Parent("Aino Virtanen", "040", "a@x.fi"),))
            stored = await self.uow.cases.add(case, family)
            await self.uow.commit()
        assert stored.id is not None
        self.case_id = stored.id
        return stored.id

    async def case(self):  # type: ignore[no-untyped-def]
        async with self.uow:
            return await self.uow.cases.get(self.case_id)

    async def propose(self, who: str = "olli", **kw: object) -> cal.Proposal:
        return await cal.propose_times(
            cal.ProposeTimes(self.aad(who), self.case_id, **kw),  # type: ignore[arg-type]
            self.uow,
            self.calendar,
            self.links,
            self.clock,
            self.deps.policy,
            self.deps.meetings,
            self.deps.closed_days,
        )

    def aad(self, who: str) -> str:
        return {"olli": self.olli, "outi": self.outi, "coord": self.coord, "sven": self.sven}[
            who
        ].aad_object_id

    async def book(self, who: str = "olli", **kw: object) -> cal.MeetingResult:
        proposal = await self.propose(who, **kw)
        assert proposal.slots, proposal
        cmd = cal.BookMeeting(
            self.aad(who), self.case_id, proposal.kind, proposal.slots[0].start, proposal.parent_no
        )
        return await cal.book_meeting(cmd, self.uow, self.deps)

    async def record(self, meeting_id: int, held: bool = True, minutes: int | None = 60) -> None:
        await cal.record_meeting(
            cal.RecordMeeting(self.aad("olli"), meeting_id, self.case_id, held, minutes),
            self.uow,
            self.links,
            self.clock,
            self.deps.meetings,
        )


@pytest.fixture
async def bank() -> Bank:
    b = Bank()
    await b.setup()
    return b


async def test_the_package_goes_parent_one_parent_two_then_joint(bank: Bank) -> None:
    first = await bank.propose()
    assert (first.kind, first.parent_no, first.minutes) == (MeetingKind.INDIVIDUAL, 1, 60)
    result = await bank.book()
    assert result.changed and result.calendar_error is None
    case = await bank.case()
    assert case.status is CaseStatus.IN_PROGRESS
    assert CaseChanged(bank.case_id) in bank.notifier.sent
    second = await bank.propose()
    assert (second.kind, second.parent_no) == (MeetingKind.INDIVIDUAL, 2)
    # The first booking is busy time for both now.
    assert result.meeting.starts_at not in [s.start for s in second.slots]
    await bank.book()
    joint = await bank.propose()
    assert joint.kind is MeetingKind.JOINT and joint.slots == ()
    assert isinstance(joint.blocked, errors.MeetingsOutOfOrder)


async def test_a_booking_is_one_event_with_a_stable_transaction_id(bank: Bank) -> None:
    proposal = await bank.propose()
    cmd = cal.BookMeeting(
        bank.aad("olli"), bank.case_id, MeetingKind.INDIVIDUAL, proposal.slots[0].start, 1
    )
    result = await cal.book_meeting(cmd, bank.uow, bank.deps)
    again = await cal.book_meeting(cmd, bank.uow, bank.deps)  # clicked twice
    assert not again.changed and again.meeting.meeting_id == result.meeting.meeting_id
    assert bank.calendar.calls.count("create") == 1
    (event,) = bank.calendar.events.values()
    assert event["organizer"] == "olli@example.org"
    assert event["attendees"] == ("outi@example.org",)
    assert "Virtanen" not in str(event["subject"])
    link = bank.links.links[result.meeting.meeting_id]
    assert link.state is cal.LinkState.SYNCED
    assert link.transaction_id == f"sopu-2026-001-m{result.meeting.meeting_id}"


async def test_a_calendar_outage_keeps_the_booking_and_pushes_it_later(bank: Bank) -> None:
    bank.calendar.down = 1
    result = await bank.book()
    assert result.changed and isinstance(result.calendar_error, cal.CalendarUnavailable)
    assert result.meeting.calendar_pending
    assert bank.calendar.events == {}
    assert await cal.push_pending(bank.uow, bank.deps) == 1
    assert len(bank.calendar.events) == 1
    assert await cal.push_pending(bank.uow, bank.deps) == 0
    assert bank.links.links[result.meeting.meeting_id].state is cal.LinkState.SYNCED


async def test_joint_meetings_wait_for_held_individual_meetings_and_a_cleared_concern() -> None:
    bank = Bank(safety=True)
    await bank.setup()
    m1 = (await bank.book()).meeting
    m2 = (await bank.book()).meeting
    bank.clock.set(max(m1.ends_at, m2.ends_at) + timedelta(minutes=1))
    await bank.record(m1.meeting_id)
    await bank.record(m2.meeting_id)
    blocked = await bank.propose()
    assert isinstance(blocked.blocked, errors.SafetyConcernOpen)
    with pytest.raises(errors.SafetyConcernOpen):
        await cal.book_meeting(
            cal.BookMeeting(
                bank.aad("olli"), bank.case_id, MeetingKind.JOINT, NOW + timedelta(days=9)
            ),
            bank.uow,
            bank.deps,
        )
    async with bank.uow:
        case = await bank.uow.cases.get(bank.case_id)
        assert case is not None
        case.clear_safety_concern()
        await bank.uow.cases.save(case)
        await bank.uow.commit()
    joint = await bank.propose()
    assert joint.blocked is None and joint.minutes == 90 and joint.slots


async def test_the_follow_up_is_about_three_months_later_and_starts_the_follow_up(
    bank: Bank,
) -> None:
    m1 = (await bank.book()).meeting
    proposal = await bank.propose(kind=MeetingKind.FOLLOW_UP)
    earliest = m1.ends_at + timedelta(weeks=13)
    assert all(s.start >= earliest for s in proposal.slots)
    await bank.book(kind=MeetingKind.FOLLOW_UP)
    assert (await bank.case()).status is CaseStatus.FOLLOW_UP


async def test_recording_a_meeting(bank: Bank) -> None:
    m = (await bank.book()).meeting
    with pytest.raises(cal.MeetingNotYet):
        await bank.record(m.meeting_id)
    bank.clock.set(m.ends_at)
    with pytest.raises(cal.MinutesOutOfRange):
        await bank.record(m.meeting_id, minutes=0)
    with pytest.raises(errors.InvalidInput):
        await bank.record(m.meeting_id, minutes=None)
    await bank.record(m.meeting_id, held=False, minutes=45)
    case = await bank.case()
    assert (case.meetings[0].status, case.meetings[0].held_minutes) == (
        MeetingStatus.NOT_HELD,
        None,
    )
    await bank.record(m.meeting_id, held=True, minutes=75)  # a correction
    result = await cal.record_meeting(
        cal.RecordMeeting(bank.aad("outi"), m.meeting_id, bank.case_id, True, 75),
        bank.uow,
        bank.links,
        bank.clock,
        bank.deps.meetings,
    )
    assert not result.changed and result.meeting.held_minutes == 75
    with pytest.raises(cal.MeetingsPairOnly):
        await cal.record_meeting(
            cal.RecordMeeting(bank.aad("sven"), m.meeting_id, bank.case_id, True, 75),
            bank.uow,
            bank.links,
            bank.clock,
            bank.deps.meetings,
        )


async def test_moving_patches_and_cancelling_tells_the_attendees(bank: Bank) -> None:
    m = (await bank.book()).meeting
    proposal = await bank.propose(meeting_id=m.meeting_id)
    target = next(s.start for s in proposal.slots if s.start != m.starts_at)
    moved = await cal.move_meeting(
        cal.MoveMeeting(bank.aad("outi"), m.meeting_id, bank.case_id, target), bank.uow, bank.deps
    )
    assert moved.changed and moved.meeting.starts_at == target
    (event,) = bank.calendar.events.values()
    assert event["start"] == target and bank.calendar.calls.count("create") == 1
    cancelled = await cal.cancel_meeting(
        cal.CancelMeeting(bank.aad("olli"), m.meeting_id, bank.case_id, ""), bank.uow, bank.deps
    )
    assert cancelled.meeting.status is MeetingStatus.CANCELLED
    assert event["cancelled"] and event["comment"] == "2026-001 cancelled."
    again = await cal.cancel_meeting(
        cal.CancelMeeting(bank.aad("olli"), m.meeting_id, bank.case_id, ""), bank.uow, bank.deps
    )
    assert not again.changed and bank.calendar.calls.count("cancel") == 1
    with pytest.raises(cal.MeetingClosed):
        await cal.move_meeting(
            cal.MoveMeeting(
                bank.aad("olli"), m.meeting_id, bank.case_id, target + timedelta(days=1)
            ),
            bank.uow,
            bank.deps,
        )


async def test_a_slot_taken_meanwhile_is_refused(bank: Bank) -> None:
    proposal = await bank.propose()
    slot = proposal.slots[0]
    bank.calendar.busy["outi@example.org"] = [BusyBlock(slot.start, slot.end)]
    with pytest.raises(cal.SlotTaken):
        await cal.book_meeting(
            cal.BookMeeting(bank.aad("olli"), bank.case_id, MeetingKind.INDIVIDUAL, slot.start, 1),
            bank.uow,
            bank.deps,
        )
    assert (await bank.case()).meetings == []


async def test_a_time_outside_working_hours_is_refused_as_no_proposal_offers_it(
    bank: Bank,
) -> None:
    slot = (await bank.propose()).slots[0]
    # The same weekday before the hours begin, the Sunday after, and one running past 17.
    early = slot.start.replace(hour=3, minute=0)  # 05:00 or 06:00 in Helsinki
    sunday = early + timedelta(days=6 - early.weekday(), hours=7)
    late = slot.start.astimezone(BankPolicy().zone).replace(hour=16, minute=30)
    for start in (early, sunday, late):
        with pytest.raises(cal.SlotInvalid) as refused:
            await cal.book_meeting(
                cal.BookMeeting(bank.aad("olli"), bank.case_id, MeetingKind.INDIVIDUAL, start, 1),
                bank.uow,
                bank.deps,
            )
        assert refused.value.key == "error.slot_invalid.hours", start
    assert (await bank.case()).meetings == []
    await cal.book_meeting(
        cal.BookMeeting(bank.aad("olli"), bank.case_id, MeetingKind.INDIVIDUAL, slot.start, 1),
        bank.uow,
        bank.deps,
    )


async def test_changes_in_outlook_follow_into_the_case(bank: Bank) -> None:
    m = (await bank.book()).meeting
    link = bank.links.links[m.meeting_id]
    told = Told()
    assert link.event_id is not None

    async def seen(**kw: object) -> cal.MeetingChanged | None:
        return await cal.apply_calendar_change(
            cal.EventSeen("olli@example.org", **kw),  # type: ignore[arg-type]
            bank.uow,
            bank.links,
            told,
            bank.notifier,
            bank.clock,
        )

    # Sopu's own booking coming back through the feed changes nothing.
    assert await seen(event_id=link.event_id, start=m.starts_at, end=m.ends_at) is None
    assert await seen(event_id="someone-elses", start=NOW, end=NOW) is None
    later = m.starts_at + timedelta(days=1)
    change = await seen(event_id=link.event_id, start=later, end=later + timedelta(hours=1))
    assert change is not None and change.how == "moved"
    assert (await bank.case()).meetings[0].starts_at == later
    gone = await seen(event_id=link.event_id, removed=True)
    assert gone is not None and gone.how == "cancelled"
    assert (await bank.case()).meetings[0].status is MeetingStatus.CANCELLED
    assert [c.how for c in told.changes] == ["moved", "cancelled"]
    assert told.changes[0].mediator_ids == (bank.olli.id, bank.outi.id)


async def test_a_meeting_cancelled_before_it_reached_the_calendar(bank: Bank) -> None:
    bank.calendar.down = 1
    m = (await bank.book()).meeting
    await cal.cancel_meeting(
        cal.CancelMeeting(bank.aad("olli"), m.meeting_id, bank.case_id, ""), bank.uow, bank.deps
    )
    assert bank.links.links[m.meeting_id].state is cal.LinkState.CANCELLED
    assert await cal.push_pending(bank.uow, bank.deps) == 0
    assert bank.calendar.events == {}


def test_next_meeting_after_an_agreement_is_the_follow_up() -> None:
    case = make_case()
    case.take_seat(1, 1, NOW)
    case.take_seat(2, 2, NOW)
    assert cal.next_meeting(case) == (MeetingKind.INDIVIDUAL, 1)
    case.start()
    case.begin_follow_up()
    assert cal.next_meeting(case)[0] is MeetingKind.INDIVIDUAL  # still owed
    from mediation.model import Meeting

    case.meetings = [
        Meeting(MeetingKind.INDIVIDUAL, NOW, NOW, parent_no=1, id=1),
        Meeting(MeetingKind.INDIVIDUAL, NOW, NOW, parent_no=2, id=2),
    ]
    assert cal.next_meeting(case) == (MeetingKind.FOLLOW_UP, None)
    assert date(2026, 3, 2) == NOW.date()
