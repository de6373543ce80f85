"""Sync with Outlook through the fake Graph: subscriptions, the webhook, delta rounds, faults."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from bot.deps import CalendarService
from bot.keys import CALENDAR
from bot.settings import Settings
from graph.sync import LIFETIME
from mediation.model import MeetingStatus
from tests.clock import FixedClock
from tests.e2e.conftest import CHANNEL, TEAM, TENANT, Bank, words
from tests.fakes.connector import FakeConnector
from tests.fakes.graph_server import FakeGraph
from tests.integration.graph_support import (
    MONDAY,
    book_action,
    choices,
    connector_fixture,
    meetings_of,
    propose,
    running_bank,
)

__all__ = ["connector_fixture"]


@pytest.fixture
async def synced(
    connector: FakeConnector, tmp_path: Path
) -> AsyncIterator[tuple[Bank, FakeGraph, CalendarService]]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sopu.db'}",
        allowed_tenants=frozenset({TENANT.lower()}),
        allowed_teams=frozenset({TEAM.lower()}),
        allowed_channels=frozenset({CHANNEL.lower()}),
    )
    async with running_bank("graph", settings, connector, FixedClock(MONDAY)) as (bank, cals):
        assert cals.fake is not None
        yield bank, cals.fake, bank.app[CALENDAR]


async def settle(fake: FakeGraph, service: CalendarService, bank: Bank | None = None) -> None:
    """Let the fake's notifications, the delta rounds they trigger and their notes finish."""
    for _ in range(3):
        await fake.idle()
        await service.sync.idle()
    if bank is not None:
        await bank.sopu.jobs.sender.settled()


async def book_next(bank: Bank, who: str, case_id: int, **extra: Any) -> dict[str, Any]:
    """Propose and book the first time offered, clicking again if the calendar was busy."""
    for _ in range(10):
        card = await propose(bank, who, {"case_id": case_id, **extra})
        if not any(b.get("id") == "start" for b in card["body"]):
            continue  # the calendar did not answer this time: the card says so; try again
        data = {**book_action(card)["data"], "start": choices(card)[0]}
        answer = await bank.teams.click(who, "meetings.book", data, "personal")
        if "Booked" in words(answer) or "already" in words(answer):
            return answer
    raise AssertionError("no booking in ten tries")


async def test_the_webhook_validates_and_checks_the_client_state(
    synced: tuple[Bank, FakeGraph, CalendarService],
) -> None:
    bank, fake, service = synced
    url = f"{bank.teams.base}/api/graph/notifications"
    async with bank.teams.http.post(f"{url}?validationToken=a%2Bb%20c") as resp:
        assert resp.status == 200 and resp.content_type == "text/plain"
        assert await resp.text() == "a+b c"
    assert await service.sync.renew_all() == 6  # every mediator's calendar; handshakes passed
    assert len(fake.subscriptions) == 6
    sub = next(iter(fake.subscriptions.values()))
    before = len(fake.requests)
    forged = {
        "value": [{"subscriptionId": sub.id, "clientState": "guess", "changeType": "updated"}]
    }
    async with bank.teams.http.post(url, json=forged) as resp:
        assert resp.status == 202
    json_type = {"Content-Type": "application/json"}
    async with bank.teams.http.post(url, data=b"not json", headers=json_type) as resp:
        assert resp.status == 400
    # Only JSON, and only text a database can hold and ids of a sane size.
    async with bank.teams.http.post(url, data=b'{"value": []}') as resp:
        assert resp.status == 415
    for body in (
        b'{"value": [{"subscriptionId": "\\ud800", "clientState": "x"}]}',
        b'{"value": [{"subscriptionId": "a\\u0000", "clientState": "x"}]}',
        b'{"value": [{"subscriptionId": ' + b"9" * 5000 + b', "clientState": "x"}]}',
    ):
        async with bank.teams.http.post(url, data=body, headers=json_type) as resp:
            assert resp.status == 400, body[:60]
    async with bank.teams.http.post(
        url, data=b"0123456789", headers={**json_type, "Content-Encoding": "gzip"}
    ) as resp:
        assert resp.status == 415
    await settle(fake, service)
    assert fake.requests[before:] == []  # no delta round for a forged notification


