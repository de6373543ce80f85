"""Chat commands to Sopu (help, setup, new case, my cases, quota, mediators, reminders, stats,
requests, book, templates)."""

from __future__ import annotations

import logging

import cards
from bot.actions import CaseActions
from bot.actions_common_time import CommonTimeActions
from bot.actions_consultations import ConsultationActions
from bot.actions_feedback import FeedbackActions
from bot.actions_jobs import JobActions
from bot.actions_requests import RequestActions
from bot.actions_templates import TemplateActions
from bot.actions_walk_in import WalkInActions
from bot.answers import with_form_id
from bot.deps import ActionDeps, Card, Message
from bot.languages import Languages
from bot.teams import DeliveryFailed
from cards import booking as booking_cards
from cards.commands import language_named, parse_command
from cards.i18n import Lang, error_text, lang_of, t
from mediation import calendar as cal
from mediation import errors, notices, services
from mediation.model import Mediator
from mediation.outbox import MessageKind

log = logging.getLogger(__name__)

# Commands that show people's data: asked in a channel, they answer in personal chat.
PRIVATE_COMMANDS = frozenset(
    {"my cases", "quota", "mediators", "reminders", "stats", "requests", "shifts"}
)
# What a booker may ask; anything else is refused with what they can do instead.
BOOKER_COMMANDS = frozenset({"help", "language", "book", "shifts"})


