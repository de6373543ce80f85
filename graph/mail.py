"""E-mail to families from the bank's shared mailbox, with Microsoft Graph ``sendMail``.

The app may send as that mailbox only: an Exchange application access policy restricts it
(README, "Messages to the family"). ``sendMail`` has no idempotency key, so this adapter
never retries on its own: a refusal Graph gives before taking the message (429, 503) is
``MailUnavailable`` and the outbox tries again later; an answer that leaves it unknown
whether the message went (502, 504, a dropped connection) is ``MailUncertain`` and is not
sent again. Nothing logged or raised here names the recipient.
"""

from __future__ import annotations

import logging

import httpx
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.default_query_parameters import QueryParameters
from kiota_http.middleware.options import RetryHandlerOption
from msgraph import GraphServiceClient
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.internet_message_header import InternetMessageHeader
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.message import Message
from msgraph.generated.models.recipient import Recipient
from msgraph.generated.users.item.send_mail.send_mail_post_request_body import (
    SendMailPostRequestBody,
)

from mediation.family_mail import MailRefused, MailUnavailable, MailUncertain

log = logging.getLogger(__name__)

NOT_TAKEN = frozenset({408, 429, 503})  # Graph refused before taking the message
UNKNOWN = frozenset({500, 502, 504})


class GraphMail:
    """Implements :class:`mediation.family_mail.MailSender` with Graph ``sendMail``."""

    def __init__(self, client: GraphServiceClient, mailbox: str) -> None:
        self.client = client
        self.mailbox = mailbox

    async def send(self, to: str, subject: str, body: str, key: str) -> None:
        message = Message(
            subject=subject,
            body=ItemBody(content_type=BodyType.Text, content=body),
            to_recipients=[Recipient(email_address=EmailAddress(address=to))],
            # Custom headers must start with x-: the outbox message's id, for tracing.
            internet_message_headers=[InternetMessageHeader(name="x-sopu-message", value=key)],
        )
        # No copy in the shared mailbox's Sent Items: the family's erasure could not reach it.
        request = SendMailPostRequestBody(message=message, save_to_sent_items=False)
        config: RequestConfiguration[QueryParameters] = RequestConfiguration(
            options=[RetryHandlerOption(max_retries=0, should_retry=False)]
        )
        try:
            await self.client.users.by_user_id(self.mailbox).send_mail.post(request, config)
        except APIError as exc:
            status = exc.response_status_code or 0
            code = _error_code(exc)
            if status in NOT_TAKEN:
                raise MailUnavailable(f"HTTP {status} {code}".strip()) from None
            if status in UNKNOWN:
                raise MailUncertain(f"HTTP {status} {code}".strip()) from None
            if status in (401, 403):
                log.error("Graph refused sendMail (%s %s): check the access policy", status, code)
            raise MailRefused(f"HTTP {status} {code}".strip()) from None
        except httpx.ConnectError:
            raise MailUnavailable("not connected") from None
        except (httpx.TransportError, TimeoutError) as exc:
            raise MailUncertain(type(exc).__name__) from None


def _error_code(exc: APIError) -> str:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    return str(code)[:60] if code else ""
