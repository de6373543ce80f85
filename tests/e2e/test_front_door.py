"""The front door end to end: a family's request to a booked first meeting, with the
parents' confirmations and information links in the development mailbox.

Through the real app over HTTP: the contact form, the coordinators' queue against the fake
Bot Connector, the pair's claims, a booker's neutral booking, the outbox's sender, and the
development mailbox page.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot import dev_mailbox
from bot.bootstrap import SOPU
from bot.jobs_runtime import JobsRuntime
from bot.keys import SETTINGS
from bot.settings import Settings
from cards import verbs
from cards.i18n import t
from mediation.model import Role
from mediation.outbox import MessageKind, OutboxStatus
from tests.e2e.conftest import CHANNEL, Bank, Person, Posted, mediator_row, verbs_on, words
from tests.e2e.test_request_queue import _data, _inputs, _request

BOOKER = Person("sanna", "Sanna Sihteeri", "cccccccc-0000-4000-8000-000000000011", "29:sanna")


def _runtime(bank: Bank) -> JobsRuntime:
    runtime = bank.app[SOPU].jobs
    assert isinstance(runtime, JobsRuntime)
    return runtime


async def _add_booker(bank: Bank) -> None:
    booker = Person(BOOKER.key, BOOKER.name, BOOKER.aad, BOOKER.teams_id, Role.BOOKER)
    uow = bank.sopu.uow()
    async with uow:
        await uow.mediators.add(mediator_row(booker))
        await uow.commit()
    bank.teams.people[booker.key] = booker
    bank.connector.teams_ids[booker.aad] = booker.teams_id


async def _case_from_request(bank: Bank) -> Posted:
    """A parent's request, judged suitable; the intake prefilled from it creates the case."""
    request_id = await _request(bank)
    shown = await bank.teams.click(
        "coord", verbs.REQUEST_SHOW, {"request_id": request_id}, where="personal"
    )
    form = await bank.teams.click(
        "coord", verbs.REQUEST_SUITABLE, _data(shown, verbs.REQUEST_SUITABLE), where="personal"
    )
    answers = {
        **_inputs(form),
        "referral_source": "self",
        "parent2_name": "Matti Meikäläinen",
        "parent2_phone": "050 765 4321",  # the other parent gave no e-mail address
        **_data(form, verbs.REQUEST_CREATE_CASE),
    }
    assert answers["parent1_email"] == "maija@example.org"
    before = len(bank.connector.log)
    created = await bank.teams.click("coord", verbs.REQUEST_CREATE_CASE, answers, where="personal")
    channel = await bank.connector.wait_for(
        lambda s: s.kind == "create" and s.conversation_id.startswith(CHANNEL), after=before
    )
    linked = await bank.sopu.requests.get(request_id)
    assert linked is not None and linked.case_id is not None
    uow = bank.sopu.uow()
    async with uow:
        case = await uow.cases.get(linked.case_id)
    assert case is not None
    return Posted(case.id or 0, case.code, channel.conversation_id, channel.activity_id, created)


def _slot(card: dict[str, Any]) -> str:
    """The first time a booker's card offers."""
    (chooser,) = [e for e in card["body"] if e.get("id") == "start"]
    return str(chooser["choices"][0]["value"])


async def test_a_request_to_a_booked_first_meeting_with_the_familys_confirmation(
    bank: Bank, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    case = await _case_from_request(bank)
    await bank.claim("olli", case)
    await bank.claim("outi", case)
    await _add_booker(bank)

    # The booker lists the cases waiting for their first meetings: a code, nothing of the family.
    waiting = await bank.teams.ask("sanna", "book")
    assert case.code in words(waiting) and "Meikäläinen" not in str(waiting)
    assert t("en", "booking.title") in words(waiting)
    # Anything else is refused, with what a booker can do instead.
    for command in ("my cases", "requests", "new case"):
        refused = await bank.teams.ask("sanna", command)
        assert t("en", "error.booker_only") in words(refused)
    claim = await bank.claim("sanna", case)
    assert t("en", "error.booker_only") in words(claim)
    details = await bank.teams.click(
        "sanna", verbs.CASE_DETAILS, {"case_id": case.case_id}, where="personal"
    )
    assert t("en", "error.booker_only") in words(details) and "maija" not in str(details)

    # Parent 1's first meeting, then parent 2's, from the pair's common free times.
    times = await bank.teams.click(
        "sanna", verbs.MEETINGS_PROPOSE, {"case_id": case.case_id}, where="personal"
    )
    assert "Maija" not in str(times) and "040" not in str(times)
    assert t("en", "booking.case_title", code=case.code) in words(times)
    book = {**_data(times, verbs.MEETINGS_BOOK), "start": _slot(times)}
    assert book["parent_no"] == 1
    sent = len(bank.connector.log)
    second = await bank.teams.click("sanna", verbs.MEETINGS_BOOK, book, where="personal")
    assert verbs.MEETING_CANCEL not in verbs_on(second)  # no mediator's tools for a booker
    book2 = {**_data(second, verbs.MEETINGS_BOOK), "start": _slot(second)}
    assert book2["parent_no"] == 2
    done = await bank.teams.click("sanna", verbs.MEETINGS_BOOK, book2, where="personal")
    assert t("en", "booking.done") in words(done)
    # A booker's click on a mediator's button changes nothing.
    move = await bank.teams.click(
        "sanna", verbs.MEETING_CANCEL, {"case_id": case.case_id, "meeting_id": 1}, where="personal"
    )
    assert t("en", "error.booker_only") in words(move)
    empty = await bank.teams.ask("sanna", "book")
    assert t("en", "booking.none") in words(empty)

    await _runtime(bank).sender.drain(timeout=20)
    # The pair are told in their personal chats.
    for key in ("olli", "outi"):
        notes = " ".join(words(s.card) for s in bank.personal(key, sent) if s.card)
        assert t("en", "calendar.changed.booked_by_booker.title", code=case.code) in notes

    # The development mailbox shows parent 1's confirmation and information links (in
    # Finnish, the case's language), escaped, with the pages' security headers.
    http, base = bank.teams.http, bank.teams.base
    async with http.get(f"{base}/dev/mailbox") as response:
        assert response.status == 200
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        page = await response.text()
    assert page.count("maija@example.org") == 2
    assert "Perheasioiden sovittelun tapaamisesi" in page
    assert "Ennen ensimmäistä sovittelutapaamista" in page
    assert "<script" not in page

    # Parent 2 has no address: the message is there, with a final status that says why.
    outbox = await _runtime(bank).services.outbox.all()
    mail = [m for m in outbox if m.key.kind is MessageKind.FAMILY_MAIL]
    assert {m.status for m in mail if m.key.recipient == "maija@example.org"} == {
        OutboxStatus.SENT
    }
    missing = [m for m in mail if m.key.recipient != "maija@example.org"]
    assert len(missing) == 2 and {m.status for m in missing} == {OutboxStatus.NO_ADDRESS}
    for m in mail:
        assert "Meikäläinen" not in m.error and "Maija" not in str(m.payload)
    # Nothing of the family in any log.
    logged = caplog.text
    for secret in ("maija@example.org", "Meikäläinen", "040 123 4567"):
        assert secret not in logged


async def test_the_mailbox_page_is_only_for_development() -> None:
    app = web.Application()
    app[SETTINGS] = Settings(env="production")
    dev_mailbox.add_routes(app)
    async with TestClient(TestServer(app)) as client:
        response = await client.get("/dev/mailbox")
        assert response.status == 404
