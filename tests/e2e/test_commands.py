"""Typed commands over HTTP, in personal chat and by @mention in the bank channel, fi/sv/en."""

from __future__ import annotations

from typing import Any

from cards.i18n import Lang, t
from tests.e2e.conftest import BOT_ID, CHANNEL, LOCALES, TEAM, Bank, Unchanged, verbs_on, words
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


async def test_help_in_each_language_lists_what_the_user_may_do(fresh: Bank) -> None:
    for where in ("personal", "channel"):
        for lang in LANGS:
            word = ALIASES["help"][lang]
            mediator = await fresh.teams.ask("olli", word, where=where, locale=LOCALES[lang])
            coordinator = await fresh.teams.ask("coord", word, where=where, locale=LOCALES[lang])

            assert t(lang, "help.title") in words(mediator)
            assert t(lang, "help.cmd.quota") in words(mediator)
            assert t(lang, "help.cmd.new_case") not in words(mediator)
            for command in ("setup", "new_case", "mediators"):
                assert t(lang, f"help.cmd.{command}") in words(coordinator)

    for spelling in ("HELP", "  Ohje!  ", "hjalp", "Hjälp?"):  # case, punctuation, diacritics
        card = await fresh.teams.ask("olli", spelling, locale="fi-FI")
        assert t("fi", "help.title") in words(card), spelling


async def test_installing_the_app_in_personal_scope_greets_with_help(fresh: Bank) -> None:
    await fresh.teams.open_personal_chats(["coord", "olli"])
    for key in ("coord", "olli"):
        sent = fresh.personal(key)
        assert len(sent) == 1 and t("en", "help.title") in words(sent[0].card)
    assert t("en", "help.cmd.new_case") in words(fresh.personal("coord")[0].card)
    assert t("en", "help.cmd.new_case") not in words(fresh.personal("olli")[0].card)


async def test_unknown_text_gets_a_pointer_to_help(fresh: Bank) -> None:
    for where in ("personal", "channel"):
        async with Unchanged(fresh, replies=1):
            card = await fresh.teams.ask("olli", "claim it for me", where=where, locale="sv-SE")
        assert t("sv", "error.unknown_command") in words(card)


def mention(text: str | None, name: str = "Sopu", of: str = BOT_ID) -> dict[str, Any]:
    entity: dict[str, Any] = {"type": "mention", "mentioned": {"id": of, "name": name}}
    if text is not None:
        entity["text"] = text
    return entity


async def test_sopus_mention_is_removed_however_teams_writes_it(fresh: Bank) -> None:
    variants = [
        ("<at>Sopu</at>&nbsp;ohje\n", [mention("<at>Sopu</at>")]),  # Teams' HTML space
        ("\r\n<at>Sopu</at> ohje\r\n", [mention("<at>Sopu</at>")]),  # and its line breaks
        ("<at>Sopu</at> ohje", [mention(None)]),  # no mention text, as in group chats
        ("<at>Sopu (test)</at> ohje", [mention("<at>Sopu (test)</at>", "Sopu (test)")]),
        (  # someone else is mentioned too
            "<at>Sopu</at> ohje <at>Olli</at>",
            [mention("<at>Sopu</at>"), mention("<at>Olli</at>", "Olli", "29:olli")],
        ),
    ]
    for text, entities in variants:
        activity = fresh.teams.message("coord", "x", "channel", entities=entities, locale="fi")
        activity["text"] = text
        before = len(fresh.connector.log)
        assert (await fresh.teams.post(activity))[0] == 200
        sent = await fresh.connector.wait_for(lambda s: s.conversation_id == CHANNEL, after=before)
        assert t("fi", "help.title") in words(sent.card), text


# -- setup -----------------------------------------------------------------------------------


async def test_setup_by_a_coordinator_makes_the_channel_the_bank_channel(fresh: Bank) -> None:
    async with Unchanged(fresh, replies=1):
        card = await fresh.teams.ask("olli", "asetus", where="channel", locale="fi-FI")
    assert refusal("fi", "setup") in words(card)
    async with Unchanged(fresh, replies=1):
        card = await fresh.teams.ask("coord", "setup", locale="en-US")  # personal chat
    assert t("en", "error.channel_only") in words(card)
    assert await fresh.sopu.store.bank_channel() is None

    for lang in ("sv", "fi"):
        card = await fresh.teams.ask(
            "coord", ALIASES["setup"][lang], where="channel", locale=LOCALES[lang]
        )
        assert t(lang, "setup.done_named", channel="Cases") in words(card)
    channel = await fresh.sopu.store.bank_channel()
    assert channel is not None
    assert (channel.team_id, channel.channel_id) == (TEAM, CHANNEL)
    assert channel.set_by == (await fresh.mediator("coord")).id


