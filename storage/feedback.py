"""The feedback store: mediators' feedback, client links and anonymous answers, in SQL."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mediation.feedback import (
    CaseFeedback,
    ClientAnswer,
    ClientLink,
    FeedbackStore,
    LinkState,
    MeetingFeedback,
    link_state,
)
from storage.models import MeetingRow
from storage.models_feedback import (
    CaseFeedbackRow,
    ClientAnswerRow,
    ClientLinkRow,
    MeetingFeedbackRow,
)


def _insert(session: AsyncSession) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise NotImplementedError(f"no upsert for {dialect}")


def _link(row: ClientLinkRow) -> ClientLink:
    return ClientLink(
        token=row.token,
        case_id=row.case_id,
        year=row.year,
        term=row.term,
        expires_at=row.expires_at,
        uses=row.uses,
        max_uses=row.max_uses,
        last_form=row.last_form,
        parent_no=row.parent_no,
    )


class SqlFeedbackStore:
    """Implements :class:`mediation.feedback.FeedbackStore`; each method is one transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    # -- client links ----------------------------------------------------------------------

    async def link_for_case(self, case_id: int, parent_no: int) -> ClientLink | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(ClientLinkRow).where(
                    ClientLinkRow.case_id == case_id, ClientLinkRow.parent_no == parent_no
                )
            )
            return _link(row) if row else None

    async def add_link(self, link: ClientLink, now: datetime) -> ClientLink:
        async with self._sessions() as session, session.begin():
            statement = (
                _insert(session)(ClientLinkRow)
                .values(
                    token=link.token,
                    case_id=link.case_id,
                    year=link.year,
                    term=link.term,
                    created_at=now,
                    expires_at=link.expires_at,
                    uses=0,
                    max_uses=link.max_uses,
                    parent_no=link.parent_no,
                )
                .on_conflict_do_nothing(index_elements=["case_id", "parent_no"])
            )
            await session.execute(statement)
        known = await self.link_for_case(link.case_id, link.parent_no)
        assert known is not None
        return known

    async def link(self, token: str) -> ClientLink | None:
        async with self._sessions() as session:
            row = await session.get(ClientLinkRow, token)
            return _link(row) if row else None

    async def answer_once(
        self, token: str, now: datetime, answer: ClientAnswer, form_id: str = ""
    ) -> str:
        async with self._sessions() as session, session.begin():
            # One conditional UPDATE takes the use: two parents sending at the same instant
            # on the last use get exactly one winner.
            conditions = [
                ClientLinkRow.token == token,
                ClientLinkRow.uses < ClientLinkRow.max_uses,
                ClientLinkRow.expires_at > now,
            ]
            if form_id:
                conditions.append(
                    or_(ClientLinkRow.last_form.is_(None), ClientLinkRow.last_form != form_id)
                )
            taken = cast(
                CursorResult[Any],
                await session.execute(
                    update(ClientLinkRow)
                    .where(*conditions)
                    .values(uses=ClientLinkRow.uses + 1, last_form=form_id or None)
                ),
            )
            if taken.rowcount != 1:
                row = await session.get(ClientLinkRow, token)
                if row is not None and form_id and row.last_form == form_id:
                    return LinkState.SENT
                state = link_state(_link(row) if row else None, now)
                return state if state != LinkState.OPEN else LinkState.USED
            bucket = (
                await session.execute(
                    select(ClientLinkRow.year, ClientLinkRow.term).where(
                        ClientLinkRow.token == token
                    )
                )
            ).one()
            session.add(
                ClientAnswerRow(
                    id=secrets.token_hex(16),
                    year=bucket.year,
                    term=bucket.term,
                    heard_from=answer.heard_from,
                    settled=answer.settled,
                    felt_heard=answer.felt_heard,
                    impartial=answer.impartial,
                    child_view=answer.child_view,
                    recommend=answer.recommend,
                    good=answer.good,
                    missing=answer.missing,
                )
            )
        return LinkState.OPEN

    # -- mediators' feedback ----------------------------------------------------------------

    async def meeting_case(self, meeting_id: int) -> int | None:
        async with self._sessions() as session:
            return await session.scalar(
                select(MeetingRow.case_id).where(MeetingRow.id == meeting_id)
            )

    async def save_meeting_feedback(
        self, meeting_id: int, mediator_id: int, feedback: MeetingFeedback, now: datetime
    ) -> bool:
        async with self._sessions() as session, session.begin():
            row = await session.get(MeetingFeedbackRow, (meeting_id, mediator_id))
            if row is None:
                session.add(
                    MeetingFeedbackRow(
                        meeting_id=meeting_id,
                        mediator_id=mediator_id,
                        rating=feedback.rating,
                        cooperation=feedback.cooperation,
                        note=feedback.note,
                        updated_at=now,
                    )
                )
                return True
            if (row.rating, row.cooperation, row.note) == (
                feedback.rating,
                feedback.cooperation,
                feedback.note,
            ):
                return False
            row.rating, row.cooperation, row.note = (
                feedback.rating,
                feedback.cooperation,
                feedback.note,
            )
            row.updated_at = now
            return True

    async def meeting_feedback(self, meeting_id: int, mediator_id: int) -> MeetingFeedback | None:
        async with self._sessions() as session:
            row = await session.get(MeetingFeedbackRow, (meeting_id, mediator_id))
            return MeetingFeedback(row.rating, row.cooperation, row.note) if row else None

    async def save_case_feedback(
        self, case_id: int, mediator_id: int, feedback: CaseFeedback, now: datetime
    ) -> bool:
        values = {
            "package_rating": feedback.package_rating,
            "pair_rating": feedback.pair_rating,
            "helped": " ".join(feedback.helped),
            "hard": " ".join(feedback.hard),
            "note": feedback.note,
        }
        async with self._sessions() as session, session.begin():
            row = await session.get(CaseFeedbackRow, (case_id, mediator_id))
            if row is None:
                session.add(
                    CaseFeedbackRow(
                        case_id=case_id, mediator_id=mediator_id, updated_at=now, **values
                    )
                )
                return True
            if all(getattr(row, k) == v for k, v in values.items()):
                return False
            for key, value in values.items():
                setattr(row, key, value)
            row.updated_at = now
            return True

    async def case_feedback(self, case_id: int, mediator_id: int) -> CaseFeedback | None:
        async with self._sessions() as session:
            row = await session.get(CaseFeedbackRow, (case_id, mediator_id))
            if row is None:
                return None
            return CaseFeedback(
                row.package_rating,
                row.pair_rating,
                tuple(row.helped.split()),
                tuple(row.hard.split()),
                row.note,
            )


if TYPE_CHECKING:
    _port: type[FeedbackStore] = SqlFeedbackStore
