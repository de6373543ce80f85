"""The feedback on common times in SQL, in the unit of work's session."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mediation.common_time_feedback import (
    CommonTimeFeedbackRepository,
    FamilyAnswer,
    FamilyLink,
    TeamFeedback,
    family_link_state,
)
from mediation.feedback import LinkState
from storage.models_common_time_feedback import (
    CommonTimeFamilyAnswerRow,
    CommonTimeFamilyLinkRow,
    CommonTimeFeedbackRow,
)


def _link(row: CommonTimeFamilyLinkRow) -> FamilyLink:
    return FamilyLink(
        token=row.token,
        ct_id=row.common_time_id,
        year=row.year,
        expires_at=row.expires_at,
        uses=row.uses,
        max_uses=row.max_uses,
        last_form=row.last_form,
    )


class SqlCommonTimeFeedback:
    """Implements :class:`mediation.common_time_feedback.CommonTimeFeedbackRepository`."""

    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def add_link(self, link: FamilyLink, now: datetime) -> None:
        self._session.add(
            CommonTimeFamilyLinkRow(
                token=link.token,
                common_time_id=link.ct_id,
                year=link.year,
                created_at=now,
                expires_at=link.expires_at,
                uses=0,
                max_uses=link.max_uses,
            )
        )
        await self._session.flush()

    async def link_of(self, ct_id: int) -> FamilyLink | None:
        row = await self._session.scalar(
            select(CommonTimeFamilyLinkRow).where(CommonTimeFamilyLinkRow.common_time_id == ct_id)
        )
        return _link(row) if row is not None else None

    async def link(self, token: str) -> FamilyLink | None:
        row = await self._session.get(CommonTimeFamilyLinkRow, token)
        return _link(row) if row is not None else None

    async def answer_once(
        self, token: str, now: datetime, answer: FamilyAnswer, form_id: str = ""
    ) -> str:
        # One conditional UPDATE takes the use: two answers on the last use get one winner.
        conditions = [
            CommonTimeFamilyLinkRow.token == token,
            CommonTimeFamilyLinkRow.uses < CommonTimeFamilyLinkRow.max_uses,
            CommonTimeFamilyLinkRow.expires_at > now,
        ]
        if form_id:
            conditions.append(
                or_(
                    CommonTimeFamilyLinkRow.last_form.is_(None),
                    CommonTimeFamilyLinkRow.last_form != form_id,
                )
            )
        taken = cast(
            CursorResult[Any],
            await self._session.execute(
                update(CommonTimeFamilyLinkRow)
                .where(*conditions)
                .values(uses=CommonTimeFamilyLinkRow.uses + 1, last_form=form_id or None)
                .execution_options(synchronize_session=False)
            ),
        )
        if taken.rowcount != 1:
            found = await self.link(token)
            if found is not None and form_id and found.last_form == form_id:
                return LinkState.SENT
            state = family_link_state(found, now)
            return state if state != LinkState.OPEN else LinkState.USED
        year = await self._session.scalar(
            select(CommonTimeFamilyLinkRow.year).where(CommonTimeFamilyLinkRow.token == token)
        )
        assert year is not None
        self._session.add(
            CommonTimeFamilyAnswerRow(
                id=secrets.token_hex(16),
                year=year,
                useful=answer.useful,
                heard=answer.heard,
                good=answer.good,
            )
        )
        await self._session.flush()
        return LinkState.OPEN

    async def add_team_feedback(
        self, ct_id: int, person_id: int, year: int, feedback: TeamFeedback, now: datetime
    ) -> bool:
        if await self._session.get(CommonTimeFeedbackRow, (ct_id, person_id)) is not None:
            return False
        self._session.add(
            CommonTimeFeedbackRow(
                common_time_id=ct_id,
                person_id=person_id,
                year=year,
                useful=feedback.useful,
                competences_present=feedback.competences_present,
                comment=feedback.comment,
                at=now,
            )
        )
        try:
            await self._session.flush()
        except IntegrityError:
            # A second click at the same instant stored the answer first; nothing else was
            # written yet in this transaction (the use case stores the answer first).
            await self._session.rollback()
            return False
        return True

    async def team_feedback(self, ct_id: int, person_id: int) -> TeamFeedback | None:
        row = await self._session.get(CommonTimeFeedbackRow, (ct_id, person_id))
        if row is None:
            return None
        return TeamFeedback(row.useful, row.competences_present, row.comment)

    async def of_year(self, year: int) -> tuple[list[TeamFeedback], list[FamilyAnswer]]:
        team = await self._session.scalars(
            select(CommonTimeFeedbackRow).where(CommonTimeFeedbackRow.year == year)
        )
        family = await self._session.scalars(
            select(CommonTimeFamilyAnswerRow).where(CommonTimeFamilyAnswerRow.year == year)
        )
        return (
            [TeamFeedback(r.useful, r.competences_present, r.comment) for r in team],
            [FamilyAnswer(r.useful, r.heard, r.good) for r in family],
        )


if TYPE_CHECKING:
    _port: type[CommonTimeFeedbackRepository] = SqlCommonTimeFeedback
