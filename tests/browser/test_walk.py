"""A whole case walked as a new coordinator would, in the Agents Playground in Chromium.

Kaisa Koordinaattori (the playground's current user, a coordinator who also mediates) makes
Cases the bank channel, registers a family in her personal chat, finds the anonymous card
in the channel and claims seat 1; her assign list there now offers her last, the one with a
package this term. Sanna Sovittelija, who has never chatted with Sopu, claims
seat 2 through the playground's own API (its UI acts only as the current user); Sopu opens
her personal chat to tell her the pair is complete. Kaisa opens the details, proposes and
books the first meeting, records it as held once its time has come (Sopu's clock is moved
on), closes the case, answers her feedback card, opens a parent's feedback link as the
parent would on a phone and answers, and reads the year's statistics.

Sopu runs in this process (create_app on a real port, SQLite, the demo registry, a clock the
test moves on); the playground is the npm package, talking to it over HTTP.

Screenshots of each step: build/screenshots/walk/NN-<step>.png (failure.png when a step
fails), the playground's log beside them. Without Chromium, Node.js or the playground the
test is skipped, unless SOPU_REQUIRE_BROWSER=1 turns the skip into a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import os
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

if os.environ.get("SOPU_REQUIRE_BROWSER") != "1":
    pytest.importorskip("playwright.async_api", reason="pip install -e '.[dev]'")
from playwright.async_api import Browser, Page, async_playwright, expect

from bot import demo
from bot.bootstrap import SOPU, Sopu, create_app
from bot.settings import Settings
from cards import verbs
from cards.calendar import kind_label
from cards.i18n import LANGS, label, t, tn
from mediation import registry
from mediation.model import MeetingStatus
from mediation.services import import_registry
from storage.models_feedback import ClientAnswerRow
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
    CHANNEL,
    COORDINATOR,
    PERSONAL_CHAT,
    SECOND,
    TEAM,
    THREAD,
    UI,
    ActivityLog,
    Shots,
    Stream,
    click_as,
    executes,
    fill_intake,
    mention_sopu,
    say,
    seat,
    template,
)
from tests.clock import ShiftedClock

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SHOTS = ROOT / "build" / "screenshots" / "walk"
WAIT = 10.0  # seconds for what Sopu sends on its own (through its outbox) to arrive


@dataclass
class Bank:
    """Sopu running in this process, and where the playground shows it."""

    app: web.Application
    clock: ShiftedClock
    playground_url: str

    @property
    def sopu(self) -> Sopu:
        return self.app[SOPU]


@contextlib.asynccontextmanager
async def running_bank(work: Path) -> AsyncIterator[Bank]:
    """Sopu with the demo registry on a free port, and the playground talking to it."""
    port = free_port()
    clock = ShiftedClock()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{work / 'sopu.db'}",
        port=port,
        var_dir=str(work / "var"),
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
        # The playground is started from a worker thread: this loop keeps serving meanwhile.
        messages = f"http://127.0.0.1:{port}/api/messages"
        tester, url = await asyncio.to_thread(start_playground, messages, work, SHOTS)
        yield Bank(app, clock, url)
    finally:
        if tester is not None:
            await asyncio.to_thread(tester.stop)
        await runner.cleanup()


async def arrives(what: str, found: Callable[[], Any]) -> Any:
    """Wait for ``found()`` (or what it awaits) to give something; fail naming ``what`` if
    it never does."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT
    while True:
        value = found()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise AssertionError(f"{what} never arrived")
        await asyncio.sleep(0.1)


