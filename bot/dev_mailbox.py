"""Development mode's mailbox page: the e-mails Sopu would have sent to families.

Served only in development mode, with authentication off and the local mail service, and
only to a request from this machine's loopback address (404 otherwise): the page lists
parents' addresses, so neither a public bind nor a tunnel may show it. Every value is
escaped; the page has the public pages' security headers and no script.
"""

from __future__ import annotations

import html
import ipaddress

from aiohttp import web

from bot.keys import DEV_MAILBOX, SETTINGS
from bot.page_headers import page_headers

CSS = (
    "body{font-family:sans-serif;margin:1rem;max-width:60rem}"
    "article{border-top:1px solid #888;padding:.5rem 0}"
    "pre{white-space:pre-wrap;font-family:inherit}"
    "dl{display:grid;grid-template-columns:auto 1fr;gap:.2rem 1rem;margin:0}"
    "dt{font-weight:bold}dd{margin:0}"
)


def _from_this_machine(request: web.Request) -> bool:
    try:
        return ipaddress.ip_address(request.remote or "").is_loopback
    except ValueError:
        return False


async def mailbox_page(request: web.Request) -> web.Response:
    """GET /dev/mailbox: the newest e-mails first."""
    mailbox = request.app.get(DEV_MAILBOX)
    settings = request.app[SETTINGS]
    if settings.production or settings.auth_enabled or mailbox is None:
        raise web.HTTPNotFound()
    if not _from_this_machine(request):
        raise web.HTTPNotFound()
    mails = await mailbox.recent()
    items = "".join(
        "<article><dl>"
        f"<dt>To</dt><dd>{html.escape(m.to)}</dd>"
        f"<dt>Subject</dt><dd>{html.escape(m.subject)}</dd>"
        f"<dt>Sent</dt><dd>{html.escape(m.sent_at.isoformat(timespec='minutes'))}</dd>"
        f"</dl><pre>{html.escape(m.body)}</pre></article>"
        for m in mails
    )
    empty = "" if mails else "<p>No e-mail yet.</p>"
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>Development mailbox</title><style>{CSS}</style></head>"
        "<body><main><h1>Development mailbox</h1>"
        "<p>E-mails to families are kept here in development mode, never sent.</p>"
        f"{empty}{items}</main></body></html>"
    )
    return web.Response(text=page, content_type="text/html", headers=page_headers(CSS))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/dev/mailbox", mailbox_page)
