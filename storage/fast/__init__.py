"""The fast paths under the storage layer, fenced here: one per database.

Through SQLAlchemy's session a statement costs several times the driver's own work for
it (bench/README.md). Both paths run the direct statements (``storage/direct.py``)
compiled once by SQLAlchemy (``statements.py``) straight on the driver connection of the
session's open transaction, with SQLAlchemy's own conversions of parameters and results,
so a row reads the same either way:

- SQLite (the embedded default): on the event loop's own thread instead of aiosqlite's
  worker thread (``sqlite.py``), with one fair connection (``pool.py``);
- PostgreSQL (production): on asyncpg, through the prepared statements SQLAlchemy's
  asyncpg adapter keeps for the connection (``postgres.py``).

Fenced because they lean on private names, pinned in pyproject.toml to the versions they
are tested with: aiosqlite's ``Connection._tx``, ``_connection``, ``_running`` and
``_execute`` (``sqlite.py``); SQLAlchemy's ``AsyncAdaptedQueuePool._queue_class``
(``pool.py``), its compiler's internals (``statements.py``), its asyncpg adapter's
``_execute_mutex``, ``_transaction``, ``_start_transaction``, ``_prepare`` and
``_handle_exception``, and its pool's ``_invalidate`` (``postgres.py``).
``tests/unit/test_private_names.py`` fails loudly, naming the missing name, when an
upgrade moves one of them. The way out is then to make
``postgres.Adapter.of`` answer None, and to build a plain aiosqlite engine in
``storage/db.py``: every statement then goes through the session, as correct and dearer.

Only the engine factory and its statements (``storage/db.py``) import this package.
"""
