"""The development mailbox page in headless Chromium: what was sent, escaped, no CSP errors.

Screenshots go to tests/artifacts/browser/dev-mailbox.png. Skipped without Chromium and
playwright, unless SOPU_REQUIRE_BROWSER=1.
"""

from __future__ import annotations

from typing import Any

import pytest

from bot.keys import DEV_MAILBOX
from mediation.family_mail import MAIL_KEY
from tests.browser.test_contact_page import Site, page, site  # noqa: F401  (fixtures)
from tests.browser.test_feedback_page import (
    ARTIFACTS,
    _browser_available,  # noqa: F401  (the skip-or-fail fixture, autouse)
)

pytestmark = pytest.mark.browser


async def test_the_mailbox_shows_each_email_as_text(site: Site, page: Any) -> None:  # noqa: F811
    mailbox = site.app[DEV_MAILBOX]
    await mailbox.send(
        "aino@example.org", "Tapaamisesi", "Hei,\n<b>ei lihavoitu</b>", f"{MAIL_KEY}1"
    )
    await mailbox.send("aino@example.org", "Ennen ensimmäistä", "Tietoa", f"{MAIL_KEY}2")
    await page.goto(f"{site.base}/dev/mailbox")
    await page.screenshot(path=str(ARTIFACTS / "dev-mailbox.png"), full_page=True)
    assert await page.get_by_role("heading", level=1).inner_text() == "Development mailbox"
    articles = page.locator("article")
    assert await articles.count() == 2
    assert "Ennen ensimmäistä" in await articles.nth(0).inner_text()  # the newest first
    body = await articles.nth(1).locator("pre").inner_text()
    assert body == "Hei,\n<b>ei lihavoitu</b>"  # shown as text, not markup
    assert await page.locator("b").count() == 0
