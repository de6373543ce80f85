"""A connection pool that serves waiting tasks in the order they came.

SQLAlchemy's asyncio pool takes a free connection at once, even while other tasks wait for
one: a task that arrives just as a connection is returned takes it, and the task that was
woken for it goes back to the end of the line. With SQLite's single connection and a few
dozen card clicks in flight, that made some clicks wait several times as long as the rest
(bench/README.md has the measurements). Here a returned connection goes straight to
the longest-waiting task, and a newcomer queues behind the waiting ones.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Any, TypeVar

from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty

T = TypeVar("T")


class FairQueue(AsyncAdaptedQueue[T]):
    def __init__(self, maxsize: int = 0, use_lifo: bool = False) -> None:
        super().__init__(maxsize, use_lifo)
        self._waiting: deque[asyncio.Future[T]] = deque()

    def put_nowait(self, item: T) -> None:
        while self._waiting:
            waiter = self._waiting.popleft()
            if not waiter.done():
                waiter.set_result(item)  # handed over: no one can take it in between
                return
        super().put_nowait(item)

    def get(self, block: bool = True, timeout: float | None = None) -> T:
        if not block or not self._waiting:
            try:
                return self.get_nowait()
            except Empty:
                if not block:
                    raise
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[T] = loop.create_future()
        self._waiting.append(waiter)
        # A timer, not asyncio.wait_for: that makes a task of every wait.
        timer = None if timeout is None else loop.call_later(timeout, _expire, waiter)
        try:
            return await_(waiter)
        except BaseException:
            # Cancelled just as a connection was handed over: pass it to the next in line.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.put_nowait(waiter.result())
            raise
        finally:
            if timer is not None:
                timer.cancel()
            if not waiter.done():
                waiter.cancel()
            if waiter.cancelled() or waiter.exception() is not None:
                # Still in line unless put_nowait passed it by; a waiter that was handed a
                # connection was taken out of the line then. (deque.remove of a missing
                # item builds the error message from the future's repr: not on every get.)
                with contextlib.suppress(ValueError):
                    self._waiting.remove(waiter)


def _expire(waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        waiter.set_exception(Empty())  # the pool raises its own timeout error for it


class FairAsyncPool(AsyncAdaptedQueuePool):
    """AsyncAdaptedQueuePool whose waiting tasks get connections first come, first served."""

    _queue_class: Any = FairQueue
