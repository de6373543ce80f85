"""A small Bot Connector REST client for the messages Sopu sends on its own.

botbuilder's own client (msrest) builds a new client configuration for each proactive call,
walks every value of a card, deep-copies the activity and makes a blocking ``requests``
call in a worker thread on a new TCP connection. Here the same requests are made on one
aiohttp session with the JSON written once. What is sent is what botbuilder sent
(tests/integration/test_connector.py compares the two). Everything Sopu sends on its own
goes through this one client; only replies within a turn go through the turn context.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
from aiohttp.helpers import get_env_proxy_for_url
from botbuilder.integration.aiohttp import CloudAdapter
from botbuilder.schema import ChannelAccount, ConversationAccount
from botframework.connector.auth import AuthenticationConstants
from yarl import URL

from cards.base import MESSAGE_BYTES, fit_message

# A message with its card, as Teams takes it (about 28 KB); the card itself gets MESSAGE_BYTES.
MESSAGE_BYTES_SENT = MESSAGE_BYTES + 1_000

log = logging.getLogger(__name__)

CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"
# The Bot Connector gives up on a request after 15 s; so does Sopu, retries included.
TIMEOUT_SECONDS = 15.0
# What botbuilder's msrest retry policy allowed: three more tries, no wait before the
# first, then doubling from 1.6 s, or the Retry-After the connector asks for.
RETRIES = 3
BACKOFF_SECONDS = 0.8
USER_AGENT = f"Sopu (aiohttp/{aiohttp.__version__}) Microsoft-BotFramework/3.1"
# Service URLs are a handful per deployment (one per Teams region); the bound only keeps a
# stream of odd ones from growing the credentials kept without end.
MAX_SERVICE_URLS = 64
# A team's roster is read in pages of at most 500 members (Teams' largest page); a bank's
# team is a few dozen people, and 20 pages bound the look-up in the largest of teams.
MEMBER_PAGE_SIZE = 500
MEMBER_PAGES = 20

# The fields botbuilder's models know; it drops any other field of a stored reference
# when it reads one, so they never reach Teams.
_ACCOUNT_FIELDS = frozenset(f["key"] for f in ChannelAccount._attribute_map.values())
_CONVERSATION_FIELDS = frozenset(f["key"] for f in ConversationAccount._attribute_map.values())


class ConnectorError(Exception):
    """The Bot Connector did not take a request.

    ``status`` is the HTTP status (None when no answer came) and ``code`` the connector's
    error code, e.g. ``ActivityNotFoundInConversation``, or Sopu's own word for why no
    answer came (``Timeout``, ``NotConnected`` when nothing was sent, ``ConnectionFailed``
    when the connection broke after sending, ``TokenFailed``).
    """

    def __init__(
        self, status: int | None, code: str, message: str = "", retry_after: float | None = None
    ) -> None:
        super().__init__(f"{status if status is not None else 'no answer'} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.retry_after = retry_after  # seconds the connector asked to wait, if it did


@dataclass(frozen=True)
class Created:
    """A conversation the connector opened, and the id of its first message if it had one."""

    conversation_id: str
    activity_id: str | None


def card_message(card: Mapping[str, Any]) -> dict[str, Any]:
    """A message with one Adaptive Card, as MessageFactory.attachment makes it."""
    return {
        "type": "message",
        "attachmentLayout": "list",
        "attachments": [{"contentType": CARD_CONTENT_TYPE, "content": card}],
    }


def _within_a_message(body: Mapping[str, Any], data: bytes) -> bytes:
    """The body as sent, its cards cut to fit when it is over a Teams message's size
    (``fit_message``). Measured on the bytes written anyway: a message that fits costs
    nothing more."""
    if len(data) <= MESSAGE_BYTES_SENT or not isinstance(body.get("attachments"), list):
        return data
    attachments = [
        {**a, "content": fit_message(a["content"])}
        if isinstance(a, Mapping) and isinstance(a.get("content"), dict)
        else a
        for a in body["attachments"]
    ]
    return orjson.dumps({**body, "attachments": attachments}, default=_plain)


def _known(data: Any, fields: frozenset[str]) -> dict[str, Any] | None:
    if not isinstance(data, Mapping):
        return None
    return {k: v for k, v in data.items() if k in fields and v is not None} or None


def addressed(
    message: Mapping[str, Any], reference: Mapping[str, Any], turn_id: str
) -> dict[str, Any]:
    """``message`` addressed by a stored reference, as botbuilder addresses a proactive one.

    That is TurnContext.apply_conversation_reference on the reference of the continuation
    turn (conversation_reference_extension.get_continuation_activity): from the bot to the
    user, in the stored conversation, and in reply to the turn's own new id. The turn has
    no locale, so the message carries none.
    """
    activity: dict[str, Any] = {
        **message,
        "channelId": reference.get("channelId"),
        "serviceUrl": reference.get("serviceUrl"),
        "conversation": _known(reference.get("conversation"), _CONVERSATION_FIELDS),
        "from": _known(reference.get("bot"), _ACCOUNT_FIELDS),
        "recipient": _known(reference.get("user"), _ACCOUNT_FIELDS),
        "replyToId": turn_id,
    }
    return {k: v for k, v in activity.items() if v is not None}


def _path(segment: str) -> str:
    # As msrest quotes path arguments: everything but letters, digits and "_.-~", so the
    # ":", ";", "@" and "=" of Teams' conversation ids travel as %3A, %3B, %40 and %3D.
    return quote(segment, safe="")


def _where(reference: Mapping[str, Any]) -> tuple[str, str]:
    service_url = reference.get("serviceUrl")
    conversation = reference.get("conversation") or {}
    conversation_id = conversation.get("id") if isinstance(conversation, Mapping) else None
    if not service_url or not conversation_id:
        raise ConnectorError(None, "BadReference", "no service URL or conversation id")
    return str(service_url), str(conversation_id)


def _signs(credentials: Any) -> bool:
    # botbuilder's rule (AppCredentials._should_set_token): no app id is development mode,
    # where MicrosoftAppCredentials.empty() sends no Authorization header at all.
    app_id = getattr(credentials, "microsoft_app_id", None)
    return bool(app_id) and app_id != AuthenticationConstants.ANONYMOUS_SKILL_APP_ID


def _retry_after(response: aiohttp.ClientResponse) -> float | None:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "")))
    except ValueError:
        return None  # absent, or an HTTP date, which Teams does not send


def _retriable_status(method: str, status: int, retry_after: float | None) -> bool:
    # msrest retried only what urllib3 calls idempotent: the card update (PUT), never a
    # post, where a retry of a message that did arrive would show it twice.
    if method != "PUT":
        return False
    if status == 408 or (status >= 500 and status not in (501, 505)):
        return True
    return retry_after is not None and status in (413, 429, 503)


def _error(status: int, body: bytes, retry_after: float | None = None) -> ConnectorError:
    try:
        error = json.loads(body).get("error") or {}
        code, message = str(error.get("code") or ""), str(error.get("message") or "")
    except (ValueError, AttributeError):
        code, message = "", ""
    # Only the connector's own words, shortened: never a body that could echo the card.
    return ConnectorError(status, code or "HttpError", message[:200], retry_after)


class BotConnector:
    """Updates, proactive messages and new conversations through the Bot Connector API.

    The HTTP session is opened on first use and lives until ``close``; the credentials are
    botbuilder's own for a proactive call, kept per service URL.
    """

    def __init__(
        self,
        adapter: CloudAdapter,
        bot_app_id: str,
        *,
        timeout: float = TIMEOUT_SECONDS,
        backoff: float = BACKOFF_SECONDS,
    ) -> None:
        self._adapter = adapter
        self._bot_app_id = bot_app_id
        self._timeout = timeout
        self._backoff = backoff
        self._credentials: dict[str, Any] = {}
        self._proxies: dict[str, tuple[URL | None, aiohttp.BasicAuth | None]] = {}
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    async def close(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def update_activity(
        self, reference: Mapping[str, Any], activity_id: str, message: Mapping[str, Any]
    ) -> None:
        """Replace the message ``activity_id`` in the reference's conversation."""
        service_url, conversation_id = _where(reference)
        activity = {**addressed(message, reference, str(uuid.uuid4())), "id": activity_id}
        url = f"/v3/conversations/{_path(conversation_id)}/activities/{_path(activity_id)}"
        await self._request("PUT", service_url, url, activity)

    async def send(self, reference: Mapping[str, Any], message: Mapping[str, Any]) -> str:
        """Post ``message`` to the reference's conversation; the new message's id."""
        service_url, conversation_id = _where(reference)
        # botbuilder posts every proactive message as a reply to the id of the turn it
        # made up for the occasion; Teams puts it at the end of the conversation.
        turn_id = str(uuid.uuid4())
        activity = {**addressed(message, reference, turn_id), "inputHint": "acceptingInput"}
        url = f"/v3/conversations/{_path(conversation_id)}/activities/{_path(turn_id)}"
        answer = await self._request(
            "POST", service_url, url, activity, {"x-ms-conversation-id": conversation_id}
        )
        return str(answer.get("id") or "")

    async def reply(self, reference: Mapping[str, Any], message: Mapping[str, Any]) -> str:
        """Answer the activity of a turn in its conversation, as TurnContext.send_activity does.

        ``reference`` is the turn's conversation reference (references.reference_dict):
        the answer goes to its conversation, from the bot to the user, in reply to its
        activity id, and in the user's locale.
        """
        service_url, conversation_id = _where(reference)
        reply_to = str(reference.get("activityId") or "")
        activity = {**addressed(message, reference, reply_to), "inputHint": "acceptingInput"}
        if reference.get("locale"):
            activity["locale"] = reference["locale"]
        if not reply_to:
            activity.pop("replyToId", None)
        path = f"/v3/conversations/{_path(conversation_id)}/activities"
        url = f"{path}/{_path(reply_to)}" if reply_to else path
        answer = await self._request(
            "POST", service_url, url, activity, {"x-ms-conversation-id": conversation_id}
        )
        return str(answer.get("id") or "")

    async def create_conversation(self, service_url: str, parameters: Mapping[str, Any]) -> Created:
        """Open a conversation (ConversationParameters as JSON), with its first message if any."""
        answer = await self._request("POST", service_url, "/v3/conversations", parameters)
        return Created(str(answer.get("id") or ""), answer.get("activityId") or None)

    async def team_member_id(
        self, service_url: str, team_id: str, aad_object_id: str
    ) -> str | None:
        """The Teams user id (29:...) of the team's member with this Entra object id, or None.

        Read from the team's roster a page at a time, as TeamsInfo.get_paged_team_members
        reads it; a one-to-one chat is opened by this id.
        """
        wanted = aad_object_id.lower()
        token: str | None = None
        for _ in range(MEMBER_PAGES):
            query = f"?pageSize={MEMBER_PAGE_SIZE}"
            if token:
                query += f"&continuationToken={quote(token, safe='')}"
            page = await self._request(
                "GET", service_url, f"/v3/conversations/{_path(team_id)}/pagedmembers{query}"
            )
            for member in page.get("members") or []:
                if not isinstance(member, dict):
                    continue
                if str(member.get("aadObjectId") or "").lower() == wanted and member.get("id"):
                    return str(member["id"])
            token = page.get("continuationToken") or None
            if not isinstance(token, str):
                return None
        return None

    # -- HTTP ------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        service_url: str,
        path: str,
        body: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        data = orjson.dumps(body, default=_plain) if body is not None else None
        if body is not None and data is not None:
            data = _within_a_message(body, data)
        # The path is already quoted as msrest quotes it; yarl must not quote it again.
        url = URL(service_url.rstrip("/") + path, encoded=True)
        credentials = await self._credentials_for(service_url)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._timeout
        tries = 0
        while True:
            tries += 1
            retry_after: float | None = None
            try:
                sent_headers = {
                    "Accept": "application/json",
                    "Content-Type": "application/json; charset=utf-8",
                    **(headers or {}),
                }
                if _signs(credentials):
                    sent_headers["Authorization"] = f"Bearer {await self._token(credentials)}"
                left = deadline - loop.time()
                proxy, proxy_auth = self._proxy_for(service_url, url)
                async with self._http().request(
                    method,
                    url,
                    data=data,
                    headers=sent_headers,
                    proxy=proxy,
                    proxy_auth=proxy_auth,
                    timeout=aiohttp.ClientTimeout(total=max(left, 0.001)),
                ) as response:
                    answer = await response.read()
                    if 200 <= response.status < 300:
                        return _json_object(answer)
                    retry_after = _retry_after(response)
                    error = _error(response.status, answer, retry_after)
                    retriable = _retriable_status(method, response.status, retry_after)
            except TimeoutError as exc:
                raise ConnectorError(None, "Timeout", f"no answer in {self._timeout:g} s") from exc
            except aiohttp.ClientConnectorError as exc:
                # Nothing was sent: safe to try again whatever the request.
                error = ConnectorError(None, "NotConnected", type(exc).__name__)
                retriable = True
            except aiohttp.ClientError as exc:
                # Sent, but the connection broke before the answer: only an update may repeat.
                error = ConnectorError(None, "ConnectionFailed", type(exc).__name__)
                retriable = method == "PUT"
            wait = retry_after if retry_after is not None else self._pause(tries)
            if not retriable or tries > RETRIES or loop.time() + wait >= deadline:
                raise error
            log.info("the Bot Connector answered %s; trying again in %.1f s", error, wait)
            await asyncio.sleep(wait)

    def _pause(self, tries: int) -> float:
        return 0.0 if tries <= 1 else self._backoff * 2 ** (tries - 1)

    def _http(self) -> aiohttp.ClientSession:
        if self._closed:
            raise ConnectorError(None, "Closed", "Sopu is stopping")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers={"User-Agent": USER_AGENT},
                timeout=aiohttp.ClientTimeout(total=self._timeout),
            )
        return self._session

    def _proxy_for(self, service_url: str, url: URL) -> tuple[URL | None, aiohttp.BasicAuth | None]:
        """The proxy of HTTPS_PROXY/NO_PROXY for a service URL, as botbuilder's requests used it.

        Looked up once per service URL: aiohttp's ``trust_env`` reads the environment on
        a worker thread for every request, a thread hop per card update.
        """
        found = self._proxies.get(service_url)
        if found is None:
            try:
                found = get_env_proxy_for_url(url)
            except LookupError:
                found = (None, None)
            self._proxies[service_url] = found
        return found

    async def _credentials_for(self, service_url: str) -> Any:
        """The credentials botbuilder's CloudAdapter would use for a proactive call here."""
        credentials = self._credentials.get(service_url)
        if credentials is None:
            adapter = self._adapter
            # As CloudAdapterBase.process_proactive and create_conversation get theirs.
            # (botbuilder 4.17 trusts every service URL: AppCredentials.trust_service_url
            # is a documented no-op, so there is nothing to register here.)
            factory = adapter.bot_framework_authentication.create_connector_factory(
                adapter.create_claims_identity(self._bot_app_id)
            )
            try:
                client = await factory.create(service_url, None)
            except Exception as exc:  # botbuilder raises a bare Exception for a wrong app id
                raise ConnectorError(None, "NoCredentials", type(exc).__name__) from exc
            credentials = client.config.credentials
            if len(self._credentials) >= MAX_SERVICE_URLS:
                self._credentials.clear()
            self._credentials[service_url] = credentials
        return credentials

    @staticmethod
    async def _token(credentials: Any) -> str:
        # MSAL keeps and renews the token itself; asking is cheap once it has one, but
        # may mean a blocking call to Entra ID, hence the worker thread.
        try:
            token = await asyncio.to_thread(credentials.get_access_token)
        except Exception as exc:  # MSAL's and requests' errors alike mean "no token"
            # Entra ID's reason (e.g. "AADSTS7000215: Invalid client secret") names no secret.
            raise ConnectorError(None, "TokenFailed", str(exc)[:200]) from exc
        return str(token)


def _plain(value: Any) -> Any:
    """What orjson cannot write itself: a read-only mapping, as the json module took it."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body) if body else {}
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
