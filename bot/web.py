"""Sopu's plain HTTP routes: the health check, the .ics feeds and Graph's notifications."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot import inputs
from bot.gate import media_type_accepted, structural_problem
from bot.keys import CALENDAR, ENGINE, UNITS
from graph.local import render_ics
from storage.db import ping

FEED_PAST = timedelta(days=90)
# Graph's validation tokens are far shorter; anything longer is not Graph.
MAX_VALIDATION_TOKEN = 1024


async def healthz(request: web.Request) -> web.Response:
    if await ping(request.app[ENGINE]):
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "database unreachable"}, status=503)


async def ics_feed(request: web.Request) -> web.Response:
    """A mediator's private calendar feed (local calendar): /calendar/{token}.ics."""
    service = request.app[CALENDAR]
    token = request.match_info["token"]
    if service.feeds is None or service.events is None or len(token) > 64:
        raise web.HTTPNotFound()
    mediator_id = await service.feeds.mediator_of(token)
    if mediator_id is None:
        raise web.HTTPNotFound()
    uow = request.app[UNITS]()
    async with uow:
        mediator = await uow.mediators.get(mediator_id)
    if mediator is None or not mediator.active:
        # A mediator who left the registry keeps no feed: were they made active again,
        # the old address must not come back with them.
        await service.feeds.forget(mediator_id)
        raise web.HTTPNotFound()
    now = service.deps.clock.now()
    events = await service.events.of_mailbox(mediator.email, now - FEED_PAST)
    body = render_ics(events, "Sopu", now)
    return web.Response(
        body=body.encode("utf-8"),
        content_type="text/calendar",
        charset="utf-8",
        headers={"Cache-Control": "private, max-age=300"},
    )


async def graph_notifications(request: web.Request) -> web.Response:
    """Graph's change and lifecycle notifications: the validation handshake, then 202."""
    token = request.query.get("validationToken")
    if token is not None:
        # Graph waits at most 10 s for its token back, as plain text. The echo is text a
        # caller chose: nosniff keeps a browser from reading it as HTML or script.
        headers = {"X-Content-Type-Options": "nosniff"}
        if len(token) > MAX_VALIDATION_TOKEN:
            return web.Response(status=400, headers=headers)
        return web.Response(text=token, content_type="text/plain", headers=headers)
    service = request.app[CALENDAR]
    if service.sync is None:
        raise web.HTTPNotFound()
    if not media_type_accepted(request.content_type, request.charset):
        return web.Response(status=415)
    try:
        payload = inputs.read_json(await request.read())
    except inputs.NotJson:
        raise web.HTTPBadRequest() from None
    if structural_problem(payload) is not None:  # a NUL or lone surrogate in an id, say
        raise web.HTTPBadRequest()
    accepted = await service.sync.accept(payload)
    return web.Response(status=202 if accepted else 400)


def add_routes(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/calendar/{token}.ics", ics_feed)
    app.router.add_post("/api/graph/notifications", graph_notifications)
