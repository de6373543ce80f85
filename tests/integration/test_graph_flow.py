"""The booking flow in Teams, end to end, on both calendar adapters (local and Graph).

The real app on a real port, the fake Bot Connector, and for ``graph`` the real msgraph-sdk
talking to the fake Graph server. The same clicks must give the same bank and calendars.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.actions_calendar import CALENDAR, GRAPH_CREDENTIAL
from bot.app import SOPU, create_app
from bot.settings import CalendarSettings, Settings
from cards.i18n import t
from mediation.calendar import LinkState
from mediation.model import MeetingKind, MeetingStatus
from storage.calendar import LocalEventStore
from tests.clock import FixedClock
from tests.e2e.conftest import (
    CHANNEL,
    PEOPLE,
    TEAM,
    TENANT,
    Bank,
    Teams,
    seed_rows,
    start,
    verbs_on,
    words,
)
from tests.fakes.connector import FakeConnector
from tests.fakes.graph_server import FakeCredential, FakeGraph
from tests.integration.graph_support import serve
from tests.unit.factories import FORM

MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
FAMILY = ("Aino Virtanen", "Mikko Virtanen", "Virtanen")


@dataclass
class Calendars:
    """What is in the mediators' calendars, whichever adapter keeps them."""

    mode: str
    bank: Bank
    fake: FakeGraph | None

    async def events(self, mailbox: str) -> list[dict[str, Any]]:
        if self.fake is not None:
            return [
                {
                    "id": e.id,
                    "subject": e.subject,
                    "start": e.start,
                    "end": e.end,
                    "attendees": e.attendees,
                    "cancelled": e.removed,
                }
                for e in self.fake.of(mailbox, removed=True)
            ]
        store = LocalEventStore(self.bank.sopu.sessions, self.bank.clock)
        far = timedelta(days=3000)
        found = await store.between([mailbox], MONDAY - far, MONDAY + far, cancelled=True)
        return [
            {
                "id": e.id,
                "subject": e.subject,
                "start": e.starts_at,
                "end": e.ends_at,
                "attendees": list(e.attendees),
                "cancelled": e.cancelled,
            }
            for e in found
            if e.mailbox == mailbox
        ]

    def cancel_comments(self) -> list[str]:
        if self.fake is not None:
            return [c for _, c in self.fake.cancellations]
        return []


@contextlib.asynccontextmanager
async def running_bank(
    mode: str, settings: Settings, connector: FakeConnector, clock: FixedClock
) -> AsyncIterator[tuple[Bank, Calendars]]:
    fake = None
    runner_graph = None
    if mode == "graph":
        fake = FakeGraph(users={f"{p.key}@example.org" for p in PEOPLE}, clock=clock)
        runner_graph = await serve(fake)
        settings = dataclasses.replace(
            settings,
            calendar=CalendarSettings(
                mode="graph",
                tenant_id="tenant",
                client_id="client",
                client_secret="secret",
                base_url=f"{fake.url}/v1.0",
            ),
        )
    app = create_app(settings, clock=clock)
    if mode == "graph":
        app[GRAPH_CREDENTIAL] = FakeCredential()
    runner, base = await start(app)
    try:
        if app[CALENDAR].sync is not None:
            app[CALENDAR].sync.notification_url = f"{base}/api/graph/notifications"
        uow = app[SOPU].uow()
        async with uow:
            for m in seed_rows():
                await uow.mediators.add(m)
            await uow.commit()
        async with aiohttp.ClientSession() as http:
            teams = Teams(base, http, connector)
            await teams.open_personal_chats()
            bank = Bank(app, teams, clock)
            await bank.setup()
            yield bank, Calendars(mode, bank, fake)
    finally:
        await runner.cleanup()
        if runner_graph is not None:
            await runner_graph.cleanup()


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    runner, url = await start(fake.app())
    fake.url = url
    yield fake
    await runner.cleanup()


@pytest.fixture(params=["local", "graph"])
async def booked_bank(
    request: pytest.FixtureRequest, connector: FakeConnector, tmp_path: Path
) -> AsyncIterator[tuple[Bank, Calendars]]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sopu.db'}",
        allowed_tenants=frozenset({TENANT.lower()}),
        allowed_teams=frozenset({TEAM.lower()}),
        allowed_channels=frozenset({CHANNEL.lower()}),
    )
    clock = FixedClock(MONDAY)
    async with running_bank(str(request.param), settings, connector, clock) as started:
        yield started


