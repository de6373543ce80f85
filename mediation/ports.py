"""The ports the use cases talk through; adapters in storage/, bot/ and graph/ fill them."""

from __future__ import annotations

import builtins
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from types import TracebackType
from typing import TYPE_CHECKING, Protocol

from mediation.common_time import CommonTime
from mediation.common_time import Entry as CommonTimeEntry
from mediation.common_time import Status as CommonTimeStatus
from mediation.consultation import Consultation
from mediation.consultation import Entry as ConsultationEntry
from mediation.consultation import Status as ConsultationStatus
from mediation.journal import AccessEntry, CaseEvent, MediatorEvent
from mediation.model import Case, CaseStatus, Family, Mediator
from mediation.organisations import OrganisationRepository
from mediation.outbox import OutboxWriter
from mediation.requests import RequestLinks
from mediation.views import CaseSummary
from mediation.walk_in import Shift, Swap, Visit

if TYPE_CHECKING:
    # mediation.common_time_feedback reads the bank's feedback, which uses these ports.
    from mediation.common_time_feedback import CommonTimeFeedbackRepository


class Clock(Protocol):
    def now(self) -> datetime:
        """The current moment, timezone-aware."""
        ...


class MediatorRepository(Protocol):
    async def get(self, mediator_id: int, *, for_update: bool = False) -> Mediator | None: ...

    async def by_aad(self, aad_object_id: str) -> Mediator | None: ...

    async def by_ids(self, ids: Sequence[int]) -> dict[int, Mediator]: ...

    async def by_aad_and_ids(
        self, aad_object_id: str, ids: Sequence[int]
    ) -> tuple[Mediator | None, dict[int, Mediator]]:
        """by_aad and by_ids in one read: the user acting and, say, a case's seat holders."""
        ...

    async def list(self, *, active_only: bool = False) -> builtins.list[Mediator]: ...

    async def coordinators(self, *, for_update: bool = False) -> builtins.list[Mediator]:
        """The coordinators; ``for_update`` first locks every coordinator's row in id order,
        so that changes which must leave one active coordinator take their turns."""
        ...

    async def add(self, mediator: Mediator) -> Mediator: ...

    async def save(self, mediator: Mediator) -> None: ...

    async def packages_taken(self, mediator_id: int, start: datetime, end: datetime) -> int:
        """Seats the mediator holds that were taken in [start, end), cancelled cases aside."""
        ...

    async def packages_taken_in(
        self, mediator_id: int, spans: Sequence[tuple[datetime, datetime]]
    ) -> builtins.list[int]:
        """packages_taken for each (start, end) span, in one read."""
        ...

    async def packages_by_mediator(self, start: datetime, end: datetime) -> dict[int, int]:
        """Per mediator, the seats taken in [start, end) on cases not cancelled, in one read."""
        ...

    async def workload(
        self, start: datetime, end: datetime
    ) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
        """packages_by_mediator for [start, end), and per two mediators (lower id first) the
        cases on which both hold a seat, in one read."""
        ...


class CaseRepository(Protocol):
    async def get(self, case_id: int, *, for_update: bool = False) -> Case | None: ...

    async def add(self, case: Case, family: Family) -> Case: ...

    async def save(self, case: Case) -> None:
        """Write a loaded case back; raises ConcurrentChange if it changed meanwhile."""
        ...

    async def family(self, case_id: int) -> Family | None: ...

    async def next_code(self, year: int) -> str: ...

    async def for_mediator(self, mediator_id: int) -> list[Case]: ...

    async def with_status(self, statuses: Sequence[CaseStatus]) -> list[Case]: ...

    async def erase_family(self, case_id: int) -> None:
        """Delete a family's identifying data; the case and its statistics stay."""
        ...


class Journal(Protocol):
    async def case_event(self, event: CaseEvent) -> None: ...

    async def access(self, entry: AccessEntry) -> None: ...

    async def mediator_event(self, event: MediatorEvent) -> None: ...

    async def case_events(self, case_id: int) -> list[CaseEvent]: ...

    async def accesses(self, case_id: int) -> list[AccessEntry]: ...


class QualificationRepository(Protocol):
    """What the registry records of people beyond being mediators (``QUALIFICATIONS``)."""

    async def of(self, mediator_ids: Sequence[int]) -> dict[int, frozenset[str]]:
        """Each person's qualifications (none: an empty set)."""
        ...

    async def set(self, mediator_id: int, qualifications: frozenset[str]) -> None: ...


class CommonTimeRepository(Protocol):
    """The family centre's common times (mediation/common_time.py)."""

    async def next_code(self, year: int) -> str: ...

    async def add(self, common_time: CommonTime) -> CommonTime: ...

    async def get(self, common_time_id: int) -> CommonTime | None: ...

    async def for_person(self, person_id: int) -> builtins.list[CommonTime]:
        """Those someone convenes, is invited to or follows up, newest first."""
        ...

    async def with_status(
        self, statuses: Sequence[CommonTimeStatus]
    ) -> builtins.list[CommonTime]: ...

    async def calendar_pending(self) -> builtins.list[CommonTime]:
        """Those with a meeting whose booking or cancellation has not reached the calendar."""
        ...

    async def save(self, common_time: CommonTime) -> None:
        """Write a loaded common time back; raises ConcurrentChange if it changed meanwhile."""
        ...

    async def erase_texts(self, common_time_id: int, now: datetime) -> None:
        """Overwrite the plan's texts and the exceptions' justifications for good."""
        ...

    async def write(self, common_time_id: int, entry: CommonTimeEntry) -> None:
        """Add a line to its journal, in the unit of work's transaction."""
        ...

    async def journal(self, common_time_id: int) -> builtins.list[CommonTimeEntry]: ...


