"""What the scheduler remembers between runs: each job's last slot, joint-meeting agendas."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mediation.scheduling import SchedulerMemory
from storage.models_jobs import JobRunRow, JointMeetingAgendaRow


class JobStore:
    """Each method is its own short transaction."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def last_slot(self, job_id: str) -> datetime | None:
        async with self._sessions() as session:
            row = await session.get(JobRunRow, job_id)
            return row.last_slot if row is not None else None

    async def record_run(self, job_id: str, slot: datetime, finished_at: datetime) -> None:
        """Remember that ``slot`` of the job is done (never moves backwards)."""
        async with self._sessions() as session, session.begin():
            row = await session.get(JobRunRow, job_id, with_for_update=True)
            if row is None:
                session.add(JobRunRow(job_id=job_id, last_slot=slot, finished_at=finished_at))
            elif row.last_slot < slot:
                row.last_slot, row.finished_at = slot, finished_at

    async def set_agenda(self, day: date, url: str, set_by: int, at: datetime) -> None:
        async with self._sessions() as session, session.begin():
            row = await session.get(JointMeetingAgendaRow, day, with_for_update=True)
            if row is None:
                session.add(
                    JointMeetingAgendaRow(day=day, agenda_url=url, set_by=set_by, set_at=at)
                )
            else:
                row.agenda_url, row.set_by, row.set_at = url, set_by, at

    async def agendas(self, start: date, end: date) -> dict[date, str]:
        async with self._sessions() as session:
            rows = await session.scalars(
                select(JointMeetingAgendaRow).where(
                    JointMeetingAgendaRow.day >= start, JointMeetingAgendaRow.day < end
                )
            )
            return {r.day: r.agenda_url for r in rows}


if TYPE_CHECKING:
    # mypy checks here that JobStore fills the scheduler's port.
    _port: type[SchedulerMemory] = JobStore
