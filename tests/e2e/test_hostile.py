"""Hostile and malformed requests, over HTTP against the real app.

Each family of inputs (transport, activity fields, card inputs, links) gets a defined
answer: a 4xx for what never reaches the bot, a refusal card in the user's language with
HTTP 200 for what does. In every case nothing in the bank changes and the log holds no
traceback and no secret.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.access_log import PerMinute
from bot.keys import CALENDAR
from bot.settings import Settings
from cards.i18n import t
from tests.clock import FixedClock
from tests.e2e.conftest import (
    CHANNEL,
    TENANT,
    Bank,
    Posted,
    Unchanged,
    answer_card,
    running,
    verbs_on,
    words,
)
from tests.fakes.connector import FakeConnector
from tests.integration.graph_support import book_action, choices, meetings_of, propose
from tests.unit.factories import FORM

FOREIGN_TENANT = "99999999-0000-4000-8000-000000000099"


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.INFO):
        yield caplog


def assert_clean(log: pytest.LogCaptureFixture, *secrets: str) -> None:
    """No traceback and none of the secrets anywhere in what was logged."""
    for record in log.records:
        text = record.getMessage()
        assert record.exc_info is None, (record.name, text)
        assert "Traceback" not in text, text
        for secret in secrets:
            assert secret not in text, (record.name, text)


async def raw_post(bank: Bank, body: bytes, content_type: str = "application/json") -> int:
    async with Unchanged(bank):
        status, _ = await bank.teams.post(raw=body, content_type=content_type)
    return status


# -- transport ---------------------------------------------------------------------------------


def _nested(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {}
    for _ in range(levels):
        node = {"x": node}
    return node


async def test_bodies_that_are_not_a_json_activity_get_400(
    bank: Bank, log: pytest.LogCaptureFixture
) -> None:
    message = bank.teams.message("olli", "help")
    encoded = json.dumps(message)
    bodies = [
        b"[" * 100_000 + b"]" * 100_000,  # RecursionError in the JSON reader itself
        b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
        json.dumps({**message, "channelData": {**message["channelData"], **_nested(60)}}).encode(),
        encoded.encode("utf-16"),
        encoded.encode("utf-32"),
        encoded.encode("utf-8")[:-1] + b"\xff}",
        encoded.replace('"help"', "NaN").encode(),
        encoded.replace('"help"', "-Infinity").encode(),
        encoded.replace('"help"', '"\\ud800"').encode(),
        b"",
        b"null",
        b"[]",
        b'"message"',
        json.dumps({**message, "text": "x" * 300_000}).encode(),  # over the gate's size
    ]
    for body in bodies:
        assert await raw_post(bank, body) == 400, body[:60]
    assert_clean(log)


async def test_compressed_or_broken_bodies_get_a_4xx_on_every_route(
    bank: Bank, log: pytest.LogCaptureFixture
) -> None:
    """A body that says it is compressed is refused before anyone reads it: a garbled one
    made the reader raise while a handler read it (a 500 before any token was looked at)."""
    json_type = "application/json"
    form_type = "application/x-www-form-urlencoded"
    for path, content_type in (
        ("/api/messages", json_type),
        ("/contact", form_type),
        ("/feedback/" + "a" * 43, form_type),
        ("/api/graph/notifications", json_type),
    ):
        for encoding in ("gzip", "deflate", "br", "x-unknown"):
            headers = {"Content-Type": content_type, "Content-Encoding": encoding}
            async with (
                Unchanged(bank),
                bank.teams.http.post(
                    f"{bank.teams.base}{path}", data=b"0123456789", headers=headers
                ) as resp,
            ):
                assert resp.status == 415, (path, encoding, resp.status)
                assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert_clean(log)
    assert not [r for r in log.records if r.levelno >= logging.ERROR]


async def test_every_answer_says_nosniff_and_sends_no_referrer(bank: Bank) -> None:
    for path in ("/nowhere", "/calendar/" + "a" * 40 + ".ics", "/healthz"):
        async with bank.teams.http.get(f"{bank.teams.base}{path}") as resp:
            assert resp.headers["X-Content-Type-Options"] == "nosniff", path
            assert resp.headers["Referrer-Policy"] == "no-referrer", path


async def test_bodies_over_the_server_limit_get_413(bank: Bank) -> None:
    big = json.dumps({**bank.teams.message("olli", "help"), "text": "x" * 600_000}).encode()
    assert await raw_post(bank, big) == 413


async def test_only_the_json_media_type_is_taken(bank: Bank, log: pytest.LogCaptureFixture) -> None:
    body = json.dumps(bank.teams.message("olli", "help")).encode()
    for content_type in (
        "text/plain",
        "application/jsonx",
        "application/x-not-json",
        "text/json-ish",
        "application/json; charset=iso-8859-1",
        "multipart/form-data; boundary=json",
    ):
        assert await raw_post(bank, body, content_type) == 415, content_type
    status, _ = await bank.teams.post(raw=body, content_type="application/json; charset=utf-8")
    assert status == 200
    assert_clean(log)


# -- activity fields -----------------------------------------------------------------------------


async def test_conversation_types_outside_the_manifest_are_refused(bank: Bank) -> None:
    case = await bank.new_case()
    for kind in ("groupChat", "meeting", "", None, 7, ["personal"]):
        message = bank.teams.message("coord", "mediators")
        message["conversation"]["conversationType"] = kind
        click = bank.teams.click_activity("olli", "case.claim", {"case_id": case.case_id})
        click["conversation"]["conversationType"] = kind
        for activity in (message, click):
            async with Unchanged(bank):
                status, _ = await bank.teams.post(activity)
            assert status == 403, kind
    assert await bank.holders(case) == {1: None, 2: None}


async def test_tenant_team_and_channel_ids_count_only_as_strings(bank: Bank) -> None:
    teams = bank.teams
    shapes: list[dict[str, Any]] = []
    listed = teams.message("olli", "help")
    listed["channelData"]["tenant"]["id"] = [TENANT, FOREIGN_TENANT]
    shapes.append(listed)
    in_conversation = teams.message("olli", "help")
    in_conversation["conversation"]["tenantId"] = [TENANT, FOREIGN_TENANT]
    shapes.append(in_conversation)
    as_object = teams.message("olli", "help")
    as_object["channelData"]["tenant"] = {"id": {"id": TENANT}}
    shapes.append(as_object)
    team_number = teams.message("coord", "setup", "channel")
    team_number["channelData"]["team"]["id"] = 19
    shapes.append(team_number)
    channel_list = teams.message("coord", "setup", "channel")
    channel_list["channelData"]["channel"] = [CHANNEL]
    shapes.append(channel_list)
    for activity in shapes:
        async with Unchanged(bank):
            status, _ = await teams.post(activity)
        assert status == 403, activity["channelData"]


async def test_answers_go_only_into_the_conversation_the_activity_came_from(bank: Bank) -> None:
    case = await bank.new_case()
    teams = bank.teams
    elsewhere = teams.click_activity(
        "olli", "case.claim", {"case_id": case.case_id}, thread="19:another@thread.tacv2"
    )
    personal_in_channel = teams.message("olli", "help")
    personal_in_channel["conversation"]["id"] = f"{CHANNEL};messageid=1"
    channel_as_someones_chat = teams.message(
        "coord", "help", "channel", thread="a:personal-29:olli"
    )
    for activity in (elsewhere, personal_in_channel, channel_as_someones_chat):
        async with Unchanged(bank):
            status, _ = await teams.post(activity)
        assert status == 403
    assert await bank.holders(case) == {1: None, 2: None}


async def test_another_persons_personal_chat_is_not_answered_into(
    bank: Bank, log: pytest.LogCaptureFixture
) -> None:
    """A personal chat is one person's: an activity from someone else naming it is refused,
    and nothing is sent there nor stored as the sender's chat."""
    coords_chat = bank.teams.message("coord", "help")["conversation"]
    olli_before = await bank.sopu.store.user_reference(bank.teams.person("olli").aad)
    for activity in (
        bank.teams.message("olli", "my cases") | {"conversation": coords_chat},
        bank.teams.click_activity("olli", "card.refresh", {"case_id": 1}, "personal")
        | {"conversation": coords_chat},
        bank.teams.message("stranger", "help") | {"conversation": coords_chat},
    ):
        before = len(bank.connector.log)
        async with Unchanged(bank):
            status, _ = await bank.teams.post(activity)
        assert status == 403
        assert bank.connector.log[before:] == []
    assert await bank.sopu.store.user_reference(bank.teams.person("olli").aad) == olli_before
    status, _ = await bank.teams.say("coord", "help")  # the owner is answered as ever
    assert status == 200
    assert_clean(log)


