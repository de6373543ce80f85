"""Every card verb over HTTP: what it answers, what it changes, whom it tells."""

from __future__ import annotations

from typing import Any

from cards.i18n import t, when_label
from mediation.journal import AccessPurpose, CaseEventKind
from tests.e2e.conftest import CHANNEL, Bank, Unchanged, verbs_on, words
from tests.unit.factories import FORM


def next_to(card: dict[str, Any], field: str) -> str:
    """The text shown right under the input ``field`` of a form ('' if none)."""
    body = card["body"]
    for i, element in enumerate(body):
        if element.get("id") == field:
            following = body[i + 1] if i + 1 < len(body) else {}
            if following.get("type") == "TextBlock" and following.get("color") == "Attention":
                return str(following["text"])
            return ""
    raise AssertionError(f"no input {field} on the form")


async def form_id(bank: Bank, locale: str = "en-US") -> dict[str, str]:
    """The data of the submit button of a fresh intake form."""
    blank = await bank.intake_form(locale=locale)
    action = next(a for a in blank["actions"] if a.get("verb") == "case.create")
    return dict(action["data"])


async def submit(
    bank: Bank, form: dict[str, Any], stamp: dict[str, str], locale: str = "en-US"
) -> dict[str, Any]:
    return await bank.teams.click(
        "coord", "case.create", {**form, **stamp}, where="personal", locale=locale
    )


# -- intake ------------------------------------------------------------------------------------


async def test_the_intake_form_is_checked_on_the_server(bank: Bank) -> None:
    stamp = await form_id(bank, locale="sv-SE")
    coded = {**FORM, "parent1_name": "Aino Virtanen 131052-308T"}
    async with Unchanged(bank):
        card = await submit(bank, coded, stamp, locale="sv-SE")
    assert next_to(card, "parent1_name") == t("sv", "problem.identity_code")
    addressed = {**FORM, "area": "Kerava, Kauppakaari 7"}
    async with Unchanged(bank):
        card = await submit(bank, addressed, stamp, locale="sv-SE")
    assert next_to(card, "area") == t("sv", "problem.area_choose")

    wrong = {
        **FORM,
        "area": "",
        "children": "2017, 1990",
        "topics": "custody,weather",
        "parent2_phone": "call me",
        "parent2_email": "",
    }
    async with Unchanged(bank):
        card = await submit(bank, wrong, stamp, locale="sv-SE")
    assert t("sv", "intake.title") in words(card)
    assert next_to(card, "area") == t("sv", "problem.required")
    assert next_to(card, "children") == t("sv", "problem.birth_year_range", value="1990")
    assert next_to(card, "topics") == t("sv", "problem.unknown_choice")
    assert next_to(card, "parent2_phone") == t("sv", "problem.not_phone")
    assert next_to(card, "language") == next_to(card, "parent1_name") == ""
    # What was typed stays in the form, so only the wrong parts need fixing.
    parent2 = next(e for e in card["body"] if e.get("id") == "parent2_name")
    assert parent2["value"] == "Mikko Virtanen"
    assert verbs_on(card) == ["case.create"]

    fixed = {**wrong, "area": "Kerava", "children": "2017", "topics": "custody"}
    fixed |= {"parent2_phone": "+358 50 765 4321"}
    card = await submit(bank, fixed, stamp, locale="sv-SE")  # the same form, corrected
    assert t("sv", "posted.title", code="2026-001") in words(card)
    posted = await bank.connector.wait_for(lambda s: s.kind == "create")
    assert "Kerava" in words(posted.card) and "Aino" not in posted.text


async def test_intake_is_for_personal_chat_and_a_bank_channel(fresh: Bank) -> None:
    stamp = await form_id(fresh)
    async with Unchanged(fresh):
        card = await submit(fresh, FORM, stamp)
    assert t("en", "error.no_bank_channel") in words(card)
    await fresh.setup()
    async with Unchanged(fresh):
        card = await fresh.teams.click("coord", "case.create", FORM, where="channel")
    assert t("en", "error.personal_chat_only") in words(card)


async def test_a_new_case_is_posted_without_the_family(bank: Bank) -> None:
    case = await bank.new_case()
    assert t("en", "posted.title", code=case.code) in words(case.answer)
    assert "case.details" in verbs_on(case.answer)
    posted = bank.latest_post(case)
    for key in ("parent1_name", "parent1_phone", "parent1_email", "parent2_name"):
        assert str(FORM[key]) not in posted.text
    kinds = [e.kind for e in await bank.events(case)]
    assert kinds == [CaseEventKind.CREATED]