class ConsultationRepository(Protocol):
    """The expert team's consultation requests (mediation/consultation.py)."""

    async def next_code(self, year: int) -> str: ...

    async def add(self, consultation: Consultation) -> Consultation: ...

    async def calendar_pending(self) -> builtins.list[Consultation]:
        """The requests whose client meeting has not yet reached the calendar."""
        ...

    async def get(self, consultation_id: int) -> Consultation | None: ...

    async def for_person(self, person_id: int) -> builtins.list[Consultation]:
        """Those someone sent or was asked to, newest first."""
        ...

    async def with_status(
        self, statuses: Sequence[ConsultationStatus]
    ) -> builtins.list[Consultation]: ...

    async def on_day(self, day: date) -> int:
        """Requests on a consultation day's agenda, withdrawn ones aside."""
        ...

    async def save(self, consultation: Consultation) -> None:
        """Write a loaded request back; raises ConcurrentChange if it changed meanwhile."""
        ...

    async def write(self, consultation_id: int, entry: ConsultationEntry) -> None:
        """Add a line to its journal, in the unit of work's transaction."""
        ...

    async def journal(self, consultation_id: int) -> builtins.list[ConsultationEntry]: ...


class WalkInRepository(Protocol):
    """The walk-in service's shifts, swaps and visits (mediation/walk_in.py)."""

    async def shifts(self, first: date, last: date) -> builtins.list[Shift]:
        """Every shift (of both kinds) whose day is from ``first`` to ``last``, in time order."""
        ...

    async def shift(self, shift_id: int, *, for_update: bool = False) -> Shift | None: ...

    async def add_shift(self, shift: Shift) -> Shift: ...

    async def save_shift(self, shift: Shift) -> None: ...

    async def swaps(
        self, *, shift_ids: Sequence[int] = (), person_id: int | None = None
    ) -> builtins.list[Swap]:
        """The open offers of these shifts, or those someone made or was made."""
        ...

    async def swap(self, swap_id: int, *, for_update: bool = False) -> Swap | None: ...

    async def add_swap(self, swap: Swap) -> Swap: ...

    async def save_swap(self, swap: Swap) -> None: ...

    async def visits(self, shift_ids: Sequence[int]) -> builtins.list[Visit]: ...

    async def visit(self, visit_id: int) -> Visit | None: ...

    async def add_visit(self, visit: Visit, form_id: str) -> Visit | None:
        """The visit stored; None when the same form (``form_id``) recorded one already."""
        ...

    async def remove_visit(self, visit_id: int) -> None: ...


class UnitOfWork(Protocol):
    mediators: MediatorRepository
    cases: CaseRepository
    journal: Journal
    outbox: OutboxWriter  # messages to Teams, committed with the change that causes them
    requests: RequestLinks  # the family's contact request, linked with the case it became
    organisations: OrganisationRepository
    qualifications: QualificationRepository
    common_times: CommonTimeRepository
    common_time_feedback: CommonTimeFeedbackRepository
    consultations: ConsultationRepository
    walk_in: WalkInRepository
    # Whether others read past a transaction's locks, as on PostgreSQL, where a change locks
    # the rows it changes. Where one transaction at a time has the whole database (SQLite),
    # nothing can be spared by reading first outside one.
    reads_past_locks: bool

    async def __aenter__(self) -> UnitOfWork: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Roll back whatever was not committed."""
        ...

    async def commit(self) -> None: ...

    async def rollback(self) -> None: ...

    def reading(self) -> UnitOfWork:
        """A unit of work of its own for reading only (a card drawn as the case stands):
        it reads the committed state without locking rows or paying for a transaction
        where the database allows it. ``commit`` refuses; it must not write at all, as on
        PostgreSQL a write would be committed as it ran."""
        ...


# -- notifications: what the bank tells people after a change has been committed ---------
#
# A use case that has the case and the people at hand when it commits passes them along
# (``summary``, ``people``: as they stood right after its change), so the delivery need not
# read them again; without them the delivery reads the case as it then is. They are not part
# of what the notification says: two notifications of the same change compare equal.


@dataclass(frozen=True)
class PairComplete:
    case_id: int
    code: str
    mediator_ids: tuple[int, ...]
    summary: CaseSummary | None = field(default=None, compare=False, repr=False)
    people: Mapping[int, Mediator] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class SeatReleased:
    case_id: int
    code: str
    mediator_id: int
    reason: str
    coordinator_ids: tuple[int, ...]
    summary: CaseSummary | None = field(default=None, compare=False, repr=False)
    people: Mapping[int, Mediator] | None = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class CaseChanged:
    """The case's public card must be re-rendered wherever it is posted."""

    case_id: int
    summary: CaseSummary | None = field(default=None, compare=False, repr=False)


Notification = PairComplete | SeatReleased | CaseChanged


class Notifier(Protocol):
    """Told once a change is committed; what it says is in the outbox already.

    The running app wakes the outbox's sender, so the message goes out now rather than at
    its next look; a lost wake-up only delays it.
    """

    async def notify(self, notification: Notification) -> None: ...
