"""Leader election for the scheduler: one replica per deployment runs the jobs.

On PostgreSQL the leader holds a session-level ``pg_try_advisory_lock`` on a connection of
its own, kept open for as long as it leads. When the process dies, its connection drops
and PostgreSQL frees the lock, so another replica takes over on its next try. On SQLite
there is one process anyway: it always leads.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mediation.scheduling import SchedulerLock
from mediation.trouble import trouble_at

log = logging.getLogger(__name__)

# Any fixed number; the same in every replica, different from the migration lock's.
SCHEDULER_LOCK = 7_160_511_305


class LeaderLock:
    def __init__(self, engine: AsyncEngine, key: int = SCHEDULER_LOCK) -> None:
        self._engine = engine
        self._key = key
        self._connection: AsyncConnection | None = None
        self._held = False

    @property
    def held(self) -> bool:
        return self._held

    async def try_acquire(self) -> bool:
        """Become the leader if no one else is; True if this replica leads now."""
        if self._held:
            return await self.still_held()
        if self._engine.dialect.name != "postgresql":
            self._held = True
            return True
        try:
            connection = await self._engine.connect()
        except (SQLAlchemyError, OSError) as exc:
            log.warning("scheduler election: database unreachable: %s", trouble_at(exc))
            return False
        try:
            got = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}
            )
            # Autocommit-like: end the implicit transaction, keep the session (and the lock).
            await connection.commit()
        except (SQLAlchemyError, OSError) as exc:
            log.warning("scheduler election failed: %s", trouble_at(exc))
            await _close(connection)
            return False
        if not got:
            await _close(connection)
            return False
        self._connection, self._held = connection, True
        log.info("this replica now runs the scheduler")
        return True

    async def still_held(self) -> bool:
        """Whether the lock's connection is alive (if it dropped, the lock is gone)."""
        if not self._held:
            return False
        if self._connection is None:
            return True  # SQLite
        try:
            await self._connection.execute(text("SELECT 1"))
            await self._connection.commit()
        except (SQLAlchemyError, OSError) as exc:
            log.error(
                "the scheduler lock's connection broke (%s): leadership lost", trouble_at(exc)
            )
            await self._drop()
            return False
        return True

    async def release(self) -> None:
        if self._connection is not None and self._held:
            try:
                await self._connection.execute(
                    text("SELECT pg_advisory_unlock(:key)"), {"key": self._key}
                )
                await self._connection.commit()
            except (SQLAlchemyError, OSError) as exc:
                log.warning("releasing the scheduler lock failed: %s", trouble_at(exc))
        await self._drop()

    async def _drop(self) -> None:
        connection, self._connection, self._held = self._connection, None, False
        if connection is not None:
            await _close(connection)


async def _close(connection: AsyncConnection) -> None:
    # Invalidate, not close: a closed connection goes back to the pool with its session
    # (and a session-level advisory lock) still alive.
    try:
        await connection.invalidate()
        await connection.close()
    except (SQLAlchemyError, OSError) as exc:
        log.debug("closing a broken connection: %s", trouble_at(exc))


if TYPE_CHECKING:
    # mypy checks here that LeaderLock fills the scheduler's port.
    _port: type[SchedulerLock] = LeaderLock
