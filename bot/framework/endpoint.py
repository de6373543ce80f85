"""Teams' messaging endpoint: parse, gate, authenticate, de-duplicate, run the turn, answer."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import Activity, InvokeResponse

import cards
from bot.actions_calendar import MEETING_VERBS, as_seen_again
from bot.deps import Card
from bot.framework.activity import read_activity
from bot.framework.adapter import card_response, invoke_answer
from bot.framework.handler import DELIVERY, SopuBot, click_of
from bot.gate import (
    BadActivity,
    RefusalLog,
    media_type_accepted,
    origin_of,
    parse_activity,
    redelivery_key,
    refusal,
)
from bot.router import Router
from bot.settings import Settings
from bot.turns import TurnGate
from cards import verbs
from cards.i18n import lang_of, t
from mediation.ports import Clock
from storage.botstore import BotStore
from storage.redelivery import Delivery

log = logging.getLogger(__name__)


CHAT_OWNERS_KEPT = 10_000


class ActivityEndpoint:
    """POST /api/messages."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        adapter: CloudAdapter,
        bot: SopuBot,
        router: Router,
        store: BotStore,
        turns: TurnGate,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.adapter = adapter
        self.bot = bot
        self.router = router
        self.store = store
        self.turns = turns
        self.refusals = RefusalLog()
        self._chat_owners: dict[str, str] = {}  # personal chat id -> its owner's AAD id

    async def __call__(self, request: web.Request) -> web.Response:
        if not media_type_accepted(request.content_type, request.charset):
            return web.json_response({"error": "expected application/json"}, status=415)
        async with self.turns.turn():  # first come, first served (bot/turns.py)
            return await self._activity(request)

    async def _activity(self, request: web.Request) -> web.Response:
        body = await request.read()  # over the app's size limit: aiohttp answers 413
        try:
            data = parse_activity(body)
            activity = read_activity(data)
        except BadActivity as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except Exception as exc:  # msrest raises several unrelated types for bad shapes
            problem = f"not an activity: {exc.__class__.__name__}"
            return web.json_response({"error": problem}, status=400)
        # Authentication first: refusing a foreign tenant before it would tell anyone without
        # a token which tenants and teams are allowed (403 for them, 401 for the others).
        try:
            authenticated = await self.adapter.bot_framework_authentication.authenticate_request(
                activity, request.headers.get("Authorization", "")
            )
        except Exception as exc:
            # A missing, expired, foreign or malformed token (botbuilder raises
            # PermissionError for some and the JWT library's own errors for others): never
            # a 5xx, never a turn.
            self.refusals.refused(401, f"token refused ({exc.__class__.__name__})")
            return web.json_response({"error": "unauthorized"}, status=401)
        why = refusal(origin_of(data), self.settings) or await self._someone_elses_chat(data)
        if why is not None:
            self.refusals.refused(403, why)
            return web.json_response({"error": "forbidden"}, status=403)
        # Only an authenticated activity may claim its id: a forged one must not make the
        # real one look like a redelivery.
        key = redelivery_key(data)
        if key is not None and activity.type == "invoke":
            # A click's id is recorded with the change it makes (storage/redelivery.py).
            delivery = Delivery(key, self.clock.now())
            invoke = await self._turn(activity, authenticated, delivery)
            if delivery.duplicate:
                return await self._redelivered(activity)
        elif key is not None and not await self.store.first_seen(key, self.clock.now()):
            return await self._redelivered(activity)
        else:
            invoke = await self._turn(activity, authenticated, None)
        if activity.type == "invoke" and (invoke is None or invoke.status >= 500):
            # The turn failed (logged by the adapter's on_turn_error, or below): the clicker
            # still gets an answer in their language, and Teams does not retry a 5xx.
            lang = lang_of(activity.locale)
            invoke = card_response(cards.error_card(lang, t(lang, "error.unexpected")))
        if invoke is None:
            return web.Response(status=200)
        return invoke_answer(invoke.body, invoke.status)

    async def _someone_elses_chat(self, data: dict[str, Any]) -> str | None:
        """A personal chat is one person's: an activity from anyone else that names it would
        have Sopu answer into it (and store it as the sender's chat). Teams never sends
        one; a client posting activities of its own could."""
        conversation = data["conversation"]
        if conversation.get("conversationType") != "personal":
            return None
        chat = str(conversation["id"])
        owner = self._chat_owners.get(chat)
        if owner is None:
            owner = await self.store.personal_chat_owner(chat)
            if owner is None:
                return None  # a chat Sopu has not seen yet: its first activity names it
            if len(self._chat_owners) >= CHAT_OWNERS_KEPT:
                self._chat_owners.clear()
            self._chat_owners[chat] = owner  # a chat's owner never changes
        sender = data["from"].get("aadObjectId")
        if isinstance(sender, str) and sender.lower() == owner:
            return None
        return "another person's personal chat"

    async def _turn(
        self, activity: Activity, authenticated: Any, delivery: Delivery | None
    ) -> InvokeResponse | None:
        logic: Callable[[TurnContext], Awaitable[None]] = self.bot.on_turn
        if delivery is not None:

            async def logic(ctx: TurnContext) -> None:
                ctx.turn_state[DELIVERY] = delivery
                await self.bot.on_turn(ctx)

        try:
            invoke: InvokeResponse | None = await self.adapter.process_activity(
                authenticated, activity, logic
            )
            return invoke
        except Exception:
            log.exception("activity %s failed", activity.type)
            return None

    async def _redelivered(self, activity: Activity) -> web.Response:
        """Teams sent this activity before: answer as now, without doing anything again."""
        if activity.type != "invoke":
            return web.Response(status=200)
        click = click_of(activity)
        card: Card
        if activity.name != "adaptiveCard/action":
            card = cards.error_card(click.lang, t(click.lang, "error.unknown_action"))
        elif click.verb in MEETING_VERBS and "case_id" in click.data:
            card = await self.router.run(as_seen_again(click))
        elif "case_id" in click.data:
            card = await self.router.run(dataclasses.replace(click, verb=verbs.CARD_REFRESH))
        else:
            card = cards.notice_card(click.lang, t(click.lang, "notice.unchanged"))
        return invoke_answer(card_response(card).body, 200)
