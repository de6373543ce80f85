"""Consultation requests under attack, over HTTP: every verb with ids and values of the wrong
kind, stale cards and replays, people with no part or the wrong role, the channel, and
canaries in every typed field that must never reach a log.

Each probe has one defined answer: a refusal card in the clicker's language (never the
"unexpected error" card) and nothing changed in the bank, nothing sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from sqlalchemy import text

from bot.settings import Settings
from cards.i18n import Lang, t
from mediation.consultation import Status
from mediation.model import Mediator, Role
from storage.db import create_engine
from tests.clock import FixedClock
from tests.e2e.conftest import Bank, Unchanged, running, words
from tests.e2e.test_consultations import EXPERTS, QUESTION, newest, person_id
from tests.fakes.connector import FakeConnector

ANSWER = "One intervention meeting with the family at the counselling office."
ID_VERBS = (
    "consult.show",
    "consult.approve",
    "consult.place",
    "consult.ask",
    "consult.accept",
    "consult.decline",
    "consult.answer",
    "consult.answer_show",
    "consult.withdraw",
)
COORDINATOR_VERBS = ("consult.place", "consult.ask", "consult.answer", "consult.approve")
BOOKER = "cccccccc-0000-4000-8000-000000000010"
GONE = "dddddddd-0000-4000-8000-000000000011"
SECOND = "eeeeeeee-0000-4000-8000-000000000012"


def deep(levels: int) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for _ in range(levels):
        value = {"x": value}
    return value


BAD_IDS: list[Any] = ["abc", 1.5, True, [1], {"id": 1}, 10**30, -1, "1.0", "", None, deep(8)]
BAD_TEXTS: list[Any] = [
    ["a", "list"],
    deep(8),
    "x" * 100_000,
    "before\x01after",
    "before\u2028after",
    12,
    True,
]


@pytest.fixture
async def team(
    connector: FakeConnector, clock: FixedClock, e2e_settings: Settings
) -> AsyncIterator[Bank]:
    """Experts by speciality, a booker, an inactive person and a second coordinator."""
    async with running(e2e_settings, connector, clock) as bank:
        uow = bank.sopu.uow()
        async with uow:
            for key, specialities in EXPERTS.items():
                person = await uow.mediators.by_aad(bank.teams.person(key).aad)
                assert person is not None and person.id is not None
                await uow.qualifications.set(person.id, frozenset(specialities))
            for aad, name, role, active in (
                (BOOKER, "Sari Sihteeri", Role.BOOKER, True),
                (GONE, "Lasse Lähtenyt", Role.MEDIATOR, False),
                (SECOND, "Kalle Koordinaattori", Role.COORDINATOR, True),
            ):
                await uow.mediators.add(
                    Mediator(
                        aad,
                        name,
                        f"{aad[:4]}@example.org",
                        "Hyvinkää",
                        frozenset({"fi"}),
                        role=role,
                        active=active,
                    )
                )
            await uow.commit()
        for key, aad, name in (
            ("sari", BOOKER, "Sari Sihteeri"),
            ("lasse", GONE, "Lasse Lähtenyt"),
            ("kalle", SECOND, "Kalle Koordinaattori"),
        ):
            bank.teams.people[key] = type(bank.teams.person("olli"))(key, name, aad, f"29:{key}")
            bank.connector.teams_ids[aad] = f"29:{key}"
        yield bank


async def click(
    bank: Bank, key: str, verb: str, data: Any, locale: str = "en-US", **extra: Any
) -> dict[str, Any]:
    return await bank.teams.click(key, verb, data, where="personal", locale=locale, **extra)


def refusal(card: dict[str, Any], lang: Lang = "en") -> str:
    """The card's words, after checking it is a refusal and not the crash card."""
    shown = words(card)
    assert t(lang, "error.unexpected") not in shown, shown[:300]
    assert shown.strip(), card
    return shown


async def refused(
    bank: Bank, key: str, verb: str, data: Any, lang: Lang = "en", **extra: Any
) -> str:
    locale = {"fi": "fi-FI", "sv": "sv-SE", "en": "en-US"}[lang]
    async with Unchanged(bank):
        card = await click(bank, key, verb, data, locale=locale, **extra)
    return refusal(card, lang)


async def send(bank: Bank, key: str = "olli", **fields: Any) -> int:
    data = {
        "region": "Kerava",
        "categories": "alienation",
        "question": QUESTION,
        "background": "Family counselling has met the parents twice.",
        "consent": "true",
        "consent_date": "2026-02-27",
        **fields,
    }
    await click(bank, key, "consult.send", data)
    return await newest(bank)


