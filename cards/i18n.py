"""The fi/sv/en message catalogs: picking a language, filling a message, saying an error.

Domain errors carry a catalog key and parameters; parameters that are codes (a term, a
status, a language) or fixed English phrases are translated here through catalog keys
too, so no English leaks into a Finnish or Swedish sentence.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import re
from collections.abc import Callable, Iterable
from datetime import date
from importlib import resources
from typing import Literal, cast

from cards.base import plain
from mediation import errors
from mediation.model import AwayPeriod
from mediation.registry import RegistryFileError, RowProblem

log = logging.getLogger(__name__)

Lang = Literal["fi", "sv", "en"]
LANGS: tuple[Lang, ...] = ("fi", "sv", "en")
DEFAULT_LANG: Lang = "fi"  # the bank works in Finnish unless the user's Teams says otherwise
_BY_PREFIX: dict[str, Lang] = {"fi": "fi", "sv": "sv", "en": "en"}


def lang_of(locale: str | None) -> Lang:
    """An activity locale ('fi-FI', 'sv-SE', 'en-US', ...) -> a catalog; unknown -> Finnish."""
    if not locale:
        return DEFAULT_LANG
    prefix = locale.strip().replace("_", "-").split("-", 1)[0].lower()
    return _BY_PREFIX.get(prefix, DEFAULT_LANG)


@functools.cache
def catalog(lang: Lang) -> dict[str, str]:
    """One language's messages, read once from the package.

    ``fi.json`` holds the core messages; each feature may bring its own ``fi.<feature>.json``
    beside it. A key defined twice is an error, not a silent override.
    """
    if lang not in LANGS:
        raise ValueError(f"no catalog for {lang!r}")
    folder = resources.files("cards.catalogs")
    names = sorted(
        f.name
        for f in folder.iterdir()
        if f.name == f"{lang}.json" or (f.name.startswith(f"{lang}.") and f.name.endswith(".json"))
    )
    merged: dict[str, str] = {}
    for name in names:
        part = cast(dict[str, str], json.loads(folder.joinpath(name).read_text(encoding="utf-8")))
        twice = merged.keys() & part.keys()
        if twice:
            raise ValueError(f"{name} defines keys defined already: {sorted(twice)[:5]}")
        merged.update(part)
    return merged


def t(lang: Lang, key: str, **params: object) -> str:
    """The message ``key`` in ``lang``, filled with ``params``; a missing key raises KeyError."""
    return catalog(lang)[key].format(**params)


def tn(lang: Lang, key: str, count: int, **params: object) -> str:
    """A message that depends on a number: ``key.one``, ``key.other`` (and ``key.zero``)."""
    if count == 0 and f"{key}.zero" in catalog(lang):
        form = "zero"
    else:
        form = "one" if count == 1 else "other"
    return t(lang, f"{key}.{form}", count=count, **params)


# -- codes and values --------------------------------------------------------------------


def label(lang: Lang, group: str, code: str) -> str:
    """The name of a code: ``label(lang, 'topic', 'custody')``."""
    return t(lang, f"{group}.{code}")


def time_label(lang: Lang, code: str) -> str:
    """'mon_morning' -> 'Mon morning' / 'ma aamupäivä' / 'mån förmiddag'."""
    day, part = code.split("_", 1)
    return t(lang, "time.slot", day=t(lang, f"weekday.{day}"), part=t(lang, f"daypart.{part}"))


def term_label(lang: Lang, term: str, year: int) -> str:
    """'spring', 2026 -> 'spring 2026' / 'kevät 2026' / 'våren 2026'."""
    return t(lang, f"term.{term}", year=year)


def when_label(lang: Lang, scope: str) -> str:
    """A quota scope as a time: 'spring' -> 'this spring' / 'tänä keväänä' / 'i vår'."""
    return t(lang, f"when.{scope}")


def format_date(lang: Lang, day: date) -> str:
    return t(lang, "format.date", day=day.day, month=day.month, year=day.year)


def format_period(lang: Lang, period: AwayPeriod) -> str:
    return t(
        lang,
        "format.range",
        start=format_date(lang, period.start),
        end=format_date(lang, period.end),
    )


def join_and(lang: Lang, items: Iterable[str]) -> str:
    """'A', 'B', 'C' -> 'A, B and C' in the language's words."""
    parts = list(items)
    if len(parts) <= 1:
        return "".join(parts)
    return t(lang, "format.and", first=", ".join(parts[:-1]), last=parts[-1])


