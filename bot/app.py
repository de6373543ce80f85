"""The composition root: builds Sopu's aiohttp app from its settings.

``python -m bot``, the tests and the benchmarks all start Sopu through ``create_app``;
nothing holds an adapter, an engine or the settings at module level.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import orjson
from aiohttp import web
from botbuilder.core import serializer_helper
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import Activity, AdaptiveCardInvokeResponse, InvokeResponse
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

import cards
from bot import feedback_page, stats_download
from bot.actions import Deps
from bot.actions_calendar import MEETING_VERBS, add_calendar_routes, as_seen_again, open_calendar
from bot.actions_feedback import FeedbackDeps
from bot.actions_jobs import JOBS, build_jobs
from bot.auth import ReusingAuthentication
from bot.clock import SystemClock
from bot.connector import BotConnector
from bot.gate import (
    BadActivity,
    RefusalLog,
    media_type_accepted,
    origin_of,
    parse_activity,
    redelivery_key,
    refusal,
)
from bot.handler import SopuBot, card_response
from bot.settings import Settings
from bot.signing import secret_key
from bot.teams import Deliveries, TeamsGateway, TeamsNotifier
from bot.turns import TurnGate
from cards import verbs
from cards.i18n import lang_of, t
from mediation.ports import Clock
from storage.botstore import BotStore
from storage.db import create_engine, ping, reports_engine, upgrade
from storage.feedback import SqlFeedbackStore
from storage.redelivery import Duplicate, delivering
from storage.stats import SqlStatsQueries
from storage.uow import SqlUnitOfWork, session_factory

log = logging.getLogger(__name__)


@dataclass
class Sopu:
    """Everything one running Sopu holds, built once per app."""

    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[Any]
    report_sessions: async_sessionmaker[Any]  # for the statistics' long reads
    store: BotStore
    adapter: CloudAdapter
    bot: SopuBot
    gateway: TeamsGateway
    deliveries: Deliveries  # notifications sent after the click's answer
    turns: TurnGate = dataclasses.field(default_factory=TurnGate)  # a few activities at once
    refusals: RefusalLog = dataclasses.field(default_factory=RefusalLog)

    def uow(self) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.sessions)


# How long the personal chat of someone not (yet) in the registry is remembered.
UNREGISTERED_CHATS_KEPT = timedelta(days=30)

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", object)
SOPU = web.AppKey("sopu", Sopu)


class _AdapterConfig:
    """The attribute names ConfigurationBotFrameworkAuthentication reads."""

    def __init__(self, settings: Settings) -> None:
        self.APP_ID = settings.bot_app_id
        self.APP_PASSWORD = settings.bot_app_password
        self.APP_TYPE = "SingleTenant" if settings.bot_app_id else "MultiTenant"
        self.APP_TENANTID = settings.bot_tenant_id


def speed_up_msrest() -> None:
    """msrest rebuilds a 999-element retry list against a list on every turn (FACTS.md).

    A frozenset gives the same retry codes at a fraction of the CPU.
    """
    from msrest.universal_http.requests import ClientRetryPolicy

    if not isinstance(ClientRetryPolicy.safe_codes, frozenset):
        ClientRetryPolicy.safe_codes = frozenset(ClientRetryPolicy.safe_codes)  # type: ignore[assignment]


def settle_heap() -> None:
    """Hide what start-up built (modules, SDK classes, adapters) from the cyclic collector.

    It all lives as long as the process; left in view, every full collection walks it and
    stops the event loop for 100-150 ms, long enough for posts paced apart to reach Teams
    together and be refused (measured with bench/fanout.py). Once per process: a later app
    in the same process (tests) would freeze the garbage of the earlier ones for good.
    """
    if gc.get_freeze_count() == 0:
        gc.collect()
        gc.freeze()


def create_app(settings: Settings, *, clock: Clock | None = None) -> web.Application:
    settings.validate()
    app = web.Application(client_max_size=512 * 1024)
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock()
    app.cleanup_ctx.append(_sopu)
    feedback_page.setup(app, SETTINGS)
    stats_download.setup(app, SETTINGS)
    app.router.add_post("/api/messages", messages)
    add_calendar_routes(app)
    app.router.add_get("/healthz", healthz)
    return app


async def _sopu(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    clock: Clock = app[CLOCK]  # type: ignore[assignment]
    speed_up_msrest()
    if not settings.auth_enabled:
        log.warning(
            "Bot Framework authentication is OFF (no BOT_APP_ID): any local client can "
            "post activities. This is for the Agents Playground on this machine only."
        )
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    sessions = session_factory(engine)
    reports = reports_engine(engine)
    report_sessions = session_factory(reports)
    store = BotStore(sessions)
    adapter = CloudAdapter(
        ReusingAuthentication(ConfigurationBotFrameworkAuthentication(_AdapterConfig(settings)))
    )

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    connector = BotConnector(adapter, settings.bot_app_id)  # Sopu's own messages
    gateway = TeamsGateway(
        adapter, settings.bot_app_id, store, uow, clock, settings.policy, connector=connector
    )
    # Card updates and personal notes go out after the click is answered (Deliveries).
    notifier = TeamsNotifier(gateway)
    notifier.deliveries = deliveries = Deliveries(notifier.deliver)
    feedback = FeedbackDeps(
        SqlFeedbackStore(sessions),
        SqlStatsQueries(report_sessions),
        settings.base_url(),
        secret_key(settings),
        settings.feedback_link_days,
        settings.stats_link_minutes,
    )
    deps = Deps(uow, notifier, clock, settings.policy, store, gateway, feedback=feedback)
    deps.calendar = await open_calendar(app, settings, sessions, clock, gateway, deps.notifier, uow)
    graph_tasks = deps.calendar.graph_tasks  # renewal and delta rounds, Graph mode only
    deps.jobs = (
        jobs := build_jobs(settings, engine, sessions, deps, adapter, graph_tasks)
    ).services
    app[JOBS] = jobs
    bot = SopuBot(deps)
    adapter.on_turn_error = _turn_error
    app[SOPU] = Sopu(
        settings, clock, engine, sessions, report_sessions, store, adapter, bot, gateway, deliveries
    )
    sweeper = asyncio.create_task(_forget_old_activities(app[SOPU]))
    settle_heap()
    if settings.scheduler:
        jobs.start()
    try:
        yield
    finally:
        await deps.calendar.close()
        await jobs.stop()
        await deliveries.close()
        await connector.close()  # after the jobs, which may still be sending
        sweeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sweeper
        if reports is not engine:
            await reports.dispose()
        await engine.dispose()


async def _turn_error(context: Any, error: Exception) -> None:
    if isinstance(error, Duplicate):
        log.info("a second delivery of an activity stopped at its commit")
        return
    log.error("turn failed: %r", error, exc_info=error)


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


async def healthz(request: web.Request) -> web.Response:
    sopu = request.app[SOPU]
    if await ping(sopu.engine):
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "database unreachable"}, status=503)


async def messages(request: web.Request) -> web.Response:
    """Teams' messaging endpoint: gate, authenticate, de-duplicate, hand to the adapter."""
    sopu = request.app[SOPU]
    if not media_type_accepted(request.content_type, request.charset):
        return web.json_response({"error": "expected application/json"}, status=415)
    async with sopu.turns.turn():  # first come, first served (bot/turns.py)
        return await _activity(sopu, request)


