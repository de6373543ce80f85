"""The Graph calendar adapter with the real msgraph-sdk against the fake Graph server."""

from __future__ import annotations

from datetime import timedelta

import pytest

from graph.msgraph import GraphCalendar
from mediation.calendar import CalendarRefused, CalendarUnavailable, EventDraft
from mediation.slots import ShowAs
from tests.fakes.graph_server import FakeGraph
from tests.integration.graph_support import (
    MONDAY,
    OLLI,
    OUTI,
    Waits,
    fake_graph_fixture,
    graph_clock_fixture,
    graph_fixture,
    waits_fixture,
)

__all__ = ["fake_graph_fixture", "graph_clock_fixture", "graph_fixture", "waits_fixture"]

START = MONDAY + timedelta(days=1)


def draft(tid: str = "sopu-2026-001-m1", hours: int = 0) -> EventDraft:
    return EventDraft(
        subject="Sovittelu 2026-001: yksilötapaaminen (vanhempi 1)",
        body="Varattu Sopussa.",
        start=START + timedelta(hours=hours),
        end=START + timedelta(hours=hours + 1),
        attendees=(OUTI,),
        transaction_id=tid,
    )


async def test_schedules_read_items_and_working_hours(
    graph: GraphCalendar, fake_graph: FakeGraph
) -> None:
    fake_graph.add_event(OLLI, START, START + timedelta(hours=2), "busy")
    fake_graph.add_event(OUTI, START, START + timedelta(minutes=30), "tentative")
    fake_graph.working_hours[OUTI] = {
        "daysOfWeek": ["monday", "tuesday", "wednesday"],
        "startTime": "09:00:00.0000000",
        "endTime": "15:30:00.0000000",
        "timeZone": {"name": "FLE Standard Time"},
    }
    olli, outi = await graph.schedules([OLLI, OUTI], MONDAY, MONDAY + timedelta(days=7))
    assert [(b.start, b.end, b.show_as) for b in olli.blocks] == [
        (START, START + timedelta(hours=2), ShowAs.BUSY)
    ]
    assert outi.blocks[0].show_as is ShowAs.TENTATIVE
    assert outi.working_hours is not None
    assert outi.working_hours.zone == "Europe/Helsinki"
    assert outi.working_hours.days == frozenset({0, 1, 2})
    assert (outi.working_hours.start.hour, outi.working_hours.end.minute) == (9, 30)
    assert olli.working_hours == graph.default_hours


async def test_create_is_deduplicated_by_transaction_id(
    graph: GraphCalendar, fake_graph: FakeGraph
) -> None:
    first = await graph.create_event(OLLI, draft())
    again = await graph.create_event(OLLI, draft())
    assert first == again
    (event,) = fake_graph.of(OLLI)
    assert event.attendees == [OUTI] and event.online and event.transaction_id
    # The invitation fills the attendee's free/busy too.
    (_, outi) = await graph.schedules([OLLI, OUTI], MONDAY, MONDAY + timedelta(days=2))
    assert [b.start for b in outi.blocks] == [START]


async def test_update_patches_and_cancel_sends_the_message(
    graph: GraphCalendar, fake_graph: FakeGraph
) -> None:
    event_id = await graph.create_event(OLLI, draft())
    await graph.update_event(OLLI, event_id, draft(hours=2))
    (event,) = fake_graph.of(OLLI)
    assert event.id == event_id and event.start == START + timedelta(hours=2)
    await graph.cancel_event(OLLI, event_id, "Tapaaminen on peruttu.")
    assert fake_graph.of(OLLI) == []
    assert fake_graph.cancellations == [(event_id, "Tapaaminen on peruttu.")]
    await graph.cancel_event(OLLI, event_id, "again")  # already gone: not an error


async def test_refusals_are_clear(graph: GraphCalendar, fake_graph: FakeGraph) -> None:
    with pytest.raises(CalendarRefused) as unknown:
        await graph.schedules([OLLI, "nobody@example.org"], MONDAY, MONDAY + timedelta(days=1))
    assert unknown.value.reason == "mailbox"
    with pytest.raises(CalendarRefused) as unknown_organizer:
        await graph.create_event("nobody@example.org", draft())
    assert unknown_organizer.value.reason == "mailbox"
    fake_graph.forbidden.add(OLLI)
    with pytest.raises(CalendarRefused) as denied:
        await graph.create_event(OLLI, draft())
    assert denied.value.key == "error.calendar_refused.permission"


async def test_retry_after_is_honoured_and_the_give_up_is_clear(
    graph: GraphCalendar, fake_graph: FakeGraph, waits: Waits
) -> None:
    fake_graph.fault_rate = 1.0
    fake_graph.retry_after = "7"
    with pytest.raises(CalendarUnavailable):
        await graph.schedules([OLLI], MONDAY, MONDAY + timedelta(days=1))
    assert len(waits.waits) == graph.max_attempts
    assert 7.0 in waits.waits  # the 429s' Retry-After, not a guess
    statuses = {s for _, _, s in fake_graph.requests}
    assert statuses <= {429, 503}


async def test_delta_pages_and_removals(graph: GraphCalendar, fake_graph: FakeGraph) -> None:
    ids = [await graph.create_event(OLLI, draft(f"t{n}", hours=n)) for n in range(5)]
    page = await graph.delta_page(OLLI, None, MONDAY, MONDAY + timedelta(days=30))
    seen = list(page.events)
    while page.next_link:
        page = await graph.delta_page(OLLI, page.next_link, MONDAY, MONDAY)
        seen += page.events
    assert sorted(e.event_id for e in seen) == sorted(ids)
    assert page.delta_link
    fake_graph.move_in_outlook(
        ids[0], START + timedelta(days=1), START + timedelta(days=1, hours=1)
    )
    fake_graph.delete_in_outlook(ids[1])
    changes = await graph.delta_page(OLLI, page.delta_link, MONDAY, MONDAY)
    by_id = {e.event_id: e for e in changes.events}
    assert by_id[ids[0]].start == START + timedelta(days=1) and not by_id[ids[0]].removed
    assert by_id[ids[1]].removed


async def test_a_room_is_invited_as_a_resource_and_named_as_the_place(
    graph: GraphCalendar, fake_graph: FakeGraph
) -> None:
    room = "perhekeskus.huone1@example.org"
    fake_graph.users.add(room)  # a room mailbox is a mailbox of the tenant
    event_id = await graph.create_event(
        OLLI,
        EventDraft(
            subject="Yhteinen aika 2026-Y001",
            body="Varattu Sopussa.",
            start=START,
            end=START + timedelta(minutes=90),
            attendees=(OUTI, room),
            transaction_id="sopu-ct-1-0",
            online=False,
            rooms=(room,),
            location="Perhekeskus, huone 1",
        ),
    )
    event = fake_graph.events[event_id]
    assert event.resources == [room] and event.attendees == [OUTI, room]
    assert event.location == "Perhekeskus, huone 1" and not event.online
    # The room's free/busy now shows the meeting.
    (schedule,) = await graph.schedules([room], START, START + timedelta(hours=2))
    assert schedule.blocks
