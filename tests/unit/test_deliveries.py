"""Notifications delivered after the answer: in order per case, card updates not queued twice."""

from __future__ import annotations

import asyncio

import pytest

from bot.teams import CardNotUpdated, Deliveries, DeliveryFailed
from mediation.ports import CaseChanged, Notification, PairComplete
from mediation.views import CaseSummary


class Held:
    """A deliver function that holds every delivery until ``gate`` is set."""

    def __init__(self) -> None:
        self.delivered: list[Notification] = []
        self.gate = asyncio.Event()

    async def __call__(self, note: Notification) -> None:
        await self.gate.wait()
        self.delivered.append(note)


async def test_in_order_per_case_and_a_waiting_card_update_is_not_queued_twice() -> None:
    held = Held()
    delivered, gate = held.delivered, held.gate
    deliveries = Deliveries(held)
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


def _seen_at(version: int) -> CaseSummary:
    """A case card's data as one change left the case (only the version matters here)."""
    return CaseSummary(
        1, "2026-001", "A", "open", None, "Espoo", "spring", 2026, "fi", False, 1, ("3-6",),
        ("custody",), (), (), version,
    )  # fmt: skip


async def test_a_waiting_card_update_shows_the_newest_change_that_asked_for_it() -> None:
    held = Held()
    delivered, gate = held.delivered, held.gate
    deliveries = Deliveries(held)
    deliveries.put(CaseChanged(1, _seen_at(1)))
    await asyncio.sleep(0)  # the first update is under way
    # Changes 3 and 2 told in the wrong order: the one waiting update shows change 3.
    deliveries.put(CaseChanged(1, _seen_at(3)))
    deliveries.put(CaseChanged(1, _seen_at(2)))
    gate.set()
    await deliveries.drain()
    assert [n.summary.version for n in delivered if isinstance(n, CaseChanged) and n.summary] == [
        1,
        3,
    ]
    # A change told without the case along: the waiting update reads the case itself.
    gate.clear()
    deliveries.put(CaseChanged(1, _seen_at(4)))
    await asyncio.sleep(0)
    deliveries.put(CaseChanged(1, _seen_at(5)))
    deliveries.put(CaseChanged(1))
    deliveries.put(CaseChanged(1, _seen_at(6)))
    gate.set()
    await deliveries.drain()
    assert [n.summary and n.summary.version for n in delivered[2:]] == [4, None]
    assert deliveries.merged == 3
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


# -- a card update Teams refuses for now ------------------------------------------------------


class Refusing:
    """A deliver function whose card updates Teams refuses ``refusals`` times first."""

    def __init__(self, refusals: int) -> None:
        self.refusals = refusals
        self.tries: list[Notification] = []
        self.delivered: list[Notification] = []

    async def __call__(self, note: Notification) -> None:
        self.tries.append(note)
        if isinstance(note, CaseChanged) and self.refusals > 0:
            self.refusals -= 1
            raise CardNotUpdated("2026-001")
        self.delivered.append(note)


async def settled(deliveries: Deliveries, seconds: float = 1.0) -> None:
    """Until nothing is queued or waiting for its next try (at most ``seconds``)."""
    async with asyncio.timeout(seconds):
        while True:
            await deliveries.drain()
            if not deliveries.waiting_to_try_again:
                return
            await asyncio.sleep(0.005)  # a timer of the deliveries is due in a moment


async def test_a_refused_card_update_is_tried_again_until_teams_takes_it(
    caplog: pytest.LogCaptureFixture,
) -> None:
    deliver = Refusing(2)
    deliveries = Deliveries(deliver, retry_after=(0.01, 0.02, 0.03))
    deliveries.put(CaseChanged(1))
    await settled(deliveries)
    assert deliver.tries == [CaseChanged(1)] * 3
    assert deliver.delivered == [CaseChanged(1)]
    assert "the card of case 2026-001 is stale; trying again in 0.01 s" in caplog.text
    assert "until the case next changes" not in caplog.text
    await deliveries.close()


