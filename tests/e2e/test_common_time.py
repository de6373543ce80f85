"""A family centre's common time through HTTP, against the fake Teams and the local calendar:
consent, invitations with a decline replaced, the meeting with a room, the plan for the
family's agreed parties only, and its follow-up."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from bot.settings import Settings
from cards.i18n import t
from jobs import common_time_follow_up
from mediation.common_time import Status
from mediation.organisations import Organisation, OrganisationKind
from tests.clock import FixedClock
from tests.e2e.conftest import Bank, Unchanged, running, verbs_on, words
from tests.fakes.connector import FakeConnector

ROOMS = ("Perhekeskus, huone 1", "Perhekeskus, huone 2")
TEAM = {
    "olli": {"family_counselling"},
    "outi": {"family_counselling", "child_welfare"},
    "niina": {"child_welfare"},
    "nils": {"speech_therapy"},
}


@pytest.fixture
async def centre(
    connector: FakeConnector, clock: FixedClock, e2e_settings: Settings
) -> AsyncIterator[Bank]:
    """A running Sopu with rooms, a team with competences and a municipal employer."""
    calendar = dataclasses.replace(e2e_settings.calendar, rooms=ROOMS)
    settings = dataclasses.replace(e2e_settings, calendar=calendar)
    async with running(settings, connector, clock) as bank:
        uow = bank.sopu.uow()
        async with uow:
            for key, competences in TEAM.items():
                person = await uow.mediators.by_aad(bank.teams.person(key).aad)
                assert person is not None and person.id is not None
                await uow.qualifications.set(person.id, frozenset(competences))
            await uow.organisations.save(Organisation("Hyvinkää", OrganisationKind.MUNICIPALITY))
            await uow.commit()
        yield bank


async def click(bank: Bank, key: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    return await bank.teams.click(key, verb, data, where="personal")


def action_data(card: dict[str, Any], verb: str) -> list[dict[str, Any]]:
    """The data of every button of ``verb`` on a card."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and verb in (node.get("verb"), data.get("verb")):
                found.append(data)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    return found


async def person_id(bank: Bank, key: str) -> int:
    found = (await bank.mediator(key)).id
    assert found is not None
    return found


async def common_time_id(bank: Bank) -> int:
    uow = bank.sopu.uow()
    async with uow:
        found = await uow.common_times.with_status(list(Status))
    assert found and found[-1].id is not None
    return found[-1].id


async def journal(bank: Bank, ct_id: int) -> list[tuple[str, int | None]]:
    uow = bank.sopu.uow()
    async with uow:
        return [(e.kind, e.actor_id) for e in await uow.common_times.journal(ct_id)]


async def held_common_time(bank: Bank, municipality: str = "Hyvinkää") -> int:
    """A common time the shortest way to its held meeting: convened with the family's
    consent, Olli invited and accepting, the first time booked, held with Outi named the
    responsible worker. Its id."""
    await click(
        bank,
        "coord",
        "commontime.convene",
        {
            "municipality": municipality,
            "competences": "family_counselling",
            "consent_convene": "true",
        },
    )
    ct = await common_time_id(bank)
    olli, outi = [str(await person_id(bank, k)) for k in ("olli", "outi")]
    invite = {"ct_id": ct, "competence": "family_counselling", "person_family_counselling": olli}
    await click(bank, "coord", "commontime.invite", invite)
    await click(bank, "olli", "commontime.accept", {"ct_id": ct})
    offered = await click(bank, "coord", "commontime.times", {"ct_id": ct, "kind": "common_time"})
    options = action_data(offered, "commontime.book")
    assert options, words(offered)
    await click(bank, "coord", "commontime.book", dict(options[0].items()))
    bank.clock.advance(days=3)
    held = await click(bank, "coord", "commontime.held", {"ct_id": ct, "responsible": outi})
    assert "commontime.plan" in verbs_on(held), words(held)
    return ct