async def test_an_aad_object_id_longer_than_its_column_is_nobody(
    bank: Bank, log: pytest.LogCaptureFixture
) -> None:
    case = await bank.new_case()
    sender = {"id": "29:long", "name": "Long", "aadObjectId": "a" * 65}
    # In a personal chat of its own: another person's is refused before anything else.
    own = {"id": "a:personal-29:long", "conversationType": "personal", "tenantId": TENANT}
    for where, chat in (("channel", {}), ("personal", {"conversation": own})):
        click = bank.teams.click_activity(
            "olli", "case.claim", {"case_id": case.case_id}, where, sender=sender, **chat
        )
        async with Unchanged(bank):
            card = answer_card(*await bank.teams.post(click))
        assert "not in the mediator registry" in words(card), words(card)
    async with Unchanged(bank, replies=1):
        message = bank.teams.message("olli", "quota", sender=sender, conversation=own)
        status, _ = await bank.teams.post(message)
    assert status == 200
    assert_clean(log)


async def test_without_a_token_a_foreign_tenant_looks_like_an_allowed_one(
    connector: FakeConnector, clock: FixedClock, e2e_settings: Settings
) -> None:
    settings = dataclasses.replace(
        e2e_settings,
        bot_app_id="0b5f4a6e-0000-4000-8000-00000000a991",
        bot_app_password="secret",
        bot_tenant_id=TENANT,
    )
    async with running(settings, connector, clock) as bank:
        answers = []
        for tenant in (TENANT, FOREIGN_TENANT):
            for where in ("personal", "channel"):
                activity = bank.teams.message("olli", "help", where, tenant=tenant)
                async with Unchanged(bank):
                    answers.append(await bank.teams.post(activity))
            other_team = bank.teams.message("coord", "help", "channel", team="19:x@thread.tacv2")
            async with Unchanged(bank):
                answers.append(await bank.teams.post(other_team))
        assert {status for status, _ in answers} == {401}
        assert len({json.dumps(body) for _, body in answers}) == 1


