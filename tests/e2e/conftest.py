"""Sopu end to end: the real app and CloudAdapter on a real port, a fake Bot Connector.

Activities are posted to /api/messages the way Teams posts them; what the bot sends back
through the connector is recorded by tests/fakes/connector.py. What the bot did to the
bank is read back through the app's own unit of work.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from botbuilder.schema import Activity
from msrest.serialization import Deserializer, Model
from sqlalchemy import select

from bot.access_log import RedactingAccessLogger
from bot.bootstrap import SOPU, Sopu, create_app
from bot.framework.activity import ActivityReader, Unusual
from bot.framework.references import reference_dict
from bot.settings import Settings
from cards.i18n import Lang
from mediation.journal import AccessEntry, CaseEvent
from mediation.model import Mediator, Role
from mediation.policy import BankPolicy
from storage.db import upgrade
from storage.schema import metadata
from tests.card_schema import assert_valid_card
from tests.clock import FixedClock
from tests.conftest import run_apart
from tests.fakes.connector import FakeConnector, Sent, card_of
from tests.unit.factories import FORM

TENANT = "72f988bf-0000-4000-8000-000000000001"
TEAM = "19:bank-team@thread.tacv2"
CHANNEL = "19:bank-cases@thread.tacv2"
BOT_ID = "28:sopu-bot"
CARD_TYPE = "application/vnd.microsoft.card.adaptive"
LOCALES: dict[Lang, str] = {"fi": "fi-FI", "sv": "sv-SE", "en": "en-US"}

# Tables that change whenever Teams talks to Sopu, whatever the bank does: which activity
# ids were seen and where each user's personal chat is. "Nothing changed" ignores them.
_MODELS = Activity._infer_class_models()
_BOOKKEEPING = frozenset({"processed_activity", "conversation_ref", "alembic_version"})


@dataclass(frozen=True)
class Person:
    key: str
    name: str
    aad: str
    teams_id: str
    role: Role = Role.MEDIATOR
    experienced: bool = True
    languages: str = "fi"


def _aad(n: int) -> str:
    return f"aaaaaaaa-0000-4000-8000-{n:012d}"


PEOPLE = [
    Person("coord", "Kaisa Koordinaattori", _aad(1), "29:coord", Role.COORDINATOR, True, "fi sv"),
    Person("olli", "Olli Kokenut", _aad(2), "29:olli"),
    Person("outi", "Outi Osaava", _aad(3), "29:outi", languages="fi sv"),
    Person("niina", "Niina Uusi", _aad(4), "29:niina", experienced=False),
    Person("nils", "Nils Ny", _aad(5), "29:nils", experienced=False, languages="sv fi"),
    Person("sven", "Sven Svensson", _aad(6), "29:sven", languages="sv"),
]
STRANGER = Person("stranger", "Sam Stranger", "bbbbbbbb-0000-4000-8000-000000000009", "29:stranger")


def same_as_msrest(body: Any) -> None:
    """Every activity a test posts is read by Sopu's fast reader exactly as msrest reads it."""
    if not isinstance(body, dict):
        return
    data = json.loads(json.dumps(body))
    try:
        fast = _plain(ActivityReader(_MODELS).read("Activity", data))
    except Unusual:
        return  # Sopu reads it with msrest itself
    try:
        slow = _plain(Deserializer(_MODELS)("Activity", json.loads(json.dumps(body))))
    except Exception:
        return  # not an activity at all: the gate's 400 is tested elsewhere
    assert fast == slow


def _plain(value: Any) -> Any:
    if isinstance(value, Model):
        return {"__class__": type(value).__name__, **{k: _plain(v) for k, v in vars(value).items()}}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def words(card: Any) -> str:
    """Every text a person can read on a card (texts, titles, facts, choices), one a line."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key in ("text", "title", "value", "label", "placeholder"):
                if isinstance(node.get(key), str):
                    found.append(node[key])
            for value in node.values():
                if isinstance(value, dict | list):
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return "\n".join(found)


def texts(card: Any) -> str:
    """The whole card as JSON text, data included (for what must never be anywhere on it)."""
    return json.dumps(card, ensure_ascii=False)


def verbs_on(card: dict[str, Any]) -> list[str]:
    """The verbs of every Action.Execute on a card, nested show-cards included."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "Action.Execute":
                found.append(node.get("verb", ""))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(card)
    return found


# The case card's buttons that change the case carry what the card showed.
SNAPSHOT_VERBS = frozenset(
    {"case.claim", "case.release", "case.assign", "case.close", "case.cancel"}
)


