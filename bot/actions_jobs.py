"""The scheduled jobs in Teams: how outbox messages look, the `reminders` command, buttons.

Also builds the jobs' runtime (outbox, sender, scheduler service) for the app factory.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import cards
from bot import inputs
from bot.sender import BotTransport, Sender
from bot.settings import Settings
from cards import verbs
from cards.i18n import Lang, format_date, t
from cards.reminders import (
    ReminderReport,
    TroubleLine,
    escalation_notice,
    open_cases_card,
    reminder_card,
    report_card,
)
from jobs import feedback as feedback_job
from jobs.base import JobContext
from jobs.scheduler import SchedulerService
from mediation import errors, services
from mediation.outbox import MessageKind, OutboxMessage, OutboxStatus
from mediation.reminders import ReminderPolicy, joint_meeting_days
from storage.botstore import BotStore
from storage.calendar import SqlMeetingFinder
from storage.jobs import JobStore
from storage.leader import LeaderLock
from storage.outbox import SqlOutbox

if TYPE_CHECKING:
    from bot.actions import Click, Deps

log = logging.getLogger(__name__)

Card = dict[str, Any]
REPORT_DAYS = 30
TROUBLE_SHOWN = 10


@dataclass
class JobServices:
    """What the buttons and the command of the jobs need besides the core's Deps."""

    outbox: SqlOutbox
    store: JobStore
    policy: ReminderPolicy
    wake: Callable[[], None] = lambda: None
    context: JobContext | None = None  # the jobs' own, for what an action queues at once

    async def case_closed(self, case_id: int) -> int:
        """A case was just closed: queue its feedback requests now, not at the job's next run."""
        if self.context is None:
            return 0
        return await feedback_job.for_case(self.context, case_id)


class JobActions:
    """Verb handlers of the jobs' cards, and the `reminders` command's card."""

    def __init__(self, deps: Deps) -> None:
        self.d = deps
        self.routes: dict[str, Callable[[Click], Awaitable[Card]]] = {
            verbs.REMINDERS_OPEN_CASES: self.open_cases,
            verbs.REMINDERS_RETRY: self.retry,
            verbs.JOINT_AGENDA: self.joint_agenda,
        }

    @property
    def jobs(self) -> JobServices:
        jobs = getattr(self.d, "jobs", None)
        if not isinstance(jobs, JobServices):
            raise errors.NotFound("the scheduled jobs are not set up")
        return jobs

    async def open_cases(self, click: Click) -> Card:
        """The families waiting for mediators (from a term-start or mid-term reminder)."""
        uow = self.d.uow_factory()
        async with uow:
            await services.actor(uow, click.actor)
        summaries = await services.open_cases(self.d.uow_factory(), self.d.clock, self.d.policy)
        return open_cases_card(summaries, click.lang)

    async def _me(self, actor: str) -> Any:
        uow = self.d.uow_factory()
        async with uow:
            return await services.actor(uow, actor)

    async def retry(self, click: Click) -> Card:
        """A coordinator sends a message that failed or may not have arrived, again."""
        me = await self._me(click.actor)
        if not me.is_coordinator:
            return cards.error_card(click.lang, t(click.lang, "error.not_allowed.generic"))
        try:
            message_id = inputs.whole(click.data, "message_id")
        except errors.InvalidInput:
            message_id = None
        done = message_id is not None and await self.jobs.outbox.requeue(
            message_id, self.d.clock.now()
        )
        if done:
            self.jobs.wake()
            notice = t(click.lang, "report.retried")
            return await self.reminders_card(click.actor, click.lang, notice)
        return cards.error_card(click.lang, t(click.lang, "report.not_retriable"))

    async def joint_agenda(self, click: Click) -> Card:
        """A coordinator sets the agenda link of one of the bank's joint meetings."""
        me = await self._me(click.actor)
        if not me.is_coordinator:
            return cards.error_card(click.lang, t(click.lang, "error.not_allowed.generic"))
        days = self._joint_days()
        try:
            day = date.fromisoformat(str(click.data.get("day") or ""))
        except ValueError:
            day = None
        if day is None or day not in days:
            return cards.error_card(click.lang, t(click.lang, "report.agenda.bad_day"))
        url = str(click.data.get("agenda_url") or "").strip()
        if not url.startswith("https://") or len(url) > 500 or any(c.isspace() for c in url):
            return cards.error_card(click.lang, t(click.lang, "report.agenda.bad_url"))
        await self.jobs.store.set_agenda(day, url, me.id, self.d.clock.now())
        notice = t(click.lang, "report.agenda.saved", day=format_date(click.lang, day))
        return await self.reminders_card(click.actor, click.lang, notice)

    def _joint_days(self) -> list[date]:
        today = self.d.policy.local_date(self.d.clock.now())
        found = [
            d
            for year in (today.year, today.year + 1)
            for d in joint_meeting_days(year, self.jobs.policy)
            if d >= today
        ]
        return found[: len(self.jobs.policy.joint_meetings)]

    async def reminders_card(self, actor: str, lang: Lang, notice: str | None = None) -> Card:
        """Coordinators: everything sent, what failed, the joint meetings. Others: their own."""
        me = await self._me(actor)
        since = self.d.clock.now() - timedelta(days=REPORT_DAYS)
        mine = None if me.is_coordinator else me.aad_object_id
        outbox = self.jobs.outbox
        counts = await outbox.counts(since, recipient=mine)
        trouble_statuses = [s for s in OutboxStatus if s.trouble]
        troubled = await outbox.recent(
            since, statuses=trouble_statuses, recipient=mine, limit=TROUBLE_SHOWN
        )
        names = await self._names()
        joint: list[tuple[date, str]] = []
        if me.is_coordinator:
            days = self._joint_days()
            if days:
                agendas = await self.jobs.store.agendas(days[0], days[-1] + timedelta(days=1))
                joint = [(d, agendas.get(d, "")) for d in days]
        report = ReminderReport(
            days=REPORT_DAYS,
            coordinator=me.is_coordinator,
            counts=[(c.kind, c.status, c.count) for c in counts],
            trouble=[
                TroubleLine(
                    m.id,
                    m.key.kind,
                    names.get(m.key.recipient, "?"),
                    self.d.policy.local_date(m.created_at),
                    m.status,
                )
                for m in troubled
            ],
            joint_meetings=joint,
        )
        return report_card(report, lang, notice)

    async def _names(self) -> dict[str, str]:
        uow = self.d.uow_factory()
        async with uow:
            return {m.aad_object_id.lower(): m.name for m in await uow.mediators.list()}


