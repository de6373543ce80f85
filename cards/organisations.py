"""The coordinators' card of the network's organisations, with a form for each."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from cards import verbs
from cards.base import (
    Card,
    Element,
    action_set,
    card,
    choice_set,
    date_input,
    execute,
    facts,
    heading,
    plain,
    problem,
    show_card,
    text,
    text_input,
    toggle,
)
from cards.i18n import Lang, format_date, label, t
from mediation import errors
from mediation.organisations import NAME_MAX, Organisation, OrganisationKind
from mediation.policy import within_years


def _line(lang: Lang, o: Organisation, today: date) -> str:
    kind = (
        label(lang, "organisation_kind", o.kind.value)
        if o.kind
        else t(lang, "organisations.kind_unset")
    )
    if o.agreement_start is None and o.agreement_end is None:
        period = t(lang, "organisations.no_agreement")
    else:
        start = format_date(lang, o.agreement_start) if o.agreement_start else "…"
        end = (
            format_date(lang, o.agreement_end)
            if o.agreement_end
            else t(lang, "organisations.open_ended")
        )
        period = t(lang, "organisations.period", start=start, end=end)
    hours = (
        t(lang, "organisations.hours_set", hours=o.yearly_hours)
        if o.yearly_hours is not None
        else t(lang, "organisations.hours_unset")
    )
    parts = [kind, period, hours]
    if not o.in_network(today):
        parts.append(t(lang, "organisation.out_of_network"))
    return " · ".join(parts)


def _typed(typed: Mapping[str, object] | None, key: str) -> str | None:
    value = typed.get(key) if typed else None
    return str(value) if value not in (None, "") else None


def _form(
    lang: Lang, organisations: Sequence[Organisation], typed: Mapping[str, object] | None
) -> list[Element]:
    """One form for all: which organisation, and what to change (empty fields stay)."""
    kinds = [(k.value, label(lang, "organisation_kind", k.value)) for k in OrganisationKind]
    return [
        choice_set(
            "organisation",
            t(lang, "field.organisation"),
            [(o.name, plain(o.name)) for o in organisations],
            style="filtered",
            value=_typed(typed, "organisation"),
            placeholder=t(lang, "organisations.choose"),
            required_message=t(lang, "problem.choose_organisation"),
        ),
        text(t(lang, "organisations.form_note"), subtle=True, size="Small"),
        choice_set(
            "kind",
            t(lang, "organisations.kind"),
            kinds,
            value=_typed(typed, "kind"),
            placeholder=t(lang, "form.no_change"),
        ),
        date_input(
            "agreement_start", t(lang, "organisations.from"), value=_typed(typed, "agreement_start")
        ),
        date_input(
            "agreement_end", t(lang, "organisations.until"), value=_typed(typed, "agreement_end")
        ),
        toggle(
            "clear_agreement",
            t(lang, "organisations.clear_agreement"),
            on=_typed(typed, "clear_agreement") == "true",
        ),
        text_input(
            "yearly_hours",
            t(lang, "organisations.hours"),
            value=_typed(typed, "yearly_hours"),
            placeholder=t(lang, "form.no_change"),
            max_length=6,
        ),
        toggle(
            "clear_hours",
            t(lang, "organisations.clear_hours"),
            on=_typed(typed, "clear_hours") == "true",
        ),
    ]


def organisations_card(
    organisations: Sequence[Organisation],
    lang: Lang,
    today: date,
    *,
    notice: str | None = None,
    refused: str | None = None,
    typed: Mapping[str, object] | None = None,
) -> Card:
    """Each organisation's kind, agreement period and yearly hours, and a form to change one.

    ``notice`` confirms the last change; ``refused`` says why it changed nothing, and the
    form is then open with what was typed (``typed``).
    """
    body: list[Element] = [
        heading(t(lang, "organisations.title")),
        text(t(lang, "organisations.intro"), subtle=True),
    ]
    if notice:
        body.insert(0, text(notice, weight="Bolder", color="Good"))
    if not organisations:
        body.append(text(t(lang, "organisations.empty")))
        return card(lang, body, [execute(t(lang, "overview.open"), verbs.BANK_OVERVIEW, {})])
    lines = facts((plain(o.name), _line(lang, o, today)) for o in organisations)
    save = execute(t(lang, "form.save"), verbs.ORGANISATION_UPDATE, {})
    title = t(lang, "organisations.edit")
    actions: list[Element] = []
    if refused is None:
        body.append(lines)
        actions.append(show_card(title, _form(lang, organisations, None), [save]))
    else:
        # After a refusal the open form comes first, where the coordinator was working.
        form = _form(lang, organisations, typed)
        body += [heading(title, separator=True), problem(refused), *form, action_set([save]), lines]
    actions.append(execute(t(lang, "overview.open"), verbs.BANK_OVERVIEW, {}))
    return card(lang, body, actions)


@dataclass(frozen=True)
class OrganisationUpdate:
    """An ``organisation.update`` form, typed for ``UpdateOrganisation``: None is no change."""

    name: str
    kind: OrganisationKind | None
    agreement_start: date | None
    agreement_end: date | None
    clear_agreement: bool
    yearly_hours: int | None
    clear_hours: bool


def _field(data: Mapping[str, object], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value).strip()


def _day(data: Mapping[str, object], key: str) -> date | None:
    value = _field(data, key)
    try:
        day = date.fromisoformat(value) if value else None
    except ValueError:
        raise errors.InvalidInput("agreement", "not a date", value=value) from None
    if day is not None and not within_years(day):
        raise errors.InvalidInput("agreement", "not a date", value=value)
    return day


def _flag(data: Mapping[str, object], key: str) -> bool:
    value = _field(data, key).lower()
    if value not in ("", "true", "false"):
        raise errors.InvalidInput(key, "not a yes/no value")
    return value == "true"


def read_organisation_update(data: Mapping[str, object]) -> OrganisationUpdate:
    """What the organisations' form sends; an empty field leaves its value as it is."""
    name = _field(data, "organisation")
    if not name or len(name) > NAME_MAX:
        raise errors.InvalidInput("organisation", "choose an organisation")
    kind_code = _field(data, "kind")
    try:
        kind = OrganisationKind(kind_code) if kind_code else None
    except ValueError:
        raise errors.InvalidInput("organisation_kind", "unknown choice") from None
    hours_text = _field(data, "yearly_hours")
    if hours_text and not (hours_text.isascii() and hours_text.isdigit() and len(hours_text) <= 6):
        raise errors.InvalidInput("yearly_hours", "not a number of hours")
    return OrganisationUpdate(
        name=name,
        kind=kind,
        agreement_start=_day(data, "agreement_start"),
        agreement_end=_day(data, "agreement_end"),
        clear_agreement=_flag(data, "clear_agreement"),
        yearly_hours=int(hours_text) if hours_text else None,
        clear_hours=_flag(data, "clear_hours"),
    )
