"""A fake Bot Connector: the HTTP endpoints Teams offers a bot, recording what the bot does.

It runs as a real aiohttp server on 127.0.0.1; activities sent to the bot carry its URL
as ``serviceUrl``, so the real CloudAdapter and ConnectorClient talk to it over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.card_schema import assert_valid_card


def card_of(activity: dict[str, Any]) -> dict[str, Any] | None:
    """The Adaptive Card attached to an activity, if it has one (and a valid one, if so)."""
    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
            content: dict[str, Any] = attachment["content"]
            assert_valid_card(content)
            return content
    return None


@dataclass
class Sent:
    kind: str  # "create", "send", "reply", "update"
    conversation_id: str
    activity_id: str
    activity: dict[str, Any]

    @property
    def card(self) -> dict[str, Any] | None:
        return card_of(self.activity)

    @property
    def text(self) -> str:
        return json.dumps(self.activity, ensure_ascii=False)


@dataclass(frozen=True)
class Call:
    """One HTTP request as it reached the connector: path still quoted, body as sent."""

    method: str
    raw_path: str
    headers: dict[str, str]
    body: Any


@dataclass
class FakeConnector:
    """State and transcript of the fake connector; ``url`` is the serviceUrl to use."""

    url: str = ""
    log: list[Sent] = field(default_factory=list)
    messages: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    fail_next: list[int] = field(default_factory=list)  # HTTP statuses to answer next
    # HTTP statuses to answer the next updates (PUT) with; other calls go through.
    fail_updates: list[int] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (method, path) answered >= 400
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # Teams id -> account
    # Entra object id -> Teams id of the tenant's people: as Teams does, a one-to-one chat
    # opened with either id is the same chat.
    teams_ids: dict[str, str] = field(default_factory=dict)
    # As the Agents Playground: a one-to-one chat opens by the Teams id alone (the Entra
    # object id is answered 404 UserNotFound); Teams itself takes either.
    chats_by_teams_id_only: bool = False
    roster_page: int = 500  # members per page of the team's roster
    # Teams' throttling, off unless set: (count, seconds) windows for the whole tenant and
    # for each conversation. A post beyond them is answered 429 with Retry-After.
    tenant_limit: tuple[tuple[int, float], ...] = ()
    conversation_limit: tuple[tuple[int, float], ...] = ()
    retry_after: float = 1.0  # seconds, sent with every 429
    throttled: int = 0  # posts answered 429 by the limits above
    # Statuses to answer the next posts with *after* recording them: the message is in the
    # chat but the bot hears a failure (a gateway timing out on the way back).
    fail_after_posting: list[int] = field(default_factory=list)
    # Every request in order, when ``record`` is set (the benchmarks leave it off).
    record: bool = False
    calls: list[Call] = field(default_factory=list)
    stall: float = 0.0  # seconds to wait before answering anything (for timeouts)
    _posts: dict[str, deque[float]] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def next_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids)}"

    def of_kind(self, kind: str) -> list[Sent]:
        return [s for s in self.log if s.kind == kind]

    def to_conversation(self, conversation_id: str) -> list[Sent]:
        return [s for s in self.log if s.conversation_id == conversation_id]

    def current(self, conversation_id: str, activity_id: str) -> dict[str, Any] | None:
        return self.messages.get((conversation_id, activity_id))

    def forget(self, conversation_id: str, activity_id: str) -> None:
        """Lose a message, as Teams sometimes does: updating it then answers 404."""
        del self.messages[(conversation_id, activity_id)]

    async def wait_for(self, predicate: Any, timeout: float = 5.0, after: int = 0) -> Sent:
        """The first logged send from ``after`` on matching predicate, waiting if need be."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            for sent in self.log[after:]:
                if predicate(sent):
                    return sent
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError("the bot did not send what was expected")
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)

    # -- HTTP ----------------------------------------------------------------------------

    @web.middleware
    async def _recorder(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if self.record:
            raw = await request.read()
            body = json.loads(raw) if raw else None
            headers = {k.lower(): v for k, v in request.headers.items()}
            self.calls.append(Call(request.method, request.raw_path, headers, body))
        if self.stall:
            await asyncio.sleep(self.stall)
        response: web.StreamResponse = await handler(request)
        return response

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._recorder])
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._reply)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._update)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
        app.router.add_get("/v3/conversations/{cid}/pagedmembers", self._paged_members)
        return app

    def _failure(
        self, request: web.Request, injected: list[int] | None = None
    ) -> web.Response | None:
        for queue in (self.fail_next, injected or []):
            if queue:
                status = queue.pop(0)
                self.refused.append((request.method, request.path))
                code = "ActivityNotFoundInConversation" if status == 404 else "ServiceError"
                body = {"error": {"code": code, "message": f"injected {status}"}}
                headers = {"Retry-After": f"{self.retry_after:g}"} if status == 429 else None
                return web.json_response(body, status=status, headers=headers)
        return None

    def _over_limit(self, cid: str) -> web.Response | None:
        """429 if one more post now would pass the tenant's or the conversation's limits."""
        if not self.tenant_limit and not self.conversation_limit:
            return None
        now = asyncio.get_running_loop().time()
        checks = [("tenant", self.tenant_limit), (f"c|{cid}", self.conversation_limit)]
        for key, windows in checks:
            seen = self._posts.get(key)
            for count, seconds in windows:
                if seen is not None and len(seen) >= count and seen[-count] > now - seconds:
                    self.throttled += 1
                    body = {"error": {"code": "Throttled", "message": "too many requests"}}
                    headers = {"Retry-After": f"{self.retry_after:g}"}
                    return web.json_response(body, status=429, headers=headers)
        for key, windows in checks:
            if windows:
                keep = max(c for c, _ in windows)
                self._posts.setdefault(key, deque(maxlen=keep)).append(now)
        return None

    def _after_posting(self) -> web.Response | None:
        if not self.fail_after_posting:
            return None
        status = self.fail_after_posting.pop(0)
        body = {"error": {"code": "GatewayTimeout", "message": f"injected {status} after posting"}}
        return web.json_response(body, status=status)

    def _record(self, kind: str, cid: str, aid: str, activity: dict[str, Any]) -> None:
        self.log.append(Sent(kind, cid, aid, activity))
        self.messages[(cid, aid)] = activity
        self.changed.set()

    async def _create(self, request: web.Request) -> web.Response:
        if (failed := self._failure(request)) is not None:
            return failed
        params = await request.json()
        channel = ((params.get("channelData") or {}).get("channel") or {}).get("id")
        if params.get("isGroup") and channel:
            activity_id = self.next_id("post-")
            cid = f"{channel};messageid={activity_id}"
        else:
            members = params.get("members") or [{}]
            member = str(members[0].get("id", "unknown"))
            if self.chats_by_teams_id_only and member not in self.teams_ids.values():
                error = {"error": {"code": "UserNotFound", "message": "User not found"}}
                self.refused.append((request.method, request.path))
                return web.json_response(error, status=404)
            cid = f"a:personal-{self.teams_ids.get(member.lower(), member)}"
            activity_id = ""
        if params.get("activity"):
            activity_id = activity_id or self.next_id("msg-")
            self._record("create", cid, activity_id, params["activity"])
        return web.json_response({"id": cid, "activityId": activity_id, "serviceUrl": self.url})

    async def _send(self, request: web.Request) -> web.Response:
        if (failed := self._failure(request)) is not None:
            return failed
        cid = request.match_info["cid"]
        if (limited := self._over_limit(cid)) is not None:
            return limited
        activity = await request.json()
        aid = self.next_id("msg-")
        self._record("send", cid, aid, activity)
        if (failed := self._after_posting()) is not None:
            return failed
        return web.json_response({"id": aid})

    async def _reply(self, request: web.Request) -> web.Response:
        if (failed := self._failure(request)) is not None:
            return failed
        cid = request.match_info["cid"]
        if (limited := self._over_limit(cid)) is not None:
            return limited
        activity = await request.json()
        aid = self.next_id("msg-")
        self._record("reply", cid, aid, activity)
        if (failed := self._after_posting()) is not None:
            return failed
        return web.json_response({"id": aid})

    async def _member(self, request: web.Request) -> web.Response:
        # TeamsInfo.get_member, which the Teams handler calls when someone joins a chat.
        mid = request.match_info["mid"]
        return web.json_response({"id": mid, **self.members.get(mid, {})})

    async def _paged_members(self, request: web.Request) -> web.Response:
        # The team's roster, a page at a time: whom Sopu may open a chat with.
        roster = [{"id": tid, "aadObjectId": aad} for aad, tid in self.teams_ids.items()]
        start = int(request.query.get("continuationToken") or 0)
        end = start + min(self.roster_page, int(request.query.get("pageSize") or 500))
        page: dict[str, Any] = {"members": roster[start:end]}
        if end < len(roster):
            page["continuationToken"] = str(end)
        return web.json_response(page)

    async def _update(self, request: web.Request) -> web.Response:
        if (failed := self._failure(request, self.fail_updates)) is not None:
            return failed
        cid, aid = request.match_info["cid"], request.match_info["aid"]
        if (cid, aid) not in self.messages:
            self.refused.append((request.method, request.path))
            body = {
                "error": {"code": "ActivityNotFoundInConversation", "message": "Unknown activity"}
            }
            return web.json_response(body, status=404)
        activity = await request.json()
        self._record("update", cid, aid, activity)
        return web.json_response({"id": aid})
