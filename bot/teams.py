"""Messages Sopu sends on its own: case cards in the bank channel, notes in personal chat.

Nothing here decides anything: the use cases decide, this module delivers. A delivery
that fails is logged with the case code and the recipient's registry id, never with a
family's data, and never undoes what the use case committed.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from time import monotonic
from typing import Any

from botbuilder.core import CardFactory, MessageFactory, TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)

import cards
from cards.i18n import Lang, lang_of
from mediation import services
from mediation.policy import BankPolicy
from mediation.ports import CaseChanged, Clock, Notification, PairComplete, SeatReleased, UnitOfWork
from mediation.views import CaseSummary
from storage.botstore import BotStore

log = logging.getLogger(__name__)

Card = dict[str, Any]
# How long the names on cards' "assign" list are reused before the registry is read again.
REGISTRY_NAMES_SECONDS = 5.0


class DeliveryFailed(Exception):
    """Teams did not take a message; the reason is in the log."""


def message_lost(exc: Exception) -> bool:
    """Whether the Bot Connector says the message to update no longer exists."""
    error = getattr(getattr(exc, "error", None), "error", None)
    response = getattr(exc, "response", None)
    return (
        getattr(error, "code", None) == "ActivityNotFoundInConversation"
        or getattr(response, "status_code", None) == 404
    )


def card_activity(card: Card) -> Activity:
    return MessageFactory.attachment(CardFactory.adaptive_card(card))


def reference_dict(activity: Activity) -> dict[str, Any]:
    ref = TurnContext.get_conversation_reference(activity)
    data: dict[str, Any] = ref.serialize()
    data["locale"] = activity.locale or data.get("locale")
    return data


class TeamsGateway:
    """Proactive posting through the adapter, with references kept in the bot store."""

    def __init__(
        self,
        adapter: CloudAdapter,
        bot_app_id: str,
        store: BotStore,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        policy: BankPolicy,
    ) -> None:
        self.adapter = adapter
        self.bot_app_id = bot_app_id
        self.store = store
        self.uow_factory = uow_factory
        self.clock = clock
        self.policy = policy
        self._names: tuple[float, tuple[tuple[int, str], ...]] | None = None

    # -- the bank channel ------------------------------------------------------------------

    async def mediators_for_cards(self) -> list[tuple[int, str]]:
        """The active mediators a coordinator may assign, as (id, name), for case cards.

        Every answer to a click renders a case card, and reading the whole registry for
        each one cost about a fifth of a click's CPU time. The names are reused for a
        few seconds: a registry change reaches new cards that much later, and an
        assignment is checked against the registry itself, never against this list.
        """
        now = monotonic()
        if self._names is None or now - self._names[0] >= REGISTRY_NAMES_SECONDS:
            uow = self.uow_factory()
            async with uow:
                active = await uow.mediators.list(active_only=True)
            self._names = (now, tuple((m.id, m.name) for m in active if m.id))
        return list(self._names[1])

    async def channel_card(self, summary: CaseSummary, lang: Lang = "fi") -> Card:
        return cards.case_card(summary, lang, mediators=await self.mediators_for_cards())

    async def post_case(self, summary: CaseSummary) -> None:
        """Start a new thread in the bank channel with the case card, and remember it."""
        channel = await self.store.bank_channel()
        if channel is None:
            raise DeliveryFailed("no bank channel")
        card = await self.channel_card(summary)
        posted: dict[str, Any] = {}

        async def remember(ctx: TurnContext) -> None:
            posted["conversation_id"] = ctx.activity.conversation.id
            posted["activity_id"] = ctx.activity.id
            posted["reference"] = reference_dict(ctx.activity)

        params = ConversationParameters(
            is_group=True,
            channel_data={"channel": {"id": channel.channel_id}},
            activity=card_activity(card),
        )
        try:
            await self.adapter.create_conversation(
                self.bot_app_id, remember, params, "msteams", channel.service_url, None
            )
        except Exception as exc:  # the connector raises many kinds; all mean "not posted"
            log.warning("posting case %s to the bank channel failed: %r", summary.code, exc)
            raise DeliveryFailed(str(exc)) from exc
        await self.store.save_case_post(
            summary.case_id,
            str(posted.get("conversation_id") or ""),
            str(posted.get("activity_id") or ""),
            posted.get("reference") or {},
            self.clock.now(),
        )

    async def refresh_case(self, case_id: int) -> None:
        """Re-render the channel card from the database; re-post it if Teams lost it."""
        post = await self.store.case_post(case_id)
        if post is None:
            return
        summary = await services.summary_of(self.uow_factory(), case_id, self.clock, self.policy)
        card = await self.channel_card(summary)
        reference = ConversationReference().deserialize(post.reference)

        async def update(ctx: TurnContext) -> None:
            activity = card_activity(card)
            activity.id = post.activity_id
            await ctx.update_activity(activity)

        try:
            await self._proactive(reference, update)
        except Exception as exc:  # the connector raises many kinds; sorted below
            if not message_lost(exc):
                # Throttled or failing: a new post would leave two threads for one case.
                log.warning(
                    "updating the card of case %s failed (%r); it is stale until the next change",
                    summary.code,
                    exc,
                )
                return
            log.warning("the card of case %s is gone from the channel; re-posting", summary.code)
            try:
                await self.post_case(summary)
            except DeliveryFailed:
                log.error("case %s: the channel card is stale until the next change", summary.code)

    async def _proactive(
        self, reference: ConversationReference, action: Callable[[TurnContext], Awaitable[None]]
    ) -> None:
        """Run ``action`` in a turn of its own in a stored conversation; its failure is raised.

        The adapter hands a failing turn to ``on_turn_error`` and returns normally, which
        would make a lost card or an unreachable chat look delivered.
        """
        failures: list[Exception] = []

        async def guarded(ctx: TurnContext) -> None:
            try:
                await action(ctx)
            except Exception as exc:  # the connector raises many kinds; the caller sorts them
                failures.append(exc)

        await self.adapter.continue_conversation(reference, guarded, self.bot_app_id)
        if failures:
            raise failures[0]

    # -- personal chat -------------------------------------------------------------------

    async def send_personal(self, aad_object_id: str, build: Callable[[Lang], Card]) -> None:
        """Send a card to one person's personal chat with Sopu, in their language."""
        stored = await self.store.user_reference(aad_object_id)
        if stored is None:
            raise DeliveryFailed("no personal chat with this user yet")
        reference = ConversationReference().deserialize(stored)
        card = build(lang_of(stored.get("locale")))

        async def send(ctx: TurnContext) -> None:
            await ctx.send_activity(card_activity(card))

        try:
            await self._proactive(reference, send)
        except Exception as exc:
            log.warning("personal message failed: %r", exc)
            raise DeliveryFailed(str(exc)) from exc

    async def open_personal_chat(self, activity: Activity) -> None:
        """Open (or find) the 1:1 chat with the sender of a channel activity and remember it."""
        if not activity.from_property or not activity.from_property.aad_object_id:
            raise DeliveryFailed("the sender has no Entra object id")
        tenant = ((activity.channel_data or {}).get("tenant") or {}).get("id")
        params = ConversationParameters(
            is_group=False,
            bot=activity.recipient,
            members=[ChannelAccount(id=activity.from_property.id)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}} if tenant else None,
        )
        opened: dict[str, Any] = {}

        async def remember(ctx: TurnContext) -> None:
            ref = reference_dict(ctx.activity)
            ref["user"] = {
                "id": activity.from_property.id,
                "aadObjectId": activity.from_property.aad_object_id,
            }
            ref["locale"] = activity.locale
            opened["ref"] = ref

        try:
            await self.adapter.create_conversation(
                self.bot_app_id, remember, params, "msteams", activity.service_url, None
            )
        except Exception as exc:
            log.warning("opening a personal chat failed: %r", exc)
            raise DeliveryFailed(str(exc)) from exc
        if "ref" in opened:
            await self.store.save_user_reference(
                activity.from_property.aad_object_id, opened["ref"]
            )


