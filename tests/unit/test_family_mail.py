"""Messages to the family: templates, who gets what, and the outbox rows of a booking change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.family_mail import SUPERSEDED, FamilyMailPost
from bot.sender import Prepared, Ready, Unsendable
from bot.settings import Settings, SettingsError
from mediation import calendar as cal
from mediation.family_mail import (
    NO_ADDRESS,
    FamilyMessage,
    InvalidTemplate,
    Template,
    check_template,
    family_lang,
    fill,
    has_address,
    meeting_mail,
    parents_of,
    placeholders_in,
)
from mediation.model import Family, Meeting, MeetingKind, Parent
from mediation.outbox import MessageKind, OutboxMessage, OutboxStatus
from tests.unit.factories import case as make_case
from tests.unit.test_calendar_services import NOW, Bank, Told

START = datetime(2026, 3, 9, 9, 0, tzinfo=UTC)
GOOD = Template("Meeting {when}", "Your {meeting} is at {when} (case {code}).")


def test_the_family_hears_in_its_case_language_else_in_english() -> None:
    assert [family_lang(x) for x in ("fi", "sv", "other")] == ["fi", "sv", "en"]


def test_a_template_uses_only_its_messages_placeholders_and_names_the_time() -> None:
    check_template(FamilyMessage.CONFIRMATION, GOOD)
    check_template(FamilyMessage.INFORMATION, Template("Before we meet", "Read this first."))
    refused = {
        "unknown placeholder": Template("Hi {name}", "At {when}"),
        "missing placeholder": Template("Meeting", "Soon."),
        "broken braces": Template("Meeting", "At {when"),
        "empty": Template(" ", "At {when}"),
        "one line": Template("Meeting\nBcc: x", "At {when}"),
        "too long": Template("Meeting", "At {when}" + "x" * 4000),
    }
    for problem, template in refused.items():
        with pytest.raises(InvalidTemplate) as caught:
            check_template(FamilyMessage.CONFIRMATION, template)
        assert caught.value.key == "error.template." + problem.replace(" ", "_")
    with pytest.raises(InvalidTemplate):  # attribute and index access are no placeholders
        placeholders_in("{when.__class__}")
    with pytest.raises(InvalidTemplate):
        placeholders_in("{when!r}")


def test_fill_puts_the_values_in() -> None:
    filled = fill(GOOD, {"when": "Mon 9:00", "meeting": "individual meeting", "code": "2026-001"})
    assert filled == Template(
        "Meeting Mon 9:00", "Your individual meeting is at Mon 9:00 (case 2026-001)."
    )


def test_an_individual_meeting_is_for_its_parent_the_others_for_both() -> None:
    one = Meeting(MeetingKind.INDIVIDUAL, START, START + timedelta(hours=1), parent_no=2)
    joint = Meeting(MeetingKind.JOINT, START, START + timedelta(hours=2))
    assert parents_of(one) == (2,) and parents_of(joint) == (1, 2)


def test_a_booking_tells_its_parent_and_brings_the_information_links_once() -> None:
    case = make_case(language="sv")
    case.id = 7
    meeting = Meeting(MeetingKind.JOINT, START, START + timedelta(hours=2), id=3)
    family = Family((Parent("Anna", "040", "Anna@Example.org"), Parent("Bo", "050", "")))
    found = meeting_mail(case, family, meeting, FamilyMessage.CONFIRMATION, "booked")
    keys = [(m.key.recipient, m.key.subject, m.key.period) for m in found]
    assert keys == [
        ("anna@example.org", "case:7:parent:1", "information"),
        ("anna@example.org", "meeting:3:parent:1", "booked"),
        (f"{NO_ADDRESS}case:7:parent:2", "case:7:parent:2", "information"),
        (f"{NO_ADDRESS}case:7:parent:2", "meeting:3:parent:2", "booked"),
    ]
    assert all(m.key.kind is MessageKind.FAMILY_MAIL for m in found)
    assert {m.payload["lang"] for m in found} == {"sv"}
    # The payload names ids only: nothing of the family.
    assert "Anna" not in str([m.payload for m in found])
    assert has_address(keys[0][0]) and not has_address(keys[2][0])
    moved = meeting_mail(case, family, meeting, FamilyMessage.CHANGE, "moved:x")
    assert [m.payload["message"] for m in moved] == ["change", "change"]


async def test_booking_moving_and_cancelling_write_the_familys_mail_with_the_change() -> None:
    bank = Bank()
    await bank.setup()  # parent 1 has an address; there is no parent 2
    result = await bank.book()
    meeting_id = result.meeting.meeting_id

    def mail() -> list[tuple[str, str]]:
        return sorted(
            (str(m.payload["message"]), k.recipient)
            for k, m in bank.uow.store.outbox.items()
            if k.kind is MessageKind.FAMILY_MAIL
        )

    assert mail() == [("confirmation", "a@x.fi"), ("information", "a@x.fi")]
    proposal = await bank.propose(meeting_id=meeting_id)
    later = next(s.start for s in proposal.slots if s.start != result.meeting.starts_at)
    await cal.move_meeting(
        cal.MoveMeeting(bank.aad("olli"), meeting_id, bank.case_id, later),
        bank.uow,
        bank.deps,
    )
    await cal.cancel_meeting(
        cal.CancelMeeting(bank.aad("olli"), meeting_id, bank.case_id), bank.uow, bank.deps
    )
    assert mail() == [
        ("cancellation", "a@x.fi"),
        ("change", "a@x.fi"),
        ("confirmation", "a@x.fi"),
        ("information", "a@x.fi"),
    ]
    # A second booking for the same parent brings no second information message.
    await bank.book(kind=MeetingKind.INDIVIDUAL, parent_no=1)
    assert [m for m, _ in mail()].count("information") == 1


async def test_a_meeting_moved_or_deleted_in_outlook_tells_the_family_too() -> None:
    bank = Bank()
    await bank.setup()
    m = (await bank.book()).meeting
    link = bank.links.links[m.meeting_id]
    assert link.event_id is not None

    async def seen(**kw: object) -> None:
        await cal.apply_calendar_change(
            cal.EventSeen("olli@example.org", link.event_id, **kw),  # type: ignore[arg-type]
            bank.uow,
            bank.links,
            Told(),
            bank.notifier,
            bank.clock,
        )

    later = m.starts_at + timedelta(days=1)
    await seen(start=later, end=later + timedelta(hours=1))
    await seen(removed=True)
    found = [m for k, m in bank.uow.store.outbox.items() if k.kind is MessageKind.FAMILY_MAIL]
    assert sorted(str(m.payload["message"]) for m in found) == [
        "cancellation",
        "change",
        "confirmation",
        "information",
    ]
    moved = next(m for m in found if m.payload["message"] == "change")
    assert moved.key.period.startswith("moved:v")
    assert moved.payload["starts_at"] == later.isoformat()


def _moves(bank: Bank) -> list[str]:
    """The announced start of every "moved" e-mail in the outbox, in the order written."""
    return [
        str(m.payload["starts_at"])
        for k, m in bank.uow.store.outbox.items()
        if k.kind is MessageKind.FAMILY_MAIL and m.payload["message"] == "change"
    ]


async def test_a_meeting_moved_back_and_forth_in_sopu_tells_the_family_each_time() -> None:
    bank = Bank()
    await bank.setup()
    result = await bank.book()
    meeting_id, a = result.meeting.meeting_id, result.meeting.starts_at
    proposal = await bank.propose(meeting_id=meeting_id)
    b = next(s.start for s in proposal.slots if s.start != a)
    for start in (b, a, b):
        await cal.move_meeting(
            cal.MoveMeeting(bank.aad("olli"), meeting_id, bank.case_id, start),
            bank.uow,
            bank.deps,
        )
    # Three moves, three e-mails: the family's last one names the time the meeting is at.
    assert _moves(bank) == [b.isoformat(), a.isoformat(), b.isoformat()]


async def test_a_meeting_moved_back_and_forth_in_outlook_tells_the_family_each_time() -> None:
    bank = Bank()
    await bank.setup()
    m = (await bank.book()).meeting
    link = bank.links.links[m.meeting_id]
    assert link.event_id is not None
    a, b = m.starts_at, m.starts_at + timedelta(days=1)
    length = m.ends_at - m.starts_at
    for start in (b, a, b):
        await cal.apply_calendar_change(
            cal.EventSeen("olli@example.org", link.event_id, start=start, end=start + length),
            bank.uow,
            bank.links,
            Told(),
            bank.notifier,
            bank.clock,
        )
    assert _moves(bank) == [b.isoformat(), a.isoformat(), b.isoformat()]


def test_the_shared_mailbox_setting_must_be_an_address() -> None:
    settings = Settings.from_env({"SOPU_FAMILY_MAILBOX": " Perhe@Example.FI "}, dotenv=None)
    assert settings.family_mailbox == "perhe@example.fi"
    with pytest.raises(SettingsError, match="SOPU_FAMILY_MAILBOX"):
        Settings.from_env({"SOPU_FAMILY_MAILBOX": "perhesovittelu"}, dotenv=None)


class _Mailbox:
    """A mail service that records what it is asked to send."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, to: str, subject: str, body: str, key: str) -> None:
        self.sent.append(subject)


