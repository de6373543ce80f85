"""Sopu's Bot Connector client against the fake connector over HTTP.

It must send what botbuilder sent (the first test sends the same cards both ways and
compares the requests field by field), sign every request with botbuilder's own
credentials when the bot has an app id, and report failures the way the gateway's
callers sort them: a lost message, a refusal, no answer.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from types import MappingProxyType, SimpleNamespace
from typing import Any
from urllib.parse import quote

import pytest
from aiohttp import web
from botbuilder.core import TurnContext
from botbuilder.integration.aiohttp import CloudAdapter, ConfigurationBotFrameworkAuthentication
from botbuilder.schema import (
    Activity,
    ChannelAccount,
    ConversationParameters,
    ConversationReference,
)
from botframework.connector.auth import MicrosoftAppCredentials
from msrest.serialization import Serializer

import cards
from bot.framework.connector import BotConnector, ConnectorError, card_message
from bot.framework.handler import chat_address
from bot.framework.references import card_activity, created_reference, reference_dict
from bot.postman import message_lost
from bot.teams import DeliveryFailed, TeamsGateway
from mediation import services
from mediation.model import Role
from mediation.policy import BankPolicy
from mediation.views import CaseSummary
from tests.clock import FixedClock
from tests.fakes.connector import Call, FakeConnector
from tests.fakes.memory_uow import MemoryUnitOfWork
from tests.unit.factories import FORM, mediator

APP_ID = "0b5f4a6e-0000-4000-8000-00000000a991"
TENANT = "72f988bf-0000-4000-8000-000000000001"
CHANNEL = "19:bank-cases@thread.tacv2"
TOKEN = "fake-token-for-tests"
OLLI = {"id": "29:olli", "name": "Olli Kokenut", "aadObjectId": "aaaaaaaa-0000-4000-8000-2"}


# -- set-up ----------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def serving(fake: FakeConnector) -> AsyncIterator[FakeConnector]:
    runner = web.AppRunner(fake.app())
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    fake.url = f"http://127.0.0.1:{port}/"
    try:
        yield fake
    finally:
        await runner.cleanup()


@pytest.fixture
async def fake() -> AsyncIterator[FakeConnector]:
    async with serving(FakeConnector(record=True)) as started:
        yield started


@pytest.fixture
def tokens(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The credentials objects asked for a token, one entry per request (MSAL stays offline)."""
    asked: list[Any] = []

    def get_access_token(self: Any, force_refresh: bool = False) -> str:
        asked.append(self)
        return TOKEN

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", get_access_token)
    return asked


def adapter(app_id: str = "") -> CloudAdapter:
    """A CloudAdapter configured as bot.framework.adapter configures it."""
    config = SimpleNamespace(
        APP_ID=app_id,
        APP_PASSWORD="secret" if app_id else "",
        APP_TYPE="SingleTenant" if app_id else "MultiTenant",
        APP_TENANTID=TENANT if app_id else "",
    )
    return CloudAdapter(ConfigurationBotFrameworkAuthentication(config))


def incoming(url: str, where: str = "personal") -> Activity:
    """A message from Olli as Teams delivers it, in personal chat or in the bank channel."""
    conversation: dict[str, Any] = {"id": "a:personal-29:olli", "conversationType": "personal"}
    if where == "channel":
        conversation = {"id": f"{CHANNEL};messageid=1700", "conversationType": "channel"}
    return Activity().deserialize(
        {
            "type": "message",
            "id": "1701",
            "serviceUrl": url,
            "channelId": "msteams",
            "from": OLLI,
            "recipient": {"id": "28:sopu-bot", "name": "Sopu"},
            "conversation": {**conversation, "tenantId": TENANT},
            "channelData": {"tenant": {"id": TENANT}},
            "locale": "sv-SE",
            "text": "hello",
        }
    )


