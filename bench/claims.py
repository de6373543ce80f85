"""Claim clicks over HTTP against the real Sopu app, beside a stock echo bot and bare aiohttp.

    .venv/bin/python -m bench.claims           # about 1.5 minutes
    .venv/bin/python -m bench.claims --quick   # about 15 seconds, without the msrest-off run
    .venv/bin/python -m bench.claims --postgres postgresql://root@127.0.0.1:5432/postgres
        # also Sopu on PostgreSQL: two replicas on one fresh database, the load spread

Every server runs in its own subprocess on 127.0.0.1, so the load generator (this
process) never shares an event loop with a server: the fake Bot Connector of
tests/fakes/connector.py; a bare aiohttp handler that returns a small JSON; botbuilder's
stock echo bot (``ActivityHandler`` behind ``CloudAdapter.process``, msrest left as
shipped); Sopu from ``create_app`` on a fresh SQLite file; and, unless told otherwise,
Sopu again with the msrest fix turned off in that process only (``--serve
sopu-stock-msrest``), to show what the fix is worth. With ``--postgres`` (a database
where the run may create and drop one of its own), also Sopu as production runs it: two
replica processes on one fresh PostgreSQL database, each client's clicks going to the
two in turn, as a load balancer would spread them; its CPU is both replicas'.

Sopu's load is a fixed cycle of ten card clicks per lane (one lane per concurrent
client, each lane its own mediator and cases), so seats and quotas never run out:

    real claim (commits, then updates the channel card through the connector)
    re-claim of a held seat (no change)      x3
    claim of a paired case (refused)         x3
    claim of a Swedish-only case (refused)   x2
    release of the claimed seat (commits, updates the card, tells the coordinator)

Nine clicks in ten are claims. Each one takes the whole path: gate, redelivery insert,
CloudAdapter, the use case's transaction, the answer card with the registry's names;
a refusal re-reads the case to show it. Every answer is checked to be the expected card,
and at the end the claims and releases in Sopu's journal are compared with the answers.

The load generator's own cost is shown, not guessed: its CPU time per request is the
"client" column, and the bare handler's row is the ceiling of this harness on this
machine. Server CPU is read from /proc for each server process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib
import importlib.util
import itertools
import json
import math
import os
import platform
import re
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
TENANT = "72f988bf-0000-4000-8000-0000000000be"
TEAM = "19:bench-team@thread.tacv2"
CHANNEL = "19:bench-cases@thread.tacv2"
BOT_ID = "28:sopu-bench"
REGISTRY_SIZE = 40  # active mediators; every case card lists them for the coordinator
REQUEST_TIMEOUT = 15.0  # the Bot Connector gives up after 15 s
SETTLE_SECONDS = 0.3  # after a phase, for what the server sends once it has answered
OUTBOX_WAIT_SECONDS = 120.0  # at the end, for the outbox to be sent; what is left is reported
JSON = {"Content-Type": "application/json"}


# -- what the run does ----------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    concurrencies: tuple[int, ...] = (1, 32)
    requests: tuple[int, ...] = (1500, 5000)  # at most, per concurrency
    seconds: float = 10.0  # at most, per concurrency
    warmup_requests: int = 400
    warmup_seconds: float = 2.0
    stock_msrest: bool = True  # also measure Sopu with the msrest fix off
    postgres: str = ""  # a PostgreSQL server's URL: also Sopu as two replicas on it
    time_limit: float = 150.0  # the whole run, start-up included

    @classmethod
    def quick(cls) -> Options:
        """Short phases and no msrest-off run: a first look, not figures to quote."""
        return cls(
            requests=(300, 1200),
            seconds=1.5,
            warmup_requests=100,
            warmup_seconds=0.3,
            stock_msrest=False,
            time_limit=40.0,
        )

    @classmethod
    def tiny(cls) -> Options:
        """A few requests per phase, for the smoke test: figures mean nothing here."""
        return cls(
            concurrencies=(1, 4),
            requests=(12, 24),
            seconds=5.0,
            warmup_requests=4,
            warmup_seconds=2.0,
            time_limit=90.0,
        )

    @property
    def lanes(self) -> int:
        return max(self.concurrencies)


# -- activities as Teams sends them --------------------------------------------------------


def person(i: int) -> dict[str, str]:
    """Registry member i of the benchmark's bank (0 is the coordinator)."""
    return {
        "aad": f"bbbbbbbb-0000-4000-8000-{i:012d}",
        "teams_id": f"29:bench-{i}",
        "name": "Kaisa Koordinaattori" if i == 0 else f"Sovittelija {i:02d}",
    }