class _NoTemplates:
    async def get(self, message: FamilyMessage, lang: str) -> Template | None:
        return None

    async def save(
        self, message: FamilyMessage, lang: str, template: Template, by: int, now: datetime
    ) -> None: ...

    async def reset(self, message: FamilyMessage, lang: str) -> None: ...


async def _prepare(bank: Bank, message: str) -> list[Prepared]:
    """What the sender would make now of each of the outbox's e-mails of one message."""
    post = FamilyMailPost(_Mailbox(), "", _NoTemplates(), lambda: bank.uow, "Europe/Helsinki", "")
    found = [
        OutboxMessage(n, m.key, m.payload, OutboxStatus.PENDING, 0, NOW, NOW)
        for n, (k, m) in enumerate(bank.uow.store.outbox.items(), start=1)
        if k.kind is MessageKind.FAMILY_MAIL and m.payload["message"] == message
    ]
    return [await post.prepare(m) for m in found]


async def test_a_confirmation_still_waiting_after_its_meeting_is_cancelled_is_not_sent() -> None:
    bank = Bank()
    await bank.setup()
    result = await bank.book()
    assert all(isinstance(p, Ready) for p in await _prepare(bank, "confirmation"))
    await cal.cancel_meeting(
        cal.CancelMeeting(bank.aad("olli"), result.meeting.meeting_id, bank.case_id),
        bank.uow,
        bank.deps,
    )
    for message in ("confirmation", "information"):
        assert await _prepare(bank, message) == [Unsendable(OutboxStatus.SENT, SUPERSEDED)]
    assert all(isinstance(p, Ready) for p in await _prepare(bank, "cancellation"))
    assert not OutboxStatus.SENT.trouble  # the reminders card shows no trouble for it
    # Booked again, the parent's information (once per case) goes with the new meeting.
    await bank.book()
    assert all(isinstance(p, Ready) for p in await _prepare(bank, "information"))


async def test_a_move_waiting_after_the_meeting_moved_again_is_not_sent() -> None:
    bank = Bank()
    await bank.setup()
    result = await bank.book()
    meeting_id, a = result.meeting.meeting_id, result.meeting.starts_at
    proposal = await bank.propose(meeting_id=meeting_id)
    b = next(s.start for s in proposal.slots if s.start != a)
    for start in (b, a):
        await cal.move_meeting(
            cal.MoveMeeting(bank.aad("olli"), meeting_id, bank.case_id, start),
            bank.uow,
            bank.deps,
        )
    to_b, to_a = await _prepare(bank, "change")
    assert to_b == Unsendable(OutboxStatus.SENT, SUPERSEDED)
    assert isinstance(to_a, Ready)
    # The confirmation names the time as it now stands, so it still goes.
    assert all(isinstance(p, Ready) for p in await _prepare(bank, "confirmation"))
