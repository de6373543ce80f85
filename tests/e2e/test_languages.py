"""Languages: an answer to a person follows the activity's locale (Finnish unless it says
otherwise); the bank channel's cards are in the bank's language, whoever clicks; what Sopu
writes on its own follows the language of the chat it writes to."""

from __future__ import annotations

import re
from typing import Any

import pytest

from cards.i18n import LANGS, Lang, catalog, t
from tests.e2e.conftest import Bank, Posted, words
from tests.unit.factories import FORM

# The e2e bank's language (a setting, Finnish unless set).
BANK: Lang = "en"


def foreign_sentences(lang: Lang) -> set[str]:
    """Catalog sentences of the other languages that ``lang`` does not share."""
    own = set(catalog(lang).values())
    found = set()
    for other in LANGS:
        if other == lang:
            continue
        for value in catalog(other).values():
            if value in own or len(value) < 12:
                continue
            # The fixed text between placeholders, as it shows on a card; several words, so
            # that a name ("Kaisa Koordinaattori") is not taken for a catalog word.
            parts = (p.strip() for p in re.split(r"\{[^}]*\}", value))
            found.update(p for p in parts if len(p) >= 12 and " " in p)
    return found


def assert_all_in(lang: Lang, cards: list[dict[str, Any]]) -> None:
    foreign = foreign_sentences(lang)
    for card in cards:
        assert card["lang"] == lang, card
        text = words(card)
        leaked = [s for s in foreign if s in text]
        assert not leaked, (lang, leaked)


async def test_the_locale_picks_the_language_finnish_by_default(bank: Bank) -> None:
    case = await bank.new_case()
    for locale, lang in (
        (None, "fi"),
        ("", "fi"),
        ("de-DE", "fi"),
        ("fi-FI", "fi"),
        ("sv-FI", "sv"),
        ("SV_se", "sv"),
        ("en-GB", "en"),
    ):
        data = {"case_id": case.case_id}
        answers = [
            await bank.teams.ask("olli", "help", locale=locale),
            await bank.teams.ask("olli", "nonsense", locale=locale),
        ]
        in_channel = [
            await bank.claim("olli", case, locale=locale),
            await bank.teams.click("olli", "case.close", data, locale=locale),
            await bank.teams.click("olli", "case.release", data, locale=locale),
        ]
        assert t(lang, "help.title") in words(answers[0]), locale
        assert t(lang, "error.unknown_command") in words(answers[1]), locale
        assert_all_in(lang, answers)
        # The channel's card is shared: it stays in the bank's language.
        assert t(BANK, "notice.claimed", seat=1, code=case.code) in words(in_channel[0]), locale
        assert t(BANK, "notice.released", code=case.code) in words(in_channel[2]), locale
        assert_all_in(BANK, in_channel)


async def test_the_answer_follows_the_locale_not_the_command_word(bank: Bank) -> None:
    card = await bank.teams.ask("olli", "kvot", locale="en-US")  # Swedish word, English Teams
    assert t("en", "quota.title") in words(card)


async def everything_a_person_sees(
    bank: Bank, lang: Lang, locale: str, case: Posted
) -> tuple[list[Any], list[Any]]:
    """A tour of Sopu's cards from Teams in one language: commands, forms, case cards, errors;
    what is answered in personal chat, and what in the channel."""
    cards = [
        await bank.teams.ask(key, command, locale=locale)
        for key, command in (
            ("coord", "help"),
            ("coord", "new case"),
            ("coord", "mediators"),
            ("olli", "my cases"),
            ("olli", "quota"),
            ("stranger", "help"),
        )
    ]
    data = {"case_id": case.case_id}
    in_channel = []
    for key, verb, where in (
        ("outi", "card.refresh", "channel"),
        ("outi", "case.details", "personal"),
        ("coord", "case.details", "channel"),
        ("sven", "case.claim", "channel"),
        ("niina", "case.release", "channel"),
        ("niina", "case.explode", "channel"),
    ):
        answer = await bank.teams.click(key, verb, data, where=where, locale=locale)
        (cards if where == "personal" else in_channel).append(answer)
    cards.append(
        await bank.teams.click(
            "coord", "case.create", {"area": "", "children": "x"}, where="personal", locale=locale
        )
    )
    return cards, in_channel


