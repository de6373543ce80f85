"""Consultation requests to the expert team through HTTP, against the fake Teams: a request
with the family's consent onto a day's agenda, experts asked who accept or decline, the
answer opened by the requester and journaled; the urgent route; strangers and forged data."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.settings import Settings
from cards.i18n import t
from mediation.consultation import Status
from tests.clock import FixedClock
from tests.e2e.conftest import Bank, Unchanged, running, verbs_on, words
from tests.fakes.connector import FakeConnector

EXPERTS = {
    "outi": {"child_psychiatry"},
    "niina": {"district_court", "law"},
    "nils": {"police"},
}
QUESTION = "How can the child's contact with the other parent continue safely?"


@pytest.fixture
async def team(
    connector: FakeConnector, clock: FixedClock, e2e_settings: Settings
) -> AsyncIterator[Bank]:
    """A running Sopu whose registry has experts by speciality; Kaisa coordinates."""
    async with running(e2e_settings, connector, clock) as bank:
        uow = bank.sopu.uow()
        async with uow:
            for key, specialities in EXPERTS.items():
                person = await uow.mediators.by_aad(bank.teams.person(key).aad)
                assert person is not None and person.id is not None
                await uow.qualifications.set(person.id, frozenset(specialities))
            await uow.commit()
        yield bank


async def click(bank: Bank, key: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    return await bank.teams.click(key, verb, data, where="personal")


async def person_id(bank: Bank, key: str) -> int:
    found = (await bank.mediator(key)).id
    assert found is not None
    return found


async def newest(bank: Bank) -> int:
    uow = bank.sopu.uow()
    async with uow:
        found = await uow.consultations.with_status(list(Status))
    assert found and found[-1].id is not None
    return found[-1].id


async def journal(bank: Bank, c_id: int) -> list[tuple[str, int | None, dict[str, Any]]]:
    uow = bank.sopu.uow()
    async with uow:
        return [(e.kind, e.actor_id, dict(e.detail)) for e in await uow.consultations.journal(c_id)]


async def notes(bank: Bank, key: str, after: int) -> list[dict[str, Any]]:
    await bank.sopu.jobs.sender.settled()
    return [s.card for s in bank.personal(key, after) if s.card is not None]


async def test_a_whole_consultation_from_consent_to_the_answer_read(team: Bank) -> None:
    bank = team
    form = await click(bank, "olli", "consult.new", {})
    assert "consult.send" in verbs_on(form) and "background" in str(form)
    before = len(bank.connector.log)
    sent = await click(
        bank,
        "olli",
        "consult.send",
        {
            "urgent": False,
            "region": "Kerava",
            "categories": "alienation,repeated_court_cases",
            "question": QUESTION,
            "background": "Family counselling has met the parents twice.",
            "birth_years": "2014, 2017",
            "consent": "true",
            "consent_date": "2026-02-27",
        },
    )
    c_id = await newest(bank)
    assert "2026-K001" in words(sent) and QUESTION in words(sent)
    # The coordinator is told; the request waits for a day.
    (note,) = await notes(bank, "coord", before)
    assert "consult.place" in verbs_on(note) and QUESTION in words(note)

    # On the agenda of the next consultation day (Tuesday 3 March).
    before = len(bank.connector.log)
    placed = await click(bank, "coord", "consult.place", {"c_id": c_id, "day": "2026-03-03"})
    assert "consult.ask" in verbs_on(placed)
    (told,) = await notes(bank, "olli", before)
    assert t("en", "consult.note.placed", code="2026-K001", day="2026-03-03") in words(told)

    # Experts asked: Outi for child psychiatry, Nils for the police; Niina for the court.
    outi, niina, nils = [await person_id(bank, k) for k in ("outi", "niina", "nils")]
    before = len(bank.connector.log)
    for speciality, who in (
        ("child_psychiatry", outi),
        ("police", nils),
        ("district_court", niina),
    ):
        await click(
            bank,
            "coord",
            "consult.ask",
            {"c_id": c_id, "speciality": speciality, f"expert_{speciality}": str(who)},
        )
    (asked,) = await notes(bank, "outi", before)
    assert "consult.accept" in verbs_on(asked) and QUESTION in words(asked)
    assert "Olli" in words(asked)  # the requester, a professional; no family is named
    await click(bank, "outi", "consult.accept", {"c_id": c_id})
    await click(bank, "niina", "consult.accept", {"c_id": c_id})
    declined = await click(bank, "nils", "consult.decline", {"c_id": c_id})
    assert QUESTION not in words(declined)
    async with Unchanged(bank):
        await click(bank, "nils", "consult.decline", {"c_id": c_id})
    async with Unchanged(bank):
        await click(bank, "nils", "consult.accept", {"c_id": c_id})

    # The answer: a client meeting with the judge and the child psychiatrist.
    before = len(bank.connector.log)
    answered = await click(
        bank,
        "coord",
        "consult.answer",
        {
            "c_id": c_id,
            "answer_kind": "client_meeting",
            "answer": "One intervention meeting with the family.",
            "meeting_day": "2026-03-12",
            "meeting_time": "10:00",
            "meeting_place": "Family counselling, Kerava",
            "attendees": f"{outi},{niina}",
        },
    )
    assert t("en", "consult.answered_ok") in words(answered)
    (told,) = await notes(bank, "olli", before)
    assert "consult.answer_show" in verbs_on(told)
    assert "One intervention meeting" not in words(told), "opened on its own card"
    assert await notes(bank, "outi", before), "a client meeting's expert is told"
    # The meeting is in the coordinator's calendar with the two experts, the family unnamed.
    events = bank.sopu.deps.calendar.events
    assert events is not None
    start = datetime(2026, 3, 12, 8, 0, tzinfo=UTC)  # 10:00 in Helsinki
    (event,) = await events.between(["coord@example.org"], start, start + timedelta(hours=2))
    assert (event.starts_at, event.ends_at - event.starts_at) == (start, timedelta(minutes=90))
    assert set(event.attendees) == {"outi@example.org", "niina@example.org"}
    assert event.subject == t("en", "consult.event.subject", code="2026-K001")

    # The requester opens the answer; the journal keeps who saw what.
    opened = await click(bank, "olli", "consult.answer_show", {"c_id": c_id})
    assert "One intervention meeting" in words(opened) and "12:00" not in words(opened)
    assert "10:00" in words(opened)
    async with Unchanged(bank):
        refused = await click(bank, "nils", "consult.answer_show", {"c_id": c_id})
    assert "One intervention meeting" not in words(refused)
    olli = await person_id(bank, "olli")
    lines = await journal(bank, c_id)
    kinds = [k for k, _a, _d in lines]
    assert kinds[0] == "sent" and kinds.index("placed") < kinds.index("answered")
    assert ("seen", olli, {"what": "answer"}) in lines
    assert ("seen", outi, {"what": "request"}) in lines
    assert not any(a == nils and d.get("what") == "answer" for _k, a, d in lines)

    # The figures for the coordinators.
    figures = await click(bank, "coord", "consult.figures", {})
    assert t("en", "consult.category.alienation") in words(figures)
    async with Unchanged(bank):
        await click(bank, "olli", "consult.figures", {})


async def test_an_urgent_request_alerts_the_coordinators_at_once(team: Bank) -> None:
    bank = team
    form = await click(bank, "olli", "consult.new", {"urgent": True})
    assert "background" not in str(form)
    before = len(bank.connector.log)
    await click(
        bank,
        "olli",
        "consult.send",
        {
            "urgent": True,
            "region": "Hyvinkää",
            "categories": "abduction_threat",
            "question": "The father has said he will take the child abroad this week.",
            "justification": "The child is in danger; the family cannot be asked now.",
        },
    )
    c_id = await newest(bank)
    (alert,) = await notes(bank, "coord", before)
    assert t("en", "consult.note.urgent", code="2026-K001") in words(alert)
    assert "consult.approve" in verbs_on(alert)
    # The list puts it on top; it waits for the exception's approval before anything else.
    listing = await click(bank, "coord", "consult.list", {})
    assert "URGENT" in words(listing)
    async with Unchanged(bank):
        await click(bank, "coord", "consult.place", {"c_id": c_id, "day": "2026-03-03"})
    async with Unchanged(bank):
        await click(bank, "olli", "consult.approve", {"c_id": c_id})
    approved = await click(bank, "coord", "consult.approve", {"c_id": c_id})
    assert "consult.answer" in verbs_on(approved)
    # An urgent request is answered at once: the mobile pair goes out.
    await click(
        bank,
        "coord",
        "consult.answer",
        {"c_id": c_id, "answer_kind": "mobile_pair", "answer": "The mobile pair visits today."},
    )
    opened = await click(bank, "olli", "consult.answer_show", {"c_id": c_id})
    assert "The mobile pair visits today." in words(opened)


async def test_strangers_and_forged_data_change_nothing(team: Bank) -> None:
    bank = team
    await click(
        bank,
        "olli",
        "consult.send",
        {
            "region": "Kerava",
            "categories": "other",
            "question": QUESTION,
            "consent": "true",
            "consent_date": "2026-03-01",
        },
    )
    c_id = await newest(bank)
    for key, verb, data in (
        ("stranger", "consult.show", {"c_id": c_id}),
        ("niina", "consult.show", {"c_id": c_id}),  # no part in it
        ("niina", "consult.place", {"c_id": c_id, "day": "2026-03-03"}),
        ("olli", "consult.place", {"c_id": c_id, "day": "2026-03-03"}),
        ("olli", "consult.show", {"c_id": "1; drop"}),
        ("olli", "consult.show", {"c_id": 10**30}),
        ("coord", "consult.place", {"c_id": c_id, "day": "2026-03-04"}),  # a Wednesday
        ("coord", "consult.ask", {"c_id": c_id, "speciality": "astrology", "person_id": 1}),
        (
            "olli",
            "consult.send",
            {"region": "Kerava", "categories": "other", "question": "Born 010203A123X"},
        ),
        (
            "olli",
            "consult.send",
            {"region": "Atlantis", "categories": "other", "question": "x", "consent": "true"},
        ),
    ):
        async with Unchanged(bank):
            card = await click(bank, key, verb, data)
        assert QUESTION not in words(card) or key in ("olli", "coord"), (verb, data)
    async with Unchanged(bank):
        card = await bank.teams.click("olli", "consult.show", {"c_id": c_id})
    assert t("en", "error.personal_data_only") in words(card)
