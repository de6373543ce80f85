"""Statements built once at import time, run in a session's transaction or on their own.

A ``Direct`` names a SELECT or DML statement with bound parameters. It runs straight on
the driver connection of the session's transaction, SQLite's inline one or PostgreSQL's
asyncpg (``storage/db.py``, ``storage/fast/``); while the session holds ORM changes not
yet flushed, through the session as any statement does, which flushes them first.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession
from sqlalchemy.sql import Executable

from storage import db


class Direct:
    """A statement and its compiled forms (kept per dialect and set of parameter keys)."""

    def __init__(self, statement: Executable) -> None:
        self.statement = statement
        self.cache: db.Cache = {}


async def rows(
    session: AsyncSession, statement: Direct, params: dict[str, Any] | None = None
) -> list[Any]:
    """The rows of a SELECT, each with attributes named as the selected columns."""
    return await db.rows(session, statement.statement, statement.cache, params or {})


async def execute(
    session: AsyncSession, statement: Direct, params: dict[str, Any] | None = None
) -> int:
    """Run an INSERT, UPDATE or DELETE; the number of rows it touched (-1: not known)."""
    return await db.execute(session, statement.statement, statement.cache, params or {})


async def first(engine: AsyncEngine, statement: Direct, params: dict[str, Any]) -> Any | None:
    """The first row of a SELECT of its own, on a connection of the engine's pool."""
    return await db.first(engine, statement.statement, statement.cache, params)
