"""Reading a case for its meetings: the case, who may manage them, the pair's mailboxes."""

from __future__ import annotations

from mediation import errors
from mediation.calendar.errors import MeetingNotFound, MeetingsPairOnly
from mediation.model import Case, Mediator, Meeting
from mediation.ports import UnitOfWork


async def load_case(uow: UnitOfWork, case_id: int, *, for_update: bool = False) -> Case:
    """The case, or CaseNotFound."""
    case = await uow.cases.get(case_id, for_update=for_update)
    if case is None:
        raise errors.CaseNotFound(case_id)
    return case


def check_access(me: Mediator, case: Case) -> None:
    """Only the pair and the coordinators manage a case's meetings."""
    assert me.id is not None
    if case.seat_of(me.id) is None and not me.is_coordinator:
        raise MeetingsPairOnly()


def find_meeting(case: Case, meeting_id: int) -> Meeting:
    """The case's meeting with this id, or MeetingNotFound."""
    found = next((m for m in case.meetings if m.id == meeting_id), None)
    if found is None:
        raise MeetingNotFound(meeting_id)
    return found


async def pair_mailboxes(uow: UnitOfWork, case: Case, me: Mediator) -> tuple[str, list[str]]:
    """The organiser's mailbox (the clicker if they hold a seat) and the pair's mailboxes."""
    holders = await uow.mediators.by_ids(case.holder_ids())
    pair = [holders[s.holder_id] for s in case.seats if s.holder_id in holders]
    if len(pair) < len(case.seats):
        raise errors.IllegalTransition("book a meeting for", case.status.value)
    organizer = me if me.id is not None and case.seat_of(me.id) is not None else pair[0]
    return organizer.email.lower(), [p.email.lower() for p in pair]
