"""The family centre's common times in SQL: one row per case, its parts numbered in order.

A save writes the case's row under its version (a concurrent change is refused with
``ConcurrentChange``) and brings each numbered part up to date: the domain only appends
invitations, consents and meetings and changes them in place, so their numbers stay.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from mediation.case_types import Step
from mediation.common_time import (
    Answer,
    CommonTime,
    Entry,
    EventState,
    Invitation,
    JointPlan,
    Meeting,
    Place,
    PlanAction,
    Status,
)
from mediation.consent import Consent, ConsentException
from mediation.errors import ConcurrentChange
from storage.models_common_time import (
    CommonTimeConsentRow,
    CommonTimeEventRow,
    CommonTimeMeetingRow,
    CommonTimeRow,
    ConsentExceptionRow,
    InvitationRow,
    PlanActionRow,
)

# What an erased text reads as: the rules' checks still hold (a text is never empty).
ERASED = "—"

_PARTS = (
    selectinload(CommonTimeRow.consents),
    selectinload(CommonTimeRow.exceptions),
    selectinload(CommonTimeRow.invitations),
    selectinload(CommonTimeRow.meetings),
    selectinload(CommonTimeRow.actions),
)


def _ids(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in text.split())


def _text(ids: Sequence[int] | frozenset[int]) -> str:
    return " ".join(str(n) for n in sorted(ids))


def _common_time(row: CommonTimeRow) -> CommonTime:
    plan = None
    if row.plan_matters is not None and row.plan_next_contact is not None:
        plan = JointPlan(
            matters=row.plan_matters,
            actions=tuple(PlanAction(Place(a.place), a.what, a.where, a.done) for a in row.actions),
            follow_up_how=row.plan_follow_up_how or "",
            family_reaches_worker=row.plan_family_reaches_worker or "",
            next_contact=row.plan_next_contact,
            shared_with=frozenset(_ids(row.plan_shared_with)),
        )
    return CommonTime(
        code=row.code,
        convener_id=row.convener_id,
        municipality=row.municipality,
        created_at=row.created_at,
        competences=frozenset(row.competences.split()),
        status=Status(row.status),
        consents=tuple(
            Consent(frozenset(Step(s) for s in c.steps.split()), c.recorded_by, c.at)
            for c in row.consents
        ),
        exceptions=tuple(
            ConsentException(
                Step(e.step),
                e.justification,
                e.asked_by,
                e.asked_at,
                e.approved_by,
                e.approved_at,
            )
            for e in row.exceptions
        ),
        invitations=[
            Invitation(i.person_id, i.competence, i.invited_at, Answer(i.answer), i.answered_at)
            for i in row.invitations
        ],
        meetings=[
            Meeting(
                m.kind,
                m.starts_at,
                m.ends_at,
                m.room,
                m.held,
                m.cancelled,
                m.organizer,
                tuple(m.attendees.split()),
                m.event_id,
                EventState(m.calendar),
            )
            for m in row.meetings
        ],
        responsible_ids=_ids(row.responsible_ids),
        plan=plan,
        id=row.id,
        version=row.version,
        ended_at=row.ended_at,
        purged_at=row.purged_at,
    )


def _sync(rows: list[Any], values: Sequence[dict[str, Any]], make: type[Any]) -> None:
    """Numbered parts: update those kept, add the new ones (the domain removes none)."""
    if len(values) < len(rows):
        raise ValueError("a common time's parts are never removed")
    for n, wanted in enumerate(values):
        if n < len(rows):
            for key, value in wanted.items():
                if getattr(rows[n], key) != value:
                    setattr(rows[n], key, value)
        else:
            rows.append(make(n=n, **wanted))


class SqlCommonTimes:
    """The common times of one unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def next_code(self, year: int) -> str:
        """The year's next code, 2026-Y001 and on (the pair's cases are 2026-001)."""
        prefix = f"{year}-Y"
        count = await self._session.scalar(
            select(func.count()).where(CommonTimeRow.code.startswith(prefix))
        )
        return f"{prefix}{int(count or 0) + 1:03d}"

    async def add(self, common_time: CommonTime) -> CommonTime:
        row = CommonTimeRow(
            code=common_time.code,
            convener_id=common_time.convener_id,
            municipality=common_time.municipality,
            created_at=common_time.created_at,
            competences=" ".join(sorted(common_time.competences)),
            status=common_time.status.value,
            responsible_ids="",
            plan_shared_with="",
            version=0,
        )
        self._session.add(row)
        self._write(row, common_time)
        try:
            await self._session.flush()
        except IntegrityError:
            await self._session.rollback()
            taken = await self._session.scalar(
                select(CommonTimeRow.id).where(CommonTimeRow.code == common_time.code)
            )
            if taken is not None:
                # Someone numbered a common time with the same code first: take a new one.
                raise ConcurrentChange(f"code {common_time.code} was taken meanwhile") from None
            raise
        common_time.id, common_time.version = row.id, row.version
        return common_time

    async def get(self, common_time_id: int) -> CommonTime | None:
        row = await self._row(common_time_id)
        return _common_time(row) if row is not None else None

    async def for_person(self, person_id: int) -> builtins.list[CommonTime]:
        """The common times someone convenes, is invited to or follows up, newest first."""
        invited = select(InvitationRow.common_time_id).where(InvitationRow.person_id == person_id)
        rows = await self._session.scalars(
            select(CommonTimeRow)
            .where(
                or_(
                    CommonTimeRow.convener_id == person_id,
                    CommonTimeRow.id.in_(invited),
                    # Space-separated ids: padded, so that 3 does not match 13.
                    (" " + CommonTimeRow.responsible_ids + " ").contains(f" {person_id} "),
                )
            )
            .options(*_PARTS)
            .order_by(CommonTimeRow.id.desc())
        )
        return [_common_time(r) for r in rows]

    async def with_status(self, statuses: Sequence[Status]) -> builtins.list[CommonTime]:
        rows = await self._session.scalars(
            select(CommonTimeRow)
            .where(CommonTimeRow.status.in_([s.value for s in statuses]))
            .options(*_PARTS)
            .order_by(CommonTimeRow.id)
        )
        return [_common_time(r) for r in rows]

    async def calendar_pending(self) -> builtins.list[CommonTime]:
        """The common times with a meeting whose booking or cancellation has not yet reached
        the calendar."""
        pending = select(CommonTimeMeetingRow.common_time_id).where(
            CommonTimeMeetingRow.calendar.in_([s.value for s in EventState if s.pending])
        )
        rows = await self._session.scalars(
            select(CommonTimeRow)
            .where(CommonTimeRow.id.in_(pending))
            .options(*_PARTS)
            .order_by(CommonTimeRow.id)
        )
        return [_common_time(r) for r in rows]

    async def erase_texts(self, common_time_id: int, now: datetime) -> None:
        """Overwrite what people wrote about the family (the plan, the justifications of
        exceptions); the structure the statistics count stays."""
        row = await self._row(common_time_id)
        if row is None or row.purged_at is not None:
            return
        if row.plan_matters is not None:
            row.plan_matters = ERASED
            row.plan_follow_up_how = ERASED
            row.plan_family_reaches_worker = ERASED
        for action in row.actions:
            action.what, action.where = ERASED, ERASED if action.where else ""
        for exception in row.exceptions:
            exception.justification = ERASED
        row.purged_at = now
        row.version += 1
        await self._session.flush()

    async def write(self, common_time_id: int, entry: Entry) -> None:
        """Add a line to the common time's journal, in the unit of work's transaction."""
        self._session.add(
            CommonTimeEventRow(
                common_time_id=common_time_id,
                kind=entry.kind,
                actor_id=entry.actor_id,
                at=entry.at,
                detail=dict(entry.detail),
            )
        )
        await self._session.flush()

    async def journal(self, common_time_id: int) -> builtins.list[Entry]:
        rows = await self._session.scalars(
            select(CommonTimeEventRow)
            .where(CommonTimeEventRow.common_time_id == common_time_id)
            .order_by(CommonTimeEventRow.id)
        )
        return [Entry(r.kind, r.actor_id, r.at, r.detail) for r in rows]

    async def save(self, common_time: CommonTime) -> None:
        """Write the case's changes; refused if someone saved it since it was read."""
        row = None if common_time.id is None else await self._row(common_time.id)
        if row is None:
            raise ValueError("save() takes a common time that is stored")
        if row.version != common_time.version:
            raise ConcurrentChange(f"common time {common_time.code} changed since it was read")
        self._write(row, common_time)
        # Every save moves the version, also when only a part changed: the row's UPDATE
        # names the version read, so of two saves racing one is refused.
        row.version = common_time.version + 1
        try:
            await self._session.flush()
        except StaleDataError:
            await self._session.rollback()
            raise ConcurrentChange(
                f"common time {common_time.code} changed since it was read"
            ) from None
        common_time.version = row.version

    async def _row(self, common_time_id: int) -> CommonTimeRow | None:
        return await self._session.scalar(
            select(CommonTimeRow)
            .where(CommonTimeRow.id == common_time_id)
            .options(*_PARTS)
            .execution_options(populate_existing=True)
        )

    def _write(self, row: CommonTimeRow, ct: CommonTime) -> None:
        row.status = ct.status.value
        row.municipality = ct.municipality
        row.ended_at = ct.ended_at
        row.responsible_ids = _text(ct.responsible_ids)
        plan = ct.plan
        row.plan_matters = plan.matters if plan else None
        row.plan_follow_up_how = plan.follow_up_how if plan else None
        row.plan_family_reaches_worker = plan.family_reaches_worker if plan else None
        row.plan_next_contact = plan.next_contact if plan else None
        row.plan_shared_with = _text(plan.shared_with) if plan else ""
        _sync(
            row.consents,
            [
                {
                    "steps": " ".join(sorted(s.value for s in c.steps)),
                    "recorded_by": c.recorded_by,
                    "at": c.at,
                }
                for c in ct.consents
            ],
            CommonTimeConsentRow,
        )
        _sync(
            row.exceptions,
            [
                {
                    "step": e.step.value,
                    "justification": e.justification,
                    "asked_by": e.asked_by,
                    "asked_at": e.asked_at,
                    "approved_by": e.approved_by,
                    "approved_at": e.approved_at,
                }
                for e in ct.exceptions
            ],
            ConsentExceptionRow,
        )
        _sync(
            row.invitations,
            [
                {
                    "person_id": i.person_id,
                    "competence": i.competence,
                    "invited_at": i.invited_at,
                    "answer": i.answer.value,
                    "answered_at": i.answered_at,
                }
                for i in ct.invitations
            ],
            InvitationRow,
        )
        _sync(
            row.meetings,
            [
                {
                    "kind": m.kind,
                    "starts_at": m.starts_at,
                    "ends_at": m.ends_at,
                    "room": m.room,
                    "held": m.held,
                    "cancelled": m.cancelled,
                    "organizer": m.organizer,
                    "attendees": " ".join(m.attendees),
                    "event_id": m.event_id,
                    "calendar": m.calendar.value,
                }
                for m in ct.meetings
            ],
            CommonTimeMeetingRow,
        )
        _sync(
            row.actions,
            [
                {"place": a.place.value, "what": a.what, "where": a.where, "done": a.done}
                for a in (plan.actions if plan else ())
            ],
            PlanActionRow,
        )