async def test_a_notification_post_looks_its_subscriptions_up_once_however_many_it_names(
    synced: tuple[Bank, FakeGraph, CalendarService],
) -> None:
    """Anyone can post to the webhook: a request naming a hundred made-up subscriptions costs
    one look at the database, as a real one does, and a real notification among them still
    starts its mailbox's delta round."""
    bank, fake, service = synced
    url = f"{bank.teams.base}/api/graph/notifications"
    assert await service.sync.renew_all() == 6
    await settle(fake, service)
    real = next(iter(fake.subscriptions.values()))
    looks: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "graph_subscription" in statement:
            looks.append(statement)

    engine = bank.sopu.engine.sync_engine
    event.listen(engine, "before_cursor_execute", seen)
    try:
        forged = [
            {"subscriptionId": str(uuid.uuid4()), "clientState": "guess", "changeType": "updated"}
            for _ in range(99)
        ]
        item = {"subscriptionId": real.id, "clientState": real.client_state}
        body = {"value": [*forged, {**item, "changeType": "updated"}]}
        before = len(fake.requests)
        async with bank.teams.http.post(url, json=body) as resp:
            assert resp.status == 202
        assert len(looks) == 1
        await settle(fake, service)
        # Three ids and four make one statement: each length would be one more prepared.
        for many in (3, 4):
            async with bank.teams.http.post(url, json={"value": forged[:many]}) as resp:
                assert resp.status == 202
        assert len(looks) == 3 and looks[1] == looks[2]
        rounds = [
            path.lower() for _, path, _ in fake.requests[before:] if "calendarview" in path.lower()
        ]
        assert rounds and all(real.mailbox.lower() in path for path in rounds)
    finally:
        event.remove(engine, "before_cursor_execute", seen)


async def test_a_meeting_moved_or_deleted_in_outlook_updates_the_case_and_tells_the_pair(
    synced: tuple[Bank, FakeGraph, CalendarService],
) -> None:
    bank, fake, service = synced
    case = await bank.paired("olli", "outi")
    await book_next(bank, "olli", case.case_id)
    await service.sync.renew_all()
    await service.sync.delta_all()  # the first round reads the window once
    (meeting,) = await meetings_of(bank, case.case_id)
    (event,) = fake.of("olli@example.org")
    sent_before = len(bank.connector.log)

    later = event.start + timedelta(days=2)
    fake.move_in_outlook(event.id, later, later + timedelta(hours=1))
    await settle(fake, service, bank)
    (meeting,) = await meetings_of(bank, case.case_id)
    assert meeting.starts_at == later and meeting.status is MeetingStatus.BOOKED
    told = {s.conversation_id for s in bank.connector.log[sent_before:] if "moved" in s.text}
    assert told == {"a:personal-29:olli", "a:personal-29:outi"}

    fake.delete_in_outlook(event.id)
    await settle(fake, service, bank)
    (meeting,) = await meetings_of(bank, case.case_id)
    assert meeting.status is MeetingStatus.CANCELLED
    cancelled = [s for s in bank.connector.log[sent_before:] if "cancelled" in s.text]
    assert {s.conversation_id for s in cancelled} == told
    assert "Virtanen" not in " ".join(s.text for s in bank.connector.log[sent_before:])


async def test_subscriptions_are_renewed_well_before_they_expire(
    synced: tuple[Bank, FakeGraph, CalendarService],
) -> None:
    bank, fake, service = synced
    await service.sync.renew_all()
    first = dict(fake.subscriptions)
    assert await service.sync.renew_all() == 0  # nothing close to expiry yet
    bank.clock.advance(minutes=LIFETIME.total_seconds() / 60 - 20 * 60)  # 20 h left
    assert await service.sync.renew_all() == 6
    assert set(fake.subscriptions) == set(first)  # the same subscriptions, extended
    assert all(
        s.expires > bank.clock.now() + timedelta(hours=60) for s in fake.subscriptions.values()
    )
    # One that Graph dropped is made again.
    lost = next(iter(fake.subscriptions))
    del fake.subscriptions[lost]
    bank.clock.advance(hours=60)
    assert await service.sync.renew_all() == 6
    assert lost not in fake.subscriptions and len(fake.subscriptions) == 6
    assert len(await service.sync.store.subscriptions()) == 6


async def test_lifecycle_events(synced: tuple[Bank, FakeGraph, CalendarService]) -> None:
    bank, fake, service = synced
    case = await bank.paired("olli", "outi")
    await book_next(bank, "olli", case.case_id)
    await service.sync.renew_all()
    olli_sub = next(s for s in fake.subscriptions.values() if s.mailbox == "olli@example.org")
    old_expiry = olli_sub.expires
    bank.clock.advance(hours=1)
    assert await fake.lifecycle(olli_sub.id, "reauthorizationRequired") == 202
    await settle(fake, service)
    assert fake.subscriptions[olli_sub.id].expires > old_expiry

    before = len(fake.requests)
    assert await fake.lifecycle(olli_sub.id, "missed") == 202
    await settle(fake, service)
    assert any("calendarView" in path for _, path, _ in fake.requests[before:])

    del fake.subscriptions[olli_sub.id]
    assert await fake.lifecycle(olli_sub, "subscriptionRemoved") == 202
    await settle(fake, service)
    mine = [s for s in fake.subscriptions.values() if s.mailbox == "olli@example.org"]
    assert len(mine) == 1 and mine[0].id != olli_sub.id


