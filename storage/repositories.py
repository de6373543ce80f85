"""SQL repositories behind the domain's ports: the registry, cases and seats, the journal."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Executable,
    Select,
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from mediation.errors import ConcurrentChange
from mediation.journal import (
    AccessEntry,
    AccessPurpose,
    CaseEvent,
    CaseEventKind,
    MediatorEvent,
)
from mediation.model import (
    CASE_TYPES,
    COMPLETING_OUTCOMES,
    AwayPeriod,
    Case,
    CaseStatus,
    Child,
    Family,
    Intake,
    Mediator,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Outcome,
    Parent,
    Role,
    Seat,
)
from storage import direct
from storage.direct import Direct
from storage.models import (
    AccessLogRow,
    AwayPeriodRow,
    CaseEventRow,
    CaseRow,
    FamilyChildRow,
    FamilyParentRow,
    MediatorEventRow,
    MediatorRow,
    MeetingRow,
    SeatRow,
)

# pg_advisory_xact_lock(_CODE_LOCK, year) serialises the numbering of a year's cases.
_CODE_LOCK = 71_605


async def _rowcount(
    session: AsyncSession, statement: Executable | Direct, params: dict[str, Any] | None = None
) -> int:
    if isinstance(statement, Direct):
        return await direct.execute(session, statement, params)
    result = cast(CursorResult[Any], await session.execute(statement, params))
    return result.rowcount


def _words(values: Iterable[object]) -> str:
    return " ".join(str(v) for v in values)


# -- mediators -------------------------------------------------------------------------------


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

    async def coordinators(self) -> builtins.list[Mediator]:
        return await self._load(MediatorRow.role == Role.COORDINATOR.value)

    async def add(self, mediator: Mediator) -> Mediator:
        row = MediatorRow(
            aad_object_id=mediator.aad_object_id.lower(),
            name=mediator.name,
            email=mediator.email,
            employer=mediator.employer,
            languages=_words(sorted(mediator.languages)),
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
        row.languages = _words(sorted(mediator.languages))
        row.role = mediator.role.value
        row.experienced_mark = mediator.experienced_mark
        row.active = mediator.active
        if [(p.start, p.end) for p in row.away] != [(p.start, p.end) for p in mediator.away]:
            row.away = _away_rows(mediator)
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


# -- cases -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Loaded:
    """What a case looked like when it was read, to write back only what changed."""

    version: int
    holders: dict[int, int | None]  # seat n -> holder
    meetings: dict[int, tuple[object, ...]]  # meeting id -> its fields

    @classmethod
    def of(cls, case: Case) -> _Loaded:
        return cls(
            version=case.version,
            holders={s.n: s.holder_id for s in case.seats},
            meetings={m.id: _meeting_fields(m) for m in case.meetings if m.id is not None},
        )


def _meeting_fields(m: Meeting) -> tuple[object, ...]:
    return (m.kind, m.parent_no, m.starts_at, m.ends_at, m.status, m.held_minutes)


def _meeting_values(m: Meeting) -> dict[str, Any]:
    return {
        "kind": m.kind.value,
        "parent_no": m.parent_no,
        "starts_at": m.starts_at,
        "ends_at": m.ends_at,
        "status": m.status.value,
        "held_minutes": m.held_minutes,
    }


def _case(row: Any, seats: builtins.list[Seat], meetings: builtins.list[Meeting]) -> Case:
    intake = Intake(
        area=row.area,
        language=row.language,
        interpreter=row.interpreter,
        child_birth_years=tuple(int(y) for y in row.child_birth_years.split()),
        topics=tuple(row.topics.split()),
        preferred_times=tuple(row.preferred_times.split()),
        excluded_days=tuple(row.excluded_days.split()),
        referral_source=row.referral_source,
        safety_concern=row.safety_concern,
    )
    return Case(
        code=row.code,
        type=CASE_TYPES[row.type_code],
        intake=intake,
        created_at=row.created_at,
        created_by=row.created_by,
        seats=seats,
        status=CaseStatus(row.status),
        outcome=Outcome(row.outcome) if row.outcome else None,
        closed_at=row.closed_at,
        safety_concern_open=row.safety_concern_open,
        package_size=row.package_size,
        meetings=meetings,
        id=row.id,
        version=row.version,
    )


# The writes of a claim or release, built once (see _CASES).
_SAVE_CASE = Direct(
    update(CaseRow)
    .where(CaseRow.id == bindparam("w_id"), CaseRow.version == bindparam("w_version"))
    .values(version=CaseRow.version + 1)  # the changed columns come as parameters
    .execution_options(synchronize_session=False)
)
_TAKE_EMPTY_SEAT = Direct(
    update(SeatRow)
    .where(
        SeatRow.case_id == bindparam("w_case_id"),
        SeatRow.n == bindparam("w_n"),
        SeatRow.holder_id.is_(None),
    )
    .execution_options(synchronize_session=False)
)
_CHANGE_SEAT = Direct(
    update(SeatRow)
    .where(
        SeatRow.case_id == bindparam("w_case_id"),
        SeatRow.n == bindparam("w_n"),
        SeatRow.holder_id == bindparam("w_before"),
    )
    .execution_options(synchronize_session=False)
)


def _meeting(row: Any) -> Meeting:
    return Meeting(
        kind=MeetingKind(row.kind),
        starts_at=row.starts_at,
        ends_at=row.ends_at,
        status=MeetingStatus(row.status),
        parent_no=row.parent_no,
        held_minutes=row.held_minutes,
        id=row.id,
    )


_CASE = cast(Table, CaseRow.__table__)
_SEAT = cast(Table, SeatRow.__table__)
_MEETING = cast(Table, MeetingRow.__table__)
# A case per row, once per seat (a pair has two).
# Whether a case has any meetings: most never do while their seats are claimed, and then
# the second statement (below) is not needed.
_HAS_MEETINGS = (
    select(_MEETING.c.id).where(_MEETING.c.case_id == _CASE.c.id).exists().label("has_meetings")
)
_CASES = (
    select(
        _CASE,
        _HAS_MEETINGS,
        _SEAT.c.n.label("seat_n"),
        _SEAT.c.role.label("seat_role"),
        _SEAT.c.holder_id.label("seat_holder"),
        _SEAT.c.taken_at.label("seat_taken_at"),
    )
    .select_from(_CASE.outerjoin(_SEAT, _SEAT.c.case_id == _CASE.c.id))
    .order_by(_CASE.c.created_at, _CASE.c.id, _SEAT.c.n)
)
_BY_CASE_ID = _CASES.where(_CASE.c.id == bindparam("case_id"))
_CASE_BY_ID = Direct(_BY_CASE_ID)
_CASE_BY_ID_FOR_UPDATE = Direct(_BY_CASE_ID.with_for_update(of=_CASE))
_LOCK_CASE = Direct(select(_CASE.c.id).where(_CASE.c.id == bindparam("case_id")).with_for_update())
_MEETINGS_OF = Direct(
    select(_MEETING)
    .where(_MEETING.c.case_id.in_(bindparam("ids", expanding=True)))
    .order_by(_MEETING.c.case_id, _MEETING.c.id)
)


def _case_values(case: Case) -> dict[str, Any]:
    """The columns of a case that its lifecycle changes."""
    return {
        "status": case.status.value,
        "outcome": case.outcome.value if case.outcome else None,
        "closed_at": case.closed_at,
        "safety_concern_open": case.safety_concern_open,
        "package_size": case.package_size,
    }


class SqlCaseRepository:
    """Cases with their seats and meetings; saves are optimistic and seat-safe."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        # id(case) -> (the case, what it was when read): the case object is kept so that
        # its id() cannot be reused by another object while this unit of work lasts.
        self._loaded: dict[int, tuple[Case, _Loaded]] = {}

    def _remember(self, case: Case) -> Case:
        self._loaded[id(case)] = (case, _Loaded.of(case))
        return case

    async def _load(self, *where: Any, for_update: bool = False) -> builtins.list[Case]:
        if for_update and self._session.get_bind().dialect.name != "sqlite":
            # Lock first, then read. Under READ COMMITTED a locking read that waited for
            # another transaction returns the case row as it is now but the joined seats
            # as they were, and a refusal would show that mix. (SQLite: BEGIN IMMEDIATE
            # has serialised the whole transaction already.)
            await self._session.execute(select(_CASE.c.id).where(*where).with_for_update())
        query = _CASES.where(*where)
        return await self._run(query.with_for_update(of=_CASE) if for_update else query)

    async def _run(
        self, query: Select[Any] | Direct, params: dict[str, Any] | None = None
    ) -> builtins.list[Case]:
        rows: dict[int, Any] = {}
        seats: dict[int, builtins.list[Seat]] = {}
        if isinstance(query, Direct):
            found: Iterable[Any] = await direct.rows(self._session, query, params)
        else:
            found = await self._session.execute(query, params)
        for row in found:
            if row.id not in rows:
                rows[row.id], seats[row.id] = row, []
            if row.seat_n is not None:
                seats[row.id].append(
                    Seat(
                        n=row.seat_n,
                        role=row.seat_role,
                        holder_id=row.seat_holder,
                        taken_at=row.seat_taken_at,
                    )
                )
        meetings: dict[int, builtins.list[Meeting]] = {case_id: [] for case_id in rows}
        with_meetings = [case_id for case_id, row in rows.items() if row.has_meetings]
        if with_meetings:
            # Meetings in a second statement: joined to the seats they would repeat them.
            for meeting in await direct.rows(self._session, _MEETINGS_OF, {"ids": with_meetings}):
                meetings[meeting.case_id].append(_meeting(meeting))
        return [
            self._remember(_case(row, seats[case_id], meetings[case_id]))
            for case_id, row in rows.items()
        ]

    async def get(self, case_id: int, *, for_update: bool = False) -> Case | None:
        params = {"case_id": case_id}
        if not for_update:
            found = await self._run(_CASE_BY_ID, params)
        elif self._session.get_bind().dialect.name == "sqlite":
            found = await self._run(_CASE_BY_ID, params)  # BEGIN IMMEDIATE holds the lock
        else:
            await direct.rows(self._session, _LOCK_CASE, params)  # lock first, as in _load
            found = await self._run(_CASE_BY_ID_FOR_UPDATE, params)
        return found[0] if found else None

    async def for_mediator(self, mediator_id: int) -> builtins.list[Case]:
        held = select(SeatRow.case_id).where(SeatRow.holder_id == mediator_id)
        return await self._load(CaseRow.id.in_(held))

    async def with_status(self, statuses: Sequence[CaseStatus]) -> builtins.list[Case]:
        if not statuses:
            return []
        return await self._load(CaseRow.status.in_([s.value for s in statuses]))

    async def add(self, case: Case, family: Family) -> Case:
        intake = case.intake
        row = CaseRow(
            code=case.code,
            type_code=case.type.code,
            created_at=case.created_at,
            created_by=case.created_by,
            area=intake.area,
            language=intake.language,
            interpreter=intake.interpreter,
            child_birth_years=_words(intake.child_birth_years),
            topics=_words(intake.topics),
            preferred_times=_words(intake.preferred_times),
            excluded_days=_words(intake.excluded_days),
            referral_source=intake.referral_source,
            safety_concern=intake.safety_concern,
            version=0,
            seats=[
                SeatRow(n=s.n, role=s.role, holder_id=s.holder_id, taken_at=s.taken_at)
                for s in case.seats
            ],
            meetings=[MeetingRow(**_meeting_values(m)) for m in case.meetings],
            **_case_values(case),
        )
        self._session.add(row)
        try:
            await self._session.flush()
        except IntegrityError:
            await self._session.rollback()
            if await self._code_taken(case.code):
                # Someone numbered a case with the same code first: take a new number.
                raise ConcurrentChange(f"case code {case.code} was taken meanwhile") from None
            raise
        self._session.add_all(
            FamilyParentRow(
                case_id=row.id,
                n=n,
                name=p.name,
                phone=p.phone,
                email=p.email,
                municipality=p.municipality,
                language=p.language,
            )
            for n, p in enumerate(family.parents, start=1)
        )
        self._session.add_all(
            FamilyChildRow(case_id=row.id, birth_year=c.birth_year, first_name=c.first_name)
            for c in family.children
        )
        await self._session.flush()
        case.id, case.version = row.id, 0
        for meeting, meeting_row in zip(case.meetings, row.meetings, strict=True):
            meeting.id = meeting_row.id
        return self._remember(case)

    async def _code_taken(self, code: str) -> bool:
        return (
            await self._session.scalar(select(CaseRow.id).where(CaseRow.code == code))
        ) is not None

    async def save(self, case: Case) -> None:
        entry = self._loaded.get(id(case))
        if case.id is None or entry is None or entry[0] is not case:
            raise ValueError("save() takes a case that this unit of work loaded or added")
        loaded = entry[1]
        try:
            await self._save_case(case, loaded)
            await self._save_seats(case, loaded)
            await self._save_meetings(case, loaded)
        except ConcurrentChange:
            await self._session.rollback()
            raise
        case.version = loaded.version + 1
        self._remember(case)

    async def _save_case(self, case: Case, loaded: _Loaded) -> None:
        assert case.id is not None
        written = await _rowcount(
            self._session,
            _SAVE_CASE,
            {"w_id": case.id, "w_version": loaded.version, **_case_values(case)},
        )
        if written != 1:
            raise ConcurrentChange(f"case {case.code} changed since it was read")

    async def _save_seats(self, case: Case, loaded: _Loaded) -> None:
        changed = [s for s in case.seats if loaded.holders.get(s.n) != s.holder_id]
        # Empty seats first, so that a mediator moving between seats never sits twice.
        changed.sort(key=lambda s: s.holder_id is not None)
        for seat in changed:
            before = loaded.holders.get(seat.n)
            statement = _TAKE_EMPTY_SEAT if before is None else _CHANGE_SEAT
            values = {
                "w_case_id": case.id,
                "w_n": seat.n,
                "holder_id": seat.holder_id,
                "taken_at": seat.taken_at,
            }
            if before is not None:
                values["w_before"] = before
            try:
                written = await _rowcount(self._session, statement, values)
            except IntegrityError as exc:
                # uq_seat_case_id_holder_id: the same person got into another seat first.
                raise ConcurrentChange(f"seat {seat.n} of case {case.code}: {exc.orig}") from exc
            if written != 1:
                raise ConcurrentChange(f"seat {seat.n} of case {case.code} changed meanwhile")

    async def _save_meetings(self, case: Case, loaded: _Loaded) -> None:
        new = [m for m in case.meetings if m.id is None]
        for meeting in case.meetings:
            if meeting.id is None or loaded.meetings.get(meeting.id) == _meeting_fields(meeting):
                continue
            written = await _rowcount(
                self._session,
                update(MeetingRow)
                .where(MeetingRow.id == meeting.id, MeetingRow.case_id == case.id)
                .values(**_meeting_values(meeting))
                .execution_options(synchronize_session=False),
            )
            if written != 1:
                raise ConcurrentChange(f"meeting {meeting.id} of case {case.code} is gone")
        rows = [MeetingRow(case_id=case.id, **_meeting_values(m)) for m in new]
        if rows:
            self._session.add_all(rows)
            await self._session.flush()
            for meeting, row in zip(new, rows, strict=True):
                meeting.id = row.id

    async def family(self, case_id: int) -> Family | None:
        parents = (
            await self._session.scalars(
                select(FamilyParentRow)
                .where(FamilyParentRow.case_id == case_id)
                .order_by(FamilyParentRow.n)
            )
        ).all()
        if not parents:
            return None
        children = (
            await self._session.scalars(
                select(FamilyChildRow)
                .where(FamilyChildRow.case_id == case_id)
                .order_by(FamilyChildRow.id)
            )
        ).all()
        return Family(
            parents=tuple(
                Parent(p.name, p.phone, p.email, p.municipality, p.language) for p in parents
            ),
            children=tuple(Child(c.birth_year, c.first_name) for c in children),
        )

    async def next_code(self, year: int) -> str:
        if self._session.get_bind().dialect.name == "postgresql":
            # Held until commit: two coordinators registering at once get 001 and 002.
            await self._session.execute(select(func.pg_advisory_xact_lock(_CODE_LOCK, year)))
        prefix = f"{year}-"
        last = await self._session.scalar(
            select(CaseRow.code)
            .where(CaseRow.code.startswith(prefix, autoescape=True))
            .order_by(func.length(CaseRow.code).desc(), CaseRow.code.desc())
            .limit(1)
        )
        number = int(last.removeprefix(prefix)) + 1 if last else 1
        return f"{prefix}{number:03d}"

    async def erase_family(self, case_id: int) -> None:
        """Delete a family's identifying data; the case and its statistics stay."""
        await self._session.execute(delete(FamilyChildRow).where(FamilyChildRow.case_id == case_id))
        await self._session.execute(
            delete(FamilyParentRow).where(FamilyParentRow.case_id == case_id)
        )


# -- the journal ---------------------------------------------------------------------------------


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
