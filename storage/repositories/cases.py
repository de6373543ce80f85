"""The cases' SQL repository: a case with its seats and meetings, saved optimistically."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Executable,
    Select,
    Table,
    bindparam,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mediation.errors import ConcurrentChange
from mediation.family_mail import MAIL_KEY
from mediation.model import (
    CASE_TYPES,
    Case,
    CaseStatus,
    Child,
    Family,
    Intake,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Outcome,
    Parent,
    Seat,
)
from mediation.outbox import MessageKind
from storage import direct
from storage.direct import Direct
from storage.models import CaseRow, FamilyChildRow, FamilyParentRow, MeetingRow, SeatRow
from storage.models_family_mail import DevMailRow
from storage.models_jobs import OutboxRow
from storage.repositories.text import words

# pg_advisory_xact_lock(_CODE_LOCK, year) serialises the numbering of a year's cases.
_CODE_LOCK = 71_605


async def _rowcount(
    session: AsyncSession, statement: Executable | Direct, params: dict[str, Any] | None = None
) -> int:
    if isinstance(statement, Direct):
        return await direct.execute(session, statement, params)
    result = cast(CursorResult[Any], await session.execute(statement, params))
    return result.rowcount


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


# The writes of a claim or release, built once as the reads are.
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
        _SEAT.c.changed_in.label("seat_changed_in"),
    )
    .select_from(_CASE.outerjoin(_SEAT, _SEAT.c.case_id == _CASE.c.id))
    .order_by(_CASE.c.created_at, _CASE.c.id, _SEAT.c.n)
)
_BY_CASE_ID = _CASES.where(_CASE.c.id == bindparam("case_id"))
_CASE_BY_ID = Direct(_BY_CASE_ID)
_CASE_BY_ID_FOR_UPDATE = Direct(_BY_CASE_ID.with_for_update(of=_CASE))
# PostgreSQL: the case locked and read in one statement, with the case's version as the
# statement's snapshot saw it. Under READ COMMITTED a locking read that waited for another
# transaction returns the locked case row as it is now but the joined seats as they were.
# Every change of a seat or meeting raises the case's version in the same transaction
# (``save``), so the two versions differ exactly when the seats may be stale; only then
# are they read again, under the lock now held (``get``).
_SNAPSHOT = _CASE.alias("snapshot")  # its own row, never the locked one
_SNAPSHOT_VERSION = (
    select(_SNAPSHOT.c.version)
    .where(_SNAPSHOT.c.id == bindparam("case_id"))
    .correlate(None)
    .scalar_subquery()
    .label("snapshot_version")
)
_CASE_LOCKED = Direct(_BY_CASE_ID.add_columns(_SNAPSHOT_VERSION).with_for_update(of=_CASE))
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
        if isinstance(query, Direct):
            found: Iterable[Any] = await direct.rows(self._session, query, params)
        else:
            found = await self._session.execute(query, params)
        return await self._cases(found)

    async def _cases(self, found: Iterable[Any]) -> builtins.list[Case]:
        """The cases of rows of ``_CASES`` (a row per seat), with their meetings."""
        rows: dict[int, Any] = {}
        seats: dict[int, builtins.list[Seat]] = {}
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
                        changed_in=row.seat_changed_in,
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
            rows = await direct.rows(self._session, _CASE_LOCKED, params)
            if rows and rows[0].version != rows[0].snapshot_version:
                # It waited for a change to the case: read again, seats as they now are.
                rows = await direct.rows(self._session, _CASE_BY_ID_FOR_UPDATE, params)
            found = await self._cases(rows)
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
            child_birth_years=words(intake.child_birth_years),
            topics=words(intake.topics),
            preferred_times=words(intake.preferred_times),
            excluded_days=words(intake.excluded_days),
            referral_source=intake.referral_source,
            safety_concern=intake.safety_concern,
            version=0,
            seats=[
                SeatRow(
                    n=s.n,
                    role=s.role,
                    holder_id=s.holder_id,
                    taken_at=s.taken_at,
                    changed_in=s.changed_in,
                )
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
                "changed_in": seat.changed_in,
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
        """Delete a family's identifying data; the case and its statistics stay.

        The e-mails sent to the parents keep their status, but no longer their address,
        and the development mailbox forgets them.
        """
        await self._session.execute(delete(FamilyChildRow).where(FamilyChildRow.case_id == case_id))
        await self._session.execute(
            delete(FamilyParentRow).where(FamilyParentRow.case_id == case_id)
        )
        theirs = (
            await self._session.scalars(
                select(OutboxRow).where(
                    OutboxRow.kind == MessageKind.FAMILY_MAIL.value,
                    OutboxRow.payload["case_id"].as_integer() == case_id,
                )
            )
        ).all()
        for row in theirs:
            row.recipient = f"erased:{row.id}"
        if theirs:
            keys = [f"{MAIL_KEY}{row.id}" for row in theirs]
            await self._session.execute(delete(DevMailRow).where(DevMailRow.key.in_(keys)))
