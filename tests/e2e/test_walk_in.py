"""Walk-in shifts and phone hours through HTTP, against the fake Teams: the rota filled by its
job, a swap between two workers with nobody approving, the reminder the day before, visits
recorded once each, a referral to mediation reaching the coordinators' intake, the figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from cards.i18n import t
from jobs import shift_reminders, walk_in_rota
from mediation.case_types import WALK_IN_SERVICE
from mediation.model import Mediator, Role
from mediation.walk_in import Shift, ShiftKind
from tests.e2e.conftest import Bank, Unchanged, verbs_on, words

WORKERS = ("coord", "olli", "outi", "niina", "nils", "sven")


async def click(bank: Bank, key: str, verb: str, data: dict[str, Any]) -> dict[str, Any]:
    return await bank.teams.click(key, verb, data, where="personal")


def button(card: dict[str, Any], verb: str) -> dict[str, Any]:
    """The data of the first button of ``verb`` on a card, at any depth."""
    found: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("verb") == verb:
                found.append(node["data"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(card)
    assert found, f"no {verb} button"
    return found[0]


async def shifts(bank: Bank, kind: ShiftKind = ShiftKind.WALK_IN) -> list[Shift]:
    uow = bank.sopu.uow()
    async with uow:
        found = await uow.walk_in.shifts(datetime(2026, 1, 1).date(), datetime(2026, 12, 31).date())
    return [s for s in found if s.kind is kind]


async def key_of(bank: Bank, person_id: int | None) -> str:
    for key in WORKERS:
        if (await bank.mediator(key)).id == person_id:
            return key
    raise AssertionError(person_id)


async def visit_rows(bank: Bank) -> int:
    uow = bank.sopu.uow()
    async with uow:
        first = await shifts(bank)
        return len(await uow.walk_in.visits([s.id for s in first if s.id is not None]))


@pytest.fixture
async def unit(bank: Bank) -> Bank:
    """The bank with an office secretary (a booker) for the phone hours."""
    uow = bank.sopu.uow()
    async with uow:
        await uow.mediators.add(
            Mediator(
                "cccccccc-0000-4000-8000-000000000010",
                "Sari Sihteeri",
                "sari@example.org",
                "Hyvinkää",
                frozenset({"fi"}),
                role=Role.BOOKER,
            )
        )
        # The unit's workers: the registry records their walk-in duty.
        for person in await uow.mediators.list(active_only=True):
            if person.id is not None and not person.is_booker:
                await uow.qualifications.set(person.id, frozenset({WALK_IN_SERVICE}))
        await uow.commit()
    return bank


async def test_a_shift_with_a_swap_a_reminder_and_visits(unit: Bank) -> None:
    bank = unit
    ctx = bank.sopu.jobs.services.context
    assert await walk_in_rota.run(ctx) > 0
    assert await walk_in_rota.run(ctx) == 0
    walk_ins = await shifts(bank)
    assert [s.day.isoformat() for s in walk_ins][:2] == ["2026-03-05", "2026-03-12"]
    assert len({s.worker_id for s in walk_ins}) == len(walk_ins)  # six workers, four shifts
    phones = await shifts(bank, ShiftKind.PHONE)
    assert {s.worker_id for s in phones} == {(await booker_id(bank))}

    # The typed command answers with the rota; in Finnish too.
    rota = await bank.teams.ask("olli", "vuorot", locale="fi-FI")
    assert t("fi", "shift.rota.title") in words(rota)
    first = walk_ins[0]
    worker = await key_of(bank, first.worker_id)
    colleague = next(k for k in WORKERS if k not in (worker, "coord"))
    colleague_id = (await bank.mediator(colleague)).id

    # The worker offers the shift; the colleague gets the offer in personal chat.
    card = await click(bank, worker, "shift.show", {"shift_id": first.id})
    assert "shift.offer" in verbs_on(card)
    before = len(bank.connector.log)
    await click(bank, worker, "shift.offer", {"shift_id": first.id, "to_id": str(colleague_id)})
    (note,) = bank.personal(colleague, before)
    assert note.card is not None and "shift.accept" in verbs_on(note.card)
    swap = button(note.card, "shift.accept")
    # Nobody else answers it: not a third worker, not a coordinator.
    third = next(k for k in WORKERS if k not in (worker, colleague, "coord"))
    for key in (third, "coord", "stranger"):
        async with Unchanged(bank):
            await click(bank, key, "shift.accept", swap)
    before = len(bank.connector.log)
    accepted = await click(bank, colleague, "shift.accept", swap)
    assert t("en", "shift.accepted_ok") in words(accepted)
    assert (await shifts(bank))[0].worker_id == colleague_id
    (told,) = bank.personal(worker, before)
    assert told.card is not None and "accepted" in words(told.card)
    # A second click, or a stale decline, changes nothing.
    async with Unchanged(bank):
        await click(bank, colleague, "shift.accept", swap)
    async with Unchanged(bank):
        stale = await click(bank, colleague, "shift.decline", swap)
    assert t("en", "error.shift.swap_accepted") in words(stale)

    # The day before, the new worker is reminded, once.
    bank.clock.set(datetime(2026, 3, 4, 7, 0, tzinfo=UTC))
    before = len(bank.connector.log)
    assert await shift_reminders.run(ctx) == 2  # tomorrow's walk-in, today's phone hour
    assert await shift_reminders.run(ctx) == 0
    await bank.sopu.jobs.sender.settled()
    (reminder,) = bank.personal(colleague, before)
    assert reminder.card is not None and "visit.record" not in verbs_on(reminder.card)

    # During the shift, visits in a few taps; the same form twice records one visit.
    bank.clock.set(first.starts_at + timedelta(minutes=40))
    card = await click(bank, colleague, "shift.show", {"shift_id": first.id})
    record = button(card, "visit.record")
    assert record["form_id"]
    visit = {**record, "kind": "advice", "minutes": "30", "referral": "no", "booked": "false"}
    card = await click(bank, colleague, "visit.record", visit)
    assert t("en", "visit.recorded") in words(card)
    async with Unchanged(bank):
        await click(bank, colleague, "visit.record", visit)
    assert await visit_rows(bank) == 1
    # Nobody else records on it; minutes out of range are refused on the card.
    async with Unchanged(bank):
        await click(bank, worker, "visit.record", {**visit, "form_id": "x1"})
    # Without the form's id a visit sent twice would count twice: refused, nothing saved.
    unmarked = {k: v for k, v in visit.items() if k != "form_id"}
    async with Unchanged(bank):
        refused = await click(bank, colleague, "visit.record", unmarked)
    assert t("en", "error.unmarked_form") in words(refused)
    async with Unchanged(bank):
        refused = await click(bank, colleague, "visit.record", {**visit, "minutes": "500"})
    assert t("en", "error.shift.minutes", low=5, high=240) in words(refused)

    # A quick agreement referred to mediation: the coordinators get the intake form.
    before = len(bank.connector.log)
    referral = {
        **button(card, "visit.record"),
        "kind": "agreement",
        "minutes": "45",
        "referral": "mediation",
        "booked": "true",
    }
    card = await click(bank, colleague, "visit.record", referral)
    assert t("en", "visit.recorded_referred") in words(card)
    await bank.sopu.jobs.sender.settled()
    (intake,) = bank.personal("coord", before)
    assert intake.card is not None and "case.create" in verbs_on(intake.card)
    assert "walk_in" in str(intake.card)
    assert await visit_rows(bank) == 2

    # The coordinators' figures.
    figures = await click(bank, "coord", "shifts.figures", {})
    shown = words(figures)
    assert "2 (2.0 per shift)" in shown and "50 %" in shown
    async with Unchanged(bank):
        await click(bank, colleague, "shifts.figures", {})


async def booker_id(bank: Bank) -> int | None:
    uow = bank.sopu.uow()
    async with uow:
        found = await uow.mediators.by_aad("cccccccc-0000-4000-8000-000000000010")
    return found.id if found is not None else None


async def test_shifts_stay_in_personal_chat_and_forged_data_changes_nothing(unit: Bank) -> None:
    bank = unit
    await walk_in_rota.run(bank.sopu.jobs.services.context)
    coordinator = (await bank.mediator("coord")).id
    first = next(s for s in await shifts(bank) if s.worker_id != coordinator)
    worker = await key_of(bank, first.worker_id)
    async with Unchanged(bank):
        card = await bank.teams.click(worker, "shift.show", {"shift_id": first.id})
    assert t("en", "error.personal_data_only") in words(card)
    for key, verb, data in (
        ("stranger", "shifts.show", {}),
        ("olli", "shift.show", {"shift_id": "1; drop"}),
        ("olli", "shift.accept", {"swap_id": 10**30}),
        (worker, "shift.offer", {"shift_id": first.id, "to_id": "999"}),
        (worker, "shift.offer", {"shift_id": first.id, "to_id": str(await booker_id(bank))}),
        (worker, "shift.assign", {"shift_id": first.id, "worker_id": "2"}),
        (worker, "visit.record", {"shift_id": first.id, "kind": "astrology", "referral": "no"}),
    ):
        async with Unchanged(bank):
            await click(bank, key, verb, data)
