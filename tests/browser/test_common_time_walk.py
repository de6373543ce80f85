"""A family centre's common time walked in the Agents Playground in Chromium.

Kaisa Koordinaattori (the playground's current user) is a family's close worker: she types
`common time`, opens one with the family's consent, invites Sanna Sovittelija for family
counselling from the list the card offers, and Sanna (who has never chatted with Sopu)
accepts on the card Sopu sends her, through the playground's own API. Kaisa finds a time
with a room, books it, records the meeting as held with Sanna as the responsible worker
once its time has passed (Sopu's clock is moved on), and writes the joint plan.

Screenshots of each step: build/screenshots/common_time/NN-<step>.png. Without Chromium,
Node.js or the playground the test is skipped, unless SOPU_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

if os.environ.get("SOPU_REQUIRE_BROWSER") != "1":
    pytest.importorskip("playwright.async_api", reason="pip install -e '.[dev]'")
from playwright.async_api import Page, async_playwright, expect

from bot import demo
from bot.bootstrap import SOPU, create_app
from bot.settings import CalendarSettings, Settings
from cards import verbs
from cards.common_time import competence_label
from cards.i18n import t
from mediation import registry
from mediation.common_time import Status
from mediation.services import import_registry
from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    free_port,
    missing_tools,
    skip_or_fail,
    start_playground,
)
from tests.browser.playground_ui import (
    CARD,
    CASES_CHANNEL,
    PERSONAL_CHAT,
    SECOND,
    UI,
    ActivityLog,
    Shots,
    mention_sopu,
    say,
)
from tests.browser.test_walk import Bank, arrives
from tests.clock import ShiftedClock

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = ROOT / "build" / "screenshots" / "common_time"


@contextlib.asynccontextmanager
async def running_centre(work: Path) -> AsyncIterator[Bank]:
    """Sopu with the demo registry as a family centre's team, rooms, and the playground."""
    port = free_port()
    clock = ShiftedClock()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{work / 'sopu.db'}",
        port=port,
        var_dir=str(work / "var"),
        calendar=CalendarSettings(rooms=demo.ROOMS),
    )
    app = create_app(settings, clock=clock)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    tester = None
    try:
        sopu = app[SOPU]
        rows = registry.parse_registry(demo.registry_csv())
        await import_registry(rows, sopu.uow(), clock)
        await demo.family_centre_team(sopu.uow)
        messages = f"http://127.0.0.1:{port}/api/messages"
        tester, url = await asyncio.to_thread(start_playground, messages, work, SHOTS)
        yield Bank(app, clock, url)
    finally:
        if tester is not None:
            await asyncio.to_thread(tester.stop)
        await runner.cleanup()


async def test_a_close_worker_convenes_books_and_writes_the_plan(tmp_path: Path) -> None:
    reason = missing_tools()
    if reason is not None:
        skip_or_fail(reason)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in [*SHOTS.glob("*.png"), *SHOTS.glob("*.log")]:
        old.unlink()
    activity = ActivityLog()
    async with running_centre(tmp_path) as bank, async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(15_000)
            page.on("websocket", activity.attach)
            shot = Shots(page, SHOTS)
            try:
                await _walk(page, bank, activity, shot)
            except Exception:
                with contextlib.suppress(Exception):
                    await page.screenshot(path=str(SHOTS / "failure.png"))
                raise
        finally:
            await browser.close()


