"""The proactive sender: drains the outbox into Teams within Teams' rate limits.

Teams allows a bot 7 messages a second, 8 in 2 s, 60 in 30 s and 1800 an hour in one
conversation, and 30 requests a second per tenant (FACTS.md). The sender paces itself
below those limits with sliding windows, so refusals stay rare; when Teams refuses
anyway (429, 412, 503) the message waits with exponential back-off and jitter, never less
than the Retry-After header, and is tried again up to N times; the rest of the tenant's
posts pause for a share of that, growing while refusals follow one another (Pacer.refused).

A failure after which Teams may have posted the message (502, 504, 500, a timeout or a
dropped connection) is *ambiguous*: a retry could post it twice, so such a message gets
the final status "uncertain" and the sender slows down instead. Every message ends with
one final status the coordinators can read.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from bot.framework.connector import ConnectorError
from bot.settings import SendLimits
from mediation.calendar import MeetingChanged
from mediation.outbox import MessageKind, OutboxMessage, OutboxStatus, RetryPolicy
from mediation.ports import Clock, Notification
from mediation.trouble import database_trouble, trouble_at
from storage.outbox import SqlOutbox

log = logging.getLogger(__name__)


# -- pacing ---------------------------------------------------------------------------------


class SlidingWindows:
    """At most ``count`` events in any ``seconds``, for each window, per key."""

    def __init__(self, windows: tuple[tuple[int, float], ...], now: Callable[[], float]) -> None:
        self.windows = windows
        self.span = max((s for _, s in windows), default=0.0)
        self.keep = max((c for c, _ in windows), default=0)
        self._now = now
        self._seen: dict[str, deque[float]] = {}

    def wait(self, key: str) -> float:
        """Seconds until one more event is allowed for ``key`` (0: now)."""
        seen = self._seen.get(key)
        if not seen:
            return 0.0
        now = self._now()
        wait = 0.0
        for count, seconds in self.windows:
            # One more now would make count + 1 inside the window if the count-th newest is.
            if len(seen) >= count and seen[-count] > now - seconds:
                wait = max(wait, seen[-count] + seconds - now)
        return wait

    def record(self, key: str) -> None:
        seen = self._seen.setdefault(key, deque(maxlen=self.keep))
        seen.append(self._now())

    def restamp(self, key: str) -> None:
        """Move the newest event of ``key`` to now (it ended later than it was granted)."""
        seen = self._seen.get(key)
        if seen:
            seen[-1] = self._now()

    def forget_idle(self) -> None:
        cutoff = self._now() - self.span
        for key in [k for k, d in self._seen.items() if not d or d[-1] <= cutoff]:
            del self._seen[key]


class Pacer:
    """Grants sends so that neither a conversation's nor the tenant's limits are passed."""

    TENANT = "tenant"
    FIRST_SHARE = 0.125  # of the Retry-After, for the tenant's pause after a lone refusal
    CALM_SECONDS = 30.0  # a refusal this long after the last one counts as a lone one

    def __init__(
        self,
        limits: SendLimits,
        now: Callable[[], float] | None = None,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        clock = now or _monotonic
        self._sleep = sleep or asyncio.sleep
        # Teams counts when a request arrives, not when it was granted here: a little slack
        # keeps jitter on the way (threads, network) from pushing two posts into one window.
        self.conversations = SlidingWindows(_slack(limits.per_conversation), clock)
        self.tenant = SlidingWindows(_slack(limits.per_tenant), clock)
        self._now = clock
        # The tenant's posts are spread evenly, not sent in bursts of a whole window: a
        # burst arriving a few milliseconds apart at Teams would spill into the next window.
        self._gap = min((sec / n for n, sec in _slack(limits.per_tenant)), default=0.0)
        self._next_grant = -1e9
        self._paused_until = 0.0
        self._conversation_paused: dict[str, float] = {}
        self._strikes = 0  # refusals in a row, each within CALM_SECONDS of the one before
        self._last_refusal = -1e9
        self._lock = asyncio.Lock()
        self._locks: dict[str, asyncio.Lock] = {}

    def pause(self, seconds: float, conversation: str | None = None) -> None:
        """Teams pushed back: no sends (to one conversation, or at all) for a while."""
        until = self._now() + seconds
        if conversation is None:
            self._paused_until = max(self._paused_until, until)
        else:
            self._conversation_paused[conversation] = max(
                self._conversation_paused.get(conversation, 0.0), until
            )

    def refused(self, retry_after: float, cap: float) -> float:
        """Teams refused a post (429, 503...): pause the whole tenant; returns the pause.

        The pacing keeps the tenant under its limit, so a lone refusal means a few posts
        reached Teams closer together than they were sent (a stalled request, a slow
        thread), not that the tenant is over its rate: the refused message waits its own
        Retry-After, and the tenant pauses only for a share of it, to let the window clear.
        Refusals that follow one another double that share until the whole Retry-After
        (at most ``cap``) is kept: then something else uses the tenant's budget too.
        """
        now = self._now()
        if now - self._last_refusal > self.CALM_SECONDS:
            self._strikes = 0
        self._strikes += 1
        self._last_refusal = now
        share = min(1.0, self.FIRST_SHARE * 2 ** (self._strikes - 1))
        seconds = min(retry_after * share, cap)
        self.pause(seconds)
        return seconds

    async def acquire(self, conversation: str) -> None:
        """Wait for a turn; call :meth:`done` when the post has ended."""
        # One post at a time per conversation: Teams counts a post when it arrives, so the
        # next one is timed from when the previous one ended (see done()).
        await self._conversation_lock(conversation).acquire()
        try:
            while True:
                # The conversation's own wait first, without the tenant's lock: a chat at
                # its limit must not hold up the posts to every other conversation.
                own = self._own_wait(conversation)
                if own > 0:
                    await self._sleep(own)
                    continue
                # One waiter at a time decides, so the tenant's window is never over-granted.
                async with self._lock:
                    now = await self._tenant_ready()
                    if self._own_wait(conversation) > 0:
                        continue  # the conversation was paused meanwhile: wait again
                    self.conversations.record(conversation)
                    self.tenant.record(self.TENANT)
                    # The next turn is one gap after this one was *due*: timed from when
                    # it was granted, the event loop's lateness in waking (a millisecond
                    # or two a turn) would add up to a few per cent of the rate. The
                    # windows still bound every burst.
                    self._next_grant = max(self._next_grant + self._gap, now)
                    return
        except BaseException:
            self._conversation_lock(conversation).release()
            raise

    def _own_wait(self, conversation: str) -> float:
        """Seconds until the conversation itself allows one more post."""
        paused = self._conversation_paused.get(conversation, 0.0) - self._now()
        return max(paused, self.conversations.wait(conversation))

    async def _tenant_ready(self) -> float:
        """Wait, holding the tenant's lock, until the tenant allows one more post; the time."""
        while True:
            now = self._now()
            wait = max(
                self._paused_until - now, self._next_grant - now, self.tenant.wait(self.TENANT)
            )
            if wait <= 0:
                return now
            await self._sleep(wait)

    def done(self, conversation: str) -> None:
        self.conversations.restamp(conversation)
        self._conversation_lock(conversation).release()

    def _conversation_lock(self, conversation: str) -> asyncio.Lock:
        lock = self._locks.get(conversation)
        if lock is None:
            lock = self._locks[conversation] = asyncio.Lock()
        return lock

    def forget_idle(self) -> None:
        self.conversations.forget_idle()
        for key in [k for k, lock in self._locks.items() if not lock.locked()]:
            if self.conversations.wait(key) <= 0:
                del self._locks[key]


