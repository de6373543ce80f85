"""Shared set-up of the jobs' tests: a real sender and CloudAdapter against the fake connector."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

import pytest
from aiohttp import web
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.deps import FeedbackDeps
from bot.framework.connector import BotConnector
from bot.outbox_cards import MessageRenderer
from bot.postman import Postman
from bot.sender import Sender
from bot.settings import SendLimits, Settings
from bot.teams import TeamsGateway
from jobs.base import JobContext
from jobs.scheduler import SchedulerService
from mediation.model import Mediator, Role
from mediation.reminders import ReminderPolicy
from storage.botstore import BotStore
from storage.calendar import SqlMeetingFinder
from storage.feedback import SqlFeedbackStore
from storage.jobs import JobStore
from storage.leader import LeaderLock
from storage.outbox import SqlOutbox
from storage.stats import SqlStatsQueries
from storage.uow import SqlUnitOfWork
from tests.fakes.connector import FakeConnector

LOCALES = {"fi": "fi-FI", "sv": "sv-SE", "en": "en-US"}


def adapter() -> CloudAdapter:
    config = SimpleNamespace(APP_ID="", APP_PASSWORD="", APP_TYPE="MultiTenant", APP_TENANTID="")
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(config))


def conversation_of(aad: str) -> str:
    return f"a:personal-29:{aad}"


def reference(aad: str, url: str, lang: str = "fi") -> dict[str, Any]:
    """A personal chat's reference as the bot stores it (see bot.teams.reference_dict)."""
    return {
        "activityId": f"act-{aad}",
        "user": {"id": f"29:{aad}", "aadObjectId": aad},
        "bot": {"id": "28:sopu-bot", "name": "Sopu"},
        "conversation": {"id": conversation_of(aad), "conversationType": "personal"},
        "channelId": "msteams",
        "locale": LOCALES[lang],
        "serviceUrl": url,
    }


def mediator(key: str, role: Role = Role.MEDIATOR, active: bool = True) -> Mediator:
    return Mediator(
        aad_object_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"sopu-test:{key}")),
        name=key.title(),
        email=f"{key}@example.org",
        employer="Tuusula",
        languages=frozenset({"fi", "sv"}),
        role=role,
        experienced_mark=True,
        active=active,
    )


@dataclass
class Jobs:
    """One replica's jobs and sender, built the way bot.jobs_runtime.build_jobs builds them."""

    sessions: async_sessionmaker[AsyncSession]
    clock: Any
    connector: FakeConnector
    policy: ReminderPolicy = field(default_factory=ReminderPolicy)
    limits: SendLimits = field(default_factory=SendLimits)
    settings: Settings = field(default_factory=Settings)

    def __post_init__(self) -> None:
        self.outbox = SqlOutbox(self.sessions)
        self.store = JobStore(self.sessions)
        self.bot_store = BotStore(self.sessions)
        self.adapter = adapter()
        self.bot_connector = BotConnector(self.adapter, "")
        gateway = TeamsGateway(
            self.bot_connector, self.bot_store, self.uow, self.clock, self.settings.policy
        )
        feedback = FeedbackDeps(
            SqlFeedbackStore(self.sessions),
            SqlStatsQueries(self.sessions),
            "https://sopu.example.org",
            b"jobs-test-key" * 3,
        )
        policy = self.settings.policy
        render = MessageRenderer(self.uow, self.clock, policy, gateway, feedback, None)
        postman = Postman(
            self.bot_store,
            self.bot_connector,
            render,
            self.outbox,
            self.uow,
            self.clock,
            self.settings.policy,
        )
        self.sender = Sender(self.outbox, postman, self.clock, self.limits, poll_seconds=0.05)
        self.ctx = JobContext(
            uow_factory=self.uow,
            outbox=self.outbox,
            store=self.store,
            clock=self.clock,
            bank=self.settings.policy,
            policy=self.policy,
            meetings=SqlMeetingFinder(self.sessions),
            wake=self.sender.wake,
        )

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions)

    def service(self, engine: AsyncEngine, election_seconds: float = 0.1) -> SchedulerService:
        return SchedulerService(
            self.ctx, LeaderLock(engine), self.sender.run, election_seconds=election_seconds
        )

    async def add_people(self, people: list[Mediator], langs: dict[str, str] | None = None) -> None:
        uow = self.uow()
        async with uow:
            for person in people:
                await uow.mediators.add(person)
            await uow.commit()
        for person in people:
            lang = (langs or {}).get(person.name.lower(), "fi")
            await self.bot_store.save_user_reference(
                person.aad_object_id, reference(person.aad_object_id, self.connector.url, lang)
            )


def delivered(connector: FakeConnector) -> dict[str, int]:
    """How many posts each personal conversation received."""
    counts: dict[str, int] = {}
    for sent in connector.log:
        if sent.kind in ("send", "reply"):
            counts[sent.conversation_id] = counts.get(sent.conversation_id, 0) + 1
    return counts


def local(moment: datetime) -> datetime:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Europe/Helsinki"))


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    """The fake Bot Connector on a free port."""
    fake = FakeConnector()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}"
    yield fake
    await runner.cleanup()
