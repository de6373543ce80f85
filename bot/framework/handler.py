"""The Teams activity handler: turns activities into Sopu's messages and clicks, and back.

Everything Sopu does with a message or a card action happens in ``bot.conversation`` and
``bot.router``; this class only reads the activity, and answers with what they return.
"""

from __future__ import annotations

import asyncio
import html
import logging
import time
from typing import Any

from botbuilder.core import TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import Activity, ChannelAccount, InvokeResponse

import cards
from bot import inputs
from bot.conversation import Conversation
from bot.deps import Card, ChannelPlace, Click, Message
from bot.framework.adapter import answer_invoke, card_response
from bot.framework.connector import BotConnector, ConnectorError, card_message
from bot.framework.references import reference_dict
from bot.router import Router
from bot.teams import ChatAddress
from cards.i18n import lang_of, t
from storage.botstore import BotStore
from storage.redelivery import Delivery

log = logging.getLogger(__name__)

# Where a turn carries the delivery it runs as (bot/framework/endpoint.py puts it there).
DELIVERY = "sopu.delivery"


def _aad(activity: Activity) -> str:
    sender = activity.from_property
    return inputs.actor_id(sender.aad_object_id) if sender else ""


def _personal(activity: Activity) -> bool:
    conversation = activity.conversation
    return bool(conversation and conversation.conversation_type == "personal")


def command_text(activity: Activity) -> str:
    """What the user typed, without Sopu's own @mention and Teams' markup around it.

    Teams sends "<at>Sopu</at>&nbsp;help\r\n", sometimes a mention without its text, and
    mentions of other people; botbuilder's helper reads the bot's name as a regex and fails
    on a mention it does not expect, so the mention is taken out here as plain text.
    """
    text = activity.text if isinstance(activity.text, str) else ""
    bot_id = activity.recipient.id if activity.recipient else None
    for entity in activity.entities or []:
        props = entity.additional_properties or {}
        mentioned = props.get("mentioned")
        if (entity.type or "").lower() != "mention" or not isinstance(mentioned, dict):
            continue
        if not bot_id or mentioned.get("id") != bot_id:
            continue
        shown = props.get("text")
        if not isinstance(shown, str) or not shown:
            shown = f"<at>{mentioned.get('name') or ''}</at>"
        text = text.replace(shown, " ", 1)
    return html.unescape(text).strip()


def _account(account: ChannelAccount) -> dict[str, Any]:
    """What ``account.serialize()`` gives, without msrest's generic walk on every click."""
    fields = {
        "id": account.id,
        "name": account.name,
        "aadObjectId": account.aad_object_id,
        "role": account.role,
        "properties": account.properties,
    }
    return {key: value for key, value in fields.items() if value is not None}


def chat_address(activity: Activity) -> ChatAddress | None:
    """Where the sender of an activity can be written to in personal chat."""
    sender = activity.from_property
    if sender is None or not sender.id:
        return None
    tenant = ((activity.channel_data or {}).get("tenant") or {}).get("id")
    return ChatAddress(
        user_id=sender.id,
        aad_object_id=sender.aad_object_id or "",
        service_url=activity.service_url or "",
        tenant_id=tenant if isinstance(tenant, str) else None,
        bot=_account(activity.recipient) if activity.recipient else None,
        locale=activity.locale,
    )


def click_of(activity: Activity, delivery: Delivery | None = None) -> Click:
    """The card action of an invoke; everything about the actor comes from the activity."""
    value = activity.value if isinstance(activity.value, dict) else {}
    action = value.get("action")
    action = action if isinstance(action, dict) else {}
    data = action.get("data")
    data = data if isinstance(data, dict) else {}
    verb = action.get("verb")
    verb = verb if isinstance(verb, str) else ""
    return Click(
        verb=verb,
        data=data,
        actor=_aad(activity),
        lang=lang_of(activity.locale),
        personal=_personal(activity),
        sender=chat_address(activity),
        delivery=delivery,
    )


def message_of(activity: Activity) -> Message:
    """A typed message, with the channel it was written in when it was."""
    channel_data = activity.channel_data or {}
    channel = channel_data.get("channel") or {}
    team = channel_data.get("team") or {}
    place = None
    if channel.get("id") and team.get("id"):
        reference = reference_dict(activity)
        # The bank channel's reference points at the channel, not at this thread.
        reference["conversation"] = {**reference.get("conversation", {}), "id": channel["id"]}
        place = ChannelPlace(
            team_id=team["id"],
            channel_id=channel["id"],
            channel_name=channel.get("name"),
            service_url=activity.service_url or "",
            reference=reference,
        )
    return Message(
        text=command_text(activity),
        actor=_aad(activity),
        lang=lang_of(activity.locale),
        personal=_personal(activity),
        channel=place,
    )


