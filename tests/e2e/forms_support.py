"""Helpers for driving the families' forms over raw HTTP and aiohttp's client."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode, urlsplit

from mediation.feedback import client_link
from tests.e2e.conftest import Bank
from tests.e2e.test_contact_page import _nonce, _pairs


async def raw_request(base: str, head: str, *pieces: bytes, pause: float = 0.3) -> bytes:
    """Send ``head`` and then each piece of the body after a pause; the whole answer."""
    parts = urlsplit(base)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(head.encode("latin-1"))
        for piece in pieces:
            writer.write(piece)
            await writer.drain()
            await asyncio.sleep(pause)
        return await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()


def status_of(answer: bytes) -> int:
    return int(answer.split(b" ", 2)[1])


def form_head(path: str, length: int | None) -> str:
    size = "Transfer-Encoding: chunked\r\n" if length is None else f"Content-Length: {length}\r\n"
    return (
        f"POST {path} HTTP/1.1\r\nHost: sopu.test\r\nConnection: close\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\n{size}\r\n"
    )


def chunked(*pieces: bytes) -> list[bytes]:
    return [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces] + [b"0\r\n\r\n"]


async def contact_body(bank: Bank, answers: dict[str, Any], lang: str = "sv") -> bytes:
    nonce = await _nonce(bank.teams.http, bank.teams.base, lang)
    return urlencode([("nonce", nonce), ("lang", lang), *_pairs(answers)]).encode("ascii")


async def feedback_token(bank: Bank) -> str:
    case = await bank.paired()
    await bank.teams.click("coord", "case.close", {"case_id": case.case_id, "outcome": "agreement"})
    feedback = bank.sopu.deps.feedback
    assert feedback is not None
    link = await client_link(
        case.case_id,
        1,
        bank.sopu.uow(),
        feedback.store,
        bank.clock,
        bank.sopu.settings.policy,
        timedelta(days=feedback.link_days),
    )
    return link.token


async def post_contact(
    bank: Bank, answers: dict[str, Any], lang: str = "sv", **headers: str
) -> Any:
    body = await contact_body(bank, answers, lang)
    async with bank.teams.http.post(
        f"{bank.teams.base}/contact?lang={lang}",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        allow_redirects=False,
    ) as response:
        return response.status, await response.text()
