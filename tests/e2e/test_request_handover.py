"""A taken request handed over between coordinators, a family left uncalled escalated, and the
queue's refusals, through the real app and the fake Bot Connector."""

from __future__ import annotations

import re

import pytest

from bot.bootstrap import SOPU
from cards import verbs
from cards.i18n import t
from jobs import contact_requests
from jobs.scheduler import JOBS, run_job
from mediation.model import Role
from mediation.outbox import MessageKind
from mediation.requests import RequestStatus
from tests.e2e.conftest import Bank, Person, mediator_row, verbs_on, words
from tests.e2e.test_request_queue import _data, _inputs, _request, _runtime

KALLE = Person(
    "kalle",
    "Kalle Koordinaattori",
    "aaaaaaaa-0000-4000-8000-000000000042",
    "29:kalle",
    Role.COORDINATOR,
)


async def _second_coordinator(bank: Bank) -> int:
    uow = bank.sopu.uow()
    async with uow:
        added = await uow.mediators.add(mediator_row(KALLE))
        await uow.commit()
    bank.teams.people[KALLE.key] = KALLE
    bank.connector.teams_ids[KALLE.aad] = KALLE.teams_id
    assert added.id is not None
    return added.id


async def _show(bank: Bank, key: str, request_id: int) -> dict[str, object]:
    return await bank.teams.click(
        key, verbs.REQUEST_SHOW, {"request_id": request_id}, where="personal"
    )


async def test_another_coordinator_takes_a_request_over_and_its_holder_is_told(
    bank: Bank,
) -> None:
    kalle_id = await _second_coordinator(bank)
    request_id = await _request(bank, fear="yes", parent_name="Anna Aalto")
    first = await _show(bank, "coord", request_id)
    taken = await bank.teams.click(
        "coord", verbs.REQUEST_TAKE, _data(first, verbs.REQUEST_TAKE), where="personal"
    )
    assert verbs.REQUEST_TAKE_OVER not in verbs_on(taken), "not offered to its own holder"

    # Kalle cannot call on Kaisa's request, but the refusal shows how to take it over.
    seen = await _show(bank, "kalle", request_id)
    refused = await bank.teams.click(
        "kalle", verbs.REQUEST_ATTEMPT, _data(seen, verbs.REQUEST_ATTEMPT), where="personal"
    )
    assert t("en", "request.error.taken") in words(refused)
    stored = await bank.app[SOPU].requests.get(request_id)
    assert stored is not None and stored.attempts == 0

    sent = len(bank.connector.log)
    over = await bank.teams.click(
        "kalle", verbs.REQUEST_TAKE_OVER, _data(refused, verbs.REQUEST_TAKE_OVER), where="personal"
    )
    assert t("en", "request.notice.taken_over") in words(over)
    assert "Kalle Koordinaattori will call" in words(over)
    assert verbs.REQUEST_TAKE_OVER not in verbs_on(over)
    stored = await bank.app[SOPU].requests.get(request_id)
    assert stored is not None
    assert (stored.status, stored.taken_by, stored.taken_at) == (
        RequestStatus.TAKEN,
        kalle_id,
        bank.clock.now(),
    )

    # Kaisa hears of it in her personal chat, once, with the request as it now stands.
    await _runtime(bank).sender.drain(timeout=20)
    notes = [s.card for s in bank.personal("coord", sent) if s.card is not None]
    told = t("en", "request.taken_over_by", name="Kalle Koordinaattori", n=request_id)
    assert [c for c in notes if told in words(c)]
    queued = await _runtime(bank).services.outbox.all()
    assert [m.key.kind for m in queued].count(MessageKind.REQUEST_TAKEN_OVER) == 1
    assert all(set(m.payload) <= {"request_id", "urgent", "by"} for m in queued)

    # The same click again changes nothing and tells nobody again; Kalle now calls.
    again = await bank.teams.click(
        "kalle", verbs.REQUEST_TAKE_OVER, _data(refused, verbs.REQUEST_TAKE_OVER), where="personal"
    )
    assert t("en", "request.notice.unchanged") in words(again)
    called = await bank.teams.click(
        "kalle", verbs.REQUEST_ATTEMPT, _data(over, verbs.REQUEST_ATTEMPT), where="personal"
    )
    assert t("en", "request.notice.attempt") in words(called)
    queued = await _runtime(bank).services.outbox.all()
    assert [m.key.kind for m in queued].count(MessageKind.REQUEST_TAKEN_OVER) == 1