class TeamsNotifier:
    """The domain's Notifier: tells people in Teams what a use case changed."""

    def __init__(self, gateway: TeamsGateway) -> None:
        self.gateway = gateway

    async def notify(self, notification: Notification) -> None:
        try:
            await self._deliver(notification)
        except Exception:
            # A notification must never turn a committed action into an error for the user.
            log.exception("delivering %s failed", type(notification).__name__)

    async def _deliver(self, note: Notification) -> None:
        gw = self.gateway
        if isinstance(note, CaseChanged):
            await gw.refresh_case(note.case_id)
            return
        summary = await services.summary_of(gw.uow_factory(), note.case_id, gw.clock, gw.policy)
        if isinstance(note, PairComplete):
            recipients = await self._aad_ids(note.mediator_ids)
            for aad in recipients.values():
                await self._try(aad, lambda lang: cards.pair_complete_card(summary, lang))
        elif isinstance(note, SeatReleased):
            people = await self._people((note.mediator_id, *note.coordinator_ids))
            released = people.get(note.mediator_id)
            name = released.name if released else "?"
            targets = set(note.coordinator_ids)
            if note.reason == "coordinator":
                targets.add(note.mediator_id)
            for mid in targets:
                person = people.get(mid)
                if person is not None and person.active:
                    await self._try(
                        person.aad_object_id,
                        lambda lang: cards.seat_released_card(summary, name, note.reason, lang),
                    )

    async def _people(self, ids: tuple[int, ...]) -> dict[int, Any]:
        uow = self.gateway.uow_factory()
        async with uow:
            return await uow.mediators.by_ids(list(ids))

    async def _aad_ids(self, ids: tuple[int, ...]) -> dict[int, str]:
        return {k: v.aad_object_id for k, v in (await self._people(ids)).items()}

    async def _try(self, aad: str, build: Callable[[Lang], Card]) -> None:
        # Logged by the gateway; the change still shows on the channel card.
        with contextlib.suppress(DeliveryFailed):
            await self.gateway.send_personal(aad, build)
