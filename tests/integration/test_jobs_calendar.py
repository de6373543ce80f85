"""The jobs that need the calendar: record-the-meeting prompts and pushing pending changes.

The real app with its calendar (local, and Graph against the fake Graph server); the jobs
are run through the app's own job context and its sender, as the scheduler would run them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.bootstrap import SOPU
from bot.jobs_runtime import JobsRuntime
from bot.keys import CALENDAR
from bot.settings import Settings
from cards import verbs
from cards.i18n import t
from jobs import record_prompts
from jobs.scheduler import CALENDAR_PUSH, jobs_for, run_job
from jobs.scheduler import JOBS as JOB_SPECS
from tests.clock import FixedClock
from tests.e2e.conftest import CHANNEL, TEAM, TENANT, Bank, verbs_on, words
from tests.fakes.connector import FakeConnector
from tests.integration.graph_support import (
    MONDAY,
    Calendars,
    book_action,
    booked_bank_fixture,
    choices,
    connector_fixture,
    meetings_of,
    propose,
    running_bank,
)

__all__ = ["booked_bank_fixture", "connector_fixture"]

PROMPTS = next(j for j in JOB_SPECS if j.id == record_prompts.JOB_ID)


def _runtime(bank: Bank) -> JobsRuntime:
    runtime = bank.app[SOPU].jobs
    assert isinstance(runtime, JobsRuntime) and runtime.services.context is not None
    return runtime


async def _book(bank: Bank, who: str, case_id: int) -> None:
    card = await propose(bank, who, {"case_id": case_id})
    data = {**book_action(card)["data"], "start": choices(card)[0]}
    await bank.teams.click(who, "meetings.book", data, "personal")


async def test_the_pair_is_asked_to_record_an_ended_meeting_with_the_record_card(
    booked_bank: tuple[Bank, Calendars],
) -> None:
    bank, _ = booked_bank
    runtime = _runtime(bank)
    context = runtime.services.context
    assert context is not None
    case = await bank.paired("olli", "outi")
    await _book(bank, "olli", case.case_id)
    (meeting,) = await meetings_of(bank, case.case_id)
    assert await run_job(context, PROMPTS) == 0  # not ended yet

    bank.clock.set(meeting.ends_at + timedelta(minutes=20))
    sent = len(bank.connector.log)
    assert await run_job(context, PROMPTS) == 2
    assert await run_job(context, PROMPTS) == 0  # the outbox keys: once per meeting and person
    await runtime.sender.drain(timeout=20)

    for key in ("olli", "outi"):
        cards = [s.card for s in bank.personal(key, sent) if s.card is not None]
        assert len(cards) == 1, key
        (card,) = cards
        ids = {e.get("id") for e in card["body"] if e.get("id")}
        assert {"held", "minutes", "fb_rating", "fb_cooperation", "fb_note"} <= ids
        assert verbs_on(card) == [verbs.MEETING_RECORD]
        record = card["actions"][0]
        assert record["data"] == {"case_id": case.case_id, "meeting_id": meeting.id}
        assert t("en", "calendar.record.title", code=case.code) in words(card)
    assert bank.personal("coord", sent) == []

    # Recorded: no more prompts, even on a later run with a fresh outbox key.
    ref = {"case_id": case.case_id, "meeting_id": meeting.id, "held": "yes", "minutes": 55}
    await bank.teams.click("outi", verbs.MEETING_RECORD, ref, "personal")
    bank.clock.set(meeting.ends_at + timedelta(hours=3))
    assert await run_job(context, PROMPTS) == 0


@pytest.fixture
async def graph_bank(connector: FakeConnector, tmp_path: Path) -> AsyncIterator[Bank]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sopu.db'}",
        allowed_tenants=frozenset({TENANT.lower()}),
        allowed_teams=frozenset({TEAM.lower()}),
        allowed_channels=frozenset({CHANNEL.lower()}),
    )
    async with running_bank("graph", settings, connector, FixedClock(MONDAY)) as (bank, cals):
        assert cals.fake is not None
        bank.fake_graph = cals.fake  # type: ignore[attr-defined]
        yield bank


async def test_a_meeting_saved_while_graph_was_down_is_pushed_by_the_job(graph_bank: Bank) -> None:
    bank = graph_bank
    fake = bank.fake_graph  # type: ignore[attr-defined]
    context = _runtime(bank).services.context
    assert context is not None
    assert CALENDAR_PUSH in jobs_for(context)

    async def no_sleep(seconds: float) -> None:
        return None

    service = bank.app[CALENDAR]
    graph = service.deps.calendar
    graph.sleep = no_sleep  # type: ignore[attr-defined]
    create_event = graph.create_event

    async def graph_goes_down(organizer: str, draft: Any) -> str:
        fake.fault_rate = 1.0  # after the times were checked, before the event is made
        return await create_event(organizer, draft)

    graph.create_event = graph_goes_down  # type: ignore[method-assign]
    case = await bank.paired("olli", "outi")
    await _book(bank, "olli", case.case_id)
    graph.create_event = create_event  # type: ignore[method-assign]
    (meeting,) = await meetings_of(bank, case.case_id)
    link = await service.links.get(meeting.id)
    assert link is not None and link.state.pending
    assert await run_job(context, CALENDAR_PUSH) == 0  # Graph still down: still pending

    fake.fault_rate = 0.0
    assert await run_job(context, CALENDAR_PUSH) == 1
    assert await run_job(context, CALENDAR_PUSH) == 0
    link = await service.links.get(meeting.id)
    assert link is not None and not link.state.pending and link.event_id
    assert [e.transaction_id for e in fake.of("olli@example.org")] != []