class Conversation:
    """Answers what people write to Sopu; each answer is one card."""

    def __init__(
        self,
        deps: ActionDeps,
        cases: CaseActions,
        jobs: JobActions,
        feedback: FeedbackActions,
        requests: RequestActions,
        templates: TemplateActions,
        common_times: CommonTimeActions,
        consultations: ConsultationActions,
        languages: Languages,
        walk_in: WalkInActions,
    ) -> None:
        self.languages = languages
        self.deps = deps
        self.cases = cases
        self.jobs = jobs
        self.feedback = feedback
        self.requests = requests
        self.templates = templates
        self.common_times = common_times
        self.consultations = consultations
        self.walk_in = walk_in

    async def answer(self, message: Message) -> Card:
        """The answer to a typed message; a refusal is a card too."""
        message = await self.languages.of_message(message)
        parsed = parse_command(message.text)
        try:
            if parsed is None:
                log.info("unknown command of %d characters", len(message.text))
                return cards.error_card(message.lang, t(message.lang, "error.unknown_command"))
            return await self._command(message, parsed[0], parsed[1])
        except errors.DomainError as exc:
            return cards.error_card(message.lang, error_text(message.lang, exc))

    async def greet(self, message: Message) -> Card:
        """The help card for someone who has just installed Sopu in personal chat."""
        message = await self.languages.of_message(message)
        try:
            return await self._command(message, "help", "")
        except errors.DomainError as exc:
            return cards.error_card(message.lang, error_text(message.lang, exc))

    async def _command(self, message: Message, command: str, args: str) -> Card:
        deps, lang, actor = self.deps, message.lang, message.actor
        uow = deps.uow_factory()
        async with uow:
            me = await services.actor(uow, actor, booker=True)
        if me.is_booker and command not in BOOKER_COMMANDS:
            raise errors.BookerNotAllowed()
        if command == "help":
            if me.is_booker:
                return booking_cards.booker_help_card(lang)
            return cards.help_card(lang, me.is_coordinator)
        if command == "setup":
            return await self._setup(message, me)
        if command == "language":
            return await self._language(message, args)
        if command == "new case":
            await services.may_register(actor, deps.uow_factory())
            if not message.personal:
                return cards.error_card(lang, t(lang, "error.personal_chat_only"))
            return with_form_id(cards.intake_form(lang, areas=deps.policy.areas))
        if command in PRIVATE_COMMANDS and not message.personal:
            return await self._answer_in_personal_chat(message, command, args)
        return await self._private(message, command, args)

    async def _private(self, message: Message, command: str, args: str) -> Card:
        deps, lang, actor = self.deps, message.lang, message.actor
        if command == "my cases":
            mine = await services.my_cases(actor, deps.uow_factory(), deps.clock, deps.policy)
            return cards.my_cases_card(mine, lang)
        if command == "quota":
            report = await services.my_quota(actor, deps.uow_factory(), deps.clock, deps.policy)
            return cards.quota_card(report, lang)
        if command == "mediators":
            return await self.cases.registry_card(actor, lang)
        if command == "reminders":
            return await self.jobs.reminders_card(actor, lang)
        if command == "requests":
            # Asked in a channel, the queue goes to personal chat (PRIVATE_COMMANDS).
            return await self.requests.queue_card(actor, lang)
        if command == "stats":
            return await self.feedback.stats_command(actor, lang, args)
        if command == "templates":
            if not message.personal:
                return cards.error_card(lang, t(lang, "error.personal_only"))
            return await self.templates.card(actor, lang)
        if command == "common time":
            if not message.personal:
                return cards.error_card(lang, t(lang, "error.personal_only"))
            return await self.common_times.list_card(actor, lang)
        if command == "consultations":
            if not message.personal:
                return cards.error_card(lang, t(lang, "error.personal_only"))
            return await self.consultations.list_card(actor, lang)
        if command == "shifts":
            # Asked in a channel, the rota goes to personal chat (PRIVATE_COMMANDS).
            return await self.walk_in.rota_card(actor, lang)
        if command == "book":
            if not message.personal:
                return cards.error_card(lang, t(lang, "error.personal_only"))
            waiting = await cal.cases_to_book(actor, deps.uow_factory())
            return booking_cards.cases_to_book_card(waiting, lang)
        uow = deps.uow_factory()
        async with uow:
            me = await services.actor(uow, actor)
        return cards.help_card(lang, me.is_coordinator)

    async def _answer_in_personal_chat(self, message: Message, command: str, args: str) -> Card:
        """The answer goes to the asker's personal chat; the channel hears only where it went."""
        lang = message.lang
        answer = await self._private(message, command, args)
        try:
            await self.deps.gateway.send_personal(message.actor, lambda _lang: answer)
        except DeliveryFailed:
            return cards.error_card(lang, t(lang, "error.personal_chat_failed"))
        return cards.notice_card(lang, t(lang, "notice.answered_in_personal_chat"))

    async def _language(self, message: Message, args: str) -> Card:
        """``language [name]``: show the choice, or remember the one named."""
        if not args.strip():
            return cards.language_card(message.lang)
        chosen = language_named(args)
        if chosen is None:
            return cards.error_card(message.lang, t(message.lang, "language.unknown"))
        lang = lang_of(chosen)
        await self.languages.choose(message.actor, lang)
        return cards.notice_card(lang, t(lang, "language.chosen"))

    async def _setup(self, message: Message, me: Mediator) -> Card:
        lang: Lang = message.lang
        if not me.is_coordinator:
            raise errors.NotAllowed("choosing the bank channel", "only a coordinator may do this")
        place = message.channel
        if place is None:
            return cards.error_card(lang, t(lang, "error.channel_only"))
        assert me.id is not None
        await self.deps.store.set_bank_channel(
            place.team_id,
            place.channel_id,
            place.service_url,
            dict(place.reference),
            me.id,
            self.deps.clock.now(),
        )
        await self._post_unposted()
        return cards.setup_done_card(lang, place.channel_name)

    async def _post_unposted(self) -> None:
        """Cases without a thread in the bank channel are posted now that there is one.

        Their posts waiting for a channel go at once; a case whose post failed for good
        (Teams refused it) gets a new one.
        """
        deps, now = self.deps, self.deps.clock.now()
        await deps.jobs.outbox.due_now(MessageKind.CASE_POST, now)
        unposted = [
            summary.case_id
            for summary in await services.open_cases(deps.uow_factory(), deps.clock, deps.policy)
            if await deps.store.case_post(summary.case_id) is None
        ]
        await deps.jobs.outbox.add(
            [notices.case_posted(case_id, again=now) for case_id in unposted], now
        )
        deps.jobs.wake()