def field_label(lang: Lang, field: str) -> str:
    """A form field's name for a message; an unknown field gets a neutral name."""
    key = f"field.{field}"
    if key in catalog(lang):
        return t(lang, key)
    log.warning("no label for form field %r", field)
    return t(lang, "field.unknown")


# -- input problems ------------------------------------------------------------------------

# The problem texts of mediation's InvalidInput, each to a catalog key ``problem.<name>``.
# Named groups become message parameters where the text holds a number the params lack.
_PROBLEMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name)
    for pattern, name in (
        (r"required", "required"),
        (r"too long", "too_long"),
        (r"not text", "not_text"),
        (r"not a yes/no value", "not_yes_no"),
        (r"unknown choice", "unknown_choice"),
        (r"not readable", "not_readable"),
        (r"identity codes are not stored", "identity_code"),
        (r"choose from the list", "area_choose"),
        (r"a character that cannot be saved", "control_character"),
        (r"choose a language", "choose_language"),
        (r"a family in another language needs an interpreter", "needs_interpreter"),
        (r"at least one child's birth year is needed", "children_missing"),
        (r"birth years are four digits", "birth_year_digits"),
        (r"\d{4} is not the birth year of a child under 18", "birth_year_range"),
        (r"too many children for one form", "too_many_children"),
        (r"choose at least one topic", "choose_topic"),
        (r"leave at least one weekday", "one_weekday"),
        (r"choose how the family came", "choose_referral"),
        (r"not a phone number", "not_phone"),
        (r"not an e-mail address", "not_email"),
        (r"a phone number or an e-mail is needed", "phone_or_email"),
        (r"the period ends before it starts", "period_reversed"),
        (r"the period is already over", "period_over"),
        (r"the period is too long", "period_too_long"),
        (r"give both the first and the last day", "period_incomplete"),
        (r"not a date", "not_a_date"),
        (r"not a number of hours", "not_hours"),
        (r"choose an organisation", "choose_organisation"),
        (r"the meeting has not begun", "not_begun"),
        (r"choose fi and/or sv", "choose_fi_sv"),
        (r"choose a mediator", "choose_mediator"),
        (r"case .+ has no seat \d+", "no_such_seat"),
        (r"seat \d+ is already free", "seat_already_free"),
        (r"(?P<count>\d+) meetings are already booked or held", "package_too_small"),
    )
)


def problem_name(problem: str) -> str | None:
    """The catalog name of an InvalidInput problem text, or None when it is unknown."""
    for pattern, name in _PROBLEMS:
        if pattern.fullmatch(problem):
            return name
    return None


def problem_text(lang: Lang, err: errors.InvalidInput) -> str:
    """What is wrong with one input, without the field's name (shown under the field)."""
    problem = str(err.params.get("problem", ""))
    for pattern, name in _PROBLEMS:
        match = pattern.fullmatch(problem)
        if match:
            return t(lang, f"problem.{name}", **{**err.params, **match.groupdict()})
    log.warning("no translation for input problem %r", problem)
    return t(lang, "problem.generic")


def form_problems(lang: Lang, err: errors.InvalidForm) -> dict[str, str]:
    """An invalid form's problems by field, translated: the ``problems`` of the form card."""
    return {field: problem_text(lang, exc) for field, exc in err.problems.items()}


# -- errors ---------------------------------------------------------------------------------

