"""A click's activity id is committed with the change it makes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.botstore import BotStore
from storage.redelivery import Delivery, Duplicate
from storage.uow import SqlUnitOfWork
from tests.unit.factories import mediator

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UowFactory = Callable[[], SqlUnitOfWork]
Units = Callable[[Delivery | None], SqlUnitOfWork]


async def _add(uow: SqlUnitOfWork, name: str) -> None:
    async with uow:
        await uow.mediators.add(mediator(name))
        await uow.commit()


async def _names(uow_factory: UowFactory) -> list[str]:
    uow = uow_factory()
    async with uow:
        return sorted(m.name for m in await uow.mediators.list())


@pytest.fixture
def store(sessions: async_sessionmaker[AsyncSession]) -> BotStore:
    return BotStore(sessions)


@pytest.fixture
def units(sessions: async_sessionmaker[AsyncSession]) -> Units:
    """Units of work that carry a click's delivery, as the bot makes them."""
    return lambda delivery: SqlUnitOfWork(sessions, delivery)


async def test_the_first_change_records_the_id_and_a_read_records_nothing(
    units: Units, uow_factory: UowFactory, store: BotStore
) -> None:
    read = Delivery("c|read", NOW)
    async with units(read) as uow:
        await uow.mediators.list()  # read, never committed: not a change
    assert read.checked and not read.recorded
    assert not await store.seen("c|read")

    write = Delivery("c|write", NOW)
    await _add(units(write), "Aino Ensimmäinen")
    assert write.recorded
    await _add(units(write), "Bertta Toinen")  # later changes of the turn: no second row
    assert await store.seen("c|write")
    assert await _names(uow_factory) == ["Aino Ensimmäinen", "Bertta Toinen"]


async def test_bookkeeping_writes_do_not_count_as_changes(store: BotStore) -> None:
    # The bot store's writes never go through a unit of work, so never carry a delivery.
    await store.save_user_reference("aad-1", {"conversation": {"id": "a:1"}}, NOW)
    assert not await store.seen("c|chat")


async def test_a_second_delivery_stops_at_its_commit_and_changes_nothing(
    units: Units, uow_factory: UowFactory
) -> None:
    await _add(units(Delivery("c|click", NOW)), "Aino Ensimmäinen")
    again = Delivery("c|click", NOW)
    again.checked = True  # as if both ran at once, past the first lookup
    with pytest.raises(Duplicate):
        await _add(units(again), "Aino Uudestaan")
    assert again.duplicate and not again.recorded
    assert await _names(uow_factory) == ["Aino Ensimmäinen"]


async def test_a_rolled_back_change_leaves_the_id_free(
    units: Units, uow_factory: UowFactory, store: BotStore
) -> None:
    delivery = Delivery("c|retry", NOW)
    async with units(delivery) as uow:
        await uow.mediators.add(mediator("Kesken Jäänyt"))
        await uow.rollback()
    assert not delivery.recorded and not await store.seen("c|retry")
    await _add(units(delivery), "Valmis Vihdoin")  # the use case's next attempt
    assert delivery.recorded
    assert await _names(uow_factory) == ["Valmis Vihdoin"]


async def test_simultaneous_deliveries_make_one_change(
    units: Units, uow_factory: UowFactory, store: BotStore
) -> None:
    async def deliver(n: int) -> bool:
        delivery = Delivery("c|twice", NOW)
        with contextlib.suppress(Duplicate):
            await _add(units(delivery), f"Rinnakkainen {n}")
        return delivery.recorded

    recorded = await asyncio.gather(*(deliver(n) for n in range(6)))
    assert sum(recorded) == 1
    assert len(await _names(uow_factory)) == 1
    assert await store.seen("c|twice")


async def test_outside_a_delivery_nothing_is_recorded(
    uow_factory: UowFactory, store: BotStore
) -> None:
    await _add(uow_factory(), "Ajastettu Työ")  # the scheduler's and the CLI's writes
    assert await store.forget_seen_before(datetime(2100, 1, 1, tzinfo=UTC)) == 0


async def test_a_redelivery_stops_at_its_first_transaction(units: Units) -> None:
    await _add(units(Delivery("c|again", NOW)), "Aino Ensimmäinen")
    again = Delivery("c|again", NOW)
    with pytest.raises(Duplicate):
        async with units(again) as uow:
            await uow.mediators.list()  # never reached
    assert again.checked and again.duplicate
    # A delivery of another click looks its id up once, then reads and writes freely.
    other = Delivery("c|other", NOW)
    async with units(other) as uow:
        await uow.mediators.list()
    await _add(units(other), "Bertta Toinen")
    assert other.checked and other.recorded and not other.duplicate


async def test_a_delivery_whose_commit_stops_it_is_not_looked_up_first(
    units: Units, uow_factory: UowFactory
) -> None:
    await _add(units(Delivery("c|seat", NOW)), "Aino Ensimmäinen")
    again = Delivery("c|seat", NOW).commit_stops_it()
    async with units(again) as uow:  # no look-up: it reads as any unit of work
        assert len(await uow.mediators.list()) == 1
    with pytest.raises(Duplicate):  # but a change it would make again stops at the commit
        await _add(units(again), "Bertta Toinen")
    assert again.duplicate and not again.recorded
    assert await _names(uow_factory) == ["Aino Ensimmäinen"]
