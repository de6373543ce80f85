"""A fake clock drives a whole year of the bank through every job and the real sender.

Twice a day (09:00 and 18:00, Helsinki) every job runs as the scheduler would run it and
the sender drains the outbox into the fake Bot Connector. Every reminder must arrive once,
on its day; none on weekends and holidays when that is set; none to away or inactive
people.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.scheduler import JOBS, run_job
from mediation.journal import CaseEvent, CaseEventKind
from mediation.model import (
    AwayPeriod,
    Case,
    CaseStatus,
    Child,
    Family,
    Intake,
    Meeting,
    MeetingKind,
    Outcome,
    Parent,
    Role,
)
from mediation.outbox import OutboxStatus
from mediation.policy import BankPolicy
from mediation.reminders import ReminderPolicy
from tests.clock import FixedClock
from tests.fakes.connector import FakeConnector
from tests.integration.jobs_support import Jobs, connector, conversation_of, delivered, mediator

__all__ = ["connector"]

HEL = ZoneInfo("Europe/Helsinki")
POLICY = BankPolicy()


def at(month: int, day: int, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=HEL)


INTAKE = Intake(
    area="Tuusula",
    language="fi",
    interpreter=False,
    child_birth_years=(2018,),
    topics=("custody",),
    preferred_times=("mon_morning",),
    referral_source="self",
    safety_concern=False,
)
FAMILY = Family((Parent("Pia Parent", "0401234567", "pia@example.org"),), (Child(2018, "Kim"),))


class Bank:
    """The people and the cases of the year."""

    def __init__(self, jobs: Jobs) -> None:
        self.jobs = jobs
        self.people = {
            "a": mediator("a"),
            "b": mediator("b"),
            "c": mediator("c", active=False),
            "d": mediator("d"),
            "k": mediator("k", Role.COORDINATOR),
        }
        self.people["b"].away = (AwayPeriod(date(2026, 5, 4), date(2026, 5, 6)),)
        self.people["d"].away = (AwayPeriod(date(2026, 1, 1), date(2026, 1, 20)),)
        self.cases: dict[str, int] = {}
        self.meetings: dict[str, int] = {}

    def id(self, key: str) -> int:
        found = self.people[key].id
        assert found is not None
        return found

    async def setup(self) -> None:
        await self.jobs.add_people(list(self.people.values()), langs={"b": "sv", "d": "en"})

    async def new_case(
        self, name: str, when: datetime, holders: tuple[str, ...] = (), meetings: Any = ()
    ) -> None:
        case = Case.new(f"2026-{len(self.cases) + 1:03d}", INTAKE, self.id("k"), when, POLICY)
        for seat, key in zip(case.seats, holders, strict=False):
            seat.holder_id, seat.taken_at = self.id(key), when
        if holders:
            case.status = CaseStatus.PAIRED
        case.meetings = [
            Meeting(kind, start, start + timedelta(minutes=minutes))
            for kind, start, minutes in meetings
        ]
        uow = self.jobs.uow()
        async with uow:
            added = await uow.cases.add(case, FAMILY)
            await uow.commit()
        assert added.id is not None
        self.cases[name] = added.id
        for n, meeting in enumerate(added.meetings, start=1):
            assert meeting.id is not None
            self.meetings[f"{name}{n}"] = meeting.id

    async def change(self, name: str, when: datetime, how: Callable[[Case], None]) -> None:
        uow = self.jobs.uow()
        async with uow:
            case = await uow.cases.get(self.cases[name], for_update=True)
            assert case is not None
            how(case)
            await uow.cases.save(case)
            if case.status is CaseStatus.FOLLOW_UP:
                await uow.journal.case_event(
                    CaseEvent(self.cases[name], CaseEventKind.FOLLOW_UP, None, when)
                )
            await uow.commit()

    def events(self) -> list[tuple[datetime, Callable[[], Awaitable[None]]]]:
        """What happens in the bank during the year, besides the jobs."""

        def pair(*keys: str) -> Callable[[Case], None]:
            def how(case: Case) -> None:
                for seat, key in zip(case.seats, keys, strict=True):
                    case.take_seat(seat.n, self.id(key), at(4, 20, 10))

            return how

        def close(case: Case) -> None:
            case.start()
            case.close(Outcome.AGREEMENT, at(2, 20, 12))

        def follow_up(case: Case) -> None:
            case.start()
            case.begin_follow_up()

        meetings_of_m = (
            (MeetingKind.INDIVIDUAL, at(4, 7, 10), 60),
            (MeetingKind.INDIVIDUAL, at(5, 6, 10), 60),
            (MeetingKind.JOINT, at(12, 7, 10), 90),
        )
        return [
            (at(1, 12), lambda: self.new_case("M", at(1, 12), ("a", "b"), meetings_of_m)),
            (at(1, 21), lambda: self.new_case("G", at(1, 21), ("k", "d"))),
            (at(2, 2), lambda: self.new_case("H", at(2, 2), ("b", "k"))),
            (at(2, 20, 12), lambda: self.change("H", at(2, 20, 12), close)),
            (at(3, 2), lambda: self.new_case("E", at(3, 2))),
            (at(4, 20, 10), lambda: self.change("E", at(4, 20, 10), pair("d", "k"))),
            (at(6, 1, 10), lambda: self.change("G", at(6, 1, 10), follow_up)),
            (at(9, 28), lambda: self.new_case("F", at(9, 28))),
            (at(12, 17), lambda: self.new_case("J", at(12, 17))),
        ]


async def live_a_year(jobs: Jobs, bank: Bank, clock: FixedClock) -> None:
    events = sorted(bank.events(), key=lambda e: e[0])
    day = date(2026, 1, 1)
    while day.year == 2026:
        for hour in (9, 18):
            tick = datetime(day.year, day.month, day.day, hour, tzinfo=HEL)
            while events and events[0][0] <= tick:
                when, happen = events.pop(0)
                clock.set(when)
                await happen()
            clock.set(tick)
            for spec in JOBS:
                await run_job(jobs.ctx, spec)
            await jobs.sender.drain(timeout=30)
        day += timedelta(days=1)


def expected(skip_holidays: bool) -> set[tuple[str, str, date]]:
    def d(month: int, day: int) -> date:
        return date(2026, month, day)

    everyone = ("a", "b", "k", "d")
    sent = set()
    spring = d(1, 2) if skip_holidays else d(1, 1)  # 1 January is a holiday
    sent |= {("term_start", p, spring) for p in ("a", "b", "k")}  # d is away until the 20th
    sent |= {("term_start", p, d(7, 1)) for p in everyone}
    sent |= {("mid_term", p, d(4, 1)) for p in ("a", "d")}  # b and k used their quota
    sent |= {("mid_term", p, d(10, 1)) for p in everyone}
    christmas_eve = d(12, 28) if skip_holidays else d(12, 24)
    for day in (d(3, 9), d(3, 16), d(10, 5), d(10, 12), christmas_eve, d(12, 31)):
        sent.add(("escalation", "k", day))
    easter_monday = d(4, 2) if skip_holidays else d(4, 6)
    independence_day = d(12, 4) if skip_holidays else d(12, 6)
    sent |= {("meeting_reminder", p, easter_monday) for p in ("a", "b")}
    sent.add(("meeting_reminder", "a", d(5, 5)))  # b is away 4-6 May
    sent |= {("meeting_reminder", p, independence_day) for p in ("a", "b")}
    sent |= {("record_prompt", p, d(4, 7)) for p in ("a", "b")}
    sent |= {("record_prompt", "a", d(5, 6)), ("record_prompt", "b", d(5, 7))}
    sent |= {("record_prompt", p, d(12, 7)) for p in ("a", "b")}
    sunday = d(8, 17) if skip_holidays else d(8, 16)
    sent |= {("follow_up", p, sunday) for p in ("k", "d")}
    sent |= {(kind, p, d(2, 20)) for kind in ("mediator_feedback", "client_link") for p in "bk"}
    for day in (d(2, 3), d(5, 12), d(11, 10)):
        sent |= {("joint_meeting", p, day) for p in everyone}
    return sent


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
@pytest.mark.parametrize("skip_holidays", [False, True], ids=["every-day", "no-holidays"])
async def test_every_reminder_of_a_year_arrives_once_on_its_day(
    sessions: async_sessionmaker[AsyncSession], connector: FakeConnector, skip_holidays: bool
) -> None:
    clock = FixedClock(at(1, 1, 0))
    policy = ReminderPolicy(retention_days=180, skip_holidays=skip_holidays)
    jobs = Jobs(sessions, clock, connector, policy)
    bank = Bank(jobs)
    await bank.setup()

    await live_a_year(jobs, bank, clock)

    names = {p.aad_object_id: key for key, p in bank.people.items()}
    messages = await jobs.outbox.all()
    assert {m.status for m in messages} == {OutboxStatus.SENT}
    assert messages and all(m.sent_at is not None for m in messages)
    got = {
        (m.key.kind.value, names[m.key.recipient], m.sent_at.astimezone(HEL).date())  # type: ignore[union-attr]
        for m in messages
    }
    want = expected(skip_holidays)
    assert got - want == set(), "sent but not expected"
    assert want - got == set(), "expected but not sent"
    assert len(messages) == len(want)  # each once: no second message with another key
    # The connector got exactly one post per message, in each person's own chat.
    per_person = {names[m.key.recipient] for m in messages}
    assert delivered(connector) == {
        conversation_of(bank.people[p].aad_object_id): sum(
            1 for m in messages if names[m.key.recipient] == p
        )
        for p in per_person
    }
    assert "c" not in per_person  # inactive all year
    # Each reached its person in their language (b reads Swedish, d English).
    b_posts = [
        s for s in connector.log if s.conversation_id.endswith(bank.people["b"].aad_object_id)
    ]
    assert all(s.card and s.card["lang"] == "sv" for s in b_posts)
    # The retention purge erased family H once, on the day its time was up.
    uow = jobs.uow()
    async with uow:
        assert await uow.cases.family(bank.cases["H"]) is None
        assert await uow.cases.family(bank.cases["M"]) is not None
        purges = [
            e
            for e in await uow.journal.case_events(bank.cases["H"])
            if e.kind is CaseEventKind.PURGED
        ]
    assert [e.at.astimezone(HEL).date() for e in purges] == [date(2026, 8, 19)]