def open_urls(node: Any) -> list[str]:
    """The addresses of every Action.OpenUrl in a card or a message."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "Action.OpenUrl":
            found.append(str(node["url"]))
        for value in node.values():
            found += open_urls(value)
    elif isinstance(node, list):
        for item in node:
            found += open_urls(item)
    return found


async def test_a_new_coordinator_walks_a_case_from_intake_to_statistics(
    tmp_path: Path,
) -> None:
    reason = missing_tools()
    if reason is not None:
        skip_or_fail(reason)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in [*SHOTS.glob("*.png"), *SHOTS.glob("*.log")]:
        old.unlink()
    stream, activity = Stream(), ActivityLog()
    async with running_bank(tmp_path) as bank, async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(15_000)
            page.on("websocket", stream.attach)
            page.on("websocket", activity.attach)
            shot = Shots(page, SHOTS)
            try:
                await _walk(page, browser, bank, stream, activity, shot)
            except Exception:
                with contextlib.suppress(Exception):
                    await page.screenshot(path=str(SHOTS / "failure.png"))
                raise
        finally:
            await browser.close()


async def _walk(
    page: Page, browser: Browser, bank: Bank, stream: Stream, activity: ActivityLog, shot: Shots
) -> None:
    # Opening the playground installs Sopu in Kaisa's personal chat: it introduces itself.
    await page.goto(bank.playground_url)
    await page.locator(PERSONAL_CHAT).click()
    await expect(page.locator(CARD).first).to_contain_text("Sopu")

    # '@Sopu setup' makes Cases the bank channel.
    await page.locator(CASES_CHANNEL).click()
    await mention_sopu(page, "setup")
    await expect(page.locator(CARD).filter(has_text=t(UI, "setup.title"))).to_be_visible()
    await shot("bank-channel-setup")

    # The intake in the personal chat: 'new case', the form filled in and sent.
    await page.locator(PERSONAL_CHAT).click()
    await say(page, "new case")
    submit = page.get_by_role("button", name=t(UI, "intake.submit"))
    form = page.locator(CARD).filter(has=submit)
    await fill_intake(form, page)
    await shot("intake-form-filled")
    await submit.click()
    posted_title = template(UI, "posted.title", "code")
    posted = page.locator(CARD).filter(has_text=posted_title)
    await expect(posted).to_be_visible()
    found = posted_title.search(await posted.inner_text())
    assert found is not None
    code = found[1]
    await shot("case-registered")

    # The anonymous card in the channel: both seats free, no family anywhere on it.
    await page.locator(CASES_CHANNEL).click()
    card = page.locator(THREAD).filter(has_text=code).locator(CARD).first
    free = t(CHANNEL, "case.seat_free")
    await expect(card).to_contain_text(seat(CHANNEL, 1, free))
    await expect(card).to_contain_text(seat(CHANNEL, 2, free))
    await expect(card).not_to_contain_text("Esimerkki")
    await card.scroll_into_view_if_needed()
    await shot("anonymous-card-in-channel")

    # Kaisa claims seat 1 in the UI.
    await card.get_by_role("button", name=t(CHANNEL, "case.action.claim")).click()
    await expect(card).to_contain_text(seat(CHANNEL, 1, COORDINATOR.name))

    # The coordinator's assign list weighs the work: Kaisa, with a package now, comes last.
    await card.get_by_role("button", name=t(CHANNEL, "coord.title")).click()
    await card.get_by_role("button", name=t(CHANNEL, "coord.assign")).click()
    await card.get_by_role("combobox", name=t(CHANNEL, "coord.mediator")).click()
    offered = page.get_by_role("option")
    loaded = t(CHANNEL, "assign.load", name=COORDINATOR.name, used=1, quota=2)
    await expect(offered.last).to_have_text(loaded)
    await expect(offered.first).to_contain_text("0/2")
    await shot("assign-list")
    await page.keyboard.press("Escape")
    post = stream.post_of(TEAM.channel_id, t(CHANNEL, "case.title", code=code))
    (claim,) = [a for a in executes(post["attachments"]) if a.get("verb") == verbs.CASE_CLAIM]
    case_id = int(claim["data"]["case_id"])

    # Sanna, who has never written to Sopu, claims seat 2 through the playground's API.
    assert await bank.sopu.store.user_reference(SECOND.aad_object_id) is None
    answer = await click_as(
        bank.playground_url, SECOND.playground_id, post, verbs.CASE_CLAIM, claim["data"]
    )
    assert t(CHANNEL, "notice.claimed", seat=2, code=code) in json.dumps(answer, ensure_ascii=False)
    await expect(card).to_contain_text(seat(CHANNEL, 2, SECOND.name))
    await expect(card).to_contain_text(t(CHANNEL, "status.paired"))
    await card.scroll_into_view_if_needed()
    await shot("pair-on-channel-card")

    # Sopu opened Sanna's personal chat to tell her (her first message from Sopu), and
    # told Kaisa in hers.
    opened = await arrives(
        "Sanna's personal chat", lambda: bank.sopu.store.user_reference(SECOND.aad_object_id)
    )
    assert opened["user"]["id"] == SECOND.playground_id
    titles = [t(lang, "pair.title", code=code) for lang in LANGS]
    notes = await arrives(
        "Sanna's pair-complete note",
        lambda: [
            m
            for m in activity.delivered(opened["conversation"]["id"])
            if any(title in json.dumps(m, ensure_ascii=False) for title in titles)
        ],
    )
    assert len(notes) == 1
    await page.locator(PERSONAL_CHAT).click()
    told = page.locator(CARD).filter(has_text=t(UI, "pair.title", code=code))
    await expect(told).to_contain_text(SECOND.name)
    await told.scroll_into_view_if_needed()
    await shot("pair-complete-note")

    # The details: asked for on the channel card, shown in the personal chat only.
    await page.locator(CASES_CHANNEL).click()
    await card.get_by_role("button", name=t(CHANNEL, "case.action.details")).click()
    await expect(card).to_contain_text(t(CHANNEL, "notice.details_sent", code=code))
    await expect(card).not_to_contain_text("Esimerkki")
    await page.locator(PERSONAL_CHAT).click()
    details = page.locator(CARD).filter(has_text=t(UI, "details.title", code=code))
    await expect(details).to_contain_text("Testi Esimerkki")
    await details.scroll_into_view_if_needed()
    await shot("details-in-personal-chat")

    # The first meeting: the times both are free, the first one booked.
    await details.get_by_role("button", name=t(UI, "calendar.details.propose")).click()
    book = page.get_by_role("button", name=t(UI, "calendar.propose.book"))
    proposal = page.locator(CARD).filter(has=book)
    await expect(proposal).to_be_visible()
    await proposal.scroll_into_view_if_needed()
    await shot("meeting-times-proposed")
    await book.click()
    meetings = page.locator(CARD).filter(has_text=t(UI, "calendar.meetings.title", code=code))
    await expect(meetings).to_contain_text(t(UI, "calendar.status.booked"))
    await meetings.scroll_into_view_if_needed()
    await shot("meeting-booked")

    # The meeting's time comes and goes; Kaisa records it as held.
    uow = bank.sopu.uow()
    async with uow:
        stored = await uow.cases.get(case_id)
    assert stored is not None and len(stored.meetings) == 1
    bank.clock.move_to(stored.meetings[0].ends_at + timedelta(minutes=10))
    next_one = meetings.get_by_role("button", name=t(UI, "calendar.action.propose_next"))
    await next_one.click()
    record = page.get_by_role("button", name=t(UI, "calendar.action.record"))
    await record.click()
    send = page.get_by_role("button", name=t(UI, "calendar.record.submit"))
    recording = page.locator(CARD).filter(has=send)
    await recording.get_by_role("radio", name=t(UI, "calendar.record.held"), exact=True).check()
    # The same card asks for her feedback on the meeting.
    await recording.get_by_role("radio", name=t(UI, "feedback.scale.4"), exact=True).check()
    yes = t(UI, "feedback.cooperation.yes")
    await recording.get_by_role("radio", name=yes, exact=True).check()
    await recording.scroll_into_view_if_needed()
    await shot("meeting-record-form")
    await send.click()
    meeting = stored.meetings[0]
    minutes = int((meeting.ends_at - meeting.starts_at).total_seconds() // 60)
    kind = kind_label(UI, meeting.kind, meeting.parent_no)
    recorded = page.get_by_text(t(UI, "calendar.notice.recorded_held", kind=kind, minutes=minutes))
    await expect(recorded).to_be_visible()
    await recorded.scroll_into_view_if_needed()
    await shot("meeting-recorded")
    uow = bank.sopu.uow()
    async with uow:
        stored = await uow.cases.get(case_id)
    assert stored is not None and stored.meetings[0].status is MeetingStatus.HELD

    # Kaisa closes the case from the coordinator's tools on the channel card.
    await page.locator(CASES_CHANNEL).click()
    await card.get_by_role("button", name=t(CHANNEL, "coord.title")).click()
    await card.get_by_role("button", name=t(CHANNEL, "coord.close")).click()
    await card.get_by_role("combobox", name=t(CHANNEL, "coord.outcome")).click()
    outcome = label(CHANNEL, "outcome", "agreement")
    await page.get_by_role("option", name=outcome, exact=True).click()
    await card.scroll_into_view_if_needed()
    await shot("closing-with-outcome")
    await card.get_by_role("button", name=t(CHANNEL, "coord.close_submit")).click()
    await expect(card).to_contain_text(t(CHANNEL, "status.closed"))
    await expect(card).to_contain_text(outcome)
    await card.scroll_into_view_if_needed()
    await shot("case-closed")

    # Feedback: Kaisa's own card in her personal chat, answered and sent.
    await page.locator(PERSONAL_CHAT).click()
    mine = page.locator(CARD).filter(has_text=t(UI, "feedback.case.title", code=code))
    await expect(mine).to_be_visible()
    good = mine.get_by_role("radio", name=t(UI, "feedback.scale.4"))
    for n in range(await good.count()):
        await good.nth(n).check()
    await mine.get_by_role("button", name=t(UI, "feedback.send")).click()
    saved = page.get_by_text(t(UI, "feedback.saved"))
    await expect(saved).to_be_visible()
    await saved.scroll_into_view_if_needed()
    await shot("mediator-feedback-saved")

    # A parent's own link, handed over by the pair, answered on a phone.
    links = await arrives(
        "the parents' feedback links",
        lambda: [
            url
            for e in stream.posts(t(UI, "feedback.client.title", code=code))
            for url in open_urls(e.get("message"))
        ],
    )
    phone = await browser.new_page(viewport={"width": 390, "height": 844})
    await phone.goto(links[0])
    lang = await phone.get_attribute("html", "lang")
    assert lang in LANGS
    settled = phone.get_by_role("group", name=t(lang, "fbpage.q.settled"))
    await settled.get_by_label(t(lang, "fbpage.settled.fully")).check()
    await phone.get_by_label(t(lang, "fbpage.q.good")).fill("Molempia kuunneltiin.")
    await shot("parent-feedback", phone)
    await phone.get_by_role("button", name=t(lang, "fbpage.send")).click()
    await expect(phone.locator("h1")).to_have_text(t(lang, "fbpage.thanks.title"))
    await phone.close()
    async with bank.sopu.sessions() as session:
        answers = await session.scalar(select(func.count()).select_from(ClientAnswerRow))
    assert answers == 1

    # The statistics of the case's year, in the personal chat.
    year = int(code.split("-")[0])
    await say(page, f"stats {year}")
    stats = page.locator(CARD).filter(has_text=t(UI, "stats.title", year=year))
    await expect(stats).to_be_visible()
    # The closed case's outcome, the held hour, and the meeting's one rating (withheld: < 5).
    await expect(stats).to_contain_text(label(UI, "outcome", "agreement"))
    await expect(stats).to_contain_text(t(UI, "stats.hours", hours=f"{minutes / 60:.1f}"))
    await expect(stats).to_contain_text(tn(UI, "stats.withheld", 1))
    await stats.scroll_into_view_if_needed()
    await shot("statistics")
