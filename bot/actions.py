"""The case verbs: intake, seats, details, close and cancel, and the registry's edits.

Each handler maps its verb to one use case and answers with a card; refusals are turned
into cards by the router (bot/router.py).
"""

from __future__ import annotations

import logging
from typing import Any

import cards
from bot import inputs
from bot.answers import CaseAnswers, with_form_id
from bot.deps import ActionDeps, Card, Click, Handler
from bot.teams import DeliveryFailed
from cards import verbs
from cards.base import plain
from cards.i18n import Lang, error_text, form_problems, label, t, tn
from cards.mediators import read_mediator_update
from jobs import feedback as feedback_job
from mediation import calendar as cal
from mediation import errors, services
from mediation.intake import parse_intake
from mediation.model import Outcome, ReleaseReason
from storage.redelivery import Delivery, Duplicate

log = logging.getLogger(__name__)


class CaseActions:
    def __init__(self, deps: ActionDeps, answers: CaseAnswers) -> None:
        self.deps = deps
        self.answers = answers

    def routes(self) -> dict[str, Handler]:
        return {
            verbs.CASE_CREATE: self.create,
            verbs.CASE_CLAIM: self.claim,
            verbs.CASE_RELEASE: self.release,
            verbs.CASE_DETAILS: self.details,
            verbs.CASE_ASSIGN: self.assign,
            verbs.CASE_CLOSE: self.close,
            verbs.CASE_CANCEL: self.cancel,
            verbs.CARD_REFRESH: self.refresh,
            verbs.CASE_CLEAR_SAFETY: self.clear_safety,
            verbs.MEDIATOR_UPDATE: self.update_mediator,
        }

    # -- intake ------------------------------------------------------------------------

    async def create(self, click: Click) -> Card:
        form = {k: v for k, v in click.data.items() if k != "form_id"}
        if not click.personal:
            # The form holds a family's data: never in a channel, where the answer shows.
            return cards.error_card(click.lang, t(click.lang, "error.personal_chat_only"))
        await services.may_register(click.actor, self.deps.uow(click))
        if await self.deps.store.bank_channel() is None:
            return cards.error_card(click.lang, t(click.lang, "error.no_bank_channel"))
        try:
            policy = self.deps.policy
            parse_intake(form, policy.local_date(self.deps.clock.now()), policy.areas)
        except errors.InvalidForm as exc:
            problems = form_problems(click.lang, exc)
            return with_form_id(
                cards.intake_form(click.lang, form, problems, areas=self.deps.policy.areas)
            )
        form_id = inputs.text(click.data, "form_id", limit=64)
        if not form_id:
            problems = {"form_id": error_text(click.lang, errors.UnmarkedForm())}
            return with_form_id(
                cards.intake_form(click.lang, form, problems, areas=self.deps.policy.areas)
            )
        # The form's id is committed with the case, its journal entry and its channel post,
        # or none of them is: a form sent twice (a double click, Teams' redelivery under a
        # new activity id) registers the case once, and the second answer says so.
        delivery = Delivery(f"form|{form_id}", self.deps.clock.now())
        try:
            summary = await services.register_case(
                services.RegisterCase(click.actor, form),
                self.deps.units(delivery),
                self.deps.clock,
                self.deps.policy,
            )
        except Duplicate:
            return cards.notice_card(click.lang, t(click.lang, "notice.form_already_sent"))
        # Its thread in the bank channel is an outbox message committed with the case.
        return cards.case_posted_card(summary, click.lang)

    # -- seats -------------------------------------------------------------------------

    async def claim(self, click: Click) -> Card:
        result = await services.claim_seat(
            services.ClaimSeat(
                click.actor,
                inputs.case_id(click.data),
                inputs.whole(click.data, "seat", required=False),
                cards.read_card_snapshot(click.data),
            ),
            *self.deps.seat_ports(click),
        )
        key = "notice.claimed" if result.changed else "notice.already_holding"
        notice = t(click.lang, key, seat=result.seat, code=result.case.code)
        if result.changed and result.case.open_seats == 0:
            pair = await services.worked_together(self.deps.uow_factory(), result.case, click.actor)
            if pair is not None:
                name, shared = pair
                notice += " " + tn(click.lang, "notice.worked_together", shared, name=plain(name))
        return await self.answers.of(click, result.case, notice)

    async def release(self, click: Click) -> Card:
        raw = click.data.get("reason") or ReleaseReason.WITHDRAW.value
        if raw not in (ReleaseReason.WITHDRAW.value, ReleaseReason.CONFLICT_OF_INTEREST.value):
            raise errors.InvalidInput("reason", "unknown choice")
        result = await services.release_seat(
            services.ReleaseSeat(
                click.actor,
                inputs.case_id(click.data),
                ReleaseReason(raw),
                inputs.whole(click.data, "seat", required=False),
                cards.read_card_snapshot(click.data),
            ),
            *self.deps.seat_ports(click),
        )
        if result.changed:
            message = t(click.lang, "notice.released", code=result.case.code)
        else:
            message = t(click.lang, "notice.unchanged")
        if click.personal:
            # Clicked on the details card: the details must go, replaced by a plain note.
            return cards.notice_card(click.lang, message)
        return await self.answers.of(click, result.case, message)

    async def assign(self, click: Click) -> Card:
        mediator_id = inputs.whole(click.data, "mediator_id")
        assert mediator_id is not None
        reason = inputs.text(click.data, "override_reason")
        result = await services.assign_seat(
            services.AssignSeat(
                click.actor,
                inputs.case_id(click.data),
                mediator_id,
                inputs.whole(click.data, "seat", required=False),
                reason,
                cards.read_card_snapshot(click.data),
            ),
            *self.deps.seat_ports(click),
        )
        if result.changed:
            holder = next(s.holder_name for s in result.case.seats if s.n == result.seat)
            notice = t(
                click.lang,
                "notice.assigned",
                name=plain(holder or ""),
                seat=result.seat,
                code=result.case.code,
            )
        else:
            notice = t(click.lang, "notice.unchanged")
        return await self.answers.of(click, result.case, notice)

    async def close(self, click: Click) -> Card:
        try:
            outcome = Outcome(str(click.data.get("outcome") or ""))
        except ValueError:
            raise errors.InvalidInput("outcome", "unknown choice") from None
        result = await services.close_case(
            services.CloseCase(
                click.actor,
                inputs.case_id(click.data),
                outcome,
                cards.read_card_snapshot(click.data),
            ),
            *self.deps.change_ports(click),
        )
        if result.changed:
            outcome_name = label(click.lang, "outcome", outcome.value)
            notice = t(click.lang, "notice.closed", code=result.case.code, outcome=outcome_name)
            notice += await self._cancel_meetings_ahead(click, result.case.case_id)
            await self._feedback_requests(result.case.case_id)
        else:
            notice = t(click.lang, "notice.unchanged")
        return await self.answers.of(click, result.case, notice)

    async def _feedback_requests(self, case_id: int) -> None:
        """Queue the pair's feedback cards in the outbox now; its sender delivers them.

        The feedback job queues them too, every few minutes, should this not happen (the
        outbox's keys keep it to one of each), so a failure here is only logged.
        """
        try:
            await feedback_job.for_case(self.deps.jobs.context, case_id)
        except Exception:  # the close is committed; its answer must not fail now
            log.exception("queueing the feedback requests of a closed case failed")

    async def cancel(self, click: Click) -> Card:
        reason = inputs.text(click.data, "reason")
        result = await services.cancel_case(
            services.CancelCase(
                click.actor,
                inputs.case_id(click.data),
                reason,
                cards.read_card_snapshot(click.data),
            ),
            *self.deps.change_ports(click),
        )
        key = "notice.cancelled" if result.changed else "notice.unchanged"
        notice = t(click.lang, key, code=result.case.code)
        if result.changed:
            notice += await self._cancel_meetings_ahead(click, result.case.case_id)
        return await self.answers.of(click, result.case, notice)

    async def _cancel_meetings_ahead(self, click: Click, case_id: int) -> str:
        """The case's meetings still ahead are cancelled and the pair told; what to add to
        the notice. The close is committed: a failure here is logged, not answered."""
        svc = self.deps.calendar
        try:
            cancelled = await cal.cancel_meetings_ahead(
                click.actor,
                case_id,
                self.deps.uow_factory(),
                svc.in_lang(click.lang),
                svc.meeting_notifier,
            )
        except Exception:
            log.exception("cancelling the meetings of a closed case failed")
            return " " + t(click.lang, "notice.meetings_not_cancelled")
        if not cancelled:
            return ""
        return " " + tn(click.lang, "notice.meetings_cancelled", len(cancelled))

    async def refresh(self, click: Click) -> Card:
        return await self.answers.now(click)

    # -- details -----------------------------------------------------------------------

    async def details(self, click: Click) -> Card:
        case_id = inputs.case_id(click.data)
        details = await services.view_details(
            services.ViewDetails(click.actor, case_id),
            self.deps.uow(click),
            self.deps.clock,
            self.deps.policy,
        )
        coordinator = await self._is_coordinator(click.actor)
        if click.personal:
            return cards.details_card(details, click.lang, coordinator=coordinator)
        # Clicked in the channel: the details go to personal chat, the channel keeps its card.
        try:
            await self._send_details(click, details, coordinator)
        except DeliveryFailed:
            return await self.answers.now(
                click, t(click.lang, "error.personal_chat_failed"), error=True
            )
        return await self.answers.now(
            click, t(click.lang, "notice.details_sent", code=details.summary.code)
        )

    async def _send_details(self, click: Click, details: Any, coordinator: bool) -> None:
        build = lambda lang: cards.details_card(details, lang, coordinator=coordinator)  # noqa: E731
        try:
            await self.deps.gateway.send_personal(click.actor, build)
        except DeliveryFailed:
            if click.sender is None:
                raise
            await self.deps.gateway.open_personal_chat(click.sender)
            await self.deps.gateway.send_personal(click.actor, build)

    async def clear_safety(self, click: Click) -> Card:
        """A coordinator clears the case's safety concern from the details card."""
        case_id = inputs.case_id(click.data)
        await services.clear_safety_concern(
            services.CaseStep(click.actor, case_id),
            self.deps.uow(click),
            self.deps.clock,
            self.deps.policy,
        )
        details = await services.view_details(
            services.ViewDetails(click.actor, case_id),
            self.deps.uow_factory(),
            self.deps.clock,
            self.deps.policy,
        )
        return cards.details_card(details, click.lang, coordinator=True)

    # -- the registry ------------------------------------------------------------------

    async def update_mediator(self, click: Click) -> Card:
        personal_quota = click.personal and not await self._is_coordinator(click.actor)
        try:
            cmd = services.UpdateMediator(actor=click.actor, **read_mediator_update(click.data))
            changed = await services.update_mediator(
                cmd, self.deps.uow(click), self.deps.clock, self.deps.policy
            )
        except errors.InvalidInput as exc:
            # The form comes back open with what was typed, the reason above it.
            refused = error_text(click.lang, exc)
            if personal_quota:
                return await self._quota_card(click, refused=refused, typed=click.data)
            return await self.registry_card(
                click.actor, click.lang, refused=refused, typed=click.data
            )
        if personal_quota:
            # A mediator marking themselves away from the quota card gets the quota card back.
            return await self._quota_card(click)
        notice = t(click.lang, "notice.registry_saved", name=plain(changed.name))
        return await self.registry_card(click.actor, click.lang, notice=notice)

    async def _quota_card(
        self, click: Click, *, refused: str | None = None, typed: Any = None
    ) -> Card:
        report = await services.my_quota(
            click.actor, self.deps.uow_factory(), self.deps.clock, self.deps.policy
        )
        return cards.quota_card(report, click.lang, refused=refused, typed=typed)

    async def _is_coordinator(self, aad: str) -> bool:
        uow = self.deps.uow_factory()
        async with uow:
            return (await services.actor(uow, aad)).is_coordinator

    async def registry_card(
        self,
        actor: str,
        lang: Lang,
        *,
        notice: str | None = None,
        refused: str | None = None,
        typed: Any = None,
    ) -> Card:
        people = await services.list_registry(actor, self.deps.uow_factory())
        today = self.deps.policy.local_date(self.deps.clock.now())
        return cards.registry_card(
            people, lang, self.deps.policy, today, notice=notice, refused=refused, typed=typed
        )
