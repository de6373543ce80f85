"""The SQL outbox: insert-if-absent by the unique key, and claiming rows for sending.

Both work the same on SQLite and PostgreSQL: ``INSERT ... ON CONFLICT DO NOTHING`` adds
only new keys, and a claim marks as being sent the rows it picked with ``FOR UPDATE SKIP
LOCKED`` (PostgreSQL) or under SQLite's single writer (BEGIN IMMEDIATE), so two senders
never take the same message.

The sender's statements for each message (claim, posting, finish, try again later, and
the card updates a shown card covers) are built once (``storage/direct.py``), and their
transactions commit as a unit of work does (``storage.db.commit``): on SQLite the one
connection is let go of before the disk is waited for, so the clicks' transactions do
not queue behind the sender's flushes.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, Integer, Table, bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mediation.notices import version_of
from mediation.outbox import (
    MessageKind,
    NewMessage,
    Outbox,
    OutboxKey,
    OutboxMessage,
    OutboxStatus,
    OutboxWriter,
)
from mediation.trouble import trouble_at
from storage import db, direct
from storage.models_jobs import OutboxRow

log = logging.getLogger(__name__)

# Rows per INSERT statement: well under SQLite's and asyncpg's bound-parameter limits.
_CHUNK = 500
# Up to this many messages (a change's few notes) go in one by one through a statement
# compiled once; a job's fan-out goes in chunks of many rows per statement.
_FEW = 8
_KEY = ["kind", "recipient", "subject", "period"]
_COLUMNS = (*_KEY, "payload", "status", "attempts", "created_at", "next_try_at", "error")


def _message(row: Any) -> OutboxMessage:
    """An outbox row (the ORM's, or a direct statement's with the same column names)."""
    return OutboxMessage(
        id=row.id,
        key=OutboxKey(MessageKind(row.kind), row.recipient, row.subject, row.period),
        payload=dict(row.payload),
        status=OutboxStatus(row.status),
        attempts=row.attempts,
        created_at=row.created_at,
        next_try_at=row.next_try_at,
        sent_at=row.sent_at,
        error=row.error,
    )


@dataclass(frozen=True)
class StatusCount:
    kind: MessageKind
    status: OutboxStatus
    count: int


def _insert_for(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"no insert-if-absent for {dialect}")


def _insert_one(insert: Any) -> direct.Direct:
    table = OutboxRow.__table__
    values = {c: bindparam(c, type_=table.c[c].type) for c in _COLUMNS}
    return direct.Direct(insert(table).values(values).on_conflict_do_nothing(index_elements=_KEY))


# One message, if its key is new: compiled once per dialect rather than for every change.
_INSERT_ONE = {"postgresql": _insert_one(postgresql.insert), "sqlite": _insert_one(sqlite.insert)}


async def add_rows(session: AsyncSession, messages: Sequence[NewMessage], now: datetime) -> int:
    """Insert the messages whose key is new, in the session's transaction; how many were new."""
    values = [
        {
            "kind": m.key.kind.value,
            "recipient": m.key.recipient.lower(),
            "subject": m.key.subject,
            "period": m.key.period,
            "payload": dict(m.payload),
            "status": OutboxStatus.PENDING.value,
            "attempts": 0,
            "created_at": now,
            "next_try_at": now,
            "error": "",
        }
        for m in messages
    ]
    added = 0
    if len(values) <= _FEW:
        one = _INSERT_ONE.get(session.get_bind().dialect.name)
        if one is not None:
            for row in values:
                added += max(0, await direct.execute(session, one, row))
            return added
    insert = _insert_for(session)
    for start in range(0, len(values), _CHUNK):
        statement = (
            insert(OutboxRow)
            .values(values[start : start + _CHUNK])
            .on_conflict_do_nothing(index_elements=["kind", "recipient", "subject", "period"])
        )
        result = cast(CursorResult[Any], await session.execute(statement))
        added += max(0, result.rowcount)
    return added


