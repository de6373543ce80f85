"""A card click's activity id, recorded in the same transaction as the change it makes.

Teams redelivers an activity it is not sure arrived, with the same id. Recording the id in
a transaction of its own before the turn (as Sopu still does for messages, whose replies go
out through the Bot Connector) costs a durable commit on every click, and leaves a gap: a
crash between that commit and the change loses the change, and the redelivery is then
dropped as seen. Here the id goes into the first transaction of the turn that changes the
bank, so both are committed together or not at all; a click that changes nothing (most
clicks: refusals, re-claims, refreshes) records nothing, and its redelivery is simply
answered again, as things now stand.

A redelivery of a click that has made its change finds the id in the turn's first
transaction and stops there. Two deliveries of one click that run at once both get as far
as the commit; the second collides on the id's primary key, its transaction is rolled
back, and the turn learns it is a duplicate (``Delivery.duplicate``), so nothing of it is
sent either.

Only sessions made by ``session_factory`` (storage/uow.py) take part. Writes to the
bookkeeping tables (``storage.direct.BOOKKEEPING_TABLES``) do not count as changes.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, event, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

from storage import direct
from storage.direct import BOOKKEEPING_TABLES, table_name
from storage.direct import WROTE as _WROTE
from storage.models import ProcessedActivityRow

# Whether an activity id is recorded; BotStore.seen asks the same.
SEEN = direct.Direct(
    select(ProcessedActivityRow.key).where(ProcessedActivityRow.key == bindparam("key"))
)
# The record of a delivery whose turn changed the bank.
_RECORD = direct.Direct(
    insert(ProcessedActivityRow).values(key=bindparam("key"), seen_at=bindparam("seen_at"))
)
_RECORDING = "sopu_recording"


@dataclass
class Delivery:
    """One delivery of an activity, while its turn runs."""

    key: str
    seen_at: datetime
    checked: bool = False  # its id was looked up, in the turn's first transaction
    recorded: bool = False  # its id is committed with the turn's first change
    duplicate: bool = False  # another delivery of the same activity made the change


class Duplicate(Exception):
    """Another delivery of this activity has already committed its change."""


_current: ContextVar[Delivery | None] = ContextVar("sopu_delivery", default=None)


@contextlib.contextmanager
def delivering(key: str, seen_at: datetime) -> Iterator[Delivery]:
    """Run a turn as this delivery: its first committed change records ``key``."""
    delivery = Delivery(key, seen_at)
    token = _current.set(delivery)
    try:
        yield delivery
    finally:
        _current.reset(token)


class RecordingSession(Session):
    """A session that records the current delivery's id with the first change it commits."""


@event.listens_for(RecordingSession, "after_begin")
def _look_up_delivery(session: Session, transaction: Any, connection: Connection) -> None:
    # A redelivery of a click that has made its change stops at the turn's first
    # transaction: the lookup rides on it instead of costing a transaction of its own.
    direct.on_begin(session.info, connection)
    delivery = _current.get()
    if delivery is None or delivery.checked:
        return
    delivery.checked = True
    raw = session.info[direct.RAW]
    params = {"key": delivery.key}
    if raw is direct.NOT_INLINE:
        seen = connection.execute(SEEN.statement, params).first() is not None
    else:
        seen = bool(direct.fetch(raw, connection.dialect, SEEN, params))
    if seen:
        delivery.duplicate = True
        raise Duplicate(delivery.key)


@event.listens_for(RecordingSession, "after_transaction_end")
def _transaction_ended(session: Session, transaction: Any) -> None:
    if transaction.parent is None:
        direct.on_end(session.info)


@event.listens_for(RecordingSession, "do_orm_execute")
def _statement_writes(state: ORMExecuteState) -> None:
    writes = state.is_insert or state.is_update or state.is_delete
    if writes and table_name(state.statement) not in BOOKKEEPING_TABLES:
        state.session.info[_WROTE] = True


@event.listens_for(RecordingSession, "before_flush")
def _flush_writes(session: Session, flush_context: UOWTransaction, instances: Any) -> None:
    for row in itertools.chain(session.new, session.dirty, session.deleted):
        if table_name(row) not in BOOKKEEPING_TABLES:
            session.info[_WROTE] = True
            return


@event.listens_for(RecordingSession, "before_commit")
def _record_delivery(session: Session) -> None:
    delivery = _current.get()
    if delivery is None or delivery.recorded or delivery.duplicate:
        return
    session.flush()  # pending rows count as this transaction's changes too
    if not session.info.get(_WROTE):
        return
    params = {"key": delivery.key, "seen_at": delivery.seen_at}
    raw = session.info.get(direct.RAW, direct.NOT_INLINE)
    try:
        # A plain INSERT: a second delivery of the same activity collides on the key
        # (on PostgreSQL it waits for the first to commit or roll back).
        if raw is direct.NOT_INLINE:
            session.execute(_RECORD.statement, params)
        else:
            assert session.bind is not None
            direct.write(raw, session.bind.dialect, _RECORD, params)
    except IntegrityError:
        delivery.duplicate = True
        raise Duplicate(delivery.key) from None
    session.info[_RECORDING] = delivery


@event.listens_for(RecordingSession, "after_commit")
def _delivery_recorded(session: Session) -> None:
    delivery = session.info.pop(_RECORDING, None)
    if delivery is not None:
        delivery.recorded = True
    session.info.pop(_WROTE, None)


@event.listens_for(RecordingSession, "after_rollback")
def _nothing_recorded(session: Session) -> None:
    session.info.pop(_RECORDING, None)
    session.info.pop(_WROTE, None)
