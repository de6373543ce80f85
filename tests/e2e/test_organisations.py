"""The network's organisations through HTTP: a coordinator keeps them in Teams, and an
organisation outside its agreement ends its members' new seats, not their running cases."""

from __future__ import annotations

from datetime import timedelta

from cards.i18n import t
from tests.e2e.conftest import Bank, Unchanged, verbs_on, words


def not_in_network(name: str) -> str:
    return t("en", "error.organisation_out_of_network", name=name, organisation="Hyvinkää")


async def test_a_coordinator_keeps_the_organisations_and_leaving_ends_new_seats(
    bank: Bank,
) -> None:
    running = await bank.new_case()
    await bank.claim("olli", running)
    overview = await bank.teams.click("coord", "bank.overview", {}, where="personal")
    assert "organisations.show" in verbs_on(overview)
    card = await bank.teams.click("coord", "organisations.show", {}, where="personal")
    shown = words(card)
    assert "Hyvinkää" in shown and t("en", "organisations.kind_unset") in shown
    assert "organisation.update" in verbs_on(card)

    yesterday = (bank.clock.now() - timedelta(days=1)).date()
    change = {
        "organisation": "Hyvinkää",
        "kind": "municipality",
        "agreement_start": "2020-01-01",
        "agreement_end": yesterday.isoformat(),
        "clear_agreement": "false",
        "yearly_hours": "600",
        "clear_hours": "false",
    }
    saved = await bank.teams.click("coord", "organisation.update", change, where="personal")
    shown = words(saved)
    assert t("en", "organisations.saved", name="Hyvinkää") in shown
    assert t("en", "organisation.out_of_network") in shown
    assert t("en", "organisations.hours_set", hours=600) in shown
    async with Unchanged(bank):  # the same form again: a redelivery, or a second click
        again = await bank.teams.click("coord", "organisation.update", change, where="personal")
    assert t("en", "organisations.unchanged", name="Hyvinkää") in words(again)

    fresh = await bank.new_case()
    async with Unchanged(bank):
        refused = await bank.claim("outi", fresh)
    assert not_in_network("Outi Osaava") in words(refused)
    # The case Olli holds goes on: he still reads the family's details.
    details = await bank.teams.click(
        "olli", "case.details", {"case_id": running.case_id}, where="personal"
    )
    assert "Aino Virtanen" in words(details)
    overview = await bank.teams.click("coord", "bank.overview", {}, where="personal")
    assert t("en", "organisation.out_of_network") in words(overview)

    cleared = {**change, "agreement_start": "", "agreement_end": "", "clear_agreement": "true"}
    await bank.teams.click("coord", "organisation.update", cleared, where="personal")
    await bank.claim("outi", fresh)
    assert (await bank.holders(fresh))[1] == "Outi Osaava"


async def test_the_organisations_refuse_what_is_not_theirs_and_change_nothing(
    bank: Bank,
) -> None:
    async with Unchanged(bank):
        card = await bank.teams.click("olli", "organisations.show", {}, where="personal")
    assert "Hyvinkää" not in words(card) and "organisation.update" not in verbs_on(card)
    change = {"organisation": "Hyvinkää", "kind": "parish"}
    async with Unchanged(bank):
        card = await bank.teams.click("olli", "organisation.update", change, where="personal")
    assert "Hyvinkää" not in words(card)
    async with Unchanged(bank, replies=0):
        card = await bank.teams.click("coord", "organisation.update", change)  # the channel
    assert t("en", "error.personal_data_only") in words(card)
    for forged in (
        {"organisation": "Nowhere Oy", "kind": "ngo"},
        {"organisation": "", "kind": "ngo"},
        {"organisation": "Hyvinkää", "kind": "club"},
        {"organisation": "Hyvinkää", "yearly_hours": "many"},
        {"organisation": "Hyvinkää", "agreement_end": "31.2."},
        {"organisation": "Hyvinkää", "clear_hours": "perhaps"},
        {"organisation": ["Hyvinkää"]},
    ):
        async with Unchanged(bank):
            card = await bank.teams.click("coord", "organisation.update", forged, where="personal")
        assert any(
            block.get("color") == "Attention" for block in card["body"] if isinstance(block, dict)
        ), forged
    async with Unchanged(bank):
        card = await bank.teams.click("stranger", "organisations.show", {}, where="personal")
    assert "Hyvinkää" not in words(card)
