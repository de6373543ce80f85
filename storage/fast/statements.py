"""Direct statements on the driver's own connection: compiled once, run without the session.

Through the session each statement costs far more Python than the database's own work for
it (bench/README.md). A statement is compiled by SQLAlchemy once per dialect and set of
parameter keys, with SQLAlchemy's own conversions of parameters and results (so a row
reads the same either way), and run on the driver connection of the session's open
transaction, inside that transaction: sqlite3's here (``cursor``), asyncpg's in
``postgres.py``. It reads SQLAlchemy's compiler internals
(``_bind_processors``, ``_collected_params``, ``construct_expanded_state``), pinned with
the package (see ``__init__``). Only ``storage/db.py`` calls it.
"""

from __future__ import annotations

import sqlite3
from collections import namedtuple
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, StatementError
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.sql.selectable import Select

Cache = dict[tuple[int, frozenset[str]], "_Compiled"]


def compiled_for(
    statement: Executable, cache: Cache, dialect: Dialect, params: dict[str, Any]
) -> _Compiled:
    # An UPDATE's SET clause depends on which column values are passed.
    keys = frozenset(params) if isinstance(statement, UpdateBase) else frozenset()
    key = (id(dialect), keys)
    found = cache.get(key)
    if found is None:
        found = cache[key] = _Compiled(statement, dialect, keys)
    return found


def cursor(raw: sqlite3.Connection, sql: str, values: list[Any]) -> sqlite3.Cursor:
    # No wait for a lock here: the transaction began with BEGIN IMMEDIATE and holds it.
    try:
        return raw.execute(sql, values)
    except sqlite3.Error as exc:
        # SQLAlchemy's own exception for it (IntegrityError, OperationalError, ...), with
        # the values hidden as the engines hide them: they may be a family's data.
        raise DBAPIError.instance(sql, values, exc, sqlite3.Error, hide_parameters=True) from exc


class _Compiled:
    def __init__(self, statement: Executable, dialect: Dialect, keys: frozenset[str]) -> None:
        assert isinstance(statement, ClauseElement)
        compiled = statement.compile(dialect=dialect, column_keys=sorted(keys) or None)
        assert isinstance(compiled, SQLCompiler)
        self.compiled = compiled
        self.binds: dict[str, Callable[[Any], Any]] = dict(compiled._bind_processors)  # type: ignore[arg-type]
        self.row: Callable[[Sequence[Any]], Any] | None = None
        self.direct = True  # False: it runs through the session, never on the driver
        self.converters: list[tuple[int, Callable[[Any], Any]]] = []
        if isinstance(statement, Select):
            names = list(statement.selected_columns.keys())
            # Same names and values as SQLAlchemy's Row: attribute access by column key.
            # Columns without a name of their own (a count) are read by position.
            row_type: Any = namedtuple("DirectRow", names, rename=True)  # type: ignore[misc]
            self.row = row_type._make
            for n, column in enumerate(statement.selected_columns):
                impl = column.type.dialect_impl(dialect)
                try:
                    convert = impl.result_processor(dialect, None)
                except Exception:
                    # A conversion that needs the driver's own type of the column (asyncpg's
                    # of a float or a decimal): such a statement goes through the session.
                    self.direct = False
                    break
                if convert is not None:
                    self.converters.append((n, convert))

        self.plan = _plan(compiled)
        # A statement with IN lists: the SQL and placeholder order for each set of list
        # lengths, learnt from SQLAlchemy's own expansion the first time (None: not to be
        # learnt; such a call always goes SQLAlchemy's way).
        self.lists = _lists(compiled) if self.plan is None else None
        self._by_lengths: dict[tuple[int, ...], tuple[str, tuple[_Slot, ...]] | None] = {}

    def rows(self, found: list[Any]) -> list[Any]:
        """The driver's rows of this SELECT, converted and named as SQLAlchemy's rows."""
        make, converters = self.row, self.converters
        assert make is not None, "rows() is for SELECT statements"
        if not converters:
            return [make(r) for r in found]
        out = []
        for r in found:
            values = list(r)
            for n, convert in converters:
                values[n] = convert(values[n])
            out.append(make(values))
        return out

    def sql_and_values(self, params: dict[str, Any]) -> tuple[str, list[Any]]:
        plan = self.plan
        if plan is not None:
            values = _values(plan, params)
            if values is not None:
                return self.compiled.string, values
        elif self.lists is not None:
            found = self._listed(params)
            if found is not None:
                return found
        return self._expanded(params)

    def _listed(self, params: dict[str, Any]) -> tuple[str, list[Any]] | None:
        """The SQL and values of a statement with IN lists, as learnt for their lengths."""
        assert self.lists is not None
        lists: dict[str, Any] = {}
        for key, name, default in self.lists:
            items = params[key] if key in params else params.get(name, default)
            if not isinstance(items, list | tuple) or any(isinstance(i, tuple) for i in items):
                return None  # missing, or a tuple IN: SQLAlchemy's way
            lists[name] = items
        shape = tuple(len(items) for items in lists.values())
        if shape not in self._by_lengths:
            self._by_lengths[shape] = _learn(self.compiled, params, lists)
            return None
        learnt = self._by_lengths[shape]
        if learnt is None:
            return None
        sql, slots = learnt
        values = _values(slots, params, lists)
        return None if values is None else (sql, values)

    def _expanded(self, params: dict[str, Any]) -> tuple[str, list[Any]]:
        # SQLAlchemy's own way: it expands IN lists and raises for a missing value.
        state = self.compiled.construct_expanded_state(params, escape_names=False)
        # Conversions of the parameters as written, and of those an IN list expanded to.
        binds: Any = self.binds
        expanded: Any = state.processors
        values = []
        try:
            for name in state.positiontup or ():
                value = state.parameters[name]
                convert = binds.get(name) or expanded.get(name)
                values.append(convert(value) if convert is not None else value)
        except Exception as exc:
            # A value the column's type refuses (a naive datetime): as SQLAlchemy raises it.
            kind = f"{type(exc).__module__}.{type(exc).__name__}"
            # The values hidden, as the engines hide them: they may be a family's data.
            raise StatementError(
                f"({kind}) {exc}", state.statement, params, exc, hide_parameters=True
            ) from exc
        return state.statement, values


