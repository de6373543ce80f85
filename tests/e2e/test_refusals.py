"""Everything a client may send wrong: Sopu answers in the user's language and changes nothing.

Card actions that cannot be done get HTTP 200 and an error card; bodies that are not
activities get HTTP 400; nothing a client sends ever gets a 5xx.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest

from cards.i18n import Lang, t
from tests.e2e.conftest import LOCALES, Bank, Posted, Unchanged, answer_card, words

LANGS: tuple[Lang, ...] = ("fi", "sv", "en")


@pytest.fixture(autouse=True)
def every_message_is_translated(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """A refusal that falls back to a generic or untranslated sentence logs why; none may."""
    caplog.set_level(logging.WARNING, logger="cards")
    yield
    missing = [r.getMessage() for r in caplog.records if r.name.startswith("cards")]
    assert not missing, missing


def not_allowed(lang: Lang, action: str, why: str = "coordinator_only") -> str:
    return t(
        lang,
        "error.not_allowed",
        action=t(lang, f"denied.{action}"),
        why=t(lang, f"denied.why.{why}"),
    )


# The e2e bank's language: a click in its channel is answered in it, whoever clicks.
BANK: Lang = "en"


async def refused(
    bank: Bank, key: str, verb: Any, data: Any, lang: Lang = "en", **extra: Any
) -> str:
    """Click as ``key`` in Teams set to ``lang``; the answer must be an error and nothing may
    change. Returns its text: in ``lang`` in personal chat, in the bank's language in the
    channel."""
    extra.setdefault("locale", LOCALES[lang])
    try:
        async with Unchanged(bank):
            card = await bank.teams.click(key, verb, data, **extra)
        assert card["lang"] == (lang if extra.get("where") == "personal" else BANK)
        assert any(
            block.get("color") == "Attention" for block in card["body"] if isinstance(block, dict)
        ), card
    except AssertionError as exc:
        raise AssertionError(f"{key} clicking {verb!r} with {data!r}: {exc}") from exc
    return words(card)


@pytest.fixture
async def case(bank: Bank) -> Posted:
    """A posted case with seat 1 held by Olli."""
    posted = await bank.new_case()
    await bank.claim("olli", posted)
    return posted


# -- unknown verbs and malformed actions -----------------------------------------------------


CASE_VERBS = (
    "case.claim",
    "case.release",
    "case.details",
    "case.assign",
    "case.close",
    "case.cancel",
    "card.refresh",
)


async def test_an_unknown_or_missing_verb_gets_an_error_card(bank: Bank, case: Posted) -> None:
    for lang in LANGS:
        for verb in ("case.explode", "CASE.CLAIM", "case.claim ", "case", "", "x" * 500):
            text = await refused(bank, "olli", verb, {"case_id": case.case_id}, lang)
            assert t(BANK, "error.unknown_action") in text
    for value in (
        {"action": {"type": "Action.Execute", "verb": 42, "data": {}}},
        {"action": {"type": "Action.Execute", "verb": None}},
        {"action": {"type": "Action.Submit", "data": {"case_id": 1}}},
        {"action": "case.claim"},
        {"action": ["case.claim"]},
        {},
        "case.claim",
        ["case.claim"],
        None,
    ):
        text = await refused(bank, "olli", None, None, "sv", value=value)
        assert t(BANK, "error.unknown_action") in text


async def test_a_missing_malformed_or_unknown_case(bank: Bank, case: Posted) -> None:
    tries: list[tuple[str, Any, Lang]] = []
    tries += [(verb, data, "fi") for verb in CASE_VERBS for data in (None, [], "1", {"case": 1})]
    odd = ("-1", -1, "1.5", 1.5, True, [1], {"id": 1}, "", " ", "1" * 40, "1e3", "١")
    tries += [("case.claim", {"case_id": case_id}, "en") for case_id in odd]
    tries += [(verb, {"case_id": "abc"}, "en") for verb in CASE_VERBS]
    tries += [(verb, {"case_id": 999}, lang) for verb in CASE_VERBS for lang in LANGS]
    outi = await bank.mediator("outi")
    more = {"outcome": "agreement", "mediator_id": outi.id, "reason": "withdraw"}
    for verb, data, lang in tries:
        full = {**more, **data} if isinstance(data, dict) else data
        text = await refused(bank, "coord", verb, full, lang)
        assert t(BANK, "error.case_not_found") in text


async def test_malformed_fields_of_a_case_action(bank: Bank, case: Posted) -> None:
    text = await refused(bank, "outi", "case.claim", {"case_id": case.case_id, "seat": 3}, "fi")
    assert t(BANK, "problem.no_such_seat", seat=3) in text
    await refused(bank, "olli", "case.release", {"case_id": case.case_id, "reason": "bored"}, "sv")

    for data in (
        {},
        {"mediator_id": ""},
        {"mediator_id": "x"},
        {"mediator_id": 9999},
        {"mediator_id": "3", "override_reason": "x" * 501},
        {"mediator_id": "3", "override_reason": ["why"]},
        {"mediator_id": "3", "seat": "7"},
        {"mediator_id": "3", "seat": "x"},
    ):
        await refused(bank, "coord", "case.assign", {"case_id": case.case_id, **data}, "sv")
    for reason in (["x"], "x" * 501, {"a": 1}):
        data = {"case_id": case.case_id, "reason": reason}
        await refused(bank, "coord", "case.cancel", data, "en")

    await bank.claim("outi", case)
    for outcome in ("", "won", None):
        data = {"case_id": case.case_id, "outcome": outcome}
        await refused(bank, "coord", "case.close", data, "fi")
    assert await bank.status(case) == "paired"


async def test_a_malformed_registry_edit(bank: Bank) -> None:
    for data in (
        {},
        {"mediator_id": "abc"},
        {"mediator_id": "9999"},
        {"mediator_id": "2", "experienced": "maybe"},
        {"mediator_id": "2", "languages": "de"},
        {"mediator_id": "2", "away_start": "2026-05-01"},
        {"mediator_id": "2", "away_start": "2026-05-10", "away_end": "2026-05-01"},
        {"mediator_id": "2", "away_start": "tomorrow", "away_end": "2026-05-01"},
        {"mediator_id": "2", "away_start": "2026-01-01", "away_end": "2026-01-31"},
    ):
        await refused(bank, "coord", "mediator.update", data, "fi", where="personal")


# -- roles -----------------------------------------------------------------------------------


async def test_coordinator_actions_are_refused_to_a_mediator(bank: Bank, case: Posted) -> None:
    await bank.claim("outi", case)
    sven = await bank.mediator("sven")
    data = {"case_id": case.case_id, "mediator_id": sven.id, "outcome": "agreement", "seat": "1"}
    tries = [("olli", "case.close", "close", lang) for lang in LANGS]  # a seat holder
    tries += [("sven", "case.assign", "assign", "fi"), ("niina", "case.cancel", "cancel", "sv")]
    for key, verb, action, lang in tries:
        text = await refused(bank, key, verb, data, lang)
        assert not_allowed(BANK, action) in text


async def test_a_mediator_without_the_seat_gets_no_details_and_releases_nothing(
    bank: Bank, case: Posted
) -> None:
    for where in ("channel", "personal"):
        data = {"case_id": case.case_id}
        text = await refused(bank, "outi", "case.details", data, "sv", where=where)
        assert not_allowed("sv" if where == "personal" else BANK, "details", "pair_only") in text
        assert "Aino" not in text
    assert await bank.accesses(case) == []
    data = {"case_id": case.case_id, "seat": 1}
    text = await refused(bank, "outi", "case.release", data, "fi")
    assert t(BANK, "error.not_seat_holder", code=case.code) in text


async def test_a_mediator_cannot_change_the_registry(bank: Bank) -> None:
    me = await bank.mediator("niina")
    olli = await bank.mediator("olli")
    for data in (
        {"mediator_id": me.id, "experienced": "true"},  # promoting oneself
        {"mediator_id": me.id, "languages": "fi,sv"},
        {"mediator_id": olli.id, "away_start": "2026-04-01", "away_end": "2026-04-30"},
    ):
        text = await refused(bank, "niina", "mediator.update", data, "en", where="personal")
        assert not_allowed("en", "registry_change") in text


async def test_someone_outside_the_registry_is_refused(bank: Bank, case: Posted) -> None:
    data = {"case_id": case.case_id, "mediator_id": "1", "outcome": "agreement", "area": "x"}
    for verb in (*CASE_VERBS, "case.create", "mediator.update"):
        where = "personal" if verb in ("case.create", "mediator.update") else "channel"
        text = await refused(bank, "stranger", verb, data, "sv", where=where)
        shown: Lang = "sv" if where == "personal" else BANK
        assert t(shown, "error.not_in_registry", coordinators="Kaisa Koordinaattori") in text


# -- the bank's rules -----------------------------------------------------------------------------


async def test_each_rule_refuses_in_the_channels_language(bank: Bank, case: Posted) -> None:
    """The rules live in mediation/; over HTTP each refusal shows the case card with why."""
    niina = await bank.mediator("niina")
    await bank.teams.click(
        "coord", "mediator.update", {"mediator_id": niina.id, "active": "false"}, where="personal"
    )
    # Someone not active is as one who has left: refused, and shown nothing of the case.
    text = await refused(bank, "niina", "case.claim", {"case_id": case.case_id}, "sv")
    assert t(BANK, "error.not_active", coordinators="Kaisa Koordinaattori") in text
    assert t(BANK, "case.title", code=case.code) not in text
    details = await refused(bank, "niina", "case.details", {"case_id": case.case_id}, "sv")
    assert t(BANK, "error.not_active", coordinators="Kaisa Koordinaattori") in details

    text = await refused(bank, "sven", "case.claim", {"case_id": case.case_id}, "fi")
    assert t(BANK, "error.language_mismatch", name="Sven Svensson", language="Finnish") in text

    text = await refused(
        bank, "coord", "case.close", {"case_id": case.case_id, "outcome": "agreement"}
    )
    status = t("en", "status.open")
    assert t("en", "error.illegal_transition.close", status=status) in text

    await bank.teams.click("coord", "case.cancel", {"case_id": case.case_id}, thread=case.thread)
    status = t(BANK, "status.cancelled")
    text = await refused(bank, "outi", "case.claim", {"case_id": case.case_id}, "fi")
    assert t(BANK, "error.illegal_transition.claim", status=status) in text
    text = await refused(bank, "olli", "case.release", {"case_id": case.case_id}, "fi")
    assert t(BANK, "error.illegal_transition.release", status=status) in text
    outi = await bank.mediator("outi")
    data = {"case_id": case.case_id, "mediator_id": outi.id}
    text = await refused(bank, "coord", "case.assign", data, "sv")
    assert t(BANK, "error.illegal_transition.assign", status=t(BANK, "status.cancelled")) in text


# -- forged roles ------------------------------------------------------------------------------


async def test_a_forged_role_is_refused(bank: Bank, case: Posted) -> None:
    """Roles come from the registry by the sender's Entra id, never from the card or a name."""
    coord, olli = bank.teams.person("coord"), bank.teams.person("olli")
    await bank.claim("outi", case)
    forged = {
        "case_id": case.case_id,
        "outcome": "agreement",
        "role": "coordinator",
        "actor": coord.aad,
        "aadObjectId": coord.aad,
        "from": {"id": coord.teams_id, "aadObjectId": coord.aad},
        "is_coordinator": True,
    }
    as_coordinator_name = {"id": olli.teams_id, "name": coord.name, "aadObjectId": olli.aad}
    text = await refused(bank, "olli", "case.close", forged, "fi", sender=as_coordinator_name)
    assert not_allowed(BANK, "close") in text
    with_coordinators_teams_id = {"id": coord.teams_id, "name": coord.name, "aadObjectId": olli.aad}
    await refused(bank, "olli", "case.cancel", forged, "fi", sender=with_coordinators_teams_id)

    # A sender without an Entra object id is nobody, whatever else they claim.
    for sender in (
        {"id": coord.teams_id, "name": coord.name},
        {"id": coord.teams_id, "aadObjectId": ""},
    ):
        text = await refused(bank, "coord", "case.cancel", forged, "en", sender=sender)
        assert t("en", "error.not_in_registry", coordinators="Kaisa Koordinaattori") in text

    # Naming the holder in the card data does not make one the holder.
    olli_id = (await bank.mediator("olli")).id
    as_holder = {"case_id": case.case_id, "seat": 1, "mediator_id": olli_id, "holder": olli_id}
    await refused(bank, "sven", "case.release", as_holder, "sv")
    await refused(bank, "sven", "case.details", as_holder, "sv")
    assert await bank.holders(case) == {1: "Olli Kokenut", 2: "Outi Osaava"}
    assert await bank.status(case) == "paired"


