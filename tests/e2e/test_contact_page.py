"""The families' contact form over HTTP: languages, problems, the urgent path, abuse and load."""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
import pytest

from bot.bootstrap import SOPU
from bot.contact_page import CSP
from cards.i18n import t
from mediation.outbox import MessageKind
from mediation.requests import RequestStatus
from tests.e2e.conftest import Bank

PARENT = {
    "parent_name": "Maija Meikäläinen",
    "phone": "040 123 4567",
    "email": "maija@example.org",
    "call_times": ["morning", "afternoon"],
    "language": "fi",
    "municipality": "Kerava",
    "children": "2016, 2019",
    "topics": ["residence", "contact"],
    "other_parent_knows": "yes",
    "fear": "no",
    "consent": "yes",
}


def _pairs(answers: dict[str, Any]) -> list[tuple[str, str]]:
    pairs: list[tuple[str, str]] = []
    for name, value in answers.items():
        for one in value if isinstance(value, list) else [value]:
            pairs.append((name, one))
    return pairs


async def _nonce(http: aiohttp.ClientSession, base: str, lang: str = "en") -> str:
    async with http.get(f"{base}/contact", params={"lang": lang}) as response:
        found = re.search(r'name="nonce" value="([^"]+)"', await response.text())
    assert found
    return found.group(1)


async def _send(
    bank: Bank, answers: dict[str, Any], *, lang: str = "en", nonce: str | None = None
) -> tuple[int, str, str]:
    """Post the form as a browser would; (status, final address, page)."""
    http, base = bank.teams.http, bank.teams.base
    nonce = nonce if nonce is not None else await _nonce(http, base, lang)
    body = [("nonce", nonce), ("lang", lang), *_pairs(answers)]
    async with http.post(f"{base}/contact", data=body) as response:
        return response.status, str(response.url), await response.text()


@pytest.mark.parametrize(
    ("lang", "accept"), [("fi", "fi-FI,fi;q=0.9"), ("sv", "sv-FI,sv;q=0.9"), ("en", "en-GB")]
)
async def test_the_form_speaks_the_browsers_language_under_a_strict_policy(
    bank: Bank, lang: str, accept: str
) -> None:
    http, base = bank.teams.http, bank.teams.base
    async with http.get(f"{base}/contact", headers={"Accept-Language": accept}) as response:
        page = await response.text()
        assert response.status == 200
        assert response.headers["Content-Security-Policy"] == CSP
        assert response.headers["Cache-Control"] == "no-store"
    assert f'<html lang="{lang}">' in page
    assert t(lang, "contact.title") in page  # type: ignore[arg-type]
    assert "<script" not in page and "http://" not in page
    for municipality in bank.app[SOPU].settings.front_door.municipalities:
        assert f'<option value="{municipality}">' in page
    # Every control has a label (or sits in a fieldset with a legend).
    for ident in re.findall(r'<input type="(?:text|tel|email)" id="([^"]+)"', page):
        assert f'<label for="{ident}">' in page


async def test_a_parent_sends_the_form_and_the_coordinators_are_told(bank: Bank) -> None:
    status, url, page = await _send(bank, PARENT)
    assert status == 200 and url.endswith("/contact/thanks?lang=en")
    assert t("en", "contact.thanks.title") in page
    # Nothing of what was sent is shown back.
    assert "Maija" not in page and "040 123" not in page
    (stored,) = await bank.app[SOPU].requests.queue()
    assert stored.form.parent_name == "Maija Meikäläinen"
    assert stored.form.child_birth_years == (2016, 2019)
    assert stored.form.call_times == ("morning", "afternoon")
    assert stored.status is RequestStatus.NEW and not stored.form.urgent
    queued = await bank.app[SOPU].jobs.services.outbox.all()
    assert [(m.key.kind, m.key.recipient) for m in queued] == [
        (MessageKind.CONTACT_REQUEST, bank.teams.person("coord").aad)
    ]
    assert queued[0].payload == {"request_id": stored.id, "urgent": False}


