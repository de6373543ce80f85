"""PostgreSQL's fast path: direct statements straight on asyncpg, inside the session's transaction.

Through the session each statement pays for SQLAlchemy's ORM execution, its Core
execution (cache key, parameter processing, result wrapping) and a hand-over to its
greenlet, several times asyncpg's own work for the round trip (bench/README.md). A direct
statement (``storage/direct.py``) is compiled once per dialect and set of parameter keys
(``statements``), with SQLAlchemy's own conversions of parameters and results, and run
here on the asyncpg connection of the session's transaction: after the transaction's BEGIN,
through the prepared statements SQLAlchemy's asyncpg adapter keeps for that connection.

It leans on the adapter's private names, pinned with SQLAlchemy (see ``__init__``):
``_execute_mutex``, ``_transaction``, ``_start_transaction``, ``_prepare`` and
``_handle_exception`` of ``AsyncAdapt_asyncpg_connection``. Only ``storage/db.py`` calls it.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import DBAPIError


class Adapter:
    """The asyncpg adapter of one pooled connection, as the fast path uses it."""

    __slots__ = ("_adapted", "dbapi_error")

    def __init__(self, adapted: Any, dbapi_error: type[Exception]) -> None:
        self._adapted = adapted
        self.dbapi_error = dbapi_error

    @staticmethod
    def of(dbapi_connection: Any) -> Adapter | None:
        """The adapter of a pooled connection, if it is SQLAlchemy's asyncpg one."""
        adapted = dbapi_connection
        if type(adapted).__name__ != "AsyncAdapt_asyncpg_connection":
            return None
        return Adapter(adapted, adapted.dbapi.Error)

    async def run(
        self, sql: str, values: list[Any], *, in_transaction: bool = True
    ) -> tuple[list[Any], int]:
        """The rows and the count of rows touched (-1: unknown) of one statement.

        ``in_transaction``: begin the connection's transaction first if it has not begun,
        as SQLAlchemy's cursor does; otherwise the statement runs on its own (autocommit).
        """
        adapted = self._adapted
        async with adapted._execute_mutex:
            if in_transaction and adapted._transaction is None:
                await adapted._start_transaction()
            try:
                prepared, _ = await adapted._prepare(sql, 0)
                found = await prepared.fetch(*values)
                status = prepared.get_statusmsg() or ""
            except Exception as error:
                try:
                    adapted._handle_exception(error)  # raises the DBAPI's own error for it
                except self.dbapi_error as translated:
                    raise DBAPIError.instance(
                        sql, values, translated, self.dbapi_error, hide_parameters=True
                    ) from translated
                raise
        return found, _count(status)


def _count(status: str) -> int:
    # "SELECT 3", "UPDATE 1", "DELETE 0", "INSERT 0 1": the last word is the count.
    word = status.rpartition(" ")[2]
    return int(word) if word.isdigit() else -1
