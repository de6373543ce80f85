"""The front door end to end: a family's request to a booked first meeting, with the
parents' confirmations and information links in the development mailbox.

Through the real app over HTTP: the contact form, the coordinators' queue against the fake
Bot Connector, the pair's claims, a booker's neutral booking, the outbox's sender, and the
development mailbox page.
"""

from __future__ import annotations

import html
import logging
import re
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot import dev_mailbox
from bot.bootstrap import SOPU
from bot.jobs_runtime import JobsRuntime
from bot.keys import DEV_MAILBOX, SETTINGS
from bot.settings import Settings
from cards import verbs
from cards.i18n import t
from mediation.family_mail import FamilyMessage
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

    # Forged buttons: a third parent, a joint meeting, a case that does not exist.
    for forged, refusal in (
        (
            {"case_id": case.case_id, "kind": "individual", "parent_no": 3},
            "error.booker_first_meetings",
        ),
        ({"case_id": case.case_id, "kind": "joint"}, "error.booker_first_meetings"),
        ({"case_id": 9999}, "error.case_not_found"),
    ):
        answer = await bank.teams.click("sanna", verbs.MEETINGS_PROPOSE, forged, where="personal")
        assert t("en", refusal, code=case.code, case_id=9999) in words(answer), forged

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
    # The information message links to Sopu's own page about mediation, in Finnish.
    link = re.search(r"https?://[^\s<\"]+/info\?lang=fi", page)
    assert link is not None, page
    path = link.group(0).split("/info", 1)[1]
    async with http.get(f"{base}/info{html.unescape(path)}") as response:
        assert response.status == 200
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        info = await response.text()
    assert t("fi", "info.title") in html.unescape(info) and '<html lang="fi">' in info
    assert t("fi", "info.prepare.title") in html.unescape(info) and "<script" not in info

    # Parent 2 has no address: the message is there, with a final status that says why.
    outbox = await _runtime(bank).services.outbox.all()
    mail = [m for m in outbox if m.key.kind is MessageKind.FAMILY_MAIL]
    assert {m.status for m in mail if m.key.recipient == "maija@example.org"} == {OutboxStatus.SENT}
    missing = [m for m in mail if m.key.recipient != "maija@example.org"]
    assert len(missing) == 2 and {m.status for m in missing} == {OutboxStatus.NO_ADDRESS}
    for m in mail:
        assert "Meikäläinen" not in m.error and "Maija" not in str(m.payload)
    # The coordinators' report shows the e-mails that could not go, by case, not by person.
    report = await bank.teams.ask("coord", "reminders")
    assert t("en", "report.family_recipient", case=case.code) in words(report)
    assert t("en", "report.status.no_address") in words(report)
    assert "maija" not in str(report).lower()
    # Nothing of the family in any log.
    logged = caplog.text
    for secret in ("maija@example.org", "Meikäläinen", "040 123 4567"):
        assert secret not in logged


class _NoMail:
    async def recent(self) -> list[object]:
        return []


@pytest.mark.parametrize(
    ("settings", "remote", "status"),
    [
        (Settings(env="production"), "127.0.0.1", 404),
        (Settings(bot_app_id="0b5f4a6e-0000-4000-8000-00000000a991"), "127.0.0.1", 404),
        (Settings(), "203.0.113.9", 404),  # a public bind or a tunnel: not for anyone else
        (Settings(), "127.0.0.1", 200),
        (Settings(), "::1", 200),
    ],
    ids=["production", "authentication-on", "not-loopback", "loopback", "loopback-v6"],
)
async def test_the_mailbox_page_is_only_for_development_on_this_machine(
    settings: Settings, remote: str, status: int
) -> None:
    app = web.Application()
    app[SETTINGS] = settings
    app[DEV_MAILBOX] = _NoMail()  # type: ignore[assignment]
    dev_mailbox.add_routes(app)
    request = make_mocked_request("GET", "/dev/mailbox", app=app, transport=_Peer(remote))
    try:
        response = await dev_mailbox.mailbox_page(request)
    except web.HTTPNotFound:
        assert status == 404
    else:
        assert status == response.status == 200


class _Peer:
    """The transport aiohttp reads a request's peer address from."""

    def __init__(self, host: str) -> None:
        self.host = host

    def get_extra_info(self, name: str, default: object = None) -> object:
        return (self.host, 50000) if name == "peername" else default

    def is_closing(self) -> bool:
        return False


