"""PostgreSQL's fast path: a direct statement straight on asyncpg, in the session's transaction.

The statement runs on the asyncpg connection of the session's transaction, as
SQLAlchemy's cursor would run it: under the adapter's lock, after the transaction's
BEGIN, through the adapter's cache of prepared statements; an error comes out as the
same SQLAlchemy exception, with the values hidden. What is skipped is SQLAlchemy's
execution around it and a hand-over to its greenlet per statement.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError


class Adapter:
    """SQLAlchemy's asyncpg adapter of one checked-out connection."""

    __slots__ = ("_adapted", "_connection", "_dialect")

    def __init__(self, adapted: Any, connection: Connection, dialect: Any) -> None:
        self._adapted = adapted
        self._connection = connection
        self._dialect = dialect

    @staticmethod
    def of(connection: Connection) -> Adapter | None:
        """The adapter of a connection, if it is SQLAlchemy's asyncpg one."""
        adapted = connection.connection.dbapi_connection
        if type(adapted).__name__ != "AsyncAdapt_asyncpg_connection":
            return None
        return Adapter(adapted, connection, connection.dialect)

    async def run(
        self, sql: str, values: list[Any], *, in_transaction: bool = True
    ) -> tuple[list[Any], int]:
        """The rows of one statement, and the count of rows it touched (-1: not known).

        ``in_transaction``: begin the connection's transaction first if it has not begun,
        as SQLAlchemy's cursor does; without it the statement commits on its own.
        """
        adapted, dialect = self._adapted, self._dialect
        async with adapted._execute_mutex:
            try:
                # The BEGIN too: on a connection the server dropped while it waited in the
                # pool it is the first thing to fail, and must be handled as any failure.
                if in_transaction and adapted._transaction is None:
                    await adapted._start_transaction()
                # A cached statement older than the schema's last change here is prepared
                # again, as SQLAlchemy's cursor does.
                prepared, _ = await adapted._prepare(sql, dialect._invalidate_schema_cache_asof)
                found = await prepared.fetch(*values)
                status = prepared.get_statusmsg() or ""
            except Exception as error:
                self._raise(error, sql, values)
            except BaseException:
                # Cancelled (or stopped) part-way, a BEGIN most of all: asyncpg may have
                # begun the transaction before the adapter knew of it, and the pool would
                # hand out a connection whose commits only end a savepoint. SQLAlchemy's own
                # execution gives such a connection up too.
                self._connection.invalidate()
                raise
        return found, _count(status)

    def _raise(self, error: Exception, sql: str, values: list[Any]) -> None:
        dbapi: Any = self._dialect.dbapi
        try:
            if isinstance(error, dbapi.Error):
                raise error  # the adapter's BEGIN translated it already
            self._adapted._handle_exception(error)  # raises the DBAPI's own error for it
        except dbapi.Error as translated:
            stale = dbapi.InvalidCachedStatementError | dbapi.InternalServerError
            if isinstance(translated, stale):  # as SQLAlchemy's execution context does
                self._dialect._invalidate_schema_cache()
            gone = self._dialect.is_disconnect(translated, self._adapted, None)
            if gone:
                # The server dropped the connection, most likely all of them (a restart, a
                # failover): as SQLAlchemy does, every connection the pool opened before now
                # is replaced when next checked out, and this one goes back to no one.
                pooled = self._connection.connection
                self._connection.engine.pool._invalidate(pooled, translated)
                self._connection.invalidate(translated)
            raise DBAPIError.instance(
                sql,
                values,
                translated,
                dbapi.Error,
                hide_parameters=True,
                connection_invalidated=gone,
            ) from translated


def _count(status: str) -> int:
    # "SELECT 3", "UPDATE 1", "DELETE 0", "INSERT 0 1": the last word is the count.
    word = status.rpartition(" ")[2]
    return int(word) if word.isdigit() else -1
