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
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import aiohttp
import pytest

if os.environ.get("SOPU_REQUIRE_BROWSER") != "1":
    pytest.importorskip("playwright.async_api", reason="pip install -e '.[dev]'")
from playwright.async_api import Locator, Page, WebSocket, async_playwright, expect

from bot import demo
from bot import playground as pg
from cards import verbs
from cards.i18n import Lang, t
from mediation.model import Role
from tests.browser.conftest import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, Playground

pytestmark = [pytest.mark.browser, pytest.mark.slow]

UI: Lang = "en"  # what Sopu answers the playground's en-US activities in
CHANNEL: Lang = "fi"  # the language of the shared card in the bank channel
TEAM = pg.PlaygroundTeam()
CASES_CHANNEL = f'button[role="treeitem"][aria-label="{TEAM.name} - {TEAM.channel_name}"]'
PERSONAL_CHAT = 'button[role="treeitem"][aria-label="Personal Chat"]'
COMPOSER = 'div[role="textbox"][data-lexical-editor="true"]'
CARD = ".ac-adaptiveCard"
THREAD = 'div.fui-Card[role="group"]'

COORDINATOR = demo.CURRENT_USER  # experienced, mediates too
# Another playground user who may take the other seat of a Finnish-speaking family's case.
SECOND = next(
    p
    for p in demo.PLAYGROUND_PEOPLE[1:]
    if p.role is Role.MEDIATOR and p.experienced and "fi" in p.languages.split()
)


def seat(lang: Lang, n: int, who: str) -> str:
    return f"{t(lang, 'case.seat', n=n)}: {who}"


def template(lang: Lang, key: str, name: str) -> re.Pattern[str]:
    """A catalog message with its one {name} parameter as a capture group."""
    before, _, after = t(lang, key, **{name: "\0"}).partition("\0")
    return re.compile(re.escape(before) + r"(\S+)" + re.escape(after))


class Shots:
    """Numbered full-page screenshots of the playground, kept as test artifacts."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.taken: list[str] = []

    async def __call__(self, name: str) -> None:
        path = ARTIFACTS / f"{len(self.taken) + 1:02d}-{name}.png"
        await self.page.screenshot(path=str(path))
        self.taken.append(path.name)


class Stream:
    """What the playground's UI receives on its conversation stream (posts and updates)."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def attach(self, websocket: WebSocket) -> None:
        if "/_ws_conversation/" in websocket.url:
            websocket.on("framereceived", self._frame)

    def _frame(self, payload: str | bytes) -> None:
        try:
            event = json.loads(payload)
        except ValueError:
            return
        if isinstance(event, dict):
            self.events.append(event)

    def post_of(self, channel_id: str, text: str) -> dict[str, Any]:
        """The channel post whose card says ``text``: the thread's first message."""
        for event in self.events:
            message = event.get("message") or {}
            if (
                event.get("action") == "createMessage"
                and event.get("actionConversationId") == channel_id
                and text in json.dumps(message.get("attachments"), ensure_ascii=False)
            ):
                return dict(message)
        raise AssertionError(f"no post in {channel_id} says {text!r}")


async def mention_sopu(page: Page, command: str) -> None:
    """Start a new channel post '@Sopu <command>', the mention picked from the menu."""
    await page.locator(COMPOSER).first.click()
    await page.keyboard.type(f"@{pg.BOT_NAME}")
    await page.locator('#typeahead-menu [role="menuitem"]').first.click()
    await page.keyboard.type(f" {command}")
    await page.get_by_role("button", name="Post", exact=True).click()


async def fill_intake(form: Locator, page: Page) -> None:
    """A fictitious family, entered the way a coordinator would: by the inputs' labels."""
    year = date.today().year
    # The area is a choice from the bank's municipalities and districts, never typed.
    await form.get_by_role("combobox", name=t(UI, "field.area")).click()
    await page.get_by_role("option", name="Tuusula", exact=True).click()
    await form.get_by_role("combobox", name=t(UI, "field.language")).click()
    await page.get_by_role("option", name=t(UI, "language.fi"), exact=True).click()
    await form.get_by_label(t(UI, "field.children")).fill(f"{year - 9}, {year - 5}")
    await form.get_by_role("checkbox", name=t(UI, "topic.custody")).check()
    await form.get_by_role("checkbox", name=t(UI, "topic.contact")).check()
    await form.get_by_role("combobox", name=t(UI, "field.referral_source")).click()
    referral = t(UI, "referral.child_welfare_supervisor")
    await page.get_by_role("option", name=referral, exact=True).click()
    # Each parent has a Name, a Phone and an E-mail: parent 1's first, then parent 2's.
    names = form.get_by_label(t(UI, "intake.name"))
    await names.nth(0).fill("Testi Esimerkki")
    await form.get_by_label(t(UI, "intake.phone")).nth(0).fill("040 555 0901")
    await names.nth(1).fill("Toinen Esimerkki")
    await form.get_by_label(t(UI, "intake.email")).nth(1).fill("toinen.esimerkki@example.org")


def executes(node: Any) -> Iterator[dict[str, Any]]:
    """Every Action.Execute in a card (or a message's attachments), nested ones included."""
    if isinstance(node, dict):
        if node.get("type") == "Action.Execute":
            yield node
        for value in node.values():
            yield from executes(value)
    elif isinstance(node, list):
        for item in node:
            yield from executes(item)


async def claim_as(
    playground: Playground, user_id: str, post: dict[str, Any], case_id: int
) -> dict[str, Any]:
    """Click Claim on the channel card as another user, through the playground's API."""
    body = {
        "name": "adaptiveCard/action",
        "conversation": {"id": post["postConversationId"]},
        "from": {"id": user_id},
        "replyToId": post["messageId"],
        "value": {
            "action": {
                "type": "Action.Execute",
                "verb": verbs.CASE_CLAIM,
                "data": {"case_id": case_id},
            }
        },
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{playground.url}/_conversation/v1/invoke", json=body) as response,
    ):
        answer = await response.json(content_type=None)
        assert response.status == 200, answer
    assert isinstance(answer, dict), answer
    return answer


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
            shot = Shots(page)
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
    answer = await claim_as(playground, SECOND.playground_id, post, claims[0]["data"]["case_id"])
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
