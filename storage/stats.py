"""A year's statistics by SQL aggregation: GROUP BY in the database, small rows out.

Nothing here loads a case. Terms are told apart by comparing moments with the terms'
local-midnight bounds (computed once in Python), so the same SQL runs on SQLite and
PostgreSQL. Medians: PostgreSQL's ``percentile_cont``; on SQLite, from day counts grouped
in SQL (a few hundred rows at most).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    and_,
    case,
    cast,
    func,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mediation.model import CaseStatus, MeetingStatus
from mediation.policy import BankPolicy
from mediation.stats import (
    Average,
    ClientFeedbackFigures,
    Median,
    MediatorFeedbackFigures,
    MediatorFigures,
    StatsQueries,
    WrittenAnswer,
    YearStats,
    median_of_counts,
)
from storage.models import CaseRow, MediatorRow, MeetingRow, SeatRow
from storage.models_feedback import (
    CaseFeedbackRow,
    ClientAnswerRow,
    ClientLinkRow,
    MeetingFeedbackRow,
)


def _term_of(column: Any, bounds: Sequence[tuple[str, datetime, datetime]]) -> Any:
    """A CASE expression naming the term a moment falls in (within the year's bounds)."""
    whens = [(column < hi, literal(name)) for name, _, hi in bounds[:-1]]
    return case(*whens, else_=literal(bounds[-1][0]))


class SqlStatsQueries:
    """Implements :class:`mediation.stats.StatsQueries`."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def year(self, year: int, policy: BankPolicy, now: datetime) -> YearStats:
        lo_day, hi_day = policy.year_bounds(year)
        lo, hi = policy.bounds_utc(lo_day, hi_day)
        bounds: list[tuple[str, datetime, datetime]] = []
        for spec in policy.terms:
            term = policy.term_of(lo_day.replace(month=spec.first_month))
            t_lo, t_hi = policy.bounds_utc(term.start, term.end)
            bounds.append((term.name, t_lo, t_hi))
        bounds.sort(key=lambda b: b[1])
        terms = tuple(b[0] for b in bounds)
        async with self._sessions() as session:
            self._dialect = session.get_bind().dialect.name
            families, by_status, by_outcome = await self._cases(session, lo, hi, bounds)
            by_area = await self._count_by(session, CaseRow.area, lo, hi)
            by_referral = await self._count_by(session, CaseRow.referral_source, lo, hi)
            to_pair = await self._to_pair(session, lo, hi)
            to_meeting = await self._to_first_meeting(session, lo, hi)
            held, not_held = await self._meetings(session, lo, hi, bounds)
            client = await self._client(session, year)
            closed = sum(n for (_, s), n in by_status.items() if s == CaseStatus.CLOSED.value)
            mediator_feedback = await self._mediator_feedback(session, lo, hi, closed)
            mediators = await self._mediators(session, lo, hi, bounds, policy)
            by_employer = await self._minutes_by_employer(session, lo, hi)
        return YearStats(
            year=year,
            terms=terms,
            families=families,
            by_status=by_status,
            by_outcome=by_outcome,
            by_area=by_area,
            by_referral=by_referral,
            to_pair=to_pair,
            to_first_meeting=to_meeting,
            meetings_held=held,
            meetings_not_held=not_held,
            client=client,
            mediator_feedback=mediator_feedback,
            mediators=mediators,
            minutes_by_employer=by_employer,
        )

    # -- dialect helpers -----------------------------------------------------------------

    def _whole_days(self, later: Any, earlier: Any) -> ColumnElement[Any]:
        """Whole days elapsed between two moments (24-hour periods, rounded down)."""
        if self._dialect == "postgresql":
            seconds = func.extract("epoch", later - earlier)
            return cast(func.floor(seconds / 86400), Integer)
        return cast(func.julianday(later) - func.julianday(earlier), Integer)

    def _minutes(self, meeting: type[MeetingRow] = MeetingRow) -> ColumnElement[Any]:
        """Held minutes as recorded, else the booked length."""
        if self._dialect == "postgresql":
            booked = func.extract("epoch", meeting.ends_at - meeting.starts_at) / 60
        else:
            booked = (func.julianday(meeting.ends_at) - func.julianday(meeting.starts_at)) * 1440
        return func.coalesce(meeting.held_minutes, func.round(cast(booked, Float)))

    async def _median(self, session: AsyncSession, days: Any, source: Any) -> Median:
        sub = select(days.label("days")).select_from(source).subquery()
        if self._dialect == "postgresql":
            row = (
                await session.execute(
                    select(
                        func.percentile_cont(0.5).within_group(sub.c.days),
                        func.count(sub.c.days),
                    )
                )
            ).one()
            return Median(float(row[0]) if row[0] is not None else None, int(row[1]))
        rows = await session.execute(select(sub.c.days, func.count()).group_by(sub.c.days))
        histogram = {int(d): int(n) for d, n in rows}
        return Median(median_of_counts(histogram), sum(histogram.values()))

    # -- families --------------------------------------------------------------------------

    async def _cases(
        self,
        session: AsyncSession,
        lo: datetime,
        hi: datetime,
        bounds: Sequence[tuple[str, datetime, datetime]],
    ) -> tuple[dict[str, int], dict[tuple[str, str], int], dict[tuple[str, str], int]]:
        term = _term_of(CaseRow.created_at, bounds).label("term")
        rows = await session.execute(
            select(term, CaseRow.status, CaseRow.outcome, func.count())
            .where(CaseRow.created_at >= lo, CaseRow.created_at < hi)
            .group_by(term, CaseRow.status, CaseRow.outcome)
        )
        families: dict[str, int] = {b[0]: 0 for b in bounds}
        by_status: dict[tuple[str, str], int] = {}
        by_outcome: dict[tuple[str, str], int] = {}
        for term_name, status, outcome, n in rows:
            families[term_name] = families.get(term_name, 0) + n
            by_status[(term_name, status)] = by_status.get((term_name, status), 0) + n
            key = (term_name, outcome or "")
            by_outcome[key] = by_outcome.get(key, 0) + n
        return families, by_status, by_outcome

    async def _count_by(
        self, session: AsyncSession, column: Any, lo: datetime, hi: datetime
    ) -> dict[str, int]:
        rows = await session.execute(
            select(column, func.count())
            .where(CaseRow.created_at >= lo, CaseRow.created_at < hi)
            .group_by(column)
            .order_by(func.count().desc(), column)
        )
        return {str(k): int(n) for k, n in rows}

    async def _to_pair(self, session: AsyncSession, lo: datetime, hi: datetime) -> Median:
        """Days from intake to the moment the last seat was filled, over full cases."""
        full = (
            select(SeatRow.case_id, func.max(SeatRow.taken_at).label("paired_at"))
            .group_by(SeatRow.case_id)
            .having(func.count(SeatRow.holder_id) == func.count())
            .subquery()
        )
        source = full.join(CaseRow, CaseRow.id == full.c.case_id)
        days = self._whole_days(full.c.paired_at, CaseRow.created_at)
        query = (
            select(days.label("days"))
            .select_from(source)
            .where(CaseRow.created_at >= lo, CaseRow.created_at < hi)
            .subquery()
        )
        return await self._median(session, query.c.days, query)

    async def _to_first_meeting(self, session: AsyncSession, lo: datetime, hi: datetime) -> Median:
        first = (
            select(MeetingRow.case_id, func.min(MeetingRow.starts_at).label("first_at"))
            .where(MeetingRow.status == MeetingStatus.HELD.value)
            .group_by(MeetingRow.case_id)
            .subquery()
        )
        source = first.join(CaseRow, CaseRow.id == first.c.case_id)
        days = self._whole_days(first.c.first_at, CaseRow.created_at)
        query = (
            select(days.label("days"))
            .select_from(source)
            .where(CaseRow.created_at >= lo, CaseRow.created_at < hi)
            .subquery()
        )
        return await self._median(session, query.c.days, query)

    # -- meetings and hours ----------------------------------------------------------------

    async def _meetings(
        self,
        session: AsyncSession,
        lo: datetime,
        hi: datetime,
        bounds: Sequence[tuple[str, datetime, datetime]],
    ) -> tuple[dict[tuple[str, str], int], int]:
        term = _term_of(MeetingRow.starts_at, bounds).label("term")
        rows = await session.execute(
            select(term, MeetingRow.kind, MeetingRow.status, func.count())
            .where(
                MeetingRow.starts_at >= lo,
                MeetingRow.starts_at < hi,
                MeetingRow.status.in_([MeetingStatus.HELD.value, MeetingStatus.NOT_HELD.value]),
            )
            .group_by(term, MeetingRow.kind, MeetingRow.status)
        )
        held: dict[tuple[str, str], int] = {}
        not_held = 0
        for term_name, kind, status, n in rows:
            if status == MeetingStatus.HELD.value:
                held[(term_name, kind)] = int(n)
            else:
                not_held += int(n)
        return held, not_held

    def _held_minutes_by(self, group: Any, lo: datetime, hi: datetime) -> Any:
        """Held meeting minutes per group of the seat holders of the meeting's case."""
        return (
            select(group, func.sum(self._minutes()))
            .select_from(MeetingRow)
            .join(SeatRow, SeatRow.case_id == MeetingRow.case_id)
            .join(MediatorRow, MediatorRow.id == SeatRow.holder_id)
            .where(
                MeetingRow.status == MeetingStatus.HELD.value,
                MeetingRow.starts_at >= lo,
                MeetingRow.starts_at < hi,
            )
            .group_by(group)
        )

    async def _mediators(
        self,
        session: AsyncSession,
        lo: datetime,
        hi: datetime,
        bounds: Sequence[tuple[str, datetime, datetime]],
        policy: BankPolicy,
    ) -> tuple[MediatorFigures, ...]:
        term = _term_of(SeatRow.taken_at, bounds).label("term")
        packages = await session.execute(
            select(SeatRow.holder_id, term, func.count())
            .join(CaseRow, CaseRow.id == SeatRow.case_id)
            .where(
                SeatRow.holder_id.is_not(None),
                SeatRow.taken_at >= lo,
                SeatRow.taken_at < hi,
                CaseRow.status != CaseStatus.CANCELLED.value,
            )
            .group_by(SeatRow.holder_id, term)
        )
        by_mediator: dict[int, dict[str, int]] = {}
        for mediator_id, term_name, n in packages:
            by_mediator.setdefault(int(mediator_id), {})[term_name] = int(n)
        minutes = {
            int(k): int(v or 0)
            for k, v in await session.execute(self._held_minutes_by(SeatRow.holder_id, lo, hi))
        }
        people = await session.execute(
            select(
                MediatorRow.id, MediatorRow.name, MediatorRow.employer, MediatorRow.active
            ).order_by(MediatorRow.name, MediatorRow.id)
        )
        term_quota = {spec.name: spec.quota for spec in policy.terms}
        figures = []
        for mediator_id, name, employer, active in people:
            if not active and mediator_id not in by_mediator and mediator_id not in minutes:
                continue
            figures.append(
                MediatorFigures(
                    mediator_id=mediator_id,
                    name=name,
                    employer=employer,
                    packages={b[0]: by_mediator.get(mediator_id, {}).get(b[0], 0) for b in bounds},
                    year_quota=policy.year_quota,
                    term_quota=term_quota,
                    minutes=minutes.get(mediator_id, 0),
                )
            )
        return tuple(figures)

    async def _minutes_by_employer(
        self, session: AsyncSession, lo: datetime, hi: datetime
    ) -> dict[str, int]:
        rows = await session.execute(self._held_minutes_by(MediatorRow.employer, lo, hi))
        return dict(sorted(((str(k), int(v or 0)) for k, v in rows), key=lambda kv: -kv[1]))

    # -- feedback --------------------------------------------------------------------------

    async def _client(self, session: AsyncSession, year: int) -> ClientFeedbackFigures:
        links, uses = (
            await session.execute(
                select(func.count(), func.coalesce(func.sum(ClientLinkRow.uses), 0)).where(
                    ClientLinkRow.year == year
                )
            )
        ).one()
        a = ClientAnswerRow
        averages = (
            await session.execute(
                select(
                    func.avg(a.felt_heard),
                    func.count(a.felt_heard),
                    func.avg(a.impartial),
                    func.count(a.impartial),
                    func.avg(a.child_view),
                    func.count(a.child_view),
                ).where(a.year == year)
            )
        ).one()

        def average(i: int) -> Average:
            value = averages[i]
            return Average(float(value) if value is not None else None, int(averages[i + 1]))

        async def spread(column: Any) -> dict[str, int]:
            rows = await session.execute(
                select(column, func.count())
                .where(a.year == year, column.is_not(None))
                .group_by(column)
            )
            return {str(k): int(n) for k, n in rows}

        return ClientFeedbackFigures(
            links=int(links),
            uses=int(uses),
            felt_heard=average(0),
            impartial=average(2),
            child_view=average(4),
            settled=await spread(a.settled),
            recommend=await spread(a.recommend),
            heard_from=await spread(a.heard_from),
        )

    async def _mediator_feedback(
        self, session: AsyncSession, lo: datetime, hi: datetime, closed_cases: int
    ) -> MediatorFeedbackFigures:
        f = CaseFeedbackRow
        in_year = and_(CaseRow.created_at >= lo, CaseRow.created_at < hi)
        count, package, package_n, pair, pair_n = (
            await session.execute(
                select(
                    func.count(),
                    func.avg(f.package_rating),
                    func.count(f.package_rating),
                    func.avg(f.pair_rating),
                    func.count(f.pair_rating),
                )
                .join(CaseRow, CaseRow.id == f.case_id)
                .where(in_year)
            )
        ).one()
        m = MeetingFeedbackRow
        meeting_in_year = and_(MeetingRow.starts_at >= lo, MeetingRow.starts_at < hi)
        rating, rating_n = (
            await session.execute(
                select(func.avg(m.rating), func.count(m.rating))
                .join(MeetingRow, MeetingRow.id == m.meeting_id)
                .where(meeting_in_year)
            )
        ).one()
        cooperation = {
            str(k): int(n)
            for k, n in await session.execute(
                select(m.cooperation, func.count())
                .join(MeetingRow, MeetingRow.id == m.meeting_id)
                .where(meeting_in_year)
                .group_by(m.cooperation)
            )
        }

        def avg(value: Any, n: Any) -> Average:
            return Average(float(value) if value is not None else None, int(n))

        return MediatorFeedbackFigures(
            case_answers=int(count),
            case_possible=2 * closed_cases,
            package=avg(package, package_n),
            pair=avg(pair, pair_n),
            meeting=avg(rating, rating_n),
            cooperation=cooperation,
        )

    async def written(self, year: int, policy: BankPolicy) -> list[WrittenAnswer]:
        lo, hi = policy.bounds_utc(*policy.year_bounds(year))
        found: list[WrittenAnswer] = []
        async with self._sessions() as session:
            a = ClientAnswerRow
            for term, good, missing in await session.execute(
                select(a.term, a.good, a.missing).where(a.year == year)
            ):
                found.append(WrittenAnswer(term, "parent_good", good or ""))
                found.append(WrittenAnswer(term, "parent_missing", missing or ""))
            f = CaseFeedbackRow
            for created_at, note in await session.execute(
                select(CaseRow.created_at, f.note)
                .join(CaseRow, CaseRow.id == f.case_id)
                .where(CaseRow.created_at >= lo, CaseRow.created_at < hi, f.note != "")
            ):
                found.append(WrittenAnswer(policy.term_of(created_at).name, "mediator_case", note))
            m = MeetingFeedbackRow
            for starts_at, note in await session.execute(
                select(MeetingRow.starts_at, m.note)
                .join(MeetingRow, MeetingRow.id == m.meeting_id)
                .where(MeetingRow.starts_at >= lo, MeetingRow.starts_at < hi, m.note != "")
            ):
                found.append(
                    WrittenAnswer(policy.term_of(starts_at).name, "mediator_meeting", note)
                )
        return found


if TYPE_CHECKING:  # mypy checks here that the class fills the domain's port
    _port: type[StatsQueries] = SqlStatsQueries