async def test_a_flood_of_refusals_writes_a_bounded_log(
    bank: Bank, log: pytest.LogCaptureFixture
) -> None:
    activity = bank.teams.message("olli", "help", tenant=FOREIGN_TENANT)
    for n in range(60):
        status, _ = await bank.teams.post(activity | {"id": f"flood-{n}"})
        assert status == 403
    warnings = [r for r in log.records if r.name == "bot.gate"]
    assert 0 < len(warnings) <= bank.sopu.endpoint.refusals.per_minute
    # The access log writes refused requests at a bounded rate too.
    access = [r for r in log.records if r.name == "aiohttp.access"]
    assert 0 < len(access) <= PerMinute().limit


async def test_a_flood_of_unparsable_requests_writes_a_bounded_log(
    bank: Bank, log: pytest.LogCaptureFixture
) -> None:
    """Requests aiohttp's parser refuses (two Content-Types) each made an error line."""
    host, port = bank.teams.base.removeprefix("http://").split(":")
    request = (
        b"POST /api/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Content-Type: text/plain\r\nContent-Length: 2\r\n\r\n{}"
    )
    for _ in range(80):
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(request)
        await writer.drain()
        assert (await reader.read(12)).startswith(b"HTTP/1.")
        writer.close()
    lines = [r for r in log.records if r.name.startswith("aiohttp")]
    assert 0 < len(lines) <= 2 * PerMinute().limit + 2
    assert_clean(log)