# -- claiming and pairing ------------------------------------------------------------------------


async def test_pairing_tells_both_in_their_own_language(bank: Bank) -> None:
    await bank.teams.ask("outi", "hjälp", locale="sv-SE")  # Outi's Teams is in Swedish
    case = await bank.new_case()
    sent = len(bank.connector.log)
    await bank.claim("olli", case)
    assert not bank.personal("olli", after=sent)  # nothing to tell while the pair is not whole
    await bank.claim("outi", case, locale="sv-SE")

    olli = [s for s in bank.personal("olli", after=sent) if s.card]
    outi = [s for s in bank.personal("outi", after=sent) if s.card]
    assert len(olli) == len(outi) == 1
    assert t("en", "pair.title", code=case.code) in words(olli[0].card)
    assert t("sv", "pair.title", code=case.code) in words(outi[0].card)
    assert "case.details" in verbs_on(outi[0].card)
    assert "Aino" not in olli[0].text + outi[0].text


async def test_the_pairing_rule_and_the_quota_are_checked(bank: Bank) -> None:
    case = await bank.new_case()
    await bank.claim("niina", case)
    async with Unchanged(bank):
        card = await bank.claim("nils", case, locale="fi-FI")
    assert t("en", "error.needs_experienced") in words(card)  # the bank's language
    async with Unchanged(bank):
        card = await bank.claim("sven", case, locale="sv-SE")  # Swedish only, a Finnish family
    assert t("en", "error.language_mismatch", name="Sven Svensson", language="Finnish") in words(
        card
    )

    for _ in range(2):  # Olli's two packages of the spring
        other = await bank.new_case()
        await bank.claim("olli", other)
    async with Unchanged(bank):
        card = await bank.claim("olli", case)
    full = t("en", "error.quota_term", used=2, limit=2, when=when_label("en", "spring"))
    assert full in words(card)


# -- details -----------------------------------------------------------------------------------


async def test_details_clicked_in_the_channel_go_to_personal_chat(bank: Bank) -> None:
    case = await bank.paired()
    sent = len(bank.connector.log)
    card = await bank.teams.click(
        "olli", "case.details", {"case_id": case.case_id}, thread=case.thread
    )

    assert t("en", "notice.details_sent", code=case.code) in words(card)
    assert "Aino Virtanen" not in str(card)  # the answer is seen in the channel
    assert "case.claim" not in verbs_on(card)
    details = [s for s in bank.personal("olli", after=sent) if "Aino Virtanen" in s.text]
    assert len(details) == 1
    assert t("en", "details.title", code=case.code) in words(details[0].card)
    assert all(
        s.conversation_id != CHANNEL and CHANNEL not in s.conversation_id
        for s in bank.connector.log[sent:]
        if "Aino" in s.text
    )

    olli = await bank.mediator("olli")
    [entry] = await bank.accesses(case)
    assert (entry.viewer_id, entry.purpose) == (olli.id, AccessPurpose.SEAT_HOLDER)


async def test_every_view_of_the_details_is_logged(bank: Bank) -> None:
    case = await bank.paired()
    in_chat = await bank.teams.click(
        "outi", "case.details", {"case_id": case.case_id}, where="personal", locale="sv-SE"
    )
    assert "Aino Virtanen" in words(in_chat)
    assert t("sv", "details.title", code=case.code) in words(in_chat)
    await bank.teams.click("coord", "case.details", {"case_id": case.case_id}, where="personal")
    await bank.teams.click("coord", "case.details", {"case_id": case.case_id}, thread=case.thread)

    coord, outi = await bank.mediator("coord"), await bank.mediator("outi")
    views = [(a.viewer_id, a.purpose) for a in await bank.accesses(case)]
    assert views == [
        (outi.id, AccessPurpose.SEAT_HOLDER),
        (coord.id, AccessPurpose.COORDINATION),
        (coord.id, AccessPurpose.COORDINATION),
    ]


async def test_details_open_a_personal_chat_when_there_is_none(bank: Bank) -> None:
    [newcomer] = await bank.add_mediators(1, prefix="new")
    case = await bank.new_case()
    await bank.claim("olli", case)
    await bank.claim(newcomer.key, case)
    sent = len(bank.connector.log)
    card = await bank.teams.click(
        newcomer.key, "case.details", {"case_id": case.case_id}, thread=case.thread
    )
    assert t("en", "notice.details_sent", code=case.code) in words(card)
    opened = [s for s in bank.personal(newcomer.key, after=sent) if "Aino Virtanen" in s.text]
    assert len(opened) == 1
    assert await bank.sopu.store.user_reference(newcomer.aad) is not None


