"""Sopu's own types for the upper floor: a click, a chat message, and what actions are given.

Handlers and actions see only these (and cards' dicts), never a Bot Framework object:
``bot.framework`` turns activities into them.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.teams import ChatAddress, TeamsGateway
from cards import calendar as calendar_cards
from cards.base import Card
from cards.i18n import Lang, t
from jobs.base import JobContext
from mediation import calendar as cal
from mediation.feedback import FeedbackStore
from mediation.model import MeetingKind
from mediation.policy import BankPolicy
from mediation.ports import Clock, Notifier, UnitOfWork
from mediation.reminders import ReminderPolicy
from mediation.stats import StatsQueries
from storage.botstore import BotStore
from storage.calendar import FeedStore, LocalEventStore, SqlEventLinks, SqlMeetingFinder
from storage.jobs import JobStore
from storage.outbox import SqlOutbox
from storage.redelivery import Delivery

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Click:
    """One card action as the router needs it, taken from the activity."""

    verb: str
    data: Mapping[str, Any]
    actor: str  # the clicker's Entra object id, from the activity, never from card data
    lang: Lang
    personal: bool  # clicked in personal chat (else in a channel)
    sender: ChatAddress | None = None  # for opening a personal chat with the clicker
    # The delivery this click arrived as; its first committed change records it, so a
    # redelivery of the same click changes nothing (storage/redelivery.py).
    delivery: Delivery | None = None


@dataclass(frozen=True)
class ChannelPlace:
    """The team and channel a message was written in, and its reference to post there."""

    team_id: str
    channel_id: str
    channel_name: str | None
    service_url: str
    reference: Mapping[str, Any]


@dataclass(frozen=True)
class Message:
    """A typed chat message to Sopu, without Teams' markup."""

    text: str
    actor: str
    lang: Lang
    personal: bool
    channel: ChannelPlace | None = None  # set for a message in a team's channel


Handler = Callable[[Click], Awaitable[Card]]


@dataclass(frozen=True)
class FeedbackDeps:
    """What the feedback and statistics actions need beyond the core's."""

    store: FeedbackStore
    stats: StatsQueries
    base_url: str  # where parents' phones and coordinators' browsers reach Sopu
    key: bytes  # signs the statistics download links
    link_days: int = 60
    stats_minutes: int = 15


class CatalogWording:
    """Event texts from the catalogs, in one language."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def subject(self, code: str, kind: MeetingKind, parent_no: int | None) -> str:
        kind_text = calendar_cards.kind_label(self.lang, kind, parent_no)
        return t(self.lang, "calendar.event.subject", code=code, kind=kind_text)

    def body(self, code: str) -> str:
        return t(self.lang, "calendar.event.body", code=code)

    def cancel_comment(self, code: str) -> str:
        return t(self.lang, "calendar.event.cancel", code=code)


class CommonTimeCatalogWording:
    """A common time's event texts from the catalogs, in one language."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def subject(self, code: str, kind: str) -> str:
        return t(self.lang, f"commontime.event.subject.{kind}", code=code)

    def body(self, code: str) -> str:
        return t(self.lang, "commontime.event.body", code=code)

    def cancel_comment(self, code: str) -> str:
        return t(self.lang, "commontime.event.cancel", code=code)


class ConsultationCatalogWording:
    """A client meeting's event texts from the catalogs, in one language."""

    def __init__(self, lang: Lang) -> None:
        self.lang = lang

    def subject(self, code: str) -> str:
        return t(self.lang, "consult.event.subject", code=code)

    def body(self, code: str) -> str:
        return t(self.lang, "consult.event.body", code=code)


# Teams redelivers a click for up to about 15 s: within this, a second rotation keeps the
# address the first answer showed.
FEED_ROTATION_GRACE = timedelta(seconds=30)


@dataclass(frozen=True)
class CalendarService:
    """The calendar feature as one running Sopu holds it."""

    deps: cal.CalendarDeps
    mode: str
    base_url: str
    links: SqlEventLinks
    finder: SqlMeetingFinder
    meeting_notifier: cal.MeetingNotifier
    feeds: FeedStore | None = None
    events: LocalEventStore | None = None
    sync: Any = None  # graph.sync.GraphSync in graph mode
    graph_tasks: Mapping[str, Callable[[], Awaitable[object]]] = field(default_factory=dict)
    closers: tuple[Callable[[], Awaitable[None]], ...] = ()
    graph_client: Any = None  # msgraph's GraphServiceClient in graph mode (also sends mail)

    def in_lang(self, lang: Lang) -> cal.CalendarDeps:
        return dataclasses.replace(self.deps, wording=CatalogWording(lang))

    async def feed_url(self, mediator_id: int | None) -> str | None:
        if self.feeds is None or mediator_id is None:
            return None
        token = await self.feeds.token_of(mediator_id)
        return f"{self.base_url}/calendar/{token}.ics"

    async def new_feed_url(self, mediator_id: int) -> str | None:
        """A new secret address for the mediator's feed; the old one answers no more."""
        if self.feeds is None:
            return None
        token = await self.feeds.rotate(mediator_id, keep_for=FEED_ROTATION_GRACE)
        return f"{self.base_url}/calendar/{token}.ics"

    async def close(self) -> None:
        for close in reversed(self.closers):
            try:
                await close()
            except Exception:
                log.exception("closing the calendar failed")


@dataclass(frozen=True)
class JobServices:
    """What the jobs' buttons and the `reminders` command need: the outbox and its sender."""

    outbox: SqlOutbox
    store: JobStore
    policy: ReminderPolicy
    wake: Callable[[], None]
    context: JobContext  # the jobs' own, for what an action queues at once


@dataclass(frozen=True)
class ActionDeps:
    """Everything a verb's handler may use, built once by the composition root."""

    units: Callable[[Delivery | None], UnitOfWork]  # a unit of work for each use case
    notifier: Notifier
    clock: Clock
    policy: BankPolicy
    store: BotStore
    gateway: TeamsGateway
    feedback: FeedbackDeps
    calendar: CalendarService
    jobs: JobServices

    def uow(self, click: Click | None = None) -> UnitOfWork:
        """A unit of work; for a click, one that records the click's delivery with its change."""
        return self.units(click.delivery if click is not None else None)

    def uow_factory(self) -> UnitOfWork:
        """A unit of work that records no delivery (reads, and changes outside a click)."""
        return self.units(None)

    def change_ports(self, click: Click) -> tuple[UnitOfWork, Notifier, Clock, BankPolicy]:
        """What a case change of the domain takes after its command, in its order."""
        return self.uow(click), self.notifier, self.clock, self.policy

    def seat_ports(self, click: Click) -> tuple[UnitOfWork, Notifier, Clock, BankPolicy]:
        """``change_ports`` for a seat change (claim, release, assign): its one transaction
        holds all it changes, and the notes it causes are outbox rows of that transaction,
        so its redelivery is stopped by the commit alone (storage/redelivery.py)."""
        if click.delivery is not None:
            click.delivery.commit_stops_it()
        return self.change_ports(click)
