"""A fake Bot Connector: the HTTP endpoints Teams offers a bot, recording what the bot does.

It runs as a real aiohttp server on 127.0.0.1; activities sent to the bot carry its URL
as ``serviceUrl``, so the real CloudAdapter and ConnectorClient talk to it over HTTP.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


def card_of(activity: dict[str, Any]) -> dict[str, Any] | None:
    """The Adaptive Card attached to an activity, if it has one."""
    for attachment in activity.get("attachments") or []:
        if attachment.get("contentType") == "application/vnd.microsoft.card.adaptive":
            content: dict[str, Any] = attachment["content"]
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

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v3/conversations", self._create)
        app.router.add_post("/v3/conversations/{cid}/activities", self._send)
        app.router.add_post("/v3/conversations/{cid}/activities/{aid}", self._reply)
        app.router.add_put("/v3/conversations/{cid}/activities/{aid}", self._update)
        app.router.add_get("/v3/conversations/{cid}/members/{mid}", self._member)
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
                return web.json_response(body, status=status)
        return None

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
            cid = f"a:personal-{members[0].get('id', 'unknown')}"
            activity_id = ""
        if params.get("activity"):
            activity_id = activity_id or self.next_id("msg-")
            self._record("create", cid, activity_id, params["activity"])
        return web.json_response({"id": cid, "activityId": activity_id, "serviceUrl": self.url})

    async def _send(self, request: web.Request) -> web.Response:
        if (failed := self._failure(request)) is not None:
            return failed
        cid = request.match_info["cid"]
        activity = await request.json()
        aid = self.next_id("msg-")
        self._record("send", cid, aid, activity)
        return web.json_response({"id": aid})

    async def _reply(self, request: web.Request) -> web.Response:
        if (failed := self._failure(request)) is not None:
            return failed
        cid = request.match_info["cid"]
        activity = await request.json()
        aid = self.next_id("msg-")
        self._record("reply", cid, aid, activity)
        return web.json_response({"id": aid})

    async def _member(self, request: web.Request) -> web.Response:
        # TeamsInfo.get_member, which the Teams handler calls when someone joins a chat.
        mid = request.match_info["mid"]
        return web.json_response({"id": mid, **self.members.get(mid, {})})

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
