"""The calendar stores on SQLite and PostgreSQL: links, unrecorded meetings, the local calendar."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mediation.calendar import EventLink, LinkState
from mediation.model import CaseStatus, Meeting, MeetingKind, MeetingStatus
from storage.calendar import FeedStore, LocalEventStore, SqlEventLinks, SqlMeetingFinder
from storage.uow import SqlUnitOfWork
from tests.clock import FixedClock
from tests.integration.storage_seed import NOW, add_case, add_coordinator, add_mediators
from tests.unit.factories import mediator


async def paired_case_with_meetings(
    uow_factory: Callable[[], SqlUnitOfWork],
) -> tuple[int, list[int], list[int]]:
    coordinator = await add_coordinator(uow_factory())
    a, b = await add_mediators(uow_factory(), mediator("Olli Kokenut"), mediator("Outi Osaava"))
    assert coordinator.id and a.id and b.id
    case = await add_case(uow_factory(), coordinator.id)
    uow = uow_factory()
    async with uow:
        stored = await uow.cases.get(case.id or 0)
        assert stored is not None
        stored.take_seat(1, a.id, NOW)
        stored.take_seat(2, b.id, NOW)
        stored.start()
        hour = timedelta(hours=1)
        stored.meetings = [
            Meeting(MeetingKind.INDIVIDUAL, NOW - 3 * hour, NOW - 2 * hour, parent_no=1),
            Meeting(MeetingKind.INDIVIDUAL, NOW - 2 * hour, NOW - hour, parent_no=2),
            Meeting(MeetingKind.JOINT, NOW + hour, NOW + 2 * hour),
            Meeting(
                MeetingKind.INDIVIDUAL, NOW - 5 * hour, NOW - 4 * hour, MeetingStatus.HELD, 1, 60
            ),
        ]
        await uow.cases.save(stored)
        await uow.commit()
    ids = [m.id or 0 for m in stored.meetings]
    return stored.id or 0, ids, [a.id, b.id]


async def test_unrecorded_meetings_are_the_ended_booked_ones(
    uow_factory: Callable[[], SqlUnitOfWork], sessions: async_sessionmaker[AsyncSession]
) -> None:
    case_id, ids, pair = await paired_case_with_meetings(uow_factory)
    found = await SqlMeetingFinder(sessions).ended_unrecorded(NOW)
    assert [m.meeting_id for m in found] == [ids[0], ids[1]]
    assert all(m.mediator_ids == tuple(pair) and m.code == "2026-001" for m in found)
    assert found[0].kind is MeetingKind.INDIVIDUAL and found[0].parent_no == 1
    # A cancelled case asks nobody.
    uow = uow_factory()
    async with uow:
        case = await uow.cases.get(case_id)
        assert case is not None
        case.status = CaseStatus.CANCELLED
        await uow.cases.save(case)
        await uow.commit()
    assert await SqlMeetingFinder(sessions).ended_unrecorded(NOW) == []


async def test_event_links(
    uow_factory: Callable[[], SqlUnitOfWork], sessions: async_sessionmaker[AsyncSession]
) -> None:
    case_id, ids, _ = await paired_case_with_meetings(uow_factory)
    links = SqlEventLinks(sessions, FixedClock(NOW))
    link = EventLink(ids[0], case_id, "Olli@Example.org", "sopu-2026-001-m1", LinkState.CREATE,
                     NOW, NOW + timedelta(hours=1), ("outi@example.org",))  # fmt: skip
    await links.save(link)
    assert [p.meeting_id for p in await links.pending()] == [ids[0]]
    link.event_id, link.state = "AAMkAD=", LinkState.SYNCED
    await links.save(link)
    assert await links.pending() == []
    found = await links.by_event("olli@example.org", "AAMkAD=")
    assert found is not None and found.attendees == ("outi@example.org",)
    assert (await links.for_meetings([ids[0], ids[1]])).keys() == {ids[0]}
    assert await links.organizers() == ["olli@example.org"]


async def test_the_local_calendar_store(sessions: async_sessionmaker[AsyncSession]) -> None:
    store = LocalEventStore(sessions, FixedClock(NOW))
    hour = timedelta(hours=1)
    # Many concurrent creates with one transaction id make one event.
    made = await asyncio.gather(
        *(
            store.add(
                "olli@example.org",
                "S",
                "B",
                NOW,
                NOW + hour,
                attendees=["Outi@example.org"],
                transaction_id="t1",
            )
            for _ in range(8)
        )
    )
    assert len(set(made)) == 1
    other = await store.add("outi@example.org", "Own", "", NOW + 2 * hour, NOW + 3 * hour)
    seen = await store.between(["outi@example.org"], NOW, NOW + 4 * hour)
    assert [e.id for e in seen] == [made[0], other]  # the invitation and her own event
    assert await store.update(
        "olli@example.org", made[0], subject="S2", body="B", start=NOW + hour,
        end=NOW + 2 * hour, attendees=["outi@example.org"],
    )  # fmt: skip
    assert not await store.update(
        "outi@example.org", made[0], subject="x", body="", start=NOW, end=NOW, attendees=[]
    )  # only the organiser changes an event
    assert await store.cancel("olli@example.org", made[0], "Peruttu.")
    assert await store.between(["olli@example.org"], NOW, NOW + 4 * hour) == []
    (gone,) = await store.of_mailbox("olli@example.org", NOW - hour)
    assert gone.cancelled and gone.sequence == 2 and gone.cancel_comment == "Peruttu."


async def test_feed_tokens(
    uow_factory: Callable[[], SqlUnitOfWork], sessions: async_sessionmaker[AsyncSession]
) -> None:
    (a,) = await add_mediators(uow_factory(), mediator("Olli Kokenut"))
    assert a.id is not None
    feeds = FeedStore(sessions, FixedClock(NOW))
    token = await feeds.token_of(a.id)
    assert len(token) >= 32 and await feeds.token_of(a.id) == token
    assert await feeds.mediator_of(token) == a.id
    assert await feeds.mediator_of("guess") is None