async def on_agenda(bank: Bank) -> int:
    """Olli's request on Tuesday's agenda; Outi asked and accepted, Nils asked and declined."""
    c_id = await send(bank)
    await click(bank, "coord", "consult.place", {"c_id": c_id, "day": "2026-03-03"})
    outi, nils = await person_id(bank, "outi"), await person_id(bank, "nils")
    for speciality, who in (("child_psychiatry", outi), ("police", nils)):
        await click(
            bank,
            "coord",
            "consult.ask",
            {"c_id": c_id, "speciality": speciality, f"expert_{speciality}": str(who)},
        )
    await click(bank, "outi", "consult.accept", {"c_id": c_id})
    await click(bank, "nils", "consult.decline", {"c_id": c_id})
    return c_id


def meeting(c_id: int, attendees: str, **fields: Any) -> dict[str, Any]:
    return {
        "c_id": c_id,
        "answer_kind": "client_meeting",
        "answer": ANSWER,
        "meeting_day": "2026-03-12",
        "meeting_time": "10:00",
        "meeting_place": "Family counselling, Kerava",
        "attendees": attendees,
        **fields,
    }


async def status(bank: Bank, c_id: int) -> Status:
    uow = bank.sopu.uow()
    async with uow:
        found = await uow.consultations.get(c_id)
    assert found is not None
    return found.status


# -- ids --------------------------------------------------------------------------------------


async def test_every_verb_with_an_unreadable_or_foreign_id_is_refused(team: Bank) -> None:
    bank = team
    c_id = await on_agenda(bank)
    for verb in ID_VERBS:
        assert await refused(bank, "coord", verb, {"day": "2026-03-03"}, "fi")
        for bad in BAD_IDS:
            shown = await refused(bank, "coord", verb, {"c_id": bad, "day": "2026-03-03"}, "fi")
            assert QUESTION not in shown, (verb, bad)
        # A request the clicker has no part in does not exist for them.
        shown = await refused(bank, "niina", verb, {"c_id": c_id}, "sv")
        assert QUESTION not in shown and t("sv", "error.unexpected") not in shown
        shown = await refused(bank, "olli", verb, {"c_id": c_id + 1}, "fi")
        assert QUESTION not in shown


async def test_data_nested_fifty_deep_never_reaches_a_verb(team: Bank) -> None:
    bank = team
    c_id = await on_agenda(bank)
    for verb in ID_VERBS:
        for data in ({"c_id": deep(50)}, {"c_id": c_id, "answer": deep(50)}):
            async with Unchanged(bank):
                activity = bank.teams.click_activity("coord", verb, data, where="personal")
                status_code, _ = await bank.teams.post(activity)
            assert status_code == 400
    # A lone surrogate is no Unicode text: the gate turns it away before any verb.
    for verb, data in (
        ("consult.send", {"region": "Kerava", "categories": "other", "question": "a \ud800"}),
        ("consult.answer", meeting(c_id, "1", answer="lone \ud800")),
    ):
        async with Unchanged(bank):
            activity = bank.teams.click_activity("coord", verb, data, where="personal")
            status_code, _ = await bank.teams.post(activity)
        assert status_code == 400


# -- values -----------------------------------------------------------------------------------


async def test_send_refuses_values_of_the_wrong_kind(team: Bank) -> None:
    bank = team
    good = {
        "region": "Kerava",
        "categories": "alienation",
        "question": QUESTION,
        "background": "",
        "consent": "true",
        "consent_date": "2026-02-27",
    }
    for key in ("region", "categories", "question", "background", "birth_years", "consent_date"):
        for bad in BAD_TEXTS:
            await refused(bank, "olli", "consult.send", {**good, key: bad}, "fi")
    for key, bad in (
        ("categories", "alienation,astrology"),
        ("categories", ["alienation", 3]),
        ("categories", ""),
        ("consent_date", "9999-01-01"),
        ("consent_date", "2026-03-10"),  # given in the future
        ("consent_date", "2026-02-30"),
        ("consent_date", "27.2.2026"),
        ("birth_years", "1999"),
        ("birth_years", "２０１４"),
        ("urgent", "true"),  # urgent without an urgent category
        ("region", "Kerava\u202e"),
    ):
        await refused(bank, "olli", "consult.send", {**good, key: bad}, "fi")
    # No consent: the justification is required, and typed text only.
    no_consent = {**good, "consent": "false"}
    await refused(bank, "olli", "consult.send", no_consent)
    for bad in BAD_TEXTS:
        await refused(bank, "olli", "consult.send", {**no_consent, "justification": bad})