def activity(
    who: dict[str, str], service_url: str, conversation: str | None, **extra: Any
) -> dict[str, Any]:
    """A Teams activity from ``who``: in a bank-channel thread, or in personal chat (None)."""
    channel_data: dict[str, Any] = {"tenant": {"id": TENANT}}
    conv: dict[str, Any]
    if conversation is None:
        conv = {
            "id": f"a:personal-{who['teams_id']}",
            "conversationType": "personal",
            "tenantId": TENANT,
        }
    else:
        conv = {
            "id": conversation,
            "conversationType": "channel",
            "isGroup": True,
            "tenantId": TENANT,
        }
        channel_data |= {
            "team": {"id": TEAM, "name": "Mediation Team"},
            "channel": {"id": CHANNEL, "name": "Cases"},
        }
    return {
        "type": "message",
        "id": uuid.uuid4().hex,
        "timestamp": datetime.now(UTC).isoformat(),
        "serviceUrl": service_url,
        "channelId": "msteams",
        "from": {"id": who["teams_id"], "name": who["name"], "aadObjectId": who["aad"]},
        "recipient": {"id": BOT_ID, "name": "Sopu"},
        "conversation": conv,
        "channelData": channel_data,
        "locale": "en-US",
        **extra,
    }


def click(
    who: dict[str, str],
    service_url: str,
    thread: str,
    verb: str,
    case_id: int,
    shown: dict[str, Any] | None = None,
) -> bytes:
    """A click of a case card's button; ``shown`` is what the card showed (its snapshot)."""
    data: dict[str, Any] = {"case_id": case_id}
    if shown is not None:
        data["shown"] = shown
    body = activity(
        who,
        service_url,
        thread,
        type="invoke",
        name="adaptiveCard/action",
        value={
            "action": {"type": "Action.Execute", "verb": verb, "data": data},
            "trigger": "manual",
        },
    )
    return json.dumps(body).encode()


# -- the servers, each in its own process ---------------------------------------------------


class Served:
    """A server's app, what it reports once it listens, and what it reports at the end."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def ready(self) -> dict[str, Any]:
        return {}

    async def done(self) -> dict[str, Any]:
        return {}


async def _serve(kind: str, connector_url: str, database: str, lanes: int) -> None:
    """Child side: start one server, print READY, serve until stdin closes, print DONE."""
    import logging

    from aiohttp import web

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if kind == "connector":
        served: Served = _Connector()
    elif kind == "bare":
        served = Served(web.Application())
        served.app.router.add_post("/api/messages", _bare)
    elif kind == "echo":
        served = Served(_echo_app())
    elif kind in ("sopu", "sopu-stock-msrest", "sopu-pg"):
        if kind == "sopu-stock-msrest":
            _keep_msrest_stock()
        served = _SopuBank(database, connector_url, lanes)
    elif kind == "sopu-pg-replica":
        served = Served(_root().create_app(_bench_settings(database)))
    else:
        raise SystemExit(f"unknown server {kind!r}")
    runner = web.AppRunner(served.app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    info = {"pid": os.getpid(), "port": port, **await served.ready()}
    from msrest.universal_http.requests import ClientRetryPolicy

    info["msrest_fixed"] = isinstance(ClientRetryPolicy.safe_codes, frozenset)
    print("READY " + json.dumps(info), flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    print("DONE " + json.dumps(await served.done()), flush=True)
    await runner.cleanup()


class _Connector(Served):
    """tests/fakes/connector.py, reporting at the end how many calls of each kind it got."""

    def __init__(self) -> None:
        from tests.fakes.connector import FakeConnector

        self.fake = FakeConnector()
        super().__init__(self.fake.app())

    async def done(self) -> dict[str, Any]:
        return {"received": dict(Counter(s.kind for s in self.fake.log))}


async def _bare(request: Any) -> Any:
    from aiohttp import web

    await request.read()
    return web.json_response({"ok": True})


def _echo_app() -> Any:
    """botbuilder's echo bot sample, as shipped: no msrest fix, stock CloudAdapter.process."""
    from aiohttp import web
    from botbuilder.core import ActivityHandler, MessageFactory, TurnContext
    from botbuilder.core.integration import aiohttp_error_middleware
    from botbuilder.integration.aiohttp import (
        CloudAdapter,
        ConfigurationBotFrameworkAuthentication,
    )

    class DefaultConfig:
        APP_ID = ""
        APP_PASSWORD = ""
        APP_TYPE = "MultiTenant"
        APP_TENANTID = ""

    class EchoBot(ActivityHandler):
        async def on_message_activity(self, turn_context: TurnContext) -> None:
            text = f"Echo: {turn_context.activity.text}"
            await turn_context.send_activity(MessageFactory.text(text, text))

    adapter = CloudAdapter(ConfigurationBotFrameworkAuthentication(DefaultConfig()))
    bot = EchoBot()

    async def messages(request: web.Request) -> web.Response:
        return await adapter.process(request, bot)

    app = web.Application(middlewares=[aiohttp_error_middleware])
    app.router.add_post("/api/messages", messages)
    return app


def _keep_msrest_stock() -> None:
    """Benchmark only: this Sopu process skips the msrest fix, to measure what it is worth."""
    module = importlib.import_module(_OLD_ROOT if _tree_has(_OLD_ROOT) else "bot.framework.adapter")
    module.speed_up_msrest = lambda: None  # type: ignore[attr-defined]


