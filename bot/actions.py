"""The verb router: each card action verb maps to one use case and one answer card.

An action never raises: a refusal becomes the refreshed case card that says why (or an
error card when there is no case to show), in the clicker's language, and nothing changes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import cards
from bot import inputs
from bot.actions_feedback import FeedbackActions, FeedbackDeps
from bot.actions_jobs import JobActions
from bot.teams import DeliveryFailed, TeamsGateway
from cards import verbs
from cards.i18n import Lang, error_text, form_problems, label, t
from cards.mediators import read_mediator_update
from mediation import errors, services
from mediation.intake import parse_intake
from mediation.model import Outcome, ReleaseReason
from mediation.policy import BankPolicy
from mediation.ports import Clock, Notifier, UnitOfWork
from storage.botstore import BotStore
from storage.redelivery import Duplicate

log = logging.getLogger(__name__)

Card = dict[str, Any]


@dataclass(frozen=True)
class Click:
    """One card action as the router needs it, taken from the activity."""

    verb: str
    data: Mapping[str, Any]
    actor: str  # the clicker's Entra object id, from the activity, never from card data
    lang: Lang
    personal: bool  # clicked in personal chat (else in a channel)
    activity: Any  # the botbuilder Activity, for opening a personal chat


@dataclass
class Deps:
    uow_factory: Callable[[], UnitOfWork]
    notifier: Notifier
    clock: Clock
    policy: BankPolicy
    store: BotStore
    gateway: TeamsGateway
    feedback: FeedbackDeps | None = None  # the feedback and statistics feature
    calendar: Any = None  # bot.actions_calendar.CalendarService: meetings and calendars
    jobs: Any = None  # bot.actions_jobs.JobServices: the outbox, for the jobs' buttons


def _int(data: Mapping[str, Any], key: str, *, required: bool = True) -> int | None:
    """A number a card's choice or data carries; the problem says what the user can do."""
    return inputs.whole(data, key, required=required)


def _case_id(data: Mapping[str, Any]) -> int:
    """The case a button is about; a button without a readable one points at no case."""
    try:
        value = _int(data, "case_id")
    except errors.InvalidInput:
        raise errors.CaseNotFound(str(data.get("case_id"))[:20]) from None
    assert value is not None
    return value


def _text(data: Mapping[str, Any], key: str, limit: int = 500) -> str:
    return inputs.text(data, key, limit)


def with_form_id(card: Card) -> Card:
    """Stamp the intake form's submit action with a fresh id, so a double submit is seen."""
    for action in card.get("actions", []):
        if action.get("verb") == verbs.CASE_CREATE:
            action["data"] = {**action.get("data", {}), "form_id": uuid.uuid4().hex}
    return card


_CASE_VERBS = frozenset(
    {
        verbs.CASE_CLAIM,
        verbs.CASE_RELEASE,
        verbs.CASE_DETAILS,
        verbs.CASE_ASSIGN,
        verbs.CASE_CLOSE,
        verbs.CASE_CANCEL,
        verbs.CARD_REFRESH,
    }
)


