"""Messages Sopu sends on its own: case cards in the bank channel, notes in personal chat.

Nothing here decides anything: the use cases decide, this module delivers. A delivery
that fails is logged with the case code and the recipient's registry id, never with a
family's data, and never undoes what the use case committed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from time import monotonic
from typing import Any

import cards
from bot.framework.connector import BotConnector, ConnectorError, card_message
from bot.framework.references import created_reference
from bot.turns import TurnGate
from cards.base import Card
from cards.i18n import Lang, lang_of
from mediation import services
from mediation.model import Mediator
from mediation.policy import BankPolicy
from mediation.ports import CaseChanged, Clock, Notification, PairComplete, SeatReleased, UnitOfWork
from mediation.views import CaseSummary
from storage.botstore import BotStore

log = logging.getLogger(__name__)

# How long the names on cards' "assign" list are reused before the registry is read again.
REGISTRY_NAMES_SECONDS = 5.0
# A refused card update is tried again after each of these in turn (Deliveries).
CARD_RETRY_SECONDS = (30.0, 120.0, 600.0)
# Notifications being delivered at once, besides those waiting on the Bot Connector for
# longer than the gate's patience (bot/turns.py).
DELIVERIES_AT_ONCE = 4
# Channel cards whose last shown version is remembered (TeamsGateway.refresh_case); past
# this many cases the longest unchanged are forgotten.
CARD_VERSIONS_KEPT = 4096


class DeliveryFailed(Exception):
    """Teams did not take a message; the reason is in the log."""


class CardNotUpdated(DeliveryFailed):
    """Teams refused a channel card's update for now (throttled, failing): try again later."""


def _left_stale(refused: CardNotUpdated) -> None:
    """A card update that will not be tried again (the case code is the exception's text)."""
    log.error("the card of case %s is stale until the case next changes", refused)


def message_lost(exc: Exception) -> bool:
    """Whether the Bot Connector says the message to update no longer exists."""
    return isinstance(exc, ConnectorError) and (
        exc.code == "ActivityNotFoundInConversation" or exc.status == 404
    )


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
        self._shown: dict[int, int] = {}  # case -> version its channel card shows

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

    async def channel_card(self, summary: CaseSummary) -> Card:
        """The case's card for the bank channel, always in the bank's language."""
        return cards.case_card(
            summary, lang_of(self.policy.language), mediators=await self.mediators_for_cards()
        )

    async def post_case(self, summary: CaseSummary) -> None:
        """Start a new thread in the bank channel with the case card, and remember it."""
        channel = await self.store.bank_channel()
        if channel is None:
            raise DeliveryFailed("no bank channel")
        card = await self.channel_card(summary)
        params = {
            "isGroup": True,
            "channelData": {"channel": {"id": channel.channel_id}},
            "activity": card_message(card),
        }
        try:
            created = await self.connector.create_conversation(channel.service_url, params)
        except Exception as exc:  # the connector's errors, and anything else: "not posted"
            log.warning("posting case %s to the bank channel failed: %r", summary.code, exc)
            raise DeliveryFailed(str(exc)) from exc
        reference = created_reference(created, channel.service_url)
        await self.store.save_case_post(
            summary.case_id,
            created.conversation_id,
            str(reference.get("activityId") or ""),
            reference,
            self.clock.now(),
        )

    async def refresh_case(self, case_id: int, summary: CaseSummary | None = None) -> None:
        """Re-render the channel card; re-post it if Teams lost it.

        The card shows ``summary`` (the case as a change left it) or, without one, the case
        as the database has it now. A ``summary`` no newer than what the card already shows
        is not sent: the update of an earlier change that comes late must not put the card
        back to how it was.
        """
        post = await self.store.case_post(case_id)
        if post is None:
            return
        if summary is None:
            summary = await services.summary_of(
                self.uow_factory(), case_id, self.clock, self.policy
            )
        elif summary.version <= self._shown.get(case_id, -1):
            return
        card = await self.channel_card(summary)
        try:
            await self.connector.update_activity(
                post.reference, post.activity_id, card_message(card)
            )
        except Exception as exc:  # the connector's errors, and anything else; sorted below
            if not message_lost(exc):
                # Throttled or failing: a new post would leave two threads for one case.
                log.warning("updating the card of case %s failed (%r)", summary.code, exc)
                raise CardNotUpdated(summary.code) from exc
            log.warning("the card of case %s is gone from the channel; re-posting", summary.code)
            try:
                await self.post_case(summary)
            except DeliveryFailed:
                log.error("case %s: the channel card is stale until the next change", summary.code)
                return
        self._showing(case_id, summary.version)

    def _showing(self, case_id: int, version: int) -> None:
        before = self._shown.pop(case_id, -1)  # to the end: the dict is oldest change first
        self._shown[case_id] = max(before, version)
        if len(self._shown) > CARD_VERSIONS_KEPT:
            del self._shown[next(iter(self._shown))]

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
            log.warning("personal message failed: %r", exc)
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
            log.warning("opening a personal chat failed: %r", exc)
            raise DeliveryFailed(str(exc)) from exc
        ref = created_reference(created, address.service_url, address.bot, tenant)
        ref["user"] = {"id": address.user_id, "aadObjectId": address.aad_object_id}
        ref["locale"] = address.locale
        await self.store.save_user_reference(address.aad_object_id, ref)


