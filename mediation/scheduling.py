"""What the scheduler keeps between runs and the lock that makes one replica run the jobs."""

from __future__ import annotations

from datetime import date, datetime
from typing import Protocol


class SchedulerMemory(Protocol):
    """Each job's last completed slot and the joint meetings' agendas; each call commits."""

    async def last_slot(self, job_id: str) -> datetime | None: ...

    async def record_run(self, job_id: str, slot: datetime, finished_at: datetime) -> None:
        """Remember that ``slot`` of the job is done (never moves backwards)."""
        ...

    async def agendas(self, start: date, end: date) -> dict[date, str]:
        """The agenda links of the joint meetings in [start, end)."""
        ...


class SchedulerLock(Protocol):
    """Held by at most one replica at a time; it is lost when its holder dies."""

    async def try_acquire(self) -> bool:
        """Become the leader if no one else is; True if this replica leads now."""
        ...

    async def release(self) -> None: ...
