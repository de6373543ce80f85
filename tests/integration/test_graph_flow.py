"""The booking flow in Teams, end to end, on both calendar adapters (local and Graph).

The real app on a real port, the fake Bot Connector, and for ``graph`` the real msgraph-sdk
talking to the fake Graph server. The same clicks must give the same bank and calendars.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.keys import CALENDAR
from cards.i18n import t, tn
from mediation.calendar import LinkState
from mediation.model import MeetingKind, MeetingStatus
from tests.e2e.conftest import verbs_on, words
from tests.integration.graph_support import (
    FAMILY,
    MONDAY,
    Bank,
    Calendars,
    book_action,
    booked_bank_fixture,
    choices,
    connector_fixture,
    meetings_of,
    propose,
)
from tests.unit.factories import FORM

__all__ = ["booked_bank_fixture", "connector_fixture"]
HELSINKI = ZoneInfo("Europe/Helsinki")


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


async def test_no_time_is_proposed_on_the_familys_excluded_day(
    booked_bank: tuple[Bank, Calendars],
) -> None:
    bank, _ = booked_bank
    case = await bank.new_case({**FORM, "preferred_times": "", "excluded_days": "fri"})
    await bank.claim("olli", case)
    await bank.claim("outi", case)
    # Asked on a Thursday: the next day would be the earliest time, but it is a Friday.
    bank.clock.set(MONDAY + timedelta(days=3))
    proposal = await propose(bank, "olli", {"case_id": case.case_id})
    starts = [datetime.fromisoformat(s).astimezone(HELSINKI) for s in choices(proposal)]
    days = {start.strftime("%a") for start in starts}
    assert len(starts) == 6 and days == {"Mon", "Tue", "Wed"}


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


async def test_cancelling_a_case_cancels_its_meetings_ahead_in_both_calendars(
    booked_bank: tuple[Bank, Calendars],
) -> None:
    bank, calendars = booked_bank
    teams = bank.teams
    case = await bank.paired("olli", "outi")
    ref = {"case_id": case.case_id}
    first = await propose(bank, "olli", ref)
    await teams.click(
        "olli", "meetings.book", {**book_action(first)["data"], "start": choices(first)[0]},
        "personal",
    )  # fmt: skip
    second = await propose(bank, "outi", ref)
    await teams.click(
        "outi", "meetings.book", {**book_action(second)["data"], "start": choices(second)[0]},
        "personal",
    )  # fmt: skip
    # The cancel form says which meetings go, before anyone confirms.
    shown = words(bank.channel_card(case))
    assert tn("fi", "close.meetings_ahead", 2) in shown
    assert t("fi", "calendar.kind.individual.parent", n=2).capitalize() in shown

    sent = len(bank.connector.log)
    answer = await teams.click("coord", "case.cancel", ref, thread=case.thread)
    assert tn("fi", "notice.meetings_cancelled", 2) in words(answer)
    assert [m.status for m in await meetings_of(bank, case.case_id)] == [
        MeetingStatus.CANCELLED,
        MeetingStatus.CANCELLED,
    ]
    for mailbox in ("olli@example.org", "outi@example.org"):
        (event,) = await calendars.events(mailbox)
        assert event["cancelled"], mailbox
    title = t("en", "calendar.changed.cancelled_with_case.title", code=case.code)
    for key in ("olli", "outi"):
        told = [s for s in bank.personal(key, after=sent) if s.card and title in words(s.card)]
        assert len(told) == 2, key
