"""The contact requests' verbs: take, call, judge, open the intake, and the `requests` queue.

A request's card holds a family's contact details, so it is shown in personal chat only.
A refusal that concerns one request (changed since the card, already judged, taken by
another coordinator) is answered with that request's fresh card and the reason on top.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

import cards
from bot import inputs
from bot.deps import ActionDeps, Card, Click, Handler
from bot.request_views import queue_views, request_view
from cards import verbs
from cards.base import text
from cards.i18n import Lang, error_text, form_problems, t
from cards.requests import (
    QUEUE_SHOWN,
    RequestView,
    figures_card,
    queue_card,
    request_card,
    request_intake_form,
)
from mediation import errors, request_queue, services
from mediation import requests as rq
from mediation.intake import parse_intake
from mediation.requests import ContactRequest, FrontDoorPolicy, RequestStore
from storage.redelivery import Delivery, Duplicate

log = logging.getLogger(__name__)

# The answer's notice for each action that changed the request.
_DONE = {
    request_queue.TAKE: "request.notice.taken",
    request_queue.TAKE_OVER: "request.notice.taken_over",
    request_queue.ATTEMPT: "request.notice.attempt",
    request_queue.SUITABLE: "request.notice.suitable",
    request_queue.NOT_SUITABLE: "request.notice.not_suitable",
    request_queue.NO_ANSWER: "request.notice.no_answer",
    request_queue.SAME_FAMILY: "request.notice.same_family",
}


def _personal_chat_only(lang: Lang) -> Card:
    """A request's family details never show in a channel: the refusal says where they do."""
    return cards.error_card(lang, t(lang, "request.error.personal_chat_only"))


