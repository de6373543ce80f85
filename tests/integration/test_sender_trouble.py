"""The sender when the database fails under it: it keeps going, and nothing is lost.

A real failure, not a stand-in: the outbox's table is renamed away for a moment, so every
query of the sender fails as it would on a dropped connection or a deadlock victim.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from mediation.outbox import MessageKind, NewMessage, OutboxKey, OutboxStatus
from tests.fakes.connector import FakeConnector
from tests.integration.jobs_support import Jobs, connector, conversation_of, delivered, mediator

__all__ = ["connector"]


def joint(aad: str) -> NewMessage:
    return NewMessage(
        OutboxKey(MessageKind.JOINT_MEETING, aad, "joint:2026-05-10", "2026"),
        {"day": "2026-05-10", "agenda_url": ""},
    )


async def rename(engine: AsyncEngine, old: str, new: str) -> None:
    async with engine.begin() as connection:
        await connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


async def test_the_sender_outlives_a_failing_database_and_then_sends(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    connector: FakeConnector,
    caplog: pytest.LogCaptureFixture,
) -> None:
    jobs = Jobs(sessions, SystemClock(), connector)
    people = [mediator(f"m{i}") for i in range(3)]
    await jobs.add_people(people)
    await jobs.outbox.add([joint(p.aad_object_id) for p in people[:1]], SystemClock().now())

    await rename(engine, "outbox", "outbox_away")
    running = asyncio.create_task(jobs.sender.run())
    try:
        with caplog.at_level(logging.WARNING, logger="bot.sender"):
            for _ in range(100):
                if "the outbox could not be read" in caplog.text:
                    break
                await asyncio.sleep(0.02)
        assert "the outbox could not be read" in caplog.text
        await asyncio.sleep(0.2)  # a few more failing looks
        assert not running.done(), running

        await rename(engine, "outbox_away", "outbox")
        await jobs.outbox.add([joint(p.aad_object_id) for p in people[1:]], SystemClock().now())
        await jobs.sender.settled(timeout=30)
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        await jobs.bot_connector.close()

    assert delivered(connector) == {conversation_of(p.aad_object_id): 1 for p in people}
    assert {m.status for m in await jobs.outbox.all()} == {OutboxStatus.SENT}
    # The log names the failure's kind, never a statement's text or values.
    warnings = [r.getMessage() for r in caplog.records if "could not be read" in r.getMessage()]
    assert warnings and all("outbox_away" not in w and "SELECT" not in w for w in warnings)