async def test_a_whole_common_time_from_consent_to_follow_up(centre: Bank) -> None:
    bank = centre
    form = await click(bank, "coord", "commontime.new", {})
    assert "commontime.convene" in verbs_on(form)
    convened = await click(
        bank,
        "coord",
        "commontime.convene",
        {
            "municipality": "Hyvinkää",
            "competences": "family_counselling,child_welfare",
            "consent_convene": "true",
            "consent_share_plan": "true",
        },
    )
    ct = await common_time_id(bank)
    assert "commontime.invite" in verbs_on(convened)
    code = "2026-Y001"
    assert code in words(convened)

    # Invitations: Olli for family counselling, Niina for child welfare.
    olli, outi, niina = [await person_id(bank, k) for k in ("olli", "outi", "niina")]
    sent_before = len(bank.connector.log)
    card = await click(
        bank,
        "coord",
        "commontime.invite",
        {"ct_id": ct, "competence": "family_counselling", "person_family_counselling": str(olli)},
    )
    card = await click(
        bank,
        "coord",
        "commontime.invite",
        {"ct_id": ct, "competence": "child_welfare", "person_child_welfare": str(niina)},
    )
    assert "Olli Kokenut" in words(card) and "Niina Uusi" in words(card)
    # Each invitee got the card in personal chat, with their answer buttons.
    note = bank.personal("olli", sent_before)
    assert note and note[-1].card is not None
    assert "commontime.accept" in verbs_on(note[-1].card)

    await click(bank, "olli", "commontime.accept", {"ct_id": ct})
    declined = await click(bank, "niina", "commontime.decline", {"ct_id": ct})
    assert "commontime.accept" not in verbs_on(declined)
    # The same answer again changes nothing; the other answer is refused.
    async with Unchanged(bank):
        await click(bank, "niina", "commontime.decline", {"ct_id": ct})
    async with Unchanged(bank):
        await click(bank, "niina", "commontime.accept", {"ct_id": ct})

    # The decline is replaced: Outi is offered for child welfare, Niina is not.
    card = await click(bank, "coord", "commontime.show", {"ct_id": ct})
    choices = str(card)
    assert "Outi Osaava" in choices
    await click(
        bank,
        "coord",
        "commontime.invite",
        {"ct_id": ct, "competence": "child_welfare", "person_child_welfare": str(outi)},
    )
    await click(bank, "outi", "commontime.accept", {"ct_id": ct})

    # Times with a room, then the booking.
    offered = await click(bank, "coord", "commontime.times", {"ct_id": ct, "kind": "common_time"})
    options = action_data(offered, "commontime.book")
    assert options, words(offered)
    first = options[0]
    assert first["room"] in ROOMS
    booked = await click(bank, "coord", "commontime.book", dict(first.items()))
    assert first["room"] in words(booked)
    # The event is in the convener's calendar with the attendees and the room.
    events = bank.sopu.deps.calendar.events
    assert events is not None
    start = bank.clock.now() - timedelta(days=1)
    found = await events.between(["coord@example.org"], start, start + timedelta(days=60))
    assert len(found) == 1
    room = "room.perhekeskus,-huone-1@rooms.local"
    assert first["room"] == ROOMS[0]
    assert {"olli@example.org", "outi@example.org", room} <= set(found[0].attendees)
    # The room is taken at that time now.
    schedules = await bank.sopu.deps.calendar.deps.calendar.schedules(
        [room], found[0].starts_at, found[0].ends_at
    )
    assert schedules[0].blocks
    assert "Hyvinkää" not in found[0].subject and code in found[0].subject
    # A second booking of the same time is refused.
    async with Unchanged(bank):
        await click(bank, "coord", "commontime.book", dict(first.items()))

    # The meeting is held; the family names Outi the responsible worker.
    bank.clock.advance(days=3)
    held = await click(bank, "coord", "commontime.held", {"ct_id": ct, "responsible": str(outi)})
    assert "commontime.plan" in verbs_on(held)
    next_contact = (bank.clock.now() + timedelta(days=30)).date().isoformat()
    plan = {
        "ct_id": ct,
        "matters": "Mornings are hard; the child is late for day-care",
        "action_1_place": "home",
        "action_1_what": "A picture timetable for the mornings",
        "action_2_place": "elsewhere",
        "action_2_what": "Family work visits",
        "action_2_where": "Family centre",
        "follow_up_how": "A follow-up meeting in a month",
        "family_reaches_worker": "By phone on weekdays",
        "next_contact": next_contact,
        "shared_with": str(olli),
    }
    saved = await click(bank, "coord", "commontime.plan", plan)
    assert "A picture timetable" in words(saved)

    # Only the agreed parties read the plan, and each reading is journaled.
    for key in ("outi", "olli"):
        shown = await click(bank, key, "commontime.plan_show", {"ct_id": ct})
        assert "A picture timetable" in words(shown)
    async with Unchanged(bank):
        refused = await click(bank, "niina", "commontime.plan_show", {"ct_id": ct})
    assert "A picture timetable" not in words(refused)
    readers = [a for k, a in await journal(bank, ct) if k == "plan_read"]
    assert outi in readers and olli in readers and niina not in readers

    # Follow-up: the reminder comes before the next contact, then the actions are marked.
    bank.clock.advance(days=28)
    before = len(bank.connector.log)
    assert await common_time_follow_up.run(bank.sopu.jobs.services.context) == 1
    assert await common_time_follow_up.run(bank.sopu.jobs.services.context) == 0
    await bank.sopu.jobs.sender.settled()
    assert bank.personal("outi", before)
    # Outi books the follow-up meeting the same way: free times with a room.
    async with Unchanged(bank):  # only the responsible worker books it
        await click(bank, "coord", "commontime.times", {"ct_id": ct, "kind": "follow_up"})
    offered = await click(bank, "outi", "commontime.times", {"ct_id": ct, "kind": "follow_up"})
    (follow_up, *_) = action_data(offered, "commontime.book")
    assert follow_up["kind"] == "follow_up" and follow_up["room"] in ROOMS
    await click(bank, "outi", "commontime.book", dict(follow_up))
    later = bank.clock.now()
    booked = await events.between(["outi@example.org"], later, later + timedelta(days=60))
    assert len(booked) == 1 and booked[0].ends_at - booked[0].starts_at == timedelta(minutes=60)
    # Booked, the follow-up is no longer due for a reminder.
    uow = bank.sopu.uow()
    async with uow:
        pending = await uow.common_times.get(ct)
    assert pending is not None and not pending.reminder_due(later.date())
    for index in (0, 1):
        marked = await click(
            bank, "outi", "commontime.mark", {"ct_id": ct, "index": index, "done": index == 0}
        )
    assert "commontime.close" in verbs_on(marked)
    await click(bank, "outi", "commontime.close", {"ct_id": ct})
    uow = bank.sopu.uow()
    async with uow:
        stored = await uow.common_times.get(ct)
    assert stored is not None and stored.status.value == "closed"
    assert stored.followed_up()