# bench/claims_ab.py serves revisions from before and after the composition root moved from
# bot/app.py to bot/bootstrap.py with this one file: each name is looked up where the
# served tree has it.
_OLD_ROOT = "bot.app"


def _tree_has(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def _root() -> Any:
    return importlib.import_module(_OLD_ROOT if _tree_has(_OLD_ROOT) else "bot.bootstrap")


def _delivers_in_memory(sopu: Any) -> bool:
    """Revisions before the durable outbox posted and updated cards from memory."""
    return hasattr(sopu, "deliveries")


def _reference_dict() -> Any:
    if _tree_has(_OLD_ROOT):
        return importlib.import_module("bot.teams").reference_dict
    return importlib.import_module("bot.framework.references").reference_dict


class _SilentNotifier:
    """Seeding happens before any card is posted: nobody to tell yet."""

    async def notify(self, notification: Any) -> None:
        return None


def _bench_settings(database: str) -> Any:
    """Sopu's settings for a SQLite file's path or a database URL."""
    from bot.settings import Settings
    from mediation.policy import BankPolicy

    bank: dict[str, Any] = {}
    if "language" in {f.name for f in dataclasses.fields(BankPolicy)}:
        # The cycle checks English answers: this bank's channel is in English (revisions
        # from before the bank's language was a setting answered in the clicker's).
        bank["policy"] = BankPolicy(language="en")
    return Settings(
        database_url=database if "://" in database else f"sqlite+aiosqlite:///{database}",
        allowed_tenants=frozenset({TENANT}),
        allowed_teams=frozenset({TEAM}),
        allowed_channels=frozenset({CHANNEL}),
        **bank,
        **_tuning({f.name for f in dataclasses.fields(Settings)}),
    )


def _tuning(fields: set[str]) -> dict[str, Any]:
    """SOPU_TURNS_AT_ONCE and SOPU_SEND_CONCURRENCY from the environment, to measure them."""
    tuning: dict[str, Any] = {}
    turns = os.environ.get("SOPU_TURNS_AT_ONCE", "").strip()
    if turns and "turns_at_once" in fields:
        tuning["turns_at_once"] = int(turns)
    sends = os.environ.get("SOPU_SEND_CONCURRENCY", "").strip()
    if sends and "send_limits" in fields:
        from bot.settings import SendLimits

        tuning["send_limits"] = SendLimits(concurrency=int(sends))
    return tuning


class _SopuBank(Served):
    """Sopu from create_app on a fresh SQLite file, filled with a bank through its use cases.

    Registry, personal chats and bank channel as a coordinator would set them up; per
    lane a case to claim and release and a case whose seat the lane's mediator holds;
    two paired cases and one Swedish-speaking family; every case posted to the channel.
    """

    def __init__(self, database: str, connector_url: str, lanes: int) -> None:
        super().__init__(_root().create_app(_bench_settings(database)))
        self.url = connector_url
        self.lanes = lanes
        self.claim_cases: list[int] = []
        self.seeded_claims = 0  # claims made while seeding, not by the clients
        self.seeded_merged = 0  # card updates of the seeding's claims, shown by the posts

    async def ready(self) -> dict[str, Any]:
        from botbuilder.schema import Activity

        from mediation import services
        from mediation.model import Mediator, Role

        sopu = self.app[_root().SOPU]
        reference_dict = _reference_dict()
        clock, policy = sopu.clock, sopu.settings.policy
        people = [person(i) for i in range(max(REGISTRY_SIZE, self.lanes + 5))]
        uow = sopu.uow()
        async with uow:
            for i, p in enumerate(people):
                await uow.mediators.add(
                    Mediator(
                        aad_object_id=p["aad"],
                        name=p["name"],
                        email=f"m{i}@example.org",
                        employer="Keski-Uusimaa",
                        languages=frozenset({"fi"} if i else {"fi", "sv"}),
                        role=Role.COORDINATOR if i == 0 else Role.MEDIATOR,
                        experienced_mark=True,
                    )
                )
            await uow.commit()
        for p in people:  # as if each had opened the personal chat with Sopu
            ref = reference_dict(Activity().deserialize(activity(p, self.url, None)))
            await sopu.store.save_user_reference(p["aad"], ref)
        channel = reference_dict(Activity().deserialize(activity(people[0], self.url, CHANNEL)))
        async with (uow := sopu.uow()):
            coordinator = await services.actor(uow, people[0]["aad"])
        assert coordinator.id is not None
        await sopu.store.set_bank_channel(
            TEAM, CHANNEL, self.url, channel, coordinator.id, clock.now()
        )

        from tests.unit.factories import FORM  # the same fictitious family as the tests

        async def register(language: str = "fi") -> int:
            cmd = services.RegisterCase(people[0]["aad"], {**FORM, "language": language})
            return (await services.register_case(cmd, sopu.uow(), clock, policy)).case_id

        async def claim(who: dict[str, str], case_id: int) -> None:
            cmd = services.ClaimSeat(who["aad"], case_id)
            await services.claim_seat(cmd, sopu.uow(), _SilentNotifier(), clock, policy)

        lanes: list[dict[str, Any]] = []
        for lane, me in enumerate(people[1 : 1 + self.lanes]):
            to_claim, held = await register(), await register()
            await claim(me, held)
            if holds_at_start(lane):
                await claim(me, to_claim)
                self.seeded_claims += 1
            async with (uow := sopu.uow()):
                me_id = (await services.actor(uow, me["aad"])).id
            lanes.append({"who": me, "id": me_id, "claim": to_claim, "held": held})
            self.claim_cases.append(to_claim)
        fillers = people[1 + self.lanes : 5 + self.lanes]
        paired = [await register(), await register()]
        for case_id, pair in zip(paired, (fillers[:2], fillers[2:]), strict=True):
            for who in pair:
                await claim(who, case_id)
        swedish = await register("sv")
        threads = {}
        in_memory = _delivers_in_memory(sopu)
        if not in_memory:
            # Each case's thread is posted by the outbox's sender, as in production.
            await sopu.jobs.sender.settled(timeout=300)
        for case_id in [*self.claim_cases, *(x["held"] for x in lanes), *paired, swedish]:
            if in_memory:
                summary = await services.summary_of(sopu.uow(), case_id, clock, policy)
                await sopu.gateway.post_case(summary)
            post = await sopu.store.case_post(case_id)
            assert post is not None
            threads[str(case_id)] = post.conversation_id
        if not in_memory:
            self.seeded_merged = await self._merged()
        # What each case's card shows now, for the buttons' snapshots (the client keeps the
        # lanes' own cases up to date as it claims and releases them).
        shown: dict[str, Any] = {}
        async with (uow := sopu.uow()):
            for key in threads:
                case = await uow.cases.get(int(key))
                assert case is not None
                holders = [seat.holder_id for seat in case.seats]
                shown[key] = {
                    "version": case.version,
                    "status": case.status.value,
                    "holders": holders,
                }
        return {
            "lanes": lanes,
            "paired": paired,
            "swedish": swedish,
            "threads": threads,
            "shown": shown,
        }

    async def done(self) -> dict[str, Any]:
        """What the journal recorded on the lanes' cases: real claims and releases."""
        kinds: Counter[str] = Counter()
        sopu = self.app[_root().SOPU]
        uow = sopu.uow()
        async with uow:
            for case_id in self.claim_cases:
                kinds.update(e.kind.value for e in await uow.journal.case_events(case_id))
        waiting: Counter[str] = Counter()
        if _delivers_in_memory(sopu):
            await sopu.deliveries.drain()
            merged = sopu.deliveries.merged
        else:
            try:
                await sopu.jobs.sender.settled(timeout=OUTBOX_WAIT_SECONDS)
            except TimeoutError:
                # Reported rather than waited for: what one person's chat is told goes at
                # Teams' pace for one conversation (60 in 30 s), far below the clicks'.
                messages = await sopu.jobs.services.outbox.all()
                waiting.update(m.key.kind.value for m in messages if not m.status.final)
            merged = await self._merged() - self.seeded_merged
        return {
            "claimed": kinds["claimed"] - self.seeded_claims,
            "released": kinds["released"],
            # Changes whose card update was covered by another that showed the case later.
            "merged": merged,
            "waiting": dict(waiting),
        }

    async def _merged(self) -> int:
        """Card updates the outbox ended as shown by a later update or post."""
        sopu = self.app[_root().SOPU]
        return sum(
            1
            for m in await sopu.jobs.services.outbox.all()
            if m.key.kind.value == "card_update" and m.error == "shown by a later update"
        )


class Child:
    """One server subprocess: READY {json} when it listens; DONE {json} after stdin closes."""

    command: tuple[str, ...] = (sys.executable, "-m", "bench.claims")

    def __init__(self, kind: str, workdir: Path, database: str = "") -> None:
        self.kind = kind
        self.workdir = workdir
        self.database = database or str(workdir / f"{kind}.db")
        self.proc: asyncio.subprocess.Process | None = None
        self.info: dict[str, Any] = {}
        self.summary: dict[str, Any] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.info['port']}"

    @property
    def pid(self) -> int:
        return int(self.info["pid"])

    async def start(self, connector_url: str = "", lanes: int = 1, timeout: float = 300) -> None:
        # Seeding (and posting every case's thread at Teams' pace) took over a minute on a
        # busy shared machine.
        log = self._log_file()
        self.proc = await asyncio.create_subprocess_exec(
            *self.command,
            "--serve",
            self.kind,
            "--connector",
            connector_url,
            "--database",
            self.database,
            "--lanes",
            str(lanes),
            cwd=ROOT,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=log,
            limit=2**22,
        )
        log.close()
        self.info = await asyncio.wait_for(self._line("READY"), timeout)

    def _log_file(self) -> Any:
        return open(self.workdir / f"{self.kind}.log", "wb")  # the child's stderr

    async def _line(self, tag: str) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        while line := await self.proc.stdout.readline():
            if line.startswith(tag.encode() + b" "):
                found: dict[str, Any] = json.loads(line[len(tag) + 1 :])
                return found
        tail = (self.workdir / f"{self.kind}.log").read_text(errors="replace")[-2000:]
        raise RuntimeError(f"the {self.kind} server stopped before {tag}:\n{tail}")

    async def stop(self) -> None:
        if self.proc is None or self.proc.returncode is not None:
            return
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        try:
            # Sopu reports once its outbox is sent, at Teams' pace (30 requests/s).
            self.summary = await asyncio.wait_for(self._line("DONE"), 330)
            await asyncio.wait_for(self.proc.wait(), 10)
        except (TimeoutError, RuntimeError):
            with contextlib.suppress(ProcessLookupError):
                self.proc.kill()
            await self.proc.wait()

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# -- the load ---------------------------------------------------------------------------------