# -- card inputs -----------------------------------------------------------------------------------


async def refused_card(bank: Bank, who: str, verb: str, data: Any, where: str) -> str:
    """Click with hostile data: a card in English that changes nothing."""
    async with Unchanged(bank):
        card = await bank.teams.click(who, verb, data, where)
    assert t("en", "error.unexpected") not in words(card), (verb, data)
    return words(card)


@pytest.mark.parametrize(
    "case_id", [10**30, 2**31, -1, "²", "١", "１", 1.5, True, [1], {"id": 1}, "1 OR 1=1", None]
)
async def test_case_ids_out_of_range_or_shape_point_at_no_case(
    bank: Bank, log: pytest.LogCaptureFixture, case_id: Any
) -> None:
    for verb in ("case.claim", "case.details", "card.refresh", "meetings.propose"):
        await refused_card(bank, "olli", verb, {"case_id": case_id}, "channel")
    assert_clean(log)


async def test_hostile_numbers_in_the_seat_and_registry_inputs_are_refused(
    bank: Bank, log: pytest.LogCaptureFixture
) -> None:
    case = await bank.new_case()
    for seat in (10**30, "²", "1e3", -1):
        await refused_card(
            bank, "olli", "case.claim", {"case_id": case.case_id, "seat": seat}, "channel"
        )
    for mediator_id in (10**30, 2**31, "²", "١", "12345678901234567890", 1.5):
        data = {"case_id": case.case_id, "mediator_id": mediator_id, "seat": 1}
        await refused_card(bank, "coord", "case.assign", data, "channel")
        update = {"mediator_id": mediator_id, "experienced": "true"}
        await refused_card(bank, "coord", "mediator.update", update, "personal")
    for message_id in (10**30, "²", -5):
        await refused_card(bank, "coord", "reminders.retry", {"message_id": message_id}, "personal")
    await refused_card(
        bank, "coord", "case.cancel", {"case_id": case.case_id, "reason": "x" * 10_000}, "channel"
    )
    assert await bank.holders(case) == {1: None, 2: None}
    assert_clean(log)


async def test_years_and_days_out_of_range_are_refused_in_words(
    bank: Bank, log: pytest.LogCaptureFixture
) -> None:
    for year in ("9999", "0000", "1999", "2101"):
        before = len(bank.connector.log)
        card = await bank.teams.ask("coord", f"stats {year}")
        assert t("en", "stats.bad_year", year=2025) in words(card), year
        assert len(bank.connector.log) == before + 1  # the refusal only
    me = await bank.mediator("olli")
    for start, end in (("0001-01-01", "2026-12-24"), ("2026-12-20", "9999-12-31")):
        away = {"mediator_id": me.id, "away_start": start, "away_end": end}
        async with Unchanged(bank):
            card = await bank.teams.click("olli", "mediator.update", away, where="personal")
        assert t("en", "quota.title") in words(card)
    assert_clean(log)


async def test_a_form_without_its_id_is_not_registered_but_comes_back_filled(
    bank: Bank, log: pytest.LogCaptureFixture
) -> None:
    """The form's id is what makes a form sent twice register one case."""
    async with Unchanged(bank):
        card = await bank.teams.click("coord", "case.create", dict(FORM), where="personal")
    assert t("en", "error.unmarked_form") in words(card)
    assert str(FORM["parent1_name"]) in json.dumps(card, ensure_ascii=False)
    again = next(a for a in card["actions"] if a.get("verb") == "case.create")
    assert again["data"]["form_id"]  # the form again, with an id of its own
    assert_clean(log)


async def _booked(bank: Bank) -> tuple[Posted, dict[str, Any], dict[str, Any]]:
    case = await bank.paired("olli", "outi")
    card = await propose(bank, "olli", {"case_id": case.case_id})
    return case, card, book_action(card)["data"]


