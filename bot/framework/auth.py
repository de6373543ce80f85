"""Bot Framework authentication whose outbound clients are built once, not once per turn.

botbuilder's CloudAdapter builds a new ConnectorClient and a new UserTokenClient for every
incoming activity, each with a fresh msrest configuration, credentials object and HTTP
session, even when the turn sends nothing (a card click is answered in the HTTP response).
That was a large share of a click's CPU time (bench/README.md). Here the clients are kept
per bot app id, service URL and audience, as botbuilder's older BotFrameworkAdapter kept
its connector clients; the credentials inside still fetch and renew their own tokens.

Authentication of each request itself is unchanged: every activity's token is validated
by botbuilder as before.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from botbuilder.integration.aiohttp import ConfigurationBotFrameworkAuthentication
from botbuilder.schema import Activity
from botframework.connector import ConnectorClient
from botframework.connector.auth import (
    AuthenticateRequestResult,
    AuthenticationConstants,
    BotFrameworkAuthentication,
    ClaimsIdentity,
    ConnectorFactory,
    UserTokenClient,
)
from botframework.connector.skills import BotFrameworkClient

# Service URLs are a handful per deployment (one per Teams region); the bound only keeps
# a stream of odd ones from growing the cache without end.
MAX_CLIENTS = 64


def _app_id(claims_identity: ClaimsIdentity) -> str | None:
    # The same reading as botbuilder's: the audience of a channel's token, the app id
    # claim otherwise, nothing for an unauthenticated (development) request.
    claims = claims_identity.claims or {}
    value = claims.get(AuthenticationConstants.AUDIENCE_CLAIM)
    if value is None:
        value = claims.get(AuthenticationConstants.APP_ID_CLAIM)
    return value if isinstance(value, str) else None


class _Clients:
    def __init__(self) -> None:
        self._connectors: OrderedDict[tuple[Any, ...], ConnectorClient] = OrderedDict()
        self._user_tokens: dict[str | None, UserTokenClient] = {}

    def connector(self, key: tuple[Any, ...]) -> ConnectorClient | None:
        client = self._connectors.get(key)
        if client is not None:
            self._connectors.move_to_end(key)
        return client

    def keep_connector(self, key: tuple[Any, ...], client: ConnectorClient) -> None:
        self._connectors[key] = client
        while len(self._connectors) > MAX_CLIENTS:
            self._connectors.popitem(last=False)

    def user_token(self, app_id: str | None) -> UserTokenClient | None:
        return self._user_tokens.get(app_id)

    def keep_user_token(self, app_id: str | None, client: UserTokenClient) -> None:
        if len(self._user_tokens) >= MAX_CLIENTS:
            self._user_tokens.clear()
        self._user_tokens[app_id] = client


class _ReusingConnectorFactory(ConnectorFactory):
    def __init__(self, inner: ConnectorFactory, app_id: str | None, clients: _Clients) -> None:
        self._inner = inner
        self._app_id = app_id
        self._clients = clients

    async def create(self, service_url: str, audience: str | None = None) -> ConnectorClient:
        key = (self._app_id, service_url, audience)
        client = self._clients.connector(key)
        if client is None:
            client = await self._inner.create(service_url, audience)
            self._clients.keep_connector(key, client)
        return client


class ReusingAuthentication(BotFrameworkAuthentication):
    """ConfigurationBotFrameworkAuthentication, with its outbound clients reused."""

    def __init__(self, inner: ConfigurationBotFrameworkAuthentication) -> None:
        self._inner = inner
        self._clients = _Clients()

    async def authenticate_request(
        self, activity: Activity, auth_header: str
    ) -> AuthenticateRequestResult:
        result = await self._inner.authenticate_request(activity, auth_header)
        if result.connector_factory is not None:
            result.connector_factory = _ReusingConnectorFactory(
                result.connector_factory, _app_id(result.claims_identity), self._clients
            )
        return result

    async def authenticate_streaming_request(
        self, auth_header: str, channel_id_header: str
    ) -> AuthenticateRequestResult:
        return await self._inner.authenticate_streaming_request(auth_header, channel_id_header)

    def create_connector_factory(self, claims_identity: ClaimsIdentity) -> ConnectorFactory:
        return _ReusingConnectorFactory(
            self._inner.create_connector_factory(claims_identity),
            _app_id(claims_identity),
            self._clients,
        )

    async def create_user_token_client(self, claims_identity: ClaimsIdentity) -> UserTokenClient:
        app_id = _app_id(claims_identity)
        client = self._clients.user_token(app_id)
        if client is None:
            client = await self._inner.create_user_token_client(claims_identity)
            self._clients.keep_user_token(app_id, client)
        return client

    def create_bot_framework_client(self) -> BotFrameworkClient:
        return self._inner.create_bot_framework_client()

    def get_originating_audience(self) -> str:
        return self._inner.get_originating_audience()

    async def authenticate_channel_request(self, auth_header: str) -> ClaimsIdentity:
        return await self._inner.authenticate_channel_request(auth_header)
