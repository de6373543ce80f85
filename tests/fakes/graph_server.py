"""A small stateful fake of Microsoft Graph's calendar API, for the real msgraph-sdk.

It keeps events per mailbox and answers what Sopu uses, with Graph's JSON shapes: events
(create with transactionId de-duplication, patch, cancel, delete), getSchedule (PascalCase or
camelCase bodies), calendarView delta with the ``delta()`` path and delta tokens,
subscriptions with the webhook validation handshake, change and lifecycle notifications, and
errors as ``{"error": {"code", "message"}}``.

Fault injection: with ``fault_rate`` set, that share of requests (chosen at random) fails with
429 (with Retry-After) or 503; some POSTs that create an event fail *after* the event was
made, as a lost answer would.
"""

from __future__ import annotations

import asyncio
import itertools
import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote

import aiohttp
from aiohttp import web

GRAPH_TIME = "%Y-%m-%dT%H:%M:%S.0000000"


def graph_time(moment: datetime) -> dict[str, str]:
    return {"dateTime": moment.astimezone(UTC).strftime(GRAPH_TIME), "timeZone": "UTC"}


def parse_time(value: dict[str, Any]) -> datetime:
    text = str(value.get("dateTime") or value.get("DateTime") or "")
    zone = str(value.get("timeZone") or value.get("TimeZone") or "UTC")
    if zone not in ("UTC", "Coordinated Universal Time"):
        raise ValueError(f"the fake reads UTC times only, not {zone}")
    head = text.rstrip("Z").split(".")[0]
    return datetime.fromisoformat(head).replace(tzinfo=UTC)


def error(status: int, code: str, message: str, **headers: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message}}, status=status, headers=headers
    )


@dataclass
class FakeEvent:
    id: str
    mailbox: str
    subject: str
    body: str
    start: datetime
    end: datetime
    attendees: list[str]
    transaction_id: str | None = None
    show_as: str = "busy"
    is_all_day: bool = False
    is_cancelled: bool = False
    online: bool = False
    removed: bool = False
    version: int = 0
    resources: list[str] = field(default_factory=list)  # attendees of type "resource"
    location: str = ""

    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "subject": self.subject,
            "body": {"contentType": "text", "content": self.body},
            "start": graph_time(self.start),
            "end": graph_time(self.end),
            "attendees": [
                {"type": "required", "emailAddress": {"address": a}} for a in self.attendees
            ],
            "organizer": {"emailAddress": {"address": self.mailbox}},
            "showAs": self.show_as,
            "isAllDay": self.is_all_day,
            "isCancelled": self.is_cancelled,
            "isOnlineMeeting": self.online,
            "changeKey": f"ck{self.version}",
            "transactionId": self.transaction_id,
        }
        if self.online:
            data["onlineMeetingProvider"] = "teamsForBusiness"
            data["onlineMeeting"] = {"joinUrl": f"https://teams.example/meet/{self.id}"}
        return data


@dataclass
class FakeSubscription:
    id: str
    resource: str
    mailbox: str
    notification_url: str
    lifecycle_url: str
    client_state: str
    expires: datetime


