"""What users read: a case's card data, the family's details (logged), lists and quotas."""

from __future__ import annotations

from dataclasses import dataclass

from mediation import errors
from mediation.case_types import Facts, Viewer
from mediation.journal import AccessEntry, AccessPurpose
from mediation.model import CaseStatus
from mediation.policy import BankPolicy
from mediation.ports import Clock, UnitOfWork
from mediation.rules import times_worked_together
from mediation.services.common import actor, actor_and_case, load_case, quota_usage, read_summary
from mediation.sharing import Workload
from mediation.views import CaseDetails, CaseSummary, QuotaReport, summarize


@dataclass(frozen=True)
class ViewDetails:
    actor: str
    case_id: int


async def view_details(
    cmd: ViewDetails, uow: UnitOfWork, clock: Clock, policy: BankPolicy
) -> CaseDetails:
    """The family's details for a seat holder or a coordinator; every view is logged."""
    now = clock.now()
    async with uow:
        me = await actor(uow, cmd.actor)
        case = await load_case(uow, cmd.case_id)
        assert me.id is not None and case.id is not None
        if case.seat_of(me.id) is not None:
            viewer, purpose = Viewer.SEAT_HOLDER, AccessPurpose.SEAT_HOLDER
        elif me.is_coordinator:
            viewer, purpose = Viewer.COORDINATOR, AccessPurpose.COORDINATION
        else:
            raise errors.NotAllowed(
                "viewing the family's details", "only the pair and coordinators"
            )
        if not case.type.may_see(viewer, Facts.FAMILY):
            raise errors.NotAllowed("viewing the family's details", "not for this case's type")
        family = await uow.cases.family(case.id)
        if family is None:
            # Purged after the retention period: nothing identifying is left to show.
            raise errors.NotFound(f"the family's details of case {case.code} have been erased")
        await uow.journal.access(AccessEntry(case.id, me.id, now, purpose))
        await uow.commit()
        return CaseDetails(
            summary=await read_summary(uow, case, policy, now),
            family=family,
            referral_source=case.intake.referral_source,
            safety_concern_open=case.safety_concern_open,
            package_size=case.package_size,
            excluded_days=case.intake.excluded_days,
        )


async def case_summary(
    actor_aad: str, case_id: int, uow: UnitOfWork, clock: Clock, policy: BankPolicy
) -> CaseSummary:
    """The anonymous case card's data, for any registered user."""
    now = clock.now()
    async with uow:
        _me, case, holders = await actor_and_case(uow, actor_aad, case_id)
        return summarize(case, holders, policy, policy.local_date(now))


async def summary_of(
    uow: UnitOfWork, case_id: int, clock: Clock, policy: BankPolicy
) -> CaseSummary:
    """The anonymous case card's data for the bot's own re-rendering (no user acting)."""
    now = clock.now()
    reader = uow.reading()  # each card update reads it: no locks, no transaction to pay for
    async with reader:
        case = await load_case(reader, case_id)
        return await read_summary(reader, case, policy, now)


async def my_cases(
    actor_aad: str, uow: UnitOfWork, clock: Clock, policy: BankPolicy
) -> list[CaseSummary]:
    """The active cases where the user holds a seat (all active ones for a coordinator)."""
    now = clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        assert me.id is not None
        cases = await uow.cases.for_mediator(me.id)
        return [await read_summary(uow, c, policy, now) for c in cases if c.status.active]


async def open_cases(uow: UnitOfWork, clock: Clock, policy: BankPolicy) -> list[CaseSummary]:
    now = clock.now()
    async with uow:
        cases = await uow.cases.with_status([CaseStatus.OPEN])
        return [await read_summary(uow, c, policy, now) for c in cases]


async def my_quota(
    actor_aad: str, uow: UnitOfWork, clock: Clock, policy: BankPolicy
) -> QuotaReport:
    now = clock.now()
    async with uow:
        me = await actor(uow, actor_aad)
        usage = await quota_usage(uow, me, now, policy)
        waiting = len(await uow.cases.with_status([CaseStatus.OPEN]))
        return QuotaReport(me, usage, waiting, me.is_experienced(policy))


async def worked_together(
    uow: UnitOfWork, summary: CaseSummary, me_aad: str
) -> tuple[str, int] | None:
    """For a pair just completed by ``me_aad``: the partner's name and how many other cases
    the two have shared, so the claim's answer can say whether they have worked together."""
    mine = [s for s in summary.seats if s.holder_aad == me_aad.lower()]
    others = [s for s in summary.seats if s.holder_id is not None and s not in mine]
    if len(mine) != 1 or len(others) != 1:
        return None
    me, partner = mine[0].holder_id, others[0].holder_id
    assert me is not None and partner is not None
    async with uow:
        cases = await uow.cases.for_mediator(me)
    shared = times_worked_together(cases, me, partner, summary.case_id)
    return others[0].holder_name or "", shared


async def assignable(uow: UnitOfWork) -> tuple[tuple[int, str], ...]:
    """The active mediators a coordinator may assign, as (id, name); a booker holds no seat."""
    reader = uow.reading()  # every few seconds, for the cards' assign button and lists
    async with reader:
        active = await reader.mediators.list(active_only=True)
    return tuple((m.id, m.name) for m in active if m.id is not None and not m.is_booker)


async def workload(uow: UnitOfWork, clock: Clock, policy: BankPolicy) -> Workload:
    """This term's packages of every mediator (one count for all) and who has shared a case
    with whom, for the assign lists."""
    term = policy.term_of(clock.now())
    reader = uow.reading()
    async with reader:
        loads, pairs = await reader.mediators.workload(*policy.bounds_utc(term.start, term.end))
    return Workload(policy.term_quota(term), loads, pairs)
