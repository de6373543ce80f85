"""A contact request as its card shows it: with the coordinators' names and its case's code."""

from __future__ import annotations

from collections.abc import Callable
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
