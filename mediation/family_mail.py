"""Messages to the family by e-mail: meeting confirmations, changes, cancellations, and the
information links before the first meeting.

Each is an outbox message written in the transaction of the booking change that causes it,
so it is sent once and ends with a status. Its key names the parent's e-mail address as the
recipient; its payload names only ids, the message and the language: the text is filled
from the coordinators' template when it is sent. A parent without an e-mail address gets a
message that can never be sent, and its final status says why.
"""

from __future__ import annotations

import enum
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from mediation import errors
from mediation.model import Case, Family, Meeting, MeetingKind
from mediation.outbox import MessageKind, NewMessage, OutboxKey
from mediation.ports import UnitOfWork
from mediation.services.common import actor, require_coordinator

NO_ADDRESS = "no-email:"  # a recipient that is no address: the parent has none
MAIL_KEY = "sopu-outbox-"  # + the outbox message's id: an e-mail's own stable name
SUBJECT_MAX = 200
BODY_MAX = 4000
LANGS = ("fi", "sv", "en")


class FamilyMessage(enum.StrEnum):
    CONFIRMATION = "confirmation"
    CHANGE = "change"
    CANCELLATION = "cancellation"
    INFORMATION = "information"  # what mediation is and how to prepare, before the first meeting


# The placeholders each message may use; those in REQUIRED must appear in its body.
PLACEHOLDERS: dict[FamilyMessage, frozenset[str]] = {
    FamilyMessage.CONFIRMATION: frozenset({"meeting", "when", "code"}),
    FamilyMessage.CHANGE: frozenset({"meeting", "when", "code"}),
    FamilyMessage.CANCELLATION: frozenset({"meeting", "when", "code"}),
    FamilyMessage.INFORMATION: frozenset({"when", "code", "link"}),  # link: Sopu's /info page
}
REQUIRED: dict[FamilyMessage, frozenset[str]] = {
    FamilyMessage.CONFIRMATION: frozenset({"when"}),
    FamilyMessage.CHANGE: frozenset({"when"}),
    FamilyMessage.CANCELLATION: frozenset({"when"}),
    FamilyMessage.INFORMATION: frozenset(),
}


@dataclass(frozen=True)
class Template:
    subject: str
    body: str


class InvalidTemplate(errors.DomainError):
    """A template a coordinator wrote that cannot be filled in."""

    key = "error.template"

    def __init__(self, part: str, problem: str, name: str = "") -> None:
        super().__init__(f"the template's {part}: {problem} {name}".rstrip(), part=part, name=name)
        self.key = f"error.template.{problem.replace(' ', '_')}"


class FamilyTemplates(Protocol):
    """The coordinators' own wording; a message without one uses the catalogs' default."""

    async def get(self, message: FamilyMessage, lang: str) -> Template | None: ...

    async def save(
        self, message: FamilyMessage, lang: str, template: Template, by: int, now: datetime
    ) -> None: ...

    async def reset(self, message: FamilyMessage, lang: str) -> None:
        """Back to the default wording."""
        ...


class MailUnavailable(Exception):
    """The mail service did not take the message now (throttled, down): safe to try again."""


class MailUncertain(Exception):
    """The mail service may have taken the message: it is not sent again."""


class MailRefused(Exception):
    """The mail service refused the message for good; ``code`` says why, never the address."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class MailSender(Protocol):
    """Sends one e-mail from the bank; ``key`` is the message's stable id."""

    async def send(self, to: str, subject: str, body: str, key: str) -> None: ...


def family_lang(case_language: str) -> str:
    """The family's messages are in Finnish or Swedish as their case, else in English."""
    return case_language if case_language in ("fi", "sv") else "en"


def has_address(recipient: str) -> bool:
    """An outbox recipient that is an e-mail address, not a parent without one."""
    return not recipient.startswith(NO_ADDRESS) and "@" in recipient


def placeholders_in(text: str) -> set[str]:
    """The names between braces in a template's text; InvalidTemplate if the braces are broken."""
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError:
        raise InvalidTemplate("text", "broken braces") from None
    names = set()
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise InvalidTemplate("text", "unknown placeholder", name or "-")
        names.add(name)
    return names