async def test_the_same_form_sent_twice_is_one_request(bank: Bank) -> None:
    nonce = await _nonce(bank.teams.http, bank.teams.base)
    for _ in range(2):
        status, url, _page = await _send(bank, PARENT, nonce=nonce)
        assert status == 200 and "/contact/thanks" in url
    assert len(await bank.app[SOPU].requests.queue()) == 1


async def test_problems_are_listed_and_linked_to_their_fields(bank: Bank) -> None:
    answers = {**PARENT, "phone": "", "email": "", "children": "1990", "topics": []}
    del answers["consent"]
    status, _url, page = await _send(bank, answers, lang="sv")
    assert status == 400
    assert 'role="alert"' in page and t("sv", "contact.errors_title") in page
    for anchor, field in (("phone", "phone"), ("children", "children")):
        assert f'<a href="#{anchor}">' in page
        assert f'id="{field}-error"' in page
        assert re.search(rf'id="{field}"[^>]*aria-invalid="true"', page)
    assert '<a href="#topics-custody">' in page and '<a href="#consent-yes">' in page
    assert t("sv", "contact.problem.reach") in page
    assert await bank.app[SOPU].requests.queue() == []


async def test_violence_or_fear_marks_the_request_urgent_and_shows_help(bank: Bank) -> None:
    http, base = bank.teams.http, bank.teams.base
    async with http.get(f"{base}/contact", params={"lang": "fi"}) as response:
        page = await response.text()
    # The help is on the form already, shown by CSS once "yes" is chosen.
    assert "#fear-yes:checked~.help-now{display:block}" in page
    assert t("fi", "contact.help.2") in page
    status, url, thanks = await _send(bank, {**PARENT, "fear": "yes"}, lang="fi")
    assert status == 200 and "urgent" not in url and "fear" not in url
    assert t("fi", "contact.help.1") in thanks
    (stored,) = await bank.app[SOPU].requests.queue()
    assert stored.form.urgent
    queued = await bank.app[SOPU].jobs.services.outbox.all()
    assert queued[0].payload["urgent"] is True


async def test_the_honeypot_is_answered_as_sent_and_stores_nothing(bank: Bank) -> None:
    status, url, _page = await _send(bank, {**PARENT, "website": "http://spam.example"})
    assert status == 200 and "/contact/thanks" in url
    assert await bank.app[SOPU].requests.queue() == []


async def test_a_stale_or_forged_nonce_stores_nothing(bank: Bank) -> None:
    status, _url, page = await _send(bank, PARENT, nonce="1.2.3")
    assert status == 400 and t("en", "contact.stale") in page
    assert await bank.app[SOPU].requests.queue() == []


async def test_a_burst_from_one_address_does_not_fill_the_database(bank: Bank) -> None:
    limit = bank.app[SOPU].settings.front_door.per_address_per_hour
    statuses = []
    for n in range(limit + 10):
        answers = {**PARENT, "parent_name": f"Parent {n}"}
        statuses.append((await _send(bank, answers))[0])
    # Each send needs a GET for its nonce, which is free; the posts are what is counted.
    assert statuses[:limit] == [200] * limit
    assert set(statuses[limit:]) == {429}
    assert len(await bank.app[SOPU].requests.queue()) == limit


async def test_big_and_malformed_bodies_are_refused(bank: Bank) -> None:
    http, base = bank.teams.http, bank.teams.base
    big = "x=" + "a" * 20_000
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    async with http.post(f"{base}/contact", data=big, headers=headers) as response:
        assert response.status == 413
    async with http.post(f"{base}/contact", json={"parent_name": "x"}) as response:
        assert response.status == 400
    twice = "language=fi&language=sv"
    async with http.post(f"{base}/contact", data=twice, headers=headers) as response:
        assert response.status == 400
    assert await bank.app[SOPU].requests.queue() == []


async def test_nothing_a_parent_writes_reaches_the_log(
    bank: Bank, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await _send(bank, {**PARENT, "fear": "yes"})
    await _send(bank, {**PARENT, "phone": "not a phone", "children": "abc"})
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for written in ("Maija", "040 123", "maija@example.org", "not a phone", "Kerava", "2016"):
        assert written not in logged