async def test_details_that_cannot_be_delivered_say_so(bank: Bank) -> None:
    case = await bank.paired()
    bank.connector.fail_next.extend([403, 403, 403])  # the chat, and opening a new one
    card = await bank.teams.click(
        "olli", "case.details", {"case_id": case.case_id}, thread=case.thread
    )
    assert t("en", "error.personal_chat_failed") in words(card)
    assert "Aino" not in str(card)


# -- releasing ---------------------------------------------------------------------------------


async def test_a_conflict_of_interest_release_from_the_details_card(bank: Bank) -> None:
    case = await bank.paired()
    details = await bank.teams.click(
        "outi", "case.details", {"case_id": case.case_id}, where="personal"
    )
    release = next(
        a
        for a in details["actions"]
        if a.get("verb") == "case.release" and a["data"].get("reason") == "conflict_of_interest"
    )
    sent = len(bank.connector.log)
    card = await bank.teams.click("outi", "case.release", release["data"], where="personal")

    # The details are replaced by a note, and access ends at once.
    assert t("en", "notice.released", code=case.code) in words(card)
    assert "Aino" not in str(card)
    assert await bank.holders(case) == {1: "Olli Kokenut", 2: None}
    assert await bank.status(case) == "open"
    released = [e for e in await bank.events(case) if e.kind is CaseEventKind.RELEASED]
    assert released[-1].detail["reason"] == "conflict_of_interest"
    async with Unchanged(bank):
        again = await bank.teams.click(
            "outi", "case.details", {"case_id": case.case_id}, where="personal"
        )
    assert "Aino" not in str(again)

    # The coordinators hear of it; the channel card shows the free seat again.
    news = [s for s in bank.personal("coord", after=sent) if s.card]
    assert len(news) == 1
    said = t("en", "released.conflict_of_interest", name="Outi Osaava", code=case.code)
    assert said in words(news[0].card)
    assert not bank.personal("olli", after=sent)
    assert "case.claim" in verbs_on(bank.channel_card(case))


async def test_releasing_twice_changes_nothing_the_second_time(bank: Bank) -> None:
    case = await bank.paired()
    data = {"case_id": case.case_id}
    await bank.teams.click("outi", "case.release", data, thread=case.thread)
    async with Unchanged(bank):
        card = await bank.teams.click("outi", "case.release", data, thread=case.thread)
    assert t("en", "notice.unchanged") in words(card)


async def test_a_coordinator_takes_someone_off_a_case(bank: Bank) -> None:
    case = await bank.paired()
    sent = len(bank.connector.log)
    card = await bank.teams.click(
        "coord", "case.release", {"case_id": case.case_id, "seat": 2}, thread=case.thread
    )
    assert await bank.holders(case) == {1: "Olli Kokenut", 2: None}
    assert "Outi Osaava" not in "".join(
        str(block) for block in card["body"] if block.get("type") == "RichTextBlock"
    )
    said = t("en", "released.coordinator", name="Outi Osaava", code=case.code)
    for key in ("outi", "coord"):
        assert any(said in words(s.card) for s in bank.personal(key, after=sent) if s.card), key


# -- assigning, closing, cancelling --------------------------------------------------------------


async def test_assigning_over_the_quota_needs_a_reason_which_is_logged(bank: Bank) -> None:
    olli = await bank.mediator("olli")
    for _ in range(2):
        other = await bank.new_case()
        await bank.claim("olli", other)
    case = await bank.new_case()
    assign = {"case_id": case.case_id, "mediator_id": str(olli.id), "override_reason": ""}

    async with Unchanged(bank):
        card = await bank.teams.click(
            "coord", "case.assign", assign, thread=case.thread, locale="fi-FI"
        )
    needed = t(
        "en", "error.override_reason_required", used=2, limit=2, when=when_label("en", "spring")
    )
    assert needed in words(card)

    reason = "Perhe tuntee Ollin aiemmasta sovittelusta."
    card = await bank.teams.click(
        "coord", "case.assign", assign | {"override_reason": reason}, thread=case.thread
    )
    assert t("en", "notice.assigned", name="Olli Kokenut", seat=1, code=case.code) in words(card)
    events = await bank.events(case)
    assert [e.kind for e in events][-2:] == [CaseEventKind.ASSIGNED, CaseEventKind.OVERRIDDEN]
    assert events[-1].detail["reason"] == reason
    assert events[-1].detail["mediator_id"] == olli.id
    assert reason not in str(bank.channel_card(case))


