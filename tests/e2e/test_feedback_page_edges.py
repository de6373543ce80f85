"""The parents' feedback form over real HTTP: a body in pieces, one too long, an error title."""

from __future__ import annotations

import re
from urllib.parse import urlencode

from sqlalchemy import select

from cards.i18n import t
from storage.models_feedback import ClientAnswerRow
from tests.e2e.conftest import Bank
from tests.e2e.forms_support import chunked, feedback_token, form_head, raw_request, status_of


async def _nonce(bank: Bank, token: str) -> str:
    url = f"{bank.teams.base}/feedback/{token}"
    async with bank.teams.http.get(url, params={"lang": "en"}) as response:
        found = re.search(r'name="nonce" value="([^"]+)"', await response.text())
    assert found
    return found.group(1)


async def test_a_long_feedback_answer_in_two_pieces_is_stored_whole(bank: Bank) -> None:
    token = await feedback_token(bank)
    base = bank.teams.base
    good = ("Kuuntelitte molempia vanhempia rauhallisesti. " * 34).strip()  # ~1,500 characters
    nonce = await _nonce(bank, token)
    fields = {"nonce": nonce, "lang": "en", "settled": "partly", "good": good}
    body = urlencode(fields).encode("ascii")
    answer = await raw_request(
        base, form_head(f"/feedback/{token}?lang=en", len(body)), body[:700], body[700:]
    )
    assert status_of(answer) == 303
    async with bank.sopu.sessions() as session:
        (stored,) = (await session.scalars(select(ClientAnswerRow))).all()
    assert stored.good == good and stored.settled == "partly"


async def test_a_chunked_feedback_body_over_the_limit_is_refused(bank: Bank) -> None:
    token = await feedback_token(bank)
    answer = await raw_request(
        bank.teams.base,
        form_head(f"/feedback/{token}?lang=sv", None),
        *chunked(b"lang=sv&good=", b"a" * 40_000),
    )
    assert status_of(answer) == 413
    assert t("sv", "fbpage.too_large.title") in answer.decode("utf-8")
    async with bank.sopu.sessions() as session:
        assert (await session.scalars(select(ClientAnswerRow))).all() == []


async def test_a_form_with_problems_says_error_first_in_its_title(bank: Bank) -> None:
    token = await feedback_token(bank)
    body = {"nonce": await _nonce(bank, token), "lang": "sv", "settled": "x", "good": "g" * 2001}
    async with bank.teams.http.post(
        f"{bank.teams.base}/feedback/{token}?lang=sv", data=body, allow_redirects=False
    ) as response:
        assert response.status == 400
        page = await response.text()
    assert f"<title>Fel: {t('sv', 'fbpage.title')}</title>" in page
    assert page.index('href="#settled"') < page.index('href="#good"')
    assert f'action="/feedback/{token}?lang=sv"' in page
