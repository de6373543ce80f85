"""What a coordinator and a mediator trip over in everyday use, through HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from cards.i18n import LANGS, t, tn
from tests.e2e.conftest import Bank, Unchanged, texts, verbs_on, words
from tests.unit.factories import FORM


async def _case_with_concern(bank: Bank) -> int:
    case = await bank.new_case({**FORM, "safety_concern": "true"})
    await bank.claim("olli", case)
    await bank.claim("outi", case)
    return case.case_id


async def test_a_coordinator_clears_a_safety_concern_from_the_details_card(bank: Bank) -> None:
    case_id = await _case_with_concern(bank)
    mediator = await bank.teams.click(
        "olli", "case.details", {"case_id": case_id}, where="personal"
    )
    assert t("en", "details.safety_title") in words(mediator)
    assert "case.clear_safety" not in verbs_on(mediator)
    refused = await bank.teams.click(
        "olli", "case.clear_safety", {"case_id": case_id}, where="personal"
    )
    assert t("en", "details.safety_title") not in words(refused)

    details = await bank.teams.click(
        "coord", "case.details", {"case_id": case_id}, where="personal"
    )
    assert "case.clear_safety" in verbs_on(details)
    cleared = await bank.teams.click(
        "coord", "case.clear_safety", {"case_id": case_id}, where="personal"
    )
    assert t("en", "details.safety_title") not in words(cleared)
    assert t("en", "details.confidential") in words(cleared)
    uow = bank.sopu.uow()
    async with uow:
        stored = await uow.cases.get(case_id)
    assert stored is not None and not stored.safety_concern_open


async def test_personal_chats_buttons_sent_from_a_channel_show_nothing_there(bank: Bank) -> None:
    """A button of a personal chat's card, sent from the bank channel, answers nothing of it:
    not the family's details, a calendar feed's secret address or the registry."""
    case_id = await _case_with_concern(bank)
    me = await bank.mediator("niina")
    tries = [
        ("coord", "case.clear_safety", {"case_id": case_id}),
        ("olli", "meetings.propose", {"case_id": case_id}),
        ("olli", "meetings.feed_rotate", {}),
        ("coord", "mediator.update", {"mediator_id": me.id, "active": "false"}),
        ("coord", "templates.show", {"lang": "fi"}),
        ("coord", "reminders.open_cases", {}),
    ]
    for who, verb, data in tries:
        before = len(bank.connector.log)
        async with Unchanged(bank):
            answer = await bank.teams.click(who, verb, data, where="channel")
        assert words(answer) == t("en", "error.personal_only"), verb
        assert "/calendar/" not in str(answer) and "Aino" not in str(answer), verb
        assert not bank.connector.log[before:], verb  # nothing sent anywhere else either
    assert (await bank.mediator("niina")).active


async def test_commands_showing_peoples_data_answer_in_personal_chat(bank: Bank) -> None:
    for command, title in (
        ("mediators", "registry.title"),
        ("stats", "stats.title"),
        ("my cases", "my_cases.title"),
        ("quota", "quota.title"),  # one's load and away periods, with their edit buttons
        ("reminders", "report.title"),  # what was sent to whom, and what failed
    ):
        before = len(bank.connector.log)
        in_channel = await bank.teams.ask("coord", command, where="channel")
        assert words(in_channel) == t("en", "notice.answered_in_personal_chat"), command
        assert t("en", "error.personal_chat_only") not in words(in_channel)
        assert "mediator.update" not in verbs_on(in_channel)
        personal = bank.personal("coord", after=before)
        assert len(personal) == 1, command
        year = bank.clock.now().year
        assert t("en", title, year=year, days=30) in words(personal[0].card), command


async def test_a_refused_away_period_keeps_the_form_and_what_was_typed(bank: Bank) -> None:
    me = await bank.mediator("olli")
    typed = {"mediator_id": me.id, "away_start": "2026-12-20", "away_end": "2026-12-10"}
    card = await bank.teams.click("olli", "mediator.update", typed, where="personal")
    shown = words(card)
    assert t("en", "quota.title") in shown
    assert t("en", "problem.period_reversed") in shown
    assert "2026-12-20" in shown and "2026-12-10" in shown
    assert "mediator.update" in verbs_on(card)


async def test_a_registry_edit_is_confirmed_and_a_refused_one_keeps_its_choices(
    bank: Bank,
) -> None:
    olli = await bank.mediator("olli")
    saved = await bank.teams.click(
        "coord", "mediator.update", {"mediator_id": olli.id, "active": "false"}, where="personal"
    )
    assert t("en", "notice.registry_saved", name=olli.name) in words(saved)
    typed = {"mediator_id": olli.id, "experienced": "true", "away_start": "2026-12-20"}
    refused = await bank.teams.click("coord", "mediator.update", typed, where="personal")
    assert t("en", "problem.period_incomplete") in words(refused)
    assert str(olli.id) in words(refused) and "2026-12-20" in words(refused)


async def test_assigning_over_quota_without_a_reason_keeps_the_chosen_mediator(bank: Bank) -> None:
    niina = await bank.mediator("niina")
    for _ in range(2):  # niina's spring quota is used up
        case = await bank.new_case()
        await bank.claim("niina", case)
        await bank.claim("olli", case)
    case = await bank.new_case()
    card = await bank.teams.click(
        "coord",
        "case.assign",
        {"case_id": case.case_id, "mediator_id": str(niina.id), "seat": "1"},
        thread=case.thread,
    )
    inputs = {
        e["id"]: e.get("value")
        for e in _elements(card["body"])
        if e.get("type", "").startswith("Input.")
    }
    assert inputs["mediator_id"] == str(niina.id) and inputs["seat"] == "1"
    assert "override_reason" in inputs


def _elements(body: list[dict[str, object]]) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for element in body:
        found.append(element)
        items = element.get("items")
        if isinstance(items, list):
            found.extend(_elements(items))
    return found


async def test_the_area_is_a_choice_from_the_banks_list(bank: Bank) -> None:
    form = await bank.intake_form()
    area = next(e for e in _elements(form["body"]) if e.get("id") == "area")
    assert area["type"] == "Input.ChoiceSet"
    assert {c["value"] for c in area["choices"]} == set(bank.sopu.settings.policy.areas)
    submit = next(a for a in form["actions"] if a.get("verb") == "case.create")
    typed = {**FORM, "area": "Aino Virtanen, Kauppakatu", **submit["data"]}
    refused = await bank.teams.click("coord", "case.create", typed, where="personal")
    assert t("en", "problem.area_choose") in words(refused)
    assert "Aino Virtanen, Kauppakatu" not in words(refused)


async def test_the_intake_reports_every_problem_in_one_submit(bank: Bank) -> None:
    form = await bank.intake_form()
    submit = next(a for a in form["actions"] if a.get("verb") == "case.create")
    typed = {
        **FORM,
        "parent1_name": "",
        "parent1_phone": "call me",
        "parent1_email": "nope",
        "children": "010203A123B",
        **submit["data"],
    }
    refused = await bank.teams.click("coord", "case.create", typed, where="personal")
    shown = words(refused)
    for problem in ("required", "not_phone", "not_email", "identity_code"):
        assert t("en", f"problem.{problem}") in shown, problem


async def test_the_channel_card_stays_in_the_banks_language(bank: Bank) -> None:
    assert bank.sopu.settings.policy.language == "en"
    case = await bank.new_case(locale="fi-FI")
    answer = await bank.claim("outi", case, locale="sv-SE")
    assert answer["lang"] == "en"
    assert t("en", "notice.claimed", seat=1, code=case.code) in words(answer)
    assert bank.channel_card(case)["lang"] == "en"
    await bank.teams.click("olli", "card.refresh", {"case_id": case.case_id}, locale="fi-FI")
    assert bank.channel_card(case)["lang"] == "en"


async def test_a_chosen_language_is_remembered_over_the_clients_locale(bank: Bank) -> None:
    chosen = await bank.teams.ask("outi", "kieli ruotsi", locale="en-US")
    assert words(chosen) == t("sv", "language.chosen")
    again = await bank.teams.ask("outi", "help", locale="en-US")
    assert t("sv", "help.title") in words(again)
    case = await bank.new_case()
    details = await bank.teams.click(
        "outi", "case.details", {"case_id": case.case_id}, where="personal", locale="en-US"
    )
    assert details["lang"] == "sv"
    sent = len(bank.connector.log)
    await bank.claim("olli", case)
    await bank.claim("outi", case, locale="en-US")
    notes = [s.card for s in bank.personal("outi", after=sent) if s.card]
    assert notes and all(note["lang"] == "sv" for note in notes)
    unknown = await bank.teams.ask("olli", "language klingon", locale="en-US")
    assert t("en", "language.unknown") in words(unknown)
    shown = await bank.teams.ask("olli", "language", locale="en-US")
    assert t("sv", "language.example") in words(shown)


async def test_release_is_offered_only_to_a_seat_holder(bank: Bank) -> None:
    case = await bank.new_case()
    mine = await bank.claim("olli", case)
    assert "case.release" in verbs_on(mine)
    assert "case.release" not in verbs_on(bank.channel_card(case))  # what everyone sees
    theirs = await bank.teams.click("outi", "card.refresh", {"case_id": case.case_id})
    assert "case.release" not in verbs_on(theirs)


async def test_a_long_unbroken_name_can_wrap_on_the_details_card(bank: Bank) -> None:
    long_name = "Aino-Maria-Katariina-Virtasenpoika-Korhonen-Lindqvist"
    case = await bank.new_case({**FORM, "parent1_name": long_name})
    card = await bank.teams.click(
        "coord", "case.details", {"case_id": case.case_id}, where="personal"
    )
    shown = words(card)
    assert long_name in shown.replace("\u200b", "")
    runs = [run for line in shown.splitlines() for run in line.replace("\u200b", " ").split()]
    assert max(len(run) for run in runs) <= 20


async def test_the_years_written_feedback_for_the_joint_meetings(bank: Bank) -> None:
    case = await bank.paired("olli", "outi")
    close = {"case_id": case.case_id, "outcome": "agreement"}
    await bank.teams.click("coord", "case.close", close, thread=case.thread)
    plain = "Vanhemmat sopivat asiat rauhallisesti."
    telling = "Tapasimme isän kanssa Keravalla, hän soitti numerosta 040 123 4567."
    for key, note in (("olli", plain), ("outi", telling)):
        answer = {"case_id": case.case_id, "cf_package": "4", "cf_pair": "5", "cf_note": note}
        await bank.teams.click(key, "feedback.case", answer, where="personal")
    year = bank.clock.now().year

    stats = await bank.teams.click("coord", "stats.show", {"year": year}, where="personal")
    assert "stats.written" in verbs_on(stats)
    refused = await bank.teams.click("olli", "stats.written", {"year": year}, where="personal")
    assert plain not in words(refused)
    card = await bank.teams.click("coord", "stats.written", {"year": year}, where="personal")
    shown = words(card)
    assert plain in shown and telling in shown
    assert case.code not in texts(card)
    warning = t("en", "written.may_identify")
    lines = shown.splitlines()
    assert lines[lines.index(f"“{telling}”") + 1] == warning
    assert lines[lines.index(f"“{plain}”") + 1] != warning

    url = next(a["url"] for a in card["actions"] if a["type"] == "Action.OpenUrl")
    path = url[url.index("/stats/") :]
    async with bank.teams.http.get(f"{bank.teams.base}{path}") as resp:
        assert resp.status == 200
        table = (await resp.read()).decode("utf-8-sig")
    assert telling in table and warning in table and case.code not in table
    forged = path.replace(f"/stats/{year}/written.csv", f"/stats/{year}.csv")
    async with bank.teams.http.get(f"{bank.teams.base}{forged}") as resp:
        assert resp.status == 403  # a link to the answers opens nothing else


async def test_the_bank_overview_shows_the_sharing_of_work_and_re_assigns(bank: Bank) -> None:
    case = await bank.paired("olli", "outi")
    outi = await bank.mediator("outi")
    today = bank.clock.now().date()
    away = {
        "mediator_id": outi.id,
        "away_start": today.isoformat(),
        "away_end": (today + timedelta(days=20)).isoformat(),
    }
    await bank.teams.click("coord", "mediator.update", away, where="personal")
    registry = await bank.teams.ask("coord", "mediators")
    assert "bank.overview" in verbs_on(registry)

    refused = await bank.teams.click("olli", "bank.overview", {}, where="personal")
    assert "Sven Svensson" not in words(refused)
    card = await bank.teams.click("coord", "bank.overview", {}, where="personal")
    shown = words(card)
    assert t("en", "overview.title", year=today.year) in shown
    assert "Sven Svensson" in shown.split(t("en", "overview.without_case"))[1]
    line = next(s for s in shown.splitlines() if case.code in s)
    assert "Outi Osaava" in line and "2" in line
    (form,) = [a for a in card["actions"] if a["type"] == "Action.ShowCard"]
    seat = next(e for e in form["card"]["body"] if e.get("id") == "seat")
    assert seat["value"] == "2"
    submit = form["card"]["actions"][0]
    niina = await bank.mediator("niina")
    data = {**submit["data"], "mediator_id": str(niina.id), "seat": "2"}
    await bank.teams.click("coord", submit["verb"], data, where="personal")
    assert await bank.holders(case) == {1: "Olli Kokenut", 2: "Niina Uusi"}


async def test_the_claim_that_completes_a_pair_says_if_the_two_have_worked_together(
    bank: Bank,
) -> None:
    first = await bank.new_case()
    await bank.claim("olli", first)
    answer = await bank.claim("outi", first)
    assert t("en", "notice.worked_together.zero", name="Olli Kokenut") in words(answer)
    second = await bank.new_case()
    await bank.claim("outi", second)
    answer = await bank.claim("olli", second)
    assert t("en", "notice.worked_together.one", name="Outi Osaava") in words(answer)


def _assign_list(card: dict[str, Any]) -> list[str]:
    """The titles of the assign list open on top of a case card, in the order offered."""
    (mediators,) = [e for e in _nodes(card["body"]) if e.get("id") == "mediator_id"]
    return [c["title"] for c in mediators["choices"]]


def _assign_button(card: dict[str, Any]) -> dict[str, Any]:
    """The data of the coordinator tools' "Assign" button."""
    (tools,) = [a for a in card["actions"] if a.get("title") == t("en", "coord.title")]
    (assign,) = [a for a in tools["card"]["actions"] if a.get("title") == t("en", "coord.assign")]
    assert assign["type"] == "Action.Execute" and assign["verb"] == "card.refresh"
    return dict(assign["data"])