class Actions:
    def __init__(self, deps: Deps) -> None:
        self.d = deps
        self.routes: dict[str, Callable[[Click], Awaitable[Card]]] = {
            verbs.CASE_CREATE: self.create,
            verbs.CASE_CLAIM: self.claim,
            verbs.CASE_RELEASE: self.release,
            verbs.CASE_DETAILS: self.details,
            verbs.CASE_ASSIGN: self.assign,
            verbs.CASE_CLOSE: self.close,
            verbs.CASE_CANCEL: self.cancel,
            verbs.CARD_REFRESH: self.refresh,
            verbs.MEDIATOR_UPDATE: self.update_mediator,
        }
        from bot.actions_calendar import calendar_routes  # it imports this module

        self.routes.update(calendar_routes(self))
        self.feedback = FeedbackActions(deps)
        if deps.feedback is not None:
            self.routes.update(self.feedback.routes())
        self.jobs = JobActions(deps)
        self.routes.update(self.jobs.routes)

    async def run(self, click: Click) -> Card:
        handler = self.routes.get(click.verb)
        if handler is None:
            return cards.error_card(click.lang, t(click.lang, "error.unknown_action"))
        try:
            if click.verb in _CASE_VERBS:
                _case_id(click.data)  # a button about no readable case is refused first
            return await handler(click)
        except errors.DomainError as exc:
            return await self._refusal(click, exc)
        except Duplicate:
            raise  # another delivery of this click made the change (storage/redelivery.py)
        except Exception:
            log.exception("action %s failed", click.verb)
            return cards.error_card(click.lang, t(click.lang, "error.unexpected"))

    async def current_card(
        self, click: Click, notice: str | None = None, error: bool = False
    ) -> Card:
        """The case card as it stands now, for the clicker, with an optional notice on top."""
        summary = await services.case_summary(
            click.actor, _case_id(click.data), self.d.uow_factory(), self.d.clock, self.d.policy
        )
        return cards.case_card(
            summary,
            click.lang,
            mediators=await self.d.gateway.mediators_for_cards(),
            notice=notice,
            notice_is_error=error,
        )

    async def _refusal(self, click: Click, exc: errors.DomainError) -> Card:
        message = error_text(click.lang, exc)
        # A refusal about an existing case shows that case as it now is, with the reason:
        # as the use case read it when it brings it along, else read again.
        if exc.case is not None:
            return await self._case_answer(click, exc.case, message, error=True)
        showable = not isinstance(exc, errors.NotFound | errors.NotInRegistry)
        if showable and click.verb != verbs.MEDIATOR_UPDATE and "case_id" in click.data:
            try:
                return await self.current_card(click, message, error=True)
            except errors.DomainError:
                pass
        return cards.error_card(click.lang, message)

    def _svc(self) -> tuple[UnitOfWork, Notifier, Clock, BankPolicy]:
        return self.d.uow_factory(), self.d.notifier, self.d.clock, self.d.policy

    # -- intake ------------------------------------------------------------------------

    async def create(self, click: Click) -> Card:
        form = {k: v for k, v in click.data.items() if k != "form_id"}
        if not click.personal:
            # The form holds a family's data: never in a channel, where the answer shows.
            return cards.error_card(click.lang, t(click.lang, "error.personal_chat_only"))
        await services.may_register(click.actor, self.d.uow_factory())
        if await self.d.store.bank_channel() is None:
            return cards.error_card(click.lang, t(click.lang, "error.no_bank_channel"))
        try:
            parse_intake(form, self.d.policy.local_date(self.d.clock.now()))
        except errors.InvalidForm as exc:
            problems = form_problems(click.lang, exc)
            return with_form_id(cards.intake_form(click.lang, form, problems))
        form_id = str(click.data.get("form_id") or "")
        if form_id and not await self.d.store.first_seen(f"form|{form_id}", self.d.clock.now()):
            return cards.notice_card(click.lang, t(click.lang, "notice.form_already_sent"))
        summary = await services.register_case(
            services.RegisterCase(click.actor, form),
            self.d.uow_factory(),
            self.d.clock,
            self.d.policy,
        )
        try:
            await self.d.gateway.post_case(summary)
        except DeliveryFailed:
            return cards.error_card(
                click.lang, t(click.lang, "error.not_posted", code=summary.code)
            )
        return cards.case_posted_card(summary, click.lang)

    # -- seats -------------------------------------------------------------------------

    async def claim(self, click: Click) -> Card:
        uow, notifier, clock, policy = self._svc()
        result = await services.claim_seat(
            services.ClaimSeat(
                click.actor, _case_id(click.data), _int(click.data, "seat", required=False)
            ),
            uow,
            notifier,
            clock,
            policy,
        )
        key = "notice.claimed" if result.changed else "notice.already_holding"
        notice = t(click.lang, key, seat=result.seat, code=result.case.code)
        return await self._case_answer(click, result.case, notice)

    async def release(self, click: Click) -> Card:
        raw = click.data.get("reason") or ReleaseReason.WITHDRAW.value
        if raw not in (ReleaseReason.WITHDRAW.value, ReleaseReason.CONFLICT_OF_INTEREST.value):
            raise errors.InvalidInput("reason", "unknown choice")
        uow, notifier, clock, policy = self._svc()
        result = await services.release_seat(
            services.ReleaseSeat(
                click.actor,
                _case_id(click.data),
                ReleaseReason(raw),
                _int(click.data, "seat", required=False),
            ),
            uow,
            notifier,
            clock,
            policy,
        )
        if result.changed:
            message = t(click.lang, "notice.released", code=result.case.code)
        else:
            message = t(click.lang, "notice.unchanged")
        if click.personal:
            # Clicked on the details card: the details must go, replaced by a plain note.
            return cards.notice_card(click.lang, message)
        return await self._case_answer(click, result.case, message)

    async def assign(self, click: Click) -> Card:
        uow, notifier, clock, policy = self._svc()
        mediator_id = _int(click.data, "mediator_id")
        assert mediator_id is not None
        reason = _text(click.data, "override_reason")
        result = await services.assign_seat(
            services.AssignSeat(
                click.actor,
                _case_id(click.data),
                mediator_id,
                _int(click.data, "seat", required=False),
                reason,
            ),
            uow,
            notifier,
            clock,
            policy,
        )
        if result.changed:
            holder = next(s.holder_name for s in result.case.seats if s.n == result.seat)
            notice = t(
                click.lang, "notice.assigned", name=holder, seat=result.seat, code=result.case.code
            )
        else:
            notice = t(click.lang, "notice.unchanged")
        return await self._case_answer(click, result.case, notice)

    async def close(self, click: Click) -> Card:
        try:
            outcome = Outcome(str(click.data.get("outcome") or ""))
        except ValueError:
            raise errors.InvalidInput("outcome", "unknown choice") from None
        uow, notifier, clock, policy = self._svc()
        result = await services.close_case(
            services.CloseCase(click.actor, _case_id(click.data), outcome),
            uow,
            notifier,
            clock,
            policy,
        )
        if result.changed:
            outcome_name = label(click.lang, "outcome", outcome.value)
            notice = t(click.lang, "notice.closed", code=result.case.code, outcome=outcome_name)
            await self._feedback_requests(result.case.case_id)
        else:
            notice = t(click.lang, "notice.unchanged")
        return await self._case_answer(click, result.case, notice)

    async def _feedback_requests(self, case_id: int) -> None:
        """Queue the pair's feedback cards in the outbox now; its sender delivers them.

        The feedback job queues them too, every few minutes, should this not happen (the
        outbox's keys keep it to one of each), so a failure here is only logged.
        """
        if self.d.jobs is None:
            return
        try:
            await self.d.jobs.case_closed(case_id)
        except Exception:  # the close is committed; its answer must not fail now
            log.exception("queueing the feedback requests of a closed case failed")

    async def cancel(self, click: Click) -> Card:
        reason = _text(click.data, "reason")
        uow, notifier, clock, policy = self._svc()
        result = await services.cancel_case(
            services.CancelCase(click.actor, _case_id(click.data), reason),
            uow,
            notifier,
            clock,
            policy,
        )
        key = "notice.cancelled" if result.changed else "notice.unchanged"
        return await self._case_answer(
            click, result.case, t(click.lang, key, code=result.case.code)
        )

    async def refresh(self, click: Click) -> Card:
        return await self.current_card(click)

    async def _case_answer(
        self, click: Click, summary: Any, notice: str, *, error: bool = False
    ) -> Card:
        return cards.case_card(
            summary,
            click.lang,
            mediators=await self.d.gateway.mediators_for_cards(),
            notice=notice,
            notice_is_error=error,
        )

    # -- details -----------------------------------------------------------------------

    async def details(self, click: Click) -> Card:
        case_id = _case_id(click.data)
        details = await services.view_details(
            services.ViewDetails(click.actor, case_id),
            self.d.uow_factory(),
            self.d.clock,
            self.d.policy,
        )
        if click.personal:
            return cards.details_card(details, click.lang)
        # Clicked in the channel: the details go to personal chat, the channel keeps its card.
        try:
            await self._send_details(click, details)
        except DeliveryFailed:
            return await self.current_card(
                click, t(click.lang, "error.personal_chat_failed"), error=True
            )
        return await self.current_card(
            click, t(click.lang, "notice.details_sent", code=details.summary.code)
        )

    async def _send_details(self, click: Click, details: Any) -> None:
        build = lambda lang: cards.details_card(details, lang)  # noqa: E731
        try:
            await self.d.gateway.send_personal(click.actor, build)
        except DeliveryFailed:
            await self.d.gateway.open_personal_chat(click.activity)
            await self.d.gateway.send_personal(click.actor, build)

    # -- the registry ------------------------------------------------------------------

    async def update_mediator(self, click: Click) -> Card:
        cmd = services.UpdateMediator(actor=click.actor, **read_mediator_update(click.data))
        await services.update_mediator(cmd, self.d.uow_factory(), self.d.clock, self.d.policy)
        if cmd.active is False and self.d.calendar is not None:
            await self.d.calendar.forget_feed(cmd.mediator_id)  # left the registry
        if click.personal and not await self._is_coordinator(click.actor):
            # A mediator marking themselves away from the quota card gets the quota card back.
            report = await services.my_quota(
                click.actor, self.d.uow_factory(), self.d.clock, self.d.policy
            )
            return cards.quota_card(report, click.lang)
        return await self.registry_card(click.actor, click.lang)

    async def _is_coordinator(self, aad: str) -> bool:
        uow = self.d.uow_factory()
        async with uow:
            return (await services.actor(uow, aad)).is_coordinator

    async def registry_card(self, actor: str, lang: Lang) -> Card:
        people = await services.list_registry(actor, self.d.uow_factory())
        return cards.registry_card(
            people, lang, self.d.policy, self.d.policy.local_date(self.d.clock.now())
        )
