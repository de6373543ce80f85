"""An in-memory unit of work with the same contract as storage/'s, for fast use-case tests."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import replace
from datetime import date, datetime
from types import TracebackType

from mediation.errors import ConcurrentChange
from mediation.journal import AccessEntry, CaseEvent, MediatorEvent
from mediation.model import COMPLETING_OUTCOMES, Case, CaseStatus, Family, Mediator
from mediation.organisations import Organisation, organisation_key
from mediation.outbox import NewMessage, OutboxKey
from mediation.ports import Notification
from mediation.requests import ContactRequest
from mediation.walk_in import Shift, Swap, SwapState, Visit


class _Store:
    def __init__(self) -> None:
        self.mediators: dict[int, Mediator] = {}
        self.cases: dict[int, Case] = {}
        self.families: dict[int, Family] = {}
        self.case_events: list[CaseEvent] = []
        self.accesses: list[AccessEntry] = []
        self.mediator_events: list[MediatorEvent] = []
        self.outbox: dict[OutboxKey, NewMessage] = {}  # committed with the change, by key
        self.requests: dict[int, tuple[int, ContactRequest]] = {}  # id -> (version, request)
        self.organisations: dict[str, Organisation] = {}  # by organisation_key(name)
        self.qualifications: dict[int, frozenset[str]] = {}
        self.shifts: dict[int, Shift] = {}
        self.swaps: dict[int, Swap] = {}
        self.visits: dict[int, tuple[Visit, str]] = {}  # id -> (visit, form id)


class MemoryUnitOfWork:
    """Changes are staged on copies and published on commit, as a transaction would."""

    def __init__(self, store: _Store | None = None, *, read_only: bool = False) -> None:
        self.store = store or _Store()
        self.read_only = read_only
        self.reads_past_locks = True  # the use cases' first looks run here too
        self.committed = 0
        self._stage: _Store | None = None
        self.mediators = _Mediators(self)
        self.cases = _Cases(self)
        self.journal = _Journal(self)
        self.outbox = _Outbox(self)
        self.requests = _Requests(self)
        self.organisations = _Organisations(self)
        self.qualifications = _Qualifications(self)
        self.walk_in = _WalkIn(self)

    @property
    def stage(self) -> _Store:
        if self._stage is None:
            raise RuntimeError("unit of work used outside 'async with'")
        return self._stage

    async def __aenter__(self) -> MemoryUnitOfWork:
        self._stage = copy.deepcopy(self.store)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stage = None

    def reading(self) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self.store, read_only=True)

    async def commit(self) -> None:
        if self.read_only:
            raise RuntimeError("a reading unit of work commits nothing")
        self.store.__dict__.update(copy.deepcopy(self.stage).__dict__)
        self.committed += 1

    async def rollback(self) -> None:
        self._stage = copy.deepcopy(self.store)


class _Outbox:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow = uow

    async def add(self, messages: Sequence[NewMessage], now: datetime) -> int:
        kept = self.uow.stage.outbox
        new = [m for m in messages if m.key not in kept]
        for m in new:
            kept[m.key] = m
        return len(new)


class _Requests:
    """Contact requests saved within the unit of work; versions start at 1."""

    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow = uow

    async def save(self, request: ContactRequest, expected_version: int) -> bool:
        kept = self.uow.stage.requests
        version = kept[request.id][0] if request.id in kept else request.version
        if version != expected_version:
            return False
        kept[request.id] = (expected_version + 1, request)
        return True


class _Organisations:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow = uow

    async def list(self) -> list[Organisation]:
        return sorted(self.uow.stage.organisations.values(), key=lambda o: o.name)

    async def by_name(self, name: str) -> Organisation | None:
        return self.uow.stage.organisations.get(organisation_key(name))

    async def save(self, organisation: Organisation) -> Organisation:
        kept = self.uow.stage.organisations
        old = kept.get(organisation_key(organisation.name))
        new_id = old.id if old else len(kept) + 1
        kept[organisation_key(organisation.name)] = saved = replace(organisation, id=new_id)
        return saved


class _Qualifications:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow = uow

    async def of(self, mediator_ids: Sequence[int]) -> dict[int, frozenset[str]]:
        kept = self.uow.stage.qualifications
        return {i: kept.get(i, frozenset()) for i in mediator_ids}

    async def set(self, mediator_id: int, qualifications: frozenset[str]) -> None:
        self.uow.stage.qualifications[mediator_id] = qualifications


class _WalkIn:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow = uow

    async def shifts(self, first: date, last: date) -> list[Shift]:
        found = [s for s in self.uow.stage.shifts.values() if first <= s.day <= last]
        return copy.deepcopy(sorted(found, key=lambda s: (s.starts_at, s.kind)))

    async def shift(self, shift_id: int, *, for_update: bool = False) -> Shift | None:
        return copy.deepcopy(self.uow.stage.shifts.get(shift_id))

    async def add_shift(self, shift: Shift) -> Shift:
        kept = self.uow.stage.shifts
        if any((s.kind, s.starts_at) == (shift.kind, shift.starts_at) for s in kept.values()):
            raise ConcurrentChange(f"shift {shift.kind} {shift.starts_at}")  # UNIQUE
        shift.id = max(kept, default=0) + 1
        kept[shift.id] = copy.deepcopy(shift)
        return shift

    async def save_shift(self, shift: Shift) -> None:
        assert shift.id is not None
        self.uow.stage.shifts[shift.id] = copy.deepcopy(shift)

    async def swaps(
        self, *, shift_ids: Sequence[int] = (), person_id: int | None = None
    ) -> list[Swap]:
        found = [
            w
            for w in self.uow.stage.swaps.values()
            if w.state is SwapState.OFFERED
            and (
                person_id in (w.from_id, w.to_id)
                if person_id is not None
                else w.shift_id in shift_ids
            )
        ]
        return copy.deepcopy(found)

    async def swap(self, swap_id: int, *, for_update: bool = False) -> Swap | None:
        return copy.deepcopy(self.uow.stage.swaps.get(swap_id))

    async def add_swap(self, swap: Swap) -> Swap:
        kept = self.uow.stage.swaps
        swap.id = max(kept, default=0) + 1
        kept[swap.id] = copy.deepcopy(swap)
        return swap

    async def save_swap(self, swap: Swap) -> None:
        assert swap.id is not None
        self.uow.stage.swaps[swap.id] = copy.deepcopy(swap)

    async def visits(self, shift_ids: Sequence[int]) -> list[Visit]:
        return [v for v, _ in self.uow.stage.visits.values() if v.shift_id in shift_ids]

    async def visit(self, visit_id: int) -> Visit | None:
        found = self.uow.stage.visits.get(visit_id)
        return found[0] if found else None

    async def add_visit(self, visit: Visit, form_id: str) -> Visit | None:
        kept = self.uow.stage.visits
        if form_id and any(f == form_id for _, f in kept.values()):
            return None
        stored = replace(visit, id=max(kept, default=0) + 1)
        kept[stored.id] = (stored, form_id)  # type: ignore[index]
        return stored

    async def remove_visit(self, visit_id: int) -> None:
        self.uow.stage.visits.pop(visit_id, None)


class _Mediators:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow = uow

    def _load(self, m: Mediator) -> Mediator:
        out = copy.deepcopy(m)
        st = self.uow.stage
        out.completed_cases = sum(
            1
            for c in st.cases.values()
            if c.status is CaseStatus.CLOSED
            and c.outcome in COMPLETING_OUTCOMES
            and m.id in c.holder_ids()
        )
        return out

    async def get(self, mediator_id: int, *, for_update: bool = False) -> Mediator | None:
        m = self.uow.stage.mediators.get(mediator_id)
        return self._load(m) if m else None

    async def by_aad(self, aad_object_id: str) -> Mediator | None:
        for m in self.uow.stage.mediators.values():
            if m.aad_object_id == aad_object_id.lower():
                return self._load(m)
        return None

    async def by_ids(self, ids: Sequence[int]) -> dict[int, Mediator]:
        st = self.uow.stage.mediators
        return {i: self._load(st[i]) for i in ids if i in st}

    async def by_aad_and_ids(
        self, aad_object_id: str, ids: Sequence[int]
    ) -> tuple[Mediator | None, dict[int, Mediator]]:
        return await self.by_aad(aad_object_id), await self.by_ids(ids)

    async def list(self, *, active_only: bool = False) -> list[Mediator]:
        ms = [self._load(m) for m in self.uow.stage.mediators.values()]
        return sorted((m for m in ms if m.active or not active_only), key=lambda m: m.name)

    async def coordinators(self, *, for_update: bool = False) -> list[Mediator]:
        return [m for m in await self.list() if m.is_coordinator]

    async def add(self, mediator: Mediator) -> Mediator:
        st = self.uow.stage.mediators
        new = replace(
            mediator, id=max(st, default=0) + 1, aad_object_id=mediator.aad_object_id.lower()
        )
        st[new.id] = copy.deepcopy(new)  # type: ignore[index]
        return new

    async def save(self, mediator: Mediator) -> None:
        assert mediator.id is not None
        self.uow.stage.mediators[mediator.id] = copy.deepcopy(mediator)

    async def packages_taken(self, mediator_id: int, start: datetime, end: datetime) -> int:
        return sum(
            1
            for c in self.uow.stage.cases.values()
            if c.status is not CaseStatus.CANCELLED
            for s in c.seats
            if s.holder_id == mediator_id and s.taken_at is not None and start <= s.taken_at < end
        )

    async def packages_taken_in(
        self, mediator_id: int, spans: Sequence[tuple[datetime, datetime]]
    ) -> list[int]:
        return [await self.packages_taken(mediator_id, lo, hi) for lo, hi in spans]

    async def packages_by_mediator(self, start: datetime, end: datetime) -> dict[int, int]:
        counts: dict[int, int] = {}
        for c in self.uow.stage.cases.values():
            if c.status is CaseStatus.CANCELLED:
                continue
            for s in c.seats:
                if s.holder_id is not None and s.taken_at is not None and start <= s.taken_at < end:
                    counts[s.holder_id] = counts.get(s.holder_id, 0) + 1
        return counts

    async def workload(
        self, start: datetime, end: datetime
    ) -> tuple[dict[int, int], dict[tuple[int, int], int]]:
        pairs: dict[tuple[int, int], int] = {}
        for c in self.uow.stage.cases.values():
            held = sorted(s.holder_id for s in c.seats if s.holder_id is not None)
            for i, one in enumerate(held):
                for other in held[i + 1 :]:
                    pairs[(one, other)] = pairs.get((one, other), 0) + 1
        return await self.packages_by_mediator(start, end), pairs


class _Cases:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow = uow

    async def get(self, case_id: int, *, for_update: bool = False) -> Case | None:
        c = self.uow.stage.cases.get(case_id)
        return copy.deepcopy(c) if c else None

    async def add(self, case: Case, family: Family) -> Case:
        st = self.uow.stage
        if any(c.code == case.code for c in st.cases.values()):
            raise ConcurrentChange(case.code)
        new = copy.deepcopy(case)
        new.id = max(st.cases, default=0) + 1
        st.cases[new.id] = copy.deepcopy(new)
        st.families[new.id] = family
        return new

    async def save(self, case: Case) -> None:
        assert case.id is not None
        # Optimistic locking against the committed store, like the SQL version check.
        current = self.uow.store.cases[case.id]
        staged = self.uow.stage.cases[case.id]
        if current.version != staged.version or staged.version != case.version:
            raise ConcurrentChange(case.code)
        case.version += 1
        # New meetings get their ids on save, as the SQL repository gives them.
        taken = [m.id for c in self.uow.stage.cases.values() for m in c.meetings if m.id]
        next_id = max(taken, default=0) + 1
        for meeting in case.meetings:
            if meeting.id is None:
                meeting.id, next_id = next_id, next_id + 1
        self.uow.stage.cases[case.id] = copy.deepcopy(case)

    async def family(self, case_id: int) -> Family | None:
        return self.uow.stage.families.get(case_id)

    async def next_code(self, year: int) -> str:
        numbers = [
            int(c.code.split("-")[1])
            for c in self.uow.stage.cases.values()
            if c.code.startswith(f"{year}-")
        ]
        return f"{year}-{max(numbers, default=0) + 1:03d}"

    async def for_mediator(self, mediator_id: int) -> list[Case]:
        return [
            copy.deepcopy(c) for c in self.uow.stage.cases.values() if mediator_id in c.holder_ids()
        ]

    async def with_status(self, statuses: Sequence[CaseStatus]) -> list[Case]:
        return [copy.deepcopy(c) for c in self.uow.stage.cases.values() if c.status in statuses]

    async def erase_family(self, case_id: int) -> None:
        self.uow.stage.families.pop(case_id, None)


class _Journal:
    def __init__(self, uow: MemoryUnitOfWork) -> None:
        self.uow = uow

    async def case_event(self, event: CaseEvent) -> None:
        self.uow.stage.case_events.append(event)

    async def access(self, entry: AccessEntry) -> None:
        self.uow.stage.accesses.append(entry)

    async def mediator_event(self, event: MediatorEvent) -> None:
        self.uow.stage.mediator_events.append(event)

    async def case_events(self, case_id: int) -> list[CaseEvent]:
        return [e for e in self.uow.stage.case_events if e.case_id == case_id]

    async def accesses(self, case_id: int) -> list[AccessEntry]:
        return [e for e in self.uow.stage.accesses if e.case_id == case_id]


class RecordingNotifier:
    """Keeps what the use cases asked to be told, in order."""

    def __init__(self) -> None:
        self.sent: list[Notification] = []

    async def notify(self, notification: Notification) -> None:
        self.sent.append(notification)
