"""The sender's pacing on a fake clock: an even cadence, and pauses after refusals."""

from __future__ import annotations

import asyncio

from bot.sender import Pacer
from bot.settings import SendLimits

TEAMS = SendLimits()


class LateClock:
    """Time that moves only when someone sleeps, and wakes them a little late each time."""

    def __init__(self, late: float = 0.002) -> None:
        self.t = 100.0
        self.late = late
        self.slept: list[float] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += seconds + self.late


async def _grants(pacer: Pacer, count: int) -> list[float]:
    moments = []
    for n in range(count):
        conversation = f"chat-{n}"  # one message to each person, as a term-start fan-out
        await pacer.acquire(conversation)
        moments.append(pacer._now())
        pacer.done(conversation)
    return moments


async def test_a_late_wake_up_does_not_slow_the_cadence_down() -> None:
    clock = LateClock(late=0.002)
    pacer = Pacer(TEAMS, clock.now, clock.sleep)
    moments = await _grants(pacer, 601)

    rate = 600 / (moments[-1] - moments[0])
    # The pacer's own ceiling is 30 per 1.06 s (5% and 10 ms kept for the way to Teams);
    # waking 2 ms late on each 35 ms turn used to cost 5% of it, every turn.
    ceiling = 30 / (1.0 * 1.05 + 0.01)
    assert rate > 0.99 * ceiling, rate
    # ... and the tenant's window is never passed: any 31 grants span more than a second.
    assert min(b - a for a, b in zip(moments, moments[30:], strict=False)) >= 1.0


async def test_a_lone_refusal_pauses_the_tenant_briefly_and_refusals_in_a_row_fully() -> None:
    clock = LateClock(late=0.0)
    pacer = Pacer(TEAMS, clock.now, clock.sleep)

    assert pacer.refused(1.0, cap=5.0) == 0.125
    assert pacer.refused(1.0, cap=5.0) == 0.25
    assert pacer.refused(1.0, cap=5.0) == 0.5
    assert pacer.refused(1.0, cap=5.0) == 1.0
    assert pacer.refused(60.0, cap=5.0) == 5.0  # never longer than the cap
    clock.t += Pacer.CALM_SECONDS + 1
    assert pacer.refused(1.0, cap=5.0) == 0.125  # calm for a while: a lone one again


async def test_nothing_is_granted_while_the_tenant_is_paused() -> None:
    clock = LateClock(late=0.0)
    pacer = Pacer(TEAMS, clock.now, clock.sleep)
    paused_at = clock.t
    pause = pacer.refused(2.0, cap=5.0)

    await pacer.acquire("chat")

    assert clock.t >= paused_at + pause == paused_at + 0.25


async def test_a_chat_at_its_limit_holds_up_no_other_conversation() -> None:
    # One message a second to a chat; the tenant's window far away.
    limits = SendLimits(per_conversation=((1, 1.0),), per_tenant=((1000, 1.0),))
    pacer = Pacer(limits)
    await pacer.acquire("coordinator")
    pacer.done("coordinator")
    second_note = asyncio.create_task(pacer.acquire("coordinator"))  # waits its second
    await asyncio.sleep(0.01)

    # A channel card's update is granted at once, while the chat's next note still waits.
    await asyncio.wait_for(pacer.acquire("channel"), timeout=0.2)
    assert not second_note.done()
    pacer.done("channel")
    await asyncio.wait_for(second_note, timeout=2.0)
    pacer.done("coordinator")


async def test_a_pause_of_one_conversation_holds_up_no_other() -> None:
    pacer = Pacer(SendLimits(per_tenant=((1000, 1.0),)))
    pacer.pause(1.0, conversation="blocked chat")
    waiting = asyncio.create_task(pacer.acquire("blocked chat"))
    await asyncio.sleep(0.01)

    await asyncio.wait_for(pacer.acquire("channel"), timeout=0.2)
    assert not waiting.done()
    pacer.done("channel")
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    # Given up while waiting, the chat's turn is free again for the next message.
    assert not pacer._conversation_lock("blocked chat").locked()


async def test_a_pause_that_comes_while_a_post_waits_for_the_tenant_is_kept() -> None:
    # The tenant allows one post in 0.3 s: the second waits for it in the tenant's turn.
    pacer = Pacer(SendLimits(per_tenant=((1, 0.3),)))
    await pacer.acquire("channel")
    pacer.done("channel")
    waiting = asyncio.create_task(pacer.acquire("chat"))
    await asyncio.sleep(0.05)
    pacer.pause(0.6, conversation="chat")  # Teams refused this chat meanwhile
    began = asyncio.get_running_loop().time()

    await asyncio.wait_for(waiting, timeout=2.0)
    assert asyncio.get_running_loop().time() - began >= 0.55
    pacer.done("chat")
