"""The network's organisations, in SQL."""

from __future__ import annotations

import builtins

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mediation.organisations import Organisation, OrganisationKind, organisation_key
from storage.models_organisations import OrganisationRow


def _organisation(row: OrganisationRow) -> Organisation:
    return Organisation(
        name=row.name,
        kind=OrganisationKind(row.kind) if row.kind else None,
        agreement_start=row.agreement_start,
        agreement_end=row.agreement_end,
        yearly_hours=row.yearly_hours,
        id=row.id,
    )


class SqlOrganisationRepository:
    """Implements :class:`mediation.organisations.OrganisationRepository`."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def list(self) -> builtins.list[Organisation]:
        rows = await self._session.scalars(select(OrganisationRow).order_by(OrganisationRow.name))
        return [_organisation(r) for r in rows]

    async def by_name(self, name: str) -> Organisation | None:
        row = await self._row(name)
        return _organisation(row) if row is not None else None

    async def save(self, organisation: Organisation) -> Organisation:
        row = await self._row(organisation.name)
        if row is None:
            row = OrganisationRow(name_key=organisation_key(organisation.name))
            self._session.add(row)
        row.name = " ".join(organisation.name.split())
        row.kind = organisation.kind.value if organisation.kind else None
        row.agreement_start = organisation.agreement_start
        row.agreement_end = organisation.agreement_end
        row.yearly_hours = organisation.yearly_hours
        await self._session.flush()
        return _organisation(row)

    async def _row(self, name: str) -> OrganisationRow | None:
        key = organisation_key(name)
        return await self._session.scalar(
            select(OrganisationRow).where(OrganisationRow.name_key == key)
        )
