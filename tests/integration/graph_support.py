"""Fixtures for tests against the fake Graph server: the server, a client on it.

Import the ``*_fixture`` functions into a test module to use them by their names.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.bootstrap import SOPU, create_app
from bot.keys import CALENDAR
from bot.settings import CalendarSettings, Settings
from graph.msgraph import GraphCalendar
from mediation.slots import WorkingHours
from storage.calendar import LocalEventStore
from tests.clock import FixedClock
from tests.e2e.conftest import (
    CHANNEL,
    PEOPLE,
    TEAM,
    TENANT,
    Bank,
    Teams,
    card_snapshot,
    seed_rows,
    start,
)
from tests.fakes.connector import FakeConnector
from tests.fakes.graph_server import FakeCredential, FakeGraph

OLLI = "olli@example.org"
OUTI = "outi@example.org"
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def serve(fake: FakeGraph) -> web.AppRunner:
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    return runner


@pytest.fixture(name="graph_clock")
def graph_clock_fixture() -> FixedClock:
    return FixedClock(MONDAY)


@pytest.fixture(name="fake_graph")
async def fake_graph_fixture(graph_clock: FixedClock) -> AsyncIterator[FakeGraph]:
    fake = FakeGraph(users={OLLI, OUTI}, clock=graph_clock)
    runner = await serve(fake)
    try:
        yield fake
    finally:
        await runner.cleanup()


class Waits:
    """Records the adapter's back-off waits instead of sleeping them."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture(name="waits")
def waits_fixture() -> Waits:
    return Waits()


@pytest.fixture(name="graph")
async def graph_fixture(fake_graph: FakeGraph, waits: Waits) -> AsyncIterator[GraphCalendar]:
    calendar = GraphCalendar.create(FakeCredential(), f"{fake_graph.url}/v1.0", WorkingHours())
    calendar.sleep = waits
    try:
        yield calendar
    finally:
        await calendar.close()


# -- the whole app, on either calendar ---------------------------------------------------

FAMILY = ("Aino Virtanen", "Mikko Virtanen", "Virtanen")


@dataclass
class Calendars:
    """What is in the mediators' calendars, whichever adapter keeps them."""

    mode: str
    bank: Bank
    fake: FakeGraph | None

    async def events(self, mailbox: str) -> list[dict[str, Any]]:
        if self.fake is not None:
            return [
                {
                    "id": e.id,
                    "subject": e.subject,
                    "start": e.start,
                    "end": e.end,
                    "attendees": e.attendees,
                    "cancelled": e.removed,
                }
                for e in self.fake.of(mailbox, removed=True)
            ]
        store = LocalEventStore(self.bank.sopu.sessions, self.bank.clock)
        far = timedelta(days=3000)
        found = await store.between([mailbox], MONDAY - far, MONDAY + far, cancelled=True)
        return [
            {
                "id": e.id,
                "subject": e.subject,
                "start": e.starts_at,
                "end": e.ends_at,
                "attendees": list(e.attendees),
                "cancelled": e.cancelled,
            }
            for e in found
            if e.mailbox == mailbox
        ]

    def cancel_comments(self) -> list[str]:
        if self.fake is not None:
            return [c for _, c in self.fake.cancellations]
        return []


class _Failures(logging.Handler):
    """Collects what Sopu's bot layer logs as errors while a test runs."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.asynccontextmanager
async def running_bank(
    mode: str, settings: Settings, connector: FakeConnector, clock: FixedClock
) -> AsyncIterator[tuple[Bank, Calendars]]:
    fake = None
    runner_graph = None
    if mode == "graph":
        rooms = {r.lower() for r in settings.calendar.rooms}
        fake = FakeGraph(users={f"{p.key}@example.org" for p in PEOPLE} | rooms, clock=clock)
        runner_graph = await serve(fake)
        settings = dataclasses.replace(
            settings,
            calendar=CalendarSettings(
                mode="graph",
                tenant_id="tenant",
                client_id="client",
                client_secret="secret",
                base_url=f"{fake.url}/v1.0",
                rooms=settings.calendar.rooms,
            ),
        )
    failures = _Failures()
    logging.getLogger("bot").addHandler(failures)
    credential = FakeCredential() if mode == "graph" else None
    app = create_app(settings, clock=clock, graph_credential=credential)
    runner, base = await start(app)
    try:
        if app[CALENDAR].sync is not None:
            app[CALENDAR].sync.notification_url = f"{base}/api/graph/notifications"
        uow = app[SOPU].uow()
        async with uow:
            for m in seed_rows():
                await uow.mediators.add(m)
            await uow.commit()
        async with aiohttp.ClientSession() as http:
            teams = Teams(
                base,
                http,
                connector,
                settle=app[SOPU].jobs.sender.settled,
                card_now=card_snapshot(app[SOPU]),
            )
            await teams.open_personal_chats()
            bank = Bank(app, teams, clock)
            await bank.setup()
            yield bank, Calendars(mode, bank, fake)
        # A refusal is a card; an exception in a click or a delivery is a bug.
        assert failures.messages == [], failures.messages
    finally:
        logging.getLogger("bot").removeHandler(failures)
        await runner.cleanup()
        if runner_graph is not None:
            await runner_graph.cleanup()


@pytest.fixture(name="connector")
async def connector_fixture() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    runner, url = await start(fake.app())
    fake.url = url
    yield fake
    await runner.cleanup()


def bank_settings(tmp_path: Path, **extra: Any) -> Settings:
    """The test bank's settings on a SQLite file in ``tmp_path``; ``extra`` overrides."""
    return Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sopu.db'}",
        allowed_tenants=frozenset({TENANT.lower()}),
        allowed_teams=frozenset({TEAM.lower()}),
        allowed_channels=frozenset({CHANNEL.lower()}),
        **extra,
    )


@pytest.fixture(name="booked_bank", params=["local", "graph"])
async def booked_bank_fixture(
    request: pytest.FixtureRequest, connector: FakeConnector, tmp_path: Path
) -> AsyncIterator[tuple[Bank, Calendars]]:
    clock = FixedClock(MONDAY)
    settings = bank_settings(tmp_path)
    async with running_bank(str(request.param), settings, connector, clock) as started:
        yield started


def choices(card: dict[str, Any]) -> list[str]:
    (slot_input,) = [b for b in card["body"] if b.get("id") == "start"]
    return [c["value"] for c in slot_input["choices"]]


def book_action(card: dict[str, Any], verb: str = "meetings.book") -> dict[str, Any]:
    return next(a for a in card["actions"] if a.get("verb") == verb)


async def meetings_of(bank: Bank, case_id: int) -> list[Any]:
    uow = bank.sopu.uow()
    async with uow:
        case = await uow.cases.get(case_id)
    assert case is not None
    return sorted(case.meetings, key=lambda m: m.id or 0)


async def propose(bank: Bank, who: str, data: dict[str, Any]) -> dict[str, Any]:
    return await bank.teams.click(who, "meetings.propose", data, where="personal")