def _form_of(card: dict[str, Any], message: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The edit form of one message on the templates card: its inputs and its save action."""
    for action in _actions_in(card):
        if action.get("verb") == verbs.TEMPLATE_SAVE and action["data"]["message"] == message:
            return _form_values(card, action), action["data"]
    raise AssertionError(f"no form for {message}")


def _actions_in(node: Any) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    if isinstance(node, dict):
        if str(node.get("type", "")).startswith("Action."):
            found.append(node)
        for child in node.values():
            found += _actions_in(child)
    elif isinstance(node, list):
        for child in node:
            found += _actions_in(child)
    return found


def _form_values(card: dict[str, Any], save: dict[str, Any]) -> dict[str, Any]:
    """The inputs shown beside ``save`` (in the same ShowCard)."""

    def walk(node: Any) -> dict[str, Any] | None:
        if isinstance(node, dict):
            if node.get("type") == "Action.ShowCard" and save in node["card"]["actions"]:
                return {
                    e["id"]: e.get("value", "")
                    for e in node["card"]["body"]
                    if e.get("type") == "Input.Text"
                }
            for child in node.values():
                found = walk(child)
                if found is not None:
                    return found
        elif isinstance(node, list):
            for child in node:
                found = walk(child)
                if found is not None:
                    return found
        return None

    values = walk(card)
    assert values is not None
    return values


async def test_coordinators_edit_the_messages_and_the_family_gets_their_wording(
    bank: Bank,
) -> None:
    card = await bank.teams.ask("coord", "templates", locale="fi-FI")
    assert t("fi", "templates.title", language=t("fi", "language.name.fi")) in words(card)
    inputs, save = _form_of(card, "confirmation")
    assert "{when}" in inputs["body"]  # the default, with its placeholders unfilled

    # A placeholder the message does not have: refused on the card, nothing saved.
    bad = {**save, "subject": "Hei {name}", "body": "Aika: {when}"}
    refused = await bank.teams.click("coord", verbs.TEMPLATE_SAVE, bad, where="personal")
    assert t("en", "error.template.unknown_placeholder", name="name") in words(refused)
    assert await bank.sopu.family_mail.templates.get(FamilyMessage.CONFIRMATION, "fi") is None
    # Forged data and people who are not coordinators change nothing either.
    for forged in ({**save, "message": "ransom"}, {**save, "lang": "de"}):
        answer = await bank.teams.click("coord", verbs.TEMPLATE_SAVE, forged, where="personal")
        assert t("en", "error.generic") not in words(answer)
        assert "Action.ShowCard" not in str(answer)
    good = {**save, "subject": "Pankin aika: {when}", "body": "Tervetuloa {when} ({meeting})."}
    mediator = await bank.teams.click("olli", verbs.TEMPLATE_SAVE, good, where="personal")
    assert t("en", "denied.templates") in words(mediator)
    assert await bank.sopu.family_mail.templates.get(FamilyMessage.CONFIRMATION, "fi") is None

    saved = await bank.teams.click("coord", verbs.TEMPLATE_SAVE, good, where="personal")
    name = t("en", "templates.message.confirmation")
    assert t("en", "templates.saved", message=name) in words(saved)
    assert verbs.TEMPLATE_RESET in verbs_on_all(saved)

    # The next booking's confirmation uses the bank's wording, filled in.
    case = await bank.paired("olli", "outi")
    times = await bank.teams.click(
        "olli", verbs.MEETINGS_PROPOSE, {"case_id": case.case_id}, where="personal"
    )
    book = {**_data(times, verbs.MEETINGS_BOOK), "start": _slot(times)}
    await bank.teams.click("olli", verbs.MEETINGS_BOOK, book, where="personal")
    await _runtime(bank).sender.drain(timeout=20)
    async with bank.teams.http.get(f"{bank.teams.base}/dev/mailbox") as response:
        page = await response.text()
    assert "Pankin aika: " in page and "Tervetuloa " in page and "{when}" not in page

    reset = {"message": "confirmation", "lang": "fi"}
    back = await bank.teams.click("coord", verbs.TEMPLATE_RESET, reset, where="personal")
    assert t("en", "templates.was_reset", message=name) in words(back)
    assert await bank.sopu.family_mail.templates.get(FamilyMessage.CONFIRMATION, "fi") is None


def verbs_on_all(card: dict[str, Any]) -> list[str]:
    return [str(a.get("verb")) for a in _actions_in(card) if a.get("verb")]