async def test_markup_stays_text(team: Bank) -> None:
    # A direction override is refused as a character that cannot be saved (the intake's
    # rule, tested there); markup is kept as the text it is.
    bank = team
    typed = "**Bold** <script>alert(1)</script> [link](https://evil.example)"
    c_id = await send(bank, question=typed)
    card = await click(bank, "coord", "consult.show", {"c_id": c_id})
    shown = words(card)
    assert "<script>" not in shown and "**Bold**" not in shown and "](https" not in shown
    assert "evil.example" in shown  # shown as text, no link


async def test_answer_and_agenda_refuse_values_off_their_lists(team: Bank) -> None:
    bank = team
    c_id = await on_agenda(bank)
    outi, nils, niina = [await person_id(bank, k) for k in ("outi", "nils", "niina")]
    for data in (
        meeting(c_id, str(nils)),  # declined
        meeting(c_id, str(niina)),  # never asked
        meeting(c_id, f"{outi},{nils}"),
        meeting(c_id, ""),
        meeting(c_id, "abc"),
        meeting(c_id, [outi]),
        meeting(c_id, str(10**30)),
        meeting(c_id, ",".join(str(outi) for _ in range(11))),
        meeting(c_id, str(outi), meeting_time="10:15"),
        meeting(c_id, str(outi), meeting_time="25:00"),
        meeting(c_id, str(outi), meeting_time=["10:00"]),
        meeting(c_id, str(outi), meeting_day="9999-03-12"),
        meeting(c_id, str(outi), meeting_day="2026-02-12"),  # past
        meeting(c_id, str(outi), meeting_day="12.3.2026"),
        meeting(c_id, str(outi), meeting_place="x" * 100_000),
        meeting(c_id, str(outi), meeting_place="nul\x01"),
        meeting(c_id, str(outi), meeting_place=deep(8)),
        meeting(c_id, str(outi), answer="nul \x01"),
        meeting(c_id, str(outi), answer=["a"]),
        meeting(c_id, str(outi), answer=""),
        meeting(c_id, str(outi), answer_kind="astrology"),
        meeting(c_id, str(outi), answer_kind=["client_meeting"]),
        {"c_id": c_id, "answer_kind": "written", "answer": "x" * 100_000},
    ):
        await refused(bank, "coord", "consult.answer", data, "fi")
    for day in (
        "9999-01-01",
        "2026-02-24",
        "2026-03-04",
        "",
        20260303,
        ["2026-03-03"],
        "x" * 10**5,
    ):
        await refused(bank, "coord", "consult.place", {"c_id": c_id, "day": day}, "sv")
    for data in (
        {"speciality": "astrology", "person_id": outi},
        {"speciality": ["police"], "person_id": niina},
        {"speciality": "police", "expert_police": "abc"},
        {"speciality": "police", "expert_police": 10**30},
        {"speciality": "police", "expert_police": -3},
        {"speciality": "police", "expert_police": str(niina)},  # not a police expert
        {"speciality": "police", "expert_police": str(nils)},  # declined already
        {"speciality": "law", "expert_law": str(await person_id(bank, "olli"))},  # the requester
    ):
        await refused(bank, "coord", "consult.ask", {"c_id": c_id, **data}, "fi")
    for year in ("abc", 10**30, 1999, -5, [2026]):
        await refused(bank, "coord", "consult.figures", {"year": year}, "fi")


# -- stale cards and replays ------------------------------------------------------------------