_TRANSITIONS = {
    "claim a seat on": "claim",
    "release a seat of": "release",
    "assign a seat of": "assign",
    "start": "start",
    "move to follow-up": "follow_up",
    "close": "close",
    "cancel": "cancel",
    "book a meeting for": "book",
}
_DENIED_ACTIONS = {
    "registering a family": "register",
    "assigning a seat": "assign",
    "closing a case": "close",
    "cancelling a case": "cancel",
    "clearing a safety concern": "clear_safety",
    "viewing the family's details": "details",
    "viewing the registry": "registry",
    "changing the registry": "registry_change",
    "choosing the bank channel": "setup",
    "viewing statistics": "stats",
    "changing the family messages": "templates",
    "filling a seat": "fill",
    "approving an exception": "approve_exception",
    "recording consent": "record_consent",
    "recording the plan": "record_plan",
    "reading the plan": "read_plan",
    "booking the follow-up": "book_follow_up",
    "following up the plan": "follow_up_plan",
}
_DENIED_WHY = {
    "only a coordinator may do this": "coordinator_only",
    "only the pair and coordinators": "pair_only",
    "the case's type fills it another way": "fill_other_way",
    "someone else must approve it": "another_approver",
    "not for this case's type": "case_type",
    "only the convener": "convener_only",
    "only the responsible worker": "responsible_only",
    "only the family's agreed parties": "agreed_parties",
}
_REGISTRY_PROBLEMS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), name)
    for pattern, name in (
        (r"not an Entra object id \(a GUID\)", "not_guid"),
        (r"empty", "empty"),
        (r"longer than (?P<limit>\d+) characters", "too_long"),
        (r"not an e-mail address", "not_email"),
        (r"use fi and/or sv, separated by spaces", "languages"),
        (r"use yes/no, true/false, 1/0 or kyllä/ei", "yes_no"),
        (r"use mediator, coordinator or booker", "role"),
        (r"use the qualification codes, separated by spaces", "qualifications"),
        (r"not UTF-8 \(.*\)", "not_utf8"),
        (r"the file is empty", "file_empty"),
        (r"column missing from the header", "column_missing"),
        (r"(?P<cells>\d+) cells where the header has (?P<columns>\d+)", "cell_count"),
        (r"same person as line (?P<other>\d+)", "duplicate"),
        (r"more than (?P<limit>\d+) rows", "too_many_rows"),
        (r"not valid CSV \(.*\)", "not_csv"),
    )
)
_REGISTRY_LINES_SHOWN = 10


def registry_problem_text(lang: Lang, row: RowProblem) -> str:
    """'line 3, column email: not an e-mail address' in the user's language."""
    problem = None
    for pattern, name in _REGISTRY_PROBLEMS:
        match = pattern.fullmatch(row.message)
        if match:
            problem = t(lang, f"registry.problem.{name}", **match.groupdict())
            break
    if problem is None:
        log.warning("no translation for registry problem %r", row.message)
        problem = row.message
    if row.column == "-":
        return t(lang, "registry.line", line=row.line, problem=problem)
    return t(lang, "registry.cell", line=row.line, column=row.column, problem=problem)


def _quota(lang: Lang, err: errors.DomainError) -> str:
    p = err.params
    key = err.key if p.get("name", "you") == "you" else f"{err.key}.named"
    return t(
        lang,
        key,
        used=p["used"],
        limit=p["limit"],
        when=when_label(lang, p["scope"]),
        name=p.get("name", ""),
    )


def _override(lang: Lang, err: errors.DomainError) -> str:
    p = err.params
    return t(lang, err.key, used=p["used"], limit=p["limit"], when=when_label(lang, p["scope"]))


def _transition(lang: Lang, err: errors.DomainError) -> str:
    slug = _TRANSITIONS.get(str(err.params.get("action")))
    key = f"{err.key}.{slug}" if slug else err.key
    return t(lang, key, status=label(lang, "status", str(err.params.get("status"))))


def _not_allowed(lang: Lang, err: errors.DomainError) -> str:
    action = _DENIED_ACTIONS.get(str(err.params.get("action")))
    why = _DENIED_WHY.get(str(err.params.get("why")))
    if action is None or why is None:
        log.warning("no translation for a refusal: %s", err.message)
        return t(lang, "error.not_allowed.generic")
    return t(lang, err.key, action=t(lang, f"denied.{action}"), why=t(lang, f"denied.why.{why}"))


