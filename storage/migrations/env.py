"""Alembic's environment: migrates the connection storage.db.upgrade hands in.

From the alembic command line it connects to ``sqlalchemy.url`` or DATABASE_URL instead.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from storage.db import create_engine
from storage.schema import metadata

config = context.config
target_metadata = metadata


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite alters tables by copying them; batch mode writes that for us.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_on_url(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def main() -> None:
    if context.is_offline_mode():
        raise SystemExit("offline (--sql) migrations are not supported; run storage.db.upgrade")
    connection = config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("set DATABASE_URL or sqlalchemy.url to run migrations")
    asyncio.run(run_on_url(url))


main()
