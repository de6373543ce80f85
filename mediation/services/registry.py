"""The mediator registry: coordinators keep it, mediators mark their own away periods."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from mediation import errors
from mediation.journal import MediatorEvent
from mediation.model import LANGUAGES, AwayPeriod, Mediator
from mediation.organisations import Organisation
from mediation.policy import BankPolicy
from mediation.ports import Clock, UnitOfWork
from mediation.registry import RegistryRow
from mediation.services.common import actor, require_coordinator

# An away period ends at most this far ahead: longer absences are a registry change (inactive).
AWAY_AT_MOST = timedelta(days=2 * 366)


async def list_registry(actor_aad: str, uow: UnitOfWork) -> list[Mediator]:
    async with uow:
        me = await actor(uow, actor_aad)
        require_coordinator(me, "viewing the registry")
        return await uow.mediators.list()


@dataclass(frozen=True)
class UpdateMediator:
    actor: str
    mediator_id: int
    experienced: bool | None = None
    active: bool | None = None
    languages: frozenset[str] | None = None
    add_away: AwayPeriod | None = None
    clear_away: bool = False


async def update_mediator(
    cmd: UpdateMediator, uow: UnitOfWork, clock: Clock, policy: BankPolicy
) -> Mediator:
    """Coordinators keep the registry; mediators may mark only their own away periods."""
    now = clock.now()
    async with uow:
        if cmd.active is False:
            # Before anything is read: every coordinator's row, in id order. Of two
            # coordinators leaving at once, the second waits and sees the first gone.
            await uow.mediators.coordinators(for_update=True)
        me = await actor(uow, cmd.actor)
        target = await uow.mediators.get(cmd.mediator_id, for_update=True)
        if target is None:
            raise errors.MediatorNotFound(cmd.mediator_id)
        assert me.id is not None and target.id is not None
        registry_change = (
            cmd.experienced is not None or cmd.active is not None or cmd.languages is not None
        )
        if registry_change or target.id != me.id:
            require_coordinator(me, "changing the registry")
        change: dict[str, object] = {}
        if cmd.experienced is not None and cmd.experienced != target.experienced_mark:
            target.experienced_mark = cmd.experienced
            change["experienced"] = cmd.experienced
        if cmd.active is not None and cmd.active != target.active:
            if not cmd.active and target.is_coordinator:
                others = await uow.mediators.coordinators()
                if not any(c.active and c.id != target.id for c in others):
                    raise errors.LastCoordinator()
            target.active = cmd.active
            change["active"] = cmd.active
        if cmd.languages is not None:
            langs = frozenset(cmd.languages)
            if not langs or not langs <= set(LANGUAGES) - {"other"}:
                raise errors.InvalidInput("languages", "choose fi and/or sv")
            if langs != target.languages:
                target.languages = langs
                change["languages"] = sorted(langs)
        today = policy.local_date(now)
        if cmd.clear_away and target.away:
            target.away = ()
            change["away"] = []
        if cmd.add_away is not None:
            if cmd.add_away.end < today:
                raise errors.InvalidInput("away", "the period is already over")
            if cmd.add_away.end > today + AWAY_AT_MOST:
                raise errors.InvalidInput("away", "the period is too long")
            kept = tuple(p for p in target.away if p.end >= today and p != cmd.add_away)
            target.away = tuple(sorted((*kept, cmd.add_away), key=lambda p: p.start))
            change["away"] = [f"{p.start}..{p.end}" for p in target.away]
        if change:
            await uow.mediators.save(target)
            await uow.journal.mediator_event(MediatorEvent(target.id, me.id, now, change))
            await uow.commit()
        return target


@dataclass
class ImportReport:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    organisations: list[str] = field(default_factory=list)  # employers new to the network


async def import_registry(
    rows: Sequence[RegistryRow], uow: UnitOfWork, clock: Clock
) -> ImportReport:
    """Create or update mediators from parsed registry rows, all in one transaction."""
    now = clock.now()
    report = ImportReport()
    async with uow:
        for row in rows:
            known = await uow.mediators.by_aad(row.aad_object_id)
            wanted = Mediator(
                aad_object_id=row.aad_object_id,
                name=row.name,
                email=row.email,
                employer=row.employer,
                languages=row.languages,
                role=row.role,
                experienced_mark=row.experienced,
                active=row.active,
            )
            if known is None:
                added = await uow.mediators.add(wanted)
                assert added.id is not None
                if row.qualifications:
                    await uow.qualifications.set(added.id, row.qualifications)
                await uow.journal.mediator_event(
                    MediatorEvent(added.id, None, now, {"imported": row.line})
                )
                report.created.append(row.name)
                continue
            assert known.id is not None
            change: dict[str, object] = dict(_registry_diff(known, wanted))
            if row.qualifications is not None:
                held = (await uow.qualifications.of([known.id]))[known.id]
                if held != row.qualifications:
                    await uow.qualifications.set(known.id, row.qualifications)
                    change["qualifications"] = " ".join(sorted(row.qualifications))
            if not change:
                report.unchanged.append(row.name)
                continue
            fields = change.keys() & set(_REGISTRY_FIELDS)
            for key in fields:
                setattr(known, key, getattr(wanted, key))
            if fields:
                await uow.mediators.save(known)
            await uow.journal.mediator_event(
                MediatorEvent(known.id, None, now, {k: str(v) for k, v in change.items()})
            )
            report.updated.append(row.name)
        # Each employer named is an organisation of the network; a new one comes in with its
        # first members, its kind and agreement to be filled in (`sopu organisations set`).
        for employer in dict.fromkeys(row.employer for row in rows):
            if await uow.organisations.by_name(employer) is None:
                report.organisations.append(
                    (await uow.organisations.save(Organisation(employer))).name
                )
        await uow.commit()
    return report


_REGISTRY_FIELDS = ("name", "email", "employer", "languages", "role", "experienced_mark", "active")


def _registry_diff(known: Mediator, wanted: Mediator) -> dict[str, object]:
    return {
        f: getattr(wanted, f) for f in _REGISTRY_FIELDS if getattr(known, f) != getattr(wanted, f)
    }