def card_snapshot(sopu: Sopu) -> Any:
    """What a case card drawn from the database now carries in its changing buttons."""

    async def read(case_id: int) -> dict[str, Any] | None:
        uow = sopu.uow()
        async with uow:
            case = await uow.cases.get(case_id)
        if case is None:
            return None
        holders = [seat.holder_id for seat in case.seats]
        return {"version": case.version, "status": case.status.value, "holders": holders}

    return read


@dataclass
class Teams:
    """Posts activities to Sopu as Teams would, on behalf of the people above."""

    base: str
    http: aiohttp.ClientSession
    connector: FakeConnector
    people: dict[str, Person] = field(default_factory=lambda: {p.key: p for p in PEOPLE})
    _ids: Any = field(default_factory=lambda: itertools.count(1))
    # Waits for what Sopu sends after answering (card updates, notes), so that a test reads
    # the connector's state once it is complete; None posts without waiting.
    settle: Any = None
    # Reads a case's snapshot as its card drawn now shows it (``card_snapshot``): a click of
    # a changing case button without "shown" in its data is a click of the current card.
    # "shown": None in the data sends the button without one.
    card_now: Any = None

    def person(self, key: str) -> Person:
        return self.people.get(key, STRANGER)

    def _activity(self, who: Person, where: str, **extra: Any) -> dict[str, Any]:
        tenant = extra.pop("tenant", TENANT)
        channel_data: dict[str, Any] = {"tenant": {"id": tenant}}
        if where == "personal":
            conversation = {
                "id": f"a:personal-{who.teams_id}",
                "conversationType": "personal",
                "tenantId": tenant,
            }
        else:
            thread = extra.pop("thread", CHANNEL)
            conversation = {
                "id": thread,
                "conversationType": "channel",
                "isGroup": True,
                "tenantId": tenant,
            }
            channel_data |= {
                "team": {"id": extra.pop("team", TEAM), "name": "Mediation Team"},
                "channel": {"id": extra.pop("channel", CHANNEL), "name": "Cases"},
            }
        channel_data |= extra.pop("channel_data", {})
        return {
            "type": "message",
            "id": extra.pop("id", f"act-{next(self._ids)}"),
            "timestamp": datetime.now(UTC).isoformat(),
            "serviceUrl": self.connector.url,
            "channelId": "msteams",
            "from": extra.pop(
                "sender", {"id": who.teams_id, "name": who.name, "aadObjectId": who.aad}
            ),
            "recipient": {"id": BOT_ID, "name": "Sopu"},
            "conversation": conversation,
            "channelData": channel_data,
            "locale": extra.pop("locale", "en-US"),
            **extra,
        }

    async def post(
        self, body: Any = None, raw: bytes | None = None, content_type: str = "application/json"
    ) -> tuple[int, Any]:
        if raw is not None:
            kwargs: dict[str, Any] = {"data": raw, "headers": {"Content-Type": content_type}}
        else:
            kwargs = {"json": await self._with_card_shown(body)}
            same_as_msrest(body)
        async with self.http.post(f"{self.base}/api/messages", **kwargs) as resp:
            status, text = resp.status, await resp.text()
            if text and status == 200:  # a card answer: JSON in UTF-8 (cards carry ä, ö, å)
                assert (resp.content_type, resp.charset) == ("application/json", "utf-8")
        if self.settle is not None:
            await self.settle()
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text

    async def _with_card_shown(self, body: Any) -> Any:
        """A case button's click as from the card drawn now, unless its data says otherwise."""
        try:
            action = body["value"]["action"]
            data = action["data"]
            case_id = data["case_id"]
        except (KeyError, TypeError):
            return body
        if (
            self.card_now is None
            or action.get("verb") not in SNAPSHOT_VERBS
            or "shown" in data
            or not isinstance(case_id, int)
            or not 0 < case_id < 2**31
        ):
            return body
        shown = await self.card_now(case_id)
        if shown is None:
            return body
        clicked = {**action, "data": {**data, "shown": shown}}
        return {**body, "value": {**body["value"], "action": clicked}}

    def message(self, key: str, text: str, where: str = "personal", **extra: Any) -> dict[str, Any]:
        """A typed message; in a channel it starts with the bot's @mention, as Teams sends it."""
        if where == "channel":
            text = f"<at>Sopu</at> {text}"
            extra.setdefault(
                "entities",
                [
                    {
                        "type": "mention",
                        "text": "<at>Sopu</at>",
                        "mentioned": {"id": BOT_ID, "name": "Sopu"},
                    }
                ],
            )
        return self._activity(self.person(key), where, text=text, **extra)

    async def say(
        self, key: str, text: str, where: str = "personal", **extra: Any
    ) -> tuple[int, Any]:
        return await self.post(self.message(key, text, where, **extra))

    async def ask(
        self, key: str, text: str, where: str = "personal", **extra: Any
    ) -> dict[str, Any]:
        """Say something and return the one card Sopu answers with in that conversation."""
        before = len(self.connector.log)
        activity = self.message(key, text, where, **extra)
        status, body = await self.post(activity)
        assert status == 200, (status, body)
        answer = await self.connector.wait_for(
            lambda s: (
                s.kind in ("send", "reply") and s.conversation_id == activity["conversation"]["id"]
            ),
            after=before,
        )
        assert answer.card is not None, answer.activity
        assert_valid_card(answer.card)
        return answer.card

    def click_activity(
        self, key: str, verb: Any, data: Any, where: str = "channel", **extra: Any
    ) -> dict[str, Any]:
        who = self.person(key)
        value = extra.pop(
            "value",
            {"action": {"type": "Action.Execute", "verb": verb, "data": data}, "trigger": "manual"},
        )
        activity = self._activity(who, where, **extra)
        activity |= {"type": "invoke", "name": "adaptiveCard/action", "value": value}
        return activity

    async def click(
        self, key: str, verb: Any, data: Any, where: str = "channel", **extra: Any
    ) -> dict[str, Any]:
        """Click a card button; Sopu must answer HTTP 200 with an Adaptive Card."""
        status, body = await self.post(self.click_activity(key, verb, data, where, **extra))
        return answer_card(status, body)

    async def remember_personal_chats(self, sopu: Sopu) -> None:
        """Arrange that everyone has a personal chat with Sopu, stored as Sopu stores it.

        The same as each person installing the app (``open_personal_chats``) minus the
        greeting each would get, which makes every test a tenth of a second faster.
        """
        for p in self.people.values():
            activity = Activity().deserialize(self._activity(p, "personal"))
            await sopu.store.save_user_reference(p.aad, reference_dict(activity))

    async def open_personal_chats(self, keys: list[str] | None = None) -> None:
        """Each person's app install in personal scope, as Teams announces it."""
        activities = []
        for key in keys or list(self.people):
            p = self.people[key]
            activity = self._activity(p, "personal")
            activity |= {"type": "conversationUpdate", "membersAdded": [{"id": p.teams_id}]}
            activities.append(activity)
        answers = await asyncio.gather(*(self.post(a) for a in activities))
        assert all(status == 200 for status, _ in answers), answers