async def test_hostile_times_and_durations_are_refused_in_the_user_s_language(
    bank: Bank, log: pytest.LogCaptureFixture
) -> None:
    case, card, data = await _booked(bank)
    for start in (
        "9999-12-31T23:30:00+00:00",
        "0001-01-01T00:00:00+00:00",
        "2026-03-02T10:00:00",  # no offset
        "+275760-09-13T00:00:00Z",
        ["2026-03-03T08:00:00+00:00"],
    ):
        await refused_card(bank, "olli", "meetings.book", {**data, "start": start}, "personal")
    assert await meetings_of(bank, case.case_id) == []

    await bank.teams.click("olli", "meetings.book", {**data, "start": choices(card)[0]}, "personal")
    (meeting,) = await meetings_of(bank, case.case_id)
    bank.clock.set(meeting.ends_at + timedelta(minutes=10))
    ref = {"case_id": case.case_id, "meeting_id": meeting.id, "held": "yes"}
    for minutes in ("1e309", "nan", "inf", "-inf", "NaN", "1e3", "５０", 10**30, -50, 50.5):
        text = await refused_card(
            bank, "olli", "meeting.record", {**ref, "minutes": minutes}, "personal"
        )
        assert "from 1 to 480" in text, text
    for meeting_id in (10**30, "²"):
        data = {**ref, "meeting_id": meeting_id, "minutes": 50}
        await refused_card(bank, "olli", "meeting.record", data, "personal")
    # A JSON number too big for a float is read as infinity: refused like the others.
    click = bank.teams.click_activity("olli", "meeting.record", {**ref, "minutes": 0}, "personal")
    raw = json.dumps(click).replace('"minutes": 0', '"minutes": 1e309').encode()
    async with Unchanged(bank):
        status, body = await bank.teams.post(raw=raw)
    assert "from 1 to 480" in words(answer_card(status, body))
    assert_clean(log)


async def test_a_refused_meeting_record_keeps_what_was_typed(bank: Bank) -> None:
    case, card, data = await _booked(bank)
    await bank.teams.click("olli", "meetings.book", {**data, "start": choices(card)[0]}, "personal")
    (meeting,) = await meetings_of(bank, case.case_id)
    bank.clock.set(meeting.ends_at + timedelta(minutes=10))
    note = "Vanhemmat sopivat kesälomasta; seuraavaksi joulu."
    typed = {
        "case_id": case.case_id,
        "meeting_id": meeting.id,
        "held": "yes",
        "minutes": 999,  # over the limit: refused
        "fb_rating": "4",
        "fb_note": note,
    }
    answer = await bank.teams.click("olli", "meeting.record", typed, "personal")
    assert "from 1 to 480" in words(answer)
    values = {n["id"]: n.get("value") for n in _inputs_of(answer) if n["id"] in ("held", "fb_note")}
    assert values == {"held": "yes", "fb_note": note}
    rating = [n for n in _inputs_of(answer) if n["id"] == "fb_rating"]
    assert rating and rating[0].get("value") == "4"
    minutes = [n for n in _inputs_of(answer) if n["id"] == "minutes"]
    assert minutes and minutes[0]["value"] != 999  # what cannot be taken is not offered again