async def test_replays_and_stale_cards_change_nothing(team: Bank) -> None:
    bank = team
    c_id = await on_agenda(bank)
    outi = await person_id(bank, "outi")
    # The same click twice with the same activity id: the second does nothing.
    data = meeting(c_id, str(outi))
    await click(bank, "coord", "consult.answer", data, id="answer-once")
    async with Unchanged(bank):
        status_code, _ = await bank.teams.post(
            bank.teams.click_activity(
                "coord", "consult.answer", data, where="personal", id="answer-once"
            )
        )
    assert status_code == 200
    # Answered: answering again, placing, asking, withdrawing are refused.
    await refused(bank, "kalle", "consult.answer", {**data, "answer": "Another"})
    await refused(bank, "coord", "consult.place", {"c_id": c_id, "day": "2026-03-10"})
    await refused(bank, "olli", "consult.withdraw", {"c_id": c_id})

    # A withdrawn request is answered, placed, asked about and replied to by nobody.
    other = await send(bank)
    await click(bank, "coord", "consult.place", {"c_id": other, "day": "2026-03-03"})
    await click(
        bank,
        "coord",
        "consult.ask",
        {"c_id": other, "speciality": "law", "expert_law": str(await person_id(bank, "niina"))},
    )
    await click(bank, "olli", "consult.withdraw", {"c_id": other})
    assert await status(bank, other) is Status.WITHDRAWN
    await refused(bank, "olli", "consult.withdraw", {"c_id": other})
    await refused(bank, "niina", "consult.accept", {"c_id": other})
    await refused(bank, "coord", "consult.place", {"c_id": other, "day": "2026-03-10"})
    await refused(
        bank, "coord", "consult.answer", {"c_id": other, "answer_kind": "written", "answer": "x"}
    )
    await refused(bank, "coord", "consult.approve", {"c_id": other})


async def test_two_coordinators_at_once_leave_one_answer(team: Bank) -> None:
    bank = team
    c_id = await on_agenda(bank)
    outi = await person_id(bank, "outi")
    cards = await asyncio.gather(
        click(bank, "coord", "consult.answer", meeting(c_id, str(outi), answer="First")),
        click(
            bank,
            "kalle",
            "consult.answer",
            meeting(c_id, str(outi), answer="Second", meeting_time="13:00"),
        ),
    )
    for card in cards:
        refusal_or_done = words(card)
        assert t("en", "error.unexpected") not in refusal_or_done
    uow = bank.sopu.uow()
    async with uow:
        found = await uow.consultations.get(c_id)
        lines = await uow.consultations.journal(c_id)
    assert found is not None and found.answer is not None
    assert [e.kind for e in lines].count("answered") == 1
    # Two coordinators place one request on one day at once: it is placed once.
    other = await send(bank)
    cards = await asyncio.gather(
        click(bank, "coord", "consult.place", {"c_id": other, "day": "2026-03-03"}),
        click(bank, "kalle", "consult.place", {"c_id": other, "day": "2026-03-03"}),
    )
    for card in cards:
        assert t("en", "error.unexpected") not in words(card)
    async with uow:
        lines = await uow.consultations.journal(other)
    assert [e.kind for e in lines].count("placed") == 1


# -- who may do what ----------------------------------------------------------------------------


async def test_people_without_the_role_are_refused(team: Bank) -> None:
    bank = team
    c_id = await on_agenda(bank)
    outi = await person_id(bank, "outi")
    for key in ("stranger", "lasse", "sari"):
        for verb in (*ID_VERBS, "consult.new", "consult.send", "consult.list", "consult.figures"):
            shown = await refused(bank, key, verb, {"c_id": c_id}, "fi")
            assert QUESTION not in shown
        # A whole form: refused as who they are, not for what they typed.
        shown = await refused(
            bank,
            key,
            "consult.send",
            {
                "region": "Kerava",
                "categories": "other",
                "question": "Q?",
                "consent": "true",
                "consent_date": "2026-03-01",
            },
            "fi",
        )
        assert "consult.send" not in str(shown)
    # Mediators who are not coordinators: the requester and an expert who accepted.
    for key in ("olli", "outi"):
        for verb, data in (
            ("consult.place", {"c_id": c_id, "day": "2026-03-10"}),
            ("consult.ask", {"c_id": c_id, "speciality": "law", "expert_law": "4"}),
            ("consult.answer", meeting(c_id, str(outi))),
            ("consult.approve", {"c_id": c_id}),
            ("consult.figures", {}),
        ):
            await refused(bank, key, verb, data, "fi")
    # Olli asks Outi's question as if he were the one asked; Outi withdraws Olli's request.
    await refused(bank, "olli", "consult.accept", {"c_id": c_id})
    await refused(bank, "outi", "consult.withdraw", {"c_id": c_id})


