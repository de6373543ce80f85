"""A consultation's client meeting in Graph: the real msgraph-sdk against the fake Graph
server. Refused when it is written, the answer stands, the coordinator is told why at once,
and the meeting reaches the calendar with the retry job, once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from cards.i18n import t
from mediation.consultation import Status
from tests.clock import FixedClock
from tests.e2e.conftest import words
from tests.e2e.test_consultations import click, person_id
from tests.e2e.test_consultations_hostile import meeting, send
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


@pytest.fixture
async def graph_bank(
    connector: FakeConnector, tmp_path: Path
) -> AsyncIterator[tuple[Bank, Calendars]]:
    settings = bank_settings(tmp_path)
    async with running_bank("graph", settings, connector, FixedClock(MONDAY)) as started:
        yield started


async def test_a_client_meeting_graph_refused_is_told_and_reaches_the_calendar_later(
    graph_bank: tuple[Bank, Calendars],
) -> None:
    bank, calendars = graph_bank
    assert calendars.fake is not None
    outi = await person_id(bank, "outi")
    uow = bank.sopu.uow()
    async with uow:
        await uow.qualifications.set(outi, frozenset({"child_psychiatry"}))
        await uow.commit()
    c_id = await send(bank)
    await click(bank, "coord", "consult.place", {"c_id": c_id, "day": "2026-03-03"})
    await click(
        bank,
        "coord",
        "consult.ask",
        {"c_id": c_id, "speciality": "child_psychiatry", "expert_child_psychiatry": str(outi)},
    )
    await click(bank, "outi", "consult.accept", {"c_id": c_id})

    # Graph refuses the event when it is written; the answer itself stands.
    calendars.fake.refused_creates = 1
    answered = await click(bank, "coord", "consult.answer", meeting(c_id, str(outi)))
    assert t("en", "consult.answered_ok") in words(answered)
    assert "the calendar has not confirmed it yet" in words(answered)
    assert "no permission to use this mailbox" in words(answered)
    assert await calendars.events("coord@example.org") == []
    uow = bank.sopu.uow()
    async with uow:
        saved = await uow.consultations.get(c_id)
    assert saved is not None and saved.status is Status.ANSWERED

    push = bank.sopu.jobs.services.context.push_calendar
    assert push is not None
    assert await push() == 1
    assert await push() == 0
    (event,) = await calendars.events("coord@example.org")
    assert "2026-K001" in event["subject"]
    assert "outi@example.org" in calendars.fake.events[event["id"]].attendees
