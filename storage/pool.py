"""A connection pool that serves waiting tasks in the order they came.

SQLAlchemy's asyncio pool takes a free connection at once, even while other tasks wait for
one: a task that arrives just as a connection is returned takes it, and the task that was
woken for it goes back to the end of the line. With SQLite's single connection and a few
dozen card clicks in flight, that made some clicks wait several times as long as the rest
(bench/claims.py: p99 five times the median). Here a returned connection goes straight to
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
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        try:
            if timeout is None:
                return await_(waiter)
            return await_(asyncio.wait_for(waiter, timeout))
        except TimeoutError as err:
            raise Empty() from err
        except BaseException:
            # Cancelled just as a connection was handed over: pass it to the next in line.
            if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                self.put_nowait(waiter.result())
            raise
        finally:
            if not waiter.done():
                waiter.cancel()
            with contextlib.suppress(ValueError):
                self._waiting.remove(waiter)


class FairAsyncPool(AsyncAdaptedQueuePool):
    """AsyncAdaptedQueuePool whose waiting tasks get connections first come, first served."""

    _queue_class: Any = FairQueue