def _anonymous_if_id(param: str) -> Callable[[Lang, errors.DomainError], str]:
    """Some errors name a mediator by their database id; say it without the number then."""

    def render(lang: Lang, err: errors.DomainError) -> str:
        value = str(err.params.get(param, ""))
        if not value or value == "?" or value.isdigit():
            return t(lang, f"{err.key}.anonymous", **err.params)
        return t(lang, err.key, **err.params)

    return render


def _away(lang: Lang, err: errors.DomainError) -> str:
    until = str(err.params.get("until", ""))
    with contextlib.suppress(ValueError):  # not a date: show it as it came
        until = format_date(lang, date.fromisoformat(until))
    return t(lang, err.key, name=err.params.get("name", ""), until=until)


def _stale_status(lang: Lang, err: errors.DomainError) -> str:
    return t(lang, err.key, status=label(lang, "status", str(err.params.get("status"))))


def _language(lang: Lang, err: errors.DomainError) -> str:
    language = label(lang, "language", str(err.params.get("language")))
    return t(lang, err.key, name=err.params.get("name", ""), language=language)


def _qualifications(lang: Lang, err: errors.DomainError) -> str:
    """``missing`` holds qualification codes, comma-separated: say them in words."""
    words = catalog(lang)
    codes = [c.strip() for c in str(err.params.get("missing", "")).split(",") if c.strip()]
    missing = ", ".join(words.get(f"qualification.{c}", c) for c in codes)
    return t(lang, err.key, **{**err.params, "missing": missing})


def _invalid_input(lang: Lang, err: errors.DomainError) -> str:
    assert isinstance(err, errors.InvalidInput)
    field = str(err.params.get("field", ""))
    return t(lang, err.key, field=field_label(lang, field), problem=problem_text(lang, err))


def _invalid_form(lang: Lang, err: errors.DomainError) -> str:
    assert isinstance(err, errors.InvalidForm)
    fields = ", ".join(field_label(lang, f) for f in err.problems)
    return t(lang, err.key, fields=fields)


def _registry_file(lang: Lang, err: errors.DomainError) -> str:
    assert isinstance(err, RegistryFileError)
    lines = [t(lang, err.key), tn(lang, "registry.problems", len(err.problems))]
    lines += [f"- {registry_problem_text(lang, p)}" for p in err.problems[:_REGISTRY_LINES_SHOWN]]
    hidden = len(err.problems) - _REGISTRY_LINES_SHOWN
    if hidden > 0:
        lines.append(tn(lang, "registry.more", hidden))
    return "\n".join(lines)


_RENDERERS: dict[str, Callable[[Lang, errors.DomainError], str]] = {
    "error.quota_term": _quota,
    "error.quota_year": _quota,
    "error.override_reason_required": _override,
    "error.illegal_transition": _transition,
    "error.not_allowed": _not_allowed,
    "error.seat_taken": _anonymous_if_id("holder"),
    "error.same_mediator_twice": _anonymous_if_id("name"),
    "error.mediator_away": _away,
    "error.language_mismatch": _language,
    "error.not_qualified": _qualifications,
    "error.competences_missing": _qualifications,
    "error.stale_status": _stale_status,
    "error.invalid_input": _invalid_input,
    "error.invalid_form": _invalid_form,
    "error.registry_file": _registry_file,
}


def _with_plain_params(err: errors.DomainError) -> errors.DomainError:
    """The error with its words made plain: a refusal may name a mediator as typed."""
    shown = type(err).__new__(type(err))
    shown.__dict__.update(err.__dict__)
    shown.args = err.args
    shown.params = {k: plain(v) if isinstance(v, str) else v for k, v in err.params.items()}
    return shown


def error_text(lang: Lang, err: errors.DomainError) -> str:
    """A domain error as a sentence in ``lang``, with its numbers and names filled in."""
    render = _RENDERERS.get(err.key)
    err = _with_plain_params(err)
    try:
        if render is not None:
            return render(lang, err)
        return t(lang, err.key, **err.params)
    except KeyError as missing:
        # A new error, or a code (a term name from the settings, say) without its words yet:
        # the user still hears that nothing was done, and the log says what to add.
        log.warning("no message for %r in %s (%s): %s", err.key, lang, missing, err.message)
        return t(lang, "error.generic")
