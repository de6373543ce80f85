"""What the browser tests share about the Agents Playground's UI and its HTTP API.

The selectors are the playground's (npm @microsoft/m365agentsplayground, pinned in
tests/browser/package.json); the texts are Sopu's catalogs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import aiohttp
from playwright.async_api import Locator, Page, WebSocket

from bot import demo
from bot import playground as pg
from cards.i18n import Lang, t
from mediation.model import Role

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
    """Numbered screenshots of the playground, kept in ``folder``."""

    def __init__(self, page: Page, folder: Path) -> None:
        self.page = page
        self.folder = folder
        self.taken: list[str] = []

    async def __call__(self, name: str, page: Page | None = None) -> None:
        """The playground as it is now (or ``page``, a whole other page, from top to end)."""
        path = self.folder / f"{len(self.taken) + 1:02d}-{name}.png"
        if page is None:
            await self.page.screenshot(path=str(path))
        else:
            await page.screenshot(path=str(path), full_page=True)
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

    def posts(self, text: str) -> list[dict[str, Any]]:
        """Every new message whose attachments say ``text``, wherever it was posted."""
        return [
            event
            for event in self.events
            if event.get("action") == "createMessage"
            and text
            in json.dumps((event.get("message") or {}).get("attachments"), ensure_ascii=False)
        ]

    def post_of(self, channel_id: str, text: str) -> dict[str, Any]:
        """The channel post whose card says ``text``: the thread's first message."""
        for event in self.posts(text):
            if event.get("actionConversationId") == channel_id:
                return dict(event.get("message") or {})
        raise AssertionError(f"no post in {channel_id} says {text!r}")


class ActivityLog:
    """The playground's own log of what the bot sent it (its log panel's stream): it shows
    messages to chats the UI cannot open, such as another user's personal chat."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def attach(self, websocket: WebSocket) -> None:
        if websocket.url.endswith("/_ws/log/stream"):
            websocket.on("framereceived", self._frame)

    def _frame(self, payload: str | bytes) -> None:
        try:
            event = json.loads(payload)
        except ValueError:
            return
        if isinstance(event, dict) and isinstance(event.get("log"), dict):
            self.entries.append(event["log"])

    def delivered(self, conversation_id: str) -> list[dict[str, Any]]:
        """The messages the bot posted to a conversation and the playground took (2xx)."""
        return [
            entry["request"]["body"]
            for entry in self.entries
            if entry.get("conversationId") == conversation_id
            and entry.get("activityName") == "message"
            and entry.get("from") == "User Application"
            and 200 <= int((entry.get("response") or {}).get("statusCode") or 0) < 300
        ]


async def mention_sopu(page: Page, command: str) -> None:
    """Start a new channel post '@Sopu <command>', the mention picked from the menu."""
    await page.locator(COMPOSER).first.click()
    await page.keyboard.type(f"@{pg.BOT_NAME}")
    await page.locator('#typeahead-menu [role="menuitem"]').first.click()
    await page.keyboard.type(f" {command}")
    await page.get_by_role("button", name="Post", exact=True).click()


async def say(page: Page, text: str) -> None:
    """Type a message in the open chat and send it."""
    await page.locator(COMPOSER).click()
    await page.keyboard.type(text)
    await page.locator('button[aria-label="Send Message"]').click()


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


async def click_as(
    playground_url: str, user_id: str, post: dict[str, Any], verb: str, data: dict[str, Any]
) -> dict[str, Any]:
    """Click a button of a channel post as another user, through the playground's API
    (typed messages and clicks in the UI always come from the current user)."""
    body = {
        "name": "adaptiveCard/action",
        "conversation": {"id": post["postConversationId"]},
        "from": {"id": user_id},
        "replyToId": post["messageId"],
        "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data}},
    }
    async with (
        aiohttp.ClientSession() as http,
        http.post(f"{playground_url}/_conversation/v1/invoke", json=body) as response,
    ):
        answer = await response.json(content_type=None)
        assert response.status == 200, answer
    assert isinstance(answer, dict), answer
    return answer
