"""A personal chat keeps its user's language when an activity comes without a locale.

The Agents Playground sends installationUpdate (with a locale) and conversationUpdate
(without one) at the same moment when its page opens; Sopu's later notes in that chat must
still be in the user's language, not in the default one.
"""

from __future__ import annotations

from typing import Any

from cards.i18n import t
from tests.e2e.conftest import Bank, words


def install(bank: Bank, key: str, locale: str | None) -> list[dict[str, Any]]:
    """The two activities the playground sends when a user opens the personal chat."""
    person = bank.teams.person(key)
    installed = bank.teams._activity(person, "personal", locale=locale)
    installed |= {"type": "installationUpdate", "action": "add"}
    updated = bank.teams._activity(person, "personal", locale=None)
    updated |= {"type": "conversationUpdate", "membersAdded": [{"id": person.teams_id}]}
    return [installed, updated]


async def pair_note_to(bank: Bank, key: str) -> str:
    case = await bank.paired("olli", "outi")
    note = await bank.connector.wait_for(
        lambda s: s in bank.personal(key) and s.card is not None and case.code in words(s.card)
    )
    assert note.card is not None
    return words(note.card)


async def test_a_locale_less_activity_after_one_with_a_locale_keeps_the_language(
    bank: Bank,
) -> None:
    for activity in install(bank, "olli", "sv-SE"):
        status, _ = await bank.teams.post(activity)
        assert status == 200
    note = await pair_note_to(bank, "olli")
    assert t("sv", "pair.conflict_hint") in note