async def test_the_delta_round_catches_what_no_notification_said(
    synced: tuple[Bank, FakeGraph, CalendarService],
) -> None:
    bank, fake, service = synced
    case = await bank.paired("olli", "outi")
    await book_next(bank, "olli", case.case_id)
    assert fake.subscriptions == {}  # nobody is listening: only the periodic round helps
    (event,) = fake.of("olli@example.org")
    later = event.start + timedelta(days=1)
    fake.move_in_outlook(event.id, later, later + timedelta(hours=1))
    assert await service.sync.delta_all() == 1
    assert (await meetings_of(bank, case.case_id))[0].starts_at == later
    assert await service.sync.delta_all() == 0  # the delta link remembers where we were


async def test_with_half_of_graphs_answers_failing_every_meeting_is_booked_once(
    synced: tuple[Bank, FakeGraph, CalendarService],
) -> None:
    bank, fake, service = synced
    waited: list[float] = []

    async def no_sleep(seconds: float) -> None:
        waited.append(seconds)

    service.deps.calendar.sleep = no_sleep  # type: ignore[attr-defined]
    fake.fault_rate = 0.5
    first = await bank.paired("olli", "outi")
    second = await bank.paired("coord", "outi")
    for case in (first, second, first, second):
        await book_next(bank, "outi" if case is second else "olli", case.case_id)
    # Move one meeting and cancel another, through the same faulty Graph.
    m_first = (await meetings_of(bank, first.case_id))[0]
    moving = await propose(bank, "olli", {"case_id": first.case_id, "meeting_id": m_first.id})
    while not any(b.get("id") == "start" for b in moving["body"]):
        moving = await propose(bank, "olli", {"case_id": first.case_id, "meeting_id": m_first.id})
    await bank.teams.click(
        "olli",
        "meeting.move",
        {**book_action(moving, "meeting.move")["data"], "start": choices(moving)[-1]},
        "personal",
    )
    m_second = (await meetings_of(bank, second.case_id))[1]
    await bank.teams.click(
        "outi", "meeting.cancel", {"case_id": second.case_id, "meeting_id": m_second.id}, "personal"
    )
    # Whatever did not get through is pushed again, as the scheduler would.
    fake.fault_rate = 0.0
    from mediation.calendar import push_pending

    await push_pending(bank.sopu.uow(), service.deps)
    assert fake.faults > 5 and 1.0 in waited  # Retry-After was honoured

    meetings = [*await meetings_of(bank, first.case_id), *await meetings_of(bank, second.case_id)]
    assert len(meetings) == 4
    events = [e for mb in ("olli@example.org", "outi@example.org", "coord@example.org")
              for e in fake.of(mb, removed=True)]  # fmt: skip
    tids = [e.transaction_id for e in events]
    assert len(tids) == len(set(tids)) == 4  # exactly one event per meeting, none lost
    live = {(e.start, e.end) for e in events if not e.removed}
    booked = {(m.starts_at, m.ends_at) for m in meetings if m.status is MeetingStatus.BOOKED}
    assert live == booked and len(booked) == 3
    links = await service.links.for_meetings([m.id for m in meetings])
    assert all(not link.state.pending for link in links.values())


async def test_hostile_notification_bodies_get_400_or_are_ignored_in_one_log_line(
    synced: tuple[Bank, FakeGraph, CalendarService], caplog: pytest.LogCaptureFixture
) -> None:
    bank, fake, service = synced
    url = f"{bank.teams.base}/api/graph/notifications"
    assert await service.sync.renew_all() == 6
    sub = next(iter(fake.subscriptions.values()))
    before = len(fake.requests)
    json_type = {"Content-Type": "application/json"}
    for body in (b"[" * 100_000 + b"]" * 100_000, b'{"value": NaN}', "{}".encode("utf-16")):
        async with bank.teams.http.post(url, data=body, headers=json_type) as resp:
            assert resp.status == 400
    forged = {
        "value": [
            {"subscriptionId": sub.id, "clientState": state, "changeType": "updated"}
            for state in ["ä" * 20, "\u200b", "x"] * 30
        ]
    }
    with caplog.at_level(logging.WARNING, logger="graph.sync"):
        async with bank.teams.http.post(url, json=forged) as resp:
            assert resp.status == 202
    assert len([r for r in caplog.records if r.name == "graph.sync"]) == 1
    assert all(r.exc_info is None for r in caplog.records)
    await settle(fake, service)
    assert fake.requests[before:] == []
