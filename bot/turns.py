"""How many activities Sopu works on at once: a few; the others wait their turn, in order.

Sopu runs on one event loop, and a turn is mostly work for that loop's one core. With
thirty clicks in progress together, each gets a thirtieth of the core and, at each await,
may be overtaken by clicks that came after it, so some answers come much later than
others. Working on a few at a time, first come first served, keeps the answers closer
together (bench/README.md has the measurements behind the default of two).

A turn that waits on something slow (Microsoft Graph, a personal message through the
Bot Connector, a slow disk) must not hold the line: after ``patience`` seconds it stops
counting, and the next turn goes in beside it.

How many at once is a setting (SOPU_TURNS_AT_ONCE); the README says how to pick it.
"""

from __future__ import annotations

import asyncio
from collections import deque
from types import TracebackType

TURNS_AT_ONCE = 2
PATIENCE_SECONDS = 0.1


class TurnGate:
    """At most ``at_once`` turns in progress that began less than ``patience`` s ago."""

    def __init__(self, at_once: int = TURNS_AT_ONCE, patience: float = PATIENCE_SECONDS) -> None:
        if at_once < 1:
            raise ValueError("at least one turn must be let in at once")
        self._free = at_once
        self._patience = patience
        self._waiting: deque[asyncio.Future[None]] = deque()

    @property
    def waiting(self) -> int:
        return sum(1 for f in self._waiting if not f.done())

    def turn(self) -> Turn:
        """``async with gate.turn():`` around one activity's work."""
        return Turn(self)

    async def _enter(self, turn: Turn) -> None:
        loop = asyncio.get_running_loop()
        if self._free > 0 and not self._waiting:
            self._free -= 1
        else:
            place = loop.create_future()
            self._waiting.append(place)
            try:
                await place
            except asyncio.CancelledError:
                if place.done() and not place.cancelled():
                    self._let_next_in()  # handed a place just as it was cancelled
                raise
        turn.timer = loop.call_later(self._patience, self._leave, turn)

    def _leave(self, turn: Turn) -> None:
        if turn.counted:
            turn.counted = False
            self._let_next_in()

    def _let_next_in(self) -> None:
        while self._waiting:
            place = self._waiting.popleft()
            if not place.done():
                place.set_result(None)  # handed over: a newcomer cannot take it in between
                return
        self._free += 1


class Turn:
    __slots__ = ("counted", "gate", "timer")

    def __init__(self, gate: TurnGate) -> None:
        self.gate = gate
        self.timer: asyncio.TimerHandle | None = None
        self.counted = True

    async def __aenter__(self) -> Turn:
        await self.gate._enter(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.timer is not None:
            self.timer.cancel()
        self.gate._leave(self)
