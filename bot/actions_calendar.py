"""The meeting verbs: propose, book, move, cancel and record, each answered with a card.

The rules are in ``mediation.calendar``; this module reads card data, calls the use cases and
answers with ``cards.calendar`` cards.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import cards
from bot import inputs
from bot.calendar_service import feedback_section
from bot.deps import ActionDeps, CalendarService, Card, Click, Handler
from cards import booking as booking_cards
from cards import calendar as calendar_cards
from cards import verbs
from cards.base import refill
from cards.i18n import Lang, error_text, t
from mediation import calendar as cal
from mediation import errors, services
from mediation.feedback import my_meeting_feedback, record_meeting_feedback
from mediation.model import MeetingKind, MeetingStatus


def _kind(data: Mapping[str, Any]) -> MeetingKind | None:
    value = data.get("kind")
    if value in (None, ""):
        return None
    try:
        return MeetingKind(str(value))
    except ValueError:
        raise errors.InvalidInput("kind", "unknown choice") from None


def _start(data: Mapping[str, Any]) -> datetime:
    return inputs.moment(data, "start")


def _minutes(data: Mapping[str, Any], high: int) -> int | None:
    value = data.get("minutes")
    if value in (None, ""):
        return None
    number = inputs.number(value)
    if number is None or number != int(number) or not 0 <= number <= high:
        raise cal.MinutesOutOfRange(high)
    return int(number)


def _held(data: Mapping[str, Any]) -> bool:
    value = data.get("held")
    if value in (None, ""):
        raise errors.InvalidInput("held", "required")
    if value not in ("yes", "no"):
        raise errors.InvalidInput("held", "unknown choice")
    return value == "yes"


# -- the verbs ---------------------------------------------------------------------------------


class CalendarActions:
    """The handlers of the meeting verbs; each answers with a card and never raises."""

    def __init__(self, deps: ActionDeps) -> None:
        self.deps = deps

    @property
    def svc(self) -> CalendarService:
        return self.deps.calendar

    def routes(self) -> dict[str, Handler]:
        return {
            verbs.MEETINGS_PROPOSE: self._guarded(self.propose),
            verbs.MEETINGS_BOOK: self._guarded(self.book),
            verbs.MEETING_MOVE: self._guarded(self.move),
            verbs.MEETING_CANCEL: self._guarded(self.cancel),
            verbs.MEETING_RECORD: self._guarded(self.record),
            verbs.MEETINGS_FEED_ROTATE: self._guarded(self.rotate_feed),
        }

    def _guarded(self, handler: Handler) -> Handler:
        async def run(click: Click) -> Card:
            try:
                return await handler(click)
            except errors.DomainError as exc:
                return await self._refusal(click, exc)

        return run

    async def _refusal(self, click: Click, exc: errors.DomainError) -> Card:
        """The refusal on the package card when the case can be shown, else on its own."""
        message = error_text(click.lang, exc)
        if click.verb == verbs.MEETING_RECORD and not isinstance(exc, errors.NotFound):
            with contextlib.suppress(errors.DomainError):
                form = await self._record_form(click, message, error=True)
                refill(form["body"], click.data)  # as it was sent: nothing typed is lost
                return form
        plain = (
            errors.NotFound | errors.NotInRegistry | cal.MeetingsPairOnly | errors.BookerNotAllowed
        )
        if not isinstance(exc, plain):
            with contextlib.suppress(errors.DomainError):
                return await self._package(click, message, error=True)
        return cards.error_card(click.lang, message)

    def _case_id(self, click: Click) -> int:
        return inputs.case_id(click.data)

    def _meeting_id(self, click: Click, *, required: bool = True) -> int | None:
        try:
            return inputs.whole(click.data, "meeting_id", required=required)
        except errors.InvalidInput:
            raise cal.MeetingNotFound(str(click.data.get("meeting_id"))[:20]) from None

    async def _mediator_id(self, aad: str) -> int | None:
        uow = self.deps.uow_factory()
        async with uow:
            me = await uow.mediators.by_aad(aad)
        return me.id if me else None

    async def _package(self, click: Click, notice: str | None, error: bool = False) -> Card:
        svc = self.svc
        proposal = await self._proposal(click, search=False)
        if proposal.booker:
            if proposal.open_parents:  # the next parent's times, straight away
                proposal = await self._booker_times(click, proposal.open_parents[0])
            return booking_cards.booker_card(
                proposal, click.lang, notice=notice, notice_is_error=error
            )
        return calendar_cards.meetings_card(
            proposal, click.lang, now=svc.deps.clock.now(), notice=notice, notice_is_error=error
        )

    async def _proposal(self, click: Click, *, search: bool = True) -> cal.Proposal:
        svc = self.svc
        meeting_id = self._meeting_id(click, required=False) if search else None
        return await cal.propose_times(
            cal.ProposeTimes(
                click.actor,
                self._case_id(click),
                kind=_kind(click.data) if search else None,
                parent_no=inputs.whole(click.data, "parent_no", required=False) if search else None,
                meeting_id=meeting_id,
                search=search,
            ),
            self.deps.uow(click),
            svc.deps.calendar,
            svc.links,
            svc.deps.clock,
            svc.deps.policy,
            svc.deps.meetings,
            svc.deps.closed_days,
        )

    async def _booker_times(self, click: Click, parent_no: int) -> cal.Proposal:
        """A booker's times for a parent's first meeting."""
        svc = self.svc
        return await cal.propose_times(
            cal.ProposeTimes(
                click.actor, self._case_id(click), kind=MeetingKind.INDIVIDUAL, parent_no=parent_no
            ),
            self.deps.uow(click),
            svc.deps.calendar,
            svc.links,
            svc.deps.clock,
            svc.deps.policy,
            svc.deps.meetings,
            svc.deps.closed_days,
        )

    def _when(self, view: cal.MeetingView, lang: Lang) -> dict[str, str]:
        zone = self.svc.deps.policy.timezone
        return {
            "kind": calendar_cards.kind_label(lang, view.kind, view.parent_no),
            "when": calendar_cards.when_label(lang, view.starts_at, view.ends_at, zone),
        }

    async def _answer(self, click: Click, result: cal.MeetingResult, key: str) -> Card:
        notice = t(click.lang, key, **self._when(result.meeting, click.lang))
        problem = result.calendar_error
        notice = calendar_cards.calendar_pending(click.lang, notice, problem)
        return await self._package(click, notice, problem is not None)

    # -- handlers --------------------------------------------------------------------------

    async def propose(self, click: Click) -> Card:
        """Times for the next meeting (or for moving one), with the package so far."""
        if click.data.get("package"):  # a redelivered click: only the package as it stands
            return await self._package(click, t(click.lang, "notice.unchanged"))
        proposal = await self._proposal(click)
        if proposal.booker:
            return booking_cards.booker_card(proposal, click.lang)
        feed = await self.svc.feed_url(await self._mediator_id(click.actor))
        return calendar_cards.proposal_card(
            proposal, click.lang, now=self.svc.deps.clock.now(), feed_url=feed
        )

    async def book(self, click: Click) -> Card:
        """Book the chosen time; with a meeting id only, push a change the calendar missed."""
        meeting_id = self._meeting_id(click, required=False)
        uow, deps = self.deps.uow(click), self.svc.in_lang(click.lang)
        if meeting_id is not None and "start" not in click.data:
            await cal.retry_meeting(
                cal.RetryMeeting(click.actor, meeting_id, self._case_id(click)), uow, deps
            )
            return await self._package(click, t(click.lang, "calendar.notice.pushed"))
        kind = _kind(click.data)
        if kind is None:
            raise errors.InvalidInput("kind", "required")
        cmd = cal.BookMeeting(
            click.actor,
            self._case_id(click),
            kind,
            _start(click.data),
            inputs.whole(click.data, "parent_no", required=False),
        )
        result = await cal.book_meeting(cmd, uow, deps)
        key = "calendar.notice.booked" if result.changed else "calendar.notice.already_booked"
        return await self._answer(click, result, key)

    async def move(self, click: Click) -> Card:
        """Move a booked meeting to the chosen time; the calendar event is patched."""
        meeting_id = self._meeting_id(click)
        assert meeting_id is not None
        cmd = cal.MoveMeeting(click.actor, meeting_id, self._case_id(click), _start(click.data))
        result = await cal.move_meeting(cmd, self.deps.uow(click), self.svc.in_lang(click.lang))
        if not result.changed and result.calendar_error is None:
            return await self._package(click, t(click.lang, "notice.unchanged"))
        return await self._answer(click, result, "calendar.notice.moved")

    async def cancel(self, click: Click) -> Card:
        """Cancel a booked meeting, with an optional message to the attendees."""
        meeting_id = self._meeting_id(click)
        assert meeting_id is not None
        message = inputs.text(click.data, "message", limit=calendar_cards.MESSAGE_MAX).strip()
        cmd = cal.CancelMeeting(click.actor, meeting_id, self._case_id(click), message)
        result = await cal.cancel_meeting(cmd, self.deps.uow(click), self.svc.in_lang(click.lang))
        if not result.changed and result.calendar_error is None:
            return await self._package(click, t(click.lang, "notice.unchanged"))
        return await self._answer(click, result, "calendar.notice.cancelled")

    async def rotate_feed(self, click: Click) -> Card:
        """The clicker's feed gets a new secret address, shown on the package card."""
        uow = self.deps.uow(click)
        async with uow:
            me = await services.actor(uow, click.actor)  # or the registry's refusal
        assert me.id is not None
        url = await self.svc.new_feed_url(me.id)
        if url is None:
            return cards.error_card(click.lang, t(click.lang, "error.unknown_action"))
        return await self._package(click, t(click.lang, "calendar.feed.rotated", url=url))

    async def _record_form(self, click: Click, notice: str | None, error: bool = False) -> Card:
        meeting_id = self._meeting_id(click)
        assert meeting_id is not None
        svc = self.svc
        view = await cal.meeting_view(
            click.actor,
            meeting_id,
            self._case_id(click),
            self.deps.uow(click),
            svc.links,
            svc.deps.meetings,
        )
        current = await my_meeting_feedback(
            click.actor, meeting_id, self.deps.uow_factory(), self.deps.feedback.store
        )
        return calendar_cards.record_card(
            view,
            click.lang,
            svc.deps.policy.timezone,
            extra=feedback_section(click.lang, meeting_id, current),
            notice=notice,
            notice_is_error=error,
        )

    async def record(self, click: Click) -> Card:
        """Record a meeting as held (with its duration) or not held; the form without data."""
        if click.data.get("form"):
            return await self._record_form(click, None)
        meeting_id = self._meeting_id(click)
        assert meeting_id is not None
        svc = self.svc
        mp = svc.deps.meetings
        cmd = cal.RecordMeeting(
            click.actor,
            meeting_id,
            self._case_id(click),
            _held(click.data),
            _minutes(click.data, mp.max_held_minutes),
        )
        result = await cal.record_meeting(cmd, self.deps.uow(click), svc.links, svc.deps.clock, mp)
        view = result.meeting
        kind = calendar_cards.kind_label(click.lang, view.kind, view.parent_no)
        if view.status is MeetingStatus.HELD:
            notice = t(
                click.lang, "calendar.notice.recorded_held", kind=kind, minutes=view.held_minutes
            )
        else:
            notice = t(click.lang, "calendar.notice.recorded_not_held", kind=kind)
        problem = await self._feedback(click, meeting_id)
        if not problem:
            return await self._record_form(click, notice)
        failed = t(click.lang, "calendar.notice.feedback_failed", reason=problem)
        form = await self._record_form(click, f"{notice}\n\n{failed}", error=True)
        refill(form["body"], click.data)  # the feedback not saved stays as it was typed
        return form

    async def _feedback(self, click: Click, meeting_id: int) -> str | None:
        """Record the card's feedback inputs (fb_*); the problem with them, if any."""
        fields = {k: v for k, v in click.data.items() if k.startswith("fb_")}
        if not any(v not in (None, "") for v in fields.values()):
            return None  # the feedback part was left empty: recording alone is fine
        try:
            await record_meeting_feedback(
                click.actor,
                meeting_id,
                fields,
                self.deps.uow(click),
                self.deps.feedback.store,
                self.deps.clock,
            )
        except errors.DomainError as exc:
            return error_text(click.lang, exc)
        return None


MEETING_VERBS = frozenset(
    {verbs.MEETINGS_BOOK, verbs.MEETING_MOVE, verbs.MEETING_CANCEL, verbs.MEETING_RECORD}
)


def as_seen_again(click: Click) -> Click:
    """A meeting click Teams delivered twice: show the package as it stands, change nothing."""
    return dataclasses.replace(
        click,
        verb=verbs.MEETINGS_PROPOSE,
        data={"case_id": click.data.get("case_id"), "package": 1},
    )
