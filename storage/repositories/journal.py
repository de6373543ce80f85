"""The journal's SQL repository: the case audit trail, the access log, registry changes."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from mediation.journal import AccessEntry, AccessPurpose, CaseEvent, CaseEventKind, MediatorEvent
from storage import direct
from storage.direct import Direct
from storage.models import AccessLogRow, CaseEventRow, MediatorEventRow

# Plain INSERTs; the values come as parameters named after the columns.
_INSERT_CASE_EVENT = Direct(insert(CaseEventRow))
_INSERT_ACCESS = Direct(insert(AccessLogRow))


class SqlJournal:
    """The case audit trail, the access log and the registry's change log."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def case_event(self, event: CaseEvent) -> None:
        # An INSERT of its own, not an ORM row flushed at commit: every claim and release
        # writes one, and the flush machinery cost more than the statement.
        await direct.execute(
            self._session,
            _INSERT_CASE_EVENT,
            {
                "case_id": event.case_id,
                "kind": event.kind.value,
                "actor_id": event.actor_id,
                "at": event.at,
                "detail": dict(event.detail),
            },
        )

    async def access(self, entry: AccessEntry) -> None:
        await direct.execute(
            self._session,
            _INSERT_ACCESS,
            {
                "case_id": entry.case_id,
                "viewer_id": entry.viewer_id,
                "at": entry.at,
                "purpose": entry.purpose.value,
            },
        )

    async def mediator_event(self, event: MediatorEvent) -> None:
        self._session.add(
            MediatorEventRow(
                mediator_id=event.mediator_id,
                actor_id=event.actor_id,
                at=event.at,
                change=dict(event.change),
            )
        )

    async def case_events(self, case_id: int) -> list[CaseEvent]:
        rows = await self._session.scalars(
            select(CaseEventRow)
            .where(CaseEventRow.case_id == case_id)
            .order_by(CaseEventRow.at, CaseEventRow.id)
        )
        return [
            CaseEvent(r.case_id, CaseEventKind(r.kind), r.actor_id, r.at, dict(r.detail))
            for r in rows
        ]

    async def accesses(self, case_id: int) -> list[AccessEntry]:
        rows = await self._session.scalars(
            select(AccessLogRow)
            .where(AccessLogRow.case_id == case_id)
            .order_by(AccessLogRow.at, AccessLogRow.id)
        )
        return [AccessEntry(r.case_id, r.viewer_id, r.at, AccessPurpose(r.purpose)) for r in rows]

    async def mediator_events(self, mediator_id: int) -> list[MediatorEvent]:
        rows = await self._session.scalars(
            select(MediatorEventRow)
            .where(MediatorEventRow.mediator_id == mediator_id)
            .order_by(MediatorEventRow.at, MediatorEventRow.id)
        )
        return [MediatorEvent(r.mediator_id, r.actor_id, r.at, dict(r.change)) for r in rows]