@pytest.mark.parametrize(("lang", "locale"), [("fi", "fi-FI"), ("sv", "sv-SE")])
async def test_no_other_language_leaks_into_a_card(bank: Bank, lang: Lang, locale: str) -> None:
    case = await bank.paired()
    personal, in_channel = await everything_a_person_sees(bank, lang, locale, case)
    assert_all_in(lang, personal)
    assert_all_in(BANK, in_channel)


async def test_what_sopu_writes_on_its_own_follows_each_chat(bank: Bank) -> None:
    """The channel card is in the bank's language; each person hears in their chat's."""
    case = await bank.new_case()
    # Each person's language is that of their own Teams, as their last message showed it.
    await bank.teams.ask("outi", "hjälp", locale="sv-SE")
    await bank.teams.ask("coord", "ohje", locale="fi-FI")
    sent = len(bank.connector.log)
    await bank.claim("olli", case, locale="en-US")
    await bank.claim("outi", case, locale="sv-SE")
    await bank.teams.click("outi", "case.release", {"case_id": case.case_id}, locale="sv-SE")

    assert_all_in(BANK, [bank.channel_card(case)])
    assert_all_in("sv", [s.card for s in bank.personal("outi", after=sent) if s.card])
    assert_all_in("en", [s.card for s in bank.personal("olli", after=sent) if s.card])
    coordinator = [s.card for s in bank.personal("coord", after=sent) if s.card]
    assert coordinator
    assert t("fi", "released.withdraw", name="Outi Osaava", code=case.code) in words(coordinator[0])
    assert_all_in("fi", coordinator)


async def test_a_note_to_someone_never_talked_with_is_in_the_language_they_work_in(
    bank: Bank,
) -> None:
    """No chat, no choice, no locale: the registry says they work in Swedish only."""
    [svea] = await bank.add_mediators(1, prefix="svea", languages="sv")
    [both] = await bank.add_mediators(1, prefix="bada", languages="fi sv")
    case = await bank.new_case({**FORM, "language": "sv"})
    await bank.claim(svea.key, case)
    await bank.claim(both.key, case)
    for person, lang in ((svea, "sv"), (both, BANK)):  # both languages: the bank's
        chat = f"a:personal-{person.teams_id}"
        note = await bank.connector.wait_for(
            lambda s, chat=chat: s.conversation_id == chat and s.card is not None
        )
        assert t(lang, "pair.title", code=case.code) in words(note.card), person.key


async def test_a_new_chat_of_someone_already_known_is_remembered_at_once(bank: Bank) -> None:
    """The chat Sopu writes to is the one the person last wrote from, not an older one."""
    await bank.teams.ask("olli", "help", locale="fi-FI")
    own = await bank.sopu.store.user_reference(bank.teams.person("olli").aad) or {}
    other = bank.teams.message("olli", "help", locale="fi-FI")
    other["conversation"] = {**other["conversation"], "id": "a:personal-another-chat"}
    status, _ = await bank.teams.post(other)
    assert status == 200
    stored = await bank.sopu.store.user_reference(bank.teams.person("olli").aad)
    assert stored is not None and stored["conversation"]["id"] == "a:personal-another-chat"
    await bank.teams.ask("olli", "help", locale="fi-FI")  # back in the first chat
    stored = await bank.sopu.store.user_reference(bank.teams.person("olli").aad)
    assert stored is not None
    assert stored["conversation"]["id"] == own["conversation"]["id"] != "a:personal-another-chat"
