"""Typed text is shown plain: no link, emphasis, heading, list or mention a person typed
reaches a card as Markdown, while the catalogs' own Markdown stays."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from cards import gallery
from cards.base import plain
from cards.case import details_card, my_cases_card, pair_complete_card, seat_released_card
from cards.family_templates import TemplateView, templates_card
from cards.i18n import LANGS, Lang, error_text
from cards.mediators import registry_card
from cards.messages import setup_done_card
from cards.overview import bank_overview_card
from cards.reminders import ReminderReport, TroubleLine, report_card
from cards.requests import RequestView, queue_card, request_card
from cards.stats import written_feedback_card
from mediation import errors
from mediation.family_mail import FamilyMessage, Template
from mediation.model import Child, Family, Parent
from mediation.organisations import OrganisationHours
from mediation.outbox import MessageKind, OutboxStatus
from mediation.overview import AwayHolder, BankOverview
from mediation.requests import RequestStatus
from mediation.sharing import Roster
from mediation.stats import WrittenLine
from mediation.views import CaseDetails
from tests.unit.request_samples import sample

HOSTILE = (
    "[Open the secure case file](https://evil.example/login) **URGENT** __big__ _it_ "
    "~~gone~~ `code` <at>Sopu</at> <b>x</b>"
)
HOSTILE_LINES = "# Heading\n- item\n+ item\n1. first\n> quote\n---"
# What of the hostile text must not survive anywhere a card shows text (the catalogs' own
# Markdown, such as a bold name in the registry, may stand around it).
MARKUP = (
    re.compile(r"\[[^\]]*\]\("),  # a link
    re.compile(r"\*\*URGENT|__big|_it_|~~gone|`code"),  # emphasis, strike, code
    re.compile(r"<(at|b|/)"),  # a mention or a tag
    re.compile(r"(?m)^[ \t]*(# Heading|- item|\+ item|1\. first|> quote|---)"),
)


def shown_texts(element: Any) -> Iterator[str]:
    """Every string a card shows as (Markdown) text: blocks, runs, facts, choices, titles."""
    if isinstance(element, dict):
        kind = element.get("type")
        if kind in ("TextBlock", "TextRun") and isinstance(element.get("text"), str):
            yield element["text"]
        if "facts" in element:
            for fact in element["facts"]:
                yield fact["title"]
                yield fact["value"]
        if kind == "Input.ChoiceSet":
            for choice in element.get("choices", []):
                yield choice["title"]
        for key, value in element.items():
            if key not in ("data", "value", "facts", "choices"):
                yield from shown_texts(value)
    elif isinstance(element, list):
        for item in element:
            yield from shown_texts(item)


def assert_plain(card: dict[str, Any]) -> None:
    for shown in shown_texts(card):
        if "Open the secure case file" in shown or "evil" in shown:
            for pattern in MARKUP[:3]:
                assert not pattern.search(shown), (pattern.pattern, shown)
        if "Heading" in shown:
            assert not MARKUP[3].search(shown), shown


def hostile_name(n: int) -> str:
    return f"{HOSTILE} {n}"


# -- the function -----------------------------------------------------------------------------


def test_a_link_stays_readable_but_is_no_link() -> None:
    shown = plain("[Open the secure case file](https://evil.example/login)")
    assert not MARKUP[0].search(shown)
    assert shown.replace("\u200d", "") == "[Open the secure case file](https://evil.example/login)"


@pytest.mark.parametrize(
    ("typed", "shown"),
    [
        ("**URGENT**", "∗∗URGENT∗∗"),
        ("_it_", "＿it＿"),
        ("~~gone~~", "∼∼gone∼∼"),
        ("`code`", "ˋcodeˋ"),
        ("<at>Sopu</at>", "‹at>Sopu‹/at>"),
        ("x*y* a__b__", "x∗y∗ a＿＿b＿＿"),
        ("# Heading", "＃ Heading"),
        ("- item\n+ item", "‑ item\n＋ item"),
        ("1. first\n2) second", "1․ first\n2） second"),
        ("> quote\nText\n---", "› quote\nText\n‑--"),
    ],
)
def test_markup_characters_become_look_alikes(typed: str, shown: str) -> None:
    assert plain(typed) == shown


@pytest.mark.parametrize(
    "typed",
    [
        "Maija Meikäläinen",
        "Anna-Liisa O'Neill",
        "first_last@example.fi",
        "+358 40 123 4567",
        "040 123 4567",
        "3 < 4 and 5 > 2",
        "Kalle - Kaisa 2 - 1",
        "Väinö Ääkkönen-Öster",
    ],
)
def test_ordinary_text_is_left_as_it_was_typed(typed: str) -> None:
    assert plain(typed) == typed


# -- every card that shows typed text -------------------------------------------------------


def _hostile_gallery(monkeypatch: pytest.MonkeyPatch) -> None:
    mediators = tuple(
        dataclasses.replace(m, name=hostile_name(m.id or 0), employer=HOSTILE)
        for m in gallery.MEDIATORS
    )
    monkeypatch.setattr(gallery, "MEDIATORS", mediators)
    monkeypatch.setattr(gallery, "HOLDERS", {m.id: m for m in mediators if m.id is not None})
    roster = gallery.ROSTER
    monkeypatch.setattr(
        gallery,
        "ROSTER",
        Roster(
            tuple((i, hostile_name(i)) for i, _ in roster.names),
            roster.term_quota,
            roster.term_packages,
            roster.pairs,
        ),
    )
    monkeypatch.setattr(
        gallery,
        "FAMILY",
        Family(
            parents=(
                Parent(HOSTILE + "\n" + HOSTILE_LINES, "040 000 0001", "a_b@x.fi", "Tuusula", "fi"),
                Parent(HOSTILE, "", HOSTILE, "Tuusula", "fi"),
            ),
            children=(Child(2013, HOSTILE), Child(2019)),
        ),
    )


@pytest.mark.parametrize("lang", LANGS)
def test_no_card_of_the_golden_set_shows_typed_markup(
    lang: Lang, monkeypatch: pytest.MonkeyPatch
) -> None:
    _hostile_gallery(monkeypatch)
    rendered = gallery.sample_cards(lang)
    assert {name.split(".")[0] for name in rendered} == set(gallery.ALL_BUILDERS)
    for name, card in rendered.items():
        assert_plain(card)
        if name in ("details_card", "registry_card", "pair_complete_card", "case_card.paired"):
            # The hostile text is there, readable, not dropped.
            assert "Open the secure case file" in json.dumps(card, ensure_ascii=False), name


@pytest.mark.parametrize("lang", LANGS)
def test_the_other_cards_that_show_typed_text(lang: Lang, monkeypatch: pytest.MonkeyPatch) -> None:
    _hostile_gallery(monkeypatch)
    paired = gallery.summary(gallery.sample_case(4, (1, 2)))
    zone = ZoneInfo("Europe/Helsinki")
    hostile_request = sample(
        parent_name=HOSTILE, email="a_b@example.fi", status=RequestStatus.TAKEN, taken_by=2
    )
    view = RequestView(hostile_request, {2: hostile_name(2)}, zone, 3)
    away = AwayHolder(paired, 2, hostile_name(2), date(2026, 3, 15))
    overview = BankOverview(
        year=2026,
        term=paired.term,
        mediators=(),
        organisations=(OrganisationHours(HOSTILE, None, 1, 2, 1.5, 60, False, True),),
        without_case=(hostile_name(1),),
        away_holders=(away,),
    )
    trouble = TroubleLine(
        1, MessageKind.CONTACT_REQUEST, hostile_name(3), date(2026, 3, 2), OutboxStatus.FAILED
    )
    cards = {
        "request_card": request_card(view, lang),
        "queue_card": queue_card([view], lang, 2026),
        "written_feedback_card": written_feedback_card(
            lang,
            2026,
            [WrittenLine("spring", "parent_good", HOSTILE + "\n" + HOSTILE_LINES, False)],
        ),
        "details_card": details_card(
            CaseDetails(paired, gallery.FAMILY, "self", False, 5, ()), lang, coordinator=True
        ),
        "pair_complete_card": pair_complete_card(paired, lang),
        "seat_released_card": seat_released_card(paired, hostile_name(9), "withdraw", lang),
        "setup_done_card": setup_done_card(lang, HOSTILE),
        "registry_card": registry_card(gallery.MEDIATORS, lang, gallery.POLICY, gallery.TODAY),
        "overview": bank_overview_card(overview, lang, gallery.ROSTER),
        "report_card": report_card(ReminderReport(7, True, (), (trouble,)), lang),
        "templates_card": templates_card(
            [TemplateView(m, Template(HOSTILE, "{when}"), True) for m in FamilyMessage],
            "fi",
            lang,
        ),
    }
    for name, card in cards.items():
        assert_plain(card)
        assert "Open the secure case file" in json.dumps(card, ensure_ascii=False), name
    assert "a_b@example.fi" in json.dumps(cards["request_card"]), "an address stays copyable"
    for refusal in (
        error_text(lang, errors.SameMediatorTwice(hostile_name(2))),
        error_text(lang, errors.MediatorAway(hostile_name(2), "2026-03-15")),
        error_text(lang, errors.LanguageMismatch(hostile_name(2), "sv")),
    ):
        assert "Open the secure case file" in refusal
        assert not any(p.search(refusal) for p in MARKUP[:3]), refusal


@pytest.mark.parametrize("lang", LANGS)
def test_the_catalogs_own_markdown_still_renders(lang: Lang) -> None:
    cards = gallery.sample_cards(lang)
    assert any(s.startswith("**2026-") for s in shown_texts(cards["my_cases_card"]))
    assert any(s.startswith("**Aino Virtanen**") for s in shown_texts(cards["registry_card"]))
    summary = gallery.summary(gallery.sample_case(3, (2,)))
    assert any("**" in s for s in shown_texts(my_cases_card([summary], lang)))