def choices(card: dict[str, Any]) -> list[str]:
    (slot_input,) = [b for b in card["body"] if b.get("id") == "start"]
    return [c["value"] for c in slot_input["choices"]]


def book_action(card: dict[str, Any], verb: str = "meetings.book") -> dict[str, Any]:
    return next(a for a in card["actions"] if a.get("verb") == verb)


async def meetings_of(bank: Bank, case_id: int) -> list[Any]:
    uow = bank.sopu.uow()
    async with uow:
        case = await uow.cases.get(case_id)
    assert case is not None
    return sorted(case.meetings, key=lambda m: m.id or 0)


async def propose(bank: Bank, who: str, data: dict[str, Any]) -> dict[str, Any]:
    return await bank.teams.click(who, "meetings.propose", data, where="personal")


async def test_the_package_is_booked_moved_cancelled_and_recorded(
    booked_bank: tuple[Bank, Calendars],
) -> None:
    bank, calendars = booked_bank
    teams = bank.teams
    case = await bank.paired("olli", "outi")
    ref = {"case_id": case.case_id}

    details = await teams.click("olli", "case.details", ref, where="personal")
    assert "meetings.propose" in verbs_on(details)

    # Individual meeting with parent 1: proposed from both calendars, booked at the first time.
    first = await propose(bank, "olli", ref)
    assert t("en", "calendar.kind.individual.parent", n=1) in words(first)
    slots = choices(first)
    assert slots and all(datetime.fromisoformat(s) > MONDAY + timedelta(hours=18) for s in slots)
    book = book_action(first)
    answer = await teams.click(
        "olli", "meetings.book", {**book["data"], "start": slots[0]}, "personal"
    )
    assert "Booked" in words(answer)
    assert await bank.status(case) == "in_progress"
    (event,) = await calendars.events("olli@example.org")
    assert case.code in event["subject"] and "parent 1" in event["subject"]
    assert not any(name in event["subject"] for name in FAMILY)
    assert event["attendees"] == ["outi@example.org"]
    assert event["start"] == datetime.fromisoformat(slots[0])
    assert event["end"] - event["start"] == timedelta(minutes=60)

    # The same click again (Teams redelivers, people double-click): nothing new.
    again = await teams.click(
        "olli", "meetings.book", {**book["data"], "start": slots[0]}, "personal"
    )
    assert "already" in words(again)
    assert len(await calendars.events("olli@example.org")) == 1

    # Parent 2 next; Outi organises this one, so it lands in her calendar.
    second = await propose(bank, "outi", ref)
    assert t("en", "calendar.kind.individual.parent", n=2) in words(second)
    assert slots[0] not in choices(second)  # the first booking is busy time now
    second_start = choices(second)[0]
    await teams.click(
        "outi", "meetings.book", {**book_action(second)["data"], "start": second_start}, "personal"
    )
    assert len(await calendars.events("outi@example.org")) == 1

    # No joint meeting before both individual meetings are recorded as held.
    joint = await propose(bank, "olli", {**ref, "kind": "joint"})
    assert t("en", "error.individual_meetings_first") in words(joint)
    refused = await teams.click(
        "olli",
        "meetings.book",
        {**ref, "kind": "joint", "start": choices(second)[-1]},
        "personal",
    )
    assert t("en", "error.individual_meetings_first") in words(refused)
    assert len(await meetings_of(bank, case.case_id)) == 2

    # After the meetings, the pair records them.
    m1, m2 = await meetings_of(bank, case.case_id)
    bank.clock.set(max(m1.ends_at, m2.ends_at) + timedelta(minutes=5))
    form = await teams.click(
        "outi", "meeting.record", {**ref, "meeting_id": m1.id, "form": 1}, "personal"
    )
    assert any(b.get("id") == "held" for b in form["body"])
    for m in (m1, m2):
        done = await teams.click(
            "outi",
            "meeting.record",
            {**ref, "meeting_id": m.id, "held": "yes", "minutes": "55"},
            "personal",
        )
        assert "55 min" in words(done)
    m1, m2 = await meetings_of(bank, case.case_id)
    assert (m1.status, m1.held_minutes, m2.status) == (
        MeetingStatus.HELD,
        55,
        MeetingStatus.HELD,
    )

    # Now the joint meeting: 90 minutes, proposed and booked.
    joint = await propose(bank, "olli", ref)
    assert t("en", "calendar.kind.joint") in words(joint)
    joint_slots = choices(joint)
    await teams.click(
        "olli", "meetings.book", {**book_action(joint)["data"], "start": joint_slots[0]}, "personal"
    )
    meetings = await meetings_of(bank, case.case_id)
    joint_meeting = meetings[-1]
    assert joint_meeting.kind is MeetingKind.JOINT
    assert joint_meeting.ends_at - joint_meeting.starts_at == timedelta(minutes=90)
    live = [e for e in await calendars.events("olli@example.org") if not e["cancelled"]]
    joint_event = next(e for e in live if e["start"] == joint_meeting.starts_at)

    # Moving patches the same event.
    moving = await propose(bank, "olli", {**ref, "meeting_id": joint_meeting.id})
    new_start = next(s for s in choices(moving) if s != joint_slots[0])
    moved = await teams.click(
        "olli",
        "meeting.move",
        {**book_action(moving, "meeting.move")["data"], "start": new_start},
        "personal",
    )
    assert "Moved" in words(moved)
    live = [e for e in await calendars.events("olli@example.org") if not e["cancelled"]]
    assert joint_event["id"] in {e["id"] for e in live}
    patched = next(e for e in live if e["id"] == joint_event["id"])
    assert patched["start"] == datetime.fromisoformat(new_start)

    # Cancelling cancels the event, with the message.
    cancelled = await teams.click(
        "olli",
        "meeting.cancel",
        {**ref, "meeting_id": joint_meeting.id, "message": "Perhe pyysi uutta aikaa."},
        "personal",
    )
    assert "Cancelled" in words(cancelled)
    after = {e["id"]: e for e in await calendars.events("olli@example.org")}
    assert after[joint_event["id"]]["cancelled"]
    if calendars.mode == "graph":
        assert "Perhe pyysi uutta aikaa." in calendars.cancel_comments()
    assert (await meetings_of(bank, case.case_id))[-1].status is MeetingStatus.CANCELLED

    # Every meeting reached its calendar.
    service = bank.app[CALENDAR]
    stored = await service.links.for_meetings([m.id for m in meetings])
    assert {link.state for link in stored.values()} <= {LinkState.SYNCED, LinkState.CANCELLED}


