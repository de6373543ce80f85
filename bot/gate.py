"""What is checked before an activity reaches the bot: shape, origin, redelivery.

These checks run on the HTTP request, so a refused activity gets its HTTP status (400,
403) and never enters the adapter; the bot's own proactive turns never pass here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from bot.settings import Settings

MAX_BODY = 256 * 1024


class BadActivity(ValueError):
    """The request body is not an activity (HTTP 400)."""


def parse_activity(body: bytes) -> dict[str, Any]:
    """The JSON of an activity whose shape Sopu can work with; BadActivity otherwise."""
    if len(body) > MAX_BODY:
        raise BadActivity("request body too large")
    try:
        data = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadActivity(f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadActivity("an activity is a JSON object")
    for key in ("type", "serviceUrl"):
        if not isinstance(data.get(key), str) or not data[key]:
            raise BadActivity(f"activity without {key}")
    for key in ("conversation", "from", "recipient"):
        if not isinstance(data.get(key), dict) or not isinstance(data[key].get("id"), str):
            raise BadActivity(f"activity without {key}.id")
    if "channelData" in data and not isinstance(data["channelData"], dict | None):
        raise BadActivity("channelData must be an object")
    return data


def _id(channel_data: dict[str, Any], key: str) -> str:
    part = channel_data.get(key)
    value = part.get("id") if isinstance(part, dict) else None
    return value.lower() if isinstance(value, str) else ""


@dataclass(frozen=True)
class Origin:
    tenant_ids: frozenset[str]  # every tenant the activity names (Teams names one, twice)
    team_id: str
    channel_id: str
    conversation_type: str


def origin_of(data: dict[str, Any]) -> Origin:
    channel_data = data.get("channelData") or {}
    conversation = data.get("conversation") or {}
    named = (_id(channel_data, "tenant"), str(conversation.get("tenantId") or "").lower())
    return Origin(
        tenant_ids=frozenset(t for t in named if t),
        team_id=_id(channel_data, "team"),
        channel_id=_id(channel_data, "channel"),
        conversation_type=str(conversation.get("conversationType") or ""),
    )


def refusal(origin: Origin, settings: Settings) -> str | None:
    """Why an activity from this origin is not accepted, or None if it is."""
    if settings.allowed_tenants and not (
        origin.tenant_ids and origin.tenant_ids <= settings.allowed_tenants
    ):
        # An activity that names an allowed tenant in one place and another elsewhere
        # is not from the allowed tenant.
        return "tenant not allowed"
    in_team = origin.conversation_type == "channel" or bool(origin.team_id)
    if in_team:
        if settings.allowed_teams and origin.team_id not in settings.allowed_teams:
            return "team not allowed"
        if settings.allowed_channels and origin.channel_id not in settings.allowed_channels:
            return "channel not allowed"
    return None


def redelivery_key(data: dict[str, Any]) -> str | None:
    """The id Teams repeats when it redelivers an activity (None: cannot be told apart)."""
    activity_id = data.get("id")
    if not isinstance(activity_id, str) or not activity_id:
        return None
    return f"{data['conversation']['id']}|{activity_id}"[:500]
