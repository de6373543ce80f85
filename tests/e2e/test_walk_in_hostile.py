"""Walk-in shifts and phone hours under attack, over HTTP: every verb with ids and values of
the wrong kind, stale offers and late visits, people off the rota or with the wrong role,
the channel.

Each probe has one defined answer: a refusal card in the clicker's language (never the
"unexpected error" card) and nothing changed in the bank, nothing sent.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cards.i18n import Lang, t
from jobs import walk_in_rota
from mediation.case_types import WALK_IN_SERVICE
from mediation.model import Mediator, Role
from mediation.walk_in import Shift, ShiftKind
from tests.e2e.conftest import Bank, Unchanged, verbs_on, words
from tests.e2e.test_walk_in import WORKERS, button, key_of, shifts, visit_rows

BOOKER = "cccccccc-0000-4000-8000-000000000010"
VERBS = (
    "shifts.show",
    "shifts.figures",
    "shift.show",
    "shift.offer",
    "shift.accept",
    "shift.decline",
    "shift.withdraw",
    "shift.assign",
    "visit.record",
    "visit.remove",
)
BAD_IDS: list[Any] = ["abc", 1.5, True, [1], {"id": 1}, 10**30, -1, "1.0", "", None]
LOCALES: dict[Lang, str] = {"fi": "fi-FI", "sv": "sv-SE", "en": "en-US"}


@pytest.fixture
async def unit(bank: Bank) -> Bank:
    """The rota filled: the unit's workers have the walk-in duty, Sari staffs the phones."""
    uow = bank.sopu.uow()
    async with uow:
        await uow.mediators.add(
            Mediator(
                BOOKER,
                "Sari Sihteeri",
                "sari@example.org",
                "Hyvinkää",
                frozenset({"fi"}),
                role=Role.BOOKER,
            )
        )
        for person in await uow.mediators.list(active_only=True):
            if person.id is not None and not person.is_booker:
                await uow.qualifications.set(person.id, frozenset({WALK_IN_SERVICE}))
        await uow.commit()
    bank.teams.people["sari"] = type(bank.teams.person("olli"))(
        "sari", "Sari Sihteeri", BOOKER, "29:sari"
    )
    bank.connector.teams_ids[BOOKER] = "29:sari"
    await walk_in_rota.run(bank.sopu.jobs.services.context)
    bank.connector.log.clear()
    return bank


async def click(
    bank: Bank, key: str, verb: str, data: Any, lang: Lang = "en", **extra: Any
) -> dict[str, Any]:
    return await bank.teams.click(key, verb, data, where="personal", locale=LOCALES[lang], **extra)


async def refused(bank: Bank, key: str, verb: str, data: Any, lang: Lang = "en") -> str:
    async with Unchanged(bank):
        card = await click(bank, key, verb, data, lang)
    shown = words(card)
    assert t(lang, "error.unexpected") not in shown, (verb, data, shown[:300])
    assert shown.strip()
    return shown


async def first_shift(bank: Bank) -> tuple[Shift, str]:
    """The first walk-in shift whose worker is not the coordinator, and that worker's key."""
    coordinator = (await bank.mediator("coord")).id
    shift = next(s for s in await shifts(bank) if s.worker_id != coordinator)
    return shift, await key_of(bank, shift.worker_id)


async def offered(bank: Bank) -> tuple[Shift, str, str, dict[str, Any]]:
    """The first shift offered by its worker to a colleague: the shift, both, the swap."""
    shift, worker = await first_shift(bank)
    colleague = next(k for k in WORKERS if k not in (worker, "coord"))
    to_id = (await bank.mediator(colleague)).id
    before = len(bank.connector.log)
    await click(bank, worker, "shift.offer", {"shift_id": shift.id, "to_id": str(to_id)})
    await bank.sopu.jobs.sender.settled()
    (note,) = bank.personal(colleague, before)
    assert note.card is not None
    return shift, worker, colleague, button(note.card, "shift.accept")


async def test_every_verb_with_an_unreadable_or_foreign_id_is_refused(unit: Bank) -> None:
    bank = unit
    shift, worker, colleague, swap = await offered(bank)
    third = next(k for k in WORKERS if k not in (worker, colleague, "coord"))
    for bad in BAD_IDS:
        for key, value in (("shift_id", bad), ("swap_id", bad)):
            for verb in VERBS[2:]:
                await refused(bank, worker, verb, {key: value, "visit_id": 1}, "fi")
        for who, verb, field in (
            (worker, "shift.offer", "to_id"),
            (worker, "shift.offer", "return_shift_id"),
            ("coord", "shift.assign", "worker_id"),
            (worker, "visit.remove", "visit_id"),
        ):
            data = {"shift_id": shift.id, "to_id": "2", field: bad}
            await refused(bank, who, verb, data, "sv")
    # A shift, a swap, a visit the clicker has no part in.
    for verb, data in (
        ("shift.show", {"shift_id": shift.id}),
        ("shift.offer", {"shift_id": shift.id, "to_id": "3"}),
        ("shift.accept", swap),
        ("shift.decline", swap),
        ("shift.withdraw", swap),
        ("visit.record", {"shift_id": shift.id, "kind": "advice", "minutes": 30, "referral": "no"}),
        ("visit.remove", {"shift_id": shift.id, "visit_id": 1}),
    ):
        await refused(bank, third, verb, data, "fi")
        await refused(bank, "sari", verb, data, "fi")


