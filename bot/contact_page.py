"""The families' contact form: ``GET/POST /contact``, plain HTML for a phone and a screen reader.

No script and no outside resource: one inline style sheet allowed by its hash in a strict
Content-Security-Policy, so the help shown to a parent who answers the violence question
"yes" appears by CSS alone. The form carries a signed nonce; a hidden honeypot field, a
per-address limit and an hourly cap keep floods out of the database. What a parent writes
is never logged and never shown back once sent: the thanks page is the same for everyone,
and whether a request was urgent never travels in an address.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from bot.feedback_page import e, page_lang
from bot.inputs import BodyTooLarge, client_address, read_body
from bot.page_headers import page_headers
from bot.signing import form_id, make_nonce, nonce_ok
from cards.i18n import LANGS, Lang, t
from mediation import errors
from mediation.model import TOPICS
from mediation.policy import BankPolicy
from mediation.ports import Clock
from mediation.requests import (
    CALL_TIMES,
    CHILDREN_LIMIT,
    EMAIL_LIMIT,
    FAMILY_LANGUAGES,
    NAME_LIMIT,
    OTHER_PARENT_KNOWS,
    OUTSIDE_AREA,
    YES_NO,
    ContactRequest,
    FrontDoorPolicy,
    RequestStore,
    parse_contact_form,
)

log = logging.getLogger(__name__)

MAX_BODY = 8 * 1024  # every field at its longest, URL-encoded, fits well below
NONCE_SECONDS = 3 * 3600
PURPOSE = "contact-form"  # what the form's nonce is signed for
_MULTI = ("call_times", "topics")  # checkbox groups: one field per ticked box
_FIELDS = (
    "parent_name",
    "phone",
    "email",
    "call_times",
    "language",
    "municipality",
    "children",
    "topics",
    "other_parent_knows",
    "fear",
    "consent",
)
HONEYPOT = "website"
# Addresses remembered for the per-address limit; the oldest are forgotten first.
_ADDRESSES_KEPT = 10_000

CSS = """
*{box-sizing:border-box}
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:#1b1b1b;background:#f4f5f7}
main{max-width:40rem;margin:0 auto;padding:1rem;background:#fff;min-height:100vh}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.2rem;margin:1.5rem 0 .5rem}
.top{display:flex;gap:1rem;flex-wrap:wrap;justify-content:space-between;margin-bottom:1rem}
nav{display:flex;gap:1rem;flex-wrap:wrap}
a{color:#0b4f8a}
.exit{font-weight:600}
a:focus,input:focus,select:focus,button:focus{outline:3px solid #d35400;outline-offset:2px}
fieldset{border:1px solid #8a8f98;border-radius:.5rem;margin:0 0 1.25rem;padding:.75rem}
legend{font-weight:600;padding:0 .25rem}
.field{margin:0 0 1.25rem}
.field>label{display:block;font-weight:600;margin-bottom:.35rem}
input[type=text],input[type=tel],input[type=email],select{width:100%;font:inherit;
padding:.55rem;border:1px solid #5f636b;border-radius:.375rem;background:#fff;min-height:2.75rem}
.opt{display:flex;align-items:center;gap:.6rem;min-height:2.75rem;padding:.25rem .5rem}
.opt input{width:1.35rem;height:1.35rem;margin:0;accent-color:#0b4f8a;flex:none}
.hint{font-size:.9rem;color:#44474d;margin:.25rem 0 .5rem}
.error{color:#a4000f;font-weight:600;margin:.25rem 0}
.summary{border:2px solid #a4000f;border-radius:.5rem;padding:.75rem;margin-bottom:1rem}
.help{border-left:.4rem solid #a4000f;background:#fdf1f2;padding:.75rem;margin:.75rem 0}
.help p{margin:.25rem 0}
.inline input{width:1.35rem;height:1.35rem;margin:0 .5rem 0 .5rem;vertical-align:middle;
accent-color:#0b4f8a}
.inline label{display:inline-block;min-height:2.75rem;line-height:2.75rem;margin-right:1.5rem}
.help-now{display:none}
#fear-yes:checked~.help-now{display:block}
.hp{position:absolute;left:-10000px;width:1px;height:1px;overflow:hidden}
button{font:inherit;font-weight:600;color:#fff;background:#0b4f8a;border:0;border-radius:.5rem;
padding:.8rem 1.6rem;min-height:2.75rem;cursor:pointer;width:100%}
.small{font-size:.9rem;color:#44474d}
@media (min-width:36rem){button{width:auto}}
"""
HEADERS = page_headers(CSS)
CSP = HEADERS["Content-Security-Policy"]


class AddressLimiter:
    """At most ``limit`` stored requests an hour from one address, kept by a keyed hash.

    Only a post that is about to be stored is counted: a form sent back with mistakes costs
    its parsing and nothing else. Each replica keeps its own count; the hourly cap in the
    database holds for all of them.
    """

    def __init__(self, key: bytes, limit: int, window: float = 3600.0) -> None:
        self.key = key
        self.limit = limit
        self.window = window
        self.seen: OrderedDict[bytes, deque[float]] = OrderedDict()

    def _times(self, address: str, now: float) -> deque[float]:
        # The address's posts within the window, its entry moved to the newest end.
        name = hmac.new(self.key, address.encode("utf-8", "replace"), hashlib.sha256).digest()
        times = self.seen.pop(name, None) or deque()
        while times and now - times[0] >= self.window:
            times.popleft()
        self.seen[name] = times
        while len(self.seen) > _ADDRESSES_KEPT:
            self.seen.popitem(last=False)
        return times

    def allow(self, address: str, now: float) -> bool:
        """Count a request from ``address``; False, counting nothing, once the limit is used."""
        times = self._times(address, now)
        if len(times) >= self.limit:
            return False
        times.append(now)
        return True

    def give_back(self, address: str, now: float) -> None:
        """Uncount the latest request from ``address``: it was not stored after all."""
        times = self._times(address, now)
        if times:
            times.pop()


@dataclass
class ContactPage:
    """What the page needs, built once per app from the running Sopu."""

    store: RequestStore
    clock: Clock
    key: bytes
    policy: FrontDoorPolicy
    bank: BankPolicy
    # Tells the coordinators of a stored request (the outbox); a failure is only logged,
    # since the requests job announces whatever is still unannounced.
    announce: Callable[[ContactRequest], Awaitable[object]]
    # Reverse proxies in front of Sopu (SOPU_TRUSTED_PROXY_HOPS): see inputs.client_address.
    proxy_hops: int = 0
    limiter: AddressLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.limiter = AddressLimiter(self.key, self.policy.per_address_per_hour)


CONTACT_PAGE = web.AppKey("contact_page", ContactPage)


def add_routes(app: web.Application) -> None:
    """The page's routes; the root puts its ``ContactPage`` under ``CONTACT_PAGE``."""
    app.router.add_get("/contact", show)
    app.router.add_post("/contact", send)
    app.router.add_get("/contact/thanks", thanks)


# -- HTML -----------------------------------------------------------------------------------


def document(
    lang: Lang, title: str, body: str, here: str = "/contact", *, refused: bool = False
) -> str:
    """A public page: language links, the quick-exit link, the title and the body.

    A page that refuses something or lists problems says so first in its title, which is
    what a screen reader announces when the page opens.
    """
    shown_title = t(lang, "contact.error_title", title=title) if refused else title
    links = []
    for other in LANGS:
        name = t(other, "fbpage.language_name")
        if other == lang:
            links.append(f'<span aria-current="true" lang="{other}">{e(name)}</span>')
        else:
            href = f"{here}?{urlencode({'lang': other})}"
            links.append(f'<a href="{href}" lang="{other}" hreflang="{other}">{e(name)}</a>')
    nav = f'<nav aria-label="{e(t(lang, "fbpage.languages"))}">{" ".join(links)}</nav>'
    leave = (
        f'<a class="exit" href="{e(t(lang, "contact.exit.href"))}" rel="noreferrer">'
        f"{e(t(lang, 'contact.exit'))}</a>"
    )
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{e(shown_title)}</title><style>{CSS}</style></head>"
        f'<body><main><div class="top">{nav}{leave}</div><h1>{e(title)}</h1>{body}'
        "</main></body></html>"
    )


def help_now(lang: Lang, css: str = "help", ident: str = "") -> str:
    """Where to get help at once: the emergency number and the violence helplines."""
    id_attr = f' id="{ident}"' if ident else ""
    lines = "".join(f"<p>{e(t(lang, f'contact.help.{n}'))}</p>" for n in (1, 2, 3))
    return (
        f'<div class="{css}"{id_attr} role="note">'
        f"<p><strong>{e(t(lang, 'contact.help.title'))}</strong></p>{lines}</div>"
    )


class _Form:
    """Renders the form's controls with their problems, values and descriptions."""

    def __init__(self, lang: Lang, values: Mapping[str, str], problems: Mapping[str, str]):
        self.lang = lang
        self.values = values
        self.problems = problems

    def label(self, name: str) -> str:
        return t(self.lang, f"contact.q.{name}")

    def problem(self, name: str) -> str:
        if name not in self.problems:
            return ""
        return f'<p class="error" id="{name}-error">{e(self.problems[name])}</p>'

    def described(self, name: str, hint: bool = False) -> str:
        ids = ([f"{name}-hint"] if hint else []) + (
            [f"{name}-error"] if name in self.problems else []
        )
        invalid = ' aria-invalid="true"' if name in self.problems else ""
        return (f' aria-describedby="{" ".join(ids)}"' if ids else "") + invalid

    def hint(self, name: str, text: str) -> str:
        return f'<p class="hint" id="{name}-hint">{e(text)}</p>'

    def text(
        self,
        name: str,
        kind: str,
        limit: int,
        *,
        autocomplete: str = "off",
        hint: str = "",
        extra: str = "",
        required: bool = False,
    ) -> str:
        value = self.values.get(name, "")
        if required:
            extra += ' aria-required="true"'
        return (
            f'<div class="field"><label for="{name}">{e(self.label(name))}</label>'
            f"{self.hint(name, hint) if hint else ''}{self.problem(name)}"
            f'<input type="{kind}" id="{name}" name="{name}" maxlength="{limit}" '
            f'autocomplete="{autocomplete}" value="{e(value)}"{extra}'
            f"{self.described(name, bool(hint))}></div>"
        )

    def choices(
        self,
        name: str,
        options: list[tuple[str, str]],
        *,
        multi: bool = False,
        hint: str = "",
        after: str = "",
    ) -> str:
        chosen = set(self.values.get(name, "").split(",")) if multi else {self.values.get(name)}
        kind = "checkbox" if multi else "radio"
        pairs = []
        for value, text in options:
            ident = f"{name}-{value}"
            checked = " checked" if value in chosen else ""
            described = ' aria-describedby="help-now"' if after and value == "yes" else ""
            pairs.append(
                f'<input type="{kind}" id="{ident}" name="{name}" value="{e(value)}"'
                f'{checked}{described}><label for="{ident}">{e(text)}</label>'
            )
        if after:
            # The inputs stay siblings of what follows them, so CSS alone can show it when
            # "yes" is chosen (#fear-yes:checked ~ .help-now).
            rows, css = "".join(pairs), ' class="inline"'
        else:
            rows, css = "".join(f'<div class="opt">{p}</div>' for p in pairs), ""
        return (
            f'<fieldset id="{name}"{css}{self.described(name, bool(hint))}>'
            f"<legend>{e(self.label(name))}</legend>"
            f"{self.hint(name, hint) if hint else ''}{self.problem(name)}{rows}{after}</fieldset>"
        )

    def select(self, name: str, options: list[tuple[str, str]]) -> str:
        chosen = self.values.get(name, "")
        items = [f'<option value="">{e(t(self.lang, "contact.choose"))}</option>']
        for value, text in options:
            selected = " selected" if value == chosen else ""
            items.append(f'<option value="{e(value)}"{selected}>{e(text)}</option>')
        return (
            f'<div class="field"><label for="{name}">{e(self.label(name))}</label>'
            f"{self.problem(name)}"
            f'<select id="{name}" name="{name}" aria-required="true"{self.described(name)}>'
            f"{''.join(items)}</select>"
            "</div>"
        )


def form_html(
    lang: Lang,
    nonce: str,
    policy: FrontDoorPolicy,
    values: Mapping[str, str] | None = None,
    problems: Mapping[str, str] | None = None,
    notice: str = "",
    notice_text: str = "",
) -> str:
    values = values or {}
    problems = problems or {}
    f = _Form(lang, values, problems)
    summary = ""
    if problems or notice:
        # In the order of the form, so the list reads as the page does.
        items = "".join(
            f'<li><a href="#{_anchor(name)}">{e(f.label(name))}: {e(problems[name])}</a></li>'
            for name in _FIELDS
            if name in problems
        )
        summary = (
            '<div class="summary" role="alert" tabindex="-1" id="problems">'
            f"<p><strong>{e(notice or t(lang, 'contact.errors_title'))}</strong></p>"
            f"{f'<p>{e(notice_text)}</p>' if notice_text else ''}"
            f"{f'<ul>{items}</ul>' if items else ''}</div>{help_now(lang)}"
        )
    municipalities = [(m, municipality_name(lang, m)) for m in policy.municipalities]
    municipalities.append((OUTSIDE_AREA, t(lang, "contact.municipality.other")))
    fear_help = help_now(lang, "help help-now", "help-now")
    body = (
        f"{summary}<p>{e(t(lang, 'contact.intro'))}</p>"
        f"<p>{e(t(lang, 'contact.each_parent'))}</p>"
        f'<p class="small">{e(t(lang, "contact.danger"))}</p>'
        f'<form method="post" action="/contact?{urlencode({"lang": lang})}" '
        'accept-charset="utf-8">'
        f'<input type="hidden" name="nonce" value="{e(nonce)}">'
        f'<input type="hidden" name="lang" value="{lang}">'
        f"<h2>{e(t(lang, 'contact.about_you'))}</h2>"
        + f.text("parent_name", "text", NAME_LIMIT, autocomplete="name", required=True)
        + f.text(
            "phone",
            "tel",
            30,
            autocomplete="tel",
            hint=t(lang, "contact.hint.reach"),
            extra=' inputmode="tel"',
        )
        + f.text("email", "email", EMAIL_LIMIT, autocomplete="email")
        + f.choices(
            "call_times",
            [(c, t(lang, f"contact.call_times.{c}")) for c in CALL_TIMES],
            multi=True,
            hint=t(lang, "contact.hint.call_times"),
        )
        + f.choices("language", [(c, t(lang, f"contact.language.{c}")) for c in FAMILY_LANGUAGES])
        + f.select("municipality", municipalities)
        + f"<h2>{e(t(lang, 'contact.about_family'))}</h2>"
        + f.text(
            "children",
            "text",
            CHILDREN_LIMIT,
            hint=t(lang, "contact.hint.children"),
            extra=' inputmode="numeric"',
            required=True,
        )
        + f.choices("topics", [(c, t(lang, f"contact.topic.{c}")) for c in TOPICS], multi=True)
        + f.choices(
            "other_parent_knows",
            [(c, t(lang, f"contact.knows.{c}")) for c in OTHER_PARENT_KNOWS],
        )
        + f.choices(
            "fear",
            [(c, t(lang, f"contact.fear.{c}")) for c in YES_NO],
            hint=t(lang, "contact.hint.fear"),
            after=fear_help,
        )
        + '<div class="hp" aria-hidden="true">'
        f'<label for="{HONEYPOT}">{e(t(lang, "contact.honeypot"))}</label>'
        f'<input type="text" id="{HONEYPOT}" name="{HONEYPOT}" tabindex="-1" autocomplete="off">'
        "</div>"
        f"<h2>{e(t(lang, 'contact.privacy.title'))}</h2>"
        + "".join(f"<p>{e(t(lang, f'contact.privacy.{n}'))}</p>" for n in (1, 2, 3))
        + f.choices("consent", [("yes", t(lang, "contact.consent.yes"))], multi=True)
        + f'<button type="submit">{e(t(lang, "contact.send"))}</button></form>'
    )
    return document(lang, t(lang, "contact.title"), body, refused=bool(problems or notice))


# The Swedish names of the bank's own municipalities; the form's value stays the Finnish one.
SWEDISH_NAMES = {
    "Hyvinkää": "Hyvinge",
    "Järvenpää": "Träskända",
    "Kerava": "Kervo",
    "Pornainen": "Borgnäs",
    "Tuusula": "Tusby",
}


def municipality_name(lang: Lang, name: str) -> str:
    """A municipality as a reader of ``lang`` knows it (Mäntsälä is Mäntsälä in both)."""
    return SWEDISH_NAMES.get(name, name) if lang == "sv" else name


def _anchor(name: str) -> str:
    """Where an error summary's link takes the focus: the field, or a group's first choice."""
    return {
        "call_times": f"call_times-{CALL_TIMES[0]}",
        "language": f"language-{FAMILY_LANGUAGES[0]}",
        "topics": f"topics-{TOPICS[0]}",
        "other_parent_knows": f"other_parent_knows-{OTHER_PARENT_KNOWS[0]}",
        "fear": "fear-yes",
        "consent": "consent-yes",
    }.get(name, name)


def message_html(lang: Lang, state: str) -> str:
    """The thanks page, or a refusal that could not show the form again; both carry the help."""
    body = f"<p>{e(t(lang, f'contact.{state}.text'))}</p>{help_now(lang)}"
    if state != "thanks":
        again = f"/contact?{urlencode({'lang': lang})}"
        body += f'<p><a href="{again}">{e(t(lang, "contact.open_again"))}</a></p>'
    return document(lang, t(lang, f"contact.{state}.title"), body, refused=state != "thanks")


def _page(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text, status=status, content_type="text/html", charset="utf-8", headers=HEADERS
    )


# -- handlers -------------------------------------------------------------------------------


async def show(request: web.Request) -> web.Response:
    """The empty form."""
    page = request.app[CONTACT_PAGE]
    lang = page_lang(request)
    nonce = make_nonce(page.key, PURPOSE, page.clock.now().timestamp())
    return _page(form_html(lang, nonce, page.policy))


async def thanks(request: web.Request) -> web.Response:
    """The same page after every request: nothing of what was sent is on it."""
    return _page(message_html(page_lang(request), "thanks"))


def _read_form(raw: bytes) -> dict[str, str] | None:
    """The posted fields, checkbox groups joined; None if this is not our form."""
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=40
        )
    except (UnicodeDecodeError, ValueError):
        return None
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in _MULTI and name in form:
            form[name] = f"{form[name]},{value}"
        elif name in form:
            return None
        else:
            form[name] = value
    return form


async def send(request: web.Request) -> web.Response:
    """A parent sends the form; nothing is stored unless every check passes."""
    page = request.app[CONTACT_PAGE]
    lang = page_lang(request)  # the form posts to /contact?lang=..., its own language
    if request.content_type != "application/x-www-form-urlencoded":
        return _page(message_html(lang, "bad_request"), 400)
    try:
        raw = await read_body(request, MAX_BODY)
    except BodyTooLarge:
        return _page(message_html(lang, "too_large"), 413)
    form = _read_form(raw)
    if form is None:
        return _page(message_html(lang, "bad_request"), 400)
    lang = page_lang(request, form)
    thanks_url = f"/contact/thanks?{urlencode({'lang': lang})}"
    if form.get(HONEYPOT):
        # A person never sees the field: answered as if stored, so a robot learns nothing.
        raise web.HTTPSeeOther(thanks_url, headers=HEADERS)
    answers = {k: v for k, v in form.items() if k in _FIELDS}
    now = page.clock.now()
    nonce = form.get("nonce", "")

    def again(notice: str, status: int, notice_text: str = "") -> web.Response:
        # What the parent typed comes back with a fresh nonce: nothing of it was kept.
        fresh = make_nonce(page.key, PURPOSE, now.timestamp())
        shown = form_html(lang, fresh, page.policy, answers, None, notice, notice_text)
        return _page(shown, status)

    def refused(state: str, status: int) -> web.Response:
        return again(t(lang, f"contact.{state}.title"), status, t(lang, f"contact.{state}.text"))

    if not nonce_ok(page.key, PURPOSE, nonce, now.timestamp(), NONCE_SECONDS):
        return again(t(lang, "contact.stale"), 400)
    try:
        parsed = parse_contact_form(answers, page.bank.local_date(now), page.policy, lang)
    except errors.InvalidForm as exc:
        problems = {
            name: problem_text(lang, err) for name, err in exc.problems.items() if name in _FIELDS
        }
        return _page(form_html(lang, nonce, page.policy, answers, problems), 400)
    address = client_address(request, page.proxy_hops)
    if not page.limiter.allow(address, now.timestamp()):
        return refused("too_many", 429)
    if await page.store.count_since(now - timedelta(hours=1)) >= page.policy.per_hour:
        page.limiter.give_back(address, now.timestamp())
        return refused("busy", 503)
    try:
        stored = await page.store.add(parsed, now, form_id(nonce))
    except Exception as exc:
        # A database error may quote the values it refused: only its type is logged.
        log.error("storing a contact request failed (%s)", type(exc).__name__)
        page.limiter.give_back(address, now.timestamp())
        return refused("failed", 500)
    if stored is not None:
        log.info("contact request %d stored", stored.id)
        try:
            await page.announce(stored)
        except Exception as exc:
            log.error("announcing contact request %d failed (%s)", stored.id, type(exc).__name__)
    raise web.HTTPSeeOther(thanks_url, headers=HEADERS)


def problem_text(lang: Lang, err: errors.InvalidInput) -> str:
    problem = str(err.params.get("problem", ""))
    known = {
        "required": "contact.problem.required",
        "unknown choice": "contact.problem.choice",
        "too long": "contact.problem.too_long",
        "not text": "contact.problem.not_text",
        "not a phone number": "contact.problem.phone",
        "not an e-mail address": "contact.problem.email",
        "a phone number or an e-mail is needed": "contact.problem.reach",
        "choose at least one topic": "contact.problem.topics",
        "identity codes are not stored": "contact.problem.identity_code",
    }
    if problem in known:
        return t(lang, known[problem])
    if str(err.params.get("field")) == "children":
        return t(lang, "contact.problem.children")
    return t(lang, "contact.problem.choice")