class Store:
    """The few BotStore calls the gateway makes, kept in memory."""

    def __init__(self, service_url: str) -> None:
        self.channel = SimpleNamespace(channel_id=CHANNEL, service_url=service_url)
        self.posts: dict[int, Any] = {}
        self.users: dict[str, dict[str, Any]] = {}

    async def bank_channel(self) -> Any:
        return self.channel

    async def save_case_post(
        self, case_id: int, conversation_id: str, activity_id: str, reference: Any, now: Any
    ) -> None:
        self.posts[case_id] = SimpleNamespace(
            conversation_id=conversation_id, activity_id=activity_id, reference=reference
        )

    async def case_post(self, case_id: int) -> Any:
        return self.posts.get(case_id)

    async def save_user_reference(self, aad: str, reference: dict[str, Any]) -> None:
        self.users[aad] = reference

    async def user_reference(self, aad: str) -> dict[str, Any] | None:
        return self.users.get(aad)


async def a_bank() -> tuple[MemoryUnitOfWork, CaseSummary]:
    """A registry of a few people and one registered case, in memory."""
    uow, clock, policy = MemoryUnitOfWork(), FixedClock(), BankPolicy()
    async with uow:
        coord = await uow.mediators.add(mediator("Kaisa Koordinaattori", role=Role.COORDINATOR))
        for name in ("Olli Kokenut", "Outi Osaava", "Åsa Öberg", "Niina Uusi"):
            await uow.mediators.add(mediator(name))
        await uow.commit()
    cmd = services.RegisterCase(coord.aad_object_id, dict(FORM))
    case_id = (await services.register_case(cmd, uow, clock, policy)).case_id
    return uow, await services.summary_of(uow, case_id, clock, policy)


def gateway(
    bot: CloudAdapter, app_id: str, store: Store, uow: MemoryUnitOfWork, **options: float
) -> TeamsGateway:
    connector = BotConnector(bot, app_id, **options)
    return TeamsGateway(
        connector,
        store,  # type: ignore[arg-type]
        lambda: uow,
        FixedClock(),
        BankPolicy(),
    )


# -- botbuilder's way, as bot/teams.py sent these before ---------------------------------


async def _turn(
    bot: CloudAdapter, app_id: str, reference: dict[str, Any], action: Callable[..., Awaitable[Any]]
) -> None:
    failures: list[Exception] = []

    async def guarded(ctx: TurnContext) -> None:
        try:
            await action(ctx)
        except Exception as exc:
            failures.append(exc)

    await bot.continue_conversation(ConversationReference().deserialize(reference), guarded, app_id)
    if failures:
        raise failures[0]


async def botbuilder_post(
    bot: CloudAdapter, app_id: str, url: str, card: dict[str, Any]
) -> dict[str, Any]:
    posted: dict[str, Any] = {}

    async def remember(ctx: TurnContext) -> None:
        posted.update(
            conversation_id=ctx.activity.conversation.id,
            activity_id=ctx.activity.id,
            reference=reference_dict(ctx.activity),
        )

    params = ConversationParameters(
        is_group=True, channel_data={"channel": {"id": CHANNEL}}, activity=card_activity(card)
    )
    await bot.create_conversation(app_id, remember, params, "msteams", url, None)
    return posted


async def botbuilder_update(
    bot: CloudAdapter, app_id: str, reference: dict[str, Any], activity_id: str, card: Any
) -> None:
    async def update(ctx: TurnContext) -> None:
        activity = card_activity(card)
        activity.id = activity_id
        await ctx.update_activity(activity)

    await _turn(bot, app_id, reference, update)


async def botbuilder_send(
    bot: CloudAdapter, app_id: str, reference: dict[str, Any], card: Any
) -> None:
    async def send(ctx: TurnContext) -> None:
        await ctx.send_activity(card_activity(card))

    await _turn(bot, app_id, reference, send)


async def botbuilder_open(bot: CloudAdapter, app_id: str, activity: Activity) -> dict[str, Any]:
    params = ConversationParameters(
        is_group=False,
        bot=activity.recipient,
        members=[ChannelAccount(id=activity.from_property.id)],
        tenant_id=TENANT,
        channel_data={"tenant": {"id": TENANT}},
    )
    opened: dict[str, Any] = {}

    async def remember(ctx: TurnContext) -> None:
        ref = reference_dict(ctx.activity)
        ref["user"] = {
            "id": activity.from_property.id,
            "aadObjectId": activity.from_property.aad_object_id,
        }
        ref["locale"] = activity.locale
        opened.update(ref)

    await bot.create_conversation(app_id, remember, params, "msteams", activity.service_url, None)
    return opened