class Traffic(Protocol):
    def next(self, worker: int) -> tuple[str, bytes]: ...

    def ok(self, kind: str, status: int, body: bytes) -> bool: ...


class Messages:
    """Plain messages in personal chat, for the echo bot and the bare handler."""

    def __init__(self, service_url: str) -> None:
        self.url = service_url
        self.who = person(999)

    def next(self, worker: int) -> tuple[str, bytes]:
        return "message", json.dumps(activity(self.who, self.url, None, text="hello")).encode()

    def ok(self, kind: str, status: int, body: bytes) -> bool:
        return status in (200, 201)


# Each lane runs this cycle; the text is what the English answer card must contain.
CYCLE = (
    ("real claim", "case.claim", "claim", b"You claimed seat"),
    ("re-claim (no change)", "case.claim", "held", b"You already hold seat"),
    ("refused: paired", "case.claim", "paired0", b"has no free seat"),
    ("refused: language", "case.claim", "swedish", b"speak the family's language"),
    ("re-claim (no change)", "case.claim", "claim", b"You already hold seat"),
    ("refused: paired", "case.claim", "paired1", b"has no free seat"),
    ("re-claim (no change)", "case.claim", "held", b"You already hold seat"),
    ("refused: language", "case.claim", "swedish", b"speak the family's language"),
    ("refused: paired", "case.claim", "paired0", b"has no free seat"),
    ("release", "case.release", "claim", b"You released your seat"),
)
EXPECTED = {kind: text for kind, _verb, _case, text in CYCLE}
# With or without a space after the colon: JSON encoders differ, and claims_ab.py drives
# revisions that answer through either.
STATUS_200 = re.compile(rb'"statusCode":\s*200\b')


