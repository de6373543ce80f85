"""A common time's meeting in Graph: the real msgraph-sdk against the fake Graph server.

The room is a room mailbox: its free/busy comes from getSchedule and it is invited as a
resource. A booking made while Graph refuses stays saved and reaches the calendar with
the retry job, once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.settings import CalendarSettings
from mediation.common_time import EventState, Status
from tests.clock import FixedClock
from tests.e2e.conftest import words
from tests.e2e.test_common_time import action_data, person_id
from tests.fakes.connector import FakeConnector
from tests.integration.graph_support import (
    MONDAY,
    Bank,
    Calendars,
    bank_settings,
    connector_fixture,
    running_bank,
)

__all__ = ["connector_fixture"]

ROOM = "perhekeskus.huone1@example.org"


@pytest.fixture
async def graph_bank(
    connector: FakeConnector, tmp_path: Path
) -> AsyncIterator[tuple[Bank, Calendars]]:
    settings = bank_settings(tmp_path, calendar=CalendarSettings(rooms=(ROOM,)))
    async with running_bank("graph", settings, connector, FixedClock(MONDAY)) as started:
        yield started


async def click(bank: Bank, key: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    return await bank.teams.click(key, verb, data, where="personal")


async def test_a_booking_graph_refused_reaches_the_calendar_later_once(
    graph_bank: tuple[Bank, Calendars],
) -> None:
    bank, calendars = graph_bank
    assert calendars.fake is not None
    olli = await person_id(bank, "olli")
    uow = bank.sopu.uow()
    async with uow:
        await uow.qualifications.set(olli, frozenset({"family_counselling"}))
        await uow.commit()
    await click(
        bank,
        "coord",
        "commontime.convene",
        {"municipality": "Kerava", "competences": "family_counselling", "consent_convene": "true"},
    )
    uow = bank.sopu.uow()
    async with uow:
        (ct,) = await uow.common_times.with_status([Status.CONVENING])
    assert ct.id is not None
    await click(
        bank,
        "coord",
        "commontime.invite",
        {"ct_id": ct.id, "competence": "family_counselling", "person_id": olli},
    )
    await click(bank, "olli", "commontime.accept", {"ct_id": ct.id})
    offered = await click(
        bank, "coord", "commontime.times", {"ct_id": ct.id, "kind": "common_time"}
    )
    (first, *_) = action_data(offered, "commontime.book")
    assert first["room"] == ROOM

    # Graph refuses the event when it is written; the booking itself stands.
    calendars.fake.refused_creates = 1
    booked = await click(bank, "coord", "commontime.book", dict(first))
    assert ROOM in words(booked)
    # The convener is told at once that the calendar has not taken it, and why.
    assert "the calendar has not confirmed it yet" in words(booked)
    assert "no permission to use this mailbox" in words(booked)
    assert await calendars.events("coord@example.org") == []
    uow = bank.sopu.uow()
    async with uow:
        saved = await uow.common_times.get(ct.id)
    assert saved is not None and saved.meetings[0].calendar is EventState.CREATE

    push = bank.sopu.jobs.services.context.push_calendar
    assert push is not None
    assert await push() == 1
    assert await push() == 0
    (event,) = await calendars.events("coord@example.org")
    assert "2026-Y001" in event["subject"] and "Kerava" not in event["subject"]
    stored = calendars.fake.events[event["id"]]
    assert stored.resources == [ROOM] and "olli@example.org" in stored.attendees

    # Cancelled: the event leaves the calendar.
    cancelled = await click(bank, "coord", "commontime.cancel", {"ct_id": ct.id})
    assert "has not confirmed" not in words(cancelled)
    (event,) = await calendars.events("coord@example.org")
    assert event["cancelled"]
