"""The Teams flow in the Agents Playground, driven in headless Chromium.

The coordinator (the playground's current user) makes Cases the bank channel, registers a
family through the intake form in the personal chat, finds the anonymous case card in the
channel and claims seat 1 there; another demo mediator claims seat 2 through the
playground's own HTTP API (typed messages and clicks in the UI always come from the current
user); the card in the channel then shows the pair, as Sopu's update left it, and the
coordinator's personal chat has the note that the pair is complete.

Screenshots of each step go to tests/artifacts/browser/.
The playground sends every activity with the locale en-US, so Sopu answers in English;
the channel's case card is in the bank's language, Finnish.
"""

from __future__ import annotations

import contextlib
import json
import os

import pytest

if os.environ.get("SOPU_REQUIRE_BROWSER") != "1":
    pytest.importorskip("playwright.async_api", reason="pip install -e '.[dev]'")
from playwright.async_api import Page, async_playwright, expect

from bot import playground as pg
from cards import verbs
from cards.i18n import t
from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Playground
from tests.browser.playground_ui import (
    CARD,
    CASES_CHANNEL,
    CHANNEL,
    COMPOSER,
    COORDINATOR,
    PERSONAL_CHAT,
    SECOND,
    TEAM,
    THREAD,
    UI,
    Shots,
    Stream,
    click_as,
    executes,
    fill_intake,
    mention_sopu,
    seat,
    template,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


async def test_coordinator_registers_a_family_and_a_pair_claims_it(
    playground: Playground,
) -> None:
    stream = Stream()
    async with async_playwright() as p:
        browser = await p.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        try:
            page = await browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(15_000)
            page.on("websocket", stream.attach)
            shot = Shots(page, ARTIFACTS)
            try:
                await _flow(page, playground, stream, shot)
            except Exception:
                with contextlib.suppress(Exception):
                    await page.screenshot(path=str(ARTIFACTS / "failure.png"))
                raise
        finally:
            await browser.close()


async def _flow(page: Page, playground: Playground, stream: Stream, shot: Shots) -> None:
    # Opening the playground installs Sopu in the personal chat: it introduces itself.
    await page.goto(playground.url)
    await page.locator(PERSONAL_CHAT).click()
    await expect(page.locator(CARD).first).to_contain_text(pg.BOT_NAME)
    await shot("personal-chat-help")

    # The coordinator makes Cases the bank channel: '@Sopu setup', the mention from the menu.
    await page.locator(CASES_CHANNEL).click()
    await mention_sopu(page, "setup")
    ready = page.locator(CARD).filter(has_text=t(UI, "setup.title"))
    await expect(ready).to_be_visible()
    await ready.scroll_into_view_if_needed()
    await shot("bank-channel-setup")

    # In the personal chat: 'new case', the intake form, filled in and sent.
    await page.locator(PERSONAL_CHAT).click()
    await page.locator(COMPOSER).click()
    await page.keyboard.type("new case")
    await page.locator('button[aria-label="Send Message"]').click()
    submit = page.get_by_role("button", name=t(UI, "intake.submit"))
    form = page.locator(CARD).filter(has=submit)
    await expect(form).to_be_visible()
    await fill_intake(form, page)
    await shot("intake-form-filled")
    await form.get_by_role("button", name=t(UI, "intake.submit")).click()

    # The form is replaced by the confirmation, which names the new case.
    posted_title = template(UI, "posted.title", "code")
    posted = page.locator(CARD).filter(has_text=posted_title)
    await expect(posted).to_be_visible()
    found = posted_title.search(await posted.inner_text())
    assert found is not None
    code = found[1]
    await shot("case-posted-confirmation")

    # The anonymous card is a new thread in the Cases channel, both seats free.
    await page.locator(CASES_CHANNEL).click()
    # The thread is found by the case code alone: whoever clicks sees the card in their language.
    card = page.locator(THREAD).filter(has_text=code).locator(CARD)
    await expect(card).to_be_visible()
    await card.scroll_into_view_if_needed()
    free = t(CHANNEL, "case.seat_free")
    await expect(card).to_contain_text(seat(CHANNEL, 1, free))
    await expect(card).to_contain_text(seat(CHANNEL, 2, free))
    await expect(card).not_to_contain_text("Esimerkki")  # the channel sees no family
    await shot("case-card-in-channel")

    # The coordinator claims seat 1 in the UI; the answer, in the bank's language like
    # every card of the channel, replaces the card for them.
    await card.get_by_role("button", name=t(CHANNEL, "case.action.claim")).click()
    await expect(card).to_contain_text(seat(CHANNEL, 1, COORDINATOR.name))
    await card.scroll_into_view_if_needed()
    await shot("seat-1-claimed-in-ui")

    # Seat 2: another mediator clicks Claim on the same post, through the playground's API.
    post = stream.post_of(TEAM.channel_id, t(CHANNEL, "case.title", code=code))
    claims = [a for a in executes(post["attachments"]) if a.get("verb") == verbs.CASE_CLAIM]
    assert len(claims) == 1, post
    answer = await click_as(
        playground.url, SECOND.playground_id, post, verbs.CASE_CLAIM, claims[0]["data"]
    )
    said = json.dumps(answer, ensure_ascii=False)
    assert t(CHANNEL, "notice.claimed", seat=2, code=code) in said, said

    # Sopu updates the channel's card: both names, the pair complete, no Claim button left.
    await expect(card).to_contain_text(seat(CHANNEL, 2, SECOND.name))
    await expect(card).to_contain_text(seat(CHANNEL, 1, COORDINATOR.name))
    await expect(card).to_contain_text(t(CHANNEL, "status.paired"))
    await expect(card.get_by_role("button", name=t(CHANNEL, "case.action.claim"))).to_have_count(0)
    await card.scroll_into_view_if_needed()
    await shot("pair-in-channel")

    # Both mediators are told in their personal chat, in their own language; the
    # coordinator's chat is the one open here.
    await page.locator(PERSONAL_CHAT).click()
    told = page.locator(CARD).filter(has_text=t(UI, "pair.title", code=code))
    await expect(told).to_be_visible()
    await expect(told).to_contain_text(SECOND.name)
    await told.scroll_into_view_if_needed()
    await shot("pair-complete-in-personal-chat")
