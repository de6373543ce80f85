"""The coordinators' overview of how the bank shares its work: quotas, hours, idle mediators,
and running cases whose seat holder is away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mediation.model import Case, CaseStatus, Mediator
from mediation.organisations import OrganisationHours, organisation_hours
from mediation.policy import BankPolicy
from mediation.ports import Clock, UnitOfWork
from mediation.services.common import actor, read_summary, require_coordinator
from mediation.stats import MediatorFigures, StatsQueries
from mediation.views import CaseSummary

RUNNING = (CaseStatus.PAIRED, CaseStatus.IN_PROGRESS, CaseStatus.FOLLOW_UP)


@dataclass(frozen=True)
class AwayHolder:
    """A running case whose seat holder is away today: a candidate for re-assigning."""

    summary: CaseSummary
    seat: int
    name: str
    back: date  # the last day away


@dataclass(frozen=True)
class BankOverview:
    year: int
    term: str
    mediators: tuple[MediatorFigures, ...]
    organisations: tuple[OrganisationHours, ...]  # hours given against the commitment
    without_case: tuple[str, ...]  # active mediators with no package this year
    away_holders: tuple[AwayHolder, ...]


def away_holders(
    case: Case, holders: dict[int, Mediator], today: date
) -> list[tuple[int, str, date]]:
    """A running case's seats whose holder is away today: (seat, name, last day away)."""
    if case.status not in RUNNING:
        return []
    found = []
    for seat in case.seats:
        holder = holders.get(seat.holder_id) if seat.holder_id is not None else None
        period = holder.away_on(today) if holder else None
        if holder and period:
            found.append((seat.n, holder.name, period.end))
    return found


async def bank_overview(
    actor_aad: str, uow: UnitOfWork, stats: StatsQueries, clock: Clock, policy: BankPolicy
) -> BankOverview:
    """A coordinator's view of the year's sharing of work in the bank."""
    now = clock.now()
    today = policy.local_date(now)
    term = policy.term_of(now)
    async with uow:
        me = await actor(uow, actor_aad)
        require_coordinator(me, "viewing statistics")
        active = [m for m in await uow.mediators.list(active_only=True) if m.id is not None]
        running = await uow.cases.with_status(list(RUNNING))
        holders = await uow.mediators.by_ids(sorted({h for c in running for h in c.holder_ids()}))
        away: list[AwayHolder] = []
        for case in sorted(running, key=lambda c: c.code):
            for seat, name, back in away_holders(case, holders, today):
                away.append(
                    AwayHolder(await read_summary(uow, case, policy, now), seat, name, back)
                )
        organisations = await uow.organisations.list()
    figures = await stats.year(term.year, policy, now)
    by_id = {f.mediator_id: f for f in figures.mediators}
    packages = {f.mediator_id: f.year_packages for f in figures.mediators}
    given = organisation_hours(organisations, active, figures.minutes_by_employer, packages, today)
    idle = tuple(
        sorted(
            m.name
            for m in active
            if by_id.get(m.id or 0) is None or not by_id[m.id or 0].year_packages
        )
    )
    return BankOverview(term.year, term.name, figures.mediators, tuple(given), idle, tuple(away))
