"""The intake form: a coordinator registers a family; re-shown with problems under fields."""

from __future__ import annotations

from collections.abc import Mapping

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


def intake_form(
    lang: Lang,
    values: Mapping[str, object] | None = None,
    problems: Mapping[str, str] | None = None,
) -> Card:
    """The intake form; ``values`` pre-fills it and ``problems`` (field -> message) marks fields."""
    values = values or {}
    problems = problems or {}
    shown: set[str] = set()

    def under(*fields: str) -> list[Element]:
        found = [f for f in fields if f in problems and f not in shown]
        shown.update(found)
        return [problem(problems[f]) for f in found]

    def parent(n: int) -> list[Element]:
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
            *under(f"{p}_name", p),
            text_input(
                f"{p}_phone",
                t(lang, "intake.phone"),
                value=_value(values, f"{p}_phone"),
                style="tel",
                placeholder=t(lang, "intake.phone_placeholder"),
                regex=_PHONE,
                error_message=t(lang, "problem.not_phone"),
            ),
            *under(f"{p}_phone"),
            text_input(
                f"{p}_email",
                t(lang, "intake.email"),
                value=_value(values, f"{p}_email"),
                style="email",
                regex=_EMAIL,
                error_message=t(lang, "problem.not_email"),
            ),
            *under(f"{p}_email"),
        ]

    fields: list[Element] = [
        text_input(
            "area",
            t(lang, "field.area"),
            value=_value(values, "area"),
            placeholder=t(lang, "intake.area_placeholder"),
            max_length=MAX_TEXT,
            required_message=t(lang, "intake.area_required"),
        ),
        *under("area"),
        choice_set(
            "language",
            t(lang, "field.language"),
            [(code, label(lang, "language", code)) for code in LANGUAGES],
            value=_value(values, "language"),
            placeholder=t(lang, "intake.choose"),
            required_message=t(lang, "problem.choose_language"),
        ),
        *under("language"),
        toggle("interpreter", t(lang, "field.interpreter"), on=_flag(values, "interpreter")),
        *under("interpreter"),
        text_input(
            "children",
            t(lang, "field.children"),
            value=_value(values, "children"),
            placeholder="2017, 2020",
            max_length=100,
            regex=_YEARS,
            required_message=t(lang, "intake.children_required"),
        ),
        *under("children"),
        choice_set(
            "topics",
            t(lang, "field.topics"),
            [(code, label(lang, "topic", code)) for code in TOPICS],
            multi=True,
            style="expanded",
            value=_value(values, "topics"),
            required_message=t(lang, "problem.choose_topic"),
        ),
        *under("topics"),
        choice_set(
            "preferred_times",
            t(lang, "field.preferred_times"),
            [(code, time_label(lang, code)) for code in PREFERRED_TIMES],
            multi=True,
            value=_value(values, "preferred_times"),
            placeholder=t(lang, "intake.times_placeholder"),
        ),
        *under("preferred_times"),
        choice_set(
            "excluded_days",
            t(lang, "field.excluded_days"),
            [(code, t(lang, f"weekday.{code}")) for code in WEEKDAYS],
            multi=True,
            value=_value(values, "excluded_days"),
        ),
        text(t(lang, "intake.excluded_days_note"), subtle=True, size="Small", spacing="None"),
        *under("excluded_days"),
        choice_set(
            "referral_source",
            t(lang, "field.referral_source"),
            [(code, label(lang, "referral", code)) for code in REFERRAL_SOURCES],
            value=_value(values, "referral_source"),
            placeholder=t(lang, "intake.choose"),
            required_message=t(lang, "problem.choose_referral"),
        ),
        *under("referral_source"),
        toggle(
            "safety_concern", t(lang, "field.safety_concern"), on=_flag(values, "safety_concern")
        ),
        text(t(lang, "intake.safety_note"), subtle=True, size="Small", spacing="None"),
        *under("safety_concern"),
        *parent(1),
        *parent(2),
        text(t(lang, "intake.contact_note"), subtle=True, size="Small"),
    ]
    # Problems about fields that have no input here (an unexpected key, say) go on top.
    others = [problem(msg) for key, msg in problems.items() if key not in shown]
    body: list[Element] = [
        heading(t(lang, "intake.title")),
        text(t(lang, "intake.privacy"), subtle=True),
        *others,
        *fields,
    ]
    return card(lang, body, [execute(t(lang, "intake.submit"), verbs.CASE_CREATE, {})])
