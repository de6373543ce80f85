"""The Teams activity handler: commands in chat, card actions, installation events."""

from __future__ import annotations

import asyncio
import html
import logging
from typing import Any

from botbuilder.core import BotAdapter, TurnContext
from botbuilder.core.teams import TeamsActivityHandler
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    ChannelAccount,
    InvokeResponse,
)

import cards
from bot import inputs
from bot.actions import Actions, Card, Click, Deps, with_form_id
from bot.teams import DeliveryFailed, card_activity, reference_dict
from cards.commands import parse_command
from cards.i18n import Lang, error_text, lang_of, t
from mediation import errors, services

log = logging.getLogger(__name__)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Where botbuilder's adapters keep an invoke's answer during a turn.
INVOKE_RESPONSE_KEY = BotAdapter._INVOKE_RESPONSE_KEY


def card_response(card: Card) -> InvokeResponse:
    # The model object, not a dict: a dict body is serialised twice on the way out (FACTS.md).
    return InvokeResponse(
        status=200,
        body=AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=card),
    )


def _answer(ctx: TurnContext, response: InvokeResponse) -> InvokeResponse:
    """Leave the invoke's answer where the adapter collects it after the turn.

    Returned alone, ActivityHandler would send it through TurnContext.send_activity, which
    deep-copies the activity, card and all, on its way to the same place (about 8% of a
    click's CPU time, bench/claims.py).
    """
    ctx.turn_state[INVOKE_RESPONSE_KEY] = Activity(
        type=ActivityTypes.invoke_response, value=response
    )
    return response


def _aad(ctx: TurnContext) -> str:
    sender = ctx.activity.from_property
    return inputs.actor_id(sender.aad_object_id) if sender else ""


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


def _personal(ctx: TurnContext) -> bool:
    conversation = ctx.activity.conversation
    return bool(conversation and conversation.conversation_type == "personal")


