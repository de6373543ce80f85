"""The cards of outbox messages, built in the recipient's language when the sender sends them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import cards
from bot.actions_common_time import note_text
from bot.actions_consultations import note_text as consultation_note_text
from bot.actions_walk_in import note_text as shift_note_text
from bot.actions_walk_in import referral_text, stamped
from bot.calendar_service import feedback_section
from bot.deps import CalendarService, Card, FeedbackDeps
from bot.feedback_links import client_url, family_link_shown, qr_data_uri
from bot.request_views import request_view
from bot.teams import TeamsGateway
from cards import calendar as calendar_cards
from cards.base import plain
from cards.calendar import record_card
from cards.common_time import common_time_card
from cards.common_time_feedback import team_feedback_card
from cards.consultations import consultation_card
from cards.feedback import case_feedback_card, client_link_card
from cards.i18n import Lang, format_date, t
from cards.reminders import escalation_notice, reminder_card
from cards.requests import request_card
from cards.walk_in import referral_intake, shift_card, shifts_card
from mediation import errors, services
from mediation.calendar import meeting_view
from mediation.calendar.sync import change_of
from mediation.feedback import PARENTS, ClientLink
from mediation.feedback import client_link as get_client_link
from mediation.outbox import MessageKind, OutboxMessage
from mediation.policy import BankPolicy
from mediation.ports import Clock, UnitOfWork
from mediation.requests import FrontDoorPolicy, RequestStatus, RequestStore
from mediation.services import common_time, consultations, walk_in
from mediation.services.common_time import CommonTimeDeps
from mediation.services.consultations import ConsultationDeps
from mediation.services.walk_in import WalkInDeps

_SHIFT_NOTES = (MessageKind.SHIFT_REMINDER, MessageKind.SHIFT, MessageKind.VISIT_REFERRAL)


@dataclass(frozen=True)
class MessageRenderer:
    """Builds an outbox message's card in the recipient's language, at sending time."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    policy: BankPolicy
    gateway: TeamsGateway
    feedback: FeedbackDeps
    calendar: CalendarService | None  # None: record prompts go as plain prompts
    requests: RequestStore | None = None  # the families' contact requests
    front_door: FrontDoorPolicy = field(default_factory=FrontDoorPolicy)
    common_time: CommonTimeDeps | None = None  # the family centre's common times
    consultations: ConsultationDeps | None = None  # the expert team's consultation requests
    walk_in: WalkInDeps | None = None  # walk-in shifts and phone hours

    async def __call__(self, message: OutboxMessage, lang: Lang) -> Card:
        kind, payload = message.key.kind, message.payload
        if kind in (
            MessageKind.CONTACT_REQUEST,
            MessageKind.REQUEST_ESCALATION,
            MessageKind.REQUEST_TAKEN_OVER,
        ):
            return await self._request_card(message, lang)
        if kind is MessageKind.ESCALATION:
            # The coordinators get the case card itself, with the reason on top.
            summary = await services.summary_of(
                self.uow_factory(), int(payload["case_id"]), self.clock, self.policy
            )
            return cards.case_card(
                summary,
                lang,
                mediators=await self.gateway.mediators_for_cards(),
                notice=escalation_notice(payload, lang),
            )
        if kind in (MessageKind.MEDIATOR_FEEDBACK, MessageKind.CLIENT_LINK):
            client = kind is MessageKind.CLIENT_LINK
            return await self.feedback_request_card(int(payload["case_id"]), lang, client=client)
        if kind is MessageKind.RECORD_PROMPT:
            record = await self._record_card(message, lang)
            if record is not None:
                return record
        if kind in (MessageKind.PAIR_COMPLETE, MessageKind.SEAT_RELEASED):
            return await self._case_note(message, lang)
        if kind is MessageKind.COMMON_TIME and self.common_time is not None:
            return await self._common_time_note(message, lang)
        if kind is MessageKind.CONSULTATION and self.consultations is not None:
            return await self._consultation_note(message, lang)
        if kind in _SHIFT_NOTES:
            return await self._shift_note(message, lang)
        if kind is MessageKind.MEETING_CHANGED:
            return calendar_cards.meeting_changed_card(
                change_of(payload), lang, self.policy.timezone
            )
        return reminder_card(kind, payload, lang, self.policy.zone)

    async def _common_time_note(self, message: OutboxMessage, lang: Lang) -> Card:
        """A note about a common time on its card, as the recipient may see it when sent."""
        assert self.common_time is not None
        payload = message.payload
        if payload.get("note") == "feedback_asked":
            return await self._feedback_asked(message, lang)
        try:
            view = await common_time.show(
                message.key.recipient, int(payload["ct_id"]), self.uow_factory(), self.common_time
            )
        except errors.DomainError:
            # No longer theirs to see (taken off the case, or left the registry).
            return cards.notice_card(lang, t(lang, "commontime.not_found"))
        notice = note_text(lang, payload, view, self.policy.zone)
        family_link = family_link_shown(view, self.feedback.base_url, self.policy)
        return common_time_card(
            view, lang, self.policy.timezone, notice=notice, family_link=family_link
        )

    async def _feedback_asked(self, message: OutboxMessage, lang: Lang) -> Card:
        """An attendee's feedback form after the meeting (their answer, if given already)."""
        assert self.common_time is not None
        try:
            form = await common_time.feedback_form(
                message.key.recipient,
                int(message.payload["ct_id"]),
                self.uow_factory(),
                self.common_time,
            )
        except errors.DomainError:
            return cards.notice_card(lang, t(lang, "commontime.not_found"))
        notice = t(lang, "commontime.note.feedback_asked", code=form.code)
        return team_feedback_card(form, lang, notice=notice)

    async def _consultation_note(self, message: OutboxMessage, lang: Lang) -> Card:
        """A note about a consultation request on its card, as the recipient may see it when
        sent (the showing journaled like any other)."""
        assert self.consultations is not None
        payload = message.payload
        try:
            view = await consultations.show(
                message.key.recipient, int(payload["c_id"]), self.uow_factory(), self.consultations
            )
        except errors.DomainError:
            return cards.notice_card(lang, t(lang, "consult.not_found"))
        notice = consultation_note_text(lang, payload, view)
        return consultation_card(view, lang, self.policy.timezone, notice=notice)

    async def _shift_note(self, message: OutboxMessage, lang: Lang) -> Card:
        """A shift's reminder on the shift's card; a swap's or a re-assignment's note on the
        rota (where an offer is answered); a referral to mediation on the intake form. Without
        the walk-in service wired, the note alone."""
        payload, recipient = message.payload, message.key.recipient
        zone = self.policy.timezone
        if message.key.kind is MessageKind.VISIT_REFERRAL:
            notice = referral_text(lang, payload, await self._name(message))
            return stamped(referral_intake(lang, notice, self.policy.areas))
        name = await self._name(message) if payload.get("by") else ""
        notice = shift_note_text(lang, payload, name, zone)
        if self.walk_in is None:
            return cards.notice_card(lang, notice)
        if message.key.kind is MessageKind.SHIFT_REMINDER:
            try:
                view = await walk_in.show(
                    recipient, int(payload["shift_id"]), self.uow_factory(), self.walk_in
                )
                return stamped(shift_card(view, lang, zone, notice=notice))
            except errors.DomainError:
                pass  # no longer theirs: the rota shows who has it now
        try:
            rota = await walk_in.rota(recipient, self.uow_factory(), self.walk_in)
        except errors.DomainError:
            return cards.notice_card(lang, notice)
        return shifts_card(rota, lang, zone, notice=notice)

    async def _case_note(self, message: OutboxMessage, lang: Lang) -> Card:
        """A pair's or a coordinator's note about a seat change, the case as it now stands."""
        payload = message.payload
        summary = await services.summary_of(
            self.uow_factory(), int(payload["case_id"]), self.clock, self.policy
        )
        if message.key.kind is MessageKind.PAIR_COMPLETE:
            return cards.pair_complete_card(summary, lang)
        reader = self.uow_factory().reading()
        async with reader:
            released = await reader.mediators.get(int(payload["mediator_id"]))
        name = released.name if released is not None else "?"
        return cards.seat_released_card(summary, name, str(payload["reason"]), lang)

    async def _request_card(self, message: OutboxMessage, lang: Lang) -> Card:
        """The request's card as it stands when sent, with why it comes on top."""
        request_id = int(message.payload["request_id"])
        request = await self.requests.get(request_id) if self.requests is not None else None
        if request is None:
            return cards.notice_card(lang, t(lang, "request.error.not_found"))
        days = self.front_door.escalate_after_working_days
        taken = request.status is RequestStatus.TAKEN
        if message.key.kind is MessageKind.CONTACT_REQUEST:
            notice = t(lang, "request.new")
        elif message.key.kind is MessageKind.REQUEST_TAKEN_OVER:
            notice = t(
                lang, "request.taken_over_by", n=request_id, name=plain(await self._name(message))
            )
        elif taken and request.form.urgent:
            notice = t(lang, "request.escalation_taken_urgent", n=request_id)
        elif taken:
            notice = t(lang, "request.escalation_taken", n=request_id, days=days)
        elif request.form.urgent:
            notice = t(lang, "request.escalation_urgent", n=request_id)
        else:
            notice = t(lang, "request.escalation", n=request_id, days=days)
        view = await request_view(
            self.uow_factory, request, self.policy.zone, self.front_door.max_attempts
        )
        return request_card(view, lang, notice, notice_is_error=request.form.urgent)

    async def _name(self, message: OutboxMessage) -> str:
        """The name of the coordinator a request message names (``by``), as the registry has it."""
        reader = self.uow_factory().reading()
        async with reader:
            found = await reader.mediators.get(int(message.payload.get("by") or 0))
        return found.name if found is not None else "?"

    async def client_feedback_link(self, case_id: int, parent_no: int) -> tuple[ClientLink, str]:
        """One parent's feedback link (made on first use) and its full URL."""
        fb = self.feedback
        link = await get_client_link(
            case_id,
            parent_no,
            self.uow_factory(),
            fb.store,
            self.clock,
            self.policy,
            timedelta(days=fb.link_days),
        )
        return link, client_url(fb.base_url, link.token)

    async def feedback_request_card(self, case_id: int, lang: Lang, *, client: bool) -> Card:
        """A closed case's request to one mediator of the pair.

        ``client``: the client link card (each parent's link and QR code); otherwise
        the mediator's own case feedback card.
        """
        summary = await services.summary_of(self.uow_factory(), case_id, self.clock, self.policy)
        if not client:
            return case_feedback_card(lang, summary)
        links = [(n, *await self.client_feedback_link(case_id, n)) for n in PARENTS]
        expires = self.policy.local_date(min(link.expires_at for _, link, _ in links))
        shown = [(n, url, qr_data_uri(url)) for n, _, url in links]
        return client_link_card(lang, summary, shown, expires)

    async def _record_card(self, message: OutboxMessage, lang: Lang) -> Card | None:
        """The calendar's record card (with the feedback part), as the recipient would open it.

        None when it cannot be shown to them (the calendar is not wired, or they have left
        the pair meanwhile): the plain prompt, whose button opens it, goes instead.
        """
        service = self.calendar
        if service is None:
            return None
        payload = message.payload
        meeting_id = int(payload["meeting_id"])
        try:
            view = await meeting_view(
                message.key.recipient,
                meeting_id,
                int(payload["case_id"]),
                self.uow_factory(),
                service.links,
                service.deps.meetings,
            )
        except errors.DomainError:
            return None
        ended = view.ends_at.astimezone(self.policy.zone)
        notice = t(
            lang,
            "reminders.record.text",
            code=view.code,
            kind=t(lang, f"reminders.kind.{view.kind.value}"),
            day=format_date(lang, ended.date()),
        )
        return record_card(
            view,
            lang,
            service.deps.policy.timezone,
            extra=feedback_section(lang, meeting_id),
            notice=notice,
        )
