"""The families' contact form in headless Chromium on a phone-sized screen, in fi, sv and en.

Sopu runs in-process on a real port (create_app, SQLite). Screenshots go to
tests/artifacts/browser/contact-*.png. Without /usr/bin/chromium or playwright the tests are
skipped, unless SOPU_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.bootstrap import SOPU, create_app
from bot.settings import Settings
from cards.i18n import Lang, t
from mediation.requests import ContactRequest
from storage.uow import SqlUnitOfWork
from tests.browser.test_feedback_page import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    _browser_available,  # noqa: F401  (the skip-or-fail fixture, autouse)
    _free_port,
)
from tests.integration.storage_seed import add_coordinator

pytestmark = pytest.mark.browser


class Site:
    def __init__(self, base: str, app: web.Application) -> None:
        self.base = base
        self.app = app

    async def requests(self) -> list[ContactRequest]:
        return await self.app[SOPU].requests.queue()


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
        await add_coordinator(SqlUnitOfWork(app[SOPU].sessions))
        yield Site(f"http://127.0.0.1:{port}", app)
    finally:
        await runner.cleanup()


@pytest.fixture
async def page() -> AsyncIterator[Any]:
    from playwright.async_api import async_playwright

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        context = await browser.new_context(viewport={"width": 390, "height": 844})
        page = await context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        try:
            yield page
        finally:
            await browser.close()
        assert not [p for p in problems if "Content Security Policy" in p], problems


async def _shot(page: Any, name: str) -> None:
    await page.screenshot(path=str(ARTIFACTS / f"contact-{name}.png"), full_page=True)


async def _fill(p: Any, lang: Lang, *, fear: str = "no") -> None:
    """Fill the form by what a person reads: labels, legends and options."""
    await p.get_by_label(t(lang, "contact.q.parent_name")).fill("Maija Meikäläinen")
    await p.get_by_label(t(lang, "contact.q.phone")).fill("040 123 4567")
    times = p.get_by_role("group", name=t(lang, "contact.q.call_times"))
    await times.get_by_label(t(lang, "contact.call_times.afternoon")).check()
    language = p.get_by_role("group", name=t(lang, "contact.q.language"))
    await language.get_by_label(t(lang, f"contact.language.{lang}"), exact=True).check()
    await p.get_by_label(t(lang, "contact.q.municipality")).select_option("Tuusula")
    await p.get_by_label(t(lang, "contact.q.children")).fill("2016, 2019")
    topics = p.get_by_role("group", name=t(lang, "contact.q.topics"))
    await topics.get_by_label(t(lang, "contact.topic.residence")).check()
    knows = p.get_by_role("group", name=t(lang, "contact.q.other_parent_knows"))
    await knows.get_by_label(t(lang, "contact.knows.unsure")).check()
    fears = p.get_by_role("group", name=t(lang, "contact.q.fear"))
    await fears.get_by_label(t(lang, f"contact.fear.{fear}"), exact=True).check()
    await p.get_by_label(t(lang, "contact.consent.yes")).check()


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
async def test_a_parent_sends_the_form_in_each_language(site: Site, page: Any, lang: Lang) -> None:
    p = page
    await p.goto(f"{site.base}/contact?lang={lang}")
    assert await p.get_attribute("html", "lang") == lang
    assert await p.title() == t(lang, "contact.title")
    await _fill(p, lang)
    await _shot(p, f"filled-{lang}")
    await p.get_by_role("button", name=t(lang, "contact.send")).click()
    await p.wait_for_url(f"**/contact/thanks?lang={lang}")
    assert await p.locator("h1").inner_text() == t(lang, "contact.thanks.title")
    assert "Maija" not in await p.content()
    await _shot(p, f"thanks-{lang}")
    (request,) = await site.requests()
    form = request.form
    assert (form.parent_name, form.phone, form.municipality) == (
        "Maija Meikäläinen",
        "040 123 4567",
        "Tuusula",
    )
    assert (form.call_times, form.topics, form.language) == (("afternoon",), ("residence",), lang)
    assert form.other_parent_knows == "unsure" and not form.urgent and form.page_lang == lang


async def test_problems_are_summarised_and_each_link_leads_to_its_field(
    site: Site, page: Any
) -> None:
    p = page
    await p.goto(f"{site.base}/contact?lang=fi")
    await p.get_by_label(t("fi", "contact.q.children")).fill("1990")
    await p.get_by_role("button", name=t("fi", "contact.send")).click()
    await p.wait_for_load_state()
    summary = p.locator("#problems")
    assert await summary.is_visible()
    assert await summary.get_attribute("role") == "alert"
    await _shot(p, "problems-fi")
    await summary.get_by_role("link", name=t("fi", "contact.q.children"), exact=False).click()
    assert await p.evaluate("document.activeElement.id") == "children"
    children = p.get_by_label(t("fi", "contact.q.children"))
    assert await children.get_attribute("aria-invalid") == "true"
    assert await children.input_value() == "1990"  # what was typed is kept to be corrected
    assert t("fi", "contact.problem.children") in await p.locator("#children-error").inner_text()
    assert await site.requests() == []
    # Corrected, the same page sends.
    await _fill(p, "fi")
    await p.get_by_role("button", name=t("fi", "contact.send")).click()
    await p.wait_for_url("**/contact/thanks?lang=fi")
    assert len(await site.requests()) == 1


async def test_answering_yes_to_violence_shows_help_at_once_and_marks_it_urgent(
    site: Site, page: Any
) -> None:
    p = page
    await p.goto(f"{site.base}/contact?lang=sv")
    help_now = p.locator("#help-now")
    assert not await help_now.is_visible()
    fears = p.get_by_role("group", name=t("sv", "contact.q.fear"))
    await fears.get_by_label(t("sv", "contact.fear.yes"), exact=True).check()
    assert await help_now.is_visible()  # no script: the style sheet shows it
    assert t("sv", "contact.help.2") in await help_now.inner_text()
    await _shot(p, "help-now-sv")
    await fears.get_by_label(t("sv", "contact.fear.no"), exact=True).check()
    assert not await help_now.is_visible()
    await _fill(p, "sv", fear="yes")
    await p.get_by_role("button", name=t("sv", "contact.send")).click()
    await p.wait_for_url("**/contact/thanks?lang=sv")
    assert t("sv", "contact.help.1") in await p.content()
    (request,) = await site.requests()
    assert request.form.urgent


async def test_the_honeypot_is_out_of_sight_and_out_of_the_tab_order(site: Site, page: Any) -> None:
    p = page
    await p.goto(f"{site.base}/contact?lang=en")
    trap = p.locator("#website")
    box = await trap.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 0
    assert await trap.get_attribute("tabindex") == "-1"
    await p.get_by_label(t("en", "contact.consent.yes")).focus()
    await p.keyboard.press("Tab")
    assert await p.evaluate("document.activeElement.tagName") == "BUTTON"


@pytest.mark.parametrize("lang", ["fi", "sv", "en"])
async def test_the_information_page_reads_on_a_phone(site: Site, page: Any, lang: Lang) -> None:
    """The page the parents' first e-mail links to: headings in order, no CSP trouble."""
    response = await page.goto(f"{site.base}/info?lang={lang}")
    assert response.status == 200
    assert await page.locator("html").get_attribute("lang") == lang
    assert await page.locator("h1").inner_text() == t(lang, "info.title")
    headings = await page.locator("h2").all_inner_texts()
    assert headings == [
        t(lang, f"info.{s}.title") for s in ("what", "meetings", "prepare", "after")
    ]
    # Nothing wider than the screen, and the quick exit is there as on the contact form.
    width = await page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    assert await page.locator("a.exit").inner_text() == t(lang, "contact.exit")
    await _shot(page, f"info-{lang}")