async def test_visits_refuse_values_out_of_range(unit: Bank) -> None:
    bank = unit
    shift, worker = await first_shift(bank)
    bank.clock.set(shift.starts_at + timedelta(minutes=30))
    card = await click(bank, worker, "shift.show", {"shift_id": shift.id})
    form = button(card, "visit.record")
    good = {**form, "kind": "advice", "minutes": "30", "referral": "no", "booked": "false"}
    for minutes in (0, 4, 241, -5, "30.5", 1e9, 10**30, [30], True, "", "٣٠", "x" * 100_000):
        await refused(bank, worker, "visit.record", {**good, "minutes": minutes}, "fi")
    for key in ("kind", "referral"):
        for bad in ("astrology", ["advice"], {"a": 1}, "x" * 100_000, "no\x01", "", 3):
            await refused(bank, worker, "visit.record", {**good, key: bad}, "sv")
    for bad in (["x"], {"a": 1}, "x" * 100_000, 7):
        await refused(bank, worker, "visit.record", {**good, "form_id": bad})
    assert await visit_rows(bank) == 0
    # The same click twice with one activity id records one visit.
    await click(bank, worker, "visit.record", good, id="visit-once")
    async with Unchanged(bank):
        await bank.teams.post(
            bank.teams.click_activity(
                worker, "visit.record", good, where="personal", id="visit-once"
            )
        )
    assert await visit_rows(bank) == 1
    for year in ("abc", 10**30, 1999, 9999, -5, [2026]):
        await refused(bank, "coord", "shifts.figures", {"year": year}, "fi")


async def test_stale_offers_and_late_visits_change_nothing(unit: Bank) -> None:
    bank = unit
    shift, worker, colleague, swap = await offered(bank)
    # Withdrawn, then accepted from the old note: refused.
    await click(bank, worker, "shift.withdraw", swap)
    await refused(bank, colleague, "shift.accept", swap, "fi")
    await refused(bank, colleague, "shift.decline", swap, "fi")
    # A fresh offer, accepted only after the shift began: refused.
    to_id = (await bank.mediator(colleague)).id
    before = len(bank.connector.log)
    await click(bank, worker, "shift.offer", {"shift_id": shift.id, "to_id": str(to_id)})
    await bank.sopu.jobs.sender.settled()
    (note,) = bank.personal(colleague, before)
    assert note.card is not None
    late = button(note.card, "shift.accept")
    bank.clock.set(shift.starts_at + timedelta(minutes=1))
    shown = await refused(bank, colleague, "shift.accept", late)
    assert t("en", "error.shift.passed") in shown
    await refused(bank, "coord", "shift.assign", {"shift_id": shift.id, "worker_id": str(to_id)})
    # Visits after the window: neither recorded nor removed.
    bank.clock.set(shift.ends_at + timedelta(days=3, minutes=1))
    visit = {"shift_id": shift.id, "kind": "advice", "minutes": 30, "referral": "no"}
    await refused(bank, worker, "visit.record", {**visit, "form_id": "late"})
    await refused(bank, worker, "visit.remove", {"shift_id": shift.id, "visit_id": 1})


async def test_a_worker_off_the_rota_takes_no_shift(unit: Bank) -> None:
    bank = unit
    shift, _worker, colleague, swap = await offered(bank)
    # The registry no longer records the colleague's walk-in duty: the offer cannot be taken.
    uow = bank.sopu.uow()
    async with uow:
        person = await uow.mediators.by_aad(bank.teams.person(colleague).aad)
        assert person is not None and person.id is not None
        await uow.qualifications.set(person.id, frozenset())
        await uow.commit()
    await refused(bank, colleague, "shift.accept", swap, "fi")
    assert next(s for s in await shifts(bank) if s.id == shift.id).worker_id != person.id


async def test_people_without_the_role_are_refused(unit: Bank) -> None:
    bank = unit
    shift, worker = await first_shift(bank)
    olli = (await bank.mediator("olli")).id
    for key in ("stranger",):
        for verb in VERBS:
            await refused(bank, key, verb, {"shift_id": shift.id, "swap_id": 1}, "fi")
    # Mediators who are not coordinators: no re-assigning, no figures.
    for verb, data in (
        ("shift.assign", {"shift_id": shift.id, "worker_id": str(olli)}),
        ("shifts.figures", {}),
    ):
        await refused(bank, worker, verb, data, "fi")
        await refused(bank, "sari", verb, data, "fi")
    # A booker records no walk-in visit, even on a shift handed to them by forged data.
    bank.clock.set(shift.starts_at + timedelta(minutes=30))
    visit = {"shift_id": shift.id, "kind": "advice", "minutes": 30, "referral": "no"}
    await refused(bank, "sari", "visit.record", visit, "fi")
    # The booker's own phone hour: she may see it and offer it only to a booker.
    phone = (await shifts(bank, ShiftKind.PHONE))[0]
    card = await click(bank, "sari", "shift.show", {"shift_id": phone.id})
    assert "visit.record" not in verbs_on(card)
    await refused(bank, "sari", "shift.offer", {"shift_id": phone.id, "to_id": str(olli)})


async def test_an_inactive_worker_does_nothing(unit: Bank) -> None:
    bank = unit
    shift, worker = await first_shift(bank)
    uow = bank.sopu.uow()
    async with uow:
        person = await uow.mediators.by_aad(bank.teams.person(worker).aad)
        assert person is not None
        person.active = False
        await uow.mediators.save(person)
        await uow.commit()
    for verb in VERBS:
        data = {"shift_id": shift.id, "swap_id": 1, "to_id": "2", "visit_id": 1}
        await refused(bank, worker, verb, data, "fi")


async def test_the_verbs_in_a_channel_show_nothing(unit: Bank) -> None:
    bank = unit
    shift, worker = await first_shift(bank)
    for verb in VERBS:
        async with Unchanged(bank):
            card = await bank.teams.click(worker, verb, {"shift_id": shift.id})
        assert t("en", "error.personal_data_only") in words(card), verb
