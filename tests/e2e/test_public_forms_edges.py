"""The families' forms at their edges, over real HTTP: bodies in pieces, limits, proxies.

A browser on a slow phone line sends a form in several pieces; a client may send a chunked
body with no length; a proxy may stand in front. Each case is driven through a raw socket
or aiohttp's client against the real app, and read back from the bank.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.bootstrap import SOPU
from cards.i18n import t
from tests.clock import FixedClock
from tests.e2e.conftest import Bank, running
from tests.e2e.forms_support import (
    chunked,
    contact_body,
    form_head,
    post_contact,
    raw_request,
    status_of,
)
from tests.e2e.test_contact_page import PARENT
from tests.fakes.connector import FakeConnector

HELP = "contact.help.1"  # the emergency number: on every refusal page


# -- bodies in pieces -----------------------------------------------------------------------


async def test_a_contact_form_sent_in_two_pieces_is_read_whole(bank: Bank) -> None:
    body = await contact_body(bank, PARENT)
    # Split before the nonce's end as well as well after it: both are one form.
    for cut in (20, 200):
        answer = await raw_request(
            bank.teams.base,
            form_head("/contact?lang=sv", len(body)),
            body[:cut],
            body[cut:],
        )
        assert status_of(answer) == 303, answer[:400]
        assert b"/contact/thanks?lang=sv" in answer
    (stored,) = await bank.app[SOPU].requests.queue()
    assert stored.form.parent_name == PARENT["parent_name"]
    assert stored.form.page_lang == "sv"


async def test_a_chunked_body_over_the_limit_is_refused_in_the_forms_language(bank: Bank) -> None:
    body = await contact_body(bank, PARENT)
    answer = await raw_request(
        bank.teams.base,
        form_head("/contact?lang=sv", None),
        *chunked(body[:100], b"&x=" + b"a" * 100_000),
    )
    assert status_of(answer) == 413
    page = answer.decode("utf-8")
    assert t("sv", "contact.too_large.title") in page and t("sv", HELP) in page
    assert await bank.app[SOPU].requests.queue() == []


async def test_a_chunked_form_in_small_pieces_is_stored(bank: Bank) -> None:
    body = await contact_body(bank, PARENT, lang="en")
    pieces = [body[i : i + 50] for i in range(0, len(body), 50)]
    answer = await raw_request(
        bank.teams.base, form_head("/contact?lang=en", None), *chunked(*pieces), pause=0.02
    )
    assert status_of(answer) == 303
    assert len(await bank.app[SOPU].requests.queue()) == 1


# -- the per-address limit and the refusal pages --------------------------------------------


async def test_posts_with_mistakes_do_not_count_toward_the_address_limit(bank: Bank) -> None:
    limit = bank.app[SOPU].settings.front_door.per_address_per_hour
    for _ in range(limit + 3):
        status, page = await post_contact(bank, {**PARENT, "parent_name": ""})
        assert status == 400
        assert t("sv", HELP) in page
    for n in range(limit):
        status, _page = await post_contact(bank, {**PARENT, "parent_name": f"Förälder {n}"})
        assert status == 303
    status, page = await post_contact(bank, {**PARENT, "parent_name": "Sjätte Föräldern"})
    assert status == 429
    # In Swedish, with the help and the form as typed, nothing kept.
    assert '<html lang="sv">' in page
    assert t("sv", "contact.too_many.title") in page and t("sv", "contact.too_many.text") in page
    assert t("sv", HELP) in page
    assert 'value="Sjätte Föräldern"' in page and 'name="nonce"' in page
    assert len(await bank.app[SOPU].requests.queue()) == limit


@pytest.fixture
async def one_an_hour(
    connector: FakeConnector, clock: FixedClock, e2e_settings: Any
) -> AsyncIterator[Bank]:
    front_door = dataclasses.replace(e2e_settings.front_door, per_hour=1)
    settings = dataclasses.replace(e2e_settings, front_door=front_door)
    async with running(settings, connector, clock) as started:
        yield started


async def test_the_hourly_cap_keeps_what_was_typed_and_shows_the_help(one_an_hour: Bank) -> None:
    assert (await post_contact(one_an_hour, PARENT, "en"))[0] == 303
    status, page = await post_contact(
        one_an_hour, {**PARENT, "parent_name": "Toinen Vanhempi"}, "fi"
    )
    assert status == 503
    assert '<html lang="fi">' in page and t("fi", "contact.busy.text") in page
    assert t("fi", HELP) in page and 'value="Toinen Vanhempi"' in page
    assert page.count("<title>") == 1 and "<title>Virhe: " in page


async def test_every_refusal_speaks_the_forms_language_and_shows_the_help(bank: Bank) -> None:
    http, base = bank.teams.http, bank.teams.base
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept-Language": "fi"}
    async with http.post(f"{base}/contact?lang=sv", data="a=" + "b" * 9000, headers=headers) as r:
        assert r.status == 413
        page = await r.text()
        assert t("sv", "contact.too_large.title") in page and t("sv", HELP) in page
    async with http.post(f"{base}/contact?lang=en", data=b"\xff\xfe", headers=headers) as r:
        assert r.status == 400
        page = await r.text()
        assert t("en", "contact.bad_request.title") in page and t("en", HELP) in page
        assert "<title>Error: " in page
    # The honeypot: answered as sent, no form and nothing of it shown back.
    status, page = await post_contact(bank, {**PARENT, "website": "http://spam.example"})
    assert status == 303 and "Maija" not in page


async def test_problems_are_listed_in_the_forms_order_under_an_error_title(bank: Bank) -> None:
    answers = {**PARENT, "phone": "", "email": "", "fear": ""}
    status, page = await post_contact(bank, answers, "en")
    assert status == 400
    assert page.index('href="#phone"') < page.index('href="#fear-yes"')
    assert f"<title>Error: {t('en', 'contact.title')}</title>" in page
    assert t("en", HELP) in page


async def test_the_swedish_form_names_the_municipalities_in_swedish(bank: Bank) -> None:
    async with bank.teams.http.get(f"{bank.teams.base}/contact?lang=sv") as response:
        page = await response.text()
    assert '<option value="Kerava">Kervo</option>' in page
    assert '<option value="Hyvinkää">Hyvinge</option>' in page
    assert 'action="/contact?lang=sv"' in page
    status, _page = await post_contact(bank, {**PARENT, "municipality": "Kerava"})
    assert status == 303
    (stored,) = await bank.app[SOPU].requests.queue()
    assert stored.form.municipality == "Kerava"


async def test_the_thanks_page_makes_no_promise_it_cannot_keep(bank: Bank) -> None:
    for fear in ("yes", "no"):
        status, _page = await post_contact(bank, {**PARENT, "fear": fear}, "en")
        assert status == 303
    async with bank.teams.http.get(f"{bank.teams.base}/contact/thanks?lang=en") as response:
        page = await response.text()
    assert "handle your request first" not in page
    assert t("en", "contact.help.3") in page


async def test_a_child_born_18_years_back_is_taken_by_the_form(bank: Bank) -> None:
    year = bank.sopu.settings.policy.local_date(bank.clock.now()).year
    status, _page = await post_contact(bank, {**PARENT, "children": str(year - 18)}, "en")
    assert status == 303


# -- behind a proxy -------------------------------------------------------------------------


async def _burst(bank: Bank, forwarded_for: str) -> list[int]:
    limit = bank.app[SOPU].settings.front_door.per_address_per_hour
    headers = {"X-Forwarded-For": forwarded_for}
    answers = [{**PARENT, "parent_name": f"P {n}"} for n in range(limit + 1)]
    return [(await post_contact(bank, a, "en", **headers))[0] for a in answers]


async def test_without_a_trusted_proxy_the_forwarded_address_is_ignored(bank: Bank) -> None:
    first = await _burst(bank, "203.0.113.1")
    assert first[-1] == 429
    # Another claimed address changes nothing: the peer's address is what counts.
    assert (await _burst(bank, "203.0.113.2"))[0] == 429


@pytest.fixture
async def behind_a_proxy(
    connector: FakeConnector, clock: FixedClock, e2e_settings: Any
) -> AsyncIterator[Bank]:
    settings = dataclasses.replace(e2e_settings, trusted_proxy_hops=1)
    async with running(settings, connector, clock) as started:
        yield started


async def test_behind_a_trusted_proxy_each_family_has_its_own_limit(behind_a_proxy: Bank) -> None:
    bank = behind_a_proxy
    limit = bank.app[SOPU].settings.front_door.per_address_per_hour
    first = await _burst(bank, "198.51.100.7, 203.0.113.1")
    assert first == [303] * limit + [429]
    # What the client wrote further left is not trusted; the proxy's entry is.
    assert (await _burst(bank, "203.0.113.1"))[0] == 429
    assert (await _burst(bank, "198.51.100.7, 203.0.113.2"))[:limit] == [303] * limit
