"""kill -9 during bursts of intakes and seat clicks, then Teams' redelivery of what it must.

Real ``python -m bot serve`` processes on SQLite (one replica) and PostgreSQL (two replicas
sharing a fresh database, one of them killed), the fake Bot Connector in the test's process.
Whatever the kill interrupts, once the replica is back and Teams has redelivered every
activity that got no answer (and some that did, under the same and under new ids): every
form answered "registered" is one case, no form makes two, every case reaches the bank
channel, and every channel card shows the holders and version the database has.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from cards.case import SHOWN
from storage.db import create_engine
from storage.models import CasePostRow, CaseRow, ProcessedActivityRow, SeatRow
from storage.models_jobs import OutboxRow
from tests.e2e.conftest import CHANNEL, Teams, words
from tests.e2e.replicas import (
    Replica,
    card_answer,
    deliver,
    import_registry,
    new_activity_id,
    sopu_env,
)
from tests.fakes.connector import FakeConnector, card_of
from tests.unit.factories import FORM

pytestmark = pytest.mark.slow

WARM_CASES = 6  # cases posted before the burst, whose seats the burst claims and releases
FORMS = 40
CLICKS = 60
AT_ONCE = 8
KILL_AFTER = 0.4  # share of the burst answered before the kill
SETTLE_SECONDS = 90.0
CLICKERS = ["olli", "outi", "niina", "nils", "sven"]


async def until(check: Callable[[], Any], timeout: float, what: str) -> None:
    """Wait for an async check to return a true value; fail saying what never came."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: Any = None
    while loop.time() < deadline:
        last = await check()
        if last is True or (last and not isinstance(last, list | dict)):
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"{what} within {timeout:g} s: {last!r}")


def form_click(teams: Teams, form_id: str, activity_id: str) -> dict[str, Any]:
    return teams.click_activity(
        "coord", "case.create", {**FORM, "form_id": form_id}, where="personal", id=activity_id
    )


def registered_code(card: dict[str, Any]) -> str | None:
    """The case code of a "case registered" answer; None for any other answer."""
    title = card["body"][0].get("text", "") if card.get("body") else ""
    if title.startswith("Case ") and title.endswith(" registered"):
        return str(title.split()[1])
    return None


def shown_on(card: Any) -> dict[str, Any] | None:
    """What a channel card's buttons say it shows (version, holders), wherever they are.

    The coordinators' tools sit inside the card's show-card actions.
    """
    if isinstance(card, dict):
        data = card.get("data")
        if isinstance(data, dict) and isinstance(data.get(SHOWN), dict):
            return dict(data[SHOWN])
        children: list[Any] = list(card.values())
    elif isinstance(card, list):
        children = card
    else:
        return None
    for child in children:
        found = shown_on(child)
        if found is not None:
            return found
    return None


class Burst:
    """Every activity of the burst, its answers, and Teams' redelivery afterwards."""

    def __init__(
        self,
        teams: Teams,
        http: aiohttp.ClientSession,
        replicas: list[Replica],
        engine: AsyncEngine,
    ):
        self.teams = teams
        self.http = http
        self.replicas = replicas
        self.engine = engine
        self.turn = itertools.count()
        self.answers: dict[str, tuple[int, Any] | None] = {}
        self.activities: dict[str, dict[str, Any]] = {}
        self.forms: dict[str, str] = {}  # activity id -> form id

    def target(self) -> Replica:
        """Round robin over the replicas, as a load balancer spreads Teams' requests."""
        return self.replicas[next(self.turn) % len(self.replicas)]

    async def clicked_now(self, activity: dict[str, Any]) -> dict[str, Any]:
        """A case button's click carries what its card shows when it is clicked: the case as
        the database has it then. Teams sends it again (redelivery) with the same data."""
        action = activity.get("value", {}).get("action", {})
        data = action.get("data", {})
        if action.get("verb") not in ("case.claim", "case.release") or SHOWN in data:
            return activity
        case_id = data["case_id"]
        (case,) = await rows(self.engine, select(CaseRow).where(CaseRow.id == case_id))
        seats = await rows(
            self.engine, select(SeatRow).where(SeatRow.case_id == case_id).order_by(SeatRow.n)
        )
        shown = {
            "version": case.version,
            "status": case.status,
            "holders": [seat.holder_id for seat in seats],
        }
        clicked = {**action, "data": {**data, SHOWN: shown}}
        return {**activity, "value": {**activity["value"], "action": clicked}}

    def answered(self) -> int:
        return sum(1 for a in self.answers.values() if a is not None and a[0] == 200)

    async def send(self, activity: dict[str, Any], gate: asyncio.Semaphore) -> None:
        async with gate:
            activity = await self.clicked_now(activity)
            self.activities[activity["id"]] = activity
            self.answers[activity["id"]] = await deliver(self.http, self.target(), activity)

    async def redeliver_unanswered(self) -> None:
        """Teams tries again every activity that got no answer, under the same id."""
        for activity_id, activity in self.activities.items():
            for _ in range(8):
                answer = self.answers.get(activity_id)
                if answer is not None and answer[0] == 200:
                    break
                self.answers[activity_id] = await deliver(self.http, self.target(), activity)
            assert self.answers[activity_id] is not None, f"{activity_id} never answered"
            assert self.answers[activity_id][0] == 200, self.answers[activity_id]  # type: ignore[index]

    async def redeliver_some_answered(self, rng: random.Random) -> list[tuple[int, Any] | None]:
        """Teams also sends again some that were answered: same id, or a new id."""
        again = []
        for activity_id, activity in list(self.activities.items()):
            if rng.random() < 0.25:
                again.append(await deliver(self.http, self.target(), activity))
            if rng.random() < 0.15:
                fresh = {**activity, "id": new_activity_id()}
                self.activities[fresh["id"]] = fresh
                if activity_id in self.forms:
                    self.forms[fresh["id"]] = self.forms[activity_id]
                answer = await deliver(self.http, self.target(), fresh)
                self.answers[fresh["id"]] = answer
                again.append(answer)
        return again


