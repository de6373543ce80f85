"""The registry's SQL repository: mediators with their away periods and completed cases."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    Executable,
    Integer,
    Select,
    Table,
    bindparam,
    delete,
    func,
    null,
    or_,
    select,
    type_coerce,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased, selectinload

from mediation.model import COMPLETING_OUTCOMES, AwayPeriod, CaseStatus, Mediator, Role
from storage import direct
from storage.direct import Direct
from storage.models import AwayPeriodRow, CaseRow, MediatorRow, SeatRow
from storage.models_calendar import CalendarFeedRow
from storage.repositories.text import words

# Per mediator row, the closed cases with a completing outcome where they hold a seat.
# Correlated, so it is counted for the mediators loaded only; built once, because building
# it cost more than running it.
_COMPLETED_CASES = (
    select(func.count())
    .select_from(SeatRow)
    .join(CaseRow, CaseRow.id == SeatRow.case_id)
    .where(
        SeatRow.holder_id == MediatorRow.id,
        CaseRow.status == CaseStatus.CLOSED.value,
        CaseRow.outcome.in_(sorted(o.value for o in COMPLETING_OUTCOMES)),
    )
    .correlate(MediatorRow)
    .scalar_subquery()
)


def _mediator(row: Any, away: tuple[AwayPeriod, ...]) -> Mediator:
    return Mediator(
        aad_object_id=row.aad_object_id,
        name=row.name,
        email=row.email,
        employer=row.employer,
        languages=frozenset(row.languages.split()),
        role=Role(row.role),
        experienced_mark=row.experienced_mark,
        active=row.active,
        away=away,
        completed_cases=int(row.completed or 0),
        id=row.id,
    )


# The hot reads (every card click reads a case and the people on it) are plain Core
# selects mapped by hand, the statements built once: loading ORM entities with their
# collections, and building each query anew, cost several times the queries themselves.
_MEDIATOR = cast(Table, MediatorRow.__table__)
_AWAY = cast(Table, AwayPeriodRow.__table__)
# A mediator per row, once per away period (usually none), with the completed count.
_MEDIATORS = (
    select(
        _MEDIATOR,
        _COMPLETED_CASES.label("completed"),
        _AWAY.c.start.label("away_start"),
        _AWAY.c.end.label("away_end"),
    )
    .select_from(_MEDIATOR.outerjoin(_AWAY, _AWAY.c.mediator_id == _MEDIATOR.c.id))
    .order_by(_MEDIATOR.c.name, _MEDIATOR.c.id, _AWAY.c.start)
)
_BY_ID = _MEDIATORS.where(_MEDIATOR.c.id == bindparam("mediator_id"))
_MEDIATOR_BY_ID = Direct(_BY_ID)
_MEDIATOR_BY_ID_FOR_UPDATE = Direct(_BY_ID.with_for_update(of=_MEDIATOR))
_COORDINATORS_FOR_UPDATE = (
    select(_MEDIATOR.c.id)
    .where(_MEDIATOR.c.role == Role.COORDINATOR.value)
    .order_by(_MEDIATOR.c.id)
    .with_for_update()
)
_MEDIATOR_BY_AAD = Direct(_MEDIATORS.where(_MEDIATOR.c.aad_object_id == bindparam("aad")))
_MEDIATORS_BY_IDS = Direct(_MEDIATORS.where(_MEDIATOR.c.id.in_(bindparam("ids", expanding=True))))
_MEDIATOR_BY_AAD_OR_IDS = Direct(
    _MEDIATORS.where(
        or_(
            _MEDIATOR.c.aad_object_id == bindparam("aad"),
            _MEDIATOR.c.id.in_(bindparam("ids", expanding=True)),
        )
    )
)


def _mediators(rows: Iterable[Any]) -> builtins.list[Mediator]:
    found: builtins.list[Mediator] = []
    away: dict[int, builtins.list[AwayPeriod]] = {}
    first: dict[int, Any] = {}
    for row in rows:
        if row.id not in first:
            first[row.id] = row
            away[row.id] = []
        if row.away_start is not None:
            away[row.id].append(AwayPeriod(row.away_start, row.away_end))
    for mediator_id, row in first.items():
        found.append(_mediator(row, tuple(away[mediator_id])))
    return found


def _away_rows(mediator: Mediator) -> list[AwayPeriodRow]:
    return [AwayPeriodRow(start=p.start, end=p.end) for p in mediator.away]


class SqlMediatorRepository:
    """The registry; every mediator comes with the count of cases they completed."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def _load(self, *where: Any, for_update: bool = False) -> builtins.list[Mediator]:
        return await self._run(_MEDIATORS.where(*where), for_update=for_update)

    async def _run(
        self,
        query: Select[Any] | Direct,
        params: dict[str, Any] | None = None,
        *,
        for_update: bool = False,
    ) -> builtins.list[Mediator]:
        if isinstance(query, Direct):
            return _mediators(await direct.rows(self._session, query, params))
        if for_update:
            query = query.with_for_update(of=_MEDIATOR)
        return _mediators(await self._session.execute(query, params))

    async def get(self, mediator_id: int, *, for_update: bool = False) -> Mediator | None:
        query = _MEDIATOR_BY_ID_FOR_UPDATE if for_update else _MEDIATOR_BY_ID
        found = await self._run(query, {"mediator_id": mediator_id})
        return found[0] if found else None

    async def by_aad(self, aad_object_id: str) -> Mediator | None:
        found = await self._run(_MEDIATOR_BY_AAD, {"aad": aad_object_id.lower()})
        return found[0] if found else None

    async def by_ids(self, ids: Sequence[int]) -> dict[int, Mediator]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        found = await self._run(_MEDIATORS_BY_IDS, {"ids": wanted})
        return {m.id: m for m in found if m.id is not None}

    async def by_aad_and_ids(
        self, aad_object_id: str, ids: Sequence[int]
    ) -> tuple[Mediator | None, dict[int, Mediator]]:
        aad, wanted = aad_object_id.lower(), sorted(set(ids))
        found = await self._run(_MEDIATOR_BY_AAD_OR_IDS, {"aad": aad, "ids": wanted})
        me = next((m for m in found if m.aad_object_id == aad), None)
        return me, {m.id: m for m in found if m.id in wanted}

    async def list(self, *, active_only: bool = False) -> builtins.list[Mediator]:
        return await self._load(*([MediatorRow.active.is_(True)] if active_only else []))

    async def coordinators(self, *, for_update: bool = False) -> builtins.list[Mediator]:
        if for_update:
            # Locked in id order, whoever asks: two changes never lock them crosswise (a
            # deadlock), and the second waits for the first and then reads what it did.
            await self._session.execute(_COORDINATORS_FOR_UPDATE)
        return await self._load(MediatorRow.role == Role.COORDINATOR.value)

    async def add(self, mediator: Mediator) -> Mediator:
        row = MediatorRow(
            aad_object_id=mediator.aad_object_id.lower(),
            name=mediator.name,
            email=mediator.email,
            employer=mediator.employer,
            languages=words(sorted(mediator.languages)),
            role=mediator.role.value,
            experienced_mark=mediator.experienced_mark,
            active=mediator.active,
            created_at=datetime.now(UTC),
            away=_away_rows(mediator),
        )
        self._session.add(row)
        await self._session.flush()
        mediator.id = row.id
        mediator.aad_object_id = row.aad_object_id
        return mediator

    async def save(self, mediator: Mediator) -> None:
        if mediator.id is None:
            raise ValueError("save() takes a stored mediator; use add() for a new one")
        row = await self._session.get(
            MediatorRow,
            mediator.id,
            options=[selectinload(MediatorRow.away)],
            populate_existing=True,
        )
        if row is None:
            raise ValueError(f"mediator {mediator.id} is not stored")
        row.aad_object_id = mediator.aad_object_id.lower()
        row.name = mediator.name
        row.email = mediator.email
        row.employer = mediator.employer
        row.languages = words(sorted(mediator.languages))
        row.role = mediator.role.value
        row.experienced_mark = mediator.experienced_mark
        row.active = mediator.active
        if [(p.start, p.end) for p in row.away] != [(p.start, p.end) for p in mediator.away]:
            row.away = _away_rows(mediator)
        if not mediator.active:
            # Whoever leaves the registry, by the registry card or an import, keeps no
            # calendar feed: were they made active again, the old address must not answer.
            await self._session.execute(
                delete(CalendarFeedRow).where(CalendarFeedRow.mediator_id == mediator.id)
            )
        await self._session.flush()

    async def packages_taken(self, mediator_id: int, start: datetime, end: datetime) -> int:
        return (await self.packages_taken_in(mediator_id, [(start, end)]))[0]

    async def packages_taken_in(
        self, mediator_id: int, spans: Sequence[tuple[datetime, datetime]]
    ) -> builtins.list[int]:
        # One count per span over the same rows (a term and its year), in one statement.
        if not spans:
            return []
        params: dict[str, Any] = {"mediator_id": mediator_id}
        for n, (start, end) in enumerate(spans):
            params[f"start{n}"], params[f"end{n}"] = start, end
        query = _PACKAGES_TAKEN.get(len(spans)) or Direct(_packages(len(spans)))
        (row,) = await direct.rows(self._session, query, params)
        return [int(n or 0) for n in row]

    async def packages_by_mediator(self, start: datetime, end: datetime) -> dict[int, int]:
        rows = await self._session.execute(
            select(SeatRow.holder_id, func.count())
            .join(CaseRow, CaseRow.id == SeatRow.case_id)
            .where(
                SeatRow.holder_id.is_not(None),
                SeatRow.taken_at >= start,
                SeatRow.taken_at < end,
                CaseRow.status != CaseStatus.CANCELLED.value,
            )
            .group_by(SeatRow.holder_id)
        )
        return {int(h): int(n) for h, n in rows.all() if h is not None}

    async def workload(
        self, start: datetime, end: datetime
    ) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
        loads: dict[int, int] = {}
        pairs: dict[tuple[int, int], int] = {}
        for row in await direct.rows(self._session, _WORKLOAD, {"start": start, "end": end}):
            if row.other is None:
                loads[int(row.one)] = int(row.n)
            else:
                pairs[(int(row.one), int(row.other))] = int(row.n)
        return loads, pairs