class Deliveries:
    """Notifications delivered after the click that caused them has been answered.

    Updating the channel card and writing to people's personal chats takes round trips to
    the Bot Connector; done before the answer, they made each claim and release wait for
    them, and the clicker already gets the updated card in the answer. Each notification
    is delivered by a task of its own, as soon as the answer is on its way; those about
    one case wait for each other, in the order they came, so two updates of one card never
    race. A card update that is still waiting is not queued twice: it shows the newest of
    the changes that asked for it (or, if one of them came without the case as it left it,
    the case as it is when the update runs).

    At most ``at_once`` notifications are worked on at once (a gate like the clicks' own,
    bot/turns.py, so one waiting long on the Bot Connector stops counting after a moment);
    the others wait in order. Let loose together after a burst of claims, they took the
    loop from the clicks in bursts too: measured side by side, the p99 of the clicks was
    0.86 and 0.91 times as long with the gate, the clicks per second the same.

    A card update that Teams refuses for now (throttled, or failing after the connector's
    own tries within 15 s) is tried again later, after each of ``retry_after`` seconds in
    turn, unless a newer change has updated the card meanwhile; when Sopu stops, the
    updates still waiting for their time are tried once at once. A personal note is not
    tried again: a post that did arrive would show twice.

    A notification is in memory only: if Sopu stops before delivering it, that card is
    stale until the case next changes, as it was when a request was cut short.
    """

    def __init__(
        self,
        deliver: Callable[[Notification], Awaitable[None]],
        retry_after: Sequence[float] = CARD_RETRY_SECONDS,
        at_once: int = DELIVERIES_AT_ONCE,
    ) -> None:
        self._deliver = deliver
        self._lane = TurnGate(at_once)
        self.retry_after = tuple(retry_after)
        self._cases: dict[int, tuple[asyncio.Lock, int]] = {}  # case -> its turn, users
        self._cards_waiting: dict[int, CaseChanged] = {}  # case -> what its update will show
        self._tasks: set[asyncio.Task[None]] = set()
        # Refused card updates waiting for their next try: case -> (timer, note, tries).
        self._later: dict[int, tuple[asyncio.TimerHandle, Notification, int]] = {}
        self.merged = 0  # card updates not queued because one was already waiting

    def put(self, note: Notification) -> None:
        self._put(note, tries=0)

    async def notify(self, notification: Notification) -> None:
        """The domain's Notifier: delivered once the click that caused it is answered."""
        self.put(notification)

    def _put(self, note: Notification, tries: int) -> None:
        if isinstance(note, CaseChanged):
            waiting = self._cards_waiting.get(note.case_id)
            self._cards_waiting[note.case_id] = newest(waiting, note) if waiting else note
            if waiting is not None:
                self.merged += 1
                return
        lock, users = self._cases.get(note.case_id) or (asyncio.Lock(), 0)
        self._cases[note.case_id] = (lock, users + 1)
        task = asyncio.get_running_loop().create_task(self._run(note, lock, tries))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, note: Notification, turn: asyncio.Lock, tries: int) -> None:
        try:
            # First come, first served among one case's notifications; and a few at once
            # among all, as the clicks' turns are, so that a burst of them cannot crowd
            # out the clicks.
            async with turn, self._lane.turn():
                if isinstance(note, CaseChanged):
                    # From here on, a new change queues another update.
                    note = self._cards_waiting.pop(note.case_id, note)
                    self._not_later(note.case_id)  # this one shows every change so far
                await self._deliver(note)
        except CardNotUpdated as exc:
            self._later_again(note, tries, exc)
        except Exception:
            log.exception("delivering %s failed", type(note).__name__)
        finally:
            lock, users = self._cases[note.case_id]
            if users <= 1:
                del self._cases[note.case_id]
            else:
                self._cases[note.case_id] = (lock, users - 1)

    def _later_again(self, note: Notification, tries: int, exc: CardNotUpdated) -> None:
        if tries >= len(self.retry_after):
            _left_stale(exc)
            return
        wait = self.retry_after[tries]
        log.warning("the card of case %s is stale; trying again in %g s", exc, wait)
        timer = asyncio.get_running_loop().call_later(wait, self._try_again, note, tries + 1)
        self._later[note.case_id] = (timer, note, tries + 1)

    def _try_again(self, note: Notification, tries: int) -> None:
        self._later.pop(note.case_id, None)
        self._put(note, tries)

    def _not_later(self, case_id: int) -> None:
        waiting = self._later.pop(case_id, None)
        if waiting is not None:
            waiting[0].cancel()

    @property
    def waiting_to_try_again(self) -> int:
        """Refused card updates waiting for their next try."""
        return len(self._later)

    async def drain(self) -> None:
        """Wait until everything queued so far has been delivered (or has failed).

        Refused card updates waiting for their next try are not waited for.
        """
        while self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def close(self) -> None:
        """Deliver what is queued, and try the refused card updates once more now."""
        later, self._later = self._later, {}
        self.retry_after = ()  # a last try: no more timers
        for timer, note, tries in later.values():
            timer.cancel()
            self._put(note, tries)
        await self.drain()