def check_template(message: FamilyMessage, template: Template) -> None:
    """A template is short, not empty, uses only its message's placeholders, and its body
    names those the family needs (the time)."""
    allowed = PLACEHOLDERS[message]
    for part, text, limit in (
        ("subject", template.subject, SUBJECT_MAX),
        ("body", template.body, BODY_MAX),
    ):
        if not text.strip():
            raise InvalidTemplate(part, "empty")
        if len(text) > limit:
            raise InvalidTemplate(part, "too long")
        if part == "subject" and ("\n" in text or "\r" in text):
            raise InvalidTemplate(part, "one line")
        unknown = sorted(placeholders_in(text) - allowed)
        if unknown:
            raise InvalidTemplate(part, "unknown placeholder", unknown[0])
    missing = sorted(REQUIRED[message] - placeholders_in(template.body))
    if missing:
        raise InvalidTemplate("body", "missing placeholder", missing[0])


def fill(template: Template, values: Mapping[str, str]) -> Template:
    """The template with its placeholders filled in."""
    return Template(template.subject.format_map(values), template.body.format_map(values))


def _recipient(family: Family | None, parent_no: int, case_id: int) -> str:
    parents = family.parents if family is not None else ()
    email = parents[parent_no - 1].email.strip().lower() if len(parents) >= parent_no else ""
    return email or f"{NO_ADDRESS}case:{case_id}:parent:{parent_no}"


def parents_of(meeting: Meeting) -> tuple[int, ...]:
    """Who a meeting is for: its parent for an individual meeting, else both."""
    if meeting.kind is MeetingKind.INDIVIDUAL and meeting.parent_no in (1, 2):
        return (meeting.parent_no,)
    return (1, 2)


def meeting_mail(
    case: Case,
    family: Family | None,
    meeting: Meeting,
    message: FamilyMessage,
    period: str,
) -> list[NewMessage]:
    """The parents' e-mails about a booked, moved or cancelled meeting; with a booking, also
    each parent's information links, once per case."""
    assert case.id is not None and meeting.id is not None
    lang = family_lang(case.intake.language)
    found: list[NewMessage] = []
    for n in parents_of(meeting):
        to = _recipient(family, n, case.id)
        payload = {
            "case_id": case.id,
            "code": case.code,  # the case's public code, for the coordinators' report
            "meeting_id": meeting.id,
            "parent_no": n,
            "message": message.value,
            "lang": lang,
            # The time this message announces: a later move makes it stale (bot/family_mail.py).
            "starts_at": meeting.starts_at.isoformat(),
        }
        if message is FamilyMessage.CONFIRMATION:
            # The outbox keeps one message per key: the links go once per parent and case.
            info = {**payload, "message": FamilyMessage.INFORMATION.value}
            once = f"case:{case.id}:parent:{n}"
            key = OutboxKey(MessageKind.FAMILY_MAIL, to, once, "information")
            found.append(NewMessage(key, info))
        subject = f"meeting:{meeting.id}:parent:{n}"
        found.append(NewMessage(OutboxKey(MessageKind.FAMILY_MAIL, to, subject, period), payload))
    return found


BOOKED = "booked"
CANCELLED = "cancelled"


def moved_period(case_version: int) -> str:
    """Each move is its own message, named by the case's version the move saved: a meeting
    moved back to a time it had before is news to the family again."""
    return f"moved:v{case_version}"


# -- the coordinators' templates -------------------------------------------------------------


def read_message(value: object) -> FamilyMessage:
    """A message named in card data, or InvalidInput."""
    try:
        return FamilyMessage(str(value))
    except ValueError:
        raise errors.InvalidInput("message", "unknown choice") from None


def read_lang(value: object) -> str:
    """A template's language named in card data, or InvalidInput."""
    if value not in LANGS:
        raise errors.InvalidInput("lang", "unknown choice")
    return str(value)


async def save_template(
    actor_aad: str,
    message: FamilyMessage,
    lang: str,
    template: Template,
    uow: UnitOfWork,
    templates: FamilyTemplates,
    now: datetime,
) -> None:
    """A coordinator's own wording of a message; refused whole if it cannot be filled in."""
    async with uow:
        me = await actor(uow, actor_aad)
    require_coordinator(me, "changing the family messages")
    check_template(message, template)
    assert me.id is not None
    await templates.save(message, read_lang(lang), template, me.id, now)


async def reset_template(
    actor_aad: str, message: FamilyMessage, lang: str, uow: UnitOfWork, templates: FamilyTemplates
) -> None:
    """Back to the default wording of a message (coordinators)."""
    async with uow:
        me = await actor(uow, actor_aad)
    require_coordinator(me, "changing the family messages")
    await templates.reset(message, read_lang(lang))
