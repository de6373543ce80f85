"""The expert team's consultation requests in SQL: one row per request, its experts numbered.

A save writes the request's row under its version (a concurrent change is refused with
``ConcurrentChange``) and brings each numbered invitation up to date: the domain only
appends invitations and changes them in place, so their numbers stay.
"""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import date

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.exc import StaleDataError

from mediation.case_types import Step
from mediation.common_time import EventState
from mediation.consent import Consent, ConsentException
from mediation.consultation import (
    Answer,
    AnswerKind,
    Consultation,
    Entry,
    Invitation,
    MeetingEvent,
    Status,
    TeamAnswer,
)
from mediation.errors import ConcurrentChange
from storage.models_consultations import (
    ConsultationEventRow,
    ConsultationInvitationRow,
    ConsultationRow,
)


def _ids(text: str) -> tuple[int, ...]:
    return tuple(int(n) for n in text.split())


def _consultation(row: ConsultationRow) -> Consultation:
    consent = None
    if row.consent_at is not None:
        consent = Consent(frozenset({Step.CONVENE}), row.requester_id, row.consent_at)
    exception = None
    if row.exception_justification is not None and row.exception_asked_at is not None:
        exception = ConsentException(
            Step.CONVENE,
            row.exception_justification,
            row.requester_id,
            row.exception_asked_at,
            row.exception_approved_by,
            row.exception_approved_at,
        )
    answer = None
    if (
        row.answer_kind is not None
        and row.answer_text is not None
        and row.answer_by is not None
        and row.answered_at is not None
    ):
        answer = TeamAnswer(
            AnswerKind(row.answer_kind),
            row.answer_text,
            row.answer_by,
            row.answered_at,
            row.meeting_at,
            row.meeting_place,
            _ids(row.meeting_attendees),
        )
    return Consultation(
        code=row.code,
        requester_id=row.requester_id,
        region=row.region,
        categories=frozenset(row.categories.split()),
        question=row.question,
        created_at=row.created_at,
        urgent=row.urgent,
        background=row.background,
        birth_years=_ids(row.birth_years),
        consent=consent,
        consent_given_on=row.consent_given_on,
        exception=exception,
        status=Status(row.status),
        day=row.day,
        invitations=[
            Invitation(i.person_id, i.speciality, i.asked_at, Answer(i.answer), i.answered_at)
            for i in row.invitations
        ],
        answer=answer,
        id=row.id,
        version=row.version,
        event=(
            MeetingEvent(
                row.event_organizer,
                tuple(row.event_mailboxes.split()),
                EventState(row.event_state),
                row.event_id,
            )
            if row.event_state is not None
            else None
        ),
    )


