"""Cards about mediators: one's own quota, the coordinators' registry, and reading their edits.

The registry is one compact line per mediator and a single edit form below the list:
a form per mediator would not fit a bank of 60 into a Teams message (28 KB).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date
from typing import TypedDict

from cards import verbs
from cards.base import (
    Card,
    Element,
    action_set,
    card,
    choice_set,
    date_input,
    execute,
    heading,
    plain,
    problem,
    show_card,
    text,
    toggle,
)
from cards.i18n import Lang, format_period, label, t, tn, when_label
from mediation import errors
from mediation.model import LANGUAGES, AwayPeriod, Mediator
from mediation.policy import BankPolicy, within_years
from mediation.views import QuotaReport

MEDIATOR_LANGUAGES = tuple(code for code in LANGUAGES if code != "other")
# Serialized as the Bot Framework sends it (escaped JSON), with room under Teams' 28 KB.
REGISTRY_BUDGET = 26_000


def _languages(lang: Lang, codes: frozenset[str]) -> str:
    return ", ".join(label(lang, "language", c) for c in MEDIATOR_LANGUAGES if c in codes)


def _typed(typed: Mapping[str, object] | None, key: str) -> str | None:
    """What the person had typed in a field, to put back after a refusal."""
    value = (typed or {}).get(key)
    if value is None or isinstance(value, dict | list):
        return None
    return str(value)[:200] or None


def _away_form(lang: Lang, typed: Mapping[str, object] | None = None) -> list[Element]:
    return [
        date_input("away_start", t(lang, "away.start"), value=_typed(typed, "away_start")),
        date_input("away_end", t(lang, "away.end"), value=_typed(typed, "away_end")),
        toggle("clear_away", t(lang, "away.clear"), on=_typed(typed, "clear_away") == "true"),
    ]


def _form_or_button(
    title: str,
    form: list[Element],
    save: Element,
    refused: str | None,
) -> tuple[list[Element], list[Element]]:
    """A form behind a button; after a refusal, open in the card with the reason above it."""
    if refused is None:
        return [], [show_card(title, form, [save])]
    return [heading(title, separator=True), problem(refused), *form, action_set([save])], []


def quota_card(
    report: QuotaReport,
    lang: Lang,
    *,
    refused: str | None = None,
    typed: Mapping[str, object] | None = None,
) -> Card:
    """A mediator's packages this term and year, who is waiting, and their away periods.

    ``refused`` says why the away form's last submit changed nothing; the form then stays
    open with what was typed (``typed``).
    """
    usage, me = report.usage, report.mediator
    body: list[Element] = [
        heading(t(lang, "quota.title")),
        text(
            t(
                lang,
                "quota.usage",
                term_used=usage.term_used,
                term_limit=usage.term_limit,
                term=when_label(lang, usage.term.name),
                year_used=usage.year_used,
                year_limit=usage.year_limit,
                year=when_label(lang, "year"),
            ),
            size="Large",
            weight="Bolder",
        ),
    ]
    if usage.term_left == 0 or usage.year_left == 0:
        body.append(text(t(lang, "quota.full"), color="Warning"))
    body.append(text(tn(lang, "quota.waiting", report.waiting_cases)))
    key = "quota.experienced" if report.experienced else "quota.new"
    body.append(text(t(lang, key, count=me.completed_cases)))
    if not me.active:
        body.append(text(t(lang, "quota.inactive"), color="Attention"))
    if me.away:
        periods = ", ".join(format_period(lang, p) for p in me.away)
        body.append(text(t(lang, "quota.away", periods=periods)))
    actions: list[Element] = []
    if me.id is not None:
        save = execute(t(lang, "form.save"), verbs.MEDIATOR_UPDATE, {"mediator_id": me.id})
        inline, actions = _form_or_button(
            t(lang, "quota.mark_away"), _away_form(lang, typed), save, refused
        )
        body.extend(inline)
    return card(lang, body, actions)


def _registry_line(
    m: Mediator, lang: Lang, policy: BankPolicy, today: date, *, brief: bool = False
) -> Element:
    experience = "registry.experienced" if m.is_experienced(policy) else "registry.new"
    parts = [f"**{plain(m.name)}**"]
    if not brief:
        parts += [plain(m.employer), _languages(lang, m.languages)]
    if not m.is_booker:
        parts.append(t(lang, experience, count=m.completed_cases))
    if m.is_coordinator or m.is_booker:
        parts.append(label(lang, "role", m.role.value))
    coming = [p for p in m.away if p.end >= today]
    if coming:
        periods = ", ".join(format_period(lang, p) for p in coming)
        parts.append(t(lang, "registry.away", periods=periods))
    if not m.active:
        parts.append(t(lang, "registry.inactive"))
    return text(" · ".join(parts), separator=True)


def registry_card(
    mediators: Sequence[Mediator],
    lang: Lang,
    policy: BankPolicy,
    today: date,
    *,
    notice: str | None = None,
    refused: str | None = None,
    typed: Mapping[str, object] | None = None,
) -> Card:
    """The bank's registry for coordinators, with one form to change a mediator's entry.

    ``notice`` confirms the last edit; ``refused`` says why it changed nothing, and the
    form then stays open with what was typed (``typed``).
    """
    people = sorted(mediators, key=lambda m: m.name.casefold())
    experienced = sum(1 for m in people if m.is_experienced(policy))
    away = sum(1 for m in people if m.away_on(today))
    inactive = sum(1 for m in people if not m.active)
    counts = [
        tn(lang, "registry.count", len(people)),
        tn(lang, "registry.count_experienced", experienced),
        tn(lang, "registry.count_away", away),
        tn(lang, "registry.count_inactive", inactive),
    ]
    head = [heading(t(lang, "registry.title")), text(" · ".join(counts), subtle=True)]
    if notice:
        head.insert(0, text(notice, weight="Bolder", color="Good"))
    lines = [_registry_line(m, lang, policy, today) for m in people]
    editable = [(str(m.id), plain(m.name)) for m in people if m.id is not None]
    actions: list[Element] = []
    if editable:
        form: list[Element] = [
            choice_set(
                "mediator_id",
                t(lang, "coord.mediator"),
                editable,
                style="filtered",
                value=_typed(typed, "mediator_id"),
                placeholder=t(lang, "coord.mediator_placeholder"),
                required_message=t(lang, "problem.choose_mediator"),
            ),
            text(t(lang, "registry.edit_note"), subtle=True, size="Small"),
            choice_set(
                "experienced",
                t(lang, "registry.field.experienced"),
                [
                    ("true", t(lang, "registry.set_experienced")),
                    ("false", t(lang, "registry.set_by_count")),
                ],
                value=_typed(typed, "experienced"),
                placeholder=t(lang, "form.no_change"),
            ),
            choice_set(
                "active",
                t(lang, "registry.field.active"),
                [
                    ("true", t(lang, "registry.set_active")),
                    ("false", t(lang, "registry.set_inactive")),
                ],
                value=_typed(typed, "active"),
                placeholder=t(lang, "form.no_change"),
            ),
            choice_set(
                "languages",
                t(lang, "registry.field.languages"),
                [(c, label(lang, "language", c)) for c in MEDIATOR_LANGUAGES],
                multi=True,
                style="expanded",
                value=_typed(typed, "languages"),
            ),
            *_away_form(lang, typed),
        ]
        save = execute(t(lang, "form.save"), verbs.MEDIATOR_UPDATE, {})
        inline, actions = _form_or_button(t(lang, "registry.edit"), form, save, refused)
        actions.append(execute(t(lang, "overview.open"), verbs.BANK_OVERVIEW, {}))
        # After a refusal the open form comes first, where the coordinator was working.
        head.extend(inline)
    full = card(lang, [*head, *lines], actions)
    excess = len(json.dumps(full)) - REGISTRY_BUDGET
    if excess <= 0:
        return full
    # A big bank: leave out employers and languages rather than anyone's name...
    lines = [_registry_line(m, lang, policy, today, brief=True) for m in people]
    brief = card(lang, [*head, *lines], actions)
    excess = len(json.dumps(brief)) - REGISTRY_BUDGET
    if excess <= 0:
        return brief
    # ...and in a very big one, the last lines (the edit form still lists everyone).
    excess += 200  # the closing note
    while lines and excess > 0:
        excess -= len(json.dumps(lines.pop())) + 2
    note = text(tn(lang, "registry.not_shown", len(people) - len(lines)), subtle=True)
    return card(lang, [*head, *lines, note], actions)


class MediatorUpdate(TypedDict):
    """The fields of ``mediation.services.UpdateMediator`` that a card form sets."""

    mediator_id: int
    experienced: bool | None
    active: bool | None
    languages: frozenset[str] | None
    add_away: AwayPeriod | None
    clear_away: bool


def _text(data: Mapping[str, object], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value).strip()


def _choice_flag(data: Mapping[str, object], key: str) -> bool | None:
    value = data.get(key)
    if isinstance(value, bool):
        return value
    text_value = _text(data, key).lower()
    if text_value in ("", "none"):
        return None  # left at "no change"
    if text_value in ("true", "false"):
        return text_value == "true"
    raise errors.InvalidInput(key, "not a yes/no value")


def _date(data: Mapping[str, object], key: str) -> date | None:
    value = _text(data, key)
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise errors.InvalidInput("away", "not a date", value=value) from None
    if not within_years(day):
        raise errors.InvalidInput("away", "not a date", value=value)
    return day


def read_mediator_update(data: Mapping[str, object]) -> MediatorUpdate:
    """The submitted data of a ``mediator.update`` button, typed for ``UpdateMediator``.

    Works for the registry's edit form and the quota card's away form alike: what a form
    leaves empty stays unchanged. ``UpdateMediator(actor=aad, **read_mediator_update(data))``.
    """
    raw_id = _text(data, "mediator_id")
    # ASCII digits within PostgreSQL's integer: str.isdigit() is true of "²", which int()
    # refuses, and of ids no row can have.
    if not (raw_id.isascii() and raw_id.isdigit() and len(raw_id) < 10):
        raise errors.InvalidInput("mediator_id", "choose a mediator")
    langs = frozenset(v.strip() for v in _text(data, "languages").split(",") if v.strip())
    start, end = _date(data, "away_start"), _date(data, "away_end")
    if (start is None) != (end is None):
        raise errors.InvalidInput("away", "give both the first and the last day")
    return MediatorUpdate(
        mediator_id=int(raw_id),
        experienced=_choice_flag(data, "experienced"),
        active=_choice_flag(data, "active"),
        languages=langs or None,
        add_away=AwayPeriod(start, end) if start is not None and end is not None else None,
        clear_away=_choice_flag(data, "clear_away") is True,
    )
