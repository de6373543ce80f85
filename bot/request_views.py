"""A contact request as its card shows it: with the coordinators' names and its case's code."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from zoneinfo import ZoneInfo

from cards.requests import RequestView
from mediation.ports import UnitOfWork
from mediation.request_queue import ACTIVE_CASES
from mediation.requests import ContactRequest

# The newest cases are offered for the other parent's request; a card must stay small.
MAX_CASES_LISTED = 60


async def request_view(
    uow_factory: Callable[[], UnitOfWork],
    request: ContactRequest,
    zone: ZoneInfo,
    max_attempts: int,
    viewer: int | None = None,
) -> RequestView:
    """The view of ``request`` for its card; two small reads of the registry and the case."""
    ids = [i for i in (request.taken_by, request.judged_by) if i is not None]
    uow = uow_factory()
    async with uow:
        people = await uow.mediators.by_ids(ids) if ids else {}
        case = await uow.cases.get(request.case_id) if request.case_id else None
        going_on = await uow.cases.with_status(ACTIVE_CASES) if request.status.in_queue else []
    return RequestView(
        request,
        {i: m.name for i, m in people.items()},
        zone,
        max_attempts,
        case.code if case is not None else None,
        tuple((c.id, c.code) for c in going_on if c.id is not None)[-MAX_CASES_LISTED:],
        viewer,
    )


async def queue_views(
    uow_factory: Callable[[], UnitOfWork],
    requests: Sequence[ContactRequest],
    zone: ZoneInfo,
    max_attempts: int,
) -> list[RequestView]:
    """The views of the requests the queue card lists: their coordinators' names in one read,
    and the codes of the cases they became; not the cases going on, which only a request's
    own card offers."""
    ids = sorted({i for r in requests for i in (r.taken_by, r.judged_by) if i is not None})
    uow = uow_factory()
    async with uow:
        people = await uow.mediators.by_ids(ids) if ids else {}
        codes = {}
        for case_id in sorted({r.case_id for r in requests if r.case_id is not None}):
            case = await uow.cases.get(case_id)
            if case is not None:
                codes[case_id] = case.code
    names = {i: m.name for i, m in people.items()}
    return [RequestView(r, names, zone, max_attempts, codes.get(r.case_id or 0)) for r in requests]