def _workload() -> Executable:
    """Seats taken in [start, end) per holder, cancelled cases aside (``other`` NULL), and
    per two holders (lower id first) the cases both hold a seat on: one row a case, since a
    holder sits once on a case (UNIQUE(case_id, holder_id))."""
    taken = SeatRow.taken_at.type
    loads = (
        select(
            SeatRow.holder_id.label("one"),
            type_coerce(null(), Integer).label("other"),
            func.count().label("n"),
        )
        .join(CaseRow, CaseRow.id == SeatRow.case_id)
        .where(
            SeatRow.holder_id.is_not(None),
            SeatRow.taken_at >= bindparam("start", type_=taken),
            SeatRow.taken_at < bindparam("end", type_=taken),
            CaseRow.status != CaseStatus.CANCELLED.value,
        )
        .group_by(SeatRow.holder_id)
    )
    other = aliased(SeatRow)
    pairs = (
        select(SeatRow.holder_id, other.holder_id, func.count())
        .join(other, other.case_id == SeatRow.case_id)
        .where(SeatRow.holder_id < other.holder_id)
        .group_by(SeatRow.holder_id, other.holder_id)
    )
    both = union_all(loads, pairs).subquery()
    return select(both.c.one, both.c.other, both.c.n)  # a plain SELECT, for the fast path


def _packages(spans: int) -> Executable:
    """Packages a mediator holds, counted in each of ``spans`` time spans."""
    counts = [
        func.count().filter(
            SeatRow.taken_at >= bindparam(f"start{n}", type_=SeatRow.taken_at.type),
            SeatRow.taken_at < bindparam(f"end{n}", type_=SeatRow.taken_at.type),
        )
        for n in range(spans)
    ]
    query: Executable = (
        select(*counts)
        .select_from(SeatRow)
        .join(CaseRow, CaseRow.id == SeatRow.case_id)
        .where(
            SeatRow.holder_id == bindparam("mediator_id"),
            SeatRow.taken_at.is_not(None),
            CaseRow.status != CaseStatus.CANCELLED.value,
        )
    )
    return query


# A term alone, and a term with its year (every claim asks for both).
_PACKAGES_TAKEN = {1: Direct(_packages(1)), 2: Direct(_packages(2))}
_WORKLOAD = Direct(_workload())
