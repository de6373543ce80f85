"""Notifications delivered after the answer: in order per case, card updates not queued twice."""

from __future__ import annotations

import asyncio

import pytest

from bot.teams import Deliveries
from mediation.ports import CaseChanged, Notification, PairComplete


async def test_in_order_per_case_and_a_waiting_card_update_is_not_queued_twice() -> None:
    delivered: list[Notification] = []
    gate = asyncio.Event()

    async def deliver(note: Notification) -> None:
        await gate.wait()
        delivered.append(note)

    deliveries = Deliveries(deliver)
    first = CaseChanged(1)
    deliveries.put(first)
    await asyncio.sleep(0)  # the worker has taken the first update and waits on the gate
    pair = PairComplete(1, "2026-001", (3, 4))
    for note in (CaseChanged(1), CaseChanged(2), pair, CaseChanged(1), CaseChanged(2)):
        deliveries.put(note)
    gate.set()
    await deliveries.drain()
    # Case 1 changed again after its first update began: one more update, not two; each
    # case's notifications in the order they came.
    assert [n for n in delivered if n.case_id == 1] == [first, CaseChanged(1), pair]
    assert [n for n in delivered if n.case_id == 2] == [CaseChanged(2)]
    await deliveries.close()


async def test_a_failed_delivery_is_logged_and_the_rest_still_go(
    caplog: pytest.LogCaptureFixture,
) -> None:
    delivered: list[Notification] = []

    async def deliver(note: Notification) -> None:
        if note == CaseChanged(1):
            raise RuntimeError("the Bot Connector is down")
        delivered.append(note)

    deliveries = Deliveries(deliver)
    deliveries.put(CaseChanged(1))
    deliveries.put(CaseChanged(2))
    await deliveries.close()  # delivers what is queued before it stops
    assert delivered == [CaseChanged(2)]
    assert "delivering CaseChanged failed" in caplog.text


async def test_a_delivery_runs_outside_the_turn_that_caused_it() -> None:
    from datetime import UTC, datetime

    from storage import redelivery

    seen: list[object] = []

    async def deliver(note: Notification) -> None:
        seen.append(redelivery._current.get())

    deliveries = Deliveries(deliver)
    with redelivery.delivering("c|1", datetime(2026, 3, 2, tzinfo=UTC)):
        deliveries.put(CaseChanged(1))
    await deliveries.close()
    # Its writes cannot record (or be stopped by) the click's activity id.
    assert seen == [None]