async def test_convening_without_consent_waits_for_a_coordinator(centre: Bank) -> None:
    bank = centre
    data = {"municipality": "Hyvinkää", "competences": "family_counselling"}
    async with Unchanged(bank):
        refused = await click(bank, "olli", "commontime.convene", data)
    assert t("en", "problem.required") in words(refused) or "justification" in str(refused)
    await click(
        bank, "olli", "commontime.convene", {**data, "justification": "The child is at risk."}
    )
    ct = await common_time_id(bank)
    outi = await person_id(bank, "outi")
    invite = {"ct_id": ct, "competence": "family_counselling", "person_id": outi}
    async with Unchanged(bank):
        await click(bank, "olli", "commontime.invite", invite)
    # The convener cannot approve their own exception; a coordinator can.
    async with Unchanged(bank):
        await click(bank, "olli", "commontime.approve", {"ct_id": ct, "step": "convene"})
    approved = await click(bank, "coord", "commontime.approve", {"ct_id": ct, "step": "convene"})
    assert "The child is at risk." in words(approved)
    await click(bank, "olli", "commontime.invite", invite)


async def test_strangers_and_forged_data_change_nothing(centre: Bank) -> None:
    bank = centre
    await click(
        bank,
        "olli",
        "commontime.convene",
        {
            "municipality": "Hyvinkää",
            "competences": "family_counselling",
            "consent_convene": "true",
        },
    )
    ct = await common_time_id(bank)
    for key, verb, data in (
        ("stranger", "commontime.show", {"ct_id": ct}),
        ("niina", "commontime.show", {"ct_id": ct}),  # no part in it
        ("niina", "commontime.cancel", {"ct_id": ct}),
        ("olli", "commontime.show", {"ct_id": "1; drop"}),
        ("olli", "commontime.show", {"ct_id": 10**30}),
        ("olli", "commontime.invite", {"ct_id": ct, "competence": "astrology", "person_id": 1}),
        ("olli", "commontime.times", {"ct_id": ct, "kind": "party"}),
        (
            "olli",
            "commontime.book",
            {"ct_id": ct, "kind": "common_time", "start": "x", "room": ROOMS[0]},
        ),
        (
            "olli",
            "commontime.convene",
            {
                "municipality": "A\x07B",  # (a NUL is refused at the gate: HTTP 400)
                "competences": "family_counselling",
                "consent_convene": "true",
            },
        ),
    ):
        async with Unchanged(bank):
            card = await click(bank, key, verb, data)
        assert "Hyvinkää" not in words(card) or key == "olli", (verb, data)
    # In a channel a common time is never shown.
    async with Unchanged(bank):
        card = await bank.teams.click("olli", "commontime.show", {"ct_id": ct})
    assert t("en", "error.personal_data_only") in words(card)
