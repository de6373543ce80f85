"""The local calendar's private .ics feed, served by the bot app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.keys import CALENDAR
from bot.settings import Settings
from cards.i18n import t
from tests.clock import FixedClock
from tests.e2e.conftest import CHANNEL, TEAM, TENANT, Bank, answer_card, words
from tests.fakes.connector import FakeConnector
from tests.integration.graph_support import (
    MONDAY,
    book_action,
    choices,
    connector_fixture,
    meetings_of,
    propose,
    running_bank,
)

__all__ = ["connector_fixture"]


@pytest.fixture
async def local_bank(connector: FakeConnector, tmp_path: Path) -> AsyncIterator[Bank]:
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sopu.db'}",
        allowed_tenants=frozenset({TENANT.lower()}),
        allowed_teams=frozenset({TEAM.lower()}),
        allowed_channels=frozenset({CHANNEL.lower()}),
    )
    async with running_bank("local", settings, connector, FixedClock(MONDAY)) as (bank, _):
        yield bank


async def test_each_mediator_subscribes_to_their_own_feed(local_bank: Bank) -> None:
    bank = local_bank
    case = await bank.paired("olli", "outi")
    card = await propose(bank, "outi", {"case_id": case.case_id})
    feed_line = next(line for line in words(card).splitlines() if "/calendar/" in line)
    url = feed_line[feed_line.index("http") :]
    # The card's address points at the app's configured address; ask this test server.
    path = url[url.index("/calendar/") :]
    await bank.teams.click(
        "outi",
        "meetings.book",
        {**book_action(card)["data"], "start": choices(card)[0]},
        "personal",
    )
    async with bank.teams.http.get(f"{bank.teams.base}{path}") as resp:
        assert resp.status == 200 and resp.content_type == "text/calendar"
        body = await resp.text()
    assert body.startswith("BEGIN:VCALENDAR\r\n") and body.endswith("END:VCALENDAR\r\n")
    assert f"SUMMARY:Mediation {case.code}" in body.replace("\r\n ", "")
    assert "Virtanen" not in body
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    # Olli is invited: his own feed has the meeting too, under another secret address.
    service = bank.app[CALENDAR]
    olli = await bank.mediator("olli")
    olli_url = await service.feed_url(olli.id)
    assert olli_url is not None and olli_url.endswith(".ics") and path not in olli_url
    olli_path = olli_url[olli_url.index("/calendar/") :]
    async with bank.teams.http.get(f"{bank.teams.base}{olli_path}") as resp:
        assert f"SUMMARY:Mediation {case.code}" in (await resp.text()).replace("\r\n ", "")
    async with bank.teams.http.get(f"{bank.teams.base}/calendar/not-a-token.ics") as resp:
        assert resp.status == 404


async def test_the_record_card_carries_the_feedback_part_and_passes_it_on(local_bank: Bank) -> None:
    bank = local_bank
    case = await bank.paired("olli", "outi")
    card = await propose(bank, "olli", {"case_id": case.case_id})
    await bank.teams.click(
        "olli",
        "meetings.book",
        {**book_action(card)["data"], "start": choices(card)[0]},
        "personal",
    )
    (meeting,) = await meetings_of(bank, case.case_id)
    bank.clock.set(meeting.ends_at + timedelta(minutes=10))
    ref = {"case_id": case.case_id, "meeting_id": meeting.id}
    form = await bank.teams.click("outi", "meeting.record", {**ref, "form": 1}, "personal")
    ids = {i.get("id") for i in form["body"] if i.get("id")}
    assert {"held", "minutes", "fb_rating", "fb_cooperation", "fb_note"} <= ids
    answer = await bank.teams.click(
        "outi",
        "meeting.record",
        {**ref, "held": "yes", "minutes": 50, "fb_rating": "4", "fb_cooperation": "yes",
         "fb_note": "Vanhemmat kuuntelivat toisiaan."},
        "personal",
    )  # fmt: skip
    assert "50 min" in words(answer) and "not saved" not in words(answer)
    # The stored answer comes back on the card: answering again changes it.
    shown = {i["id"]: i.get("value") for i in answer["body"] if i.get("id")}
    assert (shown["fb_rating"], shown["fb_cooperation"]) == ("4", "yes")
    assert shown["fb_note"] == "Vanhemmat kuuntelivat toisiaan."
    again = await bank.teams.click(
        "outi", "feedback.meeting",
        {"meeting_id": meeting.id, "fb_rating": "5", "fb_cooperation": "partly", "fb_note": ""},
        "personal",
    )  # fmt: skip
    shown = {i["id"]: i.get("value") for i in again["body"] if i.get("id")}
    assert (shown["fb_rating"], shown["fb_cooperation"]) == ("5", "partly")
    assert t("en", "feedback.saved") in words(again)
    await bank.teams.click(
        "outi", "feedback.meeting",
        {"meeting_id": meeting.id, "fb_rating": "4", "fb_cooperation": "yes", "fb_note": ""},
        "personal",
    )  # fmt: skip
    outi = await bank.mediator("outi")
    assert outi.id is not None
    feedback = await feedback_of(bank, meeting.id or 0, outi.id)
    assert feedback is not None and (feedback.rating, feedback.cooperation) == (4, "yes")
    # Only recording, without the feedback part, is fine too.
    again = await bank.teams.click(
        "olli", "meeting.record", {**ref, "held": "yes", "minutes": "50", "fb_rating": ""},
        "personal",
    )  # fmt: skip
    assert "Recorded: the individual meeting (parent 1) was held (50 min)." in words(again)
    assert "not saved" not in words(again)
    (meeting,) = await meetings_of(bank, case.case_id)
    assert (meeting.status.value, meeting.held_minutes) == ("held", 50)


async def feedback_of(bank: Bank, meeting_id: int, mediator_id: int) -> Any:
    from storage.feedback import SqlFeedbackStore

    return await SqlFeedbackStore(bank.sopu.sessions).meeting_feedback(meeting_id, mediator_id)


async def test_a_booking_click_delivered_twice_books_once(local_bank: Bank) -> None:
    bank = local_bank
    case = await bank.paired("olli", "outi")
    card = await propose(bank, "olli", {"case_id": case.case_id})
    data = {**book_action(card)["data"], "start": choices(card)[0]}
    activity = bank.teams.click_activity("olli", "meetings.book", data, "personal")
    first = answer_card(*await bank.teams.post(activity))
    second = answer_card(*await bank.teams.post(activity))  # the same activity id again
    assert "Booked" in words(first)
    assert t("en", "notice.unchanged") in words(second)
    assert "Package: 1 of 5 meetings" in words(second)  # the package, not the channel card
    assert len(await meetings_of(bank, case.case_id)) == 1