async def test_after_the_last_try_the_card_is_stale_until_the_case_changes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    deliver = Refusing(100)
    deliveries = Deliveries(deliver, retry_after=(0.01, 0.01))
    deliveries.put(CaseChanged(1))
    await settled(deliveries)
    assert len(deliver.tries) == 3 and deliver.delivered == []
    assert deliveries.waiting_to_try_again == 0
    assert "the card of case 2026-001 is stale until the case next changes" in caplog.text
    deliver.refusals = 0
    deliveries.put(CaseChanged(1))  # the next change brings it up to date
    await deliveries.close()
    assert deliver.delivered == [CaseChanged(1)]


async def test_a_newer_change_takes_the_place_of_the_waiting_try() -> None:
    deliver = Refusing(1)
    deliveries = Deliveries(deliver, retry_after=(60.0,))
    deliveries.put(CaseChanged(1))
    await deliveries.drain()
    assert deliveries.waiting_to_try_again == 1
    deliveries.put(CaseChanged(1))
    await deliveries.drain()
    # The update of the new change showed everything: the minute's wait is not kept.
    assert deliveries.waiting_to_try_again == 0
    assert deliver.delivered == [CaseChanged(1)]
    await deliveries.close()
    assert len(deliver.tries) == 2


async def test_stopping_tries_the_waiting_updates_once_at_once() -> None:
    deliver = Refusing(1)
    deliveries = Deliveries(deliver, retry_after=(60.0,))
    deliveries.put(CaseChanged(1))
    deliveries.put(CaseChanged(2))
    await deliveries.drain()
    assert deliveries.waiting_to_try_again == 1
    await deliveries.close()  # no minute's wait
    assert sorted(n.case_id for n in deliver.delivered if isinstance(n, CaseChanged)) == [1, 2]
    assert deliveries.waiting_to_try_again == 0


async def test_a_personal_note_is_never_sent_twice() -> None:
    tries: list[Notification] = []

    async def deliver(note: Notification) -> None:
        tries.append(note)
        raise DeliveryFailed("no personal chat with this user yet")

    deliveries = Deliveries(deliver, retry_after=(0.01,))
    deliveries.put(PairComplete(1, "2026-001", (3, 4)))
    await asyncio.sleep(0.05)
    await deliveries.close()
    assert len(tries) == 1 and deliveries.waiting_to_try_again == 0


async def test_a_few_notifications_are_worked_on_at_once_the_rest_in_order() -> None:
    working: list[int] = []
    most = 0
    started: list[int] = []
    go_on = asyncio.Event()

    async def deliver(note: Notification) -> None:
        nonlocal most
        working.append(note.case_id)
        started.append(note.case_id)
        most = max(most, len(working))
        await go_on.wait()
        working.remove(note.case_id)

    deliveries = Deliveries(deliver, at_once=2)
    for case_id in range(1, 7):
        deliveries.put(CaseChanged(case_id))
    await asyncio.sleep(0.02)  # well within the gate's patience
    assert started == [1, 2]
    go_on.set()
    await deliveries.close()
    assert most == 2 and started == [1, 2, 3, 4, 5, 6]


async def test_a_delivery_waiting_long_on_teams_does_not_hold_up_the_rest() -> None:
    delivered: list[int] = []
    slow_done, second_done = asyncio.Event(), asyncio.Event()

    async def deliver(note: Notification) -> None:
        if note.case_id == 1:
            await slow_done.wait()  # the Bot Connector taking its time
        delivered.append(note.case_id)
        if note.case_id == 2:
            second_done.set()

    deliveries = Deliveries(deliver, at_once=1)
    deliveries.put(CaseChanged(1))
    deliveries.put(CaseChanged(2))
    async with asyncio.timeout(2):
        await second_done.wait()  # after the gate's patience, 0.1 s
    slow_done.set()
    await deliveries.close()
    assert delivered == [2, 1]