async def test_setup_posts_the_cases_that_could_not_be_posted(bank: Bank) -> None:
    """A case whose thread Teams refused is posted by the next setup."""
    form = await bank.intake_form()
    submit = next(a for a in form["actions"] if a.get("verb") == "case.create")
    bank.connector.fail_next.append(403)  # Teams refuses the new thread
    answer = await bank.teams.click(
        "coord", "case.create", {**FORM, **submit["data"]}, where="personal"
    )
    assert t("en", "posted.title", code="2026-001") in words(answer)
    assert not bank.connector.of_kind("create")
    refused = [m for m in await bank.sopu.jobs.services.outbox.all() if m.key.kind.to_channel]
    assert [m.status.final for m in refused] == [True]  # its final status says why

    await bank.teams.ask("coord", "setup", where="channel")
    posted = await bank.connector.wait_for(lambda s: s.kind == "create")
    assert "2026-001" in words(posted.card)
    assert await bank.sopu.store.case_post(1) is not None


# -- new case --------------------------------------------------------------------------------


async def test_new_case_gives_a_coordinator_the_intake_form_in_personal_chat(bank: Bank) -> None:
    form_ids = set()
    for lang in LANGS:
        card = await bank.teams.ask("coord", ALIASES["new case"][lang], locale=LOCALES[lang])
        assert t(lang, "intake.title") in words(card)
        submit = [a for a in card["actions"] if a.get("verb") == "case.create"]
        assert len(submit) == 1
        form_ids.add(submit[0]["data"]["form_id"])
    assert len(form_ids) == 3  # each form is its own, so a double submit is recognised

    async with Unchanged(bank, replies=1):
        card = await bank.teams.ask("coord", "uusi tapaus", where="channel", locale="fi-FI")
    assert t("fi", "error.personal_chat_only") in words(card)
    assert "case.create" not in verbs_on(card)
    for lang in LANGS:
        async with Unchanged(bank, replies=1):
            card = await bank.teams.ask("olli", ALIASES["new case"][lang], locale=LOCALES[lang])
        assert refusal(lang, "register") in words(card)
        assert "case.create" not in verbs_on(card)


# -- my cases, quota -------------------------------------------------------------------------


async def test_my_cases_and_quota_follow_the_seats_one_holds(bank: Bank) -> None:
    case = await bank.new_case()

    def usage(lang: Lang, used: int) -> str:
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

    for lang in LANGS:
        mine = await bank.teams.ask("olli", ALIASES["my cases"][lang], locale=LOCALES[lang])
        assert t(lang, "my_cases.none") in words(mine)
        quota = await bank.teams.ask("olli", ALIASES["quota"][lang], locale=LOCALES[lang])
        assert usage(lang, 0) in words(quota)
        assert "mediator.update" in verbs_on(quota)  # marking oneself away

    await bank.claim("olli", case)
    for lang in LANGS:
        mine = await bank.teams.ask("olli", ALIASES["my cases"][lang], locale=LOCALES[lang])
        assert case.code in words(mine) and "case.details" in verbs_on(mine)
        quota = await bank.teams.ask("olli", ALIASES["quota"][lang], locale=LOCALES[lang])
        assert usage(lang, 1) in words(quota)
    others = await bank.teams.ask("outi", "my cases")
    assert case.code not in words(others)


# -- mediators -------------------------------------------------------------------------------


async def test_mediators_shows_coordinators_the_registry_with_edit_actions(fresh: Bank) -> None:
    for lang in LANGS:
        card = await fresh.teams.ask("coord", ALIASES["mediators"][lang], locale=LOCALES[lang])
        assert t(lang, "registry.title") in words(card)
        for person in fresh.teams.people.values():
            assert person.name in words(card)
        assert "mediator.update" in verbs_on(card)

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
