"""The CloudAdapter with its authentication, and the HTTP answer to an invoke."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from aiohttp import web
from botbuilder.core import BotAdapter, TurnContext, serializer_helper
from botbuilder.integration.aiohttp import (
    CloudAdapter,
    ConfigurationBotFrameworkAuthentication,
)
from botbuilder.schema import (
    Activity,
    ActivityTypes,
    AdaptiveCardInvokeResponse,
    InvokeResponse,
)

from bot.framework.auth import ReusingAuthentication
from bot.settings import Settings
from cards.base import MESSAGE_BYTES, Card, fit_message
from mediation.trouble import trouble_at
from storage.redelivery import Duplicate

log = logging.getLogger(__name__)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# Where botbuilder's adapters keep an invoke's answer during a turn (a private name,
# checked by tests/unit/test_private_names.py).
INVOKE_RESPONSE_KEY = BotAdapter._INVOKE_RESPONSE_KEY


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


def build_adapter(settings: Settings) -> CloudAdapter:
    """The adapter that authenticates activities and runs their turns."""
    speed_up_msrest()
    adapter = CloudAdapter(
        ReusingAuthentication(ConfigurationBotFrameworkAuthentication(_AdapterConfig(settings)))
    )
    adapter.on_turn_error = _turn_error
    return adapter


async def _turn_error(context: TurnContext, error: Exception) -> None:
    if isinstance(error, Duplicate):
        log.info("a second delivery of an activity stopped at its commit")
        return
    log.error("turn failed: %s", trouble_at(error), exc_info=error)


def card_response(card: Card) -> InvokeResponse:
    # The model object, not a dict: a dict body is serialised twice on the way out (FACTS.md).
    return InvokeResponse(
        status=200,
        body=AdaptiveCardInvokeResponse(status_code=200, type=CARD_CONTENT_TYPE, value=card),
    )


def answer_invoke(ctx: TurnContext, response: InvokeResponse) -> InvokeResponse:
    """Leave the invoke's answer where the adapter collects it after the turn.

    Returned alone, ActivityHandler would send it through TurnContext.send_activity, which
    deep-copies the activity, card and all, on its way to the same place.
    """
    ctx.turn_state[INVOKE_RESPONSE_KEY] = Activity(
        type=ActivityTypes.invoke_response, value=response
    )
    return response


def invoke_json(body: Any) -> Any:
    """An invoke answer's body as JSON data.

    A card answer is put together here: msrest would walk the whole card, value by value,
    for the same result.
    """
    if isinstance(body, AdaptiveCardInvokeResponse) and isinstance(body.value, dict):
        return {"statusCode": body.status_code, "type": body.type, "value": body.value}
    if isinstance(body, dict | list):
        return body
    return serializer_helper(body)


def invoke_answer(body: Any, status: int) -> web.Response:
    """An invoke's HTTP answer; a card answer over a Teams message's size has its longest
    texts cut (``fit_message``), measured on the bytes written anyway."""
    answer = invoke_json(body)
    data = orjson.dumps(answer)
    if len(data) > MESSAGE_BYTES and isinstance(answer, dict):
        card = answer.get("value")
        if answer.get("type") == CARD_CONTENT_TYPE and isinstance(card, dict):
            data = orjson.dumps({**answer, "value": fit_message(card)})
    return web.Response(
        body=data,
        status=status,
        content_type="application/json",
        charset="utf-8",
    )
