"""The edge's own readers: bounded card data, the gate's limits, HMAC, the access log, .ics text."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import icalendar
import pytest

from bot import inputs
from bot.access_log import redacted
from bot.gate import (
    MAX_DEPTH,
    BadActivity,
    RefusalLog,
    media_type_accepted,
    origin_of,
    parse_activity,
    refusal,
    structural_problem,
)
from bot.settings import Settings, is_loopback
from bot.signing import sign, verify
from graph.local import ics_text, render_ics
from mediation import errors
from storage.calendar import LocalEvent

# -- card data -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", [10**30, 2**31, -1, "²", "١", "１", "1.5", 1.5, True, [], {}, "12345678901", "0x1"]
)
def test_ids_outside_the_database_range_or_in_other_digits_are_refused(value: Any) -> None:
    with pytest.raises(errors.InvalidInput):
        inputs.whole({"case_id": value}, "case_id")


@pytest.mark.parametrize(
    "value, expected", [(7, 7), ("7", 7), (" 42 ", 42), (2**31 - 1, 2**31 - 1)]
)
def test_ids_in_range_are_read(value: Any, expected: int) -> None:
    assert inputs.whole({"id": value}, "id") == expected


def test_an_absent_optional_id_is_none_and_a_required_one_is_refused() -> None:
    assert inputs.whole({"seat": ""}, "seat", required=False) is None
    with pytest.raises(errors.InvalidInput):
        inputs.whole({}, "seat")


@pytest.mark.parametrize(
    "value", ["1e309", "nan", "inf", "-inf", float("inf"), float("nan"), 10**400, "1e3", "５０"]
)
def test_numbers_that_are_not_finite_short_decimals_are_not_numbers(value: Any) -> None:
    assert inputs.number(value) is None


@pytest.mark.parametrize("value, expected", [(50, 50.0), ("50", 50.0), ("45,5", 45.5), (1.5, 1.5)])
def test_numbers_are_read_with_comma_or_point(value: Any, expected: float) -> None:
    assert inputs.number(value) == expected


@pytest.mark.parametrize(
    "value",
    ["9999-12-31T23:30:00+00:00", "0001-01-01T00:00:00+00:00", "2026-03-02T10:00:00", "soon", 5],
)
def test_moments_outside_the_years_sopu_books_or_without_an_offset_are_refused(
    value: Any,
) -> None:
    with pytest.raises(errors.InvalidInput):
        inputs.moment({"start": value}, "start")


def test_a_moment_with_an_offset_is_read() -> None:
    found = inputs.moment({"start": "2026-03-02T10:00:00+02:00"}, "start")
    assert found == datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def test_an_actor_id_longer_than_its_column_is_nobody() -> None:
    assert inputs.actor_id("A" * 36) == "a" * 36
    assert inputs.actor_id("a" * 65) == ""
    assert inputs.actor_id(["x"]) == ""


# -- the gate ----------------------------------------------------------------------------

ACTIVITY: dict[str, Any] = {
    "type": "message",
    "serviceUrl": "https://smba.example/",
    "conversation": {"id": "a:1", "conversationType": "personal", "tenantId": "t1"},
    "from": {"id": "29:1"},
    "recipient": {"id": "28:bot"},
}


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 200_000 + b"]" * 200_000,  # beyond the JSON reader's own recursion limit
        json.dumps(ACTIVITY).encode("utf-16"),
        b'{"type": "message", "text": "\xff\xfe"}',
        json.dumps({**ACTIVITY, "value": float("nan")}).encode(),
        json.dumps({**ACTIVITY, "value": float("-inf")}).encode(),
        json.dumps({**ACTIVITY, "text": "\ud800"}).encode(),
        json.dumps({**ACTIVITY, "\udfff": 1}).encode(),
        b"[]",
        b"7",
    ],
)
def test_what_is_not_a_json_activity_in_utf_8_is_a_bad_activity(body: bytes) -> None:
    with pytest.raises(BadActivity):
        parse_activity(body)


def _deep(levels: int) -> dict[str, Any]:
    node: dict[str, Any] = {}
    for _ in range(levels):
        node = {"x": node}
    return node


def test_nesting_is_limited_below_what_the_readers_can_take() -> None:
    parse_activity(json.dumps({**ACTIVITY, "channelData": _deep(MAX_DEPTH - 3)}).encode())
    with pytest.raises(BadActivity):
        parse_activity(json.dumps({**ACTIVITY, "channelData": _deep(MAX_DEPTH)}).encode())
    with pytest.raises(BadActivity):
        parse_activity(json.dumps({**ACTIVITY, "entities": [[[[[[_deep(MAX_DEPTH)]]]]]]}).encode())


def test_every_depth_and_escape_gets_the_walk_s_answer_though_most_bodies_skip_it() -> None:
    # parse_activity walks the JSON only when its brackets or escapes could hide a problem.
    for levels in range(MAX_DEPTH - 6, MAX_DEPTH + 3):
        for where in ("channelData", "value"):
            data = {**ACTIVITY, where: _deep(levels)}
            for text in ("plain", "\ud800", "\u00e4", "\U0001f600"):
                data["text"] = text
                for body in (
                    json.dumps(data).encode(),
                    json.dumps(data, ensure_ascii=False).encode("utf-8", "surrogatepass"),
                ):
                    problem = structural_problem(json.loads(body.decode("utf-8", "surrogatepass")))
                    if problem is None:
                        parse_activity(body)
                    else:
                        with pytest.raises(BadActivity):
                            parse_activity(body)


def test_the_fewest_brackets_that_can_nest_too_deeply_are_walked() -> None:
    # A string inside MAX_DEPTH containers is too deep: the root and MAX_DEPTH - 1 lists,
    # exactly MAX_DEPTH brackets. One list fewer is deep enough, and refused for what it lacks.
    def nested(lists: int) -> bytes:
        return b'{"x": ' + b"[" * lists + b'"s"' + b"]" * lists + b"}"

    with pytest.raises(BadActivity, match="nested too deeply"):
        parse_activity(nested(MAX_DEPTH - 1))
    with pytest.raises(BadActivity, match="without type"):
        parse_activity(nested(MAX_DEPTH - 2))


@pytest.mark.parametrize(
    "content_type, charset, accepted",
    [
        ("application/json", None, True),
        ("application/json", "utf-8", True),
        ("Application/JSON", "UTF-8", True),
        ("application/json", "iso-8859-1", False),
        ("application/jsonx", None, False),
        ("text/plain", None, False),
        ("application/x-json-ish", None, False),
        ("application/octet-stream", None, False),
        ("", None, False),
    ],
)
def test_only_the_json_media_type_is_accepted(
    content_type: str, charset: str | None, accepted: bool
) -> None:
    assert media_type_accepted(content_type, charset) is accepted


SETTINGS = Settings(
    database_url="sqlite://",
    allowed_tenants=frozenset({"t1"}),
    allowed_teams=frozenset({"19:team"}),
    allowed_channels=frozenset({"19:chan"}),
)


def _origin(**conversation: Any) -> dict[str, Any]:
    return {**ACTIVITY, "conversation": {**ACTIVITY["conversation"], **conversation}}


def test_only_the_manifest_s_conversation_types_are_served() -> None:
    assert refusal(origin_of(_origin()), SETTINGS) is None
    for kind in ("groupChat", "meeting", "", None, ["personal"]):
        assert refusal(origin_of(_origin(conversationType=kind)), SETTINGS) is not None


def test_tenant_team_and_channel_ids_are_read_only_as_strings() -> None:
    listed = {**_origin(), "channelData": {"tenant": {"id": ["t1", "foreign"]}}}
    assert refusal(origin_of(listed), SETTINGS) is not None
    assert refusal(origin_of(_origin(tenantId=["t1", "foreign"])), SETTINGS) is not None
    assert refusal(origin_of({**_origin(), "channelData": {"tenant": "t1"}}), SETTINGS)
    assert refusal(origin_of({**_origin(), "channelData": {"team": {"id": 19}}}), SETTINGS)


def test_answers_go_only_into_the_conversation_the_activity_names_as_its_place() -> None:
    channel_data = {"tenant": {"id": "t1"}, "team": {"id": "19:team"}, "channel": {"id": "19:chan"}}

    def channel(conversation_id: str) -> dict[str, Any]:
        return {
            **_origin(id=conversation_id, conversationType="channel"),
            "channelData": channel_data,
        }

    assert refusal(origin_of(channel("19:chan")), SETTINGS) is None
    assert refusal(origin_of(channel("19:CHAN;messageid=17")), SETTINGS) is None
    assert refusal(origin_of(channel("19:elsewhere;messageid=17")), SETTINGS) is not None
    assert refusal(origin_of(channel("a:personal-29:olli")), SETTINGS) is not None
    assert refusal(origin_of(_origin(id="19:chan;messageid=17")), SETTINGS) is not None


def test_refusals_are_logged_at_a_bounded_rate(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    log = RefusalLog(per_minute=3, clock=lambda: now[0])
    with caplog.at_level(logging.WARNING, logger="bot.gate"):
        for _ in range(1000):
            log.refused(403, "tenant not allowed")
        assert len(caplog.records) == 3
        now[0] += 61
        log.refused(403, "tenant not allowed")
    assert len(caplog.records) == 5
    assert "997 more" in caplog.records[3].getMessage()


# -- signatures ----------------------------------------------------------------------------


@pytest.mark.parametrize("signature", ["ä", "\u200b" * 43, "x" * 43 + "é", "\ud800", ""])
def test_a_signature_with_any_characters_is_simply_wrong(signature: str) -> None:
    assert verify(b"k" * 32, "message", signature) is False


def test_the_right_signature_still_verifies() -> None:
    assert verify(b"k" * 32, "message", sign(b"k" * 32, "message"))


# -- the access log ------------------------------------------------------------------------


def test_the_access_log_hides_feed_and_form_tokens_and_signed_query_values() -> None:
    token = "s3cr3t-TOKEN-abcdefghijklmnop"
    assert token not in redacted(f"/feedback/{token}", {})
    assert token not in redacted(f"/feedback/{token}/thanks", {"lang": "fi"})
    assert redacted(f"/feedback/{token}/thanks", {"lang": "fi"}).endswith("/thanks?lang=fi")
    assert redacted(f"/calendar/{token}.ics", {}) == "/calendar/***.ics"
    for doubled in (f"//calendar/{token}.ics", f"/calendar//{token}.ics", f"//feedback//{token}"):
        assert token not in redacted(doubled, {}), doubled
    shown = redacted("/stats/2026.csv", {"lang": "sv", "expires": "1790000000", "sig": token})
    assert token not in shown and "1790000000" not in shown and "lang=sv" in shown
    graph = redacted("/api/graph/notifications", {"validationToken": "echo-me-7f3a"})
    assert "echo-me-7f3a" not in graph
    assert "\n" not in redacted("/x\nforged line", {})


# -- .ics text -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "line one\r\nline two",
        "bare\rcarriage return\rDESCRIPTION:forged",
        "lf\nonly",
        "mixed\r\n\r\n\n\rend",
        "a, b; c \\ d \\n not a newline",
        "tab\tand bell\x07 and nul\x00",
        "Ääkköset ja sovittelu " * 10,
    ],
)
def test_ics_text_reads_back_as_the_same_text(text: str) -> None:
    escaped = ics_text(text)
    assert "\r" not in escaped and "\n" not in escaped
    start = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
    event = LocalEvent(
        id="1",
        mailbox="olli@example.org",
        subject=text,
        body=text,
        cancel_comment=text,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        all_day=False,
        show_as="busy",
        attendees=(),
        sequence=0,
        cancelled=True,
        updated_at=start,
    )
    feed = render_ics([event], "Sopu", start)
    lines = feed.split("\r\n")
    assert all(len(line.encode("utf-8")) <= 75 for line in lines)
    assert "\r" not in feed.replace("\r\n", "") and "\n" not in feed.replace("\r\n", "")
    parsed = icalendar.Calendar.from_ical(feed)
    (vevent,) = parsed.walk("VEVENT")
    expected = (
        text.replace("\r\n", "\n").replace("\r", "\n").replace("\x07", "").replace("\x00", "")
    )
    assert str(vevent["SUMMARY"]) == expected
    assert str(vevent["DESCRIPTION"]) == expected
    assert str(vevent["STATUS"]) == "CANCELLED"
    assert len(parsed.walk("VEVENT")) == 1


# -- development mode ----------------------------------------------------------------------


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_addresses(host: str) -> None:
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "", "::", "192.168.1.5", "example.org"])
def test_public_addresses_need_authentication_or_the_loud_setting(host: str) -> None:
    assert not is_loopback(host)
    assert Settings(database_url="sqlite://").bind_problem(host) is not None
    loud = Settings(database_url="sqlite://", allow_unauthenticated_public_bind=True)
    assert loud.bind_problem(host) is None
    authenticated = Settings(
        database_url="sqlite://",
        bot_app_id="0b5f4a6e-0000-4000-8000-00000000a991",
        bot_app_password="secret",
        bot_tenant_id="t",
    )
    assert authenticated.bind_problem(host) is None


def test_the_loud_setting_is_read_from_the_environment() -> None:
    env = {"SOPU_ALLOW_UNAUTHENTICATED_PUBLIC_BIND": "1", "SOPU_HOST": "0.0.0.0"}
    settings = Settings.from_env(env, dotenv=None)
    assert settings.bind_problem(settings.host) is None
    assert Settings.from_env({"SOPU_HOST": "0.0.0.0"}, dotenv=None).bind_problem("0.0.0.0")


def test_a_proxys_address_entry_may_carry_a_port() -> None:
    from aiohttp.test_utils import make_mocked_request

    from bot.inputs import client_address

    for entry, expected in (
        ("203.0.113.7", "203.0.113.7"),
        ("203.0.113.7:51234", "203.0.113.7"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("not-an-address", "-"),  # the connection's own address (none here)
    ):
        request = make_mocked_request("POST", "/contact", headers={"X-Forwarded-For": entry})
        assert client_address(request, 1) == expected, entry


def test_a_fast_sqlite_statement_that_fails_names_no_value() -> None:
    """The SQLite fast path raises SQLAlchemy's errors itself: with the values hidden, as the
    engines hide them, since a value may be a parent's address."""
    import sqlite3

    from sqlalchemy.exc import IntegrityError

    from storage.fast.statements import cursor

    raw = sqlite3.connect(":memory:")
    raw.execute("CREATE TABLE t (x TEXT UNIQUE)")
    raw.execute("INSERT INTO t VALUES ('kanarialintu@example.org')")
    with pytest.raises(IntegrityError) as refused:
        cursor(raw, "INSERT INTO t VALUES (?)", ["kanarialintu@example.org"])
    assert "kanarialintu" not in str(refused.value)
    assert "hidden" in str(refused.value)


def test_long_activity_ids_keep_apart_as_redelivery_keys() -> None:
    from bot.gate import REDELIVERY_KEY_MAX, redelivery_key

    conversation = {"id": "a:personal-" + "x" * 600}
    one = redelivery_key({"id": "1", "conversation": conversation})
    other = redelivery_key({"id": "2", "conversation": conversation})
    assert one is not None and other is not None and one != other
    assert len(one) <= REDELIVERY_KEY_MAX and len(other) <= REDELIVERY_KEY_MAX
    short = redelivery_key({"id": "1", "conversation": {"id": "a:personal-1"}})
    assert short == "a:personal-1|1"