def _monotonic() -> float:
    return asyncio.get_running_loop().time()


SLACK_SHARE = 0.05
SLACK_SECONDS = 0.01


def _slack(windows: tuple[tuple[int, float], ...]) -> tuple[tuple[int, float], ...]:
    return tuple((n, s * (1 + SLACK_SHARE) + SLACK_SECONDS) for n, s in windows)


# -- talking to Teams -----------------------------------------------------------------------


class Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"  # refused before anything was posted: safe to try again
    AMBIGUOUS = "ambiguous"  # Teams may have posted it
    BLOCKED = "blocked"  # the user blocked the bot or removed it
    FAILED = "failed"  # refused for good (a bad request will not improve)


@dataclass(frozen=True)
class PostResult:
    outcome: Outcome
    status: int | None = None
    retry_after: float | None = None
    detail: str = ""
    # A case's card shown as of this version: its updates waiting for a change up to it
    # end with this message's own status (``Outbox.finish``).
    shown: int | None = None


@dataclass(frozen=True)
class Ready:
    """A message ready to go: ``conversation`` is paced one post at a time."""

    conversation: str
    post: Callable[[], Awaitable[PostResult]]


@dataclass(frozen=True)
class Unsendable:
    """A message that cannot be sent at all: its final status and why."""

    status: OutboxStatus
    error: str