async def test_who_declined_or_has_no_part_never_reads_the_request_or_the_answer(
    team: Bank,
) -> None:
    bank = team
    c_id = await on_agenda(bank)
    outi = await person_id(bank, "outi")
    await click(bank, "coord", "consult.answer", meeting(c_id, str(outi)))
    for key in ("nils", "niina", "sven", "sari", "lasse", "stranger"):
        for verb in ID_VERBS:
            async with Unchanged(bank):
                card = await click(bank, key, verb, {"c_id": c_id})
            shown = str(card)
            assert QUESTION not in shown and ANSWER not in shown, (key, verb)
            assert "Family counselling has met" not in shown, (key, verb)
        listing = await click(bank, key, "consult.list", {})
        assert QUESTION not in str(listing) and ANSWER not in str(listing)
    # The expert who took part reads both; the journal says so.
    opened = await click(bank, "outi", "consult.answer_show", {"c_id": c_id})
    assert ANSWER in words(opened)


async def test_the_verbs_in_a_channel_show_nothing(team: Bank) -> None:
    bank = team
    await bank.setup()
    c_id = await on_agenda(bank)
    for verb in (*ID_VERBS, "consult.new", "consult.send", "consult.list", "consult.figures"):
        async with Unchanged(bank):
            card = await bank.teams.click("coord", verb, {"c_id": c_id, "question": QUESTION})
        assert t("en", "error.personal_data_only") in words(card), verb
        assert QUESTION not in str(card)


# -- logs -------------------------------------------------------------------------------------

CANARY = "Kanarialintu"


@pytest.fixture
def caught(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG):
        yield caplog


def leaks(caplog: pytest.LogCaptureFixture) -> list[str]:
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return [
        line
        for line in (formatter.format(r) for r in caplog.records)
        if CANARY.lower() in line.lower()
    ]


async def test_typed_texts_never_reach_a_log(team: Bank, caught: pytest.LogCaptureFixture) -> None:
    bank = team
    c_id = await send(
        bank,
        question=f"Question {CANARY}",
        background=f"Background {CANARY}",
        consent="false",
        justification=f"Justification {CANARY}",
    )
    await click(bank, "kalle", "consult.approve", {"c_id": c_id})
    await click(bank, "coord", "consult.place", {"c_id": c_id, "day": "2026-03-03"})
    outi = await person_id(bank, "outi")
    await click(
        bank,
        "coord",
        "consult.ask",
        {"c_id": c_id, "speciality": "child_psychiatry", "expert_child_psychiatry": str(outi)},
    )
    await click(bank, "outi", "consult.accept", {"c_id": c_id})
    # Refused forms carry the canary too.
    await click(bank, "olli", "consult.send", {"question": f"{CANARY}\x01", "region": "Kerava"})
    await click(
        bank,
        "coord",
        "consult.answer",
        meeting(c_id, str(outi), answer=f"Answer {CANARY}", meeting_time="10:15"),
    )
    # A failure forced inside the database while the answer is saved.
    engine = create_engine(bank.sopu.settings.database_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "CREATE TRIGGER no_canary BEFORE UPDATE ON consultation "
                    f"WHEN NEW.answer_text LIKE '%{CANARY}%' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by a test trigger'); END"
                )
            )
    finally:
        await engine.dispose()
    card = await click(
        bank,
        "coord",
        "consult.answer",
        meeting(c_id, str(outi), answer=f"Answer {CANARY}", meeting_place=f"Place {CANARY}"),
    )
    assert t("en", "error.unexpected") in words(card)
    assert any(r.exc_info or "failed" in r.getMessage() for r in caught.records)
    assert not leaks(caught)
    assert await status(bank, c_id) is Status.ON_AGENDA


async def test_no_one_but_a_coordinator_makes_the_experts_calendars_be_read(
    team: Bank, monkeypatch: pytest.MonkeyPatch
) -> None:
    bank = team
    c_id = await on_agenda(bank)
    outi = await person_id(bank, "outi")
    calendar = bank.sopu.deps.calendar.deps.calendar
    asked: list[Any] = []
    real = calendar.schedules

    async def schedules(*args: Any, **kwargs: Any) -> Any:
        asked.append(args)
        return await real(*args, **kwargs)

    monkeypatch.setattr(calendar, "schedules", schedules)
    for key, refusal_key in (
        ("olli", "consult.error.coordinators_only"),
        ("outi", "consult.error.coordinators_only"),
        ("niina", "consult.error.coordinators_only"),
        ("stranger", None),
    ):
        shown = await refused(bank, key, "consult.answer", meeting(c_id, str(outi)))
        if refusal_key is not None:
            assert t("en", refusal_key) in shown, (key, shown)
        assert not asked, key
    await click(bank, "coord", "consult.answer", meeting(c_id, str(outi)))
    assert asked
