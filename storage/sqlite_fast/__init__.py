"""SQLite's fast path: the event loop's own thread instead of aiosqlite's worker thread.

Fenced here because it leans on private names of two libraries, pinned in pyproject.toml
to the versions it is tested with: aiosqlite's ``Connection._tx``, ``_connection``,
``_running`` and ``_execute`` (``connection.py``), and SQLAlchemy's
``AsyncAdaptedQueuePool._queue_class`` (``pool.py``). ``tests/unit/test_private_names.py``
fails loudly, naming the missing name, when an upgrade moves one of them; the way out is
then to drop this package and let ``storage/db.py`` build a plain aiosqlite engine.

Only the engine factory (``storage/db.py``) imports this package. Production runs on
PostgreSQL, which never comes here.
"""
