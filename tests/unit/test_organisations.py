"""Organisations of the network: agreement periods, new seats, hours against commitments."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from cards.overview import bank_overview_card
from mediation import errors, services
from mediation.journal import CaseEventKind
from mediation.model import Role
from mediation.organisations import (
    HOURS_PER_MEDIATOR,
    Organisation,
    OrganisationHours,
    OrganisationKind,
    check_in_network,
    organisation_hours,
    organisation_key,
)
from mediation.overview import BankOverview
from mediation.policy import BankPolicy
from tests.unit.cards_support import texts
from tests.unit.factories import mediator
from tests.unit.test_services import Bank

P = BankPolicy()
TODAY = date(2026, 3, 2)  # the test bank's clock


def test_an_organisation_has_a_name_a_sensible_period_and_hours() -> None:
    with pytest.raises(errors.InvalidInput):
        Organisation("  ")
    with pytest.raises(errors.InvalidInput):
        Organisation("Kerava", agreement_start=date(2026, 2, 1), agreement_end=date(2026, 1, 31))
    with pytest.raises(errors.InvalidInput):
        Organisation("Kerava", yearly_hours=-1)
    Organisation("Kerava", OrganisationKind.MUNICIPALITY, date(2026, 1, 1), date(2026, 1, 1), 0)


def test_the_agreement_period_bounds_the_network_and_an_open_end_lasts() -> None:
    org = Organisation(
        "Seurakunta", agreement_start=date(2026, 1, 1), agreement_end=date(2026, 6, 30)
    )
    assert not org.in_network(date(2025, 12, 31))
    assert org.in_network(date(2026, 1, 1)) and org.in_network(date(2026, 6, 30))
    assert not org.in_network(date(2026, 7, 1))
    assert Organisation("Kerava").in_network(date(2040, 1, 1))


def test_a_member_of_an_organisation_out_of_the_network_is_refused_by_name() -> None:
    m = mediator("Aino Virtanen")
    check_in_network(m, None, TODAY)  # an employer without an organisation row
    left = Organisation("Kerava", agreement_end=date(2026, 2, 28))
    with pytest.raises(errors.OrganisationOutOfNetwork) as exc:
        check_in_network(m, left, TODAY)
    assert exc.value.params == {"name": "Aino Virtanen", "organisation": "Kerava"}


def test_names_match_whatever_their_case_and_spacing() -> None:
    assert organisation_key("  Keski-Uusimaan  hyvinvointialue ") == organisation_key(
        "keski-uusimaan hyvinvointialue"
    )


def test_hours_are_set_against_the_agreed_commitment_or_the_estimate_per_member() -> None:
    a = dataclasses.replace(mediator("Aino", id=1), employer="Kerava")
    b = dataclasses.replace(mediator("Bertil", id=2), employer=" kerava")
    c = dataclasses.replace(mediator("Cecilia", id=3), employer="Seurakunta")
    d = dataclasses.replace(mediator("Daniel", id=4), employer="Järjestö ry")
    orgs = [
        Organisation("Kerava", OrganisationKind.MUNICIPALITY, yearly_hours=200),
        Organisation("Seurakunta", OrganisationKind.PARISH, agreement_end=date(2026, 1, 31)),
        Organisation("Yksityinen Oy", OrganisationKind.PRIVATE),
    ]
    minutes = {"Kerava": 600, "kerava ": 30, "Seurakunta": 90, "Entinen": 120}
    rows = {
        r.name: r
        for r in organisation_hours(orgs, [a, b, c, d], minutes, {1: 2, 2: 1, 3: 1}, TODAY)
    }
    assert list(rows) == sorted(rows, key=str.casefold)
    kerava = rows["Kerava"]
    assert (kerava.members, kerava.packages, kerava.hours) == (2, 3, 10.5)
    assert kerava.agreed and kerava.committed == 200 and kerava.in_network
    parish = rows["Seurakunta"]
    assert not parish.agreed and parish.committed == HOURS_PER_MEDIATOR and not parish.in_network
    assert rows["Järjestö ry"].kind is None and rows["Järjestö ry"].committed == HOURS_PER_MEDIATOR
    assert rows["Yksityinen Oy"].members == 0 and rows["Yksityinen Oy"].committed == 0
    # Hours held by people no longer active still count for their organisation.
    assert rows["Entinen"].hours == 2 and rows["Entinen"].members == 0


# -- the seats of members of an organisation that left -----------------------------------------


@pytest.fixture
async def bank() -> Bank:
    b = Bank()
    await b.add("coord", mediator("Kaisa Koordinaattori", role=Role.COORDINATOR))
    await b.add("kerava", dataclasses.replace(mediator("Olli Kokenut"), employer="Kerava"))
    await b.add("parish", dataclasses.replace(mediator("Outi Kokenut"), employer="Seurakunta"))
    await b.add("other", dataclasses.replace(mediator("Sara Holm"), employer="Keusote"))
    return b


async def leave(bank: Bank, name: str, last_day: date) -> None:
    async with bank.uow:
        await bank.uow.organisations.save(Organisation(name, agreement_end=last_day))
        await bank.uow.commit()


async def test_leaving_the_network_ends_new_seats_not_running_cases(bank: Bank) -> None:
    running = await bank.new_case()
    await bank.claim("parish", running)
    await leave(bank, "seurakunta", date(2026, 2, 28))
    fresh = await bank.new_case()
    before = await bank.events(fresh)
    with pytest.raises(errors.OrganisationOutOfNetwork, match=r"(?i)seurakunta"):
        await bank.claim("parish", fresh)
    assert await bank.events(fresh) == before
    with pytest.raises(errors.OrganisationOutOfNetwork):
        await services.assign_seat(
            services.AssignSeat(bank.aad("coord"), fresh, bank.people["parish"].id or 0),
            bank.uow,
            bank.notifier,
            bank.clock,
            P,
        )
    # The case already held goes on: its seat stays, and a partner still completes it.
    done = await bank.claim("other", running)
    assert done.case.status == "paired"
    assert [s.holder_name for s in done.case.seats] == ["Outi Kokenut", "Sara Holm"]
    assert (await bank.claim("kerava", fresh)).changed
    assert CaseEventKind.CLAIMED in await bank.events(fresh)


async def test_an_agreement_still_running_or_not_yet_begun(bank: Bank) -> None:
    await leave(bank, "Kerava", date(2026, 3, 2))  # today is the last day
    case_id = await bank.new_case()
    assert (await bank.claim("kerava", case_id)).changed
    async with bank.uow:
        await bank.uow.organisations.save(Organisation("Keusote", agreement_start=date(2026, 4, 1)))
        await bank.uow.commit()
    with pytest.raises(errors.OrganisationOutOfNetwork):
        await bank.claim("other", case_id)


# -- the coordinators' overview ----------------------------------------------------------------


def test_the_overview_sets_each_organisations_hours_against_its_commitment() -> None:
    rows = (
        OrganisationHours("Kerava", OrganisationKind.MUNICIPALITY, 2, 3, 10.5, 200, True, True),
        OrganisationHours("Seurakunta", None, 1, 0, 0.0, 60, False, False),
    )
    view = BankOverview(2026, "spring", (), rows, (), ())
    shown = "\n".join(texts(bank_overview_card(view, "en")))
    assert "municipality · 10.5 / 200 h agreed · 3 packages" in shown
    assert "0 / about 60 h · no packages · not in the network now" in shown
    fi = "\n".join(texts(bank_overview_card(view, "fi")))
    assert "kunta · 10,5 / 200 h sovittu · 3 pakettia" in fi


# -- the coordinators' changes ----------------------------------------------------------------


async def test_a_change_leaves_what_it_does_not_give_and_clears_what_it_is_told(
    bank: Bank,
) -> None:
    def change(**kw: object) -> services.UpdateOrganisation:
        return services.UpdateOrganisation(bank.aad("coord"), "KERAVA", **kw)  # type: ignore[arg-type]

    assert await services.update_organisation(
        change(
            kind=OrganisationKind.MUNICIPALITY, agreement_end=date(2026, 12, 31), yearly_hours=80
        ),
        bank.uow,
    )
    assert not await services.update_organisation(change(), bank.uow)  # nothing given
    assert await services.update_organisation(change(agreement_start=date(2026, 1, 1)), bank.uow)
    async with bank.uow:
        kept = await bank.uow.organisations.by_name("kerava")
    assert kept == Organisation(
        "Kerava", OrganisationKind.MUNICIPALITY, date(2026, 1, 1), date(2026, 12, 31), 80, id=1
    )
    await services.update_organisation(
        change(clear_agreement=True, agreement_end=date(2027, 6, 30), clear_hours=True), bank.uow
    )
    found = {o.name: o for o in await services.network(bank.aad("coord"), bank.uow)}
    assert found["Kerava"] == Organisation(
        "Kerava", OrganisationKind.MUNICIPALITY, None, date(2027, 6, 30), None, id=1
    )
    assert found["Keusote"].id is None  # an employer of the registry, to be filled in
    with pytest.raises(errors.NotFound):
        await services.update_organisation(
            services.UpdateOrganisation(bank.aad("coord"), "Nowhere Oy"), bank.uow
        )
    with pytest.raises(errors.NotAllowed):
        await services.update_organisation(
            services.UpdateOrganisation(bank.aad("kerava"), "Kerava", yearly_hours=1), bank.uow
        )
    with pytest.raises(errors.NotAllowed):
        await services.network(bank.aad("kerava"), bank.uow)
    with pytest.raises(errors.InvalidInput):
        await services.update_organisation(change(agreement_start=date(2028, 1, 1)), bank.uow)
