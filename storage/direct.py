"""Core statements the repositories and the bot store run, through SQLAlchemy's public API.

A ``Direct`` names a statement built once at import time (a SELECT or a DML statement
with bound parameters); ``rows`` and ``execute`` run it in a session's transaction, and
``first`` on a connection of its own for the bookkeeping reads outside any unit of work.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql import Executable


class Direct:
    """A statement compiled by SQLAlchemy on first use and cached by its engine."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement


async def rows(
    session: AsyncSession, statement: Direct, params: dict[str, Any] | None = None
) -> list[Any]:
    """The rows of a SELECT, each with attributes named as the selected columns."""
    return list(await session.execute(statement.statement, params or {}))


async def execute(
    session: AsyncSession, statement: Direct, params: dict[str, Any] | None = None
) -> int:
    """Run an INSERT, UPDATE or DELETE; the number of rows it touched (-1: not known)."""
    result: Any = await session.execute(statement.statement, params or {})
    # An ORM-enabled INSERT's result has no count; nothing asks for one.
    return int(getattr(result, "rowcount", -1))


async def first(engine: AsyncEngine, statement: Direct, params: dict[str, Any]) -> Any | None:
    """The first row of a SELECT of its own, on a connection of the engine's pool."""
    async with engine.connect() as connection:
        return (await connection.execute(statement.statement, params)).first()
