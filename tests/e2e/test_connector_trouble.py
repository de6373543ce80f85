"""A Bot Connector that throttles, fails and times out: no channel card stays stale after.

While Teams answers 429, 503, 502 or nothing at all, mediators go on claiming and
releasing; the clicks are answered, the channel cards wait. Once Teams recovers, every
card shows the case as the database has it, in place (no second thread), and no card
update ends failed or uncertain.
"""

from __future__ import annotations

import asyncio

import pytest

from mediation.outbox import MessageKind, OutboxStatus
from tests.e2e.conftest import CHANNEL, Bank, Posted
from tests.e2e.test_channel_card import rendered_from_database

RECOVERY_SECONDS = 60.0


async def stale_cards(bank: Bank, cases: list[Posted]) -> list[str]:
    return [
        case.code
        for case in cases
        if bank.channel_card(case) != await rendered_from_database(bank, case)
    ]


async def recovered(bank: Bank, cases: list[Posted]) -> None:
    """Wait (a bounded time) for every card to be current; the sender's clock moves on."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RECOVERY_SECONDS
    while stale := await stale_cards(bank, cases):
        assert loop.time() < deadline, f"cards still stale: {stale}"
        bank.clock.advance(seconds=30)  # the retries' back-off is on the app's clock
        bank.sopu.jobs.sender.wake()
        await asyncio.sleep(0.2)
    await bank.sopu.jobs.sender.settled()


async def no_update_gave_up(bank: Bank) -> None:
    updates = [
        m
        for m in await bank.sopu.jobs.services.outbox.all()
        if m.key.kind is MessageKind.CARD_UPDATE
    ]
    assert updates and {m.status for m in updates} == {OutboxStatus.SENT}, [
        (m.status, m.error) for m in updates
    ]


def threads(bank: Bank) -> int:
    return sum(1 for s in bank.connector.of_kind("create") if s.conversation_id.startswith(CHANNEL))


async def test_throttling_and_server_errors_leave_no_card_stale(bank: Bank) -> None:
    cases = [await bank.new_case() for _ in range(3)]
    bank.teams.settle = None  # clicks are answered at once, whatever Teams does meanwhile
    bank.connector.retry_after = 0.05
    bank.connector.fail_updates.extend([429, 503, 429, 502, 503, 429, 504, 503] * 3)
    for key in ("olli", "outi", "sven"):
        for case in cases:
            await bank.claim(key, case)
    await bank.teams.click("olli", "case.release", {"case_id": cases[0].case_id}, cases[0].thread)

    await recovered(bank, cases)
    assert bank.connector.refused, "Teams refused updates, for this test to mean anything"
    await no_update_gave_up(bank)
    assert threads(bank) == len(cases)


@pytest.mark.slow
async def test_an_update_that_timed_out_is_made_again(bank: Bank) -> None:
    case = await bank.new_case()
    bank.teams.settle = None
    bank.connector.stall = 16.0  # longer than Sopu waits for the Bot Connector (15 s)
    await bank.claim("olli", case)
    await asyncio.sleep(1.0)  # the update is on its way, and will not be answered in time
    bank.connector.stall = 0.0

    await recovered(bank, [case])
    assert "Olli Kokenut" in str(bank.channel_card(case))
    await no_update_gave_up(bank)
    assert threads(bank) == 1