def _inputs_of(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        own = [node] if str(node.get("type", "")).startswith("Input.") else []
        return own + [n for child in node.values() for n in _inputs_of(child)]
    if isinstance(node, list):
        return [n for child in node for n in _inputs_of(child)]
    return []


# -- links ----------------------------------------------------------------------------------------


async def test_signed_links_with_any_characters_are_refused_cleanly(
    bank: Bank, log: pytest.LogCaptureFixture
) -> None:
    http, base = bank.teams.http, bank.teams.base
    async with Unchanged(bank):
        for query in (
            "lang=fi&expires=9999999999&sig=%C3%A4%C3%A4",
            "lang=fi&expires=9999999999&sig=" + "%E2%80%8B" * 43,
            "lang=fi&expires=%C2%B2%C2%B2&sig=abc",
            "lang=fi&expires=%D9%A1%D9%A2&sig=abc",
        ):
            async with http.get(f"{base}/stats/2026.csv?{query}") as resp:
                assert resp.status == 403, query
        for token in ("%C3%A4" * 10, "x" * 500, "..%2F..%2Fetc", "%00"):
            async with http.get(f"{base}/calendar/{token}.ics") as resp:
                assert resp.status == 404, token
            async with http.get(f"{base}/feedback/{token}") as resp:
                assert resp.status == 404, token
    assert_clean(log, "%C3%A4%C3%A4", "ää")


async def test_a_feedback_form_nonce_with_any_characters_is_stale(
    bank: Bank, log: pytest.LogCaptureFixture
) -> None:
    from mediation.feedback import client_link

    case = await bank.paired()
    await bank.teams.click("coord", "case.close", {"case_id": case.case_id, "outcome": "agreement"})
    feedback = bank.sopu.deps.feedback
    assert feedback is not None
    link = await client_link(
        case.case_id,
        1,
        bank.sopu.uow(),
        feedback.store,
        bank.clock,
        bank.sopu.settings.policy,
        timedelta(days=feedback.link_days),
    )
    token = link.token
    url = f"{bank.teams.base}/feedback/{token}"
    async with Unchanged(bank):
        for nonce in ("1.a.ä", "1.ä.b", "²." * 2 + "x", "\u200b" * 40, "1.2." + "é" * 43):
            async with bank.teams.http.post(
                url, data={"nonce": nonce, "rating": "5"}, allow_redirects=False
            ) as resp:
                assert resp.status == 400, nonce
    assert_clean(log, token)


async def test_the_access_log_holds_no_token_or_signature(
    bank: Bank, log: pytest.LogCaptureFixture
) -> None:
    service = bank.app[CALENDAR]
    olli = await bank.mediator("olli")
    feed = await service.feed_url(olli.id)
    assert feed is not None
    path = feed[feed.index("/calendar/") :]
    token = path.removeprefix("/calendar/").removesuffix(".ics")
    http, base = bank.teams.http, bank.teams.base
    async with http.get(f"{base}{path}") as resp:
        assert resp.status == 200
    async with http.get(f"{base}/stats/2026.csv?lang=fi&expires=1&sig=SIGNATURE-77") as resp:
        assert resp.status == 403
    async with http.get(f"{base}/feedback/FORMTOKEN-0123456789abcdef") as resp:
        assert resp.status == 404
    access = [r for r in log.records if r.name == "aiohttp.access"]
    assert len(access) >= 3
    assert_clean(log, token, "SIGNATURE-77", "FORMTOKEN-0123456789abcdef")


async def test_the_graph_validation_echo_is_plain_text_that_is_never_sniffed(bank: Bank) -> None:
    url = f"{bank.teams.base}/api/graph/notifications"
    async with bank.teams.http.post(url, params={"validationToken": "<script>x</script>"}) as resp:
        assert resp.status == 200
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.content_type == "text/plain"
        assert await resp.text() == "<script>x</script>"
    async with bank.teams.http.post(url, params={"validationToken": "x" * 5000}) as resp:
        assert resp.status == 400


async def test_the_chats_of_people_outside_the_registry_are_not_kept(bank: Bank) -> None:
    from bot.bootstrap import forget_old_activities

    status, _ = await bank.teams.say("stranger", "help")
    assert status == 200
    stranger, olli = bank.teams.person("stranger").aad, bank.teams.person("olli").aad
    assert await bank.sopu.store.user_reference(stranger) is not None
    # References are stamped with the real time; the sweep runs a month past it.
    bank.clock.set(datetime.now(UTC) + timedelta(days=31))
    await forget_old_activities(bank.sopu)
    assert await bank.sopu.store.user_reference(stranger) is None
    assert await bank.sopu.store.user_reference(olli) is not None


async def test_an_intake_form_with_other_scripts_digits_comes_back_with_the_problem(
    bank: Bank, log: pytest.LogCaptureFixture
) -> None:
    blank = await bank.intake_form()
    submit = next(a for a in blank["actions"] if a.get("verb") == "case.create")
    for children in ("²⁰¹⁷", "٢٠١٧", "2017, ¹⁹⁹⁹", "2017" * 1000):
        async with Unchanged(bank):
            card = await bank.teams.click(
                "coord",
                "case.create",
                {**FORM, "children": children, **submit["data"]},
                where="personal",
            )
        assert "case.create" in verbs_on(card)  # the form again, with what to fix
        assert t("en", "error.unexpected") not in words(card)
    assert_clean(log)


def _with(activity: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    changed = json.loads(json.dumps(activity))
    *parents, last = path.split(".")
    node = changed
    for key in parents:
        node = node[key]
    node[last] = value
    return changed


ODD_FIELDS: list[tuple[str, Any]] = [
    ("locale", "x" * 5000),
    ("locale", ""),
    ("locale", "zz-ZZ"),
    ("locale", ["fi-FI"]),
    ("id", "x" * 20_000),
    ("timestamp", "not a time"),
    ("timestamp", "99999-01-01T00:00:00Z"),
    ("type", "somethingElse"),
    ("type", 7),
    ("name", "task/fetch"),
    ("name", ["adaptiveCard/action"]),
    ("value", "not an object"),
    ("value", []),
    ("value.action", "case.claim"),
    ("value.action.verb", ["case.claim"]),
    ("value.action.verb", "case.claim" * 2000),
    ("value.action.data", "case_id=1"),
    ("value.action.data", [1]),
    ("from.id", "x" * 20_000),
    ("from.aadObjectId", 12345),
    ("from.aadObjectId", {"id": "x"}),
    ("recipient.id", ""),
    ("entities", [{"type": "mention", "mentioned": "x"}]),
    ("entities", "mention"),
    ("channelData.tenant.id", ""),
    ("channelData.channel", None),
    ("text", "\u0000\u202e" * 1000),
    # A NUL fits no PostgreSQL text nor an HTTP header (the answer's conversation id).
    ("id", "a\u0000b"),
    ("conversation.id", "a:personal-\u0000"),
    ("from.aadObjectId", "aaaaaaaa-0000-4000-8000-00000000000\u0000"),
    ("value.action.data.case_id", "1\u0000"),
]


# botbuilder's Teams handler reads these kinds' channelData itself (TeamsChannelData).
ODD_CHANNEL_DATA: list[tuple[str, Any]] = [
    ("settings", "x"),
    ("notification", 5),
    ("meeting", ["x"]),
    ("onBehalfOf", "x"),
    ("team", "x"),
    ("channel", 7),
]


@pytest.mark.parametrize("kind", ["conversationUpdate", "messageUpdate", "messageDelete"])
async def test_teams_activities_whose_channel_data_cannot_be_read_get_400(
    bank: Bank, log: pytest.LogCaptureFixture, kind: str
) -> None:
    base = bank.teams.message("olli", "", "channel") | {"type": kind}
    for key, value in ODD_CHANNEL_DATA:
        odd = _with(base, f"channelData.{key}", value)
        async with Unchanged(bank):
            status, _ = await bank.teams.post(odd)
        assert status == 400, (kind, key, value)
    async with Unchanged(bank):
        status, _ = await bank.teams.post({**base, "channelData": None})
    assert status == 400
    assert_clean(log)


@pytest.mark.parametrize(
    ("path", "value"), ODD_FIELDS, ids=[f"{p}={v!r}"[:40] for p, v in ODD_FIELDS]
)
async def test_odd_activity_fields_get_a_defined_answer(
    bank: Bank, log: pytest.LogCaptureFixture, path: str, value: Any
) -> None:
    # A click that changes nothing even when it is accepted: the odd field must not make
    # it change anything either, or fail.
    case = await bank.new_case()
    click = bank.teams.click_activity(
        "olli", "card.refresh", {"case_id": case.case_id}, thread=case.thread
    )
    before = await bank.state()
    status, body = await bank.teams.post(raw=json.dumps(_with(click, path, value)).encode())
    assert status in (200, 400, 403), (status, body)
    if status == 200 and isinstance(body, dict) and "value" in body:
        answer_card(status, body)
    assert await bank.state() == before
    assert_clean(log)
