"""The intake form: what makes a family's registration complete and well-formed.

Input arrives as the text a coordinator typed; the result is the anonymous
:class:`Intake` and the identifying :class:`Family`, kept apart from the start.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date

from mediation import errors
from mediation.model import (
    LANGUAGES,
    PREFERRED_TIMES,
    REFERRAL_SOURCES,
    TOPICS,
    WEEKDAYS,
    Child,
    Family,
    Intake,
    Parent,
)
from mediation.policy import DEFAULT_AREAS

MAX_TEXT = 200
_PHONE = re.compile(r"^\+?[0-9 ()\-]{6,20}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
# A Finnish personal identity code (henkilötunnus): never stored, so refused on sight.
_IDENTITY_CODE = re.compile(r"\b\d{6}[-+A-FU-Y]\d{3}[0-9A-Y]\b", re.IGNORECASE)
# Control characters (NUL, tab, line breaks...), lone surrogates and line or paragraph
# separators: no field of the form holds them, and a database may refuse to store them.
_UNSAVEABLE = frozenset({"Cc", "Cs", "Zl", "Zp"})
# Bidirectional embeddings, overrides and isolates: nobody types them, and one reorders
# what the card shows after it ("\u202egnp.exe" reads as "exe.png").
_BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def has_control_characters(text: str) -> bool:
    """Whether a typed text holds a character no form field takes (see _UNSAVEABLE)."""
    if text.isprintable():
        return False
    return any(unicodedata.category(c) in _UNSAVEABLE or c in _BIDI_CONTROLS for c in text)


def holds_identity_code(text: str) -> bool:
    """Whether a typed text holds what looks like a Finnish personal identity code."""
    return _IDENTITY_CODE.search(text) is not None


def _text(raw: Mapping[str, object], key: str) -> str:
    value = raw.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str | int | float | bool):
        raise errors.InvalidInput(key, "not text")
    return str(value).strip()


def _flag(raw: Mapping[str, object], key: str) -> bool:
    value = raw.get(key, False)
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise errors.InvalidInput(key, "not a yes/no value")


def _choices(raw: Mapping[str, object], key: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    # Teams sends a multi-select as one comma-separated string.
    text = _text(raw, key)
    values = tuple(dict.fromkeys(v.strip() for v in text.split(",") if v.strip()))
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise errors.InvalidInput(key, "unknown choice", value=unknown[0])
    return values


def parse_birth_years(text: str, today: date) -> tuple[int, ...]:
    """'2017, 2020' -> (2017, 2020); children are under 18 and already born.

    Only the year is asked: a child born in the year 18 years back is still 17 until their
    birthday this year, so that year is a child's too.
    """
    parts = [p.strip() for p in re.split(r"[,;\s]+", text) if p.strip()]
    if not parts:
        raise errors.InvalidInput("children", "at least one child's birth year is needed")
    years: list[int] = []
    for part in parts:
        if not (part.isascii() and part.isdigit()) or len(part) != 4:
            raise errors.InvalidInput("children", "birth years are four digits", value=part)
        year = int(part)
        if not today.year - 18 <= year <= today.year:
            raise errors.InvalidInput(
                "children",
                f"{year} is not the birth year of a child under 18",
                value=part,
            )
        years.append(year)
    if len(years) > 12:
        raise errors.InvalidInput("children", "too many children for one form")
    return tuple(sorted(years))


def _parent(
    raw: Mapping[str, object],
    n: int,
    area: str,
    language: str,
    problems: dict[str, errors.InvalidInput],
) -> Parent | None:
    """One parent's fields; each field's problem is added to ``problems``, all at once."""
    name = _text(raw, f"parent{n}_name")
    phone = _text(raw, f"parent{n}_phone")
    email = _text(raw, f"parent{n}_email")
    found: dict[str, errors.InvalidInput] = {}
    if not name:
        found[f"parent{n}_name"] = errors.InvalidInput(f"parent{n}_name", "required")
    if phone and not _PHONE.match(phone):
        found[f"parent{n}_phone"] = errors.InvalidInput(f"parent{n}_phone", "not a phone number")
    if email and not _EMAIL.match(email):
        found[f"parent{n}_email"] = errors.InvalidInput(f"parent{n}_email", "not an e-mail address")
    if not phone and not email:
        found[f"parent{n}_phone"] = errors.InvalidInput(
            f"parent{n}_phone", "a phone number or an e-mail is needed"
        )
    for key, exc in found.items():
        problems.setdefault(key, exc)
    if found:
        return None
    return Parent(name=name, phone=phone, email=email, municipality=area, language=language)


_EMAIL_IN_TEXT = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]{2,}")
_PHONE_IN_TEXT = re.compile(r"\+?\d[\d ()\-]{5,}\d")
# A capitalised word after a lower-case one: within a sentence, most likely a name.
_NAME_IN_SENTENCE = re.compile(r"\b[a-zåäö][\w-]*,? +[A-ZÅÄÖ][a-zåäö]")


def may_identify(text: str, places: Sequence[str] = DEFAULT_AREAS) -> bool:
    """Free text that may identify someone: an identity code, an e-mail or a phone number
    (the intake's checks), one of the bank's places, or a name inside a sentence."""
    if _IDENTITY_CODE.search(text) or _EMAIL_IN_TEXT.search(text) or _PHONE_IN_TEXT.search(text):
        return True
    folded = text.casefold()
    if any(place.split(" – ")[-1].casefold() in folded for place in places):
        return True
    return bool(_NAME_IN_SENTENCE.search(text))


def area_is_listed(area: str, areas: Sequence[str]) -> bool:
    """The intake's area is one of the bank's own municipalities and districts."""
    return area in areas


def parse_intake(
    raw: Mapping[str, object], today: date, areas: Sequence[str] = DEFAULT_AREAS
) -> tuple[Intake, Family]:
    """Validate a whole intake form; every problem is reported at once, by field."""
    problems: dict[str, errors.InvalidInput] = {}

    def field(key: str, fn):  # type: ignore[no-untyped-def]
        try:
            return fn()
        except errors.InvalidInput as exc:
            problems.setdefault(exc.params.get("field", key), exc)
            return None

    for key, value in raw.items():
        if isinstance(value, str) and len(value) > MAX_TEXT * 5:
            problems[key] = errors.InvalidInput(key, "too long")
        elif isinstance(value, str) and has_control_characters(value.strip()):
            problems[key] = errors.InvalidInput(key, "a character that cannot be saved")
        elif isinstance(value, str) and _IDENTITY_CODE.search(value):
            problems[key] = errors.InvalidInput(key, "identity codes are not stored")
    # The other fields are checked too: one submit shows every problem of the form.

    def area() -> str:
        text = _text(raw, "area")
        if not text:
            raise errors.InvalidInput("area", "required")
        if not area_is_listed(text, areas):
            # The area is shown on the anonymous card in the bank channel: only a choice
            # from the bank's list keeps a name or a street typed there off it.
            raise errors.InvalidInput("area", "choose from the list")
        return text

    def language() -> str:
        text = _text(raw, "language")
        if text not in LANGUAGES:
            raise errors.InvalidInput("language", "choose a language")
        return text

    area_v = field("area", area)
    language_v = field("language", language)
    interpreter_v = field("interpreter", lambda: _flag(raw, "interpreter"))
    safety_v = field("safety_concern", lambda: _flag(raw, "safety_concern"))
    if language_v == "other" and interpreter_v is False:
        problems["interpreter"] = errors.InvalidInput(
            "interpreter", "a family in another language needs an interpreter"
        )
    children_v = field("children", lambda: parse_birth_years(_text(raw, "children"), today))

    def topics() -> tuple[str, ...]:
        values = _choices(raw, "topics", TOPICS)
        if not values:
            raise errors.InvalidInput("topics", "choose at least one topic")
        return values

    topics_v = field("topics", topics)
    times_v = field("preferred_times", lambda: _choices(raw, "preferred_times", PREFERRED_TIMES))

    def excluded_days() -> tuple[str, ...]:
        values = _choices(raw, "excluded_days", WEEKDAYS)
        if set(WEEKDAYS) <= set(values):
            # No weekday left: no meeting could ever be proposed, and saying only "no free
            # time" later would hide why.
            raise errors.InvalidInput("excluded_days", "leave at least one weekday")
        return values

    excluded_v = field("excluded_days", excluded_days)

    def referral() -> str:
        text = _text(raw, "referral_source")
        if text not in REFERRAL_SOURCES:
            raise errors.InvalidInput("referral_source", "choose how the family came")
        return text

    referral_v = field("referral_source", referral)
    parents = [_parent(raw, n, area_v or "", language_v or "", problems) for n in (1, 2)]
    for key in ("parent1_name", "parent2_name"):
        if len(_text(raw, key)) > MAX_TEXT:
            problems[key] = errors.InvalidInput(key, "too long")
    if problems:
        raise errors.InvalidForm(problems)
    intake = Intake(
        area=area_v,
        language=language_v,
        interpreter=bool(interpreter_v),
        child_birth_years=children_v,
        topics=topics_v,
        preferred_times=times_v or (),
        referral_source=referral_v,
        safety_concern=bool(safety_v),
        excluded_days=excluded_v or (),
    )
    family = Family(
        parents=tuple(p for p in parents if p is not None),
        children=tuple(Child(birth_year=y) for y in children_v),
    )
    return intake, family