# A personal chat's reference is saved again after this long even when nothing changed.
CHAT_RESAVE_SECONDS = 600.0
CHATS_REMEMBERED = 10_000


class SopuBot(TeamsActivityHandler):
    """Sopu's turns. Its answers to messages go out through Sopu's one Bot Connector client,
    the one the outbox's sender uses, rather than botbuilder's per-turn ConnectorClient."""

    def __init__(
        self, conversation: Conversation, router: Router, store: BotStore, connector: BotConnector
    ) -> None:
        self.conversation = conversation
        self.router = router
        self.store = store
        self.connector = connector
        # user -> (personal chat, locale, when) last saved with their reference, in this
        # process. Another chat or locale saves again; so does a while passing, since
        # another replica may have saved something else meanwhile.
        self._chat_saved: dict[str, tuple[str, str | None, float]] = {}
        self._chats_lock = asyncio.Lock()

    async def on_turn(self, turn_context: TurnContext) -> None:
        await self._remember_personal_chat(turn_context)
        await super().on_turn(turn_context)

    async def _remember_personal_chat(self, ctx: TurnContext) -> None:
        """Keep each user's personal-chat reference, so Sopu can write to them later.

        An activity without a locale (the playground's conversationUpdate, for one) keeps the
        language already known for the chat. The lock keeps two activities that arrive
        together (installationUpdate and conversationUpdate) from saving out of order.
        """
        aad = _aad(ctx.activity)
        if not aad or not _personal(ctx.activity):
            return
        chat = ctx.activity.conversation.id
        locale = ctx.activity.locale or None
        async with self._chats_lock:
            saved = self._chat_saved.get(aad)
            now = time.monotonic()
            if (
                saved is not None
                and saved[0] == chat
                and locale in (None, saved[1])
                and now - saved[2] < CHAT_RESAVE_SECONDS
            ):
                return
            reference = reference_dict(ctx.activity)
            if locale is None:
                stored = await self.store.user_reference(aad)
                if stored and (stored.get("conversation") or {}).get("id") == chat:
                    reference["locale"] = stored.get("locale")
            await self.store.save_user_reference(aad, reference)
            self._chat_saved[aad] = (chat, reference.get("locale"), now)
            if len(self._chat_saved) > CHATS_REMEMBERED:
                del self._chat_saved[next(iter(self._chat_saved))]

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        card = await self.conversation.answer(message_of(turn_context.activity))
        await self._reply(turn_context, card)

    async def _reply(self, ctx: TurnContext, card: Card) -> None:
        await self._say(ctx, card_message(card))

    async def _say(self, ctx: TurnContext, message: dict[str, Any]) -> None:
        """Answer the turn's activity. An answer that cannot be sent is logged, not raised:
        whatever the message changed is committed, and Teams would not show an error."""
        try:
            await self.connector.reply(reference_dict(ctx.activity), message)
        except ConnectorError as exc:
            log.warning("an answer in a chat could not be sent (%s %s)", exc.status, exc.code)

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        activity = turn_context.activity
        click = click_of(activity, turn_context.turn_state.get(DELIVERY))
        if activity.name != "adaptiveCard/action":
            # Sopu's cards send nothing else; botbuilder would answer 501 Not Implemented.
            log.info("unsupported invoke %r", (activity.name or "")[:60])
            unknown = t(click.lang, "error.unknown_action")
            card = cards.error_card(click.lang, unknown)
        else:
            card = await self.router.run(click)
        return answer_invoke(turn_context, card_response(card))

    async def on_teams_members_added(
        self, teams_members_added: list[ChannelAccount], team_info: Any, turn_context: TurnContext
    ) -> None:
        ctx = turn_context
        bot_id = ctx.activity.recipient.id if ctx.activity.recipient else None
        lang = lang_of(ctx.activity.locale)
        personal = _personal(ctx.activity)
        if personal and any(m.id != bot_id for m in teams_members_added):
            await self._reply(ctx, await self.conversation.greet(message_of(ctx.activity)))
        elif not personal and any(m.id == bot_id for m in teams_members_added):
            await self._say(ctx, {"type": "message", "text": t(lang, "notice.added_to_team")})

    async def on_teams_members_added_dispatch(
        self, members_added: list[ChannelAccount], team_info: Any, turn_context: TurnContext
    ) -> None:
        # Sopu reads only the members' ids; botbuilder would first look each one up in
        # Teams, a call per member through its own HTTP client.
        await self.on_teams_members_added(list(members_added), team_info, turn_context)
