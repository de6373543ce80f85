"""Keeping Sopu in step with Outlook: change subscriptions, the webhook, delta rounds.

A notification is only a trigger: the truth comes from a delta round over the mailbox's
calendar view, which also runs periodically as the fallback. The scheduler calls
``renew_all`` (well before Outlook's 4230-minute limit) and ``delta_all``; nothing here
runs periodically by itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from graph.msgraph import GraphCalendar
from mediation.calendar import (
    CalendarRefused,
    CalendarSyncStore,
    CalendarUnavailable,
    MeetingNotifier,
    Subscription,
    SyncEventLinks,
)
from mediation.calendar import apply_calendar_change as apply_change
from mediation.ports import Clock, Notifier, UnitOfWork
from mediation.trouble import PerMinute

log = logging.getLogger(__name__)

MAX_SUBSCRIPTION_ID = 200
# Notifications read from one request: any past it are not looked at.
MAX_NOTIFICATIONS = 100

LIFETIME = timedelta(minutes=4200)  # Outlook allows 4230
RENEW_BEFORE = timedelta(hours=24)
WINDOW_PAST = timedelta(days=30)
WINDOW_AHEAD = timedelta(days=400)
MAX_PAGES = 200


class GraphSync:
    def __init__(
        self,
        graph: GraphCalendar,
        store: CalendarSyncStore,
        links: SyncEventLinks,
        uow_factory: Callable[[], UnitOfWork],
        meeting_notifier: MeetingNotifier,
        case_notifier: Notifier,
        clock: Clock,
        notification_url: str,
    ) -> None:
        self.graph = graph
        self.store = store
        self.links = links
        self.uow_factory = uow_factory
        self.meeting_notifier = meeting_notifier
        self.case_notifier = case_notifier
        self.clock = clock
        self.notification_url = notification_url
        self._locks: dict[str, asyncio.Lock] = {}
        self._queued: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        # Forged notifications are counted and told once a minute at most: the endpoint is
        # public, and a line per request would let a flood fill the disk.
        self._forged_lines = PerMinute(1)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # -- subscriptions ---------------------------------------------------------------------

    async def mailboxes(self) -> list[str]:
        """Every active mediator's mailbox, and every mailbox organising a Sopu meeting."""
        uow = self.uow_factory()
        async with uow:
            people = await uow.mediators.list(active_only=True)
        wanted = {p.email.lower() for p in people if p.email and not p.is_booker}
        return sorted(wanted | set(await self.links.organizers()))

    async def renew_all(self) -> int:
        """Subscribe mailboxes without a subscription, renew those close to expiry.

        Returns how many subscriptions were made or renewed. For the scheduler (hourly is
        plenty: renewal starts a day before expiry).
        """
        now = self.clock.now()
        wanted = set(await self.mailboxes())
        held: dict[str, list[Subscription]] = {}
        for sub in await self.store.subscriptions():
            held.setdefault(sub.mailbox, []).append(sub)
        done = 0
        for mailbox, subs in held.items():
            if mailbox not in wanted:
                for sub in subs:
                    await self._drop(sub)
        for mailbox in sorted(wanted):
            try:
                done += await self._keep(mailbox, held.get(mailbox, []), now)
            except (CalendarUnavailable, CalendarRefused) as exc:
                log.warning("subscription for a mailbox failed: %s", exc.message)
        return done

    async def _keep(self, mailbox: str, subs: list[Subscription], now: datetime) -> int:
        live = [s for s in subs if s.expires_at > now]
        for stale in (s for s in subs if s not in live):
            await self.store.drop_subscription(stale.id)
        if not live:
            await self._subscribe(mailbox, now)
            return 1
        newest, *extra = sorted(live, key=lambda s: s.expires_at, reverse=True)
        for sub in extra:
            await self._drop(sub)
        if newest.expires_at - now > RENEW_BEFORE:
            return 0
        return await self._renew(newest, now)

    async def _renew(self, sub: Subscription, now: datetime) -> int:
        expires = now + LIFETIME
        if await self.graph.renew(sub.mailbox, sub.id, expires):
            await self.store.save_subscription(
                Subscription(sub.id, sub.mailbox, sub.client_state, expires)
            )
        else:
            await self.store.drop_subscription(sub.id)
            await self._subscribe(sub.mailbox, now)
        return 1

    async def _subscribe(self, mailbox: str, now: datetime) -> None:
        state = secrets.token_urlsafe(24)
        expires = now + LIFETIME
        sub_id = await self.graph.subscribe(mailbox, self.notification_url, state, expires)
        await self.store.save_subscription(Subscription(sub_id, mailbox, state, expires))

    async def _drop(self, sub: Subscription) -> None:
        with contextlib.suppress(CalendarUnavailable):
            await self.graph.unsubscribe(sub.mailbox, sub.id)
        await self.store.drop_subscription(sub.id)

    # -- the webhook -----------------------------------------------------------------------

    async def accept(self, payload: Any) -> bool:
        """Take a notification POST; True when it was well-formed (answer 202 then).

        Graph wants the answer within 3 s, so the work runs in the background. A
        notification whose clientState does not match what Sopu gave is ignored.
        """
        items = payload.get("value") if isinstance(payload, dict) else None
        if not isinstance(items, list):
            return False
        unknown = 0
        named: list[tuple[str, dict[str, Any]]] = []
        for item in items[:MAX_NOTIFICATIONS]:
            sub_id = item.get("subscriptionId") if isinstance(item, dict) else None
            # Graph's subscription ids are GUIDs: anything else names no subscription and
            # is not looked up.
            if not isinstance(sub_id, str) or not 0 < len(sub_id) <= MAX_SUBSCRIPTION_ID:
                unknown += 1
                continue
            named.append((sub_id, item))
        # Anyone can post here: one look at the database a request, however many ids it
        # names, so a forged request costs no more than a real one.
        known = await self.store.subscriptions_by_id({sub_id for sub_id, _ in named})
        for sub_id, item in named:
            sub = known.get(sub_id)
            # As bytes: compare_digest refuses a str with characters outside ASCII.
            given = str(item.get("clientState") or "").encode("utf-8", "surrogatepass")
            if sub is None or not hmac.compare_digest(given, sub.client_state.encode("utf-8")):
                unknown += 1
                continue
            event = item.get("lifecycleEvent")
            if event == "reauthorizationRequired":
                self._spawn(self._renew(sub, self.clock.now()))
            elif event == "subscriptionRemoved":
                self._spawn(self._resubscribe(sub))
            else:  # a change, or "missed": either way a delta round tells what happened
                self.trigger(sub.mailbox)
        if unknown and self._forged_lines.allow(log):
            # One line a request, however many items it forged; a line a minute at most.
            log.warning(
                "%d Graph notifications with an unknown subscription or clientState", unknown
            )
        return True

    async def _resubscribe(self, sub: Subscription) -> None:
        await self.store.drop_subscription(sub.id)
        await self._subscribe(sub.mailbox, self.clock.now())
        await self.delta_round(sub.mailbox)

    def trigger(self, mailbox: str) -> None:
        """A delta round for the mailbox soon; notifications in a burst share one round."""
        if mailbox in self._queued:
            return
        self._queued.add(mailbox)
        self._spawn(self.delta_round(mailbox))

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(self._logged(work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _logged(self, work: Any) -> None:
        try:
            await work
        except (CalendarUnavailable, CalendarRefused) as exc:
            log.warning("calendar sync: %s", exc.message)
        except Exception:
            log.exception("calendar sync failed")

    async def idle(self) -> None:
        """Wait until the background work started by notifications is done (for tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- delta rounds ----------------------------------------------------------------------

    async def delta_round(self, mailbox: str) -> int:
        """Read what changed in the mailbox's calendar since the last round; apply it.

        Returns how many meetings changed in Sopu.
        """
        lock = self._locks.setdefault(mailbox, asyncio.Lock())
        async with lock:
            self._queued.discard(mailbox)
            link = await self.store.delta_link(mailbox)
            try:
                return await self._round(mailbox, link)
            except CalendarRefused:
                if link is None:
                    raise
                # The delta token expired (410 Gone): start over with a full round.
                await self.store.save_delta_link(mailbox, None)
                return await self._round(mailbox, None)

    async def _round(self, mailbox: str, link: str | None) -> int:
        now = self.clock.now()
        start, end = now - WINDOW_PAST, now + WINDOW_AHEAD
        changed = 0
        for _ in range(MAX_PAGES):
            page = await self.graph.delta_page(mailbox, link, start, end)
            for seen in page.events:
                result = await apply_change(
                    seen,
                    self.uow_factory(),
                    self.links,
                    self.meeting_notifier,
                    self.case_notifier,
                    self.clock,
                )
                changed += result is not None
            if page.next_link:
                link = page.next_link
                continue
            if page.delta_link:
                await self.store.save_delta_link(mailbox, page.delta_link)
            break
        return changed

    async def delta_all(self) -> int:
        """A delta round for every mailbox organising a Sopu meeting (the fallback)."""
        changed = 0
        for mailbox in await self.links.organizers():
            try:
                changed += await self.delta_round(mailbox)
            except (CalendarUnavailable, CalendarRefused) as exc:
                log.warning("delta round failed: %s", exc.message)
        return changed