def start_of(lane: int) -> int:
    """Where in the cycle a lane starts.

    The lanes start at different steps, so that at any moment the clicks in flight are the
    cycle's mix. Started in step, all 32 would send their real claims at the same moment,
    then their releases: a convoy of the costliest clicks, which is not how people click.
    """
    return lane % len(CYCLE)


def holds_at_start(lane: int) -> bool:
    """Whether a lane starts between its real claim and its release: seeded holding the seat."""
    return 0 < start_of(lane) < len(CYCLE)


class Clicks:
    """Sopu's claim clicks: one lane per worker, each lane's cycle resumed across phases."""

    def __init__(self, service_url: str, seeded: dict[str, Any]) -> None:
        self.url = service_url
        self.threads = {int(k): v for k, v in seeded["threads"].items()}
        self.lanes = seeded["lanes"]
        self.cases = [
            {
                "claim": lane["claim"],
                "held": lane["held"],
                "paired0": seeded["paired"][0],
                "paired1": seeded["paired"][1],
                "swedish": seeded["swedish"],
            }
            for lane in self.lanes
        ]
        self.cursors: list[Iterator[tuple[str, str, str, bytes]]] = [
            itertools.islice(itertools.cycle(CYCLE), start_of(lane), None)
            for lane in range(len(self.lanes))
        ]
        self.answered: Counter[str] = Counter()  # warm-up included, for the final check
        # The snapshot each case's card carries, as a person clicking its current card sends
        # it. A server seeded by a revision before snapshots reports none: none is sent.
        self.shown = {int(k): v for k, v in seeded.get("shown", {}).items()}

    def next(self, worker: int) -> tuple[str, bytes]:
        kind, verb, which, _text = next(self.cursors[worker])
        case_id = self.cases[worker][which]
        lane = self.lanes[worker]
        shown = self.shown.get(case_id)
        body = click(lane["who"], self.url, self.threads[case_id], verb, case_id, shown)
        if shown is not None and kind in ("real claim", "release"):
            # Only this lane changes its own case, one click at a time: the card the lane
            # sees next shows the change (the first seat, taken or given back).
            holder = lane["id"] if kind == "real claim" else None
            self.shown[case_id] = {
                "version": shown["version"] + 1,
                "status": "open",
                "holders": [holder, *shown["holders"][1:]],
            }
        return kind, body

    def ok(self, kind: str, status: int, body: bytes) -> bool:
        good = (
            status == 200
            and STATUS_200.search(body) is not None
            and b"application/vnd.microsoft.card.adaptive" in body
            and EXPECTED[kind] in body
        )
        if good:
            self.answered[kind] += 1
        return good