class SqlConsultations:
    """The consultation requests of one unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def next_code(self, year: int) -> str:
        """The year's next code, 2026-K001 and on (K for konsultaatio)."""
        prefix = f"{year}-K"
        count = await self._session.scalar(
            select(func.count()).where(ConsultationRow.code.startswith(prefix))
        )
        return f"{prefix}{int(count or 0) + 1:03d}"

    async def add(self, consultation: Consultation) -> Consultation:
        c = consultation
        row = ConsultationRow(
            code=c.code,
            requester_id=c.requester_id,
            region=c.region,
            categories=" ".join(sorted(c.categories)),
            question=c.question,
            background=c.background,
            birth_years=" ".join(str(y) for y in c.birth_years),
            urgent=c.urgent,
            created_at=c.created_at,
            version=0,
        )
        self._session.add(row)
        self._write(row, c)
        await self._session.flush()
        c.id, c.version = row.id, row.version
        return c

    async def get(self, consultation_id: int) -> Consultation | None:
        row = await self._row(consultation_id)
        return _consultation(row) if row is not None else None

    async def for_person(self, person_id: int) -> builtins.list[Consultation]:
        """The requests someone sent or was asked to, newest first."""
        asked = select(ConsultationInvitationRow.consultation_id).where(
            ConsultationInvitationRow.person_id == person_id
        )
        rows = await self._session.scalars(
            select(ConsultationRow)
            .where(or_(ConsultationRow.requester_id == person_id, ConsultationRow.id.in_(asked)))
            .options(selectinload(ConsultationRow.invitations))
            .order_by(ConsultationRow.id.desc())
        )
        return [_consultation(r) for r in rows]

    async def with_status(self, statuses: Sequence[Status]) -> builtins.list[Consultation]:
        rows = await self._session.scalars(
            select(ConsultationRow)
            .where(ConsultationRow.status.in_([s.value for s in statuses]))
            .options(selectinload(ConsultationRow.invitations))
            .order_by(ConsultationRow.id)
        )
        return [_consultation(r) for r in rows]

    async def calendar_pending(self) -> builtins.list[Consultation]:
        """The requests whose client meeting has not yet reached the calendar."""
        rows = await self._session.scalars(
            select(ConsultationRow)
            .where(ConsultationRow.event_state == EventState.CREATE.value)
            .options(selectinload(ConsultationRow.invitations))
            .order_by(ConsultationRow.id)
        )
        return [_consultation(r) for r in rows]

    async def on_day(self, day: date) -> int:
        """Requests on a day's agenda, withdrawn ones aside."""
        count = await self._session.scalar(
            select(func.count()).where(
                ConsultationRow.day == day, ConsultationRow.status != Status.WITHDRAWN.value
            )
        )
        return int(count or 0)

    async def write(self, consultation_id: int, entry: Entry) -> None:
        """Add a line to the request's journal, in the unit of work's transaction."""
        self._session.add(
            ConsultationEventRow(
                consultation_id=consultation_id,
                kind=entry.kind,
                actor_id=entry.actor_id,
                at=entry.at,
                detail=dict(entry.detail),
            )
        )
        await self._session.flush()

    async def journal(self, consultation_id: int) -> builtins.list[Entry]:
        rows = await self._session.scalars(
            select(ConsultationEventRow)
            .where(ConsultationEventRow.consultation_id == consultation_id)
            .order_by(ConsultationEventRow.id)
        )
        return [Entry(r.kind, r.actor_id, r.at, r.detail) for r in rows]

    async def save(self, consultation: Consultation) -> None:
        """Write the request's changes; refused if someone saved it since it was read."""
        row = None if consultation.id is None else await self._row(consultation.id)
        if row is None:
            raise ValueError("save() takes a consultation that is stored")
        if row.version != consultation.version:
            raise ConcurrentChange(f"consultation {consultation.code} changed since it was read")
        self._write(row, consultation)
        # Every save moves the version, also when only an invitation changed.
        row.version = consultation.version + 1
        try:
            await self._session.flush()
        except StaleDataError:
            await self._session.rollback()
            raise ConcurrentChange(
                f"consultation {consultation.code} changed since it was read"
            ) from None
        consultation.version = row.version

    async def _row(self, consultation_id: int) -> ConsultationRow | None:
        return await self._session.scalar(
            select(ConsultationRow)
            .where(ConsultationRow.id == consultation_id)
            .options(selectinload(ConsultationRow.invitations))
            .execution_options(populate_existing=True)
        )

    def _write(self, row: ConsultationRow, c: Consultation) -> None:
        row.status = c.status.value
        row.day = c.day
        row.consent_at = c.consent.at if c.consent else None
        row.consent_given_on = c.consent_given_on
        e = c.exception
        row.exception_justification = e.justification if e else None
        row.exception_asked_at = e.asked_at if e else None
        row.exception_approved_by = e.approved_by if e else None
        row.exception_approved_at = e.approved_at if e else None
        a = c.answer
        row.answer_kind = a.kind.value if a else None
        row.answer_text = a.text if a else None
        row.answer_by = a.by if a else None
        row.answered_at = a.at if a else None
        row.meeting_at = a.meeting_at if a else None
        row.meeting_place = a.meeting_place if a else ""
        row.meeting_attendees = " ".join(str(i) for i in a.attendees) if a else ""
        event = c.event
        row.event_organizer = event.organizer if event else ""
        row.event_mailboxes = " ".join(event.mailboxes) if event else ""
        row.event_id = event.event_id if event else None
        row.event_state = event.state.value if event else None
        if len(c.invitations) < len(row.invitations):
            raise ValueError("a consultation's invitations are never removed")
        for n, i in enumerate(c.invitations):
            wanted = {
                "person_id": i.person_id,
                "speciality": i.speciality,
                "asked_at": i.asked_at,
                "answer": i.answer.value,
                "answered_at": i.answered_at,
            }
            if n < len(row.invitations):
                for key, value in wanted.items():
                    if getattr(row.invitations[n], key) != value:
                        setattr(row.invitations[n], key, value)
            else:
                row.invitations.append(ConsultationInvitationRow(n=n, **wanted))
