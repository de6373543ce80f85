"""The SQL store of contact requests: one short transaction per method.

A change is written with ``UPDATE ... WHERE version = :seen``, so of two coordinators
acting on one request at the same instant only the first change is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mediation.model import MeetingStatus
from mediation.requests import ContactRequest, RequestForm, RequestStatus, RequestStore
from storage.models import MeetingRow
from storage.models_requests import ContactRequestRow
from storage.repositories.text import words

_QUEUED = (RequestStatus.NEW.value, RequestStatus.TAKEN.value, RequestStatus.SUITABLE.value)
_JUDGED = (
    RequestStatus.SUITABLE.value,
    RequestStatus.NOT_SUITABLE.value,
    RequestStatus.NO_ANSWER.value,
)


def _utc(value: datetime | str) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _request(row: ContactRequestRow) -> ContactRequest:
    form = RequestForm(
        parent_name=row.parent_name,
        phone=row.phone,
        email=row.email,
        call_times=tuple(row.call_times.split()),
        language=row.language,
        municipality=row.municipality,
        child_birth_years=tuple(int(y) for y in row.child_birth_years.split()),
        topics=tuple(row.topics.split()),
        other_parent_knows=row.other_parent_knows,
        violence_or_fear=row.urgent,
        page_lang=row.page_lang,
    )
    return ContactRequest(
        id=row.id,
        form=form,
        created_at=row.created_at,
        status=RequestStatus(row.status),
        version=row.version,
        taken_by=row.taken_by,
        taken_at=row.taken_at,
        attempts=row.attempts,
        first_call_at=row.first_call_at,
        last_call_at=row.last_call_at,
        reason=row.reason,
        referred_to=row.referred_to,
        judged_by=row.judged_by,
        judged_at=row.judged_at,
        case_id=row.case_id,
    )


def _handling(request: ContactRequest) -> dict[str, Any]:
    """The columns the queue's actions change."""
    return {
        "status": request.status.value,
        "taken_by": request.taken_by,
        "taken_at": request.taken_at,
        "attempts": request.attempts,
        "first_call_at": request.first_call_at,
        "last_call_at": request.last_call_at,
        "reason": request.reason,
        "referred_to": request.referred_to,
        "judged_by": request.judged_by,
        "judged_at": request.judged_at,
        "case_id": request.case_id,
    }


class SessionRequests:
    """Implements :class:`mediation.requests.RequestLinks` in a unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def save(self, request: ContactRequest, expected_version: int) -> bool:
        statement = (
            update(ContactRequestRow)
            .where(
                ContactRequestRow.id == request.id,
                ContactRequestRow.version == expected_version,
            )
            .values(version=expected_version + 1, **_handling(request))
        )
        result = cast(CursorResult[Any], await self._session.execute(statement))
        return result.rowcount == 1


class SqlRequestStore:
    """Implements :class:`mediation.requests.RequestStore`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def add(self, form: RequestForm, now: datetime, form_id: str) -> ContactRequest | None:
        row = ContactRequestRow(
            created_at=now,
            form_id=form_id,
            parent_name=form.parent_name,
            phone=form.phone,
            email=form.email,
            call_times=words(form.call_times),
            language=form.language,
            municipality=form.municipality,
            child_birth_years=words(form.child_birth_years),
            topics=words(form.topics),
            other_parent_knows=form.other_parent_knows,
            urgent=form.violence_or_fear,
            page_lang=form.page_lang,
            status=RequestStatus.NEW.value,
            version=1,
            attempts=0,
            reason="",
            referred_to="",
        )
        async with self._sessions() as session:
            if (
                await session.scalar(
                    select(ContactRequestRow.id).where(ContactRequestRow.form_id == form_id)
                )
                is not None
            ):
                return None  # the same form sent twice (a double click, a reload)
            session.add(row)
            try:
                await session.commit()
            except IntegrityError:
                return None  # sent twice at the same instant: the unique form id kept one
            return _request(row)

    async def get(self, request_id: int) -> ContactRequest | None:
        async with self._sessions() as session:
            row = await session.get(ContactRequestRow, request_id)
            return _request(row) if row is not None else None

    async def queue(self) -> list[ContactRequest]:
        query = (
            select(ContactRequestRow)
            .where(ContactRequestRow.status.in_(_QUEUED), ContactRequestRow.case_id.is_(None))
            .order_by(ContactRequestRow.created_at, ContactRequestRow.id)
        )
        async with self._sessions() as session:
            return [_request(row) for row in (await session.scalars(query)).all()]

    async def save(self, request: ContactRequest, expected_version: int) -> bool:
        async with self._sessions() as session, session.begin():
            return await SessionRequests(session).save(request, expected_version)

    async def count_since(self, since: datetime) -> int:
        query = select(func.count()).where(ContactRequestRow.created_at >= since)
        async with self._sessions() as session:
            return int((await session.scalar(query)) or 0)

    async def received_between(self, start: datetime, end: datetime) -> list[ContactRequest]:
        query = select(ContactRequestRow).where(
            ContactRequestRow.created_at >= start, ContactRequestRow.created_at < end
        )
        async with self._sessions() as session:
            return [_request(row) for row in (await session.scalars(query)).all()]

    async def first_meetings(self, case_ids: Sequence[int]) -> dict[int, datetime]:
        if not case_ids:
            return {}
        query = (
            select(MeetingRow.case_id, func.min(MeetingRow.starts_at))
            .where(
                MeetingRow.case_id.in_(case_ids),
                MeetingRow.status != MeetingStatus.CANCELLED.value,
            )
            .group_by(MeetingRow.case_id)
        )
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        # min() over SQLite's stored text comes back as text: read it as the column would.
        return {int(c): _utc(at) for c, at in rows if at is not None}

    async def erase_unlinked(self, before: datetime) -> int:
        statement = delete(ContactRequestRow).where(
            ContactRequestRow.case_id.is_(None),
            ContactRequestRow.status.in_(_JUDGED),
            ContactRequestRow.created_at < before,
        )
        async with self._sessions() as session, session.begin():
            result = cast(CursorResult[Any], await session.execute(statement))
            return int(result.rowcount)

    async def forget_details_of_cases(self, case_ids: Sequence[int]) -> int:
        if not case_ids:
            return 0
        statement = (
            update(ContactRequestRow)
            .where(ContactRequestRow.case_id.in_(case_ids), ContactRequestRow.parent_name != "")
            .values(parent_name="", phone="", email="")
        )
        async with self._sessions() as session, session.begin():
            result = cast(CursorResult[Any], await session.execute(statement))
            return int(result.rowcount)


if TYPE_CHECKING:
    _port: type[RequestStore] = SqlRequestStore
