"""The library internals Sopu leans on still exist at the pinned versions; fails loudly if not.

Each is used in one fenced place only: aiosqlite's and SQLAlchemy's in storage/fast/ (the
fast paths of SQLite and PostgreSQL), botbuilder's and msrest's in bot/framework/ (the Bot
Framework seam). An upgrade that moves one of them fails here, naming it, before anything subtler
breaks; the fence's docstring says what to do then.
"""

from __future__ import annotations

import importlib
import inspect
from importlib.metadata import version

import pytest

# (module, attribute path, where Sopu uses it)
PRIVATE_NAMES = [
    ("aiosqlite", "Connection._execute", "storage/fast/sqlite.py"),
    ("sqlalchemy.pool", "AsyncAdaptedQueuePool._queue_class", "storage/fast/pool.py"),
    ("sqlalchemy.util.queue", "AsyncAdaptedQueue", "storage/fast/pool.py"),
    *(
        (
            "sqlalchemy.dialects.postgresql.asyncpg",
            f"AsyncAdapt_asyncpg_connection.{name}",
            "storage/fast/postgres.py",
        )
        for name in ("_start_transaction", "_prepare", "_handle_exception")
    ),
    (
        "sqlalchemy.dialects.postgresql.asyncpg",
        "PGDialect_asyncpg._invalidate_schema_cache",
        "storage/fast/postgres.py",
    ),
    ("sqlalchemy.pool", "Pool._invalidate", "storage/fast/postgres.py"),
    ("botbuilder.core", "BotAdapter._INVOKE_RESPONSE_KEY", "bot/framework/adapter.py"),
    ("botbuilder.schema", "Activity._infer_class_models", "bot/framework/activity.py"),
    ("botbuilder.schema", "ChannelAccount._attribute_map", "bot/framework/connector.py"),
    ("botbuilder.schema", "ConversationAccount._attribute_map", "bot/framework/connector.py"),
    (
        "msrest.universal_http.requests",
        "ClientRetryPolicy.safe_codes",
        "bot/framework/adapter.py",
    ),
]

# Instance attributes aiosqlite's Connection sets in __init__ and the fast path replaces.
AIOSQLITE_INSTANCE_NAMES = ("_tx", "_connection", "_running", "_connector")

# The versions the fenced code is tested with (pyproject.toml pins the same).
PINNED = {
    "aiosqlite": "0.22.",
    "sqlalchemy": "2.1.",
    "botbuilder-core": "4.17.1",
    "msrest": "0.7.1",
}


def _lookup(module: str, path: str) -> object:
    found: object = importlib.import_module(module)
    for part in path.split("."):
        found = getattr(found, part)
    return found


@pytest.mark.parametrize(("module", "path", "user"), PRIVATE_NAMES)
def test_a_private_name_in_use_still_exists(module: str, path: str, user: str) -> None:
    try:
        _lookup(module, path)
    except AttributeError:
        pytest.fail(f"{module}.{path} is gone: {user} depends on it (see its package docstring)")


def test_aiosqlite_still_sets_the_attributes_the_fast_path_replaces() -> None:
    import aiosqlite

    source = inspect.getsource(aiosqlite.Connection.__init__)
    missing = [name for name in AIOSQLITE_INSTANCE_NAMES if f"self.{name}" not in source]
    assert not missing, f"aiosqlite.Connection no longer sets {missing}: storage/fast/"


def test_sqlalchemys_asyncpg_adapter_still_sets_the_attributes_the_fast_path_reads() -> None:
    from sqlalchemy.dialects.postgresql import asyncpg

    classes = (*asyncpg.AsyncAdapt_asyncpg_connection.__mro__, *asyncpg.PGDialect_asyncpg.__mro__)
    source = "".join(inspect.getsource(c) for c in classes if c.__module__.startswith("sqlalchemy"))
    names = ("self._execute_mutex =", "self._transaction =", "self._invalidate_schema_cache_asof =")
    missing = [name for name in names if name not in source]
    assert not missing, f"SQLAlchemy's asyncpg adapter no longer sets {missing}: storage/fast/"


@pytest.mark.parametrize(("package", "prefix"), sorted(PINNED.items()))
def test_the_installed_version_is_the_pinned_one(package: str, prefix: str) -> None:
    installed = version(package)
    assert installed.startswith(prefix), (
        f"{package} {installed} is installed; the fenced code is tested with {prefix}*"
    )


def test_the_check_can_fail() -> None:
    with pytest.raises(AttributeError):
        _lookup("aiosqlite", "Connection._a_name_that_never_was")