def _nodes(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value, *(n for child in value.values() for n in _nodes(child))]
    if isinstance(value, list):
        return [n for child in value for n in _nodes(child)]
    return []


async def test_the_assign_list_offers_the_least_loaded_and_new_pairs_first(bank: Bank) -> None:
    spring = bank.clock.now()
    bank.clock.set(datetime(2025, 10, 1, 9, 0, tzinfo=UTC))  # last autumn: Olli and Outi met
    await bank.paired("olli", "outi")
    bank.clock.set(spring)
    await bank.claim("niina", await bank.new_case())  # Niina's first package this spring
    case = await bank.new_case()
    await bank.claim("olli", case)  # Olli holds seat 1, his first package this spring

    def entry(name: str, used: int, met: int = 0) -> str:
        title = t("en", "assign.load", name=name, used=used, quota=2)
        return title + (" · " + tn("en", "assign.worked_together", met) if met else "")

    expected = [
        entry("Kaisa Koordinaattori", 0),
        entry("Nils Ny", 0),
        entry("Sven Svensson", 0),
        entry("Outi Osaava", 0, met=1),  # as free as the three above, but has met Olli
        entry("Niina Uusi", 1),
        entry("Olli Kokenut", 1),
    ]
    # The shared channel card keeps no list (loads change with every other case): its
    # "Assign" button asks for one, built fresh for the coordinator who clicks it.
    shared = bank.channel_card(case)
    assert "this term" not in str(shared)
    opened = await bank.teams.click("coord", "card.refresh", {**_assign_button(shared)})
    assert _assign_list(opened) == expected
    # Another claim elsewhere changes the loads: the next look shows them as they now are.
    await bank.claim("nils", await bank.new_case())
    again = await bank.teams.click("coord", "card.refresh", {**_assign_button(shared)})
    now = [expected[0], *expected[2:5], entry("Nils Ny", 1), expected[5]]
    assert _assign_list(again) == now