def newest(a: CaseChanged, b: CaseChanged) -> CaseChanged:
    """One card update for two changes of a case: the newer case, or a fresh read of it."""
    if a.summary is None or b.summary is None:
        return CaseChanged(a.case_id)
    return b if b.summary.version >= a.summary.version else a


class TeamsNotifier:
    """Tells people in Teams what a use case changed, at once.

    The running app hands the use cases ``Deliveries(notifier.deliver)`` instead, which
    delivers after the answer; this one as it is serves the command line and the tests
    that drive the use cases directly.
    """

    def __init__(self, gateway: TeamsGateway) -> None:
        self.gateway = gateway

    async def notify(self, notification: Notification) -> None:
        try:
            await self.deliver(notification)
        except CardNotUpdated as exc:  # the refusal is logged already; no one tries again
            _left_stale(exc)
        except Exception:
            # A notification must never turn a committed action into an error for the user.
            log.exception("delivering %s failed", type(notification).__name__)

    async def deliver(self, note: Notification) -> None:
        """Deliver one notification now; failures are raised (Deliveries logs them)."""
        gw = self.gateway
        if isinstance(note, CaseChanged):
            await gw.refresh_case(note.case_id, note.summary)
            return
        # A note about a change is about the case as that change left it.
        summary = note.summary or await services.summary_of(
            gw.uow_factory(), note.case_id, gw.clock, gw.policy
        )
        if isinstance(note, PairComplete):
            pair = await self._people(note.mediator_ids, note.people)
            for mid in note.mediator_ids:
                if mid in pair:
                    await self._try(
                        pair[mid].aad_object_id,
                        lambda lang: cards.pair_complete_card(summary, lang),
                    )
        elif isinstance(note, SeatReleased):
            people = await self._people((note.mediator_id, *note.coordinator_ids), note.people)
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

    async def _people(
        self, ids: tuple[int, ...], known: Mapping[int, Mediator] | None
    ) -> Mapping[int, Mediator]:
        """The registry's people of ``ids``: as the change saw them when it says, else read."""
        if known is not None and all(i in known for i in ids):
            return known
        uow = self.gateway.uow_factory()
        async with uow:
            return await uow.mediators.by_ids(list(ids))

    async def _try(self, aad: str, build: Callable[[Lang], Card]) -> None:
        # Logged by the gateway; the change still shows on the channel card.
        with contextlib.suppress(DeliveryFailed):
            await self.gateway.send_personal(aad, build)