async def _walk(page: Page, bank: Bank, activity: ActivityLog, shot: Shots) -> None:
    await page.goto(bank.playground_url)
    await page.locator(PERSONAL_CHAT).click()
    await expect(page.locator(CARD).first).to_contain_text("Sopu")
    # Sopu is installed in the team and set up there: it reaches the team's members by it.
    await page.locator(CASES_CHANNEL).click()
    await mention_sopu(page, "setup")
    await expect(page.locator(CARD).filter(has_text=t(UI, "setup.title"))).to_be_visible()
    await page.locator(PERSONAL_CHAT).click()

    # `common time`: her own common times (none yet), and the way to open one.
    await say(page, "common time")
    listing = page.locator(CARD).filter(has_text=t(UI, "commontime.list.none"))
    await expect(listing).to_be_visible()
    await listing.get_by_role("button", name=t(UI, "commontime.list.new")).click()

    # The form: a municipality, the competence needed, the family's consent.
    submit = page.get_by_role("button", name=t(UI, "commontime.new.submit"))
    form = page.locator(CARD).filter(has=submit)
    await form.get_by_label(t(UI, "field.municipality")).fill("Tuusula")
    counselling = competence_label(UI, "family_counselling")
    await form.get_by_role("checkbox", name=counselling).check()
    await form.get_by_role("checkbox", name=t(UI, "commontime.consent.convene")).check()
    await form.get_by_role("checkbox", name=t(UI, "commontime.consent.share_plan")).check()
    await form.scroll_into_view_if_needed()
    await shot("convene-form")
    await submit.click()
    opened = page.locator(CARD).filter(has_text=t(UI, "commontime.convened", code="2026-Y001"))
    code = "2026-Y001"
    if not await opened.count():
        year = bank.clock.now().year
        code = f"{year}-Y001"
        opened = page.locator(CARD).filter(has_text=t(UI, "commontime.convened", code=code))
    await expect(opened).to_be_visible()
    await opened.scroll_into_view_if_needed()
    await shot("common-time-open")

    # Sanna is offered for family counselling; Kaisa invites her.
    await quiet(bank)
    label = t(UI, "commontime.team.invite_for", competence=counselling)
    await opened.get_by_role("combobox", name=label).click()
    await page.get_by_role("option", name=SECOND.name, exact=True).click()
    await opened.get_by_role("button", name=t(UI, "commontime.team.invite"), exact=True).click()
    invited = page.locator(CARD).filter(has_text=t(UI, "commontime.invited_ok", name=SECOND.name))
    await expect(invited).to_be_visible()
    await shot("invited")

    # Sopu opens Sanna's personal chat with the invitation; she accepts on it.
    reference = await arrives(
        "Sanna's personal chat", lambda: bank.sopu.store.user_reference(SECOND.aad_object_id)
    )
    conversation = reference["conversation"]["id"]
    note = await arrives(
        "Sanna's invitation",
        lambda: [m for m in activity.delivered(conversation) if verbs.COMMON_TIME_ACCEPT in str(m)],
    )
    ct_id = _ct_id(note[-1])
    (message_id,) = [
        str(e["messageId"])
        for e in activity.entries
        if e.get("conversationId") == conversation
        and verbs.COMMON_TIME_ACCEPT in str(e.get("request"))
    ]
    await _click_in_personal_chat(
        bank.playground_url,
        SECOND.playground_id,
        (conversation, message_id),
        verbs.COMMON_TIME_ACCEPT,
        ct_id,
    )

    # Back in Kaisa's chat: the card refreshed shows the acceptance and offers times.
    await page.locator(PERSONAL_CHAT).click()
    await invited.get_by_role("button", name=t(UI, "commontime.refresh")).click()
    ready = page.locator(CARD).filter(has_text=t(UI, "commontime.meeting.ready")).last
    await expect(ready).to_be_visible()
    await ready.get_by_role("button", name=t(UI, "commontime.meeting.find")).click()
    offered = page.locator(CARD).filter(has_text=demo.ROOMS[0]).last
    await expect(offered).to_be_visible()
    await offered.scroll_into_view_if_needed()
    await shot("times-with-rooms")
    await offered.get_by_role("button").filter(has_text=demo.ROOMS[0]).first.click()
    booked = page.locator(CARD).filter(has_text=t(UI, "commontime.meeting.title")).last
    await expect(booked).to_contain_text(t(UI, "status.booked"))
    await booked.scroll_into_view_if_needed()
    await shot("booked")

    # The meeting's time passes; Kaisa records it held, Sanna named the responsible worker.
    uow = bank.sopu.uow()
    async with uow:
        stored = await uow.common_times.get(ct_id)
    assert stored is not None and stored.status is Status.BOOKED
    assert stored.meetings[0].event_id is not None  # in the local calendar
    bank.clock.move_to(stored.meetings[0].ends_at + timedelta(minutes=10))
    await quiet(bank)
    await booked.get_by_role("button", name=t(UI, "commontime.refresh")).click()
    held_label = t(UI, "commontime.held.submit")
    held_form = page.locator(CARD).filter(has=page.get_by_role("button", name=held_label)).last
    record = held_form.get_by_role("button", name=held_label)
    await held_form.get_by_role("combobox").first.click()
    # A multi-select: each choice a checkbox in the list.
    await page.get_by_text(SECOND.name, exact=True).last.click()
    await page.keyboard.press("Escape")
    await held_form.scroll_into_view_if_needed()
    await shot("held-form")
    await record.click()
    held = page.locator(CARD).filter(has_text=t(UI, "commontime.held_ok")).last
    await expect(held).to_be_visible(timeout=15_000)
    await quiet(bank)  # the feedback forms and the responsible worker's note

    # The joint plan.
    save_label = t(UI, "commontime.plan.submit")
    plan_form = held
    save = plan_form.get_by_role("button", name=save_label)
    await expect(save).to_be_visible()
    await plan_form.get_by_label(t(UI, "field.matters")).fill("Aamut ovat vaikeita.")
    await plan_form.get_by_label(t(UI, "field.what")).first.fill("Kuvallinen aamujärjestys")
    await plan_form.get_by_label(t(UI, "field.follow_up_how")).fill("Seurantatapaaminen")
    await plan_form.get_by_label(t(UI, "field.family_reaches_worker")).fill("Puhelimitse")
    next_contact = (bank.clock.now() + timedelta(days=30)).date().isoformat()
    await plan_form.get_by_label(t(UI, "field.next_contact")).fill(next_contact)
    await plan_form.scroll_into_view_if_needed()
    await shot("plan-form")
    await save.click()
    plan = page.locator(CARD).filter(has_text=t(UI, "commontime.plan_saved")).last
    await expect(plan).to_contain_text("Kuvallinen aamujärjestys")
    await plan.scroll_into_view_if_needed()
    await shot("plan-saved")
    uow = bank.sopu.uow()
    async with uow:
        stored = await uow.common_times.get(ct_id)
    assert stored is not None and stored.status is Status.FOLLOW_UP and stored.plan is not None


async def quiet(bank: Bank) -> None:
    """Wait until what Sopu sends on its own has arrived: a message arriving re-renders the
    playground's chat, which empties a form being filled in."""
    await bank.sopu.jobs.sender.settled()
    await asyncio.sleep(1)


def _ct_id(message: dict[str, Any]) -> int:
    """The common time's id from the buttons of a card Sopu sent."""
    found: list[int] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and isinstance(data.get("ct_id"), int):
                found.append(data["ct_id"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(message)
    assert found, message
    return found[0]


async def _click_in_personal_chat(
    playground_url: str, user_id: str, message: tuple[str, str], verb: str, ct_id: int
) -> None:
    """A button clicked by another user in their personal chat, through the playground's API."""
    import aiohttp

    body = {
        "name": "adaptiveCard/action",
        "conversation": {"id": message[0]},
        "from": {"id": user_id},
        "replyToId": message[1],
        "value": {"action": {"type": "Action.Execute", "verb": verb, "data": {"ct_id": ct_id}}},
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{playground_url}/_conversation/v1/invoke", json=body) as response,
    ):
        answer = await response.json(content_type=None)
        assert response.status == 200, answer
    assert t(UI, "commontime.answered_accepted") in str(answer) or "accepted" in str(answer)