# -- bodies that are not activities ------------------------------------------------------------


def activity_without(bank: Bank, *path: str) -> dict[str, Any]:
    activity = bank.teams.message("olli", "help")
    node = activity
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return activity


async def bad_request(bank: Bank, what: Any, **post: Any) -> int:
    """Post something that is no activity; nothing may change or be sent. Returns the status."""
    try:
        async with Unchanged(bank):
            status, _ = await bank.teams.post(**post)
    except AssertionError as exc:
        raise AssertionError(f"{what!r}: {exc}") from exc
    return status


async def test_a_body_that_is_not_an_activity_is_a_bad_request(bank: Bank) -> None:
    for raw in (
        b"",
        b"{",
        b"not json",
        b"\xff\xfe\x00",
        b"[]",
        b'"message"',
        b"42",
        b"null",
        b'{"type": "message"}',
        json.dumps({"a": "x" * 300_000}).encode(),  # over the size an activity may have
    ):
        assert await bad_request(bank, raw[:20], raw=raw) == 400, raw[:20]

    for path in (("type",), ("serviceUrl",), ("conversation",), ("from",), ("recipient",)):
        activity = activity_without(bank, *path)
        assert await bad_request(bank, path, body=activity) == 400, path
    for part in ("conversation", "from", "recipient"):
        activity = activity_without(bank, part, "id")
        assert await bad_request(bank, part, body=activity) == 400, part

    for change in (
        {"type": 7},
        {"type": ""},
        {"serviceUrl": ["x"]},
        {"conversation": "a:personal"},
        {"from": {"id": 5}},
        {"channelData": ["tenant"]},
        {"timestamp": "yesterday"},
        {"entities": "mention"},
        {"attachments": {"a": 1}},
    ):
        activity = bank.teams.message("olli", "help") | change
        assert await bad_request(bank, change, body=activity) == 400, change

    status = await bad_request(bank, "form", raw=b"type=message", content_type="text/plain")
    assert 400 <= status < 500
    huge = b"{" + b" " * 2_000_000 + b"}"  # refused before it is read
    assert 400 <= await bad_request(bank, "huge", raw=huge) < 500