async def _activity(sopu: Sopu, request: web.Request) -> web.Response:
    try:
        data, activity = parse_activity(await request.read())
    except BadActivity as exc:
        return web.json_response({"error": str(exc)}, status=400)
    # Authentication first: refusing a foreign tenant before it would tell anyone without
    # a token which tenants and teams are allowed (403 for them, 401 for the others).
    try:
        authenticated = await sopu.adapter.bot_framework_authentication.authenticate_request(
            activity, request.headers.get("Authorization", "")
        )
    except Exception as exc:
        # A missing, expired, foreign or malformed token (botbuilder raises PermissionError
        # for some and the JWT library's own errors for others): never a 5xx, never a turn.
        sopu.refusals.refused(401, f"token refused ({exc.__class__.__name__})")
        return web.json_response({"error": "unauthorized"}, status=401)
    why = refusal(origin_of(data), sopu.settings)
    if why is not None:
        sopu.refusals.refused(403, why)
        return web.json_response({"error": "forbidden"}, status=403)
    # Only an authenticated activity may claim its id: a forged one must not make the
    # real one look like a redelivery.
    key = redelivery_key(data)
    if key is not None and activity.type == "invoke":
        # A click's id is looked up in its turn's first transaction and recorded with the
        # change it makes (storage/redelivery.py).
        with delivering(key, sopu.clock.now()) as delivery:
            invoke = await _turn(sopu, activity, authenticated)
        if delivery.duplicate:
            return await _redelivered(sopu, activity)
    elif key is not None and not await sopu.store.first_seen(key, sopu.clock.now()):
        return await _redelivered(sopu, activity)
    else:
        invoke = await _turn(sopu, activity, authenticated)
    if activity.type == "invoke" and (invoke is None or invoke.status >= 500):
        # The turn failed (logged by the adapter's on_turn_error, or above): the clicker
        # still gets an answer in their language, and Teams does not retry a 5xx.
        lang = lang_of(activity.locale)
        invoke = card_response(cards.error_card(lang, t(lang, "error.unexpected")))
    if invoke is None:
        return web.Response(status=200)
    return invoke_answer(invoke.body, invoke.status)


