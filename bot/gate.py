"""What is checked before an activity reaches the bot: shape, origin, redelivery.

These checks run on the HTTP request, so a refused activity gets its HTTP status (400,
403) and never enters the adapter; the bot's own proactive turns never pass here.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot import inputs
from bot.settings import Settings
from mediation.trouble import PerMinute

log = logging.getLogger(__name__)

MAX_BODY = 256 * 1024
REDELIVERY_KEY_MAX = 500  # what a key may take of the processed activities' index
# Teams' activities nest about 8 levels (a card's data inside action inside value); a
# card's own inputs add a few more.
MAX_DEPTH = 32


class BadActivity(ValueError):
    """The request body is not an activity (HTTP 400)."""


def parse_activity(body: bytes) -> dict[str, Any]:
    """The JSON of an activity whose shape Sopu can work with; BadActivity otherwise."""
    if len(body) > MAX_BODY:
        raise BadActivity("request body too large")
    try:
        data = inputs.read_json(body)
    except inputs.NotJson as exc:
        raise BadActivity(str(exc)) from None
    if not isinstance(data, dict):
        raise BadActivity("an activity is a JSON object")
    # The walk costs a few percent of a click, and most activities cannot hold either problem:
    # nesting needs a bracket per level, and a lone surrogate a \u escape (the body was strict
    # UTF-8, which encodes none). Brackets and escapes inside strings only make it walk.
    if body.count(b"{") + body.count(b"[") >= MAX_DEPTH or b"\\u" in body:
        structure_problem = structural_problem(data)
        if structure_problem is not None:
            raise BadActivity(structure_problem)
    for key in ("type", "serviceUrl"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise BadActivity(f"activity without {key}")
    for key in ("conversation", "from", "recipient"):
        if not isinstance(data.get(key), dict) or not isinstance(data[key].get("id"), str):
            raise BadActivity(f"activity without {key}.id")
    if "channelData" in data and not isinstance(data["channelData"], dict | None):
        raise BadActivity("channelData must be an object")
    return data


def structural_problem(data: Any) -> str | None:
    """What makes parsed JSON unfit to be an activity at all, or None.

    Nesting deeper than MAX_DEPTH would make msrest's recursive reader (and anything else
    walking the activity) fail; a lone UTF-16 surrogate (``"\\ud800"``) is a string that
    cannot be written back as UTF-8, to the database or to the card answer, and a NUL
    (``"\\u0000"``) one that PostgreSQL's text cannot hold nor an HTTP header carry.
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return "nested too deeply"
        if isinstance(node, dict):
            for key, value in node.items():
                if not _encodable(key):
                    return "text that is not Unicode"
                if isinstance(value, dict | list | str):
                    stack.append((value, depth + 1))
        elif isinstance(node, list):
            stack.extend(
                (value, depth + 1) for value in node if isinstance(value, dict | list | str)
            )
        elif isinstance(node, str) and not _encodable(node):
            return "text that is not Unicode"
    return None


def _encodable(text: str) -> bool:
    if "\x00" in text:
        return False
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def media_type_accepted(content_type: str, charset: str | None) -> bool:
    """Only ``application/json`` (in UTF-8, if a charset is named) is an activity's body."""
    return content_type.lower() == "application/json" and (charset or "utf-8").lower() == "utf-8"


# The conversation types of the scopes appPackage/manifest.json declares: a personal chat
# ("personal") and a team's channels ("team"). Group chats and meetings are not offered.
CONVERSATION_TYPES = frozenset({"personal", "channel"})


class _NotText(ValueError):
    """An id that is present but is not a string: no origin can be read from it."""


def _text_id(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _NotText()
    return value.lower()


def _id(channel_data: dict[str, Any], key: str) -> str:
    part = channel_data.get(key)
    if part is None:
        return ""
    if not isinstance(part, dict):
        raise _NotText()
    return _text_id(part.get("id"))


@dataclass(frozen=True)
class Origin:
    tenant_ids: frozenset[str]  # every tenant the activity names (Teams names one, twice)
    team_id: str
    channel_id: str
    conversation_type: str
    conversation_id: str = ""
    readable: bool = True  # False: a tenant, team or channel id that is not a string


def origin_of(data: dict[str, Any]) -> Origin:
    channel_data = data.get("channelData") or {}
    conversation = data.get("conversation") or {}
    kind = conversation.get("conversationType")
    try:
        named = (_id(channel_data, "tenant"), _text_id(conversation.get("tenantId")))
        return Origin(
            tenant_ids=frozenset(t for t in named if t),
            team_id=_id(channel_data, "team"),
            channel_id=_id(channel_data, "channel"),
            conversation_type=kind if isinstance(kind, str) else "",
            conversation_id=str(conversation.get("id") or "").lower(),
        )
    except _NotText:
        return Origin(frozenset(), "", "", "", readable=False)


def refusal(origin: Origin, settings: Settings) -> str | None:
    """Why an activity from this origin is not accepted, or None if it is."""
    if not origin.readable:
        # A list of tenants must not let an allowed one vouch for the others.
        return "origin not readable"
    if settings.allowed_tenants and not (
        origin.tenant_ids and origin.tenant_ids <= settings.allowed_tenants
    ):
        # An activity that names an allowed tenant in one place and another elsewhere
        # is not from the allowed tenant.
        return "tenant not allowed"
    if origin.conversation_type not in CONVERSATION_TYPES:
        return "conversation type not served"
    in_team = origin.conversation_type == "channel" or bool(origin.team_id)
    if in_team:
        if settings.allowed_teams and origin.team_id not in settings.allowed_teams:
            return "team not allowed"
        if settings.allowed_channels and origin.channel_id not in settings.allowed_channels:
            return "channel not allowed"
    return _conversation_mismatch(origin)


def _conversation_mismatch(origin: Origin) -> str | None:
    """Sopu answers into the activity's conversation: it must be the place the activity names.

    A channel's conversation is the channel itself or one of its threads
    (``<channel id>;messageid=<n>``); a personal chat is never a team's thread.
    """
    conversation = origin.conversation_id
    if origin.conversation_type == "channel":
        channel = origin.channel_id
        if not channel or not (conversation == channel or conversation.startswith(channel + ";")):
            return "conversation not in its channel"
    elif conversation.startswith("19:"):
        return "conversation not a personal chat"
    return None


def redelivery_key(data: dict[str, Any]) -> str | None:
    """The id Teams repeats when it redelivers an activity (None: cannot be told apart)."""
    activity_id = data.get("id")
    if not isinstance(activity_id, str) or not activity_id:
        return None
    key = f"{data['conversation']['id']}|{activity_id}"
    if len(key) <= REDELIVERY_KEY_MAX:
        return key
    # Cut short, two such keys could be taken for one. A digest keeps
    # them apart (Teams' own ids are far shorter, so this is only ever a made-up one).
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
    return f"{key[: REDELIVERY_KEY_MAX - 66]}|#{digest}"


class RefusalLog:
    """Logs refused requests at a bounded rate (``PerMinute``), so that a flood cannot fill
    the disk."""

    def __init__(self, per_minute: int = 20, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.lines = PerMinute(per_minute, clock)

    def refused(self, status: int, why: str) -> None:
        if self.lines.allow(log):
            log.warning("refused a request (%d): %s", status, why)
