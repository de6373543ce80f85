"""``GET /info``: what family mediation is and how to prepare, for the parents.

The e-mail a parent gets before their first meeting links here, in the family's language.
A plain page like the contact form: no script, no outside resource, the same quick-exit
link and strict headers; it shows nothing of any family, so anyone may read it.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bot.contact_page import HEADERS, document
from bot.feedback_page import e, page_lang
from cards.i18n import Lang, t

PATH = "/info"
# How many paragraphs each section has in the catalogs (info.<section>.1 ... .n).
SECTIONS = (("what", 4), ("meetings", 3), ("prepare", 4), ("after", 2))


def info_url(base_url: str, lang: Lang) -> str:
    """The page's address in a language, for the e-mail's link."""
    return f"{base_url.rstrip('/')}{PATH}?{urlencode({'lang': lang})}"


def info_html(lang: Lang) -> str:
    parts = []
    for section, count in SECTIONS:
        paragraphs = "".join(
            f"<p>{e(t(lang, f'info.{section}.{n}'))}</p>" for n in range(1, count + 1)
        )
        parts.append(f"<h2>{e(t(lang, f'info.{section}.title'))}</h2>{paragraphs}")
    return document(lang, t(lang, "info.title"), "".join(parts), here=PATH)


async def show(request: web.Request) -> web.Response:
    return web.Response(
        text=info_html(page_lang(request)),
        content_type="text/html",
        charset="utf-8",
        headers=HEADERS,
    )


def add_routes(app: web.Application) -> None:
    app.router.add_get(PATH, show)