# -- the sender's statements, built once ---------------------------------------------------

_TABLE = cast(Table, OutboxRow.__table__)
_MOMENT = _TABLE.c.next_try_at.type  # every moment column's type: timezone-aware datetimes
_PENDING = OutboxStatus.PENDING.value
_SENDING = OutboxStatus.SENDING.value


_CHANNEL_KINDS = [kind.value for kind in MessageKind if kind.to_channel]


def _due(recipients: bool, subjects: bool) -> direct.Direct:
    """Up to ``limit`` due messages, oldest first; left for later: those to the recipients
    in ``skip`` and the channel's messages about the subjects in ``skip_subjects``."""
    due = (
        select(*_TABLE.c)
        .where(
            _TABLE.c.status == _PENDING,
            _TABLE.c.next_try_at <= bindparam("now", type_=_MOMENT),
        )
        .order_by(_TABLE.c.next_try_at, _TABLE.c.id)
        .limit(bindparam("limit", type_=Integer))
        .with_for_update(skip_locked=True)
    )
    if recipients:
        due = due.where(_TABLE.c.recipient.not_in(bindparam("skip", expanding=True)))
    if subjects:
        due = due.where(
            ~(
                _TABLE.c.kind.in_(_CHANNEL_KINDS)
                & _TABLE.c.subject.in_(bindparam("skip_subjects", expanding=True))
            )
        )
    return direct.Direct(due)


# By whether recipients, and whether channel subjects, are left for later.
_DUE = {(r, s): _due(r, s) for r in (False, True) for s in (False, True)}
_TAKE = direct.Direct(
    update(_TABLE)
    .where(_TABLE.c.id.in_(bindparam("w_ids", expanding=True)), _TABLE.c.status == _PENDING)
    .values(
        status=_SENDING,
        claimed_at=bindparam("w_now", type_=_MOMENT),
        posting_at=None,
        attempts=_TABLE.c.attempts + 1,
    )
)
# One message's row; the columns to change come as parameters, the row's id as w_id.
_SET = direct.Direct(update(_TABLE).where(_TABLE.c.id == bindparam("w_id")))
_SET_IF = direct.Direct(
    update(_TABLE).where(_TABLE.c.id == bindparam("w_id"), _TABLE.c.status == bindparam("w_if"))
)
_WAITING_UPDATES = direct.Direct(
    select(_TABLE.c.id, _TABLE.c.period).where(
        _TABLE.c.kind == MessageKind.CARD_UPDATE.value,
        _TABLE.c.subject == bindparam("subject"),
        _TABLE.c.status == _PENDING,
    )
)
_SHOWN = direct.Direct(
    update(_TABLE)
    .where(_TABLE.c.id.in_(bindparam("w_ids", expanding=True)), _TABLE.c.status == _PENDING)
    .values(
        status=OutboxStatus.SENT.value,
        sent_at=bindparam("w_now", type_=_MOMENT),
        error=bindparam("w_error", type_=_TABLE.c.error.type),
    )
)


def _one_each(rows: list[Any]) -> list[Any]:
    """The rows less all but the first (the oldest) for each recipient, and for each case's
    channel card.

    One chat takes one post at a time, so more of one person's would only wait there,
    holding the sender's places; and a card shows the case as it stands when it is sent,
    so the first of a case's channel messages shows the later ones' changes too, which
    then end as covered by it (``finish`` with ``covers``) without being claimed.
    """
    seen: set[tuple[bool, str]] = set()
    kept = []
    for row in rows:
        channel = MessageKind(row.kind).to_channel
        where = (channel, row.subject if channel else row.recipient)
        if where not in seen:
            seen.add(where)
            kept.append(row)
    return kept