def invoke_answer(body: Any, status: int) -> web.Response:
    """An invoke's HTTP answer.

    Every click is answered with a whole case card, whose coordinator tools list the
    registry. orjson writes it in an eighth of the standard library's time, which made a
    click about 5% cheaper in all (bench/README.md).
    """
    return web.Response(
        body=orjson.dumps(invoke_json(body)),
        status=status,
        content_type="application/json",
        charset="utf-8",
    )


def invoke_json(body: Any) -> Any:
    """An invoke answer's body as JSON data.

    A card answer is put together here: msrest would walk the whole card, value by
    value, for the same result, and that cost a millisecond of each click's CPU time.
    """
    if isinstance(body, AdaptiveCardInvokeResponse) and isinstance(body.value, dict):
        return {"statusCode": body.status_code, "type": body.type, "value": body.value}
    if isinstance(body, dict | list):
        return body
    return serializer_helper(body)


async def _turn(sopu: Sopu, activity: Activity, authenticated: Any) -> InvokeResponse | None:
    try:
        invoke: InvokeResponse | None = await sopu.adapter.process_activity(
            authenticated, activity, sopu.bot.on_turn
        )
        return invoke
    except Exception:
        log.exception("activity %s failed", activity.type)
        return None


async def _redelivered(sopu: Sopu, activity: Activity) -> web.Response:
    """Teams sent this activity before: answer as now, without doing anything again."""
    if activity.type != "invoke":
        return web.Response(status=200)
    click = SopuBot.click_of(activity)
    if activity.name != "adaptiveCard/action":
        card = cards.error_card(click.lang, t(click.lang, "error.unknown_action"))
    elif click.verb in MEETING_VERBS and "case_id" in click.data:
        card = await sopu.bot.actions.run(as_seen_again(click))
    elif "case_id" in click.data:
        card = await sopu.bot.actions.run(dataclasses.replace(click, verb=verbs.CARD_REFRESH))
    else:
        card = cards.notice_card(click.lang, t(click.lang, "notice.unchanged"))
    return invoke_answer(card_response(card).body, 200)
