"""The SQL unit of work: one session per ``async with``, repositories bound to it."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from mediation.common_time_feedback import CommonTimeFeedbackRepository
from mediation.organisations import OrganisationRepository
from mediation.outbox import OutboxWriter
from mediation.ports import (
    CaseRepository,
    CommonTimeRepository,
    ConsultationRepository,
    Journal,
    MediatorRepository,
    QualificationRepository,
    UnitOfWork,
    WalkInRepository,
)
from mediation.requests import RequestLinks
from storage import db, redelivery
from storage.outbox import SessionOutbox
from storage.redelivery import Delivery, Duplicate
from storage.repositories import SqlCaseRepository, SqlJournal, SqlMediatorRepository
from storage.repositories.common_time_feedback import SqlCommonTimeFeedback
from storage.repositories.common_times import SqlCommonTimes
from storage.repositories.consultations import SqlConsultations
from storage.repositories.organisations import SqlOrganisationRepository
from storage.repositories.qualifications import SqlQualifications
from storage.repositories.walk_in import SqlWalkIn
from storage.requests import SessionRequests


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (no lazy loads in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)


def reading_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for ``SqlUnitOfWork.reading``: reads without a transaction's costs
    where the database allows it (``storage.db.for_reading``)."""
    return session_factory(db.for_reading(engine))


class SqlUnitOfWork:
    """Implements :class:`mediation.ports.UnitOfWork`.

    The same object may be entered many times in a row (use cases retry a whole attempt),
    but never by two tasks at once: give each concurrent task its own unit of work.
    SQL-only extras (``SqlCaseRepository.erase_family``, ``SqlJournal.mediator_events``)
    are reached by building the repository on :attr:`session`.

    Made for a card click, it carries the click's ``delivery``: entering it stops a
    redelivery whose change is made, and its commit records the click's id with the
    change (storage/redelivery.py).

    ``readers`` makes the sessions of ``reading()`` (``reading_sessions``): without them a
    reading unit of work reads in an ordinary transaction, as correct and a little dearer.
    """

    mediators: MediatorRepository
    cases: CaseRepository
    journal: Journal
    outbox: OutboxWriter
    requests: RequestLinks
    organisations: OrganisationRepository
    qualifications: QualificationRepository
    common_times: CommonTimeRepository
    common_time_feedback: CommonTimeFeedbackRepository
    consultations: ConsultationRepository
    walk_in: WalkInRepository

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        delivery: Delivery | None = None,
        *,
        readers: async_sessionmaker[AsyncSession] | None = None,
    ) -> None:
        self._sessions = sessions
        self._session: AsyncSession | None = None
        self.delivery = delivery
        self._readers = readers
        self._read_only = False
        bind = sessions.kw.get("bind")
        self.reads_past_locks = bind is not None and not db.is_sqlite(bind)

    @property
    def session(self) -> AsyncSession:
        """The open session, for read queries that have no repository method."""
        if self._session is None:
            raise RuntimeError("the unit of work is not entered (use `async with uow:`)")
        return self._session

    async def __aenter__(self) -> SqlUnitOfWork:
        if self._session is not None:
            raise RuntimeError("this unit of work is already in use; make one per task")
        session = self._sessions()
        if self.delivery is not None:
            try:
                await redelivery.check(session, self.delivery)
            except BaseException:
                await session.close()
                raise
        self._session = session
        self.mediators = SqlMediatorRepository(session)
        self.cases = SqlCaseRepository(session)
        self.journal = SqlJournal(session)
        self.outbox = SessionOutbox(session)
        self.requests = SessionRequests(session)
        self.organisations = SqlOrganisationRepository(session)
        self.qualifications = SqlQualifications(session)
        self.common_times = SqlCommonTimes(session)
        self.common_time_feedback = SqlCommonTimeFeedback(session)
        self.consultations = SqlConsultations(session)
        self.walk_in = SqlWalkIn(session)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        session, self._session = self.session, None
        # Closing rolls back whatever was not committed.
        await session.close()

    def reading(self) -> SqlUnitOfWork:
        if self._session is not None:
            # On SQLite's one connection a second session would wait for this one's.
            raise RuntimeError("this unit of work is in use; read before or after it")
        reader = SqlUnitOfWork(self._readers or self._sessions)
        reader._read_only = True
        return reader

    async def commit(self) -> None:
        if self._read_only:
            raise RuntimeError("a reading unit of work commits nothing")
        session = self.session
        delivery = self.delivery
        if delivery is None or delivery.recorded or delivery.duplicate:
            await db.commit(session)
            return
        await session.flush()  # the change's own errors surface as they are
        try:
            await redelivery.record(session, delivery)
        except Duplicate:
            await session.rollback()
            raise
        await db.commit(session)
        delivery.recorded = True

    async def rollback(self) -> None:
        await self.session.rollback()


if TYPE_CHECKING:
    # mypy checks here that SqlUnitOfWork fills the domain's port.
    _port: type[UnitOfWork] = SqlUnitOfWork
