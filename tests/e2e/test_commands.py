"""Typed commands over HTTP, in personal chat and by @mention in the bank channel, fi/sv/en."""

from __future__ import annotations

import pytest

from cards.i18n import Lang, t
from tests.e2e.conftest import CHANNEL, LOCALES, TEAM, Bank, Unchanged, verbs_on, words
from tests.unit.factories import FORM

ALIASES: dict[str, dict[Lang, str]] = {
    "help": {"en": "help", "fi": "ohje", "sv": "hjälp"},
    "setup": {"en": "setup", "fi": "asetus", "sv": "inställning"},
    "new case": {"en": "new case", "fi": "uusi tapaus", "sv": "nytt ärende"},
    "my cases": {"en": "my cases", "fi": "omat tapaukset", "sv": "mina ärenden"},
    "quota": {"en": "quota", "fi": "kiintiö", "sv": "kvot"},
    "mediators": {"en": "mediators", "fi": "sovittelijat", "sv": "medlare"},
}
LANGS: tuple[Lang, ...] = ("fi", "sv", "en")


def refusal(lang: Lang, action: str) -> str:
    return t(
        lang,
        "error.not_allowed",
        action=t(lang, f"denied.{action}"),
        why=t(lang, "denied.why.coordinator_only"),
    )


# -- help ------------------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["personal", "channel"])
async def test_help_in_each_language_lists_what_the_user_may_do(fresh: Bank, where: str) -> None:
    for lang in LANGS:
        word = ALIASES["help"][lang]
        mediator = await fresh.teams.ask("olli", word, where=where, locale=LOCALES[lang])
        coordinator = await fresh.teams.ask("coord", word, where=where, locale=LOCALES[lang])

        assert t(lang, "help.title") in words(mediator)
        assert t(lang, "help.cmd.quota") in words(mediator)
        assert t(lang, "help.cmd.new_case") not in words(mediator)
        for command in ("setup", "new_case", "mediators"):
            assert t(lang, f"help.cmd.{command}") in words(coordinator)


async def test_commands_ignore_case_punctuation_and_diacritics(fresh: Bank) -> None:
    for spelling in ("HELP", "  Ohje!  ", "hjalp", "Hjälp?"):
        card = await fresh.teams.ask("olli", spelling, locale="fi-FI")
        assert t("fi", "help.title") in words(card), spelling


async def test_installing_the_app_in_personal_scope_greets_with_help(fresh: Bank) -> None:
    """The fixture opened every personal chat; each person got the help card then."""
    for key in ("coord", "olli"):
        sent = fresh.personal(key)
        assert sent and t("en", "help.title") in words(sent[0].card)


async def test_unknown_text_gets_a_pointer_to_help(fresh: Bank) -> None:
    async with Unchanged(fresh, replies=1):
        card = await fresh.teams.ask("olli", "please claim the case for me", locale="sv-SE")
    assert t("sv", "error.unknown_command") in words(card)


async def test_a_mention_of_someone_else_is_not_taken_for_sopu(fresh: Bank) -> None:
    """Only Sopu's own @mention is removed before reading the command."""
    mention = {"type": "mention", "text": "<at>Olli</at>", "mentioned": {"id": "29:olli"}}
    own = {"type": "mention", "text": "<at>Sopu</at>", "mentioned": {"id": "28:sopu-bot"}}
    activity = fresh.teams.message("coord", "help", where="channel", entities=[own, mention])
    activity["text"] = "<at>Sopu</at> help <at>Olli</at>"
    status, _ = await fresh.teams.post(activity)
    assert status == 200
    sent = await fresh.connector.wait_for(lambda s: s.conversation_id == CHANNEL)
    assert t("en", "help.title") in words(sent.card)


