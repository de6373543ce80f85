"""What the logs keep of the families' pages: no network address, no part of a bad request."""

from __future__ import annotations

import logging
import re

import pytest

from tests.e2e.conftest import Bank
from tests.e2e.forms_support import feedback_token, post_contact, raw_request, status_of
from tests.e2e.test_contact_page import PARENT


async def test_no_address_is_logged_with_the_families_pages(
    bank: Bank, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    assert (await post_contact(bank, PARENT, "en"))[0] == 303
    access = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    family = [line for line in access if re.search(r'"[A-Z]+ /(contact|feedback|info)', line)]
    assert any('"POST /contact?lang=en" 303' in line for line in family), access
    assert all(line.startswith('- "') for line in family), family
    others = [r.getMessage() for r in caplog.records if r.name != "aiohttp.access"]
    assert any("contact request" in line for line in others)
    assert not any("127.0.0.1" in line for line in others), others


async def test_an_over_long_request_line_or_header_logs_no_part_of_it(
    bank: Bank, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    token = await feedback_token(bank)
    canary = "CANARY-7f3a"
    base = bank.teams.base
    long_url = f"/feedback/{token}?lang=en&x={canary}{'A' * 9000}"
    answer = await raw_request(
        base, f"GET {long_url} HTTP/1.1\r\nHost: sopu.test\r\nConnection: close\r\n\r\n"
    )
    assert status_of(answer) in (400, 414, 431)
    language = f"{canary}-{'b' * 9000}"
    answer = await raw_request(
        base,
        f"GET /contact HTTP/1.1\r\nHost: sopu.test\r\nAccept-Language: {language}\r\n"
        "Connection: close\r\n\r\n",
    )
    assert status_of(answer) in (400, 431)
    server = [r for r in caplog.records if r.name.startswith("aiohttp")]
    assert any("LineTooLong" in r.getMessage() for r in server), server
    for record in caplog.records:
        text = record.getMessage()
        assert record.exc_info is None and record.exc_text is None, text
        for secret in (canary, token):
            assert secret not in text, (record.name, text)
