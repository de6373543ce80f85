"""E-mails to families, as the outbox's sender delivers them: the template filled in the
family's language, sent by the mail service of the mode Sopu runs in (Graph's shared
mailbox, or development's own mailbox page). Nothing here logs or records an address or
anything else of the family: a final status says only why.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.deps import CalendarService
from bot.info_page import info_url
from bot.sender import Outcome, PostResult, Prepared, Ready, Unsendable
from bot.settings import Settings
from cards.calendar import kind_label, when_label
from cards.i18n import Lang, catalog, lang_of
from mediation.family_mail import (
    MAIL_KEY,
    FamilyMessage,
    FamilyTemplates,
    MailRefused,
    MailSender,
    MailUnavailable,
    MailUncertain,
    Template,
    fill,
    has_address,
    parents_of,
)
from mediation.model import Case, Meeting, MeetingStatus
from mediation.outbox import OutboxMessage, OutboxStatus
from mediation.ports import Clock, UnitOfWork
from storage.family_mail import SqlDevMailbox

log = logging.getLogger(__name__)

MAIL_LANE = "family-mail"  # the sender paces all e-mail as one conversation
SUPERSEDED = "superseded by a later change"  # ends a stale e-mail unsent, as no trouble


def default_template(message: FamilyMessage, lang: Lang) -> Template:
    """The catalogs' wording of a message, used until a coordinator writes their own."""
    words = catalog(lang)  # unfilled: the placeholders are filled when the e-mail is sent
    return Template(words[f"family.{message.value}.subject"], words[f"family.{message.value}.body"])


async def template_of(templates: FamilyTemplates, message: FamilyMessage, lang: Lang) -> Template:
    """The coordinators' wording of a message, else the default."""
    return await templates.get(message, lang) or default_template(message, lang)


def open_family_mail(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    calendar: CalendarService,
) -> tuple[MailSender | None, str]:
    """The mail service of this mode, or None and why there is none."""
    if settings.calendar.mode == "graph":
        if not settings.family_mailbox:
            return None, "no shared mailbox is set (SOPU_FAMILY_MAILBOX)"
        from graph.mail import GraphMail

        return GraphMail(calendar.graph_client, settings.family_mailbox), ""
    if settings.production:
        return None, "e-mail needs the Graph mode and SOPU_FAMILY_MAILBOX"
    return SqlDevMailbox(sessions, clock), ""


class FamilyMailPost:
    """Prepares one outbox e-mail for the sender: its text now, its sending when paced."""

    def __init__(
        self,
        sender: MailSender | None,
        why_no_sender: str,
        templates: FamilyTemplates,
        uow_factory: Callable[[], UnitOfWork],
        zone: str,
        base_url: str,
    ) -> None:
        self.sender = sender
        self.why_no_sender = why_no_sender
        self.templates = templates
        self.uow_factory = uow_factory
        self.zone = zone
        self.base_url = base_url  # where parents reach Sopu's public pages

    async def prepare(self, message: OutboxMessage) -> Prepared:
        to = message.key.recipient
        if not has_address(to):
            return Unsendable(OutboxStatus.NO_ADDRESS, "the parent has no e-mail address")
        sender = self.sender
        if sender is None:
            return Unsendable(OutboxStatus.FAILED, self.why_no_sender)
        meeting = await self._meeting_of(message)
        if meeting is None:
            return Unsendable(OutboxStatus.FAILED, "the meeting is no longer in Sopu")
        case, found = meeting
        if superseded(message, found):
            # The information goes once per parent and case: with their next meeting, if any.
            later = None
            if message.payload["message"] == FamilyMessage.INFORMATION.value:
                later = next_booked(case, int(message.payload["parent_no"]))
            if later is None:
                # Not trouble: a later message (cancelled, moved again) tells the family.
                return Unsendable(OutboxStatus.SENT, SUPERSEDED)
            found = later
        mail = await self._fill(message, case, found)
        key = f"{MAIL_KEY}{message.id}"

        async def post() -> PostResult:
            try:
                await sender.send(to, mail.subject, mail.body, key)
            except MailUnavailable as exc:
                return PostResult(Outcome.RETRY, None, None, str(exc))
            except MailUncertain as exc:
                return PostResult(Outcome.AMBIGUOUS, None, None, str(exc))
            except MailRefused as exc:
                return PostResult(Outcome.FAILED, None, None, exc.code)
            return PostResult(Outcome.SENT, 200)

        return Ready(MAIL_LANE, post)

    async def render(self, message: OutboxMessage) -> Template | None:
        """The e-mail's subject and body, filled from the case as it now stands."""
        meeting = await self._meeting_of(message)
        if meeting is None:
            return None
        return await self._fill(message, *meeting)

    async def _meeting_of(self, message: OutboxMessage) -> tuple[Case, Meeting] | None:
        """The case and the meeting an e-mail is about, if both are still in Sopu."""
        payload = message.payload
        uow = self.uow_factory()
        async with uow:
            case = await uow.cases.get(int(payload["case_id"]))
        meeting = None
        if case is not None:
            meeting = next((m for m in case.meetings if m.id == payload.get("meeting_id")), None)
        if case is None or meeting is None:
            return None
        return case, meeting

    async def _fill(self, message: OutboxMessage, case: Case, meeting: Meeting) -> Template:
        payload = message.payload
        lang = lang_of(str(payload.get("lang") or "fi"))
        kind = FamilyMessage(str(payload["message"]))
        template = await template_of(self.templates, kind, lang)
        values = {
            "code": case.code,
            "meeting": kind_label(lang, meeting.kind),
            "when": when_label(lang, meeting.starts_at, meeting.ends_at, self.zone),
            "link": info_url(self.base_url, lang),
        }
        return fill(template, values)


def next_booked(case: Case, parent_no: int) -> Meeting | None:
    """The parent's next meeting still booked, if any."""
    booked = [
        m for m in case.meetings if m.status is MeetingStatus.BOOKED and parent_no in parents_of(m)
    ]
    return min(booked, key=lambda m: m.starts_at, default=None)


def superseded(message: OutboxMessage, meeting: Meeting) -> bool:
    """An e-mail a later change made stale: a confirmation, change or information about a
    meeting no longer booked, or a move to a time the meeting has since left. Sent late, it
    would contradict what the family was told after it."""
    kind = FamilyMessage(str(message.payload["message"]))
    if kind is FamilyMessage.CANCELLATION:
        return False
    if meeting.status is not MeetingStatus.BOOKED:
        return True
    announced = message.payload.get("starts_at")
    if kind is FamilyMessage.CHANGE and announced is not None:
        return datetime.fromisoformat(str(announced)) != meeting.starts_at
    return False