@dataclass
class FakeGraph:
    """The state and the aiohttp app of the fake; ``url`` is set once it listens."""

    users: set[str] = field(default_factory=set)
    refused_creates: int = 0  # the next event creations answered 403
    working_hours: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: dict[str, FakeEvent] = field(default_factory=dict)
    subscriptions: dict[str, FakeSubscription] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)
    cancellations: list[tuple[str, str]] = field(default_factory=list)  # (event id, comment)
    fault_rate: float = 0.0
    retry_after: str = "1"
    seed: int = 7
    url: str = ""
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    faults: int = 0
    page_size: int = 3
    _log: list[tuple[int, str]] = field(default_factory=list)  # (sequence, event id)
    _seq: Any = field(default_factory=lambda: itertools.count(1))
    _rng: random.Random = field(default_factory=random.Random)
    _tasks: set[asyncio.Task[Any]] = field(default_factory=set)
    http: aiohttp.ClientSession | None = None
    clock: Any = None  # an object with now(); Graph's idea of the present moment
    sent_mail: list[dict[str, Any]] = field(default_factory=list)  # what sendMail was given
    mail_failures: list[tuple[int, str]] = field(default_factory=list)  # the next answers

    def now(self) -> datetime:
        return self.clock.now() if self.clock is not None else datetime.now(UTC)

    def __post_init__(self) -> None:
        self._rng.seed(self.seed)
        self.users = {u.lower() for u in self.users}

    # -- what a test does "in Outlook" --------------------------------------------------------

    def add_event(
        self,
        mailbox: str,
        start: datetime,
        end: datetime,
        show_as: str = "busy",
        *,
        subject: str = "Something else",
        all_day: bool = False,
    ) -> FakeEvent:
        event = FakeEvent(
            uuid.uuid4().hex, mailbox.lower(), subject, "", start, end, [], None, show_as, all_day
        )
        self.events[event.id] = event
        self._changed(event)
        return event

    def move_in_outlook(self, event_id: str, start: datetime, end: datetime) -> None:
        event = self.events[event_id]
        event.start, event.end = start, end
        event.version += 1
        self._changed(event)

    def delete_in_outlook(self, event_id: str) -> None:
        event = self.events[event_id]
        event.removed = True
        self._changed(event)

    def of(self, mailbox: str, *, removed: bool = False) -> list[FakeEvent]:
        return sorted(
            (
                e
                for e in self.events.values()
                if e.mailbox == mailbox.lower() and (removed or not e.removed)
            ),
            key=lambda e: e.start,
        )

    async def lifecycle(self, subscription: str | FakeSubscription, event: str) -> int:
        """Post a lifecycle notification (of a subscription that may be gone already)."""
        sub = self.subscriptions[subscription] if isinstance(subscription, str) else subscription
        item = {
            "subscriptionId": sub.id,
            "clientState": sub.client_state,
            "lifecycleEvent": event,
            "resource": sub.resource,
            "subscriptionExpirationDateTime": sub.expires.isoformat(),
        }
        return await self._post(sub.lifecycle_url, {"value": [item]})

    async def idle(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- bookkeeping ---------------------------------------------------------------------------

    def _changed(self, event: FakeEvent) -> None:
        self._log.append((next(self._seq), event.id))
        for sub in self.subscriptions.values():
            if sub.mailbox == event.mailbox and sub.expires > self.now():
                item = {
                    "subscriptionId": sub.id,
                    "clientState": sub.client_state,
                    "changeType": "deleted" if event.removed else "updated",
                    "resource": f"Users/{sub.mailbox}/Events/{event.id}",
                    "resourceData": {"@odata.type": "#Microsoft.Graph.Event", "id": event.id},
                }
                self._spawn(self._post(sub.notification_url, {"value": [item]}))

    def _spawn(self, work: Any) -> None:
        try:
            task = asyncio.get_running_loop().create_task(work)
        except RuntimeError:
            work.close()
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, url: str, body: Any) -> int:
        assert self.http is not None
        async with self.http.post(url, json=body) as resp:
            return resp.status

    def _busy_of(self, mailbox: str) -> list[FakeEvent]:
        """What fills a mailbox's free/busy: its own events and invitations it received."""
        return [
            e
            for e in self.events.values()
            if not e.removed
            and not e.is_cancelled
            and (e.mailbox == mailbox or mailbox in [a.lower() for a in e.attendees])
        ]

    # -- the HTTP side ---------------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        r = app.router
        r.add_post("/v1.0/users/{user}/calendar/getSchedule", self.get_schedule)
        r.add_post("/v1.0/users/{user}/events", self.create_event)
        r.add_patch("/v1.0/users/{user}/events/{event}", self.patch_event)
        r.add_delete("/v1.0/users/{user}/events/{event}", self.delete_event)
        r.add_post("/v1.0/users/{user}/events/{event}/cancel", self.cancel_event)
        r.add_get(r"/v1.0/users/{user}/calendarView/{delta:delta(\(\))?}", self.delta)
        r.add_post("/v1.0/users/{user}/sendMail", self.send_mail)
        r.add_post("/v1.0/subscriptions", self.subscribe)
        r.add_patch("/v1.0/subscriptions/{sub}", self.renew)
        r.add_delete("/v1.0/subscriptions/{sub}", self.unsubscribe)
        app.on_startup.append(self._open)
        app.on_cleanup.append(self._close)
        return app

    async def _open(self, app: web.Application) -> None:
        self.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def _close(self, app: web.Application) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*list(self._tasks), return_exceptions=True)
        if self.http is not None:
            await self.http.close()

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.headers.get("Authorization", "").startswith("Bearer "):
            return error(401, "InvalidAuthenticationToken", "Access token is empty.")
        user = unquote(request.match_info.get("user", "")).lower()
        if user and user in self.forbidden:
            return error(403, "ErrorAccessDenied", "Access is denied. Check credentials.")
        if user and user not in self.users:
            return error(404, "ErrorInvalidUser", f"The requested user '{user}' is invalid.")
        lost_answer = False
        if self.fault_rate and self._rng.random() < self.fault_rate:
            self.faults += 1
            if request.method == "POST" and self._rng.random() < 0.3:
                lost_answer = True  # do the work, then fail as if the answer was lost
            elif self._rng.random() < 0.5:
                response = error(
                    429,
                    "TooManyRequests",
                    "Too many requests.",
                    **{"Retry-After": self.retry_after},
                )
                self.requests.append((request.method, request.path, 429))
                return response
            else:
                self.requests.append((request.method, request.path, 503))
                return error(503, "ServiceUnavailable", "Service unavailable.")
        response = await handler(request)
        if lost_answer:
            self.requests.append((request.method, request.path, 503))
            return error(503, "ServiceUnavailable", "Service unavailable.")
        self.requests.append((request.method, request.path, response.status))
        return response

    def _user(self, request: web.Request) -> str:
        return unquote(request.match_info["user"]).lower()

    def _event(self, request: web.Request) -> FakeEvent | None:
        event = self.events.get(request.match_info["event"])
        if event is None or event.removed or event.mailbox != self._user(request):
            return None
        return event

    async def get_schedule(self, request: web.Request) -> web.Response:
        body = {k.lower(): v for k, v in (await request.json()).items()}
        try:
            start = parse_time(body["starttime"])
            end = parse_time(body["endtime"])
            mailboxes = [str(m).lower() for m in body["schedules"]]
            interval = int(body.get("availabilityviewinterval") or 30)
        except (KeyError, ValueError, TypeError) as exc:
            return error(400, "ErrorInvalidRequest", f"bad getSchedule body: {exc}")
        value = []
        for mailbox in mailboxes:
            if mailbox not in self.users:
                value.append(
                    {
                        "scheduleId": mailbox,
                        "availabilityView": "",
                        "error": {
                            "message": "The mailbox is not found.",
                            "responseCode": "ErrorMailboxNotFound",
                        },
                    }
                )
                continue
            busy = [e for e in self._busy_of(mailbox) if e.start < end and e.end > start]
            view = []
            moment = start
            rank = {"free": "0", "tentative": "1", "busy": "2", "oof": "3", "workingElsewhere": "4"}
            while moment < end:
                step = moment + timedelta(minutes=interval)
                marks = [
                    rank.get(e.show_as, "2") for e in busy if e.start < step and e.end > moment
                ]
                view.append(max(marks, default="0"))
                moment = step
            entry: dict[str, Any] = {
                "scheduleId": mailbox,
                "availabilityView": "".join(view),
                "scheduleItems": [
                    {
                        "isPrivate": False,
                        "status": e.show_as,
                        "subject": e.subject,
                        "start": graph_time(e.start),
                        "end": graph_time(e.end),
                    }
                    for e in sorted(busy, key=lambda e: e.start)
                ],
            }
            hours = self.working_hours.get(mailbox)
            if hours is not None:
                entry["workingHours"] = hours
            value.append(entry)
        return web.json_response({"value": value})

    async def send_mail(self, request: web.Request) -> web.Response:
        """sendMail: 202 and nothing else; the SDK writes the body in PascalCase."""
        if self.mail_failures:
            status, code = self.mail_failures.pop(0)
            return error(status, code, "refused as the test asked")
        body = {k.lower(): v for k, v in (await request.json()).items()}
        message = body.get("message")
        if not isinstance(message, dict):
            return error(400, "ErrorInvalidRequest", "sendMail needs a message")
        recipients = message.get("toRecipients") or []
        addresses = [r.get("emailAddress", {}).get("address") for r in recipients]
        if not addresses or not all(addresses) or not message.get("subject"):
            return error(400, "ErrorInvalidRecipients", "a message needs a recipient and subject")
        self.sent_mail.append(
            {
                "from": self._user(request),
                "to": addresses,
                "subject": message["subject"],
                "body": (message.get("body") or {}).get("content", ""),
                "contentType": (message.get("body") or {}).get("contentType", ""),
                "headers": {
                    h["name"]: h["value"] for h in message.get("internetMessageHeaders") or []
                },
                "saveToSentItems": body.get("savetosentitems"),
            }
        )
        return web.Response(status=202)

    async def create_event(self, request: web.Request) -> web.Response:
        user = self._user(request)
        if self.refused_creates:
            self.refused_creates -= 1
            return error(403, "ErrorAccessDenied", "Access is denied. Check credentials.")
        data = await request.json()
        tid = data.get("transactionId")
        if tid:
            for event in self.events.values():
                if event.mailbox == user and event.transaction_id == tid:
                    return web.json_response(event.json(), status=201)
        try:
            event = FakeEvent(
                id=uuid.uuid4().hex,
                mailbox=user,
                subject=str(data.get("subject") or ""),
                body=str((data.get("body") or {}).get("content") or ""),
                start=parse_time(data["start"]),
                end=parse_time(data["end"]),
                attendees=[a["emailAddress"]["address"] for a in data.get("attendees") or []],
                transaction_id=tid,
                show_as=str(data.get("showAs") or "busy"),
                online=bool(data.get("isOnlineMeeting")),
                resources=[
                    a["emailAddress"]["address"]
                    for a in data.get("attendees") or []
                    if a.get("type") == "resource"
                ],
                location=str((data.get("location") or {}).get("displayName") or ""),
            )
        except (KeyError, ValueError, TypeError) as exc:
            return error(400, "ErrorInvalidRequest", f"bad event: {exc}")
        self.events[event.id] = event
        self._changed(event)
        return web.json_response(event.json(), status=201)

    async def patch_event(self, request: web.Request) -> web.Response:
        event = self._event(request)
        if event is None:
            return error(404, "ErrorItemNotFound", "The specified object was not found.")
        data = await request.json()
        if "subject" in data:
            event.subject = str(data["subject"])
        if "start" in data:
            event.start = parse_time(data["start"])
        if "end" in data:
            event.end = parse_time(data["end"])
        if "attendees" in data:
            event.attendees = [a["emailAddress"]["address"] for a in data["attendees"]]
        event.version += 1
        self._changed(event)
        return web.json_response(event.json())

    async def cancel_event(self, request: web.Request) -> web.Response:
        event = self._event(request)
        if event is None:
            return error(404, "ErrorItemNotFound", "The specified object was not found.")
        data = await request.json()
        self.cancellations.append((event.id, str(data.get("comment") or data.get("Comment") or "")))
        event.removed = True  # the organiser's copy goes; attendees get the cancellation
        self._changed(event)
        return web.Response(status=202)

    async def delete_event(self, request: web.Request) -> web.Response:
        event = self._event(request)
        if event is None:
            return error(404, "ErrorItemNotFound", "The specified object was not found.")
        event.removed = True
        self._changed(event)
        return web.Response(status=204)

    async def delta(self, request: web.Request) -> web.Response:
        user = self._user(request)
        query = request.query
        base = f"{self.url}/v1.0/users/{user}/calendarView/delta()"
        if "$skiptoken" in query:
            since, window, offset = query["$skiptoken"].split("_")
            start_s, end_s = window.split("~")
            start = datetime.fromtimestamp(int(start_s), UTC)
            end = datetime.fromtimestamp(int(end_s), UTC)
            since_n, skip = int(since), int(offset)
        elif "$deltatoken" in query:
            since, window = query["$deltatoken"].split("_")
            start_s, end_s = window.split("~")
            start = datetime.fromtimestamp(int(start_s), UTC)
            end = datetime.fromtimestamp(int(end_s), UTC)
            since_n, skip = int(since), 0
        else:
            try:
                start = datetime.fromisoformat(query["startDateTime"].replace("Z", "+00:00"))
                end = datetime.fromisoformat(query["endDateTime"].replace("Z", "+00:00"))
            except (KeyError, ValueError):
                return error(
                    400, "ErrorInvalidParameter", "startDateTime and endDateTime are required."
                )
            since_n, skip = 0, 0
        mine = [
            e for seq, eid in self._log if seq > since_n and (e := self.events[eid]).mailbox == user
        ]
        unique: dict[str, FakeEvent] = {}
        for e in mine:
            unique[e.id] = e
        items = [
            e
            for e in unique.values()
            if (e.start < end and e.end > start) and not (since_n == 0 and e.removed)
        ]
        page = items[skip : skip + self.page_size]
        window = f"{int(start.timestamp())}~{int(end.timestamp())}"
        value = [
            {"id": e.id, "@removed": {"reason": "deleted"}} if e.removed else e.json() for e in page
        ]
        result: dict[str, Any] = {"value": value}
        if skip + self.page_size < len(items):
            token = f"{since_n}_{window}_{skip + self.page_size}"
            result["@odata.nextLink"] = f"{base}?$skiptoken={token}"
        else:
            last = self._log[-1][0] if self._log else 0
            result["@odata.deltaLink"] = f"{base}?$deltatoken={last}_{window}"
        return web.json_response(result)

    async def subscribe(self, request: web.Request) -> web.Response:
        data = await request.json()
        resource = str(data.get("resource") or "")
        parts = resource.strip("/").split("/")
        if len(parts) != 3 or parts[0].lower() != "users" or parts[2].lower() != "events":
            return error(400, "InvalidRequest", f"unsupported resource {resource}")
        mailbox = unquote(parts[1]).lower()
        if mailbox not in self.users:
            return error(404, "ResourceNotFound", "The mailbox is not found.")
        expires = datetime.fromisoformat(str(data["expirationDateTime"]).replace("Z", "+00:00"))
        if expires - self.now() > timedelta(minutes=4230):
            return error(400, "InvalidRequest", "expirationDateTime is too far ahead")
        url = str(data["notificationUrl"])
        token = uuid.uuid4().hex
        # The validation handshake: Graph posts a token and wants it back as text in 10 s.
        assert self.http is not None
        async with self.http.post(f"{url}?validationToken={token}") as resp:
            echoed = await resp.text()
            if resp.status != 200 or echoed != token or "text/plain" not in resp.content_type:
                return error(400, "InvalidRequest", "Subscription validation request failed.")
        sub = FakeSubscription(
            id=uuid.uuid4().hex,
            resource=resource,
            mailbox=mailbox,
            notification_url=url,
            lifecycle_url=str(data.get("lifecycleNotificationUrl") or url),
            client_state=str(data.get("clientState") or ""),
            expires=expires,
        )
        self.subscriptions[sub.id] = sub
        return web.json_response(
            {
                "id": sub.id,
                "resource": resource,
                "changeType": data.get("changeType"),
                "notificationUrl": url,
                "expirationDateTime": expires.isoformat(),
                "clientState": sub.client_state,
            },
            status=201,
        )

    async def renew(self, request: web.Request) -> web.Response:
        sub = self.subscriptions.get(request.match_info["sub"])
        if sub is None:
            return error(404, "ResourceNotFound", "The object was not found.")
        data = await request.json()
        sub.expires = datetime.fromisoformat(str(data["expirationDateTime"]).replace("Z", "+00:00"))
        return web.json_response({"id": sub.id, "expirationDateTime": sub.expires.isoformat()})

    async def unsubscribe(self, request: web.Request) -> web.Response:
        if self.subscriptions.pop(request.match_info["sub"], None) is None:
            return error(404, "ResourceNotFound", "The object was not found.")
        return web.Response(status=204)


class FakeCredential:
    """An async credential for the SDK: any token does for the fake."""

    def __init__(self) -> None:
        self.closed = False

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("fake-token", int(datetime.now(UTC).timestamp()) + 3600)

    async def close(self) -> None:
        self.closed = True