# -- what went over the wire -----------------------------------------------------------------


def _same_up_to_urls(data: Any, url: str) -> Any:
    # The two runs talk to two fakes on two ports.
    return json.loads(json.dumps(data).replace(url.rstrip("/"), "<service>"))


def wire(call: Call, url: str) -> dict[str, Any]:
    """A request with the proactive turn's made-up id (a fresh random one each time) named."""
    body = dict(call.body)
    path = call.raw_path
    turn = body.pop("replyToId", None)
    if turn is not None:
        assert isinstance(turn, str) and turn
        body["replyToId"] = "<turn>"
        path = path.replace(quote(turn, safe=""), "<turn>")
    headers = {
        k: call.headers.get(k)
        for k in ("content-type", "accept", "authorization", "x-ms-conversation-id")
    }
    return {
        "method": call.method,
        "path": path,
        "headers": headers,
        "body": _same_up_to_urls(body, url),
    }


def _not_here(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("msrest walked a free-form value")


def _made_up(reference: dict[str, Any]) -> dict[str, Any]:
    # botbuilder makes up a random activity id for a conversation opened without a message.
    return {**reference, "activityId": "<random>" if reference.get("activityId") else None}


@pytest.mark.parametrize("app_id", ["", APP_ID], ids=["development", "with-app-id"])
async def test_the_client_sends_what_botbuilder_sent(
    app_id: str, tokens: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, summary = await a_bank()
    async with (
        serving(FakeConnector(record=True)) as old,
        serving(FakeConnector(record=True)) as new,
    ):
        # Sopu's new way, as the outbox's postman and the gateway call the client, and
        # never through msrest's walk of free-form values such as a card.
        store = Store(new.url)
        gw = gateway(adapter(app_id), app_id, store, uow)
        store.users["olli"] = reference_dict(incoming(new.url))
        build = lambda lang: cards.pair_complete_card(summary, lang)  # noqa: E731
        card = await gw.channel_card(summary)
        with monkeypatch.context() as no_msrest:
            no_msrest.setattr(Serializer, "serialize_object", _not_here)
            thread = {"isGroup": True, "channelData": {"channel": {"id": CHANNEL}}}
            created = await gw.connector.create_conversation(
                new.url, {**thread, "activity": card_message(card)}
            )
            post_reference = created_reference(created, new.url)
            await gw.connector.update_activity(
                post_reference, str(post_reference["activityId"]), card_message(card)
            )
            await gw.send_personal("olli", build)
            await gw.open_personal_chat(chat_address(incoming(new.url, "channel")))
        await gw.connector.close()

        # botbuilder's way, with the same cards.
        bot = adapter(app_id)
        posted = await botbuilder_post(bot, app_id, old.url, card)
        await botbuilder_update(bot, app_id, posted["reference"], posted["activity_id"], card)
        await botbuilder_send(bot, app_id, reference_dict(incoming(old.url)), build("sv"))
        opened = await botbuilder_open(bot, app_id, incoming(old.url, "channel"))

    assert len(new.calls) == len(old.calls) == 4
    for before, after in zip(old.calls, new.calls, strict=True):
        assert wire(after, new.url) == wire(before, old.url)
    # Field by field, the card included, and the same in the fake's transcript.
    assert [(s.kind, s.conversation_id, s.activity_id) for s in new.log] == [
        (s.kind, s.conversation_id, s.activity_id) for s in old.log
    ]
    for before_sent, after_sent in zip(old.log, new.log, strict=True):
        after_activity = _same_up_to_urls(after_sent.activity, new.url)
        before_activity = _same_up_to_urls(before_sent.activity, old.url)
        # The made-up turn id is random each time; whether there is one is not.
        turns = after_activity.pop("replyToId", None), before_activity.pop("replyToId", None)
        assert (turns[0] is None) == (turns[1] is None) == (after_sent.kind == "create")
        assert after_activity == before_activity
    assert new.log[1].card == card
    assert new.log[2].card == build("sv")
    # What Sopu keeps about the conversations it opened is what botbuilder gave.
    assert (created.conversation_id, post_reference["activityId"]) == (
        posted["conversation_id"],
        posted["activity_id"],
    )
    assert _same_up_to_urls(post_reference, new.url) == _same_up_to_urls(
        posted["reference"], old.url
    )
    assert _same_up_to_urls(_made_up(store.users[OLLI["aadObjectId"]]), new.url) == (
        _same_up_to_urls(_made_up(opened), old.url)
    )
    # Teams' ids travel quoted as msrest quotes them.
    assert new.calls[1].raw_path.startswith(
        "/v3/conversations/19%3Abank-cases%40thread.tacv2%3Bmessageid%3Dpost-1/activities/post-1"
    )
    assert new.calls[2].raw_path.startswith("/v3/conversations/a%3Apersonal-29%3Aolli/activities/")
    signed = [c.headers.get("authorization") for c in new.calls]
    assert signed == ([f"Bearer {TOKEN}"] * 4 if app_id else [None] * 4)


@pytest.mark.parametrize("where", ["personal", "channel"])
async def test_an_answer_in_a_turn_goes_out_as_botbuilders_did(where: str) -> None:
    """A chat answer through Sopu's client is the request TurnContext.send_activity made."""
    _, summary = await a_bank()
    card = cards.pair_complete_card(summary, "sv")
    async with (
        serving(FakeConnector(record=True)) as old,
        serving(FakeConnector(record=True)) as new,
    ):
        client = BotConnector(adapter(), "")
        await client.reply(reference_dict(incoming(new.url, where)), card_message(card))
        await client.reply(
            reference_dict(incoming(new.url, where)), {"type": "message", "text": "Hej"}
        )
        await client.close()

        async def answer(ctx: TurnContext) -> None:
            await ctx.send_activity(card_activity(card))
            await ctx.send_activity("Hej")

        await adapter().process_activity("", incoming(old.url, where), answer)

    assert len(new.calls) == len(old.calls) == 2
    for before, after in zip(old.calls, new.calls, strict=True):
        assert wire(after, new.url) == wire(before, old.url)
        # In reply to the activity the turn answers, not to a made-up one.
        assert after.body["replyToId"] == "1701" and after.raw_path.endswith("/activities/1701")
        assert after.body["locale"] == "sv-SE"
    assert [s.kind for s in new.log] == ["reply", "reply"]
    assert new.log[0].card == card


# -- authentication --------------------------------------------------------------------------


async def test_every_request_carries_a_token_from_botbuilders_credentials(
    fake: FakeConnector, tokens: list[Any]
) -> None:
    connector = BotConnector(adapter(APP_ID), APP_ID)
    elsewhere = fake.url.replace("127.0.0.1", "localhost")  # another service URL, same fake
    reference = reference_dict(incoming(fake.url))
    try:
        for _ in range(3):
            await connector.send(reference, card_message({"type": "AdaptiveCard"}))
        await connector.send({**reference, "serviceUrl": elsewhere}, card_message({}))
    finally:
        await connector.close()
    assert [c.headers.get("authorization") for c in fake.calls] == [f"Bearer {TOKEN}"] * 4
    # Asked once a request (MSAL keeps the token), of one credentials object per service URL.
    assert len(tokens) == 4
    assert tokens[0] is tokens[1] is tokens[2]
    assert tokens[3] is not tokens[0]
    assert isinstance(tokens[0], MicrosoftAppCredentials)
    assert tokens[0].microsoft_app_id == APP_ID


async def test_without_an_app_id_nothing_is_signed(fake: FakeConnector, tokens: list[Any]) -> None:
    connector = BotConnector(adapter(), "")
    try:
        await connector.send(reference_dict(incoming(fake.url)), card_message({}))
    finally:
        await connector.close()
    assert "authorization" not in fake.calls[0].headers
    assert tokens == []


async def test_no_token_means_not_delivered_and_nothing_sent(
    fake: FakeConnector, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refused(self: Any, force_refresh: bool = False) -> str:
        raise PermissionError("Failed to get access token with error: invalid_client")

    monkeypatch.setattr(MicrosoftAppCredentials, "get_access_token", refused)
    connector = BotConnector(adapter(APP_ID), APP_ID)
    try:
        with pytest.raises(ConnectorError) as failed:
            await connector.send(reference_dict(incoming(fake.url)), card_message({}))
    finally:
        await connector.close()
    assert (failed.value.status, failed.value.code) == (None, "TokenFailed")
    assert fake.calls == []


async def test_a_card_is_sent_as_utf_8_json_whatever_mapping_holds_it(
    fake: FakeConnector,
) -> None:
    connector = BotConnector(adapter(), "")
    text = {"type": "TextBlock", "text": "Äiti ja isä: sovittelu alkaa, ÅÖ \u2013 ok"}
    message = card_message({"type": "AdaptiveCard", "body": [MappingProxyType(text)]})
    try:
        await connector.send(reference_dict(incoming(fake.url)), MappingProxyType(message))
        with pytest.raises(TypeError, match="not JSON"):
            await connector.send(reference_dict(incoming(fake.url)), {"when": object()})
    finally:
        await connector.close()
    assert len(fake.calls) == 1  # the unwritable message was not sent
    call = fake.calls[0]
    assert call.headers["content-type"] == "application/json; charset=utf-8"
    assert call.body["attachments"][0]["content"]["body"] == [text]


# -- failures ----------------------------------------------------------------------------------


async def test_an_update_of_a_lost_message_says_it_is_lost(fake: FakeConnector) -> None:
    connector = BotConnector(adapter(), "")
    reference = {"conversation": {"id": f"{CHANNEL};messageid=9"}, "serviceUrl": fake.url}
    try:
        with pytest.raises(ConnectorError) as failed:
            await connector.update_activity(reference, "9", card_message({}))
    finally:
        await connector.close()
    assert (failed.value.status, failed.value.code) == (404, "ActivityNotFoundInConversation")
    assert message_lost(failed.value)
    assert len(fake.calls) == 1  # a lost message is not asked for again


@pytest.mark.parametrize("status", [429, 500, 503])
async def test_a_refused_post_is_not_tried_again_and_is_not_delivered(
    fake: FakeConnector, status: int
) -> None:
    """A post may have arrived even when refused: botbuilder never repeated one either."""
    uow, _ = await a_bank()
    store = Store(fake.url)
    store.users["olli"] = reference_dict(incoming(fake.url))
    gw = gateway(adapter(), "", store, uow, backoff=0.01)
    fake.retry_after = 0
    fake.fail_next = [status]
    try:
        with pytest.raises(ConnectorError) as failed:
            await gw.connector.send(store.users["olli"], card_message({}))
        fake.fail_next = [status]
        with pytest.raises(DeliveryFailed):
            await gw.send_personal("olli", lambda lang: cards.notice_card(lang, "hei"))
    finally:
        await gw.connector.close()
    assert (failed.value.status, failed.value.code) == (status, "ServiceError")
    assert not message_lost(failed.value)
    assert len(fake.calls) == 2  # one each
    assert fake.log == []


async def test_an_update_is_tried_again_after_server_errors_as_botbuilder_did(
    fake: FakeConnector,
) -> None:
    connector = BotConnector(adapter(), "", backoff=0.01)
    fake.messages[("c:1", "m1")] = {}
    reference = {"conversation": {"id": "c:1"}, "serviceUrl": fake.url, "channelId": "msteams"}
    fake.retry_after = 0.05
    fake.fail_updates = [500, 503, 429]
    try:
        await connector.update_activity(reference, "m1", card_message({"type": "AdaptiveCard"}))
        fake.fail_updates = [500] * 4
        with pytest.raises(ConnectorError) as failed:
            await connector.update_activity(reference, "m1", card_message({}))
    finally:
        await connector.close()
    assert [s.kind for s in fake.log] == ["update"]
    assert failed.value.status == 500
    assert len(fake.calls) == 4 + 4  # three more tries each time, then no more


async def test_a_team_member_is_found_by_entra_id_page_by_page(fake: FakeConnector) -> None:
    fake.teams_ids.update({f"aaaaaaaa-0000-4000-8000-{n:012d}": f"29:member-{n}" for n in range(5)})
    fake.roster_page = 2
    connector = BotConnector(adapter(), "")
    try:
        last = await connector.team_member_id(
            fake.url, "19:team", "AAAAAAAA-0000-4000-8000-000000000004"
        )
        paged = len(fake.calls)
        unknown = await connector.team_member_id(fake.url, "19:team", "bbbbbbbb-0000-4000-8000-0")
    finally:
        await connector.close()
    assert last == "29:member-4"
    assert paged == 3  # two members a page: the fifth is on the third
    assert unknown is None
    first = fake.calls[0]
    assert first.method == "GET"
    assert first.raw_path == "/v3/conversations/19%3Ateam/pagedmembers?pageSize=500"


async def test_no_answer_in_time_is_a_timeout(fake: FakeConnector) -> None:
    uow, _ = await a_bank()
    store = Store(fake.url)
    store.users["olli"] = reference_dict(incoming(fake.url))
    gw = gateway(adapter(), "", store, uow, timeout=0.2)
    fake.stall = 1.0
    started = datetime.now(UTC)
    try:
        with pytest.raises(ConnectorError) as failed:
            await gw.connector.send(store.users["olli"], card_message({}))
        with pytest.raises(DeliveryFailed):
            await gw.send_personal("olli", lambda lang: cards.notice_card(lang, "hei"))
    finally:
        await gw.connector.close()
    assert (failed.value.status, failed.value.code) == (None, "Timeout")
    assert (datetime.now(UTC) - started).total_seconds() < 1.5


async def test_no_connection_is_tried_again_then_reported() -> None:
    # A port nobody listens on: nothing was sent, so even a post may be tried again.
    async with serving(FakeConnector()) as gone:
        url = gone.url
    connector = BotConnector(adapter(), "", backoff=0.01)
    try:
        with pytest.raises(ConnectorError) as failed:
            await connector.send(reference_dict(incoming(url)), card_message({}))
    finally:
        await connector.close()
    assert (failed.value.status, failed.value.code) == (None, "NotConnected")


async def test_a_closed_connector_sends_nothing(fake: FakeConnector) -> None:
    connector = BotConnector(adapter(), "")
    await connector.close()
    with pytest.raises(ConnectorError) as failed:
        await connector.send(reference_dict(incoming(fake.url)), card_message({}))
    assert failed.value.code == "Closed"
    assert fake.calls == []


def test_the_proxy_of_the_environment_is_looked_up_once_per_service_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from yarl import URL

    from bot.framework.connector import BotConnector

    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    monkeypatch.setenv("NO_PROXY", "smba.internal.example")
    connector = BotConnector(None, "")  # type: ignore[arg-type]
    teams = "https://smba.trafficmanager.net/emea/"
    proxy, _auth = connector._proxy_for(teams, URL(teams + "v3/conversations"))
    assert proxy == URL("http://proxy.example:3128")
    inside = "https://smba.internal.example/"
    assert connector._proxy_for(inside, URL(inside + "v3/conversations")) == (None, None)
    # The environment is read once: a later change needs a restart, as any setting does.
    monkeypatch.delenv("HTTPS_PROXY")
    assert connector._proxy_for(teams, URL(teams + "v3/conversations"))[0] == proxy


@pytest.mark.parametrize(
    "account",
    [
        {"id": "28:bot", "name": "Sopu"},
        {"id": "28:bot"},
        {
            "id": "28:bot",
            "name": "Sopu",
            "aadObjectId": "a1",
            "role": "bot",
            "properties": {"x": 1},
        },
        {"id": "28:bot", "name": "Sopu", "unknown": "dropped, as msrest drops it"},
    ],
)
def test_the_bots_account_in_a_chat_address_is_what_msrest_would_serialize(
    account: dict[str, Any],
) -> None:
    activity = Activity().deserialize(
        {"type": "invoke", "from": {"id": "29:u"}, "recipient": account, "serviceUrl": "x"}
    )
    address = chat_address(activity)
    assert address is not None
    assert address.bot == activity.recipient.serialize()
