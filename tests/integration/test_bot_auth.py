"""The adapter's authentication: tokens still checked on every request, clients built once."""

from __future__ import annotations

import jwt
import pytest
from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity, ChannelAccount, ConversationAccount

from bot.framework.adapter import _AdapterConfig
from bot.framework.auth import MAX_CLIENTS, ReusingAuthentication
from bot.settings import Settings


def _activity(service_url: str = "https://smba.example/emea/") -> Activity:
    return Activity(
        type="message",
        id="1",
        channel_id="msteams",
        service_url=service_url,
        from_property=ChannelAccount(id="29:someone"),
        recipient=ChannelAccount(id="28:sopu"),
        conversation=ConversationAccount(id="a:chat"),
        text="help",
    )


def _auth(**settings: str) -> ReusingAuthentication:
    config = _AdapterConfig(Settings(database_url="sqlite://", **settings))  # type: ignore[arg-type]
    return ReusingAuthentication(ConfigurationBotFrameworkAuthentication(config))


@pytest.mark.parametrize("header", ["", "Bearer not-a-token"])
async def test_a_request_without_a_valid_token_is_refused_when_the_bot_has_an_app_id(
    header: str,
) -> None:
    auth = _auth(bot_app_id="app-1", bot_app_password="secret", bot_tenant_id="tenant-1")
    # botbuilder's own refusal, or the JWT library's for a token that does not parse.
    with pytest.raises((PermissionError, jwt.PyJWTError)):
        await auth.authenticate_request(_activity(), header)


async def test_connector_clients_are_built_once_per_service_url() -> None:
    auth = _auth()
    first = await auth.authenticate_request(_activity(), "")
    second = await auth.authenticate_request(_activity(), "")
    other = await auth.authenticate_request(_activity("https://smba.example/amer/"), "")
    client = await first.connector_factory.create("https://smba.example/emea/", first.audience)
    again = await second.connector_factory.create("https://smba.example/emea/", second.audience)
    elsewhere = await other.connector_factory.create("https://smba.example/amer/", other.audience)
    assert client is again
    assert elsewhere is not client
    assert client.config.base_url == "https://smba.example/emea/"
    tokens = await auth.create_user_token_client(first.claims_identity)
    assert await auth.create_user_token_client(second.claims_identity) is tokens


async def test_the_kept_clients_are_bounded() -> None:
    auth = _auth()
    result = await auth.authenticate_request(_activity(), "")
    first = await result.connector_factory.create("https://s0.example/", None)
    for n in range(1, MAX_CLIENTS + 1):
        await result.connector_factory.create(f"https://s{n}.example/", None)
    # The oldest was let go; asking again builds a new one.
    assert await result.connector_factory.create("https://s0.example/", None) is not first