async def test_assigning_replaces_a_holder_and_tells_them(bank: Bank) -> None:
    case = await bank.paired()
    niina = await bank.mediator("niina")
    sent = len(bank.connector.log)
    assign = {"case_id": case.case_id, "mediator_id": str(niina.id), "seat": "2"}
    await bank.teams.click("coord", "case.assign", assign, thread=case.thread)
    assert await bank.holders(case) == {1: "Olli Kokenut", 2: "Niina Uusi"}
    said = t("en", "released.coordinator", name="Outi Osaava", code=case.code)
    assert any(said in words(s.card) for s in bank.personal("outi", after=sent) if s.card)


async def test_closing_and_cancelling(bank: Bank) -> None:
    case = await bank.paired()
    async with Unchanged(bank):
        card = await bank.teams.click(
            "coord", "case.close", {"case_id": case.case_id}, thread=case.thread
        )
    assert t(
        "en",
        "error.invalid_input",
        field=t("en", "field.outcome"),
        problem=t("en", "problem.unknown_choice"),
    ) in words(card)

    data = {"case_id": case.case_id, "outcome": "partial_agreement"}
    card = await bank.teams.click("coord", "case.close", data, thread=case.thread, locale="sv-SE")
    assert t(
        "en", "notice.closed", code=case.code, outcome=t("en", "outcome.partial_agreement")
    ) in words(card)
    assert await bank.status(case) == "closed"
    async with Unchanged(bank):
        card = await bank.teams.click("coord", "case.close", data, thread=case.thread)
    assert t("en", "notice.unchanged") in words(card)
    async with Unchanged(bank):
        card = await bank.teams.click(
            "coord", "case.cancel", {"case_id": case.case_id}, thread=case.thread
        )
    assert t("en", "error.illegal_transition.cancel", status=t("en", "status.closed")) in words(
        card
    )

    other = await bank.new_case()
    card = await bank.teams.click(
        "coord",
        "case.cancel",
        {"case_id": other.case_id, "reason": "Perhe muutti."},
        thread=other.thread,
    )
    assert t("en", "notice.cancelled", code=other.code) in words(card)
    assert await bank.status(other) == "cancelled"
    assert "Perhe muutti." not in str(bank.channel_card(other))
    assert "case.claim" not in verbs_on(bank.channel_card(other))


# -- the registry ------------------------------------------------------------------------------


async def test_a_coordinator_edits_the_registry(bank: Bank) -> None:
    niina = await bank.mediator("niina")
    edit = {
        "mediator_id": str(niina.id),
        "experienced": "true",
        "languages": "fi,sv",
        "away_start": "2026-04-01",
        "away_end": "2026-04-30",
    }
    card = await bank.teams.click("coord", "mediator.update", edit, where="personal")
    assert t("en", "registry.title") in words(card)
    changed = await bank.mediator("niina")
    assert changed.experienced_mark and changed.languages == {"fi", "sv"}
    assert [(p.start.isoformat(), p.end.isoformat()) for p in changed.away] == [
        ("2026-04-01", "2026-04-30")
    ]

    card = await bank.teams.click(
        "coord",
        "mediator.update",
        {"mediator_id": str(niina.id), "active": "false"},
        where="personal",
    )
    assert t("en", "registry.inactive") in words(card)
    assert not (await bank.mediator("niina")).active


async def test_a_mediator_marks_themselves_away_from_the_quota_card(bank: Bank) -> None:
    quota = await bank.teams.ask("olli", "kiintiö", locale="fi-FI")
    away = next(a for a in quota["actions"] if a.get("type") == "Action.ShowCard")
    save = away["card"]["actions"][0]
    assert save["verb"] == "mediator.update"
    data = {**save["data"], "away_start": "2026-03-10", "away_end": "2026-03-20"}
    card = await bank.teams.click("olli", "mediator.update", data, where="personal", locale="fi-FI")
    assert t("fi", "quota.title") in words(card)
    assert "2026" in words(card) and len((await bank.mediator("olli")).away) == 1

    case = await bank.new_case()
    bank.clock.advance(days=10)  # 12 March: away
    async with Unchanged(bank):
        card = await bank.claim("olli", case, locale="fi-FI")
    assert await bank.holders(case) == {1: None, 2: None}
    assert card["body"][0]["color"] == "Attention"
