"""The turn gate: a few turns at once, first come first served, and no place held for ever."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest

from bot.turns import TurnGate

LONG = 60.0  # patience that never runs out within a test
SHORT = 0.05  # patience that runs out while a test waits for it
AT_MOST = 0.3  # the longest a test waits for a patience to run out


async def settle() -> None:
    """Let every task that can go on do so (a few rounds of the loop; no time passes)."""
    for _ in range(10):
        await asyncio.sleep(0)


class Visitor:
    """One turn that goes in, says so, and stays inside until it is let go."""

    def __init__(
        self, gate: TurnGate, name: str, inside: list[str], entries: list[str] | None = None
    ) -> None:
        self.gate = gate
        self.name = name
        self.inside = inside  # the names of the turns inside now, shared by all visitors
        self.entries = [] if entries is None else entries  # the names in the order they went in
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.fail = False
        self.task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        async with self.gate.turn():
            self.inside.append(self.name)
            self.entries.append(self.name)
            self.entered.set()
            try:
                await self.release.wait()
                if self.fail:
                    raise RuntimeError(f"{self.name} failed")
            finally:
                self.inside.remove(self.name)

    async def leave(self) -> None:
        self.release.set()
        await self.task

    async def cancel(self) -> None:
        """Cancel the turn, inside or waiting, and see it end cancelled."""
        self.task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await self.task


async def arrive(
    gate: TurnGate, names: Iterable[str], inside: list[str], entries: list[str] | None = None
) -> list[Visitor]:
    """Visitors that arrive one after another, in the order of ``names``."""
    visitors = []
    for name in names:
        visitors.append(Visitor(gate, name, inside, entries))
        await settle()  # this one is inside or waiting before the next one comes
    return visitors


async def assert_places(gate: TurnGate, at_once: int) -> None:
    """Exactly ``at_once`` turns can be inside together now: one more has to wait."""
    inside: list[str] = []
    visitors = await arrive(gate, [f"check {n}" for n in range(at_once + 1)], inside)
    assert len(inside) == at_once
    assert gate.waiting == 1
    assert not visitors[-1].entered.is_set()
    for visitor in visitors:
        await visitor.leave()
    assert inside == []
    assert gate.waiting == 0


async def test_no_more_than_at_once_turns_are_inside_together() -> None:
    gate = TurnGate(at_once=2, patience=LONG)
    inside: list[str] = []
    most = 0

    async def work(release: asyncio.Event) -> None:
        nonlocal most
        async with gate.turn():
            inside.append("one")
            most = max(most, len(inside))
            await release.wait()
            await asyncio.sleep(0)
            inside.pop()

    releases = [asyncio.Event() for _ in range(6)]
    tasks = [asyncio.create_task(work(release)) for release in releases]
    await settle()
    assert len(inside) == 2
    assert gate.waiting == 4

    for n, release in enumerate(releases):
        release.set()
        await settle()
        assert len(inside) == min(2, 5 - n)
        assert gate.waiting == max(0, 3 - n)

    await asyncio.gather(*tasks)
    assert most == 2
    assert inside == []
    await assert_places(gate, 2)


async def test_waiting_turns_go_in_in_the_order_they_arrived() -> None:
    gate = TurnGate(at_once=2, patience=LONG)
    inside: list[str] = []
    order: list[str] = []
    visitors = await arrive(gate, "abcdefg", inside)
    assert inside == ["a", "b"]
    assert gate.waiting == 5

    # Let them go last in first out: the waiting ones still go in as they came.
    while any(not v.task.done() for v in visitors):
        for name in inside:
            if name not in order:
                order.append(name)
        last = [v for v in visitors if v.name in inside][-1]
        await last.leave()
        await settle()

    assert order == list("abcdefg")
    assert gate.waiting == 0
    await assert_places(gate, 2)


async def test_a_newcomer_as_a_place_is_freed_does_not_overtake_the_waiting_ones() -> None:
    gate = TurnGate(at_once=1, patience=LONG)
    inside: list[str] = []
    entries: list[str] = []

    async def newcomer() -> None:
        async with gate.turn():
            entries.append("newcomer")

    async with gate.turn():
        waiters = await arrive(gate, "abc", inside, entries)
        for waiter in waiters:
            waiter.release.set()  # each leaves as soon as it is in
        # The newcomer's first step is queued before "a" is woken by the place we free: it
        # looks at the gate after the place is freed and before "a" has taken it.
        coming = asyncio.create_task(newcomer())
    assert gate.waiting == 2  # the place is handed to "a" already; "b" and "c" still wait
    await coming
    assert entries == ["a", "b", "c", "newcomer"]
    await asyncio.gather(*(waiter.task for waiter in waiters))
    await assert_places(gate, 1)


async def test_a_turn_that_leaves_and_comes_straight_back_queues_behind_the_waiting() -> None:
    gate = TurnGate(at_once=1, patience=LONG)
    inside: list[str] = []
    entries: list[str] = []

    async with gate.turn():
        waiters = await arrive(gate, "ab", inside, entries)
        for waiter in waiters:
            waiter.release.set()  # each leaves as soon as it is in
    # No await between leaving and coming back: the freed place is already "a"'s.
    async with gate.turn():
        entries.append("back")

    assert entries == ["a", "b", "back"]
    await asyncio.gather(*(waiter.task for waiter in waiters))
    await assert_places(gate, 1)


async def test_a_slow_turn_lets_the_next_one_in_after_its_patience() -> None:
    gate = TurnGate(at_once=1, patience=SHORT)
    inside: list[str] = []

    slow = Visitor(gate, "slow", inside)
    await settle()
    nxt, last = await arrive(gate, ["next", "last"], inside)
    assert inside == ["slow"]
    assert gate.waiting == 2

    await asyncio.wait_for(nxt.entered.wait(), AT_MOST)
    assert inside == ["slow", "next"]  # the slow one is still inside
    assert not slow.task.done()
    assert gate.waiting == 1

    # The slow one finally leaves: it stopped counting long ago, so it frees nothing.
    await slow.leave()
    assert gate.waiting == 1
    assert not last.entered.is_set()

    await nxt.leave()
    await settle()
    assert inside == ["last"]
    await last.leave()

    await assert_places(gate, 1)


async def test_a_slow_turn_leaving_after_its_patience_does_not_free_a_second_place() -> None:
    gate = TurnGate(at_once=1, patience=SHORT)
    inside: list[str] = []

    async with gate.turn():  # the slow turn: this test itself
        nxt, last = await arrive(gate, ["next", "last"], inside)
        await asyncio.wait_for(nxt.entered.wait(), AT_MOST)
        assert inside == ["next"]
        assert gate.waiting == 1
    # Checked before the loop goes round: no timer can have let "last" in meanwhile.
    assert gate.waiting == 1
    assert not last.entered.is_set()

    await nxt.leave()
    await asyncio.wait_for(last.entered.wait(), AT_MOST)
    await last.leave()
    await assert_places(gate, 1)


async def test_a_turn_that_leaves_before_its_patience_frees_its_place_once() -> None:
    gate = TurnGate(at_once=1, patience=SHORT)
    async with gate.turn():
        pass
    await asyncio.sleep(2 * SHORT)  # its patience timer would have run out by now
    await assert_places(gate, 1)


async def test_a_turn_that_raises_still_gives_its_place_back() -> None:
    gate = TurnGate(at_once=1, patience=LONG)
    inside: list[str] = []
    failing, waiting = await arrive(gate, ["failing", "waiting"], inside)
    assert gate.waiting == 1

    failing.fail = True
    with pytest.raises(RuntimeError, match="failing failed"):
        await failing.leave()
    await settle()
    assert inside == ["waiting"]
    assert gate.waiting == 0
    await waiting.leave()

    with pytest.raises(ValueError):
        async with gate.turn():
            raise ValueError("no one waits for this one")
    await assert_places(gate, 1)


async def test_a_cancelled_turn_inside_gives_its_place_back() -> None:
    gate = TurnGate(at_once=1, patience=LONG)
    inside: list[str] = []
    cancelled, waiting = await arrive(gate, ["cancelled", "waiting"], inside)

    await cancelled.cancel()
    await settle()
    assert inside == ["waiting"]
    await waiting.leave()
    await assert_places(gate, 1)


async def test_a_cancelled_waiting_turn_neither_takes_nor_leaks_a_place() -> None:
    gate = TurnGate(at_once=2, patience=LONG)
    inside: list[str] = []
    a, b, c, d, e = await arrive(gate, "abcde", inside)
    assert gate.waiting == 3

    await c.cancel()
    assert gate.waiting == 2
    assert inside == ["a", "b"]

    await a.leave()
    await settle()
    assert inside == ["b", "d"]  # the next waiter, not the cancelled one's ghost
    assert gate.waiting == 1

    await b.leave()
    await settle()
    assert inside == ["d", "e"]
    assert gate.waiting == 0

    await d.leave()
    await e.leave()
    assert not c.entered.is_set()
    await assert_places(gate, 2)


async def test_a_waiting_turn_cancelled_just_as_it_is_handed_a_place_passes_it_on() -> None:
    gate = TurnGate(at_once=1, patience=LONG)
    inside: list[str] = []

    async with gate.turn():
        first, second = await arrive(gate, ["first", "second"], inside)
        assert gate.waiting == 2
    # The place is now handed to "first", which has not run yet; it is cancelled before it
    # can go in, so the place must go on to "second".
    await first.cancel()
    await settle()
    assert not first.entered.is_set()
    assert inside == ["second"]
    assert gate.waiting == 0

    await second.leave()
    await assert_places(gate, 1)


async def test_the_last_waiting_turn_cancelled_leaves_the_place_free() -> None:
    gate = TurnGate(at_once=1, patience=LONG)
    inside: list[str] = []
    holder, waiter = await arrive(gate, ["holder", "waiter"], inside)
    await waiter.cancel()
    assert gate.waiting == 0
    await holder.leave()
    await assert_places(gate, 1)


@pytest.mark.parametrize("at_once", [0, -1])
def test_fewer_than_one_turn_at_once_is_refused(at_once: int) -> None:
    with pytest.raises(ValueError, match="at least one"):
        TurnGate(at_once=at_once)


def test_one_turn_at_once_is_allowed() -> None:
    assert TurnGate(at_once=1).waiting == 0
