"""The walk-in service's shifts, swaps and visits in SQL (mediation/walk_in.py).

A use case that changes a shift or a swap reads it ``for_update``: on PostgreSQL the row
stays locked until the commit, so an acceptance and a coordinator's re-assignment of the
same shift take their turns (SQLite's write transactions take theirs anyway).
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from mediation.walk_in import Referral, Shift, ShiftKind, Swap, SwapState, Visit, VisitKind
from storage.models_walk_in import ShiftRow, ShiftSwapRow, VisitRow


def _shift(row: ShiftRow) -> Shift:
    return Shift(ShiftKind(row.kind), row.day, row.starts_at, row.ends_at, row.worker_id, row.id)


def _swap(row: ShiftSwapRow) -> Swap:
    return Swap(
        row.shift_id,
        row.from_id,
        row.to_id,
        row.offered_at,
        row.return_shift_id,
        SwapState(row.state),
        row.answered_at,
        row.id,
    )


def _visit(row: VisitRow) -> Visit:
    return Visit(
        row.shift_id,
        VisitKind(row.kind),
        row.minutes,
        Referral(row.referral),
        row.booked,
        row.recorded_by,
        row.recorded_at,
        row.id,
    )


class SqlWalkIn:
    """The walk-in service of one unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def shifts(self, first: date, last: date) -> builtins.list[Shift]:
        rows = await self._session.scalars(
            select(ShiftRow)
            .where(ShiftRow.day >= first, ShiftRow.day <= last)
            .order_by(ShiftRow.starts_at, ShiftRow.kind)
        )
        return [_shift(r) for r in rows]

    async def shift(self, shift_id: int, *, for_update: bool = False) -> Shift | None:
        query = select(ShiftRow).where(ShiftRow.id == shift_id)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query.execution_options(populate_existing=True))
        return _shift(row) if row is not None else None

    async def add_shift(self, shift: Shift) -> Shift:
        row = ShiftRow(
            kind=shift.kind.value,
            day=shift.day,
            starts_at=shift.starts_at,
            ends_at=shift.ends_at,
            worker_id=shift.worker_id,
        )
        self._session.add(row)
        await self._session.flush()
        shift.id = row.id
        return shift

    async def save_shift(self, shift: Shift) -> None:
        row = await self._session.get(ShiftRow, shift.id)
        if row is None:
            raise ValueError("save_shift() takes a shift that is stored")
        row.worker_id = shift.worker_id
        await self._session.flush()

    async def swaps(
        self, *, shift_ids: Sequence[int] = (), person_id: int | None = None
    ) -> builtins.list[Swap]:
        """The open offers of these shifts, or those someone made or was made."""
        query = select(ShiftSwapRow).where(ShiftSwapRow.state == SwapState.OFFERED.value)
        if person_id is not None:
            query = query.where(
                or_(ShiftSwapRow.from_id == person_id, ShiftSwapRow.to_id == person_id)
            )
        else:
            query = query.where(ShiftSwapRow.shift_id.in_(list(shift_ids)))
        rows = await self._session.scalars(query.order_by(ShiftSwapRow.id))
        return [_swap(r) for r in rows]

    async def swap(self, swap_id: int, *, for_update: bool = False) -> Swap | None:
        query = select(ShiftSwapRow).where(ShiftSwapRow.id == swap_id)
        if for_update:
            query = query.with_for_update()
        row = await self._session.scalar(query.execution_options(populate_existing=True))
        return _swap(row) if row is not None else None

    async def add_swap(self, swap: Swap) -> Swap:
        row = ShiftSwapRow(
            shift_id=swap.shift_id,
            from_id=swap.from_id,
            to_id=swap.to_id,
            return_shift_id=swap.return_shift_id,
            state=swap.state.value,
            offered_at=swap.offered_at,
            answered_at=swap.answered_at,
        )
        self._session.add(row)
        await self._session.flush()
        swap.id = row.id
        return swap

    async def save_swap(self, swap: Swap) -> None:
        row = await self._session.get(ShiftSwapRow, swap.id)
        if row is None:
            raise ValueError("save_swap() takes a swap that is stored")
        row.state, row.answered_at = swap.state.value, swap.answered_at
        await self._session.flush()

    async def visits(self, shift_ids: Sequence[int]) -> builtins.list[Visit]:
        rows = await self._session.scalars(
            select(VisitRow).where(VisitRow.shift_id.in_(list(shift_ids))).order_by(VisitRow.id)
        )
        return [_visit(r) for r in rows]

    async def visit(self, visit_id: int) -> Visit | None:
        row = await self._session.get(VisitRow, visit_id)
        return _visit(row) if row is not None else None

    async def add_visit(self, visit: Visit, form_id: str) -> Visit | None:
        """The visit stored; None when the same form (``form_id``) recorded one already."""
        if form_id:
            found = await self._session.scalar(
                select(VisitRow.id).where(VisitRow.form_id == form_id)
            )
            if found is not None:
                return None
        row = VisitRow(
            shift_id=visit.shift_id,
            kind=visit.kind.value,
            minutes=visit.minutes,
            referral=visit.referral.value,
            booked=visit.booked,
            recorded_by=visit.recorded_by,
            recorded_at=visit.recorded_at,
            form_id=form_id or None,
        )
        self._session.add(row)
        await self._session.flush()
        return replace(visit, id=row.id)

    async def remove_visit(self, visit_id: int) -> None:
        await self._session.execute(delete(VisitRow).where(VisitRow.id == visit_id))
