"""What every request and response of Sopu's HTTP server goes through, whatever its route.

- A compressed request body is refused (415) before any handler reads it. Teams, Graph and
  the families' browsers send plain bodies; a compressed one could only be a client's
  choice, and a malformed one made aiohttp raise while the handler read it (a 500).
- A body that breaks off or cannot be decoded while a handler reads it is a 400.
- Every response says ``nosniff`` and sends no Referer on: an error page or a feed carries
  no script, and an address may hold a token (bot/access_log.py).
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

_PLAIN = frozenset({"", "identity"})
# aiohttp would decompress a body as it arrives, before any handler could refuse it, and a
# garbled one then breaks the connection or logs an error: bodies are taken as sent.
HANDLER_ARGS = {"auto_decompress": False}


@web.middleware
async def refuse_unreadable_bodies(request: web.Request, handler: Handler) -> web.StreamResponse:
    encoding = request.headers.get("Content-Encoding", "").strip().lower()
    if encoding not in _PLAIN:
        return web.json_response(
            {"error": "compressed request bodies are not accepted"}, status=415
        )
    try:
        return await handler(request)
    except web.RequestPayloadError:
        return web.json_response({"error": "the request body could not be read"}, status=400)


async def default_headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")


def install(app: web.Application) -> None:
    app.middlewares.append(refuse_unreadable_bodies)
    app.on_response_prepare.append(default_headers)