async def test_teams_formatting_around_the_mention_is_ignored(fresh: Bank) -> None:
    """Teams puts a non-breaking space entity after the mention and may wrap the text."""
    activity = fresh.teams.message("coord", "help", where="channel", locale="fi-FI")
    activity["text"] = "<at>Sopu</at>&nbsp;ohje\n"
    status, _ = await fresh.teams.post(activity)
    assert status == 200
    sent = await fresh.connector.wait_for(lambda s: s.conversation_id == CHANNEL)
    assert t("fi", "help.title") in words(sent.card)


# -- setup -----------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fi", "sv"])
async def test_setup_by_a_coordinator_makes_the_channel_the_bank_channel(
    fresh: Bank, lang: Lang
) -> None:
    card = await fresh.teams.ask(
        "coord", ALIASES["setup"][lang], where="channel", locale=LOCALES[lang]
    )
    assert t(lang, "setup.done_named", channel="Cases") in words(card)
    channel = await fresh.sopu.store.bank_channel()
    assert channel is not None
    assert (channel.team_id, channel.channel_id) == (TEAM, CHANNEL)
    assert channel.set_by == (await fresh.mediator("coord")).id


async def test_setup_by_a_mediator_is_refused(fresh: Bank) -> None:
    async with Unchanged(fresh, replies=1):
        card = await fresh.teams.ask("olli", "asetus", where="channel", locale="fi-FI")
    assert refusal("fi", "setup") in words(card)
    assert await fresh.sopu.store.bank_channel() is None


async def test_setup_in_personal_chat_asks_for_the_channel(fresh: Bank) -> None:
    card = await fresh.teams.ask("coord", "setup", locale="en-US")
    assert t("en", "error.channel_only") in words(card)
    assert await fresh.sopu.store.bank_channel() is None


async def test_setup_posts_the_cases_that_could_not_be_posted(bank: Bank) -> None:
    """A case registered while the channel was unreachable is posted by the next setup."""
    form = await bank.intake_form()
    submit = next(a for a in form["actions"] if a.get("verb") == "case.create")
    bank.connector.fail_next.append(403)  # Teams refuses the new thread
    answer = await bank.teams.click(
        "coord", "case.create", {**FORM, **submit["data"]}, where="personal"
    )
    assert t("en", "error.not_posted", code="2026-001") in words(answer)
    assert not bank.connector.of_kind("create")

    await bank.teams.ask("coord", "setup", where="channel")
    posted = await bank.connector.wait_for(lambda s: s.kind == "create")
    assert "2026-001" in words(posted.card)
    assert await bank.sopu.store.case_post(1) is not None


# -- new case --------------------------------------------------------------------------------


async def test_new_case_gives_the_coordinator_the_intake_form(bank: Bank) -> None:
    form_ids = set()
    for lang in LANGS:
        card = await bank.teams.ask("coord", ALIASES["new case"][lang], locale=LOCALES[lang])
        assert t(lang, "intake.title") in words(card)
        submit = [a for a in card["actions"] if a.get("verb") == "case.create"]
        assert len(submit) == 1
        form_ids.add(submit[0]["data"]["form_id"])
    assert len(form_ids) == 3  # each form is its own, so a double submit is recognised


async def test_new_case_in_the_channel_is_refused_for_privacy(bank: Bank) -> None:
    async with Unchanged(bank, replies=1):
        card = await bank.teams.ask("coord", "uusi tapaus", where="channel", locale="fi-FI")
    assert t("fi", "error.personal_chat_only") in words(card)
    assert "case.create" not in verbs_on(card)


async def test_new_case_by_a_mediator_is_refused(bank: Bank) -> None:
    for lang in LANGS:
        async with Unchanged(bank, replies=1):
            card = await bank.teams.ask("olli", ALIASES["new case"][lang], locale=LOCALES[lang])
        assert refusal(lang, "register") in words(card)
        assert "case.create" not in verbs_on(card)