async def test_a_swedish_form_sent_back_with_a_mistake_stays_swedish_with_help_in_view(
    site: Site, page: Any
) -> None:
    p = page
    await p.goto(f"{site.base}/contact?lang=sv")
    # The municipalities read in Swedish; the value sent is the Finnish name.
    await _fill(p, "sv")
    await p.get_by_label(t("sv", "contact.q.municipality")).select_option(label="Tusby")
    await p.get_by_label(t("sv", "contact.q.parent_name")).fill("\u200b\u200b")
    await p.get_by_role("button", name=t("sv", "contact.send")).click()
    await p.wait_for_load_state()
    assert await p.get_attribute("html", "lang") == "sv"
    assert await p.title() == t("sv", "contact.error_title", title=t("sv", "contact.title"))
    notes = p.get_by_role("note")
    assert await notes.first.is_visible()
    assert t("sv", "contact.help.1") in await notes.first.inner_text()
    await _shot(p, "mistake-sv")
    assert await p.get_by_label(t("sv", "contact.q.phone")).input_value() == "040 123 4567"
    await p.get_by_label(t("sv", "contact.q.parent_name")).fill("Maja Mattsson")
    await p.get_by_role("button", name=t("sv", "contact.send")).click()
    await p.wait_for_url("**/contact/thanks?lang=sv")
    (request,) = await site.requests()
    assert request.form.municipality == "Tuusula" and request.form.page_lang == "sv"