JOBS = web.AppKey("jobs", object)


class MessageRenderer:
    """Builds an outbox message's card in the recipient's language, at sending time."""

    def __init__(self, deps: Deps) -> None:
        self.d = deps

    async def __call__(self, message: OutboxMessage, lang: Lang) -> Card:
        kind, payload = message.key.kind, message.payload
        if kind is MessageKind.ESCALATION:
            # The coordinators get the case card itself, with the reason on top.
            summary = await services.summary_of(
                self.d.uow_factory(), int(payload["case_id"]), self.d.clock, self.d.policy
            )
            return cards.case_card(
                summary,
                lang,
                mediators=await self.d.gateway.mediators_for_cards(),
                notice=escalation_notice(payload, lang),
            )
        if kind in (MessageKind.MEDIATOR_FEEDBACK, MessageKind.CLIENT_LINK):
            from bot.actions_feedback import feedback_request_card

            client = kind is MessageKind.CLIENT_LINK
            return await feedback_request_card(self.d, int(payload["case_id"]), lang, client=client)
        if kind is MessageKind.RECORD_PROMPT:
            record = await self._record_card(message, lang)
            if record is not None:
                return record
        return reminder_card(kind, payload, lang, self.d.policy.zone)

    async def _record_card(self, message: OutboxMessage, lang: Lang) -> Card | None:
        """The calendar's record card (with the feedback part), as the recipient would open it.

        None when it cannot be shown to them (the calendar is not wired, or they have left
        the pair meanwhile): the plain prompt, whose button opens it, goes instead.
        """
        from bot.actions_calendar import CalendarService, feedback_section
        from cards.calendar import record_card
        from mediation.calendar import meeting_view

        service = self.d.calendar
        if not isinstance(service, CalendarService):
            return None
        payload = message.payload
        meeting_id = int(payload["meeting_id"])
        try:
            view = await meeting_view(
                message.key.recipient,
                meeting_id,
                int(payload["case_id"]),
                self.d.uow_factory(),
                service.links,
                service.deps.meetings,
            )
        except errors.DomainError:
            return None
        ended = view.ends_at.astimezone(self.d.policy.zone)
        notice = t(
            lang,
            "reminders.record.text",
            code=view.code,
            kind=t(lang, f"reminders.kind.{view.kind.value}"),
            day=format_date(lang, ended.date()),
        )
        return record_card(
            view,
            lang,
            service.deps.policy.timezone,
            extra=feedback_section(lang, meeting_id),
            notice=notice,
        )


@dataclass
class JobsRuntime:
    """The outbox's sender and the scheduler service of one running Sopu."""

    services: JobServices
    sender: Sender
    service: SchedulerService
    task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.service.run())

    async def stop(self) -> None:
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task
            self.task = None


def build_jobs(
    settings: Settings,
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    deps: Deps,
    adapter: CloudAdapter,
    graph_tasks: dict[str, Callable[[], Awaitable[object]]] | None = None,
) -> JobsRuntime:
    """Everything the jobs need, wired; nothing runs until ``start``."""
    outbox, store = SqlOutbox(sessions), JobStore(sessions)
    sender = Sender(
        outbox,
        BotStore(sessions),
        BotTransport(adapter, settings.bot_app_id),
        MessageRenderer(deps),
        deps.clock,
        settings.send_limits,
    )
    ctx = JobContext(
        uow_factory=deps.uow_factory,  # type: ignore[arg-type]
        outbox=outbox,
        store=store,
        clock=deps.clock,
        bank=settings.policy,
        policy=settings.reminders,
        meetings=SqlMeetingFinder(sessions),
        wake=sender.wake,
        graph_tasks=graph_tasks or {},
        push_calendar=_calendar_push(deps),
    )
    service = SchedulerService(
        ctx,
        LeaderLock(engine),
        sender.run,
        at=settings.jobs_time,
        election_seconds=settings.election_seconds,
    )
    jobs = JobServices(outbox, store, settings.reminders, sender.wake, ctx)
    return JobsRuntime(jobs, sender, service)


def _calendar_push(deps: Deps) -> Callable[[], Awaitable[int]] | None:
    """``mediation.calendar.push_pending`` over the app's calendar, for the scheduler."""
    from bot.actions_calendar import CalendarService
    from mediation.calendar import push_pending

    service = deps.calendar
    if not isinstance(service, CalendarService):
        return None
    return lambda: push_pending(deps.uow_factory(), service.deps)