class RequestActions:
    """Verb handlers of the request cards, and the `requests` command's card."""

    def __init__(self, deps: ActionDeps, store: RequestStore, policy: FrontDoorPolicy) -> None:
        self.deps = deps
        self.store = store
        self.policy = policy

    def routes(self) -> dict[str, Handler]:
        def acting(action: str) -> Handler:
            return lambda click: self.act(click, action)

        return {
            verbs.REQUEST_TAKE: acting(request_queue.TAKE),
            verbs.REQUEST_TAKE_OVER: acting(request_queue.TAKE_OVER),
            verbs.REQUEST_ATTEMPT: acting(request_queue.ATTEMPT),
            verbs.REQUEST_SUITABLE: acting(request_queue.SUITABLE),
            verbs.REQUEST_NOT_SUITABLE: acting(request_queue.NOT_SUITABLE),
            verbs.REQUEST_NO_ANSWER: acting(request_queue.NO_ANSWER),
            verbs.REQUEST_SAME_FAMILY: acting(request_queue.SAME_FAMILY),
            verbs.REQUEST_INTAKE: self.intake,
            verbs.REQUEST_CREATE_CASE: self.create_case,
            verbs.REQUEST_SHOW: self.show,
            verbs.REQUEST_FIGURES: self.figures,
        }

    # -- cards ------------------------------------------------------------------------------

    async def view(self, request: ContactRequest, viewer: int | None = None) -> RequestView:
        return await request_view(
            self.deps.uow_factory, request, self.deps.policy.zone, self.policy.max_attempts, viewer
        )

    async def card_of(
        self,
        request: ContactRequest,
        lang: Lang,
        notice: str | None = None,
        error: bool = False,
        viewer: int | None = None,
    ) -> Card:
        view = await self.view(request, viewer)
        return request_card(view, lang, notice, notice_is_error=error)

    async def queue_card(self, actor: str, lang: Lang, notice: str | None = None) -> Card:
        """Coordinators: the requests waiting. Everyone else is refused."""
        waiting = await request_queue.queue(actor, self.deps.uow_factory(), self.store)
        year = self.deps.policy.local_date(self.deps.clock.now()).year
        # Only those the card can list are read further; the rest are counted.
        shown = await queue_views(
            self.deps.uow_factory,
            waiting[:QUEUE_SHOWN],
            self.deps.policy.zone,
            self.policy.max_attempts,
        )
        return queue_card(shown, lang, year, notice, waiting=len(waiting))

    def _intake(
        self,
        lang: Lang,
        request: ContactRequest,
        problems: dict[str, str] | None = None,
        values: dict[str, object] | None = None,
    ) -> Card:
        form = request_intake_form(
            lang,
            request.id,
            values if values is not None else rq.intake_values(request),
            problems,
            family_language=request.form.language,
        )
        for action in form["actions"]:
            # A fresh id per form shown: a double click on save makes one case.
            action["data"] = {**action["data"], "form_id": uuid.uuid4().hex}
        return form

    # -- verbs ------------------------------------------------------------------------------

    async def act(self, click: Click, action: str) -> Card:
        """Take, record a call, or judge a request, as the clicked card showed it."""
        if not click.personal:
            return _personal_chat_only(click.lang)
        cmd = request_queue.RequestAction(
            actor=click.actor,
            request_id=inputs.whole(click.data, "request_id") or 0,
            action=action,
            shown_version=inputs.whole(click.data, "version", required=False),
            reason=inputs.text(click.data, "reason", 40),
            referred_to=inputs.text(click.data, "referred_to", 40),
            case_id=inputs.whole(click.data, "case_id", required=False),
        )
        try:
            result = await request_queue.act_on_request(
                cmd, self.deps.uow(click), self.store, self.deps.clock, self.policy
            )
        except rq.AboutRequest as exc:
            return await self.card_of(exc.request, click.lang, error_text(click.lang, exc), True)
        except errors.InvalidForm as exc:
            request = await request_queue.load_request(self.store, cmd.request_id)
            notice = " ".join(t(click.lang, f"request.problem.{field}") for field in exc.problems)
            return await self.card_of(request, click.lang, notice, True)
        request = result.request
        if action == request_queue.TAKE_OVER and result.changed:
            log.info("contact request %d taken over by mediator %s", request.id, request.taken_by)
        if action == request_queue.SUITABLE:
            card = self._intake(click.lang, request)
            card["body"].insert(0, text(t(click.lang, "request.notice.suitable"), color="Good"))
            return card
        key = _DONE[action] if result.changed else "request.notice.unchanged"
        return await self.card_of(request, click.lang, t(click.lang, key), viewer=result.by)

    async def show(self, click: Click) -> Card:
        """One request's card, opened from the queue."""
        if not click.personal:
            return _personal_chat_only(click.lang)
        me = await request_queue.coordinator(click.actor, self.deps.uow(click))
        request_id = inputs.whole(click.data, "request_id") or 0
        return await self.card_of(
            await request_queue.load_request(self.store, request_id), click.lang, viewer=me.id
        )

    async def figures(self, click: Click) -> Card:
        """A year's contact requests in figures, for the bank's joint meetings."""
        if not click.personal:
            return _personal_chat_only(click.lang)
        await request_queue.coordinator(click.actor, self.deps.uow(click))
        year = inputs.whole(click.data, "year", low=inputs.FIRST_YEAR, high=inputs.LAST_YEAR)
        assert year is not None  # required: whole() refuses a button without it
        zone = self.deps.policy.zone
        start = datetime(year, 1, 1, tzinfo=zone)
        end = datetime(year + 1, 1, 1, tzinfo=zone)
        received = await self.store.received_between(start, end)
        cases = sorted({r.case_id for r in received if r.case_id is not None})
        first = await self.store.first_meetings(cases)
        found = rq.request_figures(year, received, first, self.deps.policy.local_date)
        return figures_card(found, click.lang)

    async def intake(self, click: Click) -> Card:
        """The prefilled intake form of a request judged suitable, shown again."""
        if not click.personal:
            return _personal_chat_only(click.lang)
        request_id = inputs.whole(click.data, "request_id") or 0
        try:
            request = await request_queue.begin_case(
                click.actor, request_id, self.deps.uow(click), self.store
            )
        except rq.AboutRequest as exc:
            return await self.card_of(exc.request, click.lang, error_text(click.lang, exc), True)
        return self._intake(click.lang, request)

    async def create_case(self, click: Click) -> Card:
        """The intake of a suitable request is saved: the case is made and linked to it."""
        lang = click.lang
        if not click.personal:
            return _personal_chat_only(lang)
        request_id = inputs.whole(click.data, "request_id") or 0
        form = {k: v for k, v in click.data.items() if k not in ("form_id", "request_id")}
        try:
            request = await request_queue.begin_case(
                click.actor, request_id, self.deps.uow(click), self.store
            )
        except rq.AboutRequest as exc:
            return await self.card_of(exc.request, lang, error_text(lang, exc), True)
        if await self.deps.store.bank_channel() is None:
            return cards.error_card(lang, t(lang, "error.no_bank_channel"))
        try:
            parse_intake(form, self.deps.policy.local_date(self.deps.clock.now()))
        except errors.InvalidForm as exc:
            return self._intake(lang, request, form_problems(lang, exc), dict(form))
        form_id = inputs.text(click.data, "form_id", limit=64)
        if not form_id:
            problems = {"form_id": error_text(lang, errors.UnmarkedForm())}
            return self._intake(lang, request, problems, dict(form))
        # The form's id is committed with the case and its channel post (bot/actions.py).
        delivery = Delivery(f"form|{form_id}", self.deps.clock.now())
        try:
            # The request is linked in the case's transaction: both or neither.
            summary = await services.register_case(
                services.RegisterCase(click.actor, form, request),
                self.deps.units(delivery),
                self.deps.clock,
                self.deps.policy,
            )
        except Duplicate:
            return cards.notice_card(lang, t(lang, "notice.form_already_sent"))
        except rq.AboutRequest as exc:
            # Another coordinator saved this request's intake a moment earlier: no second
            # case; the card shows the request as it now is.
            fresh = await self.store.get(request_id) or exc.request
            return await self.card_of(fresh, lang, error_text(lang, exc), True)
        posted = cards.case_posted_card(summary, lang)
        notice = t(lang, "request.notice.case_created", code=summary.code, n=request_id)
        posted["body"].insert(0, text(notice, color="Good"))
        return posted
