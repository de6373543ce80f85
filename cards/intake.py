"""The intake form: a coordinator registers a family; re-shown with problems under fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cards import verbs
from cards.base import (
    Card,
    Element,
    card,
    choice_set,
    execute,
    heading,
    problem,
    text,
    text_input,
    toggle,
)
from cards.i18n import Lang, label, t, time_label
from mediation.intake import MAX_TEXT
from mediation.model import LANGUAGES, PREFERRED_TIMES, REFERRAL_SOURCES, TOPICS, WEEKDAYS
from mediation.policy import DEFAULT_AREAS

# Client-side hints only; mediation.intake decides. Kept loose so they never refuse more.
_PHONE = r"^\+?[0-9 ()\-]{6,20}$"
_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]{2,}$"
_YEARS = r"^[0-9 ,;]+$"

FIELDS = (
    "area",
    "language",
    "interpreter",
    "children",
    "topics",
    "preferred_times",
    "excluded_days",
    "referral_source",
    "safety_concern",
    "parent1_name",
    "parent1_phone",
    "parent1_email",
    "parent2_name",
    "parent2_phone",
    "parent2_email",
)


def _value(values: Mapping[str, object], key: str) -> str | None:
    value = values.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple | set | frozenset):
        return ",".join(str(v) for v in value)
    return str(value)


def _flag(values: Mapping[str, object], key: str) -> bool:
    return (_value(values, key) or "").lower() in ("true", "1", "yes", "on")


class _Problems:
    """Each problem goes under the first input it is about, and only once."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        self.problems = problems
        self.shown: set[str] = set()

    def under(self, *fields: str) -> list[Element]:
        found = [f for f in fields if f in self.problems and f not in self.shown]
        self.shown.update(found)
        return [problem(self.problems[f]) for f in found]

    def elsewhere(self) -> list[Element]:
        """Problems about fields that have no input here (an unexpected key, say)."""
        return [problem(msg) for key, msg in self.problems.items() if key not in self.shown]


def _case_fields(
    lang: Lang, values: Mapping[str, object], problems: _Problems, areas: Sequence[str]
) -> list[Element]:
    """The family's situation: what the anonymous card shows, the referral, any safety concern."""
    return [
        choice_set(
            "area",
            t(lang, "field.area"),
            [(a, a) for a in areas],
            value=_value(values, "area") if _value(values, "area") in areas else None,
            placeholder=t(lang, "intake.area_placeholder"),
            required_message=t(lang, "intake.area_required"),
        ),
        *problems.under("area"),
        choice_set(
            "language",
            t(lang, "field.language"),
            [(code, label(lang, "language", code)) for code in LANGUAGES],
            value=_value(values, "language"),
            placeholder=t(lang, "intake.choose"),
            required_message=t(lang, "problem.choose_language"),
        ),
        *problems.under("language"),
        toggle("interpreter", t(lang, "field.interpreter"), on=_flag(values, "interpreter")),
        *problems.under("interpreter"),
        text_input(
            "children",
            t(lang, "field.children"),
            value=_value(values, "children"),
            placeholder="2017, 2020",
            max_length=100,
            regex=_YEARS,
            required_message=t(lang, "intake.children_required"),
        ),
        *problems.under("children"),
        choice_set(
            "topics",
            t(lang, "field.topics"),
            [(code, label(lang, "topic", code)) for code in TOPICS],
            multi=True,
            style="expanded",
            value=_value(values, "topics"),
            required_message=t(lang, "problem.choose_topic"),
        ),
        *problems.under("topics"),
        choice_set(
            "preferred_times",
            t(lang, "field.preferred_times"),
            [(code, time_label(lang, code)) for code in PREFERRED_TIMES],
            multi=True,
            value=_value(values, "preferred_times"),
            placeholder=t(lang, "intake.times_placeholder"),
        ),
        *problems.under("preferred_times"),
        choice_set(
            "excluded_days",
            t(lang, "field.excluded_days"),
            [(code, t(lang, f"weekday.{code}")) for code in WEEKDAYS],
            multi=True,
            value=_value(values, "excluded_days"),
        ),
        text(t(lang, "intake.excluded_days_note"), subtle=True, size="Small", spacing="None"),
        *problems.under("excluded_days"),
        choice_set(
            "referral_source",
            t(lang, "field.referral_source"),
            [(code, label(lang, "referral", code)) for code in REFERRAL_SOURCES],
            value=_value(values, "referral_source"),
            placeholder=t(lang, "intake.choose"),
            required_message=t(lang, "problem.choose_referral"),
        ),
        *problems.under("referral_source"),
        toggle(
            "safety_concern", t(lang, "field.safety_concern"), on=_flag(values, "safety_concern")
        ),
        text(t(lang, "intake.safety_note"), subtle=True, size="Small", spacing="None"),
        *problems.under("safety_concern"),
    ]


def _parent_fields(
    lang: Lang, n: int, values: Mapping[str, object], problems: _Problems
) -> list[Element]:
    """One parent's name and contacts."""
    p = f"parent{n}"
    return [
        text(t(lang, "intake.parent", n=n), weight="Bolder", separator=True),
        text_input(
            f"{p}_name",
            t(lang, "intake.name"),
            value=_value(values, f"{p}_name"),
            max_length=MAX_TEXT,
            required_message=t(lang, "intake.name_required"),
        ),
        *problems.under(f"{p}_name", p),
        text_input(
            f"{p}_phone",
            t(lang, "intake.phone"),
            value=_value(values, f"{p}_phone"),
            style="tel",
            placeholder=t(lang, "intake.phone_placeholder"),
            regex=_PHONE,
            error_message=t(lang, "problem.not_phone"),
        ),
        *problems.under(f"{p}_phone"),
        text_input(
            f"{p}_email",
            t(lang, "intake.email"),
            value=_value(values, f"{p}_email"),
            style="email",
            regex=_EMAIL,
            error_message=t(lang, "problem.not_email"),
        ),
        *problems.under(f"{p}_email"),
    ]


def intake_form(
    lang: Lang,
    values: Mapping[str, object] | None = None,
    problems: Mapping[str, str] | None = None,
    *,
    areas: Sequence[str] = DEFAULT_AREAS,
) -> Card:
    """The intake form; ``values`` pre-fills it and ``problems`` (field -> message) marks fields.

    ``areas`` are the bank's municipalities and districts, the only choices for the area.
    """
    values = values or {}
    notes = _Problems(problems or {})
    fields: list[Element] = [
        *_case_fields(lang, values, notes, areas),
        *_parent_fields(lang, 1, values, notes),
        *_parent_fields(lang, 2, values, notes),
        text(t(lang, "intake.contact_note"), subtle=True, size="Small"),
    ]
    # Problems left over go on top, since no input of the form is theirs.
    body: list[Element] = [
        heading(t(lang, "intake.title")),
        text(t(lang, "intake.privacy"), subtle=True),
        *notes.elsewhere(),
        *fields,
    ]
    return card(lang, body, [execute(t(lang, "intake.submit"), verbs.CASE_CREATE, {})])
