"""The channel sees no family: no name, contact, child's name or birth year leaves personal chat."""

from __future__ import annotations

import json
import typing
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest

from cards import (
    case_card,
    case_posted_card,
    details_card,
    my_cases_card,
    pair_complete_card,
    seat_released_card,
)
from cards.gallery import HOLDERS, ROSTER
from cards.i18n import LANGS, Lang, t
from mediation.intake import parse_intake
from mediation.model import Case, Child, Family
from mediation.policy import BankPolicy
from mediation.views import CaseDetails, CaseSummary, summarize

TODAY = date(2026, 3, 2)
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
POLICY = BankPolicy()

FORM: dict[str, object] = {
    "area": "Mäntsälä",
    "language": "sv",
    "interpreter": "false",
    "children": "2011, 2019",
    "topics": "residence,maintenance",
    "preferred_times": "tue_evening",
    "excluded_days": "mon,fri",
    "referral_source": "family_counselling",
    "safety_concern": "true",
    "parent1_name": "Ulla-Riikka Quirkström",
    "parent1_phone": "+358 44 987 6543",
    "parent1_email": "ulla.riikka@example.net",
    "parent2_name": "Tapio Zyskowski",
    "parent2_phone": "050 111 2233",
    "parent2_email": "tapio.zy@example.com",
}
CHILD_NAMES = ("Eeropekka", "Siirimaria")


def family_case(holders: tuple[int, ...]) -> tuple[CaseSummary, Family]:
    intake, family = parse_intake(FORM, TODAY)
    # The intake form has no children's first names yet; the model allows them.
    family = replace(
        family,
        children=tuple(
            Child(c.birth_year, n) for c, n in zip(family.children, CHILD_NAMES, strict=True)
        ),
    )
    case = Case.new("2026-017", intake, 3, NOW, POLICY)
    case.id = 17
    for n, holder in enumerate(holders, start=1):
        case.take_seat(n, holder, NOW)
    return summarize(case, HOLDERS, POLICY, TODAY), family


def personal_values(family: Family) -> list[str]:
    values: list[str] = []
    for parent in family.parents:
        values += [parent.name, parent.phone, parent.email, *parent.name.split()]
        values.append(parent.phone.replace(" ", ""))
        values.append(parent.email.split("@")[0])
    for child in family.children:
        values += [child.first_name, str(child.birth_year)]
    return [v for v in values if v]


def serialized(card: dict[str, Any]) -> str:
    return json.dumps(card, ensure_ascii=False).casefold()


def anonymous_cards(summary: CaseSummary, lang: Lang) -> dict[str, dict[str, Any]]:
    return {
        "case_card": case_card(summary, lang, mediators=ROSTER),
        "case_card.notice": case_card(
            summary, lang, notice=t(lang, "notice.claimed", seat=1, code=summary.code)
        ),
        "my_cases_card": my_cases_card([summary], lang),
        "pair_complete_card": pair_complete_card(summary, lang),
        "seat_released_card": seat_released_card(summary, "Aino Virtanen", "withdraw", lang),
        "case_posted_card": case_posted_card(summary, lang),
    }


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("holders", [(), (2,), (1, 2)])
def test_no_personal_value_reaches_an_anonymous_card(lang: Lang, holders: tuple[int, ...]) -> None:
    summary, family = family_case(holders)
    secrets = personal_values(family)
    assert len(secrets) >= 16
    for name, card in anonymous_cards(summary, lang).items():
        text = serialized(card)
        leaked = [s for s in secrets if s.casefold() in text]
        assert leaked == [], name


@pytest.mark.parametrize("lang", LANGS)
def test_the_details_card_shows_the_family_to_the_pair(lang: Lang) -> None:
    summary, family = family_case((1, 2))
    card = details_card(CaseDetails(summary, family, "family_counselling", True, 5), lang)
    text = serialized(card)
    for parent in family.parents:
        assert parent.name.casefold() in text
        assert parent.phone.casefold() in text
        assert parent.email.casefold() in text
    for child in family.children:
        assert child.first_name.casefold() in text and str(child.birth_year) in text
    assert t(lang, "details.logged").casefold() in text
    assert t(lang, "details.safety_title").casefold() in text


def test_the_anonymous_view_has_no_field_that_could_hold_the_family() -> None:
    names = {f.name for f in fields(CaseSummary)}
    assert names.isdisjoint(
        {"family", "parents", "children_names", "referral_source", "safety_concern"}
    )


@pytest.mark.parametrize(
    "builder",
    [case_card, my_cases_card, pair_complete_card, seat_released_card, case_posted_card],
)
def test_the_anonymous_cards_accept_only_the_summary(builder: Any) -> None:
    hints = typing.get_type_hints(builder)
    accepted = {v for k, v in hints.items() if k != "return"}
    assert not any(h in (CaseDetails, Family) for h in accepted)
    assert CaseSummary in accepted or Sequence[CaseSummary] in accepted


def test_the_safety_concern_stays_off_the_channel_card() -> None:
    summary, _ = family_case(())
    for lang in LANGS:
        text = serialized(case_card(summary, lang, mediators=ROSTER))
        assert t(lang, "details.safety_title").casefold() not in text
        assert t(lang, "referral.family_counselling").casefold() not in text


def test_the_excluded_days_are_for_the_pair_not_the_channel() -> None:
    summary, family = family_case((1, 2))
    intake, _ = parse_intake(FORM, TODAY)
    details = CaseDetails(summary, family, "family_counselling", True, 5, intake.excluded_days)
    for lang in LANGS:
        line = {
            f["title"]: f["value"]
            for block in details_card(details, lang)["body"]
            if block["type"] == "FactSet"
            for f in block["facts"]
        }
        days = f"{t(lang, 'weekday.mon')}, {t(lang, 'weekday.fri')}"
        assert line[t(lang, "field.excluded_days")] == days
        for card in anonymous_cards(summary, lang).values():
            assert t(lang, "field.excluded_days").casefold() not in serialized(card)
