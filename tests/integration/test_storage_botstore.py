"""The Teams layer's store: redelivery keys, conversation references, the bank channel."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.botstore import BankChannel, BotStore, CasePost
from storage.uow import SqlUnitOfWork
from tests.integration.storage_seed import NOW, add_case, add_coordinator

REFERENCE = {"conversation": {"id": "a:1"}, "serviceUrl": "https://smba.example/emea/", "ä": "ö"}


@pytest.fixture
def store(sessions: async_sessionmaker[AsyncSession]) -> BotStore:
    return BotStore(sessions)


async def test_first_seen_once_per_key(store: BotStore) -> None:
    assert await store.first_seen("activity-1", NOW)
    assert not await store.first_seen("activity-1", NOW + timedelta(seconds=3))
    assert await store.first_seen("activity-2", NOW)


async def test_first_seen_under_concurrent_redelivery(store: BotStore) -> None:
    seen = await asyncio.gather(*(store.first_seen("click-7", NOW) for _ in range(20)))
    assert sorted(seen) == [False] * 19 + [True]


async def test_forget_seen_before(store: BotStore) -> None:
    for minutes in (0, 10, 20):
        await store.first_seen(f"a{minutes}", NOW + timedelta(minutes=minutes))
    assert await store.forget_seen_before(NOW + timedelta(minutes=15)) == 2
    assert await store.forget_seen_before(NOW + timedelta(minutes=15)) == 0
    assert await store.first_seen("a0", NOW)
    assert not await store.first_seen("a20", NOW)


async def test_user_references(store: BotStore) -> None:
    assert await store.user_reference("AB-12") is None
    await store.save_user_reference("AB-12", REFERENCE, NOW)
    assert await store.user_reference("ab-12") == REFERENCE
    await store.save_user_reference("ab-12", {"conversation": {"id": "a:2"}})
    assert await store.user_reference("AB-12") == {"conversation": {"id": "a:2"}}


async def test_bank_channel_is_one_row(
    store: BotStore, uow_factory: Callable[[], SqlUnitOfWork]
) -> None:
    coordinator = await add_coordinator(uow_factory())
    assert coordinator.id is not None
    assert await store.bank_channel() is None
    await store.set_bank_channel(
        "team-1", "19:c1@thread.tacv2", "https://a/", REFERENCE, coordinator.id, NOW
    )
    later = NOW + timedelta(days=1)
    await store.set_bank_channel(
        "team-1", "19:c2@thread.tacv2", "https://b/", {}, coordinator.id, later
    )
    assert await store.bank_channel() == BankChannel(
        "team-1", "19:c2@thread.tacv2", "https://b/", {}, coordinator.id, later
    )


async def test_case_posts(store: BotStore, uow_factory: Callable[[], SqlUnitOfWork]) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    assert coordinator.id is not None
    case = await add_case(uow, coordinator.id)
    assert case.id is not None
    assert await store.case_post(case.id) is None
    await store.save_case_post(case.id, "19:c1;messageid=1", "1", REFERENCE, NOW)
    assert await store.case_post(case.id) == CasePost(
        case.id, "19:c1;messageid=1", "1", REFERENCE, NOW
    )
    # A card re-posted after a failed update replaces the old post.
    await store.save_case_post(case.id, "19:c1;messageid=2", "2", REFERENCE, NOW)
    post = await store.case_post(case.id)
    assert post is not None and post.activity_id == "2"


async def test_the_chats_of_people_outside_the_registry_are_forgotten_after_a_while(
    store: BotStore, uow_factory: Callable[[], SqlUnitOfWork]
) -> None:
    coordinator = await add_coordinator(uow_factory())
    await store.save_user_reference(coordinator.aad_object_id, REFERENCE, NOW)
    await store.save_user_reference("stranger-old", REFERENCE, NOW)
    await store.save_user_reference("stranger-new", REFERENCE, NOW + timedelta(days=20))
    assert await store.forget_unregistered_chats(NOW + timedelta(days=1)) == 1
    assert await store.user_reference("stranger-old") is None
    assert await store.user_reference("stranger-new") == REFERENCE
    assert await store.user_reference(coordinator.aad_object_id) == REFERENCE
    assert await store.forget_unregistered_chats(NOW + timedelta(days=1)) == 0
