"""The families' anonymous feedback page: ``GET/POST /feedback/{token}``, plain HTML.

A link is the bank's, for one parent after a mediation, or a common time's, for the family
after its meeting; the token says which form the page shows and where the answer goes.

No script and no outside resource: one inline style sheet allowed by its hash in a strict
Content-Security-Policy. Every value is escaped. The form carries a signed nonce bound to
the link (so another site cannot post it) and the body is read whole, up to a small limit.
The texts come from the fi/sv/en catalogs; a link on the page switches the language.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode

from aiohttp import web

from bot.inputs import BodyTooLarge, read_body
from bot.page_headers import page_headers
from bot.signing import form_id, make_nonce, nonce_ok
from cards.i18n import LANGS, Lang, problem_text, t
from mediation import errors
from mediation.common_time_feedback import COMMENT_MAX, FAMILY_FIELDS
from mediation.feedback import (
    CLIENT_TEXT_LIMIT,
    HEARD_FROM,
    RATING,
    RECOMMEND,
    SETTLED,
    FeedbackStore,
    LinkState,
    link_state,
    looks_like_token,
    submit_client_answer,
)
from mediation.ports import Clock, UnitOfWork
from mediation.services.common_time import family_link_state_of, submit_family_answer

log = logging.getLogger(__name__)

MAX_BODY = 16 * 1024  # two full open answers in UTF-8 with URL encoding fit well below
NONCE_SECONDS = 6 * 3600  # a parent may take their time with the form
_FIELDS = ("heard_from", "settled", "felt_heard", "impartial", "child_view", "recommend")
_ORDER = (*_FIELDS, "good", "missing")  # the questions as the form shows them

CSS = """
*{box-sizing:border-box}
body{margin:0;font:1.0625rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
color:#1b1b1b;background:#f4f5f7}
main{max-width:40rem;margin:0 auto;padding:1rem;background:#fff;min-height:100vh}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
nav{display:flex;gap:1rem;flex-wrap:wrap;margin-bottom:1rem}
a{color:#0b4f8a}
a:focus,input:focus,textarea:focus,button:focus{outline:3px solid #d35400;outline-offset:2px}
fieldset{border:1px solid #8a8f98;border-radius:.5rem;margin:0 0 1.25rem;padding:.75rem}
legend{font-weight:600;padding:0 .25rem}
.opts label{display:flex;align-items:center;gap:.6rem;min-height:2.75rem;padding:.25rem .5rem;
border-radius:.375rem;cursor:pointer}
.opts label:hover{background:#eef2f7}
.scale{display:grid;grid-template-columns:repeat(5,1fr);gap:.35rem}
.scale label{flex-direction:column;justify-content:center;text-align:center;
border:1px solid #8a8f98;gap:.15rem}
.ends{display:flex;justify-content:space-between;font-size:.9rem;color:#44474d;margin-top:.25rem}
input[type=radio]{width:1.35rem;height:1.35rem;margin:0;accent-color:#0b4f8a}
.field{margin:0 0 1.25rem}
.field label{display:block;font-weight:600;margin-bottom:.35rem}
textarea{width:100%;min-height:7rem;font:inherit;padding:.5rem;border:1px solid #5f636b;
border-radius:.375rem}
.hint{font-size:.9rem;color:#44474d;margin:.25rem 0 0}
.error{color:#a4000f;font-weight:600;margin:.25rem 0}
.summary{border:2px solid #a4000f;border-radius:.5rem;padding:.75rem;margin-bottom:1rem}
button{font:inherit;font-weight:600;color:#fff;background:#0b4f8a;border:0;border-radius:.5rem;
padding:.8rem 1.6rem;min-height:2.75rem;cursor:pointer;width:100%}
.small{font-size:.9rem;color:#44474d}
@media (min-width:36rem){button{width:auto}}
"""
HEADERS = page_headers(CSS)
CSP = HEADERS["Content-Security-Policy"]


@dataclass(frozen=True)
class FeedbackPage:
    """What the page needs, built once per app from the running Sopu."""

    store: FeedbackStore
    clock: Clock
    key: bytes
    units: Callable[[], UnitOfWork] | None = None  # for the common times' family links


FEEDBACK_PAGE = web.AppKey("feedback_page", FeedbackPage)


def add_routes(app: web.Application) -> None:
    """The page's routes; the root puts its ``FeedbackPage`` under ``FEEDBACK_PAGE``."""
    app.router.add_get("/feedback/{token}", show)
    app.router.add_post("/feedback/{token}", send)
    app.router.add_get("/feedback/{token}/thanks", thanks)


# -- language ---------------------------------------------------------------------------


def page_lang(request: web.Request, form: Mapping[str, str] | None = None) -> Lang:
    """?lang= first, then the form's own, then the browser's preference; Finnish otherwise."""
    for value in (request.query.get("lang"), (form or {}).get("lang")):
        if value in LANGS:
            return value
    best: tuple[float, Lang] | None = None
    for part in request.headers.get("Accept-Language", "").split(",")[:20]:
        name, _, q = part.strip().partition(";q=")
        prefix = name.split("-", 1)[0].lower()
        if prefix not in LANGS:
            continue
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        if best is None or weight > best[0]:
            best = (weight, prefix)
    return best[1] if best else "fi"


def _purpose(token: str) -> str:
    # The nonce is good for one family's form only.
    return f"feedback-form|{token}"


# -- HTML ---------------------------------------------------------------------------------


def e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _document(
    lang: Lang, title: str, body: str, token: str | None = None, *, refused: bool = False
) -> str:
    # A refusal or a list of problems is announced first, in the title.
    shown_title = t(lang, "fbpage.error_title", title=title) if refused else title
    here = f"/feedback/{e(token)}" if token else ""
    links = []
    for other in LANGS:
        name = t(other, "fbpage.language_name")
        if other == lang:
            links.append(f'<span aria-current="true" lang="{other}">{e(name)}</span>')
        elif here:
            href = f"{here}?{urlencode({'lang': other})}"
            links.append(f'<a href="{href}" lang="{other}" hreflang="{other}">{e(name)}</a>')
    nav = f'<nav aria-label="{e(t(lang, "fbpage.languages"))}">{" ".join(links)}</nav>'
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="referrer" content="no-referrer">'
        '<meta name="robots" content="noindex, nofollow">'
        f"<title>{e(shown_title)}</title><style>{CSS}</style></head>"
        f"<body><main>{nav}<h1>{e(title)}</h1>{body}</main></body></html>"
    )


def _radios(
    name: str, options: list[tuple[str, str]], chosen: str, css: str = "opts", suffix: str = ""
) -> str:
    items = []
    for n, (value, text) in enumerate(options):
        checked = " checked" if value == chosen else ""
        ident = f"{name}-{suffix or n}"
        items.append(
            f'<label for="{ident}"><input type="radio" id="{ident}" name="{name}" '
            f'value="{e(value)}"{checked}><span>{e(text)}</span></label>'
        )
    return f'<div class="{css}">{"".join(items)}</div>'


def _problem(lang: Lang, name: str, problems: Mapping[str, str]) -> str:
    if name not in problems:
        return ""
    return f'<p class="error" id="{name}-error">{e(problems[name])}</p>'


def _described(name: str, problems: Mapping[str, str]) -> str:
    return f' aria-describedby="{name}-error" aria-invalid="true"' if name in problems else ""


def _choice_group(
    lang: Lang,
    name: str,
    codes: tuple[str, ...],
    values: Mapping[str, str],
    problems: Mapping[str, str],
) -> str:
    options = [(c, t(lang, f"fbpage.{name}.{c}")) for c in codes]
    return (
        f'<fieldset id="{name}"{_described(name, problems)}>'
        f"<legend>{e(t(lang, f'fbpage.q.{name}'))}</legend>"
        f"{_problem(lang, name, problems)}{_radios(name, options, values.get(name, ''))}"
        "</fieldset>"
    )


def _scale(
    lang: Lang,
    name: str,
    values: Mapping[str, str],
    problems: Mapping[str, str],
    *,
    not_applicable: bool = False,
    prefix: str = "fbpage",
) -> str:
    options = [(r, r) for r in RATING]
    extra = ""
    if not_applicable:
        not_applicable_option = [("", t(lang, "fbpage.scale.not_applicable"))]
        extra = _radios(name, not_applicable_option, values.get(name, "-"), suffix="na")
    return (
        f'<fieldset id="{name}"{_described(name, problems)}>'
        f"<legend>{e(t(lang, f'{prefix}.q.{name}'))}</legend>"
        f"{_problem(lang, name, problems)}"
        f"{_radios(name, options, values.get(name, ''), 'opts scale')}"
        f'<div class="ends" aria-hidden="true"><span>{e(t(lang, "fbpage.scale.low"))}</span>'
        f"<span>{e(t(lang, 'fbpage.scale.high'))}</span></div>"
        f'<p class="hint">{e(t(lang, "fbpage.scale.hint"))}</p>{extra}</fieldset>'
    )


def _textarea(
    lang: Lang,
    name: str,
    values: Mapping[str, str],
    problems: Mapping[str, str],
    *,
    prefix: str = "fbpage",
    limit: int = CLIENT_TEXT_LIMIT,
) -> str:
    hint_id = f"{name}-hint"
    described = f"{hint_id} {name}-error" if name in problems else hint_id
    invalid = ' aria-invalid="true"' if name in problems else ""
    return (
        f'<div class="field"><label for="{name}">{e(t(lang, f"{prefix}.q.{name}"))}</label>'
        f"{_problem(lang, name, problems)}"
        f'<textarea id="{name}" name="{name}" maxlength="{limit}" rows="5" '
        f'aria-describedby="{described}"{invalid}>{e(values.get(name, ""))}</textarea>'
        f'<p class="hint" id="{hint_id}">'
        f"{e(t(lang, 'fbpage.text_hint', limit=limit))}</p></div>"
    )


def _parents_questions(lang: Lang, values: Mapping[str, str], problems: Mapping[str, str]) -> str:
    return (
        _choice_group(lang, "heard_from", HEARD_FROM, values, problems)
        + _choice_group(lang, "settled", SETTLED, values, problems)
        + _scale(lang, "felt_heard", values, problems)
        + _scale(lang, "impartial", values, problems)
        + _scale(lang, "child_view", values, problems, not_applicable=True)
        + _choice_group(lang, "recommend", RECOMMEND, values, problems)
        + _textarea(lang, "good", values, problems)
        + _textarea(lang, "missing", values, problems)
    )


def _family_questions(lang: Lang, values: Mapping[str, str], problems: Mapping[str, str]) -> str:
    return (
        _scale(lang, "useful", values, problems, prefix="ctfbpage")
        + _scale(lang, "heard", values, problems, prefix="ctfbpage")
        + _textarea(lang, "good", values, problems, prefix="ctfbpage", limit=COMMENT_MAX)
    )


@dataclass(frozen=True)
class Questions:
    """One form the page shows: its own texts in the catalogs (title, intro, questions,
    privacy, and the thanks/used/expired pages) under ``prefix``, its fields in order."""

    prefix: str
    order: tuple[str, ...]
    text_limit: int
    html: Callable[[Lang, Mapping[str, str], Mapping[str, str]], str]


PARENTS_FORM = Questions("fbpage", _ORDER, CLIENT_TEXT_LIMIT, _parents_questions)
FAMILY_FORM = Questions("ctfbpage", FAMILY_FIELDS, COMMENT_MAX, _family_questions)
_OWN_PAGES = ("thanks", LinkState.USED, LinkState.EXPIRED)  # the others read the same


def form_html(
    lang: Lang,
    token: str,
    nonce: str,
    values: Mapping[str, str] | None = None,
    problems: Mapping[str, str] | None = None,
    notice: str = "",
    questions: Questions = PARENTS_FORM,
) -> str:
    own = questions.prefix
    values = values or {}
    problems = problems or {}
    summary = ""
    if problems or notice:
        items = "".join(
            f'<li><a href="#{name}">{e(t(lang, f"{own}.q.{name}"))} {e(problems[name])}</a></li>'
            for name in questions.order
            if name in problems
        )
        summary = (
            f'<div class="summary" role="alert" tabindex="-1" id="problems">'
            f"<p><strong>{e(notice or t(lang, 'fbpage.errors_title'))}</strong></p>"
            f"{f'<ul>{items}</ul>' if items else ''}</div>"
        )
    body = (
        f"{summary}<p>{e(t(lang, f'{own}.intro'))}</p>"
        f'<form method="post" action="/feedback/{e(token)}?{urlencode({"lang": lang})}" '
        'accept-charset="utf-8">'
        f'<input type="hidden" name="nonce" value="{e(nonce)}">'
        f'<input type="hidden" name="lang" value="{lang}">'
        + questions.html(lang, values, problems)
        + f'<button type="submit">{e(t(lang, "fbpage.send"))}</button></form>'
        f'<p class="small">{e(t(lang, f"{own}.privacy"))}</p>'
    )
    refused = bool(problems or notice)
    return _document(lang, t(lang, f"{own}.title"), body, token, refused=refused)


def message_html(
    lang: Lang, state: str, token: str | None = None, questions: Questions = PARENTS_FORM
) -> str:
    own = questions.prefix if state in _OWN_PAGES else "fbpage"
    body = f"<p>{e(t(lang, f'{own}.{state}.text'))}</p>"
    refused = state in ("too_large", "bad_request")
    return _document(lang, t(lang, f"{own}.{state}.title"), body, token, refused=refused)


def _page(text: str, status: int = 200) -> web.Response:
    return web.Response(
        text=text, status=status, content_type="text/html", charset="utf-8", headers=HEADERS
    )


_STATUS = {LinkState.UNKNOWN: 404, LinkState.EXPIRED: 410, LinkState.USED: 410}


# -- handlers -----------------------------------------------------------------------------


async def _find(page: FeedbackPage, token: str) -> tuple[Questions, str]:
    """The form a link is for, and whether it takes an answer (a :class:`LinkState`)."""
    now = page.clock.now()
    link = await page.store.link(token)
    if link is None and page.units is not None:
        state = await family_link_state_of(token, page.units(), now)
        if state is not None:
            return FAMILY_FORM, state
    return PARENTS_FORM, link_state(link, now)


async def _submit(
    page: FeedbackPage, questions: Questions, token: str, answers: Mapping[str, str], nonce: str
) -> str:
    if questions is FAMILY_FORM:
        assert page.units is not None
        return await submit_family_answer(token, answers, page.units(), page.clock, form_id(nonce))
    return await submit_client_answer(token, answers, page.store, page.clock, form_id(nonce))


async def show(request: web.Request) -> web.Response:
    """The form, or a page that says why this link takes no answer."""
    page = request.app[FEEDBACK_PAGE]
    token = request.match_info["token"]
    lang = page_lang(request)
    if not looks_like_token(token):
        return _page(message_html(lang, LinkState.UNKNOWN), 404)
    questions, state = await _find(page, token)
    if state != LinkState.OPEN:
        return _page(message_html(lang, state, token, questions), _STATUS[state])
    nonce = make_nonce(page.key, _purpose(token), page.clock.now().timestamp())
    return _page(form_html(lang, token, nonce, questions=questions))


async def thanks(request: web.Request) -> web.Response:
    page = request.app[FEEDBACK_PAGE]
    token = request.match_info["token"]
    lang = page_lang(request)
    questions = (await _find(page, token))[0] if looks_like_token(token) else PARENTS_FORM
    return _page(message_html(lang, "thanks", questions=questions))


async def send(request: web.Request) -> web.Response:
    """A parent sends the form; nothing is stored unless every check passes."""
    page = request.app[FEEDBACK_PAGE]
    token = request.match_info["token"]
    lang = page_lang(request)
    if not looks_like_token(token):
        return _page(message_html(lang, LinkState.UNKNOWN), 404)
    if request.content_type != "application/x-www-form-urlencoded":
        return _page(message_html(lang, "bad_request", token), 400)
    try:
        raw = await read_body(request, MAX_BODY)
    except BodyTooLarge:
        return _page(message_html(lang, "too_large", token), 413)
    try:
        pairs = parse_qsl(
            raw.decode("utf-8"), keep_blank_values=True, strict_parsing=False, max_num_fields=40
        )
    except (UnicodeDecodeError, ValueError):
        return _page(message_html(lang, "bad_request", token), 400)
    form: dict[str, str] = {}
    for name, value in pairs:
        if name in form:  # one value a question; a repeated field is not our form
            return _page(message_html(lang, "bad_request", token), 400)
        form[name] = value
    lang = page_lang(request, form)
    now = page.clock.now()
    nonce = form.get("nonce", "")
    questions, state = await _find(page, token)
    answers = {k: v for k, v in form.items() if k in questions.order}
    if not nonce_ok(page.key, _purpose(token), nonce, now.timestamp(), NONCE_SECONDS):
        # A form from elsewhere or one left open for hours: shown again, nothing stored.
        fresh = make_nonce(page.key, _purpose(token), now.timestamp())
        if state != LinkState.OPEN:
            return _page(message_html(lang, state, token, questions), _STATUS[state])
        notice = t(lang, "fbpage.stale")
        shown = form_html(lang, token, fresh, answers, notice=notice, questions=questions)
        return _page(shown, 400)
    try:
        state = await _submit(page, questions, token, answers, nonce)
    except errors.InvalidForm as exc:
        problems = {
            name: _problem_text(lang, err, questions.text_limit)
            for name, err in exc.problems.items()
        }
        return _page(form_html(lang, token, nonce, answers, problems, questions=questions), 400)
    except errors.InvalidInput as exc:
        field = str(exc.params.get("field"))
        if field == "answers":
            notice = t(lang, "fbpage.empty")
            shown = form_html(lang, token, nonce, answers, notice=notice, questions=questions)
            return _page(shown, 400)
        problem = {field: _problem_text(lang, exc, questions.text_limit)}
        return _page(form_html(lang, token, nonce, answers, problem, questions=questions), 400)
    if state in (LinkState.OPEN, LinkState.SENT):
        if state == LinkState.OPEN:
            log.info("a family's feedback answer was stored")
        raise web.HTTPSeeOther(
            f"/feedback/{token}/thanks?{urlencode({'lang': lang})}", headers=HEADERS
        )
    return _page(message_html(lang, state, token, questions), _STATUS[state])


def _problem_text(lang: Lang, err: errors.InvalidInput, limit: int) -> str:
    problem = str(err.params.get("problem", ""))
    if problem == "too long":
        return t(lang, "fbpage.too_long", limit=limit)
    if problem == "not text":
        return t(lang, "fbpage.not_text")
    if problem in ("a character that cannot be saved", "identity codes are not stored"):
        return problem_text(lang, err)
    return t(lang, "fbpage.unknown_choice")