class SopuBot(TeamsActivityHandler):
    def __init__(self, deps: Deps) -> None:
        self.d = deps
        self.actions = Actions(deps)
        # (user, personal chat) -> the locale last saved with its reference, in this process.
        self._chat_locales: dict[tuple[str, str], str | None] = {}
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
        aad = _aad(ctx)
        if not aad or not _personal(ctx):
            return
        key = (aad, ctx.activity.conversation.id)
        locale = ctx.activity.locale or None
        async with self._chats_lock:
            if key in self._chat_locales and locale in (None, self._chat_locales[key]):
                return
            reference = reference_dict(ctx.activity)
            if locale is None:
                stored = await self.d.store.user_reference(aad)
                if stored and (stored.get("conversation") or {}).get("id") == key[1]:
                    reference["locale"] = stored.get("locale")
            await self.d.store.save_user_reference(aad, reference)
            self._chat_locales[key] = reference.get("locale")

    # -- commands ------------------------------------------------------------------------

    async def on_message_activity(self, turn_context: TurnContext) -> None:
        ctx = turn_context
        lang = lang_of(ctx.activity.locale)
        text = command_text(ctx.activity)
        parsed = parse_command(text)
        try:
            if parsed is None:
                log.info("unknown command of %d characters", len(text))
                card = cards.error_card(lang, t(lang, "error.unknown_command"))
            else:
                card = await self._command(ctx, parsed[0], lang, parsed[1])
        except errors.DomainError as exc:
            card = cards.error_card(lang, error_text(lang, exc))
        await self._reply(ctx, card)

    async def _command(self, ctx: TurnContext, command: str, lang: Lang, args: str = "") -> Card:
        uow = self.d.uow_factory()
        async with uow:
            me = await services.actor(uow, _aad(ctx))
        if command == "help":
            return cards.help_card(lang, me.is_coordinator)
        if command == "setup":
            return await self._setup(ctx, me, lang)
        if command == "new case":
            await services.may_register(_aad(ctx), self.d.uow_factory())
            if not _personal(ctx):
                return cards.error_card(lang, t(lang, "error.personal_chat_only"))
            return with_form_id(cards.intake_form(lang))
        if command == "my cases":
            mine = await services.my_cases(
                _aad(ctx), self.d.uow_factory(), self.d.clock, self.d.policy
            )
            return cards.my_cases_card(mine, lang)
        if command == "quota":
            report = await services.my_quota(
                _aad(ctx), self.d.uow_factory(), self.d.clock, self.d.policy
            )
            return cards.quota_card(report, lang)
        if command == "mediators":
            return await self.actions.registry_card(_aad(ctx), lang)
        if command == "reminders":
            return await self.actions.jobs.reminders_card(_aad(ctx), lang)
        if command == "stats":
            return await self.actions.feedback.stats_command(_aad(ctx), lang, args, _personal(ctx))
        return cards.help_card(lang, me.is_coordinator)

    async def _setup(self, ctx: TurnContext, me: Any, lang: Lang) -> Card:
        if not me.is_coordinator:
            raise errors.NotAllowed("choosing the bank channel", "only a coordinator may do this")
        channel_data = ctx.activity.channel_data or {}
        channel = channel_data.get("channel") or {}
        team = channel_data.get("team") or {}
        if not channel.get("id") or not team.get("id"):
            return cards.error_card(lang, t(lang, "error.channel_only"))
        reference = reference_dict(ctx.activity)
        # The bank channel's reference points at the channel, not at this thread.
        reference["conversation"] = {**reference.get("conversation", {}), "id": channel["id"]}
        await self.d.store.set_bank_channel(
            team["id"],
            channel["id"],
            ctx.activity.service_url,
            reference,
            me.id,
            self.d.clock.now(),
        )
        await self._post_unposted()
        return cards.setup_done_card(lang, channel.get("name"))

    async def _post_unposted(self) -> None:
        """Cases saved while no bank channel could be reached are posted now."""
        for summary in await services.open_cases(self.d.uow_factory(), self.d.clock, self.d.policy):
            if await self.d.store.case_post(summary.case_id) is None:
                try:
                    await self.d.gateway.post_case(summary)
                except DeliveryFailed:
                    return

    async def _reply(self, ctx: TurnContext, card: Card) -> None:
        await ctx.send_activity(card_activity(card))

    # -- card actions --------------------------------------------------------------------

    async def on_invoke_activity(self, turn_context: TurnContext) -> InvokeResponse:
        click = self.click_of(turn_context.activity)
        if turn_context.activity.name != "adaptiveCard/action":
            # Sopu's cards send nothing else; botbuilder would answer 501 Not Implemented.
            log.info("unsupported invoke %r", (turn_context.activity.name or "")[:60])
            unknown = t(click.lang, "error.unknown_action")
            return _answer(turn_context, card_response(cards.error_card(click.lang, unknown)))
        return _answer(turn_context, card_response(await self.actions.run(click)))

    @staticmethod
    def click_of(activity: Activity) -> Click:
        """The card action of an invoke; everything about the actor comes from the activity."""
        sender = activity.from_property
        conversation = activity.conversation
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
            actor=inputs.actor_id(sender.aad_object_id) if sender else "",
            lang=lang_of(activity.locale),
            personal=bool(conversation and conversation.conversation_type == "personal"),
            activity=activity,
        )

    # -- installation --------------------------------------------------------------------

    async def on_teams_members_added(
        self, teams_members_added: list[ChannelAccount], team_info: Any, turn_context: TurnContext
    ) -> None:
        ctx = turn_context
        bot_id = ctx.activity.recipient.id if ctx.activity.recipient else None
        lang = lang_of(ctx.activity.locale)
        if _personal(ctx) and any(m.id != bot_id for m in teams_members_added):
            try:
                card = await self._command(ctx, "help", lang)
            except errors.DomainError as exc:
                card = cards.error_card(lang, error_text(lang, exc))
            await self._reply(ctx, card)
        elif not _personal(ctx) and any(m.id == bot_id for m in teams_members_added):
            await ctx.send_activity(t(lang, "notice.added_to_team"))