@dataclass(frozen=True)
class NotYet:
    """A message that must wait for something a coordinator does (no bank channel yet)."""

    wait: timedelta
    error: str


Prepared = Ready | Unsendable | NotYet


class Postman(Protocol):
    """Knows where each message goes (bot/postman.py)."""

    async def prepare(self, message: OutboxMessage) -> Prepared: ...


# Refused before processing: safe to repeat. 502/504/500 may have been processed.
_RETRY_STATUSES = frozenset({408, 412, 429, 503})
_AMBIGUOUS_STATUSES = frozenset({500, 502, 504})
_BLOCKED_CODES = frozenset(
    {"ConversationBlockedByUser", "BotDisabledByAdmin", "BotNotInConversationRoster"}
)


def classify(status: int, code: str = "", retry_after: float | None = None) -> PostResult:
    """What an HTTP answer of the Bot Connector means for a message."""
    if 200 <= status < 300:
        return PostResult(Outcome.SENT, status)
    detail = f"HTTP {status} {code}".strip()
    if status in _RETRY_STATUSES:
        return PostResult(Outcome.RETRY, status, retry_after, detail)
    if status in _AMBIGUOUS_STATUSES:
        return PostResult(Outcome.AMBIGUOUS, status, retry_after, detail)
    if code in _BLOCKED_CODES or status in (403, 404):
        return PostResult(Outcome.BLOCKED, status, None, detail)
    return PostResult(Outcome.FAILED, status, None, detail)


def failure_of(exc: ConnectorError) -> PostResult:
    """What a Bot Connector error means for a message: try again, or a final status."""
    if exc.status is not None:
        return classify(exc.status, exc.code, exc.retry_after)
    if exc.code == "BadReference":
        return PostResult(Outcome.FAILED, None, None, exc.code)
    if exc.code in ("NotConnected", "TokenFailed", "Closed"):
        # Nothing reached Teams: safe to try again.
        return PostResult(Outcome.RETRY, None, None, exc.code)
    return PostResult(Outcome.AMBIGUOUS, None, None, exc.code)


# -- the sender --------------------------------------------------------------------------------


def _let_go(counts: Counter[str], key: str) -> Callable[[asyncio.Task[None]], None]:
    def done(_: asyncio.Task[None]) -> None:
        counts[key] -= 1
        if counts[key] <= 0:
            del counts[key]

    return done


# One person's messages a sender holds at once (one posting, one next in that chat); more
# wait in the outbox, leaving the sender's slots to other people and the channel's cards.
# A claim takes at most one of a person's, so a burst to one person stays within this too.
PER_PERSON_HELD = 2
# Seconds between looks while only busy people's messages (or cards') are due: at most 20
# looks a second.
BUSY_LOOK_GAP = 0.05


@dataclass
class SenderStats:
    sent: int = 0
    retried: int = 0
    blocked: int = 0
    failed: int = 0
    uncertain: int = 0
    no_chat: int = 0


class SenderWake:
    """The domain's notifiers in the running app: what they tell is in the outbox already.

    Told once a change is committed, it wakes this replica's sender (the one built with
    it) so the message goes out now; without it the sender would find the message at its
    next look.
    """

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def wake(self) -> None:
        self.event.set()

    async def notify(self, notification: Notification) -> None:
        self.wake()

    async def meeting_changed(self, change: MeetingChanged) -> None:
        self.wake()


