"""The calendar feature as one running Sopu holds it: the adapter of SOPU_CALENDAR, its stores.

``open_calendar`` builds the local calendar (events in Sopu's database, an .ics feed per
mediator) or Microsoft Graph's, with the delta sync and the pair's notes about changes.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.deps import CalendarService, CatalogWording
from bot.sender import SenderWake
from bot.settings import Settings
from cards.feedback import meeting_feedback_section
from cards.i18n import Lang
from graph.holidays import finnish_closed_days
from graph.local import LocalCalendar
from mediation import calendar as cal
from mediation.feedback import MeetingFeedback
from mediation.ports import Clock, UnitOfWork
from storage.calendar import FeedStore, LocalEventStore, SqlEventLinks, SqlMeetingFinder

log = logging.getLogger(__name__)


def meeting_policy(settings: Settings) -> cal.MeetingPolicy:
    c = settings.calendar
    return cal.MeetingPolicy(follow_up_weeks=c.follow_up_weeks, working_hours=c.working_hours)


async def open_calendar(
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    notifier: SenderWake,
    uow_factory: Callable[[], UnitOfWork],
    graph_credential: Any = None,
) -> CalendarService:
    """The calendar adapter of SOPU_CALENDAR, with its stores; close it at shutdown."""
    mp = meeting_policy(settings)
    links = SqlEventLinks(sessions, clock)
    base_url = settings.base_url()
    feeds = events = None
    closers: list[Callable[[], Awaitable[None]]] = []
    sync = None
    graph_client = None
    graph_tasks: dict[str, Callable[[], Awaitable[object]]] = {}
    # The pair's notes about calendar changes are outbox messages written with the change
    # (mediation/calendar/sync.py); telling the notifier wakes the sender.
    meeting_notifier = notifier
    calendar: cal.Calendar
    if settings.calendar.mode == "graph":
        from graph.msgraph import GraphCalendar, credential_from
        from graph.sync import GraphSync
        from storage.calendar import SyncStore

        credential = graph_credential or credential_from(settings.calendar)
        graph = GraphCalendar.create(credential, settings.calendar.base_url, mp.working_hours)
        closers.append(graph.close)
        calendar, graph_client = graph, graph.client
        sync = GraphSync(
            graph,
            SyncStore(sessions, clock),
            links,
            uow_factory,
            meeting_notifier,
            notifier,
            clock,
            f"{base_url}/api/graph/notifications",
        )
        closers.append(sync.close)
        graph_tasks = {"sopu.graph_renew": sync.renew_all, "sopu.graph_delta": sync.delta_all}
    else:
        events = LocalEventStore(sessions, clock)
        feeds = FeedStore(sessions, clock)
        calendar = LocalCalendar(events, mp.working_hours)
    deps = cal.CalendarDeps(
        calendar=calendar,
        links=links,
        notifier=notifier,
        clock=clock,
        policy=settings.policy,
        meetings=mp,
        wording=CatalogWording("fi"),
        closed_days=finnish_closed_days,
    )
    service = CalendarService(
        deps,
        settings.calendar.mode,
        base_url,
        links,
        SqlMeetingFinder(sessions),
        meeting_notifier,
        feeds,
        events,
        sync,
        graph_tasks,
        tuple(closers),
        graph_client,
    )
    return service


def feedback_section(
    lang: Lang, meeting_id: int, current: MeetingFeedback | None = None
) -> list[dict[str, Any]]:
    """The feedback inputs shown on a meeting's record card, with the stored answer."""
    return list(meeting_feedback_section(lang, meeting_id, current))
