"""Fixtures for tests against the fake Graph server: the server, a client on it.

Import the ``*_fixture`` functions into a test module to use them by their names.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from aiohttp import web

from graph.msgraph import GraphCalendar
from mediation.slots import WorkingHours
from tests.clock import FixedClock
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
