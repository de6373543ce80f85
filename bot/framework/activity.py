"""Activities from JSON without msrest's generic machinery, for the shapes Teams sends.

msrest's Deserializer runs every attribute of every model through a chain of key
extractors and a type dispatch, a large share of a card click's CPU time (measured in
bench/README.md). The plain cases (strings, numbers, flags, timestamps, JSON
objects, nested models and lists of them) are read here the way msrest reads them, into
the same botbuilder models with the same values, unknown keys kept in
``additional_properties`` as msrest keeps them. Anything else raises ``Unusual`` and the
caller falls back to msrest, so an odd activity is read exactly as before.
"""

from __future__ import annotations

import re
from datetime import datetime, tzinfo
from typing import Any, cast

from botbuilder.schema import Activity
from botbuilder.schema.teams import TeamsChannelData
from isodate import UTC, FixedOffset
from msrest.serialization import Deserializer, Model


class Unusual(ValueError):
    """A value this reader does not handle; msrest will read the activity instead."""


_BASIC: dict[str, tuple[type, ...]] = {"str": (str,), "bool": (bool,), "float": (float, int)}


class _Plan:
    """How to read one model class: its attributes, their JSON keys and types."""

    def __init__(self, cls: type[Model]) -> None:
        self.cls = cls
        self.fields: list[tuple[str, str, str]] = []
        for attr, desc in cls._attribute_map.items():
            key = desc["key"]
            if attr == "additional_properties" and key == "":
                continue
            if not key or "." in key or "\\" in key:
                raise Unusual(f"{cls.__name__}.{attr}: a flattened or empty key")
            self.fields.append((attr, key, desc["type"]))
        self.known = frozenset(key for _attr, key, _type in self.fields)
        validation = getattr(cls, "_validation", {}) or {}
        if any(v.get("readonly") or v.get("constant") for v in validation.values()):
            raise Unusual(f"{cls.__name__}: read-only or constant attributes")
        if getattr(cls, "_subtype_map", None):
            raise Unusual(f"{cls.__name__}: polymorphic")


# The two forms Teams writes: "2026-03-02T09:15:00.1234567Z" and, for localTimestamp,
# "2026-03-02T11:15:00.123+02:00".
_STAMP = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|([+-])(\d\d):(\d\d))\Z", re.ASCII
)
_OFFSETS: dict[str, tzinfo] = {}


def timestamp(text: str) -> datetime:
    """A timestamp as msrest reads it: the same moment, fraction cut at microseconds, tzinfo.

    msrest goes through isodate, which parses the fraction as a Decimal, several times slower
    than reading the forms Teams writes directly (bench/README.md).
    The forms Teams writes are read here into the same value with the same tzinfo classes;
    anything else, and any date or time out of range, goes to msrest, which reads or
    refuses it as before.
    """
    found = _STAMP.match(text)
    if found is not None:
        year, month, day, hour, minute, second, fraction, zone, sign, hh, mm = found.groups()
        if 1 < int(year) < 9999:  # msrest refuses what ends outside years 1-9999 in UTC
            try:
                return datetime(
                    int(year),
                    int(month),
                    int(day),
                    int(hour),
                    int(minute),
                    int(second),
                    int(fraction[:6].ljust(6, "0")) if fraction else 0,
                    UTC if zone == "Z" else _offset(zone, sign, int(hh), int(mm)),
                )
            except ValueError:
                pass  # a day, hour or minute out of range: msrest's error, below
    stamp: datetime = Deserializer.deserialize_iso(text)
    return stamp


def _offset(zone: str, sign: str, hours: int, minutes: int) -> tzinfo:
    found = _OFFSETS.get(zone)
    if found is None:
        factor = -1 if sign == "-" else 1
        found = _OFFSETS.setdefault(zone, FixedOffset(factor * hours, factor * minutes, zone))
    return found


class ActivityReader:
    """Reads botbuilder schema models from parsed JSON; one per process, read-only after."""

    def __init__(self, models: dict[str, type[Model]]) -> None:
        self._models = models
        self._plans: dict[str, _Plan] = {}

    def read(self, type_name: str, data: Any) -> Any:
        if not isinstance(data, dict):
            raise Unusual(f"{type_name}: not an object")
        plan = self._plans.get(type_name)
        if plan is None:
            cls = self._models.get(type_name)
            if cls is None:
                raise Unusual(f"unknown model {type_name}")
            plan = self._plans[type_name] = _Plan(cls)
        kwargs = {attr: self._value(data.get(key), kind) for attr, key, kind in plan.fields}
        model = plan.cls(**kwargs)
        extra = data.keys() - plan.known
        if extra:
            model.additional_properties = {key: data[key] for key in extra}
        return model

    def _value(self, value: Any, kind: str) -> Any:
        if value is None:
            return None
        allowed = _BASIC.get(kind)
        if allowed is not None:
            if not isinstance(value, allowed) or (kind == "float" and isinstance(value, bool)):
                raise Unusual(f"{kind} expected")
            if kind == "float":
                return float(cast(float, value))  # as msrest does with an integer in a float field
            return value
        if kind == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                return value
            raise Unusual("int expected")
        if kind == "object":
            if isinstance(value, dict | list | str | int | float | bool):
                return value
            raise Unusual("JSON value expected")
        if kind == "iso-8601":
            if not isinstance(value, str):
                raise Unusual("timestamp expected")
            try:
                return timestamp(value)
            except Exception as exc:  # msrest's own error types; msrest gets to refuse it
                raise Unusual("not a timestamp") from exc
        if kind.startswith("[") and kind.endswith("]"):
            if not isinstance(value, list):
                raise Unusual("list expected")
            inner = kind[1:-1]
            return [self._value(item, inner) for item in value]
        if kind in self._models:
            return self.read(kind, value)
        raise Unusual(f"type {kind}")


# msrest's Model.deserialize builds this (a map of every schema class) anew for each call;
# it is the same map each time, and the deserializer keeps no state between calls.
_MODELS = Activity._infer_class_models()
_DESERIALIZE = Deserializer(_MODELS)
_READER = ActivityReader(_MODELS)


# Sopu reads a message's or a click's channelData itself (bot/gate.py, handler.py);
# botbuilder's Teams handler reads every other kind's (conversationUpdate, messageUpdate...)
# as a TeamsChannelData, and a shape it cannot read would fail the turn with a traceback.
_OWN_CHANNEL_DATA = frozenset({"message", "invoke"})


def read_activity(data: dict[str, Any]) -> Activity:
    """The Activity model of a JSON activity, as msrest's deserializer makes it.

    ValueError for a Teams activity whose channelData botbuilder's Teams handler could not
    read (the endpoint answers 400).
    """
    try:
        activity: Activity = _READER.read(Activity.__name__, data)
    except Unusual:
        activity = _DESERIALIZE(Activity.__name__, data)
    if activity.channel_id == "msteams" and activity.type not in _OWN_CHANNEL_DATA:
        if not isinstance(activity.channel_data, dict):
            raise ValueError("a Teams activity without channelData")
        TeamsChannelData().deserialize(activity.channel_data)  # raises on a shape it cannot read
    return activity