async def rows(engine: AsyncEngine, statement: Any) -> list[Any]:
    async with engine.connect() as connection:
        return list((await connection.execute(statement)).all())


async def crash_and_redeliver(
    database_url: str, replica_count: int, workdir: Path, connector: FakeConnector
) -> str:
    """The whole scenario; returns every line the replicas logged."""
    env = sopu_env(database_url, workdir / "var")
    import_registry(env, workdir)
    replicas = [Replica(f"replica{i}", env, workdir) for i in range(replica_count)]
    victim = replicas[-1]
    engine = create_engine(database_url)
    rng = random.Random(20)
    try:
        async with aiohttp.ClientSession() as http:
            for replica in replicas:
                replica.start()
            await asyncio.gather(*(r.ready(http) for r in replicas))
            teams = Teams(replicas[0].url, http, connector)
            setup = await deliver(http, replicas[0], teams.message("coord", "setup", "channel"))
            assert setup is not None and setup[0] == 200, setup

            # Cases already on the board, for the burst's claims and releases.
            burst = Burst(teams, http, replicas, engine)
            for _ in range(WARM_CASES):
                card = card_answer(
                    await deliver(
                        http,
                        burst.target(),
                        form_click(teams, uuid.uuid4().hex, new_activity_id()),
                    )
                )
                assert card is not None and registered_code(card), card
            warm = [r.id for r in await rows(engine, select(CaseRow.id))]
            assert len(warm) == WARM_CASES

            activities: list[dict[str, Any]] = []
            for _ in range(FORMS):
                form_id, activity_id = uuid.uuid4().hex, new_activity_id()
                burst.forms[activity_id] = form_id
                activities.append(form_click(teams, form_id, activity_id))
            for _ in range(CLICKS):
                verb = rng.choice(["case.claim", "case.claim", "case.release"])
                activities.append(
                    teams.click_activity(
                        rng.choice(CLICKERS),
                        verb,
                        {"case_id": rng.choice(warm)},
                        id=new_activity_id(),
                    )
                )
            rng.shuffle(activities)

            gate = asyncio.Semaphore(AT_ONCE)
            sending = [asyncio.create_task(burst.send(a, gate)) for a in activities]
            await until(
                lambda: asyncio.sleep(0, burst.answered() >= KILL_AFTER * len(activities)),
                120,
                "the burst did not get going",
            )
            victim.kill()
            await asyncio.gather(*sending)
            unanswered = len(activities) - burst.answered()
            assert unanswered > 0, (
                "the kill must cut the burst short for this test to mean anything"
            )

            victim.start()
            await victim.ready(http)
            await burst.redeliver_unanswered()
            await burst.redeliver_some_answered(rng)

            # Every form is a case, once; every "registered" answer names one of them.
            cases = {r.code: r.id for r in await rows(engine, select(CaseRow.id, CaseRow.code))}
            assert len(cases) == WARM_CASES + FORMS, (len(cases), unanswered)
            keys = {r.key for r in await rows(engine, select(ProcessedActivityRow.key))}
            assert {f"form|{f}" for f in burst.forms.values()} <= keys
            told: Counter[str] = Counter()
            for activity_id, form_id in burst.forms.items():
                card = card_answer(burst.answers[activity_id])
                assert card is not None
                code = registered_code(card)
                if code is not None:
                    assert code in cases, code
                    told[form_id] += 1
                else:
                    assert "already been sent" in words(card), card
            # A form whose first answer the kill cut off may hear "already sent" instead:
            # the truth, since its case was committed.
            assert all(n == 1 for n in told.values()), told

            async def unposted() -> list[int] | bool:
                posted = {r.case_id for r in await rows(engine, select(CasePostRow.case_id))}
                missing = sorted(set(cases.values()) - posted)
                return missing or True

            try:
                await until(unposted, SETTLE_SECONDS, "cases left without a channel post")
            except AssertionError as missing:
                raise AssertionError(
                    f"{missing}\n{await channel_messages(engine)}\n{trouble(replicas)}"
                ) from None

            async def stale() -> dict[int, Any] | bool:
                holders: dict[int, list[int | None]] = {}
                for seat in await rows(engine, select(SeatRow).order_by(SeatRow.n)):
                    holders.setdefault(seat.case_id, []).append(seat.holder_id)
                versions = dict(await rows(engine, select(CaseRow.id, CaseRow.version)))
                wrong: dict[int, Any] = {}
                for post in await rows(engine, select(CasePostRow)):
                    current = connector.current(post.conversation_id, post.activity_id)
                    shown = shown_on(card_of(current) or {}) if current else None
                    want = {"holders": holders[post.case_id], "version": versions[post.case_id]}
                    if shown is None or {k: shown.get(k) for k in want} != want:
                        wrong[post.case_id] = (shown, want)
                return wrong or True

            await until(stale, SETTLE_SECONDS, "channel cards not showing the database")

            threads = Counter(
                sent.card["body"][0]["text"].split()[-1]
                for sent in connector.of_kind("create")
                if sent.conversation_id.startswith(CHANNEL) and sent.card
            )
            assert set(threads) == set(cases)
            # A thread posted twice only when the kill fell inside its post.
            assert max(threads.values()) <= 2, threads
    finally:
        for replica in replicas:
            replica.stop()
        await engine.dispose()
    return "\n".join(r.log() for r in replicas)