async def _supersede(session: AsyncSession, subject: str, version: int, now: datetime) -> int:
    """End the card updates still waiting that a card just shown at ``version`` covers.

    A card update shows the case as it stands when it is sent: those waiting for the
    same card for a change up to that version have nothing left to show, and end as
    sent. An update for a later change, or for one whose version is not known, waits
    for its own turn.
    """
    waiting = await direct.rows(session, _WAITING_UPDATES, {"subject": subject})
    covered = [
        row.id
        for row in waiting
        if (shown := version_of(row.period)) is not None and shown <= version
    ]
    if not covered:
        return 0
    params = {"w_ids": covered, "w_now": now, "w_error": "shown by a later update"}
    await direct.execute(session, _SHOWN, params)
    return len(covered)


class SessionOutbox:
    """Implements :class:`mediation.outbox.OutboxWriter` inside a unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add(self, messages: Sequence[NewMessage], now: datetime) -> int:
        if not messages:
            return 0
        return await add_rows(self._session, messages, now)


class SqlOutbox:
    """Implements :class:`mediation.outbox.Outbox`; each method is one short transaction,
    or on PostgreSQL statements that commit as they run (below).

    The sender's writes about one message (posting, finish, retry, release, renew) are
    single statements, or statements that need not stand or fall together: on PostgreSQL
    each commits on its own (``db.autocommit``), without BEGIN and COMMIT round trips.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        engine = db.autocommit(sessions.kw["bind"])
        self._statements = (
            async_sessionmaker(engine, expire_on_commit=False) if engine is not None else sessions
        )

    @contextlib.asynccontextmanager
    async def _writing(self) -> AsyncIterator[AsyncSession]:
        """A transaction of its own, committed on the way out (rolled back after an error).

        The commit waits for the disk as any commit does, but on SQLite's one connection
        only once it has let go of it (``storage.db.commit``).
        """
        async with self._sessions() as session:
            yield session
            await db.commit(session)

    @contextlib.asynccontextmanager
    async def _statement(self) -> AsyncIterator[AsyncSession]:
        """For a write whose statements each stand alone: committed as each runs where the
        database allows it, else as ``_writing`` does."""
        async with self._statements() as session:
            yield session
            await db.commit(session)

    async def add(self, messages: Sequence[NewMessage], now: datetime) -> int:
        async with self._writing() as session:
            return await add_rows(session, messages, now)

    async def claim(
        self,
        now: datetime,
        limit: int,
        skip_recipients: Collection[str] = (),
        skip_channel_subjects: Collection[str] = (),
    ) -> list[OutboxMessage]:
        """Claim up to ``limit`` due messages, none for ``skip_recipients`` and no channel
        message about ``skip_channel_subjects``; at most one for each recipient and one
        for each case's channel card (``_one_each``)."""
        async with self._writing() as session:
            params: dict[str, Any] = {"now": now, "limit": limit}
            if skip_recipients:
                params["skip"] = sorted(skip_recipients)
            if skip_channel_subjects:
                params["skip_subjects"] = sorted(skip_channel_subjects)
            due = _DUE[bool(skip_recipients), bool(skip_channel_subjects)]
            rows = _one_each(await direct.rows(session, due, params))
            if not rows:
                return []
            ids = [row.id for row in rows]
            taken = await direct.execute(session, _TAKE, {"w_ids": ids, "w_now": now})
            if taken not in (len(ids), -1):
                # The rows are locked by this transaction (FOR UPDATE, or SQLite's one
                # writer): none can have changed since they were read.
                raise RuntimeError(f"the outbox's claim took {taken} of the {len(ids)} rows read")
            # As the rows now stand: being sent, one more attempt.
            return [
                dataclasses.replace(
                    _message(row), status=OutboxStatus.SENDING, attempts=row.attempts + 1
                )
                for row in rows
            ]

    async def _set(self, message_id: int, only_if: OutboxStatus | None, **values: Any) -> int:
        async with self._statement() as session:
            if only_if is None:
                return await direct.execute(session, _SET, {"w_id": message_id, **values})
            params = {"w_id": message_id, "w_if": only_if.value, **values}
            return await direct.execute(session, _SET_IF, params)

    async def finish(
        self,
        message_id: int,
        status: OutboxStatus,
        now: datetime,
        error: str = "",
        covers: tuple[str, int] | None = None,
    ) -> None:
        if not status.final:
            raise ValueError(f"{status} is not a final status")
        values: dict[str, Any] = {"status": status.value, "error": error[:500]}
        if status is OutboxStatus.SENT:
            values["sent_at"] = now
        # One commit (on SQLite one wait for the disk) for both. The message's own status
        # is what matters: should ending the covered updates fail, they are only sent in
        # their turn and show the same card again.
        async with self._statement() as session:
            await direct.execute(session, _SET, {"w_id": message_id, **values})
            if covers is not None:
                try:
                    await _supersede(session, *covers, now)
                except SQLAlchemyError as exc:
                    log.warning("covered card updates stay queued (%s)", trouble_at(exc))

    async def retry_at(self, message_id: int, when: datetime, error: str) -> None:
        await self._set(
            message_id,
            OutboxStatus.SENDING,
            status=OutboxStatus.PENDING.value,
            next_try_at=when,
            error=error[:500],
        )

    async def release(self, message_ids: Sequence[int]) -> None:
        if not message_ids:
            return
        async with self._statement() as session:
            await session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id.in_(list(message_ids)),
                    OutboxRow.status == OutboxStatus.SENDING.value,
                    OutboxRow.posting_at.is_(None),
                )
                .values(status=OutboxStatus.PENDING.value, attempts=OutboxRow.attempts - 1)
                .execution_options(synchronize_session=False)
            )

    async def waiting(self, kind: MessageKind, subject: str) -> bool:
        """Whether a message of this kind about this subject is still to be sent."""
        async with self._sessions() as session:
            found = await session.scalar(
                select(OutboxRow.id)
                .where(
                    OutboxRow.kind == kind.value,
                    OutboxRow.subject == subject,
                    OutboxRow.status.in_([OutboxStatus.PENDING.value, OutboxStatus.SENDING.value]),
                )
                .limit(1)
            )
            return found is not None

    async def due_now(self, kind: MessageKind, now: datetime) -> int:
        """Pending messages of a kind that wait for later are due now: their wait is over."""
        async with self._writing() as session:
            result = cast(
                CursorResult[Any],
                await session.execute(
                    update(OutboxRow)
                    .where(
                        OutboxRow.kind == kind.value,
                        OutboxRow.status == OutboxStatus.PENDING.value,
                        OutboxRow.next_try_at > now,
                    )
                    .values(next_try_at=now)
                    .execution_options(synchronize_session=False)
                ),
            )
            return result.rowcount

    async def posting(self, message_id: int, now: datetime) -> bool:
        """Mark a claimed message as going out now; False if it is no longer ours."""
        written = await self._set(message_id, OutboxStatus.SENDING, posting_at=now)
        return written == 1

    async def renew(self, message_ids: Sequence[int], now: datetime) -> None:
        """A live sender still holds these claims: they are not abandoned."""
        if not message_ids:
            return
        async with self._statement() as session:
            await session.execute(
                update(OutboxRow)
                .where(
                    OutboxRow.id.in_(list(message_ids)),
                    OutboxRow.status == OutboxStatus.SENDING.value,
                )
                .values(claimed_at=now)
                .execution_options(synchronize_session=False)
            )

    async def abandon_in_flight(self, claimed_before: datetime) -> tuple[int, int]:
        """Messages a sender claimed before the moment and never finished (it died).

        Those it never started posting go back to pending; those it was posting become
        uncertain, except the case's channel card: an update shows the case as it then
        stands and may be made twice, and a case never posted would stay unseen by every
        mediator, which is worse than its card appearing twice. Returns (released,
        uncertain).
        """
        stale = (
            OutboxRow.status == OutboxStatus.SENDING.value,
            OutboxRow.claimed_at < claimed_before,
        )
        again = OutboxRow.kind.in_([k.value for k in MessageKind if k.to_channel])
        async with self._writing() as session:
            released = cast(
                CursorResult[Any],
                await session.execute(
                    update(OutboxRow)
                    .where(*stale, OutboxRow.posting_at.is_(None) | again)
                    .values(status=OutboxStatus.PENDING.value, attempts=OutboxRow.attempts - 1)
                    .execution_options(synchronize_session=False)
                ),
            ).rowcount
            uncertain = cast(
                CursorResult[Any],
                await session.execute(
                    update(OutboxRow)
                    .where(*stale, OutboxRow.posting_at.is_not(None), ~again)
                    .values(
                        status=OutboxStatus.UNCERTAIN.value,
                        error="the sender stopped while posting it; not re-sent",
                    )
                    .execution_options(synchronize_session=False)
                ),
            ).rowcount
            return released, uncertain

    async def unfinished(self, now: datetime | None = None) -> int:
        """Messages being sent or waiting: due by ``now``, or at any time when it is None."""
        waiting = OutboxRow.status == OutboxStatus.PENDING.value
        if now is not None:
            waiting = waiting & (OutboxRow.next_try_at <= now)
        async with self._sessions() as session:
            count = await session.scalar(
                select(func.count())
                .select_from(OutboxRow)
                .where((OutboxRow.status == OutboxStatus.SENDING.value) | waiting)
            )
            return int(count or 0)

    # -- for people ----------------------------------------------------------------------

    async def requeue(self, message_id: int, now: datetime) -> bool:
        """A coordinator sends a failed or uncertain message again, knowingly."""
        async with self._writing() as session:
            row = await session.get(OutboxRow, message_id, with_for_update=True)
            if row is None or not OutboxStatus(row.status).trouble:
                return False
            row.status = OutboxStatus.PENDING.value
            row.next_try_at = now
            row.attempts = 0
            row.error = ""
            return True

    async def get(self, message_id: int) -> OutboxMessage | None:
        async with self._sessions() as session:
            row = await session.get(OutboxRow, message_id)
            return _message(row) if row is not None else None

    async def counts(self, since: datetime, recipient: str | None = None) -> list[StatusCount]:
        """Messages created since a moment, by kind and status."""
        query = (
            select(OutboxRow.kind, OutboxRow.status, func.count())
            .where(OutboxRow.created_at >= since)
            .group_by(OutboxRow.kind, OutboxRow.status)
            .order_by(OutboxRow.kind, OutboxRow.status)
        )
        if recipient is not None:
            query = query.where(OutboxRow.recipient == recipient.lower())
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        return [StatusCount(MessageKind(k), OutboxStatus(s), int(n)) for k, s, n in rows]

    async def recent(
        self,
        since: datetime,
        *,
        statuses: Sequence[OutboxStatus] | None = None,
        recipient: str | None = None,
        limit: int = 20,
    ) -> list[OutboxMessage]:
        query = select(OutboxRow).where(OutboxRow.created_at >= since)
        if statuses is not None:
            query = query.where(OutboxRow.status.in_([s.value for s in statuses]))
        if recipient is not None:
            query = query.where(OutboxRow.recipient == recipient.lower())
        query = query.order_by(OutboxRow.created_at.desc(), OutboxRow.id.desc()).limit(limit)
        async with self._sessions() as session:
            return [_message(r) for r in (await session.scalars(query)).all()]

    async def all(self) -> list[OutboxMessage]:
        """Every message, oldest first (tests and small deployments)."""
        async with self._sessions() as session:
            rows = (await session.scalars(select(OutboxRow).order_by(OutboxRow.id))).all()
            return [_message(r) for r in rows]


if TYPE_CHECKING:
    # mypy checks here that SqlOutbox and SessionOutbox fill the domain's ports.
    _port: type[Outbox] = SqlOutbox
    _writer: type[OutboxWriter] = SessionOutbox