# -- my cases, quota -------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fi", "sv"])
async def test_my_cases_lists_the_cases_where_one_holds_a_seat(bank: Bank, lang: Lang) -> None:
    case = await bank.new_case()
    mine = ALIASES["my cases"][lang]
    before = await bank.teams.ask("olli", mine, locale=LOCALES[lang])
    assert t(lang, "my_cases.none") in words(before)

    await bank.claim("olli", case)
    after = await bank.teams.ask("olli", mine, locale=LOCALES[lang])
    assert case.code in words(after)
    assert "case.details" in verbs_on(after)
    others = await bank.teams.ask("outi", mine, locale=LOCALES[lang])
    assert case.code not in words(others)


@pytest.mark.parametrize("lang", ["fi", "en"])
async def test_quota_counts_the_seats_taken_this_term(bank: Bank, lang: Lang) -> None:
    case = await bank.new_case()
    word = ALIASES["quota"][lang]

    def usage(used: int) -> str:
        return t(
            lang,
            "quota.usage",
            term_used=used,
            term_limit=2,
            term=t(lang, "when.spring"),
            year_used=used,
            year_limit=4,
            year=t(lang, "when.year"),
        )

    assert usage(0) in words(await bank.teams.ask("olli", word, locale=LOCALES[lang]))
    await bank.claim("olli", case)
    card = await bank.teams.ask("olli", word, locale=LOCALES[lang])
    assert usage(1) in words(card)
    assert "mediator.update" in verbs_on(card)  # marking oneself away


# -- mediators -------------------------------------------------------------------------------


async def test_mediators_shows_the_registry_with_edit_actions(fresh: Bank) -> None:
    for lang in LANGS:
        card = await fresh.teams.ask("coord", ALIASES["mediators"][lang], locale=LOCALES[lang])
        assert t(lang, "registry.title") in words(card)
        for person in fresh.teams.people.values():
            assert person.name in words(card)
        assert "mediator.update" in verbs_on(card)


async def test_mediators_is_for_coordinators_only(fresh: Bank) -> None:
    async with Unchanged(fresh, replies=1):
        card = await fresh.teams.ask("sven", "medlare", locale="sv-SE")
    assert refusal("sv", "registry") in words(card)
    assert "Nils Ny" not in words(card)


# -- people outside the registry -------------------------------------------------------------


async def test_someone_outside_the_registry_is_told_whom_to_ask(bank: Bank) -> None:
    tries = [(command, lang, "personal") for command in ALIASES for lang in LANGS]
    tries += [("help", "sv", "channel"), ("setup", "fi", "channel")]
    for command, lang, where in tries:
        async with Unchanged(bank, replies=1):
            card = await bank.teams.ask(
                "stranger", ALIASES[command][lang], where=where, locale=LOCALES[lang]
            )
        polite = t(lang, "error.not_in_registry", coordinators="Kaisa Koordinaattori")
        assert polite in words(card), (command, lang, where)


@pytest.mark.parametrize(
    ("text", "entity"),
    [
        ("\r\n<at>Sopu</at> help\r\n", {"text": "<at>Sopu</at>"}),  # Teams' own line breaks
        ("<at>Sopu</at> help", {}),  # a mention without its text, as in group chats
        ("<at>Sopu (test)</at> help", {"text": "<at>Sopu (test)</at>"}),  # regex characters
    ],
)
async def test_the_mention_is_removed_however_teams_writes_it(
    fresh: Bank, text: str, entity: dict[str, str]
) -> None:
    name = entity.get("text", "<at>Sopu</at>")[4:-5]
    mention = {"type": "mention", "mentioned": {"id": "28:sopu-bot", "name": name}, **entity}
    activity = fresh.teams.message("coord", "x", where="channel", entities=[mention])
    activity["text"] = text
    status, _ = await fresh.teams.post(activity)
    assert status == 200
    sent = await fresh.connector.wait_for(lambda s: s.conversation_id == CHANNEL)
    assert t("en", "help.title") in words(sent.card)
