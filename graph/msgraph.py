"""The Microsoft Graph calendar adapter (msgraph-sdk, app-only, async credentials).

Outlook serves at most 4 concurrent requests per mailbox, so each mailbox gets its own
semaphore. The SDK's own retries are switched off per request: this adapter retries 429,
502, 503, 504 and transport errors itself, honouring Retry-After, with the same
``transaction_id`` on every create so Graph drops a duplicate. What Graph refuses for good
(permissions, an unknown mailbox) becomes a ``CalendarRefused`` the user can read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_http.middleware.options import RetryHandlerOption
from msgraph import GraphServiceClient
from msgraph.generated.models.attendee import Attendee
from msgraph.generated.models.attendee_type import AttendeeType
from msgraph.generated.models.body_type import BodyType
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone
from msgraph.generated.models.email_address import EmailAddress
from msgraph.generated.models.event import Event
from msgraph.generated.models.free_busy_status import FreeBusyStatus
from msgraph.generated.models.item_body import ItemBody
from msgraph.generated.models.location import Location
from msgraph.generated.models.online_meeting_provider_type import OnlineMeetingProviderType
from msgraph.generated.models.schedule_information import ScheduleInformation
from msgraph.generated.users.item.calendar.get_schedule.get_schedule_post_request_body import (
    GetSchedulePostRequestBody,
)
from msgraph.generated.users.item.calendar_view.delta.delta_request_builder import (
    DeltaRequestBuilder,
)
from msgraph.generated.users.item.events.item.cancel.cancel_post_request_body import (
    CancelPostRequestBody,
)

from mediation.calendar import CalendarRefused, CalendarUnavailable, EventDraft, EventSeen
from mediation.slots import BusyBlock, Schedule, ShowAs, WorkingHours

log = logging.getLogger(__name__)

T = TypeVar("T")
SCOPES = ["https://graph.microsoft.com/.default"]
MAILBOX_CONCURRENCY = 4  # Outlook's limit per app and mailbox
RETRIED = frozenset({429, 502, 503, 504})
_WINDOWS_ZONES = {
    "FLE Standard Time": "Europe/Helsinki",
    "W. Europe Standard Time": "Europe/Berlin",
    "GMT Standard Time": "Europe/London",
    "UTC": "UTC",
    "Coordinated Universal Time": "UTC",
}
_SHOW_AS = {
    "free": ShowAs.FREE,
    "tentative": ShowAs.TENTATIVE,
    "busy": ShowAs.BUSY,
    "oof": ShowAs.OOF,
    "workingElsewhere": ShowAs.ELSEWHERE,
}
_DAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5}


class EventGone(Exception):
    """The event no longer exists in the mailbox (deleted in Outlook)."""


def credential_from(settings: Any) -> Any:
    """An async azure-identity credential from ``bot.settings.CalendarSettings``."""
    from azure.identity.aio import (
        CertificateCredential,
        ClientSecretCredential,
        ManagedIdentityCredential,
    )

    if getattr(settings, "managed_identity", False):
        return ManagedIdentityCredential(client_id=settings.client_id or None)
    if settings.certificate_path:
        return CertificateCredential(
            settings.tenant_id, settings.client_id, certificate_path=settings.certificate_path
        )
    return ClientSecretCredential(settings.tenant_id, settings.client_id, settings.client_secret)


def _zone(name: str | None, default: str) -> str:
    if not name:
        return default
    name = _WINDOWS_ZONES.get(name, name)
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return default
    return name


def _moment(value: DateTimeTimeZone | None) -> datetime | None:
    if value is None or not value.date_time:
        return None
    text = value.date_time
    # Graph writes seven fractional digits; Python reads at most six.
    if "." in text:
        head, frac = text.split(".", 1)
        digits = "".join(c for c in frac if c.isdigit())[:6]
        text = f"{head}.{digits}" if digits else head
    moment = datetime.fromisoformat(text.rstrip("Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(_zone(value.time_zone, "UTC")))
    return moment.astimezone(UTC)


def _graph_time(moment: datetime) -> DateTimeTimeZone:
    return DateTimeTimeZone(
        date_time=moment.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="seconds"),
        time_zone="UTC",
    )


def _iso_z(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _enum_text(value: Any) -> str:
    return str(getattr(value, "value", value) or "")


@dataclass
class DeltaPage:
    events: list[EventSeen]
    next_link: str | None
    delta_link: str | None


class GraphCalendar:
    """Implements ``mediation.calendar.Calendar`` on Microsoft Graph."""

    def __init__(
        self,
        client: GraphServiceClient,
        default_hours: WorkingHours,
        *,
        credential: Any = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        max_attempts: int = 8,
        max_wait: float = 60.0,
    ) -> None:
        self.client = client
        self.default_hours = default_hours
        self.credential = credential
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.max_wait = max_wait
        self._limits: dict[str, asyncio.Semaphore] = {}

    @classmethod
    def create(cls, credential: Any, base_url: str, default_hours: WorkingHours) -> GraphCalendar:
        client = GraphServiceClient(credentials=credential, scopes=SCOPES)
        client.request_adapter.base_url = base_url.rstrip("/")
        return cls(client, default_hours, credential=credential)

    async def close(self) -> None:
        close = getattr(self.credential, "close", None)
        if close is not None:
            await close()

    # -- the request loop ------------------------------------------------------------------

    def _limit(self, mailbox: str) -> asyncio.Semaphore:
        key = mailbox.lower()
        if key not in self._limits:
            self._limits[key] = asyncio.Semaphore(MAILBOX_CONCURRENCY)
        return self._limits[key]

    @staticmethod
    def config(**query: Any) -> RequestConfiguration[Any]:
        """A request configuration with the SDK's own retries off (we retry ourselves)."""
        cfg: RequestConfiguration[Any] = RequestConfiguration(
            options=[RetryHandlerOption(max_retries=0, should_retry=False)]
        )
        cfg.headers.add("Prefer", 'outlook.timezone="UTC"')
        if query:
            cfg.query_parameters = DeltaRequestBuilder.DeltaRequestBuilderGetQueryParameters(
                **query
            )
        return cfg

    def _wait(self, attempt: int, headers: dict[str, str] | None) -> float:
        retry_after = None
        for key, value in (headers or {}).items():
            if key.lower() == "retry-after":
                try:
                    retry_after = float(str(value).strip())
                except ValueError:
                    retry_after = None
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_wait)
        # Exponential backoff with full jitter when Graph names no time.
        return random.uniform(0, min(self.max_wait, 0.5 * 2**attempt))

    async def _call(
        self, mailbox: str, what: str, make: Callable[[], Awaitable[T]], *, gone_404: bool = False
    ) -> T:
        """Run one request under the mailbox's limit, retrying what Graph asks us to retry.

        ``gone_404``: a 404 means the item (event, subscription) is gone, not the mailbox.
        """
        last = ""
        for attempt in range(self.max_attempts):
            async with self._limit(mailbox):
                try:
                    return await make()
                except APIError as exc:
                    status = exc.response_status_code or 0
                    code = _error_code(exc)
                    if status in RETRIED:
                        wait = self._wait(attempt, exc.response_headers)
                        last = f"{status} {code}"
                    elif status in (401, 403):
                        log.error("Graph refused %s (%s %s): check permissions", what, status, code)
                        raise CalendarRefused("permission", mailbox) from None
                    elif status == 404 and gone_404:
                        raise EventGone() from None
                    elif status == 404:
                        raise CalendarRefused("mailbox", mailbox) from None
                    else:
                        log.error("Graph refused %s: %s %s", what, status, code)
                        raise CalendarRefused("request", mailbox) from None
                except (httpx.TransportError, TimeoutError) as exc:
                    wait, last = self._wait(attempt, None), type(exc).__name__
            log.info("Graph %s: %s, retrying in %.1f s", what, last, wait)
            await self.sleep(wait)
        raise CalendarUnavailable(last)

    # -- the port ----------------------------------------------------------------------------

    async def schedules(
        self, mailboxes: Sequence[str], start: datetime, end: datetime
    ) -> list[Schedule]:
        if not mailboxes:
            return []
        body = GetSchedulePostRequestBody(
            schedules=[m.lower() for m in mailboxes],
            start_time=_graph_time(start),
            end_time=_graph_time(end),
            availability_view_interval=30,
        )
        asker = mailboxes[0].lower()
        builder = self.client.users.by_user_id(asker).calendar.get_schedule
        response = await self._call(
            asker, "getSchedule", lambda: builder.post(body, request_configuration=self.config())
        )
        found = (
            {(info.schedule_id or "").lower(): info for info in (response.value or [])}
            if response
            else {}
        )
        result = []
        for mailbox in mailboxes:
            info = found.get(mailbox.lower())
            if info is None or info.error is not None:
                raise CalendarRefused("mailbox", mailbox)
            result.append(self._schedule(mailbox.lower(), info))
        return result

    def _schedule(self, mailbox: str, info: ScheduleInformation) -> Schedule:
        blocks = []
        for item in info.schedule_items or []:
            lo, hi = _moment(item.start), _moment(item.end)
            if lo is None or hi is None:
                continue
            blocks.append(BusyBlock(lo, hi, _SHOW_AS.get(_enum_text(item.status), ShowAs.BUSY)))
        return Schedule(mailbox, tuple(blocks), self._hours(info))

    def _hours(self, info: ScheduleInformation) -> WorkingHours:
        wh = info.working_hours
        if wh is None or not wh.days_of_week or wh.start_time is None or wh.end_time is None:
            return self.default_hours
        days = frozenset(_DAYS.get(_enum_text(d).lower(), 6) for d in wh.days_of_week)
        zone = _zone(wh.time_zone.name if wh.time_zone else None, self.default_hours.zone)
        start, end = wh.start_time, wh.end_time
        if not isinstance(start, time) or not isinstance(end, time) or not start < end:
            return self.default_hours
        return WorkingHours(days=days, start=start, end=end, zone=zone)

    def _event(self, draft: EventDraft, *, new: bool) -> Event:
        event = Event(
            subject=draft.subject,
            body=ItemBody(content_type=BodyType.Text, content=draft.body),
            start=_graph_time(draft.start),
            end=_graph_time(draft.end),
            attendees=[
                Attendee(
                    email_address=EmailAddress(address=a),
                    # A room's mailbox books the room when invited as a resource.
                    type=AttendeeType.Resource if a in draft.rooms else AttendeeType.Required,
                )
                for a in draft.attendees
            ],
        )
        if draft.location:
            event.location = Location(display_name=draft.location)
        if new:
            event.transaction_id = draft.transaction_id
            event.show_as = FreeBusyStatus.Busy
            if draft.online:
                event.is_online_meeting = True
                event.online_meeting_provider = OnlineMeetingProviderType.TeamsForBusiness
        return event

    async def create_event(self, organizer: str, draft: EventDraft) -> str:
        events = self.client.users.by_user_id(organizer.lower()).events
        body = self._event(draft, new=True)
        created = await self._call(
            organizer,
            "create event",
            lambda: events.post(body, request_configuration=self.config()),
        )
        if created is None or not created.id:
            raise CalendarUnavailable("Graph returned no event id")
        return created.id

    async def update_event(self, organizer: str, event_id: str, draft: EventDraft) -> None:
        item = self.client.users.by_user_id(organizer.lower()).events.by_event_id(event_id)
        body = self._event(draft, new=False)
        try:
            await self._call(
                organizer,
                "update event",
                lambda: item.patch(body, request_configuration=self.config()),
                gone_404=True,
            )
        except EventGone:
            log.warning("an event to move was deleted in the calendar meanwhile")

    async def cancel_event(self, organizer: str, event_id: str, comment: str) -> None:
        item = self.client.users.by_user_id(organizer.lower()).events.by_event_id(event_id)
        body = CancelPostRequestBody(comment=comment)
        # An event already gone from the calendar is what cancelling wanted.
        with contextlib.suppress(EventGone):
            await self._call(
                organizer,
                "cancel event",
                lambda: item.cancel.post(body, request_configuration=self.config()),
                gone_404=True,
            )

    # -- change tracking ---------------------------------------------------------------------

    async def delta_page(
        self, mailbox: str, link: str | None, start: datetime, end: datetime
    ) -> DeltaPage:
        """One page of the mailbox's calendar-view delta; the first call names the window."""
        view = self.client.users.by_user_id(mailbox.lower()).calendar_view.delta
        if link:
            builder = view.with_url(link)
            config = self.config()
        else:
            builder = view
            config = self.config(
                start_date_time=_iso_z(start),
                end_date_time=_iso_z(end),
            )
        page = await self._call(
            mailbox, "calendar delta", lambda: builder.get(request_configuration=config)
        )
        if page is None:
            return DeltaPage([], None, None)
        seen = []
        for item in page.value or []:
            if not item.id:
                continue
            extra = item.additional_data or {}
            seen.append(
                EventSeen(
                    organizer=mailbox.lower(),
                    event_id=item.id,
                    start=_moment(item.start),
                    end=_moment(item.end),
                    cancelled=bool(item.is_cancelled),
                    removed="@removed" in extra,
                )
            )
        return DeltaPage(seen, page.odata_next_link, page.odata_delta_link)

    # -- subscriptions -----------------------------------------------------------------------

    async def subscribe(
        self, mailbox: str, notification_url: str, client_state: str, expires: datetime
    ) -> str:
        from msgraph.generated.models.subscription import Subscription

        body = Subscription(
            change_type="created,updated,deleted",
            notification_url=notification_url,
            lifecycle_notification_url=notification_url,
            resource=f"users/{mailbox.lower()}/events",
            expiration_date_time=expires,
            client_state=client_state,
        )
        subs = self.client.subscriptions
        created = await self._call(
            mailbox, "subscribe", lambda: subs.post(body, request_configuration=self.config())
        )
        if created is None or not created.id:
            raise CalendarUnavailable("Graph returned no subscription id")
        return created.id

    async def renew(self, mailbox: str, subscription_id: str, expires: datetime) -> bool:
        """Extend a subscription; False when Graph no longer knows it."""
        from msgraph.generated.models.subscription import Subscription

        item = self.client.subscriptions.by_subscription_id(subscription_id)
        body = Subscription(expiration_date_time=expires)
        try:
            await self._call(
                mailbox,
                "renew subscription",
                lambda: item.patch(body, request_configuration=self.config()),
                gone_404=True,
            )
        except (EventGone, CalendarRefused):
            return False
        return True

    async def unsubscribe(self, mailbox: str, subscription_id: str) -> None:
        item = self.client.subscriptions.by_subscription_id(subscription_id)
        with contextlib.suppress(EventGone, CalendarRefused):
            await self._call(
                mailbox,
                "unsubscribe",
                lambda: item.delete(request_configuration=self.config()),
                gone_404=True,
            )


def _error_code(exc: APIError) -> str:
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    return str(code) if code else ""