class Sender:
    """Takes due messages from the outbox and delivers them, each to a final status."""

    def __init__(
        self,
        outbox: SqlOutbox,
        postman: Postman,
        clock: Clock,
        limits: SendLimits,
        *,
        poll_seconds: float = 2.0,
        rng: random.Random | None = None,
        wake: SenderWake | None = None,
    ) -> None:
        self.outbox = outbox
        self.postman = postman
        self.clock = clock
        self.limits = limits
        self.retry = RetryPolicy(max_tries=limits.max_tries)
        self.poll_seconds = poll_seconds
        self.pacer = Pacer(limits)
        self.stats: Counter[str] = Counter()
        self._rng = rng or random.Random()
        self._wake = (wake or SenderWake()).event
        self._stopping = False
        self._running = False
        self._waiting: set[asyncio.Task[Any]] = set()
        self._recovered_at: datetime | None = None

    def wake(self) -> None:
        """New messages are in the outbox: look now rather than at the next poll."""
        self._wake.set()

    async def run(self) -> None:
        """Drain until cancelled; a cancelled sender lets the posts under way finish first."""
        if self._running:
            raise RuntimeError("this sender is running already")
        self._running = True
        try:
            await self._run()
        finally:
            self._running = False

    async def _run(self) -> None:
        self._stopping = False
        inflight: set[asyncio.Task[None]] = set()
        held: dict[asyncio.Task[None], int] = {}
        # Messages held for each person: one chat takes posts one at a time, a few a second,
        # so more of one person's would only keep the slots everyone else's need.
        per_person: Counter[str] = Counter()
        # Cases whose channel card a message held is posting or updating. The card shows
        # the case as it stands when it is sent, so the updates made meanwhile wait in the
        # outbox, where that one ends those it covers (finish, covers); claimed, each would
        # wait for the thread's turn and then end as covered, a claim and two writes for
        # nothing.
        cards: Counter[str] = Counter()
        renewing = asyncio.create_task(self._renew(held))
        try:
            while True:
                try:
                    await self._recover()
                    room = self.limits.concurrency - len(inflight)
                    busy = {r for r, n in per_person.items() if n >= PER_PERSON_HELD}
                    claimed = await self._claim(room, busy, set(cards)) if room > 0 else []
                except Exception as exc:
                    # The database said no (a deadlock victim, a dropped connection): the
                    # sender must outlive it, or this replica would never send again.
                    log.warning(
                        "the outbox could not be read (%s); trying again in %g s",
                        database_trouble(exc),
                        self.poll_seconds,
                    )
                    await asyncio.sleep(self.poll_seconds)
                    continue
                for message in claimed:
                    task = asyncio.create_task(self._deliver(message))
                    inflight.add(task)
                    held[task] = message.id
                    task.add_done_callback(inflight.discard)
                    task.add_done_callback(lambda done: held.pop(done, None))
                    if message.key.kind.to_channel:
                        cards[message.key.subject] += 1
                        task.add_done_callback(_let_go(cards, message.key.subject))
                    else:
                        per_person[message.key.recipient] += 1
                        task.add_done_callback(_let_go(per_person, message.key.recipient))
                if len(inflight) >= self.limits.concurrency:
                    await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
                elif not claimed:
                    if busy or cards:
                        # What is due may be someone's whose chat is busy, or a card being
                        # shown: every click's wake would make one more look that finds
                        # nothing for it.
                        await asyncio.sleep(BUSY_LOOK_GAP)
                    self._wake.clear()
                    woken = asyncio.ensure_future(self._wake.wait())
                    await asyncio.wait(
                        [woken, *inflight],
                        timeout=self.poll_seconds,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    woken.cancel()
                    await asyncio.gather(woken, return_exceptions=True)
                    self.pacer.forget_idle()
        finally:
            self._stopping = True
            renewing.cancel()
            await asyncio.gather(renewing, return_exceptions=True)
            for waiting in list(self._waiting):
                waiting.cancel()
            if inflight:
                # Posts under way end and record their status: cut off, it would be unknown
                # whether Teams took them. Those still waiting for their turn go back.
                await asyncio.shield(asyncio.gather(*inflight, return_exceptions=True))

    async def _claim(self, room: int, busy: set[str], cards: set[str]) -> list[OutboxMessage]:
        """Claim up to ``room`` messages, none for the ``busy`` people nor for the channel
        ``cards`` (case subjects) being shown; a stop during the claim gives them straight
        back.

        Cut off mid-claim, the rows could be claimed in the database with no task to send
        them, and would wait out the claim lease before another sender took them.
        """
        claim = asyncio.ensure_future(self.outbox.claim(self.clock.now(), room, busy, cards))
        try:
            return await asyncio.shield(claim)
        except asyncio.CancelledError:
            rows = await claim
            if rows:
                await self.outbox.release([m.id for m in rows])
            raise

    async def _renew(self, held: dict[asyncio.Task[None], int]) -> None:
        """Keep this sender's claims fresh, so that only a dead sender's claims expire."""
        every = self.limits.claim_lease_seconds / 4
        while True:
            await asyncio.sleep(every)
            try:
                await self.outbox.renew(list(held.values()), self.clock.now())
            except Exception:
                # A database hiccup: the next renewal still comes well within the lease.
                log.warning("renewing the outbox claims failed", exc_info=True)

    async def _recover(self) -> None:
        """Take back a dead sender's claims: at start, then a few times per claim lease.

        Not at every turn of the loop: under load the loop turns with every message sent,
        and each look is a writing transaction on the database the clicks wait for.
        """
        lease = timedelta(seconds=self.limits.claim_lease_seconds)
        now = self.clock.now()
        last = self._recovered_at
        if last is not None and last <= now < last + lease / 4:
            return
        self._recovered_at = now
        released, uncertain = await self.outbox.abandon_in_flight(now - lease)
        if released or uncertain:
            log.warning(
                "a stopped sender left %d messages to send again and %d mid-post "
                "(uncertain, not re-sent)",
                released,
                uncertain,
            )

    async def drain(self, timeout: float = 60.0, *, settle: bool = False) -> None:
        """Send everything due now, then return (tests, benchmarks, one-off runs).

        With ``settle``, wait also for the retries scheduled later to reach a final status.
        A sender that runs already (the app's own) is only woken and waited for.
        """
        if self._running and not settle:
            await self.settled(timeout)
            return
        task = asyncio.create_task(self.run()) if not self._running else None
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        try:
            while await self.outbox.unfinished(None if settle else self.clock.now()):
                if loop.time() > deadline:
                    raise TimeoutError("the outbox did not drain in time")
                if task is not None and task.done():
                    task.result()  # the sender died: say why
                # Not much oftener: every look is a query on the connection the sender uses.
                await asyncio.sleep(0.05)
        finally:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _deliver(self, message: OutboxMessage) -> None:
        try:
            await self._deliver_once(message)
        except Exception as exc:
            # Recording the outcome failed. The claim is no longer renewed, so once its
            # lease is over a sender takes the message back: again if it was not being
            # posted (or is the case's channel card), as uncertain if it may have gone.
            log.warning(
                "outbox message %d (%s): its status could not be recorded (%s)",
                message.id,
                message.key.kind.value,
                database_trouble(exc),
            )

    async def _deliver_once(self, message: OutboxMessage) -> None:
        try:
            prepared = await self.postman.prepare(message)
        except Exception as exc:
            # Most often the database for a moment; a bug shows as the same place each time.
            log.warning(
                "preparing outbox message %d (%s) failed: %s",
                message.id,
                message.key.kind.value,
                trouble_at(exc),
            )
            if message.attempts < self.retry.max_tries:
                delay = self.retry.delay(message.attempts, self._rng.random())
                await self.outbox.retry_at(
                    message.id, self.clock.now() + delay, "could not be prepared"
                )
            else:
                await self._finish(message, OutboxStatus.FAILED, "could not be prepared")
            return
        if isinstance(prepared, Unsendable):
            await self._finish(message, prepared.status, prepared.error)
            return
        if isinstance(prepared, NotYet):
            await self.outbox.retry_at(message.id, self.clock.now() + prepared.wait, prepared.error)
            return
        conversation = prepared.conversation
        me = asyncio.current_task()
        try:
            if me is not None:
                self._waiting.add(me)
            if self._stopping:
                raise asyncio.CancelledError
            await self.pacer.acquire(conversation)
        except asyncio.CancelledError:
            await asyncio.shield(self.outbox.release([message.id]))
            return
        finally:
            self._waiting.discard(me)
        try:
            if self._stopping or not await self._posting(message):
                await self.outbox.release([message.id])
                return
            try:
                result = await prepared.post()
            except Exception as exc:
                log.warning("posting outbox message %d failed: %s", message.id, trouble_at(exc))
                result = PostResult(Outcome.AMBIGUOUS, None, None, "failed while posting")
        finally:
            self.pacer.done(conversation)
        await self._record(message, conversation, result)

    async def _posting(self, message: OutboxMessage) -> bool:
        """Mark the message as going out now; False if its claim is no longer this sender's.

        A card update goes without the mark: it shows the case as it stands when it is
        sent, so one made twice (by a sender whose claim had expired, and by the one that
        took it back) changes nothing, and a dead sender's is made again whether or not it
        had begun (``abandon_in_flight``). That is one write less for each of the channel's
        most frequent messages.
        """
        if message.key.kind is MessageKind.CARD_UPDATE:
            return True
        return await self.outbox.posting(message.id, self.clock.now())

    async def settled(self, timeout: float = 30.0) -> None:
        """Wait until nothing due is waiting or being sent (tests, benchmarks, shutdown)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self.wake()
        while await self.outbox.unfinished(self.clock.now()):
            if loop.time() > deadline:
                waiting = [
                    f"{m.id} {m.key.kind.value} {m.status.value}"
                    for m in await self.outbox.all()
                    if not m.status.final
                ]
                raise TimeoutError(f"the outbox did not settle in time: {waiting[:10]}")
            await asyncio.sleep(0.05)  # each look is a query on the connection the sender uses

    async def _record(self, message: OutboxMessage, conversation: str, result: PostResult) -> None:
        if result.outcome is Outcome.SENT:
            self.stats["sent"] += 1
            # The note says when nothing was posted: shown by a later update, posted before.
            covers = None if result.shown is None else (message.key.subject, result.shown)
            await self.outbox.finish(
                message.id, OutboxStatus.SENT, self.clock.now(), result.detail, covers
            )
            return
        log.warning("outbox message %d (%s): %s", message.id, message.key.kind.value, result.detail)
        if result.outcome in (Outcome.RETRY, Outcome.AMBIGUOUS):
            delay = self.retry.delay(message.attempts, self._rng.random(), result.retry_after)
            # A refusal may be about this conversation or the whole tenant: slow both down.
            self.pacer.pause(delay.total_seconds(), conversation)
            told = result.retry_after
            tenant_wait = delay.total_seconds() if told is None else told
            self.pacer.refused(tenant_wait, self.limits.tenant_pause_cap)
        if result.outcome is Outcome.AMBIGUOUS:
            await self._finish(message, OutboxStatus.UNCERTAIN, f"{result.detail}; may be posted")
        elif result.outcome is Outcome.RETRY and message.attempts < self.retry.max_tries:
            self.stats["retried"] += 1
            await self.outbox.retry_at(message.id, self.clock.now() + delay, result.detail)
        elif result.outcome is Outcome.RETRY:
            tries = f"{result.detail} after {message.attempts} tries"
            await self._finish(message, OutboxStatus.FAILED, tries)
        elif result.outcome is Outcome.BLOCKED:
            await self._finish(message, OutboxStatus.BLOCKED, result.detail)
        else:
            await self._finish(message, OutboxStatus.FAILED, result.detail)

    async def _finish(self, message: OutboxMessage, status: OutboxStatus, error: str) -> None:
        self.stats[status.value] += 1
        await self.outbox.finish(message.id, status, self.clock.now(), error)
