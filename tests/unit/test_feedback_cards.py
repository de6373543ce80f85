"""The feedback cards: inputs the calendar's record card embeds, the case card, the QR card."""

from __future__ import annotations

import json

import pytest

from bot.outbox_cards import qr_data_uri
from cards.feedback import (
    case_feedback_card,
    client_link_card,
    meeting_feedback_card,
    meeting_feedback_section,
)
from cards.i18n import LANGS, Lang
from cards.verbs import FEEDBACK_CASE, FEEDBACK_MEETING, VERBS
from mediation.feedback import CaseFeedback
from mediation.model import Case
from mediation.policy import BankPolicy
from mediation.views import summarize
from tests.unit.cards_support import executes, inputs, size
from tests.unit.factories import NOW, intake


def summary():
    case = Case.new("2026-017", intake(), 1, NOW, BankPolicy())
    case.id = 17
    return summarize(case, {}, BankPolicy(), NOW.date())


@pytest.mark.parametrize("lang", LANGS)
def test_the_meeting_section_has_the_agreed_inputs(lang: Lang) -> None:
    section = meeting_feedback_section(lang, 5)
    ids = [i["id"] for i in inputs({"body": section})]
    assert ids == ["fb_rating", "fb_cooperation", "fb_note"]
    rating = inputs({"body": section})[0]
    assert [c["value"] for c in rating["choices"]] == ["1", "2", "3", "4", "5"]
    card = meeting_feedback_card(lang, 5, "2026-017")
    (button,) = executes(card)
    assert button["verb"] == FEEDBACK_MEETING and button["data"] == {"meeting_id": 5}


@pytest.mark.parametrize("lang", LANGS)
def test_the_case_card_comes_back_with_the_answer(lang: Lang) -> None:
    current = CaseFeedback(4, 5, ("pair_work",), ("scheduling", "other"), "note")
    card = case_feedback_card(lang, summary(), current)
    values = {i["id"]: i.get("value") for i in inputs(card)}
    assert values == {
        "cf_package": "4",
        "cf_pair": "5",
        "cf_helped": "pair_work",
        "cf_hard": "scheduling,other",
        "cf_note": "note",
    }
    (button,) = executes(card)
    assert button["verb"] == FEEDBACK_CASE and button["data"] == {"case_id": 17}
    assert FEEDBACK_CASE in VERBS and size(card) < 28_000


@pytest.mark.parametrize("lang", LANGS)
def test_the_client_link_card_carries_each_parents_link_and_qr_code(lang: Lang) -> None:
    urls = ["https://sopu.example.fi/feedback/" + c * 32 for c in "ab"]
    qrs = [qr_data_uri(url) for url in urls]
    assert all(qr.startswith("data:image/png;base64,") for qr in qrs)
    card = client_link_card(lang, summary(), [(1, urls[0], qrs[0]), (2, urls[1], qrs[1])])
    text = json.dumps(card)
    assert all(u in text for u in urls) and all(q in text for q in qrs)
    assert "Virtanen" not in text
    assert [a["url"] for a in card["actions"]] == urls
    assert all(a["type"] == "Action.OpenUrl" for a in card["actions"])
    assert size(card) < 28_000