async def channel_messages(engine: AsyncEngine) -> str:
    """The outbox's channel messages as the failure's evidence (they hold no family data)."""
    found = await rows(
        engine,
        select(
            OutboxRow.id,
            OutboxRow.kind,
            OutboxRow.subject,
            OutboxRow.status,
            OutboxRow.attempts,
            OutboxRow.next_try_at,
            OutboxRow.claimed_at,
            OutboxRow.posting_at,
            OutboxRow.error,
        )
        .where(OutboxRow.kind.in_(["case_post", "card_update"]))
        .order_by(OutboxRow.id),
    )
    return "outbox:\n" + "\n".join(" ".join(str(v) for v in row) for row in found)


def trouble(replicas: list[Replica]) -> str:
    """The replicas' warnings and errors, with their tracebacks."""
    lines = []
    for replica in replicas:
        keep = False
        for line in replica.log().splitlines():
            if " WARNING " in line or " ERROR " in line or "Traceback" in line:
                keep = True
            elif " INFO " in line or " DEBUG " in line:
                keep = False
            if keep:
                lines.append(f"{replica.name}: {line}")
    return "\n".join(lines[-200:])


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sopu.db'}"


@pytest.fixture
async def postgres_url(postgres_admin_url: str) -> AsyncIterator[str]:
    from tests.conftest import _admin, _fresh_postgres_database, run_apart

    name, url = _fresh_postgres_database(postgres_admin_url)
    try:
        yield url
    finally:
        run_apart(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def no_family_in(logs: str) -> None:
    """The replicas' logs, crash and restart included, name no one of the family."""
    assert logs.count("Running on") >= 2, "the log is the servers' own"
    for value in ("Virtanen", "040 123 4567", "765 4321", "aino@example.org"):
        assert value not in logs, value


async def test_kill_9_on_sqlite_loses_nothing_and_doubles_nothing(
    sqlite_url: str, tmp_path: Path, connector: FakeConnector
) -> None:
    no_family_in(await crash_and_redeliver(sqlite_url, 1, tmp_path, connector))


@pytest.mark.postgres
async def test_one_of_two_replicas_killed_on_postgres_loses_nothing(
    postgres_url: str, tmp_path: Path, connector: FakeConnector
) -> None:
    no_family_in(await crash_and_redeliver(postgres_url, 2, tmp_path, connector))