# One placeholder: the parameter key it reads, the index of its value in an IN list (None:
# a value of its own), its name in the statement (the list's, for a list's value), its
# value when none is passed (_REQUIRED: it must be passed) and its conversion.
_Slot = tuple[str, int | None, str, Any, Callable[[Any], Any] | None]
_REQUIRED = object()


def _plan(compiled: SQLCompiler) -> tuple[_Slot, ...] | None:
    """The placeholders of a statement whose SQL is the same for every call, else None.

    ``construct_expanded_state`` rebuilds a statement's parameters on every call, for IN
    lists that expand into one placeholder per value; it took a third of a direct
    statement's time. A statement without such parameters can skip it: its SQL and the
    order of its placeholders never change, so the values are looked up in that order,
    as ``construct_params`` looks them up (by the parameter's key, then its name).
    """
    if (
        not compiled.positional
        or compiled.positiontup is None
        or compiled.post_compile_params
        or compiled.literal_execute_params
        # Values given by the statement's .params(), merged in by construct_params.
        or getattr(compiled, "_collected_params", None)
    ):
        return None
    processors: Any = compiled._bind_processors
    slots: list[_Slot] = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.callable is not None or bind.expanding:
            return None
        default = _REQUIRED if bind.required else bind.value
        slots.append((bind.key, None, name, default, processors.get(name)))
    return tuple(slots)


def _lists(compiled: SQLCompiler) -> tuple[tuple[str, str, Any], ...] | None:
    """A statement's IN lists (key, name, own value), if nothing else varies between calls.

    Such a statement's SQL depends only on the lengths of its lists: SQLAlchemy expands
    each into one placeholder per value. ``construct_expanded_state`` does that on every
    call, and took a third of the time of the read of a user and the people on a case
    (bench/README.md); here it is done once for each set of lengths.
    """
    if (
        not compiled.positional
        or compiled.positiontup is None
        or compiled.literal_execute_params
        or getattr(compiled, "_collected_params", None)
    ):
        return None
    lists = []
    for name in compiled.positiontup:
        bind = compiled.binds[name]
        if bind.callable is not None:
            return None
        if bind.expanding:
            if bind not in compiled.post_compile_params:
                return None
            lists.append((bind.key, name, None if bind.required else bind.value))
    return tuple(lists) or None


def _learn(
    compiled: SQLCompiler, params: dict[str, Any], lists: dict[str, Any]
) -> tuple[str, tuple[_Slot, ...]] | None:
    """The SQL and placeholders SQLAlchemy makes of these IN lists' lengths, or None."""
    try:
        state = compiled.construct_expanded_state(params, escape_names=False)
    except Exception:
        return None  # raised again on SQLAlchemy's way
    processors: Any = compiled._bind_processors
    elements = {
        f"{name}_{n + 1}": (name, n) for name, items in lists.items() for n in range(len(items))
    }
    slots: list[_Slot] = []
    for placeholder in state.positiontup or ():
        if placeholder in elements:
            name, index = elements[placeholder]
            slots.append(("", index, name, _REQUIRED, processors.get(name)))
            continue
        bind = compiled.binds.get(placeholder)
        if bind is None or bind.expanding:
            return None  # a placeholder not understood: never learnt
        default = _REQUIRED if bind.required else bind.value
        slots.append((bind.key, None, placeholder, default, processors.get(placeholder)))
    if sum(1 for slot in slots if slot[1] is not None) != len(elements):
        return None  # a value of a list without its placeholder: never learnt
    return state.statement, tuple(slots)


def _values(
    slots: tuple[_Slot, ...], params: dict[str, Any], lists: dict[str, Any] | None = None
) -> list[Any] | None:
    """The converted values in placeholder order; None sends the call the slow way.

    ``lists``: the values of the statement's IN lists by name, for the slots of their items.
    """
    values = []
    for key, index, name, default, convert in slots:
        if index is not None:
            assert lists is not None
            value = lists[name][index]
        elif key in params:
            value = params[key]
        elif name in params:
            value = params[name]
        elif default is _REQUIRED:
            return None  # SQLAlchemy's path raises its own error for it
        else:
            value = default
        if convert is not None:
            try:
                value = convert(value)
            except Exception:
                return None  # raised there as SQLAlchemy raises it
        values.append(value)
    return values