async def test_a_taken_request_nobody_calls_is_escalated(bank: Bank) -> None:
    runtime = _runtime(bank)
    context = runtime.services.context
    spec = next(j for j in JOBS if j.id == contact_requests.JOB_ID)
    urgent = await _request(bank, fear="yes", parent_name="Anna Aalto")
    calm = await _request(bank, parent_name="Bertta Berg")
    called = await _request(bank, parent_name="Cecilia Cederberg")
    for request_id in (urgent, calm, called):
        card = await _show(bank, "coord", request_id)
        await bank.teams.click(
            "coord", verbs.REQUEST_TAKE, _data(card, verbs.REQUEST_TAKE), where="personal"
        )
    card = await _show(bank, "coord", called)
    await bank.teams.click(
        "coord", verbs.REQUEST_ATTEMPT, _data(card, verbs.REQUEST_ATTEMPT), where="personal"
    )

    async def escalated() -> set[int]:
        await run_job(context, spec)
        queued = await runtime.services.outbox.all()
        return {
            int(m.payload["request_id"])
            for m in queued
            if m.key.kind is MessageKind.REQUEST_ESCALATION
        }

    sent = len(bank.connector.log)
    # The urgent one's taker is calling: the others are alarmed after the grace period.
    assert await escalated() == set()
    bank.clock.advance(hours=2)
    assert await escalated() == {urgent}
    bank.clock.advance(days=1)
    assert await escalated() == {urgent}
    bank.clock.advance(days=1)
    assert await escalated() == {urgent, calm}
    await runtime.sender.drain(timeout=20)
    joined = " ".join(words(s.card) for s in bank.personal("coord", sent) if s.card is not None)
    assert t("en", "request.escalation_taken_urgent", n=urgent) in joined
    assert t("en", "request.escalation_taken", n=calm, days=2) in joined


async def test_the_queues_refusals_say_what_to_do(
    bank: Bank, caplog: pytest.LogCaptureFixture
) -> None:
    request_id = await _request(bank, language="en", parent_name="Jane Smith")

    # Not judged yet: the intake waits for "Suitable".
    for verb in (verbs.REQUEST_INTAKE, verbs.REQUEST_CREATE_CASE):
        early = await bank.teams.click(
            "coord", verb, {"request_id": request_id, "form_id": "x"}, where="personal"
        )
        assert t("en", "request.error.not_judged") in words(early)
        assert t("en", "request.error.closed") not in words(early)

    # Asked in the bank channel, the queue goes to the personal chat.
    sent = len(bank.connector.log)
    answer = await bank.teams.ask("coord", "requests", where="channel")
    assert t("en", "notice.answered_in_personal_chat") in words(answer)
    assert "Jane Smith" not in words(answer)
    personal = [s.card for s in bank.personal("coord", sent) if s.card is not None]
    assert [c for c in personal if t("en", "requests.title") in words(c)]

    # A request id that is not one: said with the field's name.
    bad = await bank.teams.click("coord", verbs.REQUEST_SHOW, {"request_id": "x"}, where="personal")
    assert t("en", "field.request_id") in words(bad)
    assert t("en", "field.unknown") not in words(bad)
    shown = await _show(bank, "coord", request_id)
    stale = {**_data(shown, verbs.REQUEST_TAKE), "version": "v2"}
    odd = await bank.teams.click("coord", verbs.REQUEST_TAKE, stale, where="personal")
    assert t("en", "field.version") in words(odd)
    assert (await bank.app[SOPU].requests.get(request_id)).status is RequestStatus.NEW  # type: ignore[union-attr]
    assert "no label for form field" not in caplog.text

    # The figures, too, only in personal chat.
    figures = await bank.teams.click("coord", verbs.REQUEST_FIGURES, {"year": 2026})
    assert t("en", "request.error.personal_chat_only") in words(figures)
    assert t("en", "figures.total") not in words(figures)

    # English: the intake gets another language with an interpreter, and says why.
    shown = await _show(bank, "coord", request_id)
    form = await bank.teams.click(
        "coord", verbs.REQUEST_SUITABLE, _data(shown, verbs.REQUEST_SUITABLE), where="personal"
    )
    prefilled = _inputs(form)
    assert (prefilled["language"], prefilled["interpreter"]) == ("other", "true")
    assert t("en", "request.intake_english") in words(form)


async def test_typed_markup_reaches_the_coordinator_as_plain_text(bank: Bank) -> None:
    hostile = "[Open the secure case file](https://evil.example/login) **URGENT**"
    request_id = await _request(bank, parent_name=hostile)
    card = await _show(bank, "coord", request_id)
    shown = words(card)
    assert "Open the secure case file" in shown and "URGENT" in shown
    assert not re.search(r"\]\(|\*\*URGENT", shown)


async def test_a_holder_who_left_is_not_sent_the_family_s_request(bank: Bank) -> None:
    """Taken over because its holder left: the note would show the family; it never goes."""
    await _second_coordinator(bank)
    request_id = await _request(bank, fear="yes", parent_name="Anna Aalto")
    await _runtime(bank).sender.drain(timeout=20)
    first = await _show(bank, "coord", request_id)
    await bank.teams.click(
        "coord", verbs.REQUEST_TAKE, _data(first, verbs.REQUEST_TAKE), where="personal"
    )
    kaisa = await bank.mediator("coord")
    gone = await bank.teams.click(
        "kalle", "mediator.update", {"mediator_id": kaisa.id, "active": "false"}, where="personal"
    )
    assert t("en", "error.last_coordinator") not in words(gone)
    sent = len(bank.connector.log)
    seen = await _show(bank, "kalle", request_id)
    await bank.teams.click(
        "kalle", verbs.REQUEST_TAKE_OVER, _data(seen, verbs.REQUEST_TAKE_OVER), where="personal"
    )
    await _runtime(bank).sender.drain(timeout=20)
    assert bank.personal("coord", sent) == []
    for message in await _runtime(bank).services.outbox.all():
        if message.key.recipient == kaisa.aad_object_id.lower() and message.key.kind in (
            MessageKind.REQUEST_TAKEN_OVER,
        ):
            raise AssertionError("a note to someone who left was queued")
