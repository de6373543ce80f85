"""Cards whose lists grow with the bank stay within one Teams message (about 28 KB).

A list that does not fit shows as many entries as do, and says how many it left out.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest

from cards import gallery
from cards.booking import cases_to_book_card
from cards.i18n import LANGS, Lang, t
from cards.overview import bank_overview_card
from cards.reminders import open_cases_card
from mediation.calendar import CaseToBook
from mediation.overview import AwayHolder, BankOverview
from mediation.sharing import Roster
from mediation.stats import MediatorFigures
from tests.card_schema import schema_problems

LONG = "Kaarina-Maria Väisänen-Lindqvist"


def _more(card: dict[str, object], lang: Lang, n: int) -> bool:
    return t(lang, "list.more", n=n) in json.dumps(card, ensure_ascii=False)


def _left_out(card: dict[str, object], lang: Lang, total: int) -> int:
    """How many entries the card says it left out (0: none)."""
    for n in range(1, total + 1):
        if _more(card, lang, n):
            return n
    return 0


@pytest.mark.parametrize("lang", LANGS)
def test_a_long_list_of_open_cases_fits_one_message(lang: Lang) -> None:
    paired = gallery.summary(gallery.sample_case(4, (1,)))
    few = open_cases_card([paired] * 5, lang)
    assert not schema_problems(few) and _left_out(few, lang, 5) == 0
    many = open_cases_card(
        [dataclasses.replace(paired, case_id=n, code=f"2026-{n:03}") for n in range(1, 501)], lang
    )
    assert not schema_problems(many)
    left = _left_out(many, lang, 500)
    assert 0 < left < 500
    assert "2026-001" in json.dumps(many)  # the first ones are shown


@pytest.mark.parametrize("lang", LANGS)
def test_a_long_list_of_cases_to_book_fits_one_message(lang: Lang) -> None:
    cases = [CaseToBook(n, f"2026-{n:03}", "sv", True, (1, 2)) for n in range(1, 501)]
    card = cases_to_book_card(cases, lang)
    assert not schema_problems(card)
    assert 0 < _left_out(card, lang, 500) < 500


@pytest.mark.parametrize("lang", LANGS)
def test_a_large_bank_with_many_away_fits_one_message(lang: Lang) -> None:
    summary = gallery.summary(gallery.sample_case(4, (1, 2)))
    mediators = tuple(
        MediatorFigures(n, f"{LONG} {n}", "Keski-Uusimaa", {"spring": n % 3}, 4, {"spring": 2}, 0)
        for n in range(1, 201)
    )
    roster = Roster(tuple((n, f"{LONG} {n}") for n in range(100, 135)), term_quota=2)
    away = tuple(
        AwayHolder(dataclasses.replace(summary, case_id=n), 1, f"{LONG} {n}", date(2026, 3, 15))
        for n in range(1, 11)
    )
    view = BankOverview(2026, summary.term, mediators, (), (), away)
    card = bank_overview_card(view, lang, roster)
    assert not schema_problems(card)
    shown = json.dumps(card, ensure_ascii=False)
    assert 0 < _left_out(card, lang, 200) < 200  # the least loaded mediators come first
    assert t(lang, "overview.reassign_on_card") in shown
    forms = [a for a in card["actions"] if a["type"] == "Action.ShowCard"]  # type: ignore[index]
    assert 0 < len(forms) < 10
    # Ten away holders each have their line, with or without a form here.
    assert all(f"{LONG} {n}" in shown for n in range(1, 11))


def test_a_card_too_large_for_a_message_has_its_longest_texts_cut_until_it_fits() -> None:
    from cards.base import MESSAGE_BYTES, card, fit_message, message_bytes, text, text_input

    small = card("fi", [text("Hei")])
    assert fit_message(small) is small  # what fits is sent as it was made
    typed = ["ä" * 1000, "😀" * 1000, "\x01" * 1000, "x" * 1000]
    big = card(
        "fi",
        [text("Suunnitelma")]
        + [text_input(f"f{n}", "kenttä", value=v) for n, v in enumerate(typed * 4)]
        + [text("y" * 50)],
    )
    assert message_bytes(big) > MESSAGE_BYTES
    fitted_card = fit_message(big)
    assert message_bytes(fitted_card) <= MESSAGE_BYTES
    assert not schema_problems(fitted_card)
    values = [e["value"] for e in fitted_card["body"] if "value" in e]
    assert all(v.endswith("…") for v in values if len(v) > 200)
    assert fitted_card["body"][0]["text"] == "Suunnitelma"  # short texts are never cut
    assert message_bytes(big) > MESSAGE_BYTES  # the card made is left as it was
