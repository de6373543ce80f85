"""Where each outbox message goes in Teams, and how it is posted there.

The sender (bot/sender.py) paces and records; the postman knows the places: a person's
personal chat (opened first if Sopu has never talked with them), a new thread in the bank
channel for a case, or the case's card in that thread, updated in place and re-posted if
Teams lost it. Cards are rendered when they are sent, from the database as it then is.
Nothing logged here names a family: a case's code and an outbox message's id at most.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.family_mail import FamilyMailPost
from bot.framework.connector import BotConnector, ConnectorError, Created, card_message
from bot.framework.references import created_reference
from bot.outbox_cards import MessageRenderer
from bot.sender import NotYet, Outcome, PostResult, Prepared, Ready, Unsendable, failure_of
from cards.base import Card
from cards.i18n import LANGS, Lang, lang_of
from mediation import notices, services
from mediation.model import Mediator
from mediation.outbox import MessageKind, OutboxMessage, OutboxStatus
from mediation.policy import BankPolicy
from mediation.ports import Clock, UnitOfWork
from storage.botstore import BankChannel, BotStore
from storage.outbox import SqlOutbox

log = logging.getLogger(__name__)

# A case registered while no bank channel is set waits this long between looks.
NO_CHANNEL_WAIT = timedelta(minutes=5)
# A card update whose case's thread is still being posted waits this long between looks.
THREAD_WAIT = timedelta(seconds=1)
# Times a card update is made again when the case changed while it was shown.
CARD_CATCH_UPS = 3
# Channel cards whose last shown version is remembered; past this, the longest unchanged go.
CARD_VERSIONS_KEPT = 4096
# Times the row of a thread just posted is written before the post counts as uncertain.
SAVE_TRIES = 3


class Postman:
    def __init__(
        self,
        store: BotStore,
        connector: BotConnector,
        render: MessageRenderer,
        outbox: SqlOutbox,
        uow_factory: Callable[[], UnitOfWork],
        clock: Clock,
        policy: BankPolicy,
        family_mail: FamilyMailPost | None = None,
    ) -> None:
        self.family_mail = family_mail  # e-mails to parents; None: none can be sent
        self.store = store
        self.connector = connector
        self.render = render
        self.outbox = outbox
        self.uow_factory = uow_factory
        self.clock = clock
        self.policy = policy
        # case -> the newest version this replica has shown on its card; an update claimed
        # together with a newer one then has nothing left to show.
        self._shown: dict[int, int] = {}

    async def prepare(self, message: OutboxMessage) -> Prepared:
        kind = message.key.kind
        if kind is MessageKind.CASE_POST:
            return await self._case_post(message)
        if kind is MessageKind.CARD_UPDATE:
            return await self._card_update(message)
        if kind.to_family:
            if self.family_mail is None:
                return Unsendable(OutboxStatus.FAILED, "no mail service in this Sopu")
            return await self.family_mail.prepare(message)
        return await self._personal(message)

    # -- personal chat ---------------------------------------------------------------------

    async def _personal(self, message: OutboxMessage) -> Prepared:
        aad = message.key.recipient
        reader = self.uow_factory().reading()
        async with reader:
            person = await reader.mediators.by_aad(aad.lower())
        if person is None or not person.active:
            # Someone who has left reads nothing more, however long the message waited.
            return Unsendable(OutboxStatus.NOT_ACTIVE, "not in the registry or not active")
        reference = await self.store.user_reference(aad)
        if reference is None:
            opened = await self._open_chat(message)
            if isinstance(opened, Unsendable):
                return opened
            reference = opened
        card = await self.render(message, await self._language_of(aad, reference, person))
        conversation = str((reference.get("conversation") or {}).get("id") or "")
        chat = reference

        async def post() -> PostResult:
            try:
                await self.connector.send(chat, card_message(card))
            except ConnectorError as exc:
                return failure_of(exc)
            return PostResult(Outcome.SENT, 200)

        return Ready(conversation, post)

    async def _language_of(self, aad: str, reference: dict[str, Any], person: Mediator) -> Lang:
        """A note's language: the person's own choice (the ``language`` command), else the
        locale of their personal chat, else the one language they work in by the registry,
        else the bank's."""
        chosen = await self.store.chosen_language(aad)
        if chosen in LANGS:
            return lang_of(chosen)
        if reference.get("locale"):
            return lang_of(str(reference["locale"]))
        spoken = sorted(person.languages & set(LANGS))
        if len(spoken) == 1:
            return lang_of(spoken[0])
        return lang_of(self.policy.language)

    async def _open_chat(self, message: OutboxMessage) -> dict[str, Any] | Unsendable:
        """Open a personal chat with someone Sopu has never talked with, through the team.

        The bot is installed in the bank's team: the person's Teams user id is found in the
        team's roster by their Entra object id, and the Bot Connector opens a one-to-one
        chat with them. Someone not found there is asked for by the Entra object id itself.
        """
        bank = await self.store.bank_channel()
        if bank is None:
            return Unsendable(OutboxStatus.NO_CHAT, "no personal chat, and no bank channel yet")
        tenant = _tenant_of(bank)
        aad = message.key.recipient
        member = await self._member_id(bank, aad, message) or aad
        params: dict[str, Any] = {
            "isGroup": False,
            "bot": bank.reference.get("bot"),
            "members": [{"id": member}],
            "tenantId": tenant,
            "channelData": {"tenant": {"id": tenant}} if tenant else None,
        }
        try:
            created = await self.connector.create_conversation(
                bank.service_url, {k: v for k, v in params.items() if v is not None}
            )
        except ConnectorError as exc:
            log.warning(
                "outbox message %d (%s): no personal chat could be opened (%s %s)",
                message.id,
                message.key.kind.value,
                exc.status,
                exc.code,
            )
            return Unsendable(
                OutboxStatus.NO_CHAT, f"no personal chat; opening one failed: {exc.code}"
            )
        reference = created_reference(created, bank.service_url, bank.reference.get("bot"), tenant)
        reference["user"] = {"id": member, "aadObjectId": aad}
        await self.store.save_user_reference(aad, reference, self.clock.now())
        return reference

    async def _member_id(self, bank: BankChannel, aad: str, message: OutboxMessage) -> str | None:
        """The person's Teams user id from the bank team's roster, or None."""
        try:
            return await self.connector.team_member_id(bank.service_url, bank.team_id, aad)
        except ConnectorError as exc:
            log.info(
                "outbox message %d (%s): the team's roster could not be read (%s %s)",
                message.id,
                message.key.kind.value,
                exc.status,
                exc.code,
            )
            return None

    # -- the bank channel ------------------------------------------------------------------

    async def _case_post(self, message: OutboxMessage) -> Prepared:
        case_id = int(message.payload["case_id"])
        bank = await self.store.bank_channel()
        if bank is None:
            return NotYet(NO_CHANNEL_WAIT, "no bank channel yet (a coordinator runs setup)")

        async def post() -> PostResult:
            # Looked at again in the channel's turn: another post of this case (a
            # coordinator's "setup" queues one) may have gone while this one waited.
            if await self.store.case_post(case_id) is not None:
                return await _already()
            return await self._post_thread(case_id, bank)

        return Ready(bank.channel_id, post)

    async def _card_update(self, message: OutboxMessage) -> Prepared:
        case_id = int(message.payload["case_id"])
        posted = await self.store.case_post(case_id)
        if posted is None:
            # The thread itself is still to come. Only the case's own post makes it (one
            # sender at a time holds that message, in any replica), else an update sent
            # meanwhile would post a second thread; the post shows this change too.
            if await self.outbox.waiting(MessageKind.CASE_POST, message.key.subject):
                return NotYet(THREAD_WAIT, "waiting for the case's thread")
            return await self._case_post(message)

        wanted = notices.version_of(message.key.period)

        async def post() -> PostResult:
            if wanted is not None and wanted <= self._shown.get(case_id, -1):
                return PostResult(Outcome.SENT, 200, None, "shown by a later update")
            # Rendered now, inside the thread's turn: two updates of one card from this
            # replica never race. Another replica's update may reach Teams after this one
            # was rendered yet before it arrives; the case's version read after the update
            # tells, and the card is shown again until it is the newest.
            for _ in range(CARD_CATCH_UPS):
                card, version = await self._channel_card(case_id)
                try:
                    await self.connector.update_activity(
                        posted.reference, posted.activity_id, card_message(card)
                    )
                except ConnectorError as exc:
                    if not message_lost(exc):
                        return _again_if_unsure(failure_of(exc))
                    log.warning("case %d: its card is gone from the channel; re-posting", case_id)
                    bank = await self.store.bank_channel()
                    if bank is None:
                        return PostResult(Outcome.FAILED, None, None, "no bank channel")
                    return await self._post_thread(case_id, bank)
                if await self.store.case_version(case_id) == version:
                    break
            self._showing(case_id, version)
            return PostResult(Outcome.SENT, 200, shown=version)

        return Ready(posted.conversation_id, post)

    def _showing(self, case_id: int, version: int) -> None:
        before = self._shown.pop(case_id, -1)  # to the end: the oldest change goes first
        self._shown[case_id] = max(before, version)
        if len(self._shown) > CARD_VERSIONS_KEPT:
            del self._shown[next(iter(self._shown))]

    async def _post_thread(self, case_id: int, bank: BankChannel) -> PostResult:
        card, version = await self._channel_card(case_id)
        params = {
            "isGroup": True,
            "channelData": {"channel": {"id": bank.channel_id}},
            "activity": card_message(card),
        }
        try:
            created: Created = await self.connector.create_conversation(bank.service_url, params)
        except ConnectorError as exc:
            # As with an abandoned post: a thread twice is better than a case unseen.
            return _again_if_unsure(failure_of(exc))
        reference = created_reference(created, bank.service_url)
        for attempt in range(1, SAVE_TRIES + 1):
            # The thread is there: without its row the next update would post another.
            try:
                await self.store.save_case_post(
                    case_id,
                    created.conversation_id,
                    str(reference.get("activityId") or ""),
                    reference,
                    self.clock.now(),
                )
                break
            except Exception as exc:
                if attempt == SAVE_TRIES:
                    raise
                log.warning(
                    "case %d: its thread could not be recorded yet (%s)",
                    case_id,
                    type(exc).__name__,
                )
                await asyncio.sleep(0.2 * attempt)
        # The thread shows the case as it is now: updates waiting for it are done too.
        self._showing(case_id, version)
        return PostResult(Outcome.SENT, 200, shown=version)

    async def _channel_card(self, case_id: int) -> tuple[Card, int]:
        """The case's channel card as the case now stands, and the version it shows."""
        summary = await services.summary_of(self.uow_factory(), case_id, self.clock, self.policy)
        card = await self.render.gateway.channel_card(summary)
        return card, summary.version


def _again_if_unsure(result: PostResult) -> PostResult:
    """An update that may or may not have arrived is made again: it shows the case as it
    then stands, so making it twice changes nothing, while giving up leaves the card stale."""
    if result.outcome is Outcome.AMBIGUOUS:
        return PostResult(Outcome.RETRY, result.status, result.retry_after, result.detail)
    return result


async def _already() -> PostResult:
    return PostResult(Outcome.SENT, 200, None, "posted before")


def message_lost(exc: ConnectorError) -> bool:
    """Whether the Bot Connector says the message to update no longer exists."""
    return exc.code == "ActivityNotFoundInConversation" or exc.status == 404


def _tenant_of(bank: BankChannel) -> str | None:
    conversation = bank.reference.get("conversation") or {}
    tenant = conversation.get("tenantId") if isinstance(conversation, dict) else None
    return tenant if isinstance(tenant, str) and tenant else None