def answer_card(status: int, body: Any) -> dict[str, Any]:
    """The card of an invoke answer, after checking it is one."""
    assert status == 200, (status, body)
    assert isinstance(body, dict) and body.get("statusCode") == 200, body
    assert body.get("type") == CARD_TYPE, body
    card: dict[str, Any] = body["value"]
    assert card.get("type") == "AdaptiveCard", card
    assert_valid_card(card)
    return card


@dataclass(frozen=True)
class Posted:
    """A case registered through the intake form and posted in the bank channel."""

    case_id: int
    code: str
    thread: str  # the channel thread's conversation id
    activity_id: str  # the card's message id in that thread
    answer: dict[str, Any]  # what the coordinator saw after submitting the form


@dataclass
class Bank:
    """One running Sopu with its fake Teams; the helpers the end-to-end tests share."""

    app: web.Application
    teams: Teams
    clock: FixedClock

    @property
    def sopu(self) -> Sopu:
        return self.app[SOPU]

    @property
    def connector(self) -> FakeConnector:
        return self.teams.connector

    # -- doing things ------------------------------------------------------------------

    async def setup(self) -> None:
        """The coordinator makes the allowed channel the bank channel."""
        card = await self.teams.ask("coord", "setup", where="channel")
        assert "Cases" in words(card), card

    async def intake_form(self, key: str = "coord", locale: str = "en-US") -> dict[str, Any]:
        return await self.teams.ask(key, "new case", locale=locale)

    async def new_case(self, form: dict[str, Any] | None = None, locale: str = "en-US") -> Posted:
        """Register a family through the intake form and find its card in the bank channel."""
        blank = await self.intake_form(locale=locale)
        submit = next(a for a in blank["actions"] if a.get("verb") == "case.create")
        before = len(self.connector.log)
        answer = await self.teams.click(
            "coord",
            "case.create",
            {**(form or FORM), **submit["data"]},
            where="personal",
            locale=locale,
        )
        posted = await self.connector.wait_for(
            lambda s: s.kind == "create" and s.conversation_id.startswith(CHANNEL), after=before
        )
        assert posted.card is not None
        case_id = next(
            a["data"]["case_id"] for a in posted.card["actions"] if a.get("verb") == "card.refresh"
        )
        code = posted.card["body"][0]["text"].split()[-1]
        return Posted(case_id, code, posted.conversation_id, posted.activity_id, answer)

    async def claim(self, key: str, case: Posted, **extra: Any) -> dict[str, Any]:
        return await self.teams.click(
            key, "case.claim", {"case_id": case.case_id}, thread=case.thread, **extra
        )

    async def paired(self, first: str = "olli", second: str = "outi") -> Posted:
        """A posted case whose pair is complete."""
        case = await self.new_case()
        await self.claim(first, case)
        await self.claim(second, case)
        assert await self.holders(case) == {
            1: self.teams.person(first).name,
            2: self.teams.person(second).name,
        }
        return case

    async def add_mediators(
        self, count: int, prefix: str = "extra", experienced: bool = True, languages: str = "fi"
    ) -> list[Person]:
        """Register more mediators (who have not opened a chat with Sopu)."""
        people = [
            Person(
                f"{prefix}{i}",
                f"{prefix.title()} Mediator {i:02}",
                str(uuid.uuid4()),
                f"29:{prefix}{i}",
                experienced=experienced,
                languages=languages,
            )
            for i in range(1, count + 1)
        ]
        uow = self.sopu.uow()
        async with uow:
            for p in people:
                await uow.mediators.add(mediator_row(p))
            await uow.commit()
        self.teams.people.update({p.key: p for p in people})
        self.connector.teams_ids.update({p.aad: p.teams_id for p in people})
        return people

    # -- reading the bank back ---------------------------------------------------------

    async def mediator(self, key: str) -> Mediator:
        uow = self.sopu.uow()
        async with uow:
            found = await uow.mediators.by_aad(self.teams.person(key).aad)
        assert found is not None
        return found

    async def holders(self, case: Posted) -> dict[int, str | None]:
        uow = self.sopu.uow()
        async with uow:
            stored = await uow.cases.get(case.case_id)
            assert stored is not None
            people = await uow.mediators.by_ids(stored.holder_ids())
        return {s.n: people[s.holder_id].name if s.holder_id else None for s in stored.seats}

    async def status(self, case: Posted) -> str:
        uow = self.sopu.uow()
        async with uow:
            stored = await uow.cases.get(case.case_id)
        assert stored is not None
        return stored.status.value

    async def events(self, case: Posted) -> list[CaseEvent]:
        uow = self.sopu.uow()
        async with uow:
            return await uow.journal.case_events(case.case_id)

    async def accesses(self, case: Posted) -> list[AccessEntry]:
        uow = self.sopu.uow()
        async with uow:
            return await uow.journal.accesses(case.case_id)

    async def state(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every row the bank keeps (bookkeeping of activities aside), table by table."""
        uow = self.sopu.uow()
        tables: dict[str, list[tuple[Any, ...]]] = {}
        async with uow:
            for table in metadata.sorted_tables:
                if table.name in _BOOKKEEPING:
                    continue
                rows = (await uow.session.execute(select(table))).all()
                tables[table.name] = sorted((tuple(r) for r in rows), key=repr)
        return tables

    def channel_card(self, case: Posted) -> dict[str, Any]:
        """The card as it now stands in the bank channel, after every update the bot made."""
        post = self.latest_post(case)
        current = self.connector.current(post.conversation_id, post.activity_id)
        assert current is not None
        card = card_of(current)
        assert card is not None
        return card

    def latest_post(self, case: Posted) -> Sent:
        """The newest post of this case's card in the channel (a re-post replaces the first)."""
        posts = [
            s
            for s in self.connector.of_kind("create")
            if s.conversation_id.startswith(CHANNEL) and s.card and f"{case.code}" in words(s.card)
        ]
        assert posts, f"case {case.code} was never posted"
        return posts[-1]

    def personal(self, key: str, after: int = 0) -> list[Sent]:
        """What Sopu sent to a person's personal chat."""
        cid = f"a:personal-{self.teams.person(key).teams_id}"
        return [s for s in self.connector.log[after:] if s.conversation_id == cid]


@dataclass
class Unchanged:
    """Asserts that nothing in the bank changed and nothing was sent meanwhile.

    ``replies`` allows that many answers in the chat where the user wrote (the refusal).
    """

    bank: Bank
    replies: int = 0
    before: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    sent_before: int = 0
    refused_before: int = 0

    async def __aenter__(self) -> Unchanged:
        self.before = await self.bank.state()
        self.sent_before = len(self.bank.connector.log)
        self.refused_before = len(self.bank.connector.refused)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if exc[0] is not None:
            return
        after = await self.bank.state()
        changed = {name for name in after if after[name] != self.before.get(name)}
        assert not changed, f"changed: {sorted(changed)}"
        sent = self.bank.connector.log[self.sent_before :]
        assert len(sent) == self.replies, f"sent: {[(s.kind, s.conversation_id) for s in sent]}"
        assert all(s.kind in ("send", "reply") for s in sent), sent
        assert len({s.conversation_id for s in sent}) <= 1, sent
        assert len(self.bank.connector.refused) == self.refused_before


def mediator_row(p: Person) -> Mediator:
    return Mediator(
        aad_object_id=p.aad,
        name=p.name,
        email=f"{p.key}@example.org",
        employer="Hyvinkää",
        languages=frozenset(p.languages.split()),
        role=p.role,
        experienced_mark=p.experienced,
    )


def seed_rows() -> list[Mediator]:
    return [mediator_row(p) for p in PEOPLE]


async def start(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app, access_log_class=RedactingAccessLogger)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"


@pytest.fixture
async def connector() -> AsyncIterator[FakeConnector]:
    fake = FakeConnector()
    fake.teams_ids.update({p.aad: p.teams_id for p in PEOPLE})
    runner, url = await start(fake.app())
    fake.url = url
    yield fake
    await runner.cleanup()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def migrated_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty SQLite database at the newest schema, migrated once for the session."""
    path = tmp_path_factory.mktemp("template") / "sopu.db"
    run_apart(upgrade(f"sqlite:///{path}"))
    return path


@pytest.fixture
def e2e_database_url(tmp_path: Path, migrated_sqlite: Path) -> str:
    # A copy of the migrated template: Sopu's own start-up migration then has nothing to do.
    shutil.copyfile(migrated_sqlite, tmp_path / "sopu.db")
    return f"sqlite+aiosqlite:///{tmp_path / 'sopu.db'}"


@pytest.fixture
def e2e_settings(e2e_database_url: str) -> Settings:
    # The fake Teams writes in English unless a test says otherwise: so does this bank's
    # channel (a bank's setting, Finnish by default).
    return Settings(
        policy=BankPolicy(language="en"),
        database_url=e2e_database_url,
        allowed_tenants=frozenset({TENANT.lower()}),
        allowed_teams=frozenset({TEAM.lower()}),
        allowed_channels=frozenset({CHANNEL.lower()}),
    )


@contextlib.asynccontextmanager
async def running(
    settings: Settings, connector: FakeConnector, clock: FixedClock, *, seed: bool = True
) -> AsyncIterator[Bank]:
    """Sopu started from ``settings`` on a free port; ``seed`` adds the registry and chats."""
    app = create_app(settings, clock=clock)
    runner, base = await start(app)
    try:
        if seed:
            uow = app[SOPU].uow()
            async with uow:
                for m in seed_rows():
                    await uow.mediators.add(m)
                await uow.commit()
        async with aiohttp.ClientSession() as http:
            teams = Teams(
                base,
                http,
                connector,
                settle=app[SOPU].jobs.sender.settled,
                card_now=card_snapshot(app[SOPU]),
            )
            if seed:
                await teams.remember_personal_chats(app[SOPU])
            yield Bank(app, teams, clock)
    finally:
        await runner.cleanup()


@pytest.fixture
async def sopu(
    connector: FakeConnector, clock: FixedClock, e2e_settings: Settings
) -> AsyncIterator[tuple[web.Application, Teams]]:
    async with running(e2e_settings, connector, clock) as started:
        yield started.app, started.teams


@pytest.fixture
def fresh(sopu: tuple[web.Application, Teams], clock: FixedClock) -> Bank:
    """A running Sopu with its registry, before any bank channel is set up."""
    app, teams = sopu
    return Bank(app, teams, clock)


@pytest.fixture
async def bank(fresh: Bank) -> Bank:
    """A running Sopu whose bank channel is set up; the connector's log starts empty."""
    await fresh.setup()
    fresh.connector.log.clear()
    return fresh