async def test_a_mediator_who_never_chatted_with_sopu_is_told_the_pair_is_complete(
    bank: Bank,
) -> None:
    # As in the Agents Playground: a one-to-one chat opens by the Teams user id alone.
    bank.connector.chats_by_teams_id_only = True
    [newcomer] = await bank.add_mediators(1, prefix="new")
    assert await bank.sopu.store.user_reference(newcomer.aad) is None
    case = await bank.new_case()
    await bank.claim("olli", case)
    await bank.claim(newcomer.key, case)
    chat = f"a:personal-{newcomer.teams_id}"
    note = await bank.connector.wait_for(
        lambda s: s.conversation_id == chat and s.card is not None and case.code in words(s.card)
    )
    assert any(t(lang, "pair.title", code=case.code) in words(note.card) for lang in LANGS)
    stored = await bank.sopu.store.user_reference(newcomer.aad)
    assert stored is not None and stored["user"]["id"] == newcomer.teams_id


async def test_only_a_coordinator_is_shown_the_assign_list(bank: Bank) -> None:
    case = await bank.new_case()
    opener = _assign_button(bank.channel_card(case))
    answer = await bank.teams.click("niina", "card.refresh", opener)
    assert "this term" not in str(answer)
    assert not [n for n in _nodes(answer["body"]) if n.get("id") == "mediator_id"]
    assert t("en", "denied.assign") in words(answer)
    # A refused assignment by a mediator does not bring the list either.
    forged = {"case_id": case.case_id, "mediator_id": "2", "seat": "1"}
    refused = await bank.teams.click("niina", "case.assign", forged)
    assert "this term" not in str(refused)