# -- never a 5xx ---------------------------------------------------------------------------------


async def test_an_invoke_sopu_does_not_handle_gets_an_error_card(bank: Bank, case: Posted) -> None:
    for name in (
        "composeExtension/query",
        "task/fetch",
        "signin/verifyState",
        "config/fetch",
        "actionableMessage/executeAction",
        "fileConsent/invoke",
        "adaptiveCard/unknown",
        "",
        None,
    ):
        activity = bank.teams.click_activity(
            "olli", "case.claim", {"case_id": case.case_id}, locale="fi-FI"
        )
        activity["name"] = name
        async with Unchanged(bank):
            status, body = await bank.teams.post(activity)
        card = answer_card(status, body)
        assert card["lang"] == "fi", name
        assert t("fi", "error.unknown_action") in words(card), name


async def test_no_activity_gets_a_server_error(bank: Bank) -> None:
    for change in [
        {"type": "typing"},
        {"type": "event", "name": "application/vnd.microsoft.meetingStart"},
        {"type": "messageReaction", "reactionsAdded": [{"type": "like"}]},
        {"type": "installationUpdate", "action": "add"},
        {"type": "conversationUpdate", "membersAdded": [{"id": "29:olli"}, {}]},
        {"type": "conversationUpdate", "membersRemoved": [{"id": "28:sopu-bot"}]},
        {"type": "endOfConversation"},
        {"type": "no-such-type"},
        {"type": "message", "text": None, "value": {"case_id": 1}},
        {"type": "message", "text": "help", "entities": [{"type": None}, {"type": "mention"}]},
        {"type": "message", "text": "help", "entities": [{"type": "mention", "mentioned": None}]},
        {"type": "message", "text": "x" * 20_000},
        {"type": "message", "text": "help", "locale": "xx-YY"},
        {"type": "message", "text": "help", "locale": 7},
        {"type": "message", "text": "help", "deliveryMode": "expectReplies"},
        {"type": "message", "text": "help", "channelData": None},
        {"type": "message", "text": "help", "channelData": {"tenant": "x"}},
        {"type": "message", "text": "help", "channelId": "webchat"},
        {"type": "message", "text": "help", "id": None},
        {"type": "message", "text": "help", "id": 12},
        {"type": "invoke", "name": "adaptiveCard/action", "deliveryMode": "expectReplies"},
        {"type": "invoke", "name": "adaptiveCard/action", "value": {"action": {"verb": "x"}}},
        {"type": "invoke", "name": "task/submit", "value": {"data": {}}},
    ]:
        activity = bank.teams.message("olli", "help") | change
        before = await bank.state()
        status, body = await bank.teams.post(activity)
        assert status in (200, 400, 403), (change, status, body)
        assert await bank.state() == before, change
