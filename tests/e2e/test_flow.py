"""The whole flow over HTTP: a coordinator sets up the bank, registers a family, a pair forms."""

from __future__ import annotations

import json
from typing import Any

from cards.i18n import t
from tests.e2e.conftest import CHANNEL, Bank, Teams, words
from tests.unit.factories import FORM

FAMILY_VALUES = [
    str(FORM[k])
    for k in ("parent1_name", "parent1_phone", "parent1_email", "parent2_name", "parent2_phone")
]


def texts(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False)


async def setup_bank(teams: Teams) -> None:
    status, _ = await teams.say("coord", "setup", where="channel")
    assert status == 200
    sent = await teams.connector.wait_for(lambda s: s.card and "Cases" in s.text)
    assert sent.kind in ("reply", "send")


async def register_case(teams: Teams) -> tuple[int, str]:
    await teams.say("coord", "new case")
    form = await teams.connector.wait_for(
        lambda s: (
            s.card is not None
            and any(a.get("verb") == "case.create" for a in s.card.get("actions", []))
        )
    )
    submit = next(a for a in form.card["actions"] if a.get("verb") == "case.create")  # type: ignore[index]
    answer = await teams.click("coord", "case.create", {**FORM, **submit["data"]}, where="personal")
    posted = await teams.connector.wait_for(
        lambda s: s.kind == "create" and s.conversation_id.startswith(CHANNEL)
    )
    card = posted.card
    assert card is not None
    case_id = next(a["data"]["case_id"] for a in card["actions"] if a.get("verb") == "card.refresh")
    assert "2026-001" in texts(answer)
    return case_id, posted.conversation_id


async def test_intake_to_a_full_pair(sopu: Any) -> None:
    _app, teams = sopu
    await setup_bank(teams)
    case_id, thread = await register_case(teams)
    channel_card = teams.connector.to_conversation(thread)[0].card
    for value in FAMILY_VALUES:
        assert value not in texts(channel_card), value

    first = await teams.click("niina", "case.claim", {"case_id": case_id}, thread=thread)
    assert "Niina Uusi" in texts(first)
    refused = await teams.click("nils", "case.claim", {"case_id": case_id}, thread=thread)
    assert "experienced" in texts(refused)
    second = await teams.click("olli", "case.claim", {"case_id": case_id}, thread=thread)
    assert "Olli Kokenut" in texts(second) and "Niina Uusi" in texts(second)

    updated = await teams.connector.wait_for(
        lambda s: s.kind == "update" and "Olli Kokenut" in s.text
    )
    assert updated.conversation_id == thread
    # Both get the news in personal chat.
    for who in ("29:niina", "29:olli"):
        await teams.connector.wait_for(
            lambda s, who=who: who in s.conversation_id and "2026-001" in s.text
        )

    answer = await teams.click("olli", "case.details", {"case_id": case_id}, thread=thread)
    assert "Aino Virtanen" not in texts(answer)
    details = await teams.connector.wait_for(
        lambda s: "29:olli" in s.conversation_id and "Aino Virtanen" in s.text
    )
    assert details.card is not None


async def test_the_life_of_a_case(bank: Bank) -> None:
    """Intake, a pair, a conflict of interest, a new pair, the close: all over HTTP."""
    case = await bank.new_case(locale="fi-FI")
    assert bank.channel_card(case)["lang"] == "en"  # the bank's, not the coordinator's

    await bank.claim("niina", case, locale="fi-FI")
    refused = await bank.claim("nils", case, locale="sv-SE")
    assert t("en", "error.needs_experienced") in words(refused)
    await bank.claim("outi", case, locale="sv-SE")
    assert await bank.status(case) == "paired"
    for key in ("niina", "outi"):
        assert any(case.code in s.text for s in bank.personal(key)), key

    # Outi knows the family: she releases from the details card in her personal chat.
    details = await bank.teams.click(
        "outi", "case.details", {"case_id": case.case_id}, where="personal", locale="sv-SE"
    )
    assert "Aino Virtanen" in words(details)
    conflict = {"case_id": case.case_id, "reason": "conflict_of_interest"}
    await bank.teams.click("outi", "case.release", conflict, where="personal", locale="sv-SE")
    assert await bank.status(case) == "open"
    assert any("Outi Osaava" in s.text for s in bank.personal("coord"))

    # Olli takes the seat; the coordinator closes the case when the mediation is over.
    await bank.claim("olli", case)
    assert await bank.holders(case) == {1: "Niina Uusi", 2: "Olli Kokenut"}
    data = {"case_id": case.case_id, "outcome": "agreement"}
    await bank.teams.click("coord", "case.close", data, thread=case.thread, locale="fi-FI")
    assert await bank.status(case) == "closed"
    card = bank.channel_card(case)
    assert t("en", "outcome.agreement") in words(card)
    assert "case.claim" not in texts(card)
    mine = await bank.teams.ask("olli", "omat tapaukset", locale="fi-FI")
    assert t("fi", "my_cases.none") in words(mine)

    kinds = [e.kind.value for e in await bank.events(case)]
    assert kinds == ["created", "claimed", "claimed", "released", "claimed", "closed"]
    viewers = [a.purpose.value for a in await bank.accesses(case)]
    assert viewers == ["seat_holder"]
    for value in FAMILY_VALUES:  # the family never reached the channel
        assert all(value not in s.text for s in bank.connector.log if CHANNEL in s.conversation_id)
