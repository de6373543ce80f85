"""The fast activity reader gives exactly what msrest's deserializer gives, or steps aside."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from botbuilder.schema import Activity
from msrest.exceptions import DeserializationError
from msrest.serialization import Deserializer, Model

from bot.framework.activity import ActivityReader, Unusual, read_activity, timestamp

MODELS = Activity._infer_class_models()
TENANT = "72f988bf-0000-4000-8000-000000000001"


def _msrest(data: dict[str, Any]) -> Activity:
    return Deserializer(MODELS)("Activity", copy.deepcopy(data))


def _plain(value: Any) -> Any:
    """A model tree as plain data: every attribute, additional properties included."""
    if isinstance(value, Model):
        return {
            "__class__": type(value).__name__,
            **{k: _plain(v) for k, v in vars(value).items()},
        }
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _base(**extra: Any) -> dict[str, Any]:
    return {
        "type": "message",
        "id": "1732390000000",
        "timestamp": "2026-11-23T20:38:12.1234567Z",
        "localTimestamp": "2026-11-23T22:38:12.123+02:00",
        "localTimezone": "Europe/Helsinki",
        "serviceUrl": "https://smba.trafficmanager.net/emea/",
        "channelId": "msteams",
        "from": {
            "id": "29:1abc",
            "name": "Olli Kokenut",
            "aadObjectId": "aaaaaaaa-0000-4000-8000-000000000002",
            "userRole": "user",  # not in the schema: kept as an additional property
        },
        "recipient": {"id": "28:sopu", "name": "Sopu"},
        "conversation": {
            "id": "19:cases@thread.tacv2;messageid=1732390000000",
            "conversationType": "channel",
            "isGroup": True,
            "tenantId": TENANT,
        },
        "channelData": {
            "tenant": {"id": TENANT},
            "team": {"id": "19:team@thread.tacv2", "name": "Sovittelu"},
            "channel": {"id": "19:cases@thread.tacv2", "name": "Tapaukset"},
            "eventType": None,
        },
        "locale": "fi-FI",
        "entities": [
            {"type": "clientInfo", "locale": "fi-FI", "country": "FI", "platform": "Web"},
        ],
        **extra,
    }


SHAPES = {
    "a mention in a channel": _base(
        text="<at>Sopu</at>&nbsp;help\r\n",
        textFormat="plain",
        attachments=[{"contentType": "text/html", "content": "<div>help</div>"}],
        entities=[
            {
                "type": "mention",
                "text": "<at>Sopu</at>",
                "mentioned": {"id": "28:sopu", "name": "Sopu"},
            }
        ],
    ),
    "a card click": _base(
        type="invoke",
        name="adaptiveCard/action",
        replyToId="1732390000001",
        value={
            "action": {"type": "Action.Execute", "verb": "case.claim", "data": {"case_id": 7}},
            "trigger": "manual",
        },
    ),
    "an install": _base(
        type="conversationUpdate",
        membersAdded=[{"id": "28:sopu"}, {"id": "29:1abc", "aadObjectId": "x"}],
        membersRemoved=[],
    ),
    "an app update": _base(type="installationUpdate", action="add"),
    "without optional parts": {
        "type": "message",
        "serviceUrl": "http://127.0.0.1:3979/",
        "from": {"id": "u"},
        "recipient": {"id": "b"},
        "conversation": {"id": "c"},
    },
    "nulls where values may be": _base(text=None, entities=None, value=None),
    "a float where an integer stands": _base(
        type="invoke", name="adaptiveCard/action", value={"n": 1.5}, listenFor=["a", "b"]
    ),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_the_fast_reader_builds_what_msrest_builds(shape: str) -> None:
    data = SHAPES[shape]
    fast = ActivityReader(MODELS).read("Activity", json.loads(json.dumps(data)))
    assert _plain(fast) == _plain(_msrest(data))


@pytest.mark.parametrize(
    "odd",
    [
        {"conversation": {"id": "c", "isGroup": "yes"}},  # a flag as a string
        {"timestamp": 1732390000},  # a timestamp as a number
        {"timestamp": "YESTERDAY"},  # not a timestamp at all: msrest refuses it
        {"entities": {"type": "mention"}},  # an object where a list stands
        {"from": "29:1abc"},  # a string where an account stands
    ],
)
def test_odd_values_are_left_to_msrest(odd: dict[str, Any]) -> None:
    data = _base(**odd)
    with pytest.raises(Unusual):
        ActivityReader(MODELS).read("Activity", json.loads(json.dumps(data)))
    try:
        expected = _plain(_msrest(data))
    except Exception as exc:  # msrest refuses it too: so must the gate
        with pytest.raises(type(exc)):
            read_activity(json.loads(json.dumps(data)))
    else:
        assert _plain(read_activity(json.loads(json.dumps(data)))) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-23T20:38:12.1234567Z",
        "2026-11-23T20:38:12.123456789Z",
        "2026-11-23T20:38:12.5Z",
        "2026-11-23T20:38:12Z",
        "2026-11-23T22:38:12.123+02:00",
        "2026-11-23T15:08:12.000-05:30",
        "2026-11-23T20:38:12+00:00",
        "2026-11-23t20:38:12z",  # lower case: msrest's own reading
        "2026-11-23T20:38:12",  # no zone
        "2026-11-23T20:38:12.12+0200",
        "2026-02-29T10:00:00Z",  # no such day: refused
        "2026-11-23T24:00:00Z",
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59-01:00",  # past year 9999 in UTC: refused
        "2026-11-23T20:38:12.1Z trailing",
    ],
)
def test_a_timestamp_reads_as_msrest_reads_it(text: str) -> None:
    try:
        expected = Deserializer.deserialize_iso(text)
    except DeserializationError:
        with pytest.raises(DeserializationError):
            timestamp(text)
        return
    got = timestamp(text)
    assert got == expected
    assert (got.replace(tzinfo=None), got.utcoffset()) == (
        expected.replace(tzinfo=None),
        expected.utcoffset(),
    )
    assert type(got.tzinfo) is type(expected.tzinfo)
    assert got.tzname() == expected.tzname()


def test_the_forms_teams_writes_are_read_without_msrest(monkeypatch: pytest.MonkeyPatch) -> None:
    import bot.framework.activity

    def _no(text: str) -> Any:
        raise AssertionError(f"msrest read {text}")

    monkeypatch.setattr(bot.framework.activity.Deserializer, "deserialize_iso", _no)
    assert timestamp("2026-11-23T20:38:12.1234567Z").microsecond == 123456
    assert timestamp("2026-11-23T22:38:12.123+02:00").hour == 22
