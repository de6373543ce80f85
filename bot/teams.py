"""What a click's answer needs from Teams at once: the names on cards, a personal chat.

Everything Sopu sends on its own goes through the outbox (bot/postman.py). Only the
details a mediator asks for from the channel go straight to their personal chat, since
the answer to their click says whether they arrived. A failure is logged without any of
a family's data.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic
from typing import Any

import cards
from bot.framework.connector import BotConnector, card_message
from bot.framework.references import created_reference
from cards.base import Card
from cards.i18n import Lang, lang_of
from mediation import services
from mediation.policy import BankPolicy
from mediation.ports import Clock, UnitOfWork
from mediation.sharing import Roster
from mediation.trouble import trouble_at
from mediation.views import CaseSummary
from storage.botstore import BotStore

log = logging.getLogger(__name__)

# How long the names a card may offer to assign are reused before the registry is read again.
REGISTRY_NAMES_SECONDS = 5.0


class DeliveryFailed(Exception):
    """Teams did not take a message; the reason is in the log."""


@dataclass(frozen=True)
class ChatAddress:
    """Where a person can be written to in personal chat, as their activity showed it."""

    user_id: str  # the Teams user id (29:...)
    aad_object_id: str
    service_url: str
    tenant_id: str | None
    bot: dict[str, Any] | None  # the bot's account as the activity named it
    locale: str | None


class TeamsGateway:
    """Proactive posting through the Bot Connector, with references kept in the bot store."""

    def __init__(
        self,
        connector: BotConnector,
        store: BotStore,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        policy: BankPolicy,
    ) -> None:
        self.store = store
        self.uow_factory = uow_factory
        self.clock = clock
        self.policy = policy
        self.connector = connector
        self._names: tuple[float, tuple[tuple[int, str], ...]] | None = None

    # -- the bank channel ------------------------------------------------------------------

    async def mediators_for_cards(self) -> Roster:
        """The active mediators a coordinator may assign, by name only: a case card offers
        its "Assign" button when there is someone to assign, and shows no list.

        Every answer to a click renders a case card, and reading the whole registry for
        each one cost about a fifth of a click's CPU time: the names are reused for a few
        seconds. A mediator added meanwhile reaches the cards that much later; an
        assignment is checked against the registry itself, never against this list.
        """
        return Roster.names_only(await self._names_now())

    async def mediators_to_assign(self) -> Roster:
        """The assign list's mediators weighed by this term's packages and past pairs, these
        read now: the coordinator who opens the list sees the loads of every change committed
        so far, on any replica (the names are the cards', a few seconds old at most)."""
        work = await services.workload(self.uow_factory(), self.clock, self.policy)
        return work.roster(await self._names_now())

    async def _names_now(self) -> tuple[tuple[int, str], ...]:
        now = monotonic()
        if self._names is None or now - self._names[0] >= REGISTRY_NAMES_SECONDS:
            self._names = (now, await services.assignable(self.uow_factory()))
        return self._names[1]

    async def channel_card(self, summary: CaseSummary, lang: Lang | None = None) -> Card:
        """The case's card for the bank channel, in the bank's language unless told."""
        shown = lang or lang_of(self.policy.language)
        return cards.case_card(summary, shown, mediators=await self.mediators_for_cards())

    # -- personal chat -------------------------------------------------------------------

    async def send_personal(self, aad_object_id: str, build: Callable[[Lang], Card]) -> None:
        """Send a card to one person's personal chat with Sopu, in their language."""
        stored = await self.store.user_reference(aad_object_id)
        if stored is None:
            raise DeliveryFailed("no personal chat with this user yet")
        card = build(lang_of(stored.get("locale")))
        try:
            await self.connector.send(stored, card_message(card))
        except Exception as exc:
            log.warning("personal message failed: %s", trouble_at(exc))
            raise DeliveryFailed(str(exc)) from exc

    async def open_personal_chat(self, address: ChatAddress) -> None:
        """Open (or find) the 1:1 chat with a person and remember it."""
        if not address.aad_object_id:
            raise DeliveryFailed("the sender has no Entra object id")
        if not address.service_url:
            raise DeliveryFailed("the activity has no service URL")
        tenant = address.tenant_id
        # ConversationParameters as botbuilder wrote them (tenantID is its spelling).
        params: dict[str, Any] = {
            "isGroup": False,
            "bot": address.bot,
            "members": [{"id": address.user_id}],
            "tenantID": tenant,
            "channelData": {"tenant": {"id": tenant}} if tenant else None,
        }
        try:
            created = await self.connector.create_conversation(
                address.service_url, {k: v for k, v in params.items() if v is not None}
            )
        except Exception as exc:
            log.warning("opening a personal chat failed: %s", trouble_at(exc))
            raise DeliveryFailed(str(exc)) from exc
        ref = created_reference(created, address.service_url, address.bot, tenant)
        ref["user"] = {"id": address.user_id, "aadObjectId": address.aad_object_id}
        ref["locale"] = address.locale
        await self.store.save_user_reference(address.aad_object_id, ref)
