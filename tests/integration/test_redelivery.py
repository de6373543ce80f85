"""A click's activity id is committed with the change it makes, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.botstore import BotStore
from storage.redelivery import Duplicate, delivering
from storage.uow import SqlUnitOfWork
from tests.unit.factories import mediator

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UowFactory = Callable[[], SqlUnitOfWork]


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


async def test_the_first_change_records_the_id_and_a_read_records_nothing(
    uow_factory: UowFactory, store: BotStore
) -> None:
    with delivering("c|read", NOW) as read:
        uow = uow_factory()
        async with uow:
            await uow.mediators.list()
            await uow.commit()  # a read-only transaction committed: not a change
    assert not read.recorded
    assert not await store.seen("c|read")

    with delivering("c|write", NOW) as write:
        await _add(uow_factory(), "Aino Ensimmäinen")
        assert write.recorded
        await _add(uow_factory(), "Bertta Toinen")  # later changes of the turn: no second row
    assert await store.seen("c|write")
    assert await _names(uow_factory) == ["Aino Ensimmäinen", "Bertta Toinen"]


async def test_bookkeeping_writes_do_not_count_as_changes(
    uow_factory: UowFactory, store: BotStore
) -> None:
    with delivering("c|chat", NOW) as delivery:
        await store.save_user_reference("aad-1", {"conversation": {"id": "a:1"}}, NOW)
    assert not delivery.recorded
    assert not await store.seen("c|chat")


async def test_a_second_delivery_stops_at_its_commit_and_changes_nothing(
    uow_factory: UowFactory, store: BotStore
) -> None:
    with delivering("c|click", NOW):
        await _add(uow_factory(), "Aino Ensimmäinen")
    with delivering("c|click", NOW) as again, pytest.raises(Duplicate):
        await _add(uow_factory(), "Aino Uudestaan")
    assert again.duplicate and not again.recorded
    assert await _names(uow_factory) == ["Aino Ensimmäinen"]


async def test_a_rolled_back_change_leaves_the_id_free(
    uow_factory: UowFactory, store: BotStore
) -> None:
    with delivering("c|retry", NOW) as delivery:
        uow = uow_factory()
        async with uow:
            await uow.mediators.add(mediator("Kesken Jäänyt"))
            await uow.rollback()
        assert not delivery.recorded and not await store.seen("c|retry")
        await _add(uow_factory(), "Valmis Vihdoin")  # the use case's next attempt
    assert delivery.recorded
    assert await _names(uow_factory) == ["Valmis Vihdoin"]


async def test_simultaneous_deliveries_make_one_change(
    uow_factory: UowFactory, store: BotStore
) -> None:
    async def deliver(n: int) -> bool:
        with delivering("c|twice", NOW) as delivery, contextlib.suppress(Duplicate):
            await _add(uow_factory(), f"Rinnakkainen {n}")
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


async def test_a_redelivery_stops_at_its_first_transaction(uow_factory: UowFactory) -> None:
    with delivering("c|again", NOW):
        await _add(uow_factory(), "Aino Ensimmäinen")
    with delivering("c|again", NOW) as again, pytest.raises(Duplicate):
        uow = uow_factory()
        async with uow:
            await uow.mediators.list()  # the first statement of the turn: no further
    assert again.checked and again.duplicate
    # A delivery of another click looks its id up once, then reads and writes freely.
    with delivering("c|other", NOW) as other:
        uow = uow_factory()
        async with uow:
            await uow.mediators.list()
        await _add(uow_factory(), "Bertta Toinen")
    assert other.checked and other.recorded and not other.duplicate
