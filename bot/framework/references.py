"""Conversation references and card messages as botbuilder writes them, as plain dicts."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.schema import (
    Activity,
    ActivityEventNames,
    ActivityTypes,
    ChannelAccount,
    ConversationAccount,
)

from bot.framework.connector import Created
from cards.base import Card


def card_activity(card: Card) -> Activity:
    return MessageFactory.attachment(CardFactory.adaptive_card(card))


def reference_dict(activity: Activity) -> dict[str, Any]:
    ref = TurnContext.get_conversation_reference(activity)
    data: dict[str, Any] = ref.serialize()
    data["locale"] = activity.locale or data.get("locale")
    return data


def created_reference(
    created: Created,
    service_url: str,
    bot: dict[str, Any] | None = None,
    tenant_id: str | None = None,
) -> dict[str, Any]:
    """The reference to a conversation Sopu opened, as botbuilder gave it to the bot.

    That is the reference of the turn CloudAdapter ran after creating it
    (CloudAdapterBase._create_create_activity), kept so stored references stay as before.
    """
    event = Activity(
        type=ActivityTypes.event,
        name=ActivityEventNames.create_conversation,
        id=created.activity_id or str(uuid4()),
        channel_id="msteams",
        service_url=service_url,
        conversation=ConversationAccount(id=created.conversation_id, tenant_id=tenant_id),
        recipient=ChannelAccount().deserialize(bot) if bot else None,
    )
    return reference_dict(event)
