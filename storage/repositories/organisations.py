"""The network's organisations, in SQL."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from mediation.organisations import Organisation, OrganisationKind, organisation_key
from storage import direct
from storage.models_organisations import OrganisationRow

# Every claim asks for the claimer's organisation: a plain statement, not the ORM's.
_BY_KEY = direct.Direct(
    select(
        OrganisationRow.id,
        OrganisationRow.name,
        OrganisationRow.kind,
        OrganisationRow.agreement_start,
        OrganisationRow.agreement_end,
        OrganisationRow.yearly_hours,
    ).where(OrganisationRow.name_key == bindparam("key"))
)


def _organisation(row: Any) -> Organisation:
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
        found = await direct.rows(self._session, _BY_KEY, {"key": organisation_key(name)})
        return _organisation(found[0]) if found else None

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