@dataclass
class Result:
    server: str
    concurrency: int
    seconds: float
    latencies: list[float]  # ms, successful requests only
    errors: int
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    cpu_ms: dict[str, float] = field(default_factory=dict)  # per request: client, server, ...

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def per_core(self) -> float:
        """Requests per second one core would serve at this server's CPU cost per request."""
        server = self.cpu_ms.get("server", math.nan)
        return 1000 / server if server > 0 else math.nan

    @property
    def p50(self) -> float:
        return percentile(self.latencies, 50)

    @property
    def p99(self) -> float:
        return percentile(self.latencies, 99)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile; NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


async def drive(
    url: str | Sequence[str],
    traffic: Traffic,
    concurrency: int,
    max_requests: int,
    seconds: float,
) -> Result:
    """``concurrency`` clients, each one request at a time, until either bound is reached.

    Given several URLs (replicas of one server), each client sends to them in turn.
    """
    urls = [url] if isinstance(url, str) else list(url)
    turns = itertools.count()
    latencies: list[float] = []
    by_kind: dict[str, list[float]] = {}
    errors = 0
    issued = 0
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def client(worker: int) -> None:
            nonlocal issued, errors
            while issued < max_requests and loop.time() < deadline:
                issued += 1
                kind, body = traffic.next(worker)
                start = time.perf_counter()
                try:
                    target = urls[next(turns) % len(urls)]
                    async with http.post(target, data=body, headers=JSON) as response:
                        answer = await response.read()
                        status = response.status
                except (aiohttp.ClientError, TimeoutError):
                    errors += 1
                    continue
                ms = (time.perf_counter() - start) * 1000
                if traffic.ok(kind, status, answer):
                    latencies.append(ms)
                    by_kind.setdefault(kind, []).append(ms)
                else:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(client(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - began
    return Result("", concurrency, elapsed, latencies, errors, by_kind)


# -- the run ----------------------------------------------------------------------------------

SERVERS = {
    "bare": "bare aiohttp (JSON)",
    "echo": "stock echo bot",
    "sopu": "Sopu claim clicks",
    "sopu-stock-msrest": "Sopu, msrest fix off",
    "sopu-pg": "Sopu, PostgreSQL x2",
}
# Aims at the top concurrency: times the echo bot's req/s, and p99 in ms.
AIMS = {"sopu": (4.0, 100.0), "sopu-pg": (6.0, 150.0)}


@dataclass
class Report:
    options: Options
    started: datetime
    load: tuple[float, float, float]  # the machine's load average when the run began
    startup: float  # seconds until every server was seeded and listening
    results: list[Result]
    checks: list[str]
    mismatches: list[str]  # answers the journal does not bear out
    skipped: list[str]

    def get(self, server: str, concurrency: int) -> Result | None:
        return next(
            (r for r in self.results if r.server == server and r.concurrency == concurrency), None
        )


async def run(options: Options) -> Report:
    """Start the servers, measure each at each concurrency, stop them; nothing outlives it."""
    started, load = datetime.now(UTC), os.getloadavg()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + options.time_limit
    kinds = ["bare", "echo", "sopu"] + (["sopu-stock-msrest"] if options.stock_msrest else [])
    database = postgres_database(options.postgres) if options.postgres else None
    if database is not None:
        kinds.append("sopu-pg")
    results: list[Result] = []
    checks: list[str] = []
    mismatches: list[str] = []
    skipped: list[str] = []
    changes = 0  # claims and releases answered: each must update its channel card
    merged = 0  # or be shown by an update that was still waiting when it was made
    with tempfile.TemporaryDirectory(prefix="sopu-bench-") as tmp:
        workdir = Path(tmp)
        connector = Child("connector", workdir)
        pg_url = database.url if database is not None else ""
        children = {
            kind: Child(kind, workdir, pg_url if kind == "sopu-pg" else "") for kind in kinds
        }
        # The second replica of Sopu on PostgreSQL: started once the first has seeded.
        replica = Child("sopu-pg-replica", workdir, pg_url)
        try:
            if database is not None:
                await database.create()
            await connector.start()
            await asyncio.gather(
                *(child.start(connector.url, options.lanes) for child in children.values())
            )
            if database is not None:
                await replica.start(connector.url, options.lanes)
            startup = (datetime.now(UTC) - started).total_seconds()
            for kind, child in children.items():
                if kind == "echo" and child.info["msrest_fixed"]:
                    raise RuntimeError("the echo bot is meant to run with msrest as shipped")
                if kind.startswith("sopu"):
                    traffic: Traffic = Clicks(connector.url, child.info)
                else:
                    traffic = Messages(connector.url)
                url: str | list[str] = f"{child.url}/api/messages"
                servers = [child]
                if kind == "sopu-pg":
                    servers.append(replica)
                    url = [f"{c.url}/api/messages" for c in servers]
                if loop.time() + options.warmup_seconds > deadline:
                    skipped.append(kind)
                    continue
                await drive(
                    url, traffic, options.lanes, options.warmup_requests, options.warmup_seconds
                )
                for concurrency, most in zip(options.concurrencies, options.requests, strict=True):
                    if loop.time() + options.seconds > deadline:
                        skipped.append(f"{kind} at {concurrency}")
                        continue
                    cpu = (
                        time.process_time(),
                        sum(c.cpu_seconds() for c in servers),
                        connector.cpu_seconds(),
                    )
                    result = await drive(url, traffic, concurrency, most, options.seconds)
                    # Sopu updates cards and writes notes just after answering: their CPU
                    # belongs to this phase too, so it is read once they are out.
                    await asyncio.sleep(SETTLE_SECONDS)
                    used = (
                        time.process_time(),
                        sum(c.cpu_seconds() for c in servers),
                        connector.cpu_seconds(),
                    )
                    done = max(1, result.requests)
                    result.server = kind
                    result.cpu_ms = {
                        name: (after - before) * 1000 / done
                        for name, before, after in zip(
                            ("client", "server", "connector"), cpu, used, strict=True
                        )
                    }
                    results.append(result)
                if isinstance(traffic, Clicks):
                    answered = traffic.answered["real claim"], traffic.answered["release"]
                    await child.stop()
                    if kind == "sopu-pg":
                        await replica.stop()
                    check, agrees = journal_check(kind, traffic, child.summary)
                    checks.append(check)
                    if not agrees:
                        mismatches.append(check)
                    changes += sum(answered)
                    merged += int(child.summary.get("merged") or 0)
        finally:
            await asyncio.gather(
                *(c.stop() for c in [*children.values(), replica]), return_exceptions=True
            )
            await connector.stop()
            if database is not None:
                await database.drop()
        received = connector.summary.get("received", {})
        checks.append(
            "the fake Bot Connector received "
            + ", ".join(f"{n} {k}" for k, n in sorted(received.items()))
            + " (create: case cards posted while seeding; reply: the echo bot's answers and "
            "Sopu's personal messages; update: channel cards after claims and releases)"
        )
        # Every claim and release answered has updated its card by the end, by an update of
        # its own or by one that was still waiting when it was made. An update is made again
        # when another replica changed the case while it was shown, so two replicas may
        # send a few more.
        updates = received.get("update", 0)
        checks.append(
            f"card updates: {updates} sent and {merged} merged into one already waiting, "
            f"for {changes} claims and releases"
        )
        if updates + merged < changes or (database is None and updates + merged != changes):
            mismatches.append(checks[-1])
    return Report(options, started, load, startup, results, checks, mismatches, skipped)


@dataclass
class _PostgresDatabase:
    """A database of the run's own on a PostgreSQL server, dropped at the end."""

    admin: str
    name: str

    @property
    def url(self) -> str:
        from sqlalchemy.engine import make_url

        return make_url(self.admin).set(database=self.name).render_as_string(hide_password=False)

    async def _admin(self, sql: str) -> None:
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        from storage.db import normalize_url

        engine = create_async_engine(normalize_url(self.admin), isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(sql))
        finally:
            await engine.dispose()

    async def create(self) -> None:
        await self._admin(f'CREATE DATABASE "{self.name}"')

    async def drop(self) -> None:
        await self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def postgres_database(admin: str) -> _PostgresDatabase:
    return _PostgresDatabase(admin, f"sopu_bench_{uuid.uuid4().hex[:12]}")


def journal_check(name: str, traffic: Clicks, summary: dict[str, Any]) -> tuple[str, bool]:
    """The clients' 'claimed' and 'released' answers against Sopu's journal, and if they agree."""
    answered = traffic.answered["real claim"], traffic.answered["release"]
    journal = summary.get("claimed"), summary.get("released")
    check = (
        f"{name}: the clients got {answered[0]} 'claimed' and {answered[1]} 'released' answers "
        f"(warm-up included); the journal recorded {journal[0]} claims and {journal[1]} releases"
    )
    if summary.get("waiting"):
        unsent = ", ".join(f"{n} {kind}" for kind, n in sorted(summary["waiting"].items()))
        check += f"; still in the outbox after {OUTBOX_WAIT_SECONDS:g} s: {unsent}"
    return check, answered == journal


def render(report: Report) -> str:
    o = report.options
    lines = [
        f"Sopu claim benchmark, {report.started:%Y-%m-%d %H:%M} UTC, Python "
        f"{platform.python_version()}, {os.cpu_count()} CPUs (load average "
        f"{report.load[0]:.1f} at the start), 127.0.0.1 only",
        f"Servers ready in {report.startup:.0f} s. Each phase: at most {max(o.requests)} "
        f"requests or {o.seconds:g} s, after a {o.warmup_seconds:g} s warm-up.",
        "Latency: from sending the POST to having read the whole answer, in the client.",
        "CPU: ms of CPU time per request in each process; 'per core' = 1000 / server CPU ms,",
        "the requests/s one core would serve at that cost (less sensitive to a busy machine).",
        "",
        f"{'server':<24}{'conc':>5}{'requests':>10}{'errors':>8}{'req/s':>9}"
        f"{'p50 ms':>9}{'p99 ms':>9}{'per core':>10}   CPU ms: server / client / connector",
    ]
    for r in report.results:
        cpu = r.cpu_ms
        lines.append(
            f"{SERVERS[r.server]:<24}{r.concurrency:>5}{r.requests:>10}{r.errors:>8}"
            f"{r.rate:>9.0f}{r.p50:>9.1f}{r.p99:>9.1f}{r.per_core:>10.0f}   "
            f"{cpu['server']:.2f} / {cpu['client']:.2f} / {cpu['connector']:.2f}"
        )
    lines.append("")
    for c in o.concurrencies:
        sopu, echo, bare = (report.get(k, c) for k in ("sopu", "echo", "bare"))
        if sopu and echo and bare:
            lines.append(
                f"At {c:>2} concurrent: Sopu/echo req/s {sopu.rate / echo.rate:.2f}x "
                f"(per core {sopu.per_core / echo.per_core:.2f}x), "
                f"Sopu/bare req/s {sopu.rate / bare.rate:.3f}x"
            )
        stock = report.get("sopu-stock-msrest", c)
        if sopu and stock:
            lines.append(
                f"At {c:>2} concurrent: Sopu with the msrest fix / without: "
                f"{sopu.rate / stock.rate:.2f}x req/s"
            )
        pg = report.get("sopu-pg", c)
        if pg and echo and bare:
            lines.append(
                f"At {c:>2} concurrent: Sopu on PostgreSQL x2/echo req/s "
                f"{pg.rate / echo.rate:.2f}x (per core {pg.per_core / echo.per_core:.2f}x)"
                + (f", PostgreSQL/SQLite req/s {pg.rate / sopu.rate:.2f}x" if sopu else "")
            )
    top = max(o.concurrencies)
    sopu, echo = report.get("sopu", top), report.get("echo", top)
    for kind, (times, p99) in AIMS.items():
        served = report.get(kind, top)
        if served and echo:
            lines += [
                "",
                f"Aim at {top} concurrent: {SERVERS[kind]} >= {times:g}x the echo bot's "
                f"req/s: {'met' if served.rate >= times * echo.rate else 'MISSED'} "
                f"({served.rate / echo.rate:.2f}x)",
                f"Aim at {top} concurrent: {SERVERS[kind]} p99 < {p99:g} ms: "
                f"{'met' if served.p99 < p99 else 'MISSED'} ({served.p99:.1f} ms)",
            ]
    for served in (sopu, report.get("sopu-pg", top)):
        if not served:
            continue
        where = "on PostgreSQL x2" if served is not sopu else "on SQLite"
        lines += ["", f"Sopu's clicks {where} at {top} concurrent, by kind:"]
        for kind, values in served.by_kind.items():
            lines.append(
                f"  {kind:<24}{len(values):>6}  p50 {percentile(values, 50):6.1f} ms"
                f"  p99 {percentile(values, 99):6.1f} ms"
            )
    lines += ["", "Checks:", *(f"  {c}" for c in report.checks)]
    if report.mismatches:
        lines.append("MISMATCH: see the checks above")
    if report.skipped:
        lines.append("Skipped for the time limit: " + ", ".join(report.skipped))
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.claims",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--quick", action="store_true", help="a run of about 15 seconds, without the msrest-off run"
    )
    parser.add_argument(
        "--no-stock-msrest", action="store_true", help="skip Sopu with the msrest fix off"
    )
    parser.add_argument(
        "--postgres",
        default="",
        metavar="URL",
        help="also Sopu as two replicas on a fresh database created (and dropped) there",
    )
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--connector", default="", help=argparse.SUPPRESS)
    parser.add_argument("--database", default="", help=argparse.SUPPRESS)
    parser.add_argument("--lanes", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve:
        asyncio.run(_serve(args.serve, args.connector, args.database, args.lanes))
        return 0
    options = Options.quick() if args.quick else Options()
    if args.no_stock_msrest:
        options = dataclasses.replace(options, stock_msrest=False)
    if args.postgres:
        # Two more servers to start and one more to drive.
        options = dataclasses.replace(
            options, postgres=args.postgres, time_limit=options.time_limit * 1.6
        )
    report = asyncio.run(run(options))
    print(render(report))
    return 0


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
