"""The SQL store of contact requests on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine

from mediation import requests as rq
from mediation.requests import RequestStatus
from storage.models import MeetingRow
from storage.requests import SqlRequestStore
from storage.uow import SqlUnitOfWork, session_factory
from tests.integration.storage_seed import add_case, add_coordinator
from tests.unit.request_samples import FORM, RECEIVED


async def test_a_request_is_stored_once_and_read_back_whole(engine: AsyncEngine) -> None:
    store = SqlRequestStore(session_factory(engine))
    stored = await store.add(FORM, RECEIVED, "f" * 64)
    assert stored is not None and stored.form == FORM and stored.version == 1
    assert stored.created_at == RECEIVED and stored.status is RequestStatus.NEW
    assert await store.add(FORM, RECEIVED, "f" * 64) is None  # the same form again
    same_instant = await asyncio.gather(*(store.add(FORM, RECEIVED, "e" * 64) for _ in range(4)))
    assert sum(r is not None for r in same_instant) == 1
    assert await store.get(stored.id) == stored
    assert len(await store.queue()) == 2
    assert await store.count_since(RECEIVED) == 2
    assert await store.count_since(RECEIVED + timedelta(seconds=1)) == 0


async def test_a_change_is_kept_only_on_the_version_it_was_made_from(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    store = SqlRequestStore(sessions)
    coordinator = await add_coordinator(SqlUnitOfWork(sessions))
    assert coordinator.id is not None
    request = await store.add(dataclasses.replace(FORM, violence_or_fear=True), RECEIVED, "a")
    assert request is not None
    now = RECEIVED + timedelta(hours=1)
    taken = rq.record_attempt(request, coordinator.id, now)
    results = await asyncio.gather(*(store.save(taken, request.version) for _ in range(3)))
    assert sorted(results) == [False, False, True]
    stored = await store.get(request.id)
    assert stored is not None and stored.version == 2
    assert (stored.status, stored.taken_by, stored.attempts) == (
        RequestStatus.TAKEN,
        coordinator.id,
        1,
    )
    assert stored.first_call_at == now and stored.form.urgent

    case = await add_case(SqlUnitOfWork(sessions), coordinator.id)
    assert case.id is not None
    suitable = rq.judge_suitable(stored, coordinator.id, now)
    assert await store.save(suitable, stored.version)
    linked = rq.link_case((await store.get(request.id)) or suitable, case.id)
    assert await store.save(linked, 3)
    assert await store.queue() == []  # a request that became a case has left the queue
    final = await store.get(request.id)
    assert final is not None and final.case_id == case.id and final.judged_by == coordinator.id


async def test_retention_erases_unlinked_requests_and_blanks_linked_ones(
    engine: AsyncEngine,
) -> None:
    sessions = session_factory(engine)
    store = SqlRequestStore(sessions)
    coordinator = await add_coordinator(SqlUnitOfWork(sessions))
    assert coordinator.id is not None
    case = await add_case(SqlUnitOfWork(sessions), coordinator.id)
    assert case.id is not None
    made = []
    for n in range(4):
        stored = await store.add(FORM, RECEIVED + timedelta(days=n), f"form-{n}")
        assert stored is not None
        made.append(stored)
    judged = rq.judge_not_suitable(made[0], coordinator.id, RECEIVED, "declined", "none")
    assert await store.save(judged, 1)
    joined = rq.same_family(made[1], coordinator.id, RECEIVED, case.id)
    assert await store.save(joined, 1)
    late = rq.judge_not_suitable(made[3], coordinator.id, RECEIVED, "declined", "none")
    assert await store.save(late, 1)

    # Only the judged, unlinked request older than the cut-off goes; the waiting one stays.
    assert await store.erase_unlinked(RECEIVED + timedelta(days=3)) == 1
    assert await store.get(made[0].id) is None
    assert await store.get(made[2].id) is not None and await store.get(made[3].id) is not None
    assert await store.forget_details_of_cases([case.id]) == 1
    assert await store.forget_details_of_cases([case.id]) == 0
    blanked = await store.get(made[1].id)
    assert blanked is not None and blanked.case_id == case.id
    assert (blanked.form.parent_name, blanked.form.phone, blanked.form.email) == ("", "", "")
    assert blanked.form.child_birth_years == FORM.child_birth_years  # kept for the figures


async def test_the_years_requests_and_their_cases_first_meetings(engine: AsyncEngine) -> None:
    sessions = session_factory(engine)
    store = SqlRequestStore(sessions)
    coordinator = await add_coordinator(SqlUnitOfWork(sessions))
    assert coordinator.id is not None
    case = await add_case(SqlUnitOfWork(sessions), coordinator.id)
    assert case.id is not None
    first = RECEIVED + timedelta(days=9)
    async with sessions() as session, session.begin():
        for n, status in enumerate(("cancelled", "booked", "held")):
            starts = RECEIVED + timedelta(days=8 + n)
            session.add(
                MeetingRow(
                    case_id=case.id,
                    kind="individual",
                    parent_no=1,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=1),
                    status=status,
                )
            )
    for n in range(3):
        await store.add(FORM, RECEIVED + timedelta(days=200 * n), f"year-{n}")
    found = await store.received_between(RECEIVED, RECEIVED + timedelta(days=365))
    assert len(found) == 2
    assert await store.first_meetings([case.id, 999]) == {case.id: first}
    assert await store.first_meetings([]) == {}
