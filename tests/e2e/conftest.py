"""Sopu end to end: the real app and CloudAdapter on a real port, a fake Bot Connector.

Activities are posted to /api/messages the way Teams posts them; what the bot sends back
through the connector is recorded by tests/fakes/connector.py.
"""

from __future__ import annotations

import itertools
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.app import SOPU, create_app
from bot.settings import Settings
from mediation.model import Mediator, Role
from tests.clock import FixedClock
from tests.fakes.connector import FakeConnector

TENANT = "72f988bf-0000-4000-8000-000000000001"
TEAM = "19:bank-team@thread.tacv2"
CHANNEL = "19:bank-cases@thread.tacv2"
BOT_ID = "28:sopu-bot"


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    aad: str
    teams_id: str
    role: Role = Role.MEDIATOR
    experienced: bool = True
    languages: str = "fi"


PEOPLE = [
    Person("coord", "Kaisa Koordinaattori", "aaaaaaaa-0000-4000-8000-000000000001", "29:coord", Role.COORDINATOR, True, "fi sv"),
    Person("olli", "Olli Kokenut", "aaaaaaaa-0000-4000-8000-000000000002", "29:olli"),
    Person("outi", "Outi Osaava", "aaaaaaaa-0000-4000-8000-000000000003", "29:outi", languages="fi sv"),
    Person("niina", "Niina Uusi", "aaaaaaaa-0000-4000-8000-000000000004", "29:niina", experienced=False),
    Person("nils", "Nils Ny", "aaaaaaaa-0000-4000-8000-000000000005", "29:nils", experienced=False, languages="sv fi"),
    Person("sven", "Sven Svensson", "aaaaaaaa-0000-4000-8000-000000000006", "29:sven", languages="sv"),
]
STRANGER = Person("stranger", "Sam Stranger", "bbbbbbbb-0000-4000-8000-000000000009", "29:stranger")


@dataclass
class Teams:
    """Posts activities to Sopu as Teams would, on behalf of the people above."""

    base: str
    http: aiohttp.ClientSession
    connector: FakeConnector
    people: dict[str, Person] = field(default_factory=lambda: {p.key: p for p in PEOPLE})
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def _activity(self, who: Person, where: str, **extra: Any) -> dict[str, Any]:
        channel_data: dict[str, Any] = {"tenant": {"id": TENANT}}
        if where == "personal":
            conversation = {"id": f"a:personal-{who.teams_id}", "conversationType": "personal", "tenantId": TENANT}
        else:
            thread = extra.pop("thread", CHANNEL)
            conversation = {"id": thread, "conversationType": "channel", "isGroup": True, "tenantId": TENANT}
            channel_data |= {"team": {"id": TEAM, "name": "Mediation Team"}, "channel": {"id": CHANNEL, "name": "Cases"}}
        channel_data |= extra.pop("channel_data", {})
        return {
            "type": "message",
            "id": extra.pop("id", f"act-{next(self._ids)}"),
            "timestamp": datetime.now(UTC).isoformat(),
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": {"id": who.teams_id, "name": who.name, "aadObjectId": who.aad},
            "recipient": {"id": BOT_ID, "name": "Sopu"},
            "conversation": conversation,
            "channelData": channel_data,
            "locale": extra.pop("locale", "en-US"),
            **extra,
        }

    async def post(self, body: Any, raw: bytes | None = None) -> tuple[int, Any]:
        data = raw if raw is not None else None
        kwargs: dict[str, Any] = {"data": data, "headers": {"Content-Type": "application/json"}} if raw is not None else {"json": body}
        async with self.http.post(f"{self.base}/api/messages", **kwargs) as resp:
            text = await resp.text()
            try:
                return resp.status, (await resp.json(content_type=None)) if text else None
            except ValueError:
                return resp.status, text

    async def say(self, key: str, text: str, where: str = "personal", **extra: Any) -> tuple[int, Any]:
        who = self.people.get(key, STRANGER)
        if where == "channel":
            text = f"<at>Sopu</at> {text}"
            extra.setdefault("entities", [{"type": "mention", "text": "<at>Sopu</at>", "mentioned": {"id": BOT_ID, "name": "Sopu"}}])
        return await self.post(self._activity(who, where, text=text, **extra))

    def click_activity(self, key: str, verb: str, data: dict[str, Any], where: str = "channel", **extra: Any) -> dict[str, Any]:
        who = self.people.get(key, STRANGER)
        activity = self._activity(who, where, **extra)
        activity |= {
            "type": "invoke",
            "name": "adaptiveCard/action",
            "value": {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"},
        }
        return activity

    async def click(self, key: str, verb: str, data: dict[str, Any], where: str = "channel", **extra: Any) -> dict[str, Any]:
        status, body = await self.post(self.click_activity(key, verb, data, where, **extra))
        assert status == 200, (status, body)
        assert body["statusCode"] == 200 and body["type"] == "application/vnd.microsoft.card.adaptive", body
        card: dict[str, Any] = body["value"]
        return card

    async def open_personal_chats(self) -> None:
        """Each person's app install in personal scope, as Teams announces it."""
        for p in self.people.values():
            activity = self._activity(p, "personal")
            activity |= {"type": "conversationUpdate", "membersAdded": [{"id": p.teams_id}]}
            status, _ = await self.post(activity)
            assert status == 200


def seed_rows() -> list[Mediator]:
    return [
        Mediator(
            aad_object_id=p.aad,
            name=p.name,
            email=f"{p.key}@example.org",
            employer="Hyvinkää",
            languages=frozenset(p.languages.split()),
            role=p.role,
            experienced_mark=p.experienced,
        )
        for p in PEOPLE
    ]


async def start(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    runner, url = await start(fake.app())
    fake.url = url
    yield fake
    await runner.cleanup()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture
def e2e_database_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'sopu.db'}"


@pytest.fixture
async def sopu(
    connector: FakeConnector, clock: FixedClock, e2e_database_url: str
) -> AsyncIterator[tuple[web.Application, Teams]]:
    settings = Settings(
        database_url=e2e_database_url,
        allowed_tenants=frozenset({TENANT.lower()}),
        allowed_teams=frozenset({TEAM.lower()}),
        allowed_channels=frozenset({CHANNEL.lower()}),
    )
    app = create_app(settings, clock=clock)
    runner, base = await start(app)
    sopu = app[SOPU]
    uow = sopu.uow()
    async with uow:
        for m in seed_rows():
            await uow.mediators.add(m)
        await uow.commit()
    async with aiohttp.ClientSession() as http:
        teams = Teams(base, http, connector)
        await teams.open_personal_chats()
        yield app, teams
    await runner.cleanup()


def new_uuid() -> str:
    return str(uuid.uuid4())
