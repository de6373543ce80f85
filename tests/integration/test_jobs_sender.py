"""The sender against the fake Bot Connector: throttling, refusals and ambiguous failures."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.framework.adapter import speed_up_msrest
from bot.settings import SendLimits
from mediation.outbox import MessageKind, NewMessage, OutboxKey, OutboxStatus
from tests.fakes.connector import FakeConnector
from tests.integration.jobs_support import Jobs, connector, conversation_of, delivered, mediator

__all__ = ["connector"]

pytestmark = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
speed_up_msrest()


def joint(aad: str, n: int = 0) -> NewMessage:
    day = f"2026-05-{10 + n:02d}"
    key = OutboxKey(MessageKind.JOINT_MEETING, aad, f"joint:{day}", "2026")
    return NewMessage(key, {"day": day, "agenda_url": ""})


async def people(jobs: Jobs, count: int) -> list[str]:
    found = [mediator(f"m{i:04d}") for i in range(count)]
    await jobs.add_people(found)
    return [p.aad_object_id for p in found]


async def test_a_burst_over_the_tenant_limit_is_throttled_and_still_arrives_once(
    sessions: async_sessionmaker[AsyncSession], connector: FakeConnector
) -> None:
    # The connector allows 10 posts per 0.5 s; the sender is told it may post 40 a second,
    # so Teams answers 429 with Retry-After and the sender must back off and retry.
    connector.tenant_limit = ((10, 0.5),)
    connector.retry_after = 0.2
    limits = SendLimits(per_tenant=((40, 1.0),), concurrency=16)
    jobs = Jobs(sessions, SystemClock(), connector, limits=limits)
    recipients = await people(jobs, 80)
    await jobs.outbox.add([joint(a) for a in recipients], SystemClock().now())

    await jobs.sender.drain(timeout=60, settle=True)

    assert connector.throttled > 0
    assert jobs.sender.stats["retried"] > 0
    assert delivered(connector) == {conversation_of(a): 1 for a in recipients}
    assert {m.status for m in await jobs.outbox.all()} == {OutboxStatus.SENT}


async def test_pacing_keeps_under_the_limits_so_teams_never_refuses(
    sessions: async_sessionmaker[AsyncSession], connector: FakeConnector
) -> None:
    # Teams' own numbers, twice as fast: 7 per 0.5 s and 8 per 1 s in one chat.
    teams = SendLimits().scaled(2)
    connector.conversation_limit = teams.per_conversation
    connector.tenant_limit = teams.per_tenant
    jobs = Jobs(sessions, SystemClock(), connector, limits=teams)
    (one,) = await people(jobs, 1)
    await jobs.outbox.add([joint(one, n) for n in range(16)], SystemClock().now())
    loop = asyncio.get_running_loop()
    started = loop.time()

    await jobs.sender.drain(timeout=30)

    assert connector.throttled == 0
    assert delivered(connector) == {conversation_of(one): 16}
    # 16 posts at 8 a second cannot take less than a second.
    assert loop.time() - started >= 1.0


async def test_an_ambiguous_failure_is_never_posted_twice(
    sessions: async_sessionmaker[AsyncSession], connector: FakeConnector
) -> None:
    jobs = Jobs(sessions, SystemClock(), connector, limits=SendLimits(concurrency=1))
    first, second, third = await people(jobs, 3)
    # The first post reaches the chat but the gateway answers 504; the second is refused
    # with 412 before anything is posted; the third is blocked by its user.
    connector.fail_after_posting = [504]
    await jobs.outbox.add([joint(first)], SystemClock().now())
    await jobs.sender.drain(timeout=30)
    connector.fail_next = [412]
    await jobs.outbox.add([joint(second)], SystemClock().now())
    await jobs.sender.drain(timeout=30, settle=True)
    connector.fail_next = [403]
    await jobs.outbox.add([joint(third)], SystemClock().now())
    await jobs.sender.drain(timeout=30)

    status = {m.key.recipient: m for m in await jobs.outbox.all()}
    assert status[first].status is OutboxStatus.UNCERTAIN
    assert "504" in status[first].error
    assert status[second].status is OutboxStatus.SENT and status[second].attempts == 2
    assert status[third].status is OutboxStatus.BLOCKED
    assert delivered(connector) == {conversation_of(first): 1, conversation_of(second): 1}


async def test_a_message_refused_every_time_fails_after_n_tries(
    sessions: async_sessionmaker[AsyncSession], connector: FakeConnector
) -> None:
    limits = SendLimits(max_tries=3)
    jobs = Jobs(sessions, SystemClock(), connector, limits=limits)
    jobs.sender.retry = jobs.sender.retry.__class__(max_tries=3, base=jobs.sender.retry.base / 20)
    (one,) = await people(jobs, 1)
    connector.fail_next = [503, 503, 503]
    connector.retry_after = 0
    await jobs.outbox.add([joint(one)], SystemClock().now())
    await jobs.sender.drain(timeout=30, settle=True)

    (message,) = await jobs.outbox.all()
    assert message.status is OutboxStatus.FAILED
    assert message.attempts == 3 and "after 3 tries" in message.error
    assert delivered(connector) == {}


async def test_someone_without_a_chat_is_recorded_not_retried(
    sessions: async_sessionmaker[AsyncSession], connector: FakeConnector
) -> None:
    jobs = Jobs(sessions, SystemClock(), connector)
    silent = mediator("silent")  # in the registry, but no chat and no bank channel to open one
    uow = jobs.uow()
    async with uow:
        await uow.mediators.add(silent)
        await uow.commit()
    await jobs.outbox.add([joint(silent.aad_object_id)], SystemClock().now())
    await jobs.sender.drain(timeout=10)
    (message,) = await jobs.outbox.all()
    assert message.status is OutboxStatus.NO_CHAT
    assert connector.log == []


async def test_adding_the_same_keys_again_adds_nothing(
    sessions: async_sessionmaker[AsyncSession], connector: FakeConnector
) -> None:
    jobs = Jobs(sessions, SystemClock(), connector)
    now = SystemClock().now()
    batch = [joint(f"aad-{i}") for i in range(1200)]  # more than one INSERT's worth
    assert await jobs.outbox.add(batch, now) == 1200
    assert await jobs.outbox.add(batch, now) == 0
    assert await jobs.outbox.add([*batch[:5], joint("aad-new")], now) == 1


async def test_a_message_to_someone_no_longer_active_is_not_sent(
    sessions: async_sessionmaker[AsyncSession], connector: FakeConnector
) -> None:
    jobs = Jobs(sessions, SystemClock(), connector)
    gone, here = mediator("gone", active=False), mediator("here")
    await jobs.add_people([gone, here])
    await jobs.outbox.add(
        [joint(gone.aad_object_id), joint(here.aad_object_id)], SystemClock().now()
    )
    await jobs.sender.drain(timeout=10)
    status = {m.key.recipient: m.status for m in await jobs.outbox.all()}
    assert status == {
        gone.aad_object_id.lower(): OutboxStatus.NOT_ACTIVE,
        here.aad_object_id.lower(): OutboxStatus.SENT,
    }
    assert delivered(connector) == {conversation_of(here.aad_object_id): 1}


async def test_a_burst_to_one_person_does_not_hold_up_everyone_else(
    sessions: async_sessionmaker[AsyncSession], connector: FakeConnector
) -> None:
    jobs = Jobs(sessions, SystemClock(), connector, limits=SendLimits(concurrency=4))
    busy, *others = await people(jobs, 6)
    now = SystemClock().now()
    await jobs.outbox.add([joint(busy, n) for n in range(20)], now)  # one chat, 7 a second
    await jobs.outbox.add([joint(aad) for aad in others], now)
    await jobs.sender.drain(timeout=60, settle=True)

    order = [s.conversation_id for s in connector.log if s.kind in ("send", "reply")]
    assert sorted(set(order)) == sorted({conversation_of(a) for a in [busy, *others]})
    last_other = max(order.index(conversation_of(a)) for a in others)
    # Without the per-chat bound the four slots fill with the busy chat's notes, each
    # waiting its turn there, and the others wait behind all twenty.
    assert last_other < 10, order
    assert {m.status for m in await jobs.outbox.all()} == {OutboxStatus.SENT}
