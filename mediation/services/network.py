"""The network's organisations, kept by the coordinators in Teams."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mediation import errors
from mediation.organisations import Organisation, OrganisationKind, organisation_key
from mediation.ports import UnitOfWork
from mediation.services.common import actor, require_coordinator


async def network(actor_aad: str, uow: UnitOfWork) -> list[Organisation]:
    """The organisations for a coordinator: those kept, and each employer of the registry
    that has no entry of its own yet (to be filled in)."""
    async with uow:
        me = await actor(uow, actor_aad)
        require_coordinator(me, "viewing the registry")
        kept = await uow.organisations.list()
        known = {organisation_key(o.name) for o in kept}
        employers = {
            organisation_key(m.employer): " ".join(m.employer.split())
            for m in await uow.mediators.list()
            if m.employer.strip()
        }
    new = [Organisation(name) for key, name in employers.items() if key not in known]
    return sorted([*kept, *new], key=lambda o: o.name.casefold())


@dataclass(frozen=True)
class UpdateOrganisation:
    """A coordinator's change to an organisation: None leaves a value as it is, and the
    clearing flags empty what is not given."""

    actor: str
    name: str
    kind: OrganisationKind | None = None
    agreement_start: date | None = None
    agreement_end: date | None = None
    clear_agreement: bool = False
    yearly_hours: int | None = None
    clear_hours: bool = False

    def applied_to(self, known: Organisation) -> Organisation:
        def day(given: date | None, kept: date | None) -> date | None:
            if given is not None:
                return given
            return None if self.clear_agreement else kept

        hours: int | None = self.yearly_hours
        if hours is None and not self.clear_hours:
            hours = known.yearly_hours
        return Organisation(
            known.name,
            self.kind or known.kind,
            day(self.agreement_start, known.agreement_start),
            day(self.agreement_end, known.agreement_end),
            hours,
            id=known.id,
        )


async def update_organisation(cmd: UpdateOrganisation, uow: UnitOfWork) -> bool:
    """A coordinator changes an organisation's kind, agreement period or hours; the same
    values again change nothing (False). Only organisations of the network, or employers
    the registry names, can be changed."""
    async with uow:
        me = await actor(uow, cmd.actor)
        require_coordinator(me, "changing the registry")
        known = await uow.organisations.by_name(cmd.name)
        wanted = cmd.applied_to(known or await _employer(uow, cmd.name))
        if wanted == known:
            return False
        await uow.organisations.save(wanted)
        await uow.commit()
        return True


async def _employer(uow: UnitOfWork, name: str) -> Organisation:
    """An employer of the registry not yet entered, named as the registry writes it."""
    key = organisation_key(name)
    for m in await uow.mediators.list():
        if organisation_key(m.employer) == key:
            return Organisation(" ".join(m.employer.split()))
    raise errors.NotFound(f"no organisation {name!r} in the network")
