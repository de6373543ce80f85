"""E-mail to families with Graph sendMail: the real msgraph-sdk against the fake Graph server.

The adapter alone (what it sends, how it reads refusals), then the whole app in Graph mode:
a booking's confirmation and information message leave the shared mailbox through the outbox.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.bootstrap import SOPU
from bot.jobs_runtime import JobsRuntime
from bot.settings import Settings
from graph.mail import GraphMail
from graph.msgraph import GraphCalendar
from mediation.family_mail import MailRefused, MailUnavailable, MailUncertain
from mediation.outbox import MessageKind, OutboxStatus
from mediation.slots import WorkingHours
from tests.clock import FixedClock
from tests.e2e.conftest import CHANNEL, TEAM, TENANT
from tests.fakes.connector import FakeConnector
from tests.fakes.graph_server import FakeCredential, FakeGraph
from tests.integration.graph_support import (
    MONDAY,
    book_action,
    choices,
    connector_fixture,
    propose,
    running_bank,
    serve,
)

__all__ = ["connector_fixture"]
MAILBOX = "perhesovittelu@example.org"


@pytest.fixture(name="mail_graph")
async def mail_graph_fixture() -> AsyncIterator[tuple[FakeGraph, GraphMail]]:
    fake = FakeGraph(users={MAILBOX})
    runner = await serve(fake)
    calendar = GraphCalendar.create(FakeCredential(), f"{fake.url}/v1.0", WorkingHours())
    try:
        yield fake, GraphMail(calendar.client, MAILBOX)
    finally:
        await calendar.close()
        await runner.cleanup()


async def test_an_email_leaves_the_shared_mailbox_as_plain_text(
    mail_graph: tuple[FakeGraph, GraphMail],
) -> None:
    fake, mail = mail_graph
    await mail.send("aino@example.org", "Tapaamisesi", "Hei,\n<b>ei html</b>", "sopu-outbox-7")
    (sent,) = fake.sent_mail
    assert sent["from"] == MAILBOX and sent["to"] == ["aino@example.org"]
    assert sent["subject"] == "Tapaamisesi" and sent["body"] == "Hei,\n<b>ei html</b>"
    assert sent["contentType"] == "text"
    assert sent["headers"] == {"x-sopu-message": "sopu-outbox-7"}
    # No copy stays in the shared mailbox, out of reach of the family's erasure.
    assert sent["saveToSentItems"] is False


@pytest.mark.parametrize(
    ("status", "code", "raised"),
    [
        (429, "TooManyRequests", MailUnavailable),
        (503, "ServiceUnavailable", MailUnavailable),
        (504, "GatewayTimeout", MailUncertain),
        (403, "ErrorAccessDenied", MailRefused),
        (400, "ErrorInvalidRecipients", MailRefused),
    ],
)
async def test_a_refusal_says_whether_to_try_again_and_never_names_the_address(
    mail_graph: tuple[FakeGraph, GraphMail], status: int, code: str, raised: type[Exception]
) -> None:
    fake, mail = mail_graph
    fake.mail_failures.append((status, code))
    with pytest.raises(raised) as caught:
        await mail.send("aino@example.org", "s", "b", "sopu-outbox-8")
    assert "aino" not in str(caught.value)
    assert fake.sent_mail == []
    # Nothing is retried inside the adapter (nor by the SDK): sendMail has no key to drop
    # a duplicate, so the outbox decides.
    assert [r[2] for r in fake.requests if r[1].endswith("/sendMail")] == [status]


async def test_a_mailbox_outside_the_access_policy_is_refused(
    mail_graph: tuple[FakeGraph, GraphMail],
) -> None:
    fake, mail = mail_graph
    fake.forbidden.add(MAILBOX)
    with pytest.raises(MailRefused, match="403"):
        await mail.send("aino@example.org", "s", "b", "k")


async def test_a_booking_in_graph_mode_sends_the_familys_mail_once(
    connector: FakeConnector, tmp_path: Path
) -> None:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sopu.db'}",
        allowed_tenants=frozenset({TENANT.lower()}),
        allowed_teams=frozenset({TEAM.lower()}),
        allowed_channels=frozenset({CHANNEL.lower()}),
        family_mailbox=MAILBOX,
    )
    async with running_bank("graph", settings, connector, FixedClock(MONDAY)) as (bank, cal):
        assert cal.fake is not None
        cal.fake.users.add(MAILBOX)
        case = await bank.paired("olli", "outi")
        first = await propose(bank, "olli", {"case_id": case.case_id})
        book = {**book_action(first)["data"], "start": choices(first)[0]}
        await bank.teams.click("olli", "meetings.book", book, "personal")
        runtime = bank.app[SOPU].jobs
        assert isinstance(runtime, JobsRuntime)
        await runtime.sender.drain(timeout=20)
        sent = cal.fake.sent_mail
        assert sorted(m["subject"].split(":")[0] for m in sent) == [
            "Ennen ensimmäistä sovittelutapaamista",
            "Perheasioiden sovittelun tapaamisesi",
        ]
        assert {m["from"] for m in sent} == {MAILBOX}
        assert {a for m in sent for a in m["to"]} == {"aino@example.org"}
        outbox = await runtime.services.outbox.all()
        mail = [m for m in outbox if m.key.kind is MessageKind.FAMILY_MAIL]
        assert {m.status for m in mail} == {OutboxStatus.SENT}
        # The same click again (a double click) sends nothing more.
        await bank.teams.click("olli", "meetings.book", book, "personal")
        await runtime.sender.drain(timeout=20)
        assert len(cal.fake.sent_mail) == 2
