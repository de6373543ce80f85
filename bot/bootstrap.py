"""The composition root: every adapter of one running Sopu is built here, once.

``create_app`` (the web app, its tests and the benchmarks) and the command line
(``open_storage``) start Sopu through this module alone; nothing holds an adapter, an
engine or the settings at module level, and nothing is changed after it is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import gc
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot import (
    access_log,
    contact_page,
    dev_mailbox,
    feedback_page,
    info_page,
    request_guard,
    stats_download,
)
from bot import web as plain_routes
from bot.actions import CaseActions
from bot.actions_calendar import CalendarActions
from bot.actions_common_time import CommonTimeActions
from bot.actions_consultations import ConsultationActions
from bot.actions_feedback import FeedbackActions
from bot.actions_jobs import JobActions
from bot.actions_organisations import OrganisationActions
from bot.actions_requests import RequestActions
from bot.actions_templates import TemplateActions
from bot.actions_walk_in import WalkInActions
from bot.answers import CaseAnswers
from bot.calendar_service import open_calendar
from bot.clock import SystemClock
from bot.conversation import Conversation
from bot.deps import (
    ActionDeps,
    CommonTimeCatalogWording,
    ConsultationCatalogWording,
    FeedbackDeps,
)
from bot.family_mail import FamilyMailPost, open_family_mail
from bot.framework.adapter import build_adapter
from bot.framework.connector import BotConnector
from bot.framework.endpoint import ActivityEndpoint
from bot.framework.handler import SopuBot
from bot.jobs_runtime import JobsRuntime, build_jobs
from bot.keys import CALENDAR, DEV_MAILBOX, ENGINE, SETTINGS, UNITS
from bot.languages import Languages, bank_language
from bot.outbox_cards import MessageRenderer
from bot.postman import Postman
from bot.router import Router
from bot.sender import SenderWake
from bot.settings import Settings
from bot.signing import secret_key
from bot.teams import TeamsGateway
from bot.turns import TurnGate
from jobs import contact_requests
from jobs.base import finnish_holidays
from mediation.ports import Clock
from mediation.services.common_time import CommonTimeDeps, Room
from mediation.services.consultations import ConsultationDeps
from mediation.services.walk_in import WalkInDeps
from storage.botstore import BotStore
from storage.db import create_engine, reports_engine, upgrade
from storage.family_mail import SqlDevMailbox, SqlFamilyTemplates
from storage.feedback import SqlFeedbackStore
from storage.outbox import SqlOutbox
from storage.redelivery import Delivery
from storage.requests import SqlRequestStore
from storage.stats import SqlStatsQueries
from storage.uow import SqlUnitOfWork, reading_sessions, session_factory

log = logging.getLogger(__name__)

# Requests larger than this are refused by aiohttp before Sopu reads them.
MAX_REQUEST_BYTES = 512 * 1024


@dataclass(frozen=True)
class Storage:
    """The database of one running Sopu: its engine and the sessions made on it."""

    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    readers: async_sessionmaker[AsyncSession]  # for SqlUnitOfWork.reading()

    def uow(self, delivery: Delivery | None = None) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions, delivery, readers=self.readers)


@contextlib.asynccontextmanager
async def open_storage(settings: Settings) -> AsyncIterator[Storage]:
    """The database at the newest schema, for the app and the command line alike."""
    engine = create_engine(settings.database_url, connections=settings.connections)
    try:
        await upgrade(engine)
        yield Storage(engine, session_factory(engine), reading_sessions(engine))
    finally:
        await engine.dispose()


@dataclass(frozen=True)
class Sopu:
    """Everything one running Sopu holds."""

    settings: Settings
    clock: Clock
    storage: Storage
    report_sessions: async_sessionmaker[AsyncSession]  # for the statistics' long reads
    store: BotStore
    connector: BotConnector
    bot: SopuBot
    router: Router
    endpoint: ActivityEndpoint
    gateway: TeamsGateway
    deps: ActionDeps
    jobs: JobsRuntime
    requests: SqlRequestStore  # the families' contact requests
    family_mail: FamilyMailPost  # e-mails to parents: templates, the mail service

    @property
    def engine(self) -> AsyncEngine:
        return self.storage.engine

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.storage.sessions

    def uow(self, delivery: Delivery | None = None) -> SqlUnitOfWork:
        return self.storage.uow(delivery)


SOPU = web.AppKey("sopu", Sopu)


@contextlib.asynccontextmanager
async def open_sopu(
    settings: Settings, clock: Clock, *, graph_credential: Any = None
) -> AsyncIterator[Sopu]:
    """Build every part of Sopu, in dependency order; close them in reverse."""
    async with open_storage(settings) as storage, contextlib.AsyncExitStack() as stack:
        reports = reports_engine(storage.engine)
        if reports is not storage.engine:
            stack.push_async_callback(reports.dispose)
        report_sessions = session_factory(reports)
        uow_factory: Callable[[], SqlUnitOfWork] = storage.uow
        store = BotStore(storage.sessions)
        adapter = build_adapter(settings)
        connector = BotConnector(adapter, settings.bot_app_id)
        stack.push_async_callback(connector.close)  # last: the jobs may still be sending
        gateway = TeamsGateway(connector, store, uow_factory, clock, settings.policy)
        # What a change tells Teams is in the outbox with the change; once it is committed
        # the sender is woken to send it now.
        wake = SenderWake()
        calendar = await open_calendar(
            settings, storage.sessions, clock, wake, uow_factory, graph_credential
        )
        stack.push_async_callback(calendar.close)
        common = CommonTimeDeps(
            clock,
            settings.policy,
            calendar.deps.calendar,
            calendar.deps.meetings,
            CommonTimeCatalogWording(bank_language(settings.policy)),
            calendar.deps.closed_days,
            tuple(Room.of(entry) for entry in settings.calendar.rooms),
            settings.feedback_link_days,
        )
        consult = ConsultationDeps(
            clock,
            settings.policy,
            settings.consultation_days,
            calendar.deps.calendar,
            ConsultationCatalogWording(bank_language(settings.policy)),
        )
        walk_in = WalkInDeps(clock, settings.policy, settings.walk_in, finnish_holidays())
        feedback = FeedbackDeps(
            SqlFeedbackStore(storage.sessions),
            SqlStatsQueries(report_sessions),
            settings.base_url(),
            secret_key(settings),
            settings.feedback_link_days,
            settings.stats_link_minutes,
        )
        requests = SqlRequestStore(storage.sessions)
        renderer = MessageRenderer(
            uow_factory,
            clock,
            settings.policy,
            gateway,
            feedback,
            calendar,
            requests,
            settings.front_door,
            common,
            consult,
            walk_in,
        )
        mail_sender, no_sender = open_family_mail(settings, storage.sessions, clock, calendar)
        if mail_sender is None:
            log.warning("e-mail to families cannot be sent: %s", no_sender)
        templates = SqlFamilyTemplates(storage.sessions)
        family_mail = FamilyMailPost(
            mail_sender,
            no_sender,
            templates,
            uow_factory,
            settings.policy.timezone,
            settings.base_url(),
        )
        postman = Postman(
            store,
            connector,
            renderer,
            SqlOutbox(storage.sessions),
            uow_factory,
            clock,
            settings.policy,
            family_mail,
        )
        jobs = build_jobs(
            settings,
            storage.engine,
            storage.sessions,
            uow_factory,
            clock,
            postman,
            calendar,
            wake,
            requests,
            common,
            consult,
        )
        stack.push_async_callback(jobs.stop)
        deps = ActionDeps(
            units=storage.uow,
            notifier=wake,
            clock=clock,
            policy=settings.policy,
            store=store,
            gateway=gateway,
            feedback=feedback,
            calendar=calendar,
            jobs=jobs.services,
        )
        answers = CaseAnswers(deps)
        cases = CaseActions(deps, answers)
        meetings = CalendarActions(deps)
        feedback_actions = FeedbackActions(deps)
        job_actions = JobActions(deps)
        request_actions = RequestActions(deps, requests, settings.front_door)
        template_actions = TemplateActions(deps, templates)
        organisation_actions = OrganisationActions(deps)
        common_time_actions = CommonTimeActions(deps, common)
        consultation_actions = ConsultationActions(deps, consult)
        walk_in_actions = WalkInActions(deps, walk_in)
        languages = Languages(store, clock, bank_language(settings.policy))
        router = Router(
            {
                **cases.routes(),
                **meetings.routes(),
                **feedback_actions.routes(),
                **job_actions.routes(),
                **request_actions.routes(),
                **template_actions.routes(),
                **organisation_actions.routes(),
                **common_time_actions.routes(),
                **consultation_actions.routes(),
                **walk_in_actions.routes(),
            },
            answers,
            languages,
        )
        conversation = Conversation(
            deps,
            cases,
            job_actions,
            feedback_actions,
            request_actions,
            template_actions,
            common_time_actions,
            consultation_actions,
            languages,
            walk_in_actions,
        )
        bot = SopuBot(conversation, router, store, connector)
        turns = TurnGate(settings.turns_at_once)
        endpoint = ActivityEndpoint(settings, clock, adapter, bot, router, store, turns)
        yield Sopu(
            settings,
            clock,
            storage,
            report_sessions,
            store,
            connector,
            bot,
            router,
            endpoint,
            gateway,
            deps,
            jobs,
            requests,
            family_mail,
        )


def create_app(
    settings: Settings, *, clock: Clock | None = None, graph_credential: Any = None
) -> web.Application:
    """Sopu's aiohttp app; its parts are built when it starts and closed when it stops."""
    settings.validate()
    access_log.quiet_aiohttp_errors()
    app = web.Application(
        client_max_size=MAX_REQUEST_BYTES, handler_args=request_guard.HANDLER_ARGS
    )
    request_guard.install(app)
    app[SETTINGS] = settings
    running = _Running(settings, clock or SystemClock(), graph_credential)
    app.cleanup_ctx.append(running.context)
    app.router.add_post("/api/messages", _messages)
    plain_routes.add_routes(app)
    feedback_page.add_routes(app)
    contact_page.add_routes(app)
    info_page.add_routes(app)
    stats_download.add_routes(app)
    dev_mailbox.add_routes(app)
    return app


