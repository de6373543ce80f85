"""The registry's qualifications of people, in SQL."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models_organisations import QualificationRow


class SqlQualifications:
    """Implements :class:`mediation.ports.QualificationRepository`."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def of(self, mediator_ids: Sequence[int]) -> dict[int, frozenset[str]]:
        found: dict[int, set[str]] = {i: set() for i in mediator_ids}
        if mediator_ids:
            rows = await self._session.execute(
                select(QualificationRow.mediator_id, QualificationRow.code).where(
                    QualificationRow.mediator_id.in_(sorted(set(mediator_ids)))
                )
            )
            for mediator_id, code in rows.all():
                found[mediator_id].add(code)
        return {i: frozenset(codes) for i, codes in found.items()}

    async def set(self, mediator_id: int, qualifications: frozenset[str]) -> None:
        await self._session.execute(
            delete(QualificationRow).where(QualificationRow.mediator_id == mediator_id)
        )
        self._session.add_all(
            QualificationRow(mediator_id=mediator_id, code=code) for code in sorted(qualifications)
        )
        await self._session.flush()