async def test_only_the_pair_and_coordinators_manage_meetings(
    booked_bank: tuple[Bank, Calendars],
) -> None:
    bank, calendars = booked_bank
    case = await bank.paired("olli", "outi")
    ref = {"case_id": case.case_id}
    refused = await propose(bank, "sven", ref)
    assert t("en", "error.meetings_pair_only") in words(refused)
    coordinator = await propose(bank, "coord", ref)
    slots = choices(coordinator)
    await bank.teams.click(
        "coord",
        "meetings.book",
        {**book_action(coordinator)["data"], "start": slots[0]},
        "personal",
    )
    # A coordinator books into the first seat holder's calendar, with the other invited.
    (event,) = await calendars.events("olli@example.org")
    assert event["attendees"] == ["outi@example.org"]
    assert await calendars.events("coord@example.org") == []
    stranger = await bank.teams.click(
        "sven",
        "meetings.book",
        {**ref, "kind": "individual", "parent_no": 2, "start": slots[1]},
        "personal",
    )
    assert t("en", "error.meetings_pair_only") in words(stranger)
    assert len(await meetings_of(bank, case.case_id)) == 1


async def test_bad_card_data_is_refused_in_words(booked_bank: tuple[Bank, Calendars]) -> None:
    bank, _ = booked_bank
    case = await bank.paired("olli", "outi")
    ref = {"case_id": case.case_id}
    for data, expected in (
        ({**ref, "kind": "brunch", "start": "2026-03-03T09:00+00:00"}, "Meeting type"),
        ({**ref, "kind": "individual", "parent_no": 1, "start": "tomorrow"}, "Time"),
        (
            {**ref, "kind": "individual", "parent_no": 3, "start": "2026-03-03T09:00+00:00"},
            "Parent",
        ),
        (
            {**ref, "kind": "individual", "parent_no": 1, "start": "2026-03-01T09:00+00:00"},
            "passed",
        ),
        (
            {**ref, "kind": "individual", "parent_no": 1, "start": "2026-03-03T09:10+00:00"},
            "half past",
        ),
        (
            {**ref, "kind": "individual", "parent_no": 1, "start": "2026-04-03T09:00+00:00"},
            "holiday",
        ),
    ):
        answer = await bank.teams.click("olli", "meetings.book", data, "personal")
        assert expected in words(answer), (data, words(answer))
    assert await meetings_of(bank, case.case_id) == []
    assert FORM["parent1_name"] not in words(answer)
