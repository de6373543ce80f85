"""Races over real HTTP: many people clicking the same seat at the same instant.

Every test here runs on SQLite and, where a server is reachable, on PostgreSQL (the
``engine`` fixture of tests/conftest.py; those runs carry ``pytest.mark.postgres``).
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from cards.i18n import Lang, t
from mediation.journal import CaseEventKind
from tests.e2e.conftest import LOCALES, Bank, Posted, answer_card, words

LANGS: tuple[Lang, ...] = ("fi", "sv", "en")
# The storage tests race seats on both databases; over HTTP, the last seat is enough there.
SQLITE_ONLY = pytest.mark.parametrize("backend", ["sqlite"], indirect=True)


@pytest.fixture
def e2e_database_url(engine: AsyncEngine) -> str:
    """A migrated, empty database on each backend (PostgreSQL's is made once a session)."""
    return engine.url.render_as_string(hide_password=False)


async def click_at_once(
    bank: Bank, case: Posted, clickers: list[tuple[str, Lang]]
) -> list[dict[str, Any]]:
    """Everyone clicks Claim on the channel card at the same moment; their answer cards."""
    activities = [
        bank.teams.click_activity(
            key, "case.claim", {"case_id": case.case_id}, thread=case.thread, locale=LOCALES[lang]
        )
        for key, lang in clickers
    ]
    answers = await asyncio.gather(*(bank.teams.post(a) for a in activities))
    return [answer_card(status, body) for status, body in answers]


# The e2e bank's own language: every answer in its channel is in it.
BANK: Lang = "en"


def seat_is_gone(card: dict[str, Any], lang: Lang, code: str) -> bool:
    text = words(card)
    return any(
        sentence in text
        for sentence in (
            t(lang, "error.no_free_seat", code=code),
            t(lang, "error.seat_taken.anonymous", seat=2),
        )
    )


async def test_twenty_people_claim_the_last_seat_at_once(bank: Bank) -> None:
    case = await bank.new_case()
    await bank.claim("olli", case)
    people = await bank.add_mediators(20)
    clickers = [(p.key, LANGS[i % 3]) for i, p in enumerate(people)]

    cards = await click_at_once(bank, case, clickers)

    holders = await bank.holders(case)
    assert holders[1] == "Olli Kokenut"
    winners = [
        (key, lang)
        for (key, lang), card in zip(clickers, cards, strict=True)
        if t(BANK, "notice.claimed", seat=2, code=case.code) in words(card)
    ]
    assert len(winners) == 1, winners
    winner = bank.teams.person(winners[0][0])
    assert holders[2] == winner.name
    for (key, lang), card in zip(clickers, cards, strict=True):
        if key != winner.key:
            assert card["lang"] == BANK  # answered with the channel's card, whoever clicked
            assert seat_is_gone(card, BANK, case.code), (key, lang, words(card))
            assert winner.name in words(card)  # the refreshed card shows who got it

    claims = [e for e in await bank.events(case) if e.kind is CaseEventKind.CLAIMED]
    assert len(claims) == 2
    assert await bank.status(case) == "paired"
    channel = await bank.connector.wait_for(
        lambda s: s.kind == "update" and winner.name in s.text and s.conversation_id == case.thread
    )
    assert channel.card is not None


@SQLITE_ONLY
async def test_a_new_case_fills_with_exactly_two_of_many(bank: Bank) -> None:
    case = await bank.new_case()
    people = await bank.add_mediators(8)
    clickers = [(p.key, LANGS[i % 3]) for i, p in enumerate(people)]

    cards = await click_at_once(bank, case, clickers)

    holders = await bank.holders(case)
    names = {p.name for p in people}
    assert holders[1] in names and holders[2] in names and holders[1] != holders[2]
    won = [
        card
        for card in cards
        if any(t(BANK, "notice.claimed", seat=n, code=case.code) in words(card) for n in (1, 2))
    ]
    assert len(won) == 2
    claims = [e for e in await bank.events(case) if e.kind is CaseEventKind.CLAIMED]
    assert len(claims) == 2


@SQLITE_ONLY
async def test_a_double_click_takes_one_seat(bank: Bank) -> None:
    case = await bank.new_case()
    cards = await click_at_once(bank, case, [("olli", "fi")] * 5)
    assert await bank.holders(case) == {1: "Olli Kokenut", 2: None}
    claimed = [c for c in cards if t(BANK, "notice.claimed", seat=1, code=case.code) in words(c)]
    holding = t(BANK, "notice.already_holding", seat=1, code=case.code)
    assert len(claimed) == 1
    assert all(c in claimed or holding in words(c) for c in cards)
