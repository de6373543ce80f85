"""Stopping the scheduler mid-run, a sender that died mid-post, two schedulers on one database.

Nothing may be sent twice and nothing may be lost: every term-start reminder reaches its
mediator's chat exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.framework.adapter import speed_up_msrest
from bot.settings import SendLimits
from mediation.outbox import OutboxStatus
from storage.db import create_engine
from storage.uow import session_factory
from tests.clock import FixedClock
from tests.fakes.connector import FakeConnector
from tests.integration.jobs_support import Jobs, connector, conversation_of, delivered, mediator

__all__ = ["connector"]

speed_up_msrest()
TERM_START = datetime(2026, 1, 5, 10, 0, tzinfo=ZoneInfo("Europe/Helsinki"))
# A short claim lease: what a stopped sender still held is taken back within seconds.
LIMITS = SendLimits(per_tenant=((40, 1.0),), concurrency=8, claim_lease_seconds=1.0)
PEOPLE = 160


async def until(predicate: object, timeout: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():  # type: ignore[operator]
        if loop.time() > deadline:
            raise AssertionError("timed out")
        await asyncio.sleep(0.02)


def posts(fake: FakeConnector) -> int:
    return sum(delivered(fake).values())


async def seed(jobs: Jobs) -> list[str]:
    people = [mediator(f"p{i:04d}") for i in range(PEOPLE)]
    await jobs.add_people(people)
    return [p.aad_object_id for p in people]


async def exactly_once(jobs: Jobs, fake: FakeConnector, recipients: list[str]) -> None:
    assert delivered(fake) == {conversation_of(a): 1 for a in recipients}
    messages = await jobs.outbox.all()
    assert len(messages) == len(recipients)
    assert {m.status for m in messages} == {OutboxStatus.SENT}


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_scheduler_stopped_mid_run_and_restarted_sends_each_once(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], connector: FakeConnector
) -> None:
    clock = FixedClock(TERM_START)
    first = Jobs(sessions, clock, connector, limits=LIMITS)
    recipients = await seed(first)
    running = asyncio.create_task(first.service(engine).run())
    await until(lambda: posts(connector) >= PEOPLE // 3)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    stopped_at = posts(connector)
    assert stopped_at < PEOPLE, "the run must be cut short for this test to mean anything"

    second = Jobs(sessions, clock, connector, limits=LIMITS)
    service = second.service(engine)
    running = asyncio.create_task(service.run())
    try:
        await until(lambda: posts(connector) >= PEOPLE)
        await second.sender.drain(timeout=10)
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
    await exactly_once(second, connector, recipients)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_what_a_dead_sender_left_is_resent_or_marked_uncertain_never_doubled(
    sessions: async_sessionmaker[AsyncSession], connector: FakeConnector
) -> None:
    clock = FixedClock(TERM_START)
    jobs = Jobs(sessions, clock, connector, limits=SendLimits(claim_lease_seconds=60))
    recipients = await seed(jobs)
    from jobs.scheduler import JOBS, run_job

    for spec in JOBS:
        await run_job(jobs.ctx, spec)
    # A sender claimed ten messages and died: it had started posting three of them.
    claimed = await jobs.outbox.claim(clock.now(), 10)
    for message in claimed[:3]:
        assert await jobs.outbox.posting(message.id, clock.now())
    clock.advance(minutes=2)  # past the claim lease

    await jobs.sender.drain(timeout=60)

    by_id = {m.id: m for m in await jobs.outbox.all()}
    assert [by_id[m.id].status for m in claimed[:3]] == [OutboxStatus.UNCERTAIN] * 3
    assert {by_id[m.id].status for m in claimed[3:]} == {OutboxStatus.SENT}
    uncertain = {m.key.recipient for m in claimed[:3]}
    assert delivered(connector) == {conversation_of(a): 1 for a in recipients if a not in uncertain}


@pytest.mark.postgres
@pytest.mark.parametrize("backend", ["postgres"], indirect=True)
@pytest.mark.parametrize("death", ["stopped", "connection-lost"])
async def test_two_schedulers_on_one_postgres_send_each_once(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    connector: FakeConnector,
    death: str,
) -> None:
    clock = FixedClock(TERM_START)
    other_engine = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        first = Jobs(sessions, clock, connector, limits=LIMITS)
        second = Jobs(session_factory(other_engine), clock, connector, limits=LIMITS)
        recipients = await seed(first)
        one, two = first.service(engine), second.service(other_engine)
        run_one = asyncio.create_task(one.run())
        await asyncio.wait_for(one.leading.wait(), 10)
        run_two = asyncio.create_task(two.run())
        await until(lambda: posts(connector) >= PEOPLE // 3)
        assert not two.leading.is_set()  # the lock keeps the second one standing by
        if death == "stopped":
            run_one.cancel()
            await asyncio.gather(run_one, return_exceptions=True)
        else:
            # The leader's database connection drops: PostgreSQL frees its lock at once, and
            # for a moment both replicas may run; the outbox still gives each message once.
            async with other_engine.connect() as admin:
                await admin.execute(
                    text(
                        "SELECT pg_terminate_backend(pid) FROM pg_locks"
                        " WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
                    )
                )
        assert posts(connector) < PEOPLE
        await asyncio.wait_for(two.leading.wait(), 10)
        try:
            await until(lambda: posts(connector) >= PEOPLE, timeout=30)
        except AssertionError:
            left = [(m.status, m.attempts) for m in await first.outbox.all()]
            raise AssertionError(sorted({str(s) for s in left})) from None
        await asyncio.sleep(0.3)  # room for a duplicate to show up, if there were one
        for task in (run_one, run_two):
            task.cancel()
        await asyncio.gather(run_one, run_two, return_exceptions=True)
        await exactly_once(first, connector, recipients)
    finally:
        await other_engine.dispose()


def test_limits_used_here_are_slower_than_the_fake_connector_allows() -> None:
    assert LIMITS.tenant_rate == 40 and timedelta(seconds=PEOPLE / 40) > timedelta(seconds=3)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_sender_stopped_during_its_claim_gives_the_messages_back(
    sessions: async_sessionmaker[AsyncSession], connector: FakeConnector
) -> None:
    clock = FixedClock(TERM_START)
    jobs = Jobs(sessions, clock, connector, limits=LIMITS)
    recipients = await seed(jobs)
    from jobs.scheduler import JOBS, run_job

    for spec in JOBS:
        await run_job(jobs.ctx, spec)
    claimed_in_db = asyncio.Event()
    real_claim = jobs.outbox.claim

    async def slow_claim(now: datetime, limit: int, *skips: Collection[str]) -> list[object]:
        rows = await real_claim(now, limit, *skips)
        claimed_in_db.set()
        await asyncio.sleep(5)  # the stop arrives after the claim is committed
        return rows  # type: ignore[return-value]

    jobs.outbox.claim = slow_claim  # type: ignore[method-assign,assignment]
    running = asyncio.create_task(jobs.sender.run())
    await asyncio.wait_for(claimed_in_db.wait(), 10)
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    jobs.outbox.claim = real_claim  # type: ignore[method-assign]

    # The clock has not moved, so nothing waits out a claim lease: all is sent at once.
    await jobs.sender.drain(timeout=30)
    await exactly_once(jobs, connector, recipients)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
async def test_a_dead_senders_card_work_is_done_again_and_a_live_ones_claims_do_not_expire(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    from mediation import notices
    from mediation.outbox import MessageKind, NewMessage, OutboxKey
    from storage.outbox import SqlOutbox

    outbox = SqlOutbox(sessions)
    now = TERM_START
    note = NewMessage(OutboxKey(MessageKind.PAIR_COMPLETE, "aad-1", "case:1", "x"), {})
    await outbox.add([notices.case_posted(1), notices.card_changed(1, 3, now), note], now)
    # One channel message of a case per claim: the card update comes with the next one.
    claimed = await outbox.claim(now, 10)
    claimed += await outbox.claim(now, 10)
    assert len(claimed) == 3
    for message in claimed:
        assert await outbox.posting(message.id, now)

    # A live sender renews its claims: a minute later none of them counts as abandoned.
    later = now + timedelta(minutes=1)
    await outbox.renew([m.id for m in claimed], later)
    assert await outbox.abandon_in_flight(later - timedelta(seconds=30)) == (0, 0)

    # Its death: the channel card's post and update are made again (they show the case as
    # it then stands); the note it was posting is uncertain, never sent twice.
    assert await outbox.abandon_in_flight(later + timedelta(seconds=1)) == (2, 1)
    status = {m.key.kind: m.status for m in await outbox.all()}
    assert status == {
        MessageKind.CASE_POST: OutboxStatus.PENDING,
        MessageKind.CARD_UPDATE: OutboxStatus.PENDING,
        MessageKind.PAIR_COMPLETE: OutboxStatus.UNCERTAIN,
    }


async def test_a_claim_takes_one_message_per_chat_and_card_and_none_of_a_card_held(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    from mediation import notices
    from mediation.outbox import MessageKind, NewMessage, OutboxKey, OutboxMessage
    from storage.outbox import SqlOutbox

    def keys(messages: list[OutboxMessage] | list[NewMessage]) -> list[OutboxKey]:
        return sorted(m.key for m in messages)

    outbox = SqlOutbox(sessions)
    now = TERM_START
    note = NewMessage(OutboxKey(MessageKind.PAIR_COMPLETE, "aad-1", "case:1", "x"), {})
    next_note = NewMessage(OutboxKey(MessageKind.PAIR_COMPLETE, "aad-1", "case:3", "x"), {})
    older, later = notices.card_changed(1, 3, now), notices.card_changed(1, 4, now)
    other = notices.card_changed(2, 1, now)
    await outbox.add([older, later, other, note, next_note], now)

    # Case 2's card is being shown (by this sender): its update waits. Of case 1's two
    # updates the older is taken; the later change is shown by it, or comes next. One
    # chat takes one post at a time: one note of aad-1's is taken.
    first = await outbox.claim(now, 10, skip_channel_subjects=["case:2"])
    assert keys(first) == keys([older, note])
    assert {m.status for m in first} == {OutboxStatus.SENDING}
    assert keys(await outbox.claim(now, 10)) == keys([later, other, next_note])
    assert await outbox.claim(now, 10) == []
