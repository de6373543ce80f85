"""The messages to families in the database: templates, the development mailbox, and what
the retention purge leaves of the e-mails once it erases a family."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from mediation.family_mail import MAIL_KEY, FamilyMessage, Template, meeting_mail
from mediation.model import Meeting, MeetingKind
from mediation.outbox import MessageKind, OutboxStatus
from storage.family_mail import SqlDevMailbox, SqlFamilyTemplates
from storage.models_jobs import OutboxRow
from storage.outbox import SqlOutbox
from storage.uow import SqlUnitOfWork
from tests.clock import FixedClock
from tests.integration.storage_seed import FAMILY, NOW, add_case, add_coordinator

UowFactory = Callable[[], SqlUnitOfWork]


async def test_a_template_is_saved_replaced_and_reset(
    sessions: async_sessionmaker[AsyncSession], uow_factory: UowFactory
) -> None:
    coordinator = await add_coordinator(uow_factory())
    assert coordinator.id is not None
    templates = SqlFamilyTemplates(sessions)
    assert await templates.get(FamilyMessage.CHANGE, "sv") is None
    first = Template("Flyttat: {when}", "Nytt möte {when}.")
    await templates.save(FamilyMessage.CHANGE, "sv", first, coordinator.id, NOW)
    second = Template("Flyttat", "Mötet är nu {when}.")
    await templates.save(FamilyMessage.CHANGE, "sv", second, coordinator.id, NOW)
    assert await templates.get(FamilyMessage.CHANGE, "sv") == second
    assert await templates.get(FamilyMessage.CHANGE, "fi") is None
    await templates.reset(FamilyMessage.CHANGE, "sv")
    assert await templates.get(FamilyMessage.CHANGE, "sv") is None


async def test_the_development_mailbox_keeps_each_email_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    mailbox = SqlDevMailbox(sessions, FixedClock(NOW))
    await mailbox.send("aino@example.org", "Aika", "Hei", f"{MAIL_KEY}1")
    await mailbox.send("aino@example.org", "Aika", "Hei", f"{MAIL_KEY}1")  # a retry
    await mailbox.send("aino@example.org", "Tietoa", "Hei taas", f"{MAIL_KEY}2")
    assert [m.subject for m in await mailbox.recent()] == ["Tietoa", "Aika"]


async def test_the_purge_leaves_the_emails_status_but_not_the_address(
    sessions: async_sessionmaker[AsyncSession], uow_factory: UowFactory
) -> None:
    uow = uow_factory()
    coordinator = await add_coordinator(uow)
    assert coordinator.id is not None
    case = await add_case(uow, coordinator.id)
    other = await add_case(uow, coordinator.id, code="2026-099")
    outbox = SqlOutbox(sessions)
    mailbox = SqlDevMailbox(sessions, FixedClock(NOW))
    for each in (case, other):
        meeting = Meeting(MeetingKind.JOINT, NOW, NOW + timedelta(hours=2), id=each.id)
        await outbox.add(
            meeting_mail(each, FAMILY, meeting, FamilyMessage.CONFIRMATION, "booked"), NOW
        )
    rows = await outbox.all()
    for row in rows:
        await outbox.finish(row.id, OutboxStatus.SENT, NOW)
        await mailbox.send(row.key.recipient, "s", "b", f"{MAIL_KEY}{row.id}")
    assert case.id is not None
    loaded: list[int] = []

    def read(session: object, row: object) -> None:
        if isinstance(row, OutboxRow):
            loaded.append(row.id)

    async with uow:
        event.listen(uow.session.sync_session, "loaded_as_persistent", read)
        await uow.cases.erase_family(case.id)
        await uow.commit()
    # Only this family's e-mails were read: the others stayed in the database.
    assert sorted(loaded) == sorted(r.id for r in rows if r.payload["case_id"] == case.id)

    after = {m.id: m for m in await outbox.all()}
    for row in rows:
        kept = after[row.id]
        assert kept.status is OutboxStatus.SENT and kept.key.kind is MessageKind.FAMILY_MAIL
        if row.payload["case_id"] == case.id:
            assert kept.key.recipient == f"erased:{row.id}"
        else:
            assert kept.key.recipient == row.key.recipient
    assert len(await mailbox.recent()) == len([r for r in rows if r.payload["case_id"] != case.id])


async def test_two_coordinators_saving_the_first_wording_at_once_both_succeed(
    sessions: async_sessionmaker[AsyncSession], uow_factory: UowFactory
) -> None:
    coordinator = await add_coordinator(uow_factory())
    assert coordinator.id is not None
    templates = SqlFamilyTemplates(sessions)
    wordings = [Template(f"Aika {n}", f"Tapaaminen {{when}} ({n}).") for n in range(2)]
    for _ in range(10):  # a race run often enough to happen
        await asyncio.gather(
            *(
                templates.save(FamilyMessage.CONFIRMATION, "fi", w, coordinator.id, NOW)
                for w in wordings
            )
        )
        assert await templates.get(FamilyMessage.CONFIRMATION, "fi") in wordings
        await templates.reset(FamilyMessage.CONFIRMATION, "fi")