async def _messages(request: web.Request) -> web.Response:
    """Teams' messaging endpoint (bot/framework/endpoint.py)."""
    return await request.app[SOPU].endpoint(request)


@dataclass(frozen=True)
class _Running:
    settings: Settings
    clock: Clock
    graph_credential: Any

    async def context(self, app: web.Application) -> AsyncIterator[None]:
        settings = self.settings
        if not settings.auth_enabled:
            log.warning(
                "Bot Framework authentication is OFF (no BOT_APP_ID): any local client can "
                "post activities. This is for the Agents Playground on this machine only."
            )
        async with open_sopu(settings, self.clock, graph_credential=self.graph_credential) as sopu:
            app[SOPU] = sopu
            app[ENGINE] = sopu.engine
            app[CALENDAR] = sopu.deps.calendar
            app[UNITS] = sopu.storage.uow
            if isinstance(sopu.family_mail.sender, SqlDevMailbox):
                app[DEV_MAILBOX] = sopu.family_mail.sender
            app[feedback_page.FEEDBACK_PAGE] = feedback_page.FeedbackPage(
                sopu.deps.feedback.store, self.clock, secret_key(settings), sopu.storage.uow
            )
            app[contact_page.CONTACT_PAGE] = contact_page.ContactPage(
                sopu.requests,
                self.clock,
                secret_key(settings),
                settings.front_door,
                settings.policy,
                functools.partial(contact_requests.announce, sopu.jobs.services.context),
                proxy_hops=settings.trusted_proxy_hops,
            )
            app[stats_download.STATS_DOWNLOAD] = stats_download.StatsDownload(
                sopu.deps.feedback.stats,
                self.clock,
                settings.policy,
                secret_key(settings),
                sopu.storage.uow,
            )
            sweeper = asyncio.create_task(_forget_old_activities(sopu))
            settle_heap()
            sopu.jobs.start(scheduler=settings.scheduler)
            try:
                yield
            finally:
                sweeper.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await sweeper


def settle_heap() -> None:
    """Hide what start-up built (modules, SDK classes, adapters) from the cyclic collector.

    It all lives as long as the process; left in view, every full collection walks it and
    stops the event loop long enough for posts paced apart to reach Teams together and be
    refused (bench/fanout.py). Once per process: a later app in the same process (tests)
    would freeze the garbage of the earlier ones for good.
    """
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


# How long the personal chat of someone not (yet) in the registry is remembered.
UNREGISTERED_CHATS_KEPT = timedelta(days=30)


async def forget_old_activities(sopu: Sopu) -> int:
    """Drop the redelivery ids older than the configured hours (never less than a day).

    The personal chats of people outside the registry go too, after UNREGISTERED_CHATS_KEPT.
    """
    keep = timedelta(hours=max(24, sopu.settings.processed_activity_hours))
    await sopu.store.forget_unregistered_chats(sopu.clock.now() - UNREGISTERED_CHATS_KEPT)
    return await sopu.store.forget_seen_before(sopu.clock.now() - keep)


async def _forget_old_activities(sopu: Sopu) -> None:
    while True:
        try:
            await forget_old_activities(sopu)
        except Exception:
            log.exception("forgetting old activity ids failed")
        await asyncio.sleep(3600)
