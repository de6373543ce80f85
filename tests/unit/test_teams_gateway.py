"""The gateway's mediators for case cards: the names read once per burst and again after a
while; the loads and pairs only for an open assign list, and then as they stand."""

from __future__ import annotations

from typing import Any

import pytest

import bot.teams
from bot.teams import REGISTRY_NAMES_SECONDS, TeamsGateway
from mediation.model import Family, Role
from mediation.policy import BankPolicy
from tests.clock import FixedClock
from tests.fakes.memory_uow import MemoryUnitOfWork
from tests.unit.factories import case as sample_case
from tests.unit.factories import mediator


class Reads:
    """A unit-of-work factory that counts how often the registry is opened."""

    def __init__(self) -> None:
        self.uow = MemoryUnitOfWork()
        self.count = 0

    def __call__(self) -> MemoryUnitOfWork:
        self.count += 1
        return self.uow


async def test_a_burst_of_cards_reads_the_registry_once_then_again_later(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = Reads()
    async with reads.uow:
        anna = await reads.uow.mediators.add(mediator("Anna Aalto"))
        await reads.uow.mediators.add(mediator("Olli Outo", active=False))
        await reads.uow.mediators.add(mediator("Bea Booker", role=Role.BOOKER))  # holds no seat
        await reads.uow.commit()
    now = [1000.0]
    monkeypatch.setattr(bot.teams, "monotonic", lambda: now[0])
    none: Any = None
    gateway = TeamsGateway(none, none, reads, FixedClock(), BankPolicy())

    first = await gateway.mediators_for_cards()
    now[0] += REGISTRY_NAMES_SECONDS / 2
    again = await gateway.mediators_for_cards()
    assert first.names == again.names == ((anna.id, "Anna Aalto"),)
    assert not first.weighed  # a card shows no list: no packages or pairs read
    assert reads.count == 1

    async with reads.uow:
        await reads.uow.mediators.add(mediator("Bertta Berg"))
        await reads.uow.commit()
    now[0] += REGISTRY_NAMES_SECONDS
    later = await gateway.mediators_for_cards()
    assert [name for _, name in later.names] == ["Anna Aalto", "Bertta Berg"]
    assert reads.count == 2


async def test_an_open_assign_list_weighs_every_change_committed_so_far(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = Reads()
    clock = FixedClock()
    policy = BankPolicy()
    async with reads.uow:
        anna = await reads.uow.mediators.add(mediator("Anna Aalto"))
        case = await reads.uow.cases.add(sample_case(), Family(parents=(), children=()))
        await reads.uow.commit()
    assert anna.id is not None and case.id is not None
    monkeypatch.setattr(bot.teams, "monotonic", lambda: 1000.0)  # no time passes
    none: Any = None
    gateway = TeamsGateway(none, none, reads, clock, policy)
    before = await gateway.mediators_to_assign()
    assert before.weighed and before.term_packages == {}

    # Committed by any replica, told to none: the next list still weighs it.
    async with reads.uow:
        stored = await reads.uow.cases.get(case.id)
        assert stored is not None
        stored.take_seat(1, anna.id, clock.now())
        await reads.uow.cases.save(stored)
        await reads.uow.commit()
    after = await gateway.mediators_to_assign()
    assert after.term_packages == {anna.id: 1} and after.names == before.names
    assert reads.count == 3  # the names once, the packages and pairs for each list
