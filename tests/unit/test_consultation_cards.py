"""The consultation cards: snapshots (UPDATE_GOLDEN=1), the buttons each part gets, privacy."""

from __future__ import annotations

import json
import os
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from cards import verbs
from cards.consultations import (
    answer_kind_label,
    category_label,
    consultation_card,
    consultation_list_card,
    figures_card,
    request_form,
    speciality_label,
    status_label,
)
from cards.i18n import LANGS, Lang, error_text, t
from mediation.consultation import CATEGORIES, SPECIALITIES, AnswerKind, ConsultationRefused, Status
from mediation.consultation_views import Part
from tests.card_schema import assert_valid_card
from tests.unit import consultation_samples as s
from tests.unit.cards_support import assert_well_formed, executes, inputs, texts
from tests.unit.test_cards_plain import HOSTILE, HOSTILE_LINES, assert_plain

GOLDEN = Path(__file__).parent / "golden_consultations"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def samples(lang: Lang) -> dict[str, dict[str, Any]]:
    zone = s.ZONE
    return {
        "request_form": request_form(lang, s.AREAS),
        "request_form.urgent": request_form(lang, s.AREAS, urgent=True),
        "request_form.refused": request_form(
            lang,
            s.AREAS,
            refused=error_text(lang, ConsultationRefused("urgent_needs_category")),
            typed={"region": "Kerava", "categories": "alienation,other", "consent": "true"},
        ),
        "requester.waiting": consultation_card(
            s.requester_waiting(), lang, zone, notice=t(lang, "consult.sent", code="2026-K007")
        ),
        "coordinator.urgent_exception": consultation_card(
            s.coordinator_urgent_exception(),
            lang,
            zone,
            notice=t(lang, "consult.note.urgent", code="2026-K007"),
        ),
        "coordinator.on_agenda": consultation_card(s.coordinator_on_agenda(), lang, zone),
        "expert.asked": consultation_card(
            s.expert_asked(),
            lang,
            zone,
            notice=t(
                lang,
                "consult.note.asked",
                code="2026-K007",
                speciality=speciality_label(lang, "district_court"),
            ),
        ),
        "expert.declined": consultation_card(s.expert_declined(), lang, zone),
        "requester.answered": consultation_card(
            s.requester_answered(),
            lang,
            zone,
            notice=t(lang, "consult.note.answered", code="2026-K007"),
        ),
        "requester.answer_open": consultation_card(s.requester_answer_open(), lang, zone),
        "list.coordinator": consultation_list_card(s.coordinator_list(), lang),
        "list.requester": consultation_list_card(s.requester_list(), lang),
        "figures": figures_card(s.FIGURES, lang),
    }


SAMPLES = {lang: samples(lang) for lang in LANGS}
CASES = [(lang, name) for lang in LANGS for name in SAMPLES[lang]]


@pytest.mark.parametrize(("lang", "name"), CASES)
def test_each_card_is_well_formed_and_matches_its_snapshot(lang: Lang, name: str) -> None:
    card = SAMPLES[lang][name]
    assert_well_formed(card)
    assert_valid_card(card)
    path = GOLDEN / f"{name}.{lang}.json"
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path.name}: run the tests with UPDATE_GOLDEN=1"
    assert json.loads(path.read_text(encoding="utf-8")) == card


def test_no_snapshot_is_left_without_its_card() -> None:
    if UPDATE:
        return
    expected = {f"{name}.{lang}.json" for lang, name in CASES}
    assert {p.name for p in GOLDEN.glob("*.json")} == expected


def test_the_languages_differ() -> None:
    for name in SAMPLES["en"]:
        assert SAMPLES["fi"][name] != SAMPLES["sv"][name] != SAMPLES["en"][name], name


def by_verb(card: dict[str, Any], verb: str) -> list[dict[str, Any]]:
    return [a for a in executes(card) if a["verb"] == verb]


def input_ids(card: dict[str, Any]) -> set[str]:
    return {i["id"] for i in inputs(card)}


def test_the_forms_hold_what_the_bot_reads_and_the_urgent_one_less() -> None:
    full = SAMPLES["en"]["request_form"]
    assert input_ids(full) == {
        "region",
        "categories",
        "question",
        "background",
        "birth_years",
        "consent",
        "consent_date",
        "justification",
    }
    (categories,) = [i for i in inputs(full) if i["id"] == "categories"]
    assert [c["value"] for c in categories["choices"]] == list(CATEGORIES)
    (region,) = [i for i in inputs(full) if i["id"] == "region"]
    assert [c["value"] for c in region["choices"]] == list(s.AREAS)
    assert by_verb(full, verbs.CONSULT_SEND)[0]["data"] == {"urgent": False}
    urgent = SAMPLES["en"]["request_form.urgent"]
    assert input_ids(urgent) == input_ids(full) - {"background", "birth_years"}
    (categories,) = [i for i in inputs(urgent) if i["id"] == "categories"]
    assert [c["value"] for c in categories["choices"]] == ["violence", "abduction_threat"]
    assert by_verb(urgent, verbs.CONSULT_SEND)[0]["data"] == {"urgent": True}
    refused = SAMPLES["en"]["request_form.refused"]
    assert refused["body"][0]["color"] == "Attention"
    values = {i["id"]: i.get("value") for i in inputs(refused)}
    assert values["region"] == "Kerava" and values["consent"] == "true"


def test_a_coordinator_approves_an_exception_only_of_someone_else() -> None:
    card = SAMPLES["en"]["coordinator.urgent_exception"]
    assert [a["data"] for a in by_verb(card, verbs.CONSULT_APPROVE)] == [{"c_id": 7}]
    assert not by_verb(card, verbs.CONSULT_PLACE), "waits for the approval"
    assert t("en", "consult.agenda.waits_for_consent") in texts(card)
    assert "Lapsen turvallisuus" in " ".join(texts(card))
    mine = replace(s.coordinator_urgent_exception(), viewer=s.REQUESTER)
    assert not by_verb(consultation_card(mine, "en", s.ZONE), verbs.CONSULT_APPROVE)


def test_a_coordinator_places_asks_and_answers() -> None:
    card = SAMPLES["en"]["coordinator.on_agenda"]
    (place,) = by_verb(card, verbs.CONSULT_PLACE)
    assert place["data"] == {"c_id": 7}
    (day,) = [i for i in inputs(card) if i["id"] == "day"]
    assert day["value"] == "2026-03-10"
    asks = [a["data"] for a in by_verb(card, verbs.CONSULT_ASK)]
    assert asks == [{"c_id": 7, "speciality": "police"}, {"c_id": 7, "speciality": "law"}]
    assert {"expert_police", "expert_law", "answer_kind", "answer", "attendees"} <= input_ids(card)
    (attendees,) = [i for i in inputs(card) if i["id"] == "attendees"]
    assert [c["value"] for c in attendees["choices"]] == [str(s.PSYCHIATRIST.id)]
    assert by_verb(card, verbs.CONSULT_ANSWER)[0]["data"] == {"c_id": 7}
    assert not by_verb(card, verbs.CONSULT_WITHDRAW), "only the requester withdraws"


def test_an_expert_answers_and_sees_no_more_once_declined() -> None:
    card = SAMPLES["en"]["expert.asked"]
    answers = by_verb(card, verbs.CONSULT_ACCEPT) + by_verb(card, verbs.CONSULT_DECLINE)
    assert [a["data"] for a in answers] == [{"c_id": 7}, {"c_id": 7}]
    assert s.QUESTION in texts(card)
    assert not by_verb(card, verbs.CONSULT_ASK) + by_verb(card, verbs.CONSULT_ANSWER)
    declined = json.dumps(SAMPLES["en"]["expert.declined"], ensure_ascii=False)
    assert s.QUESTION not in declined and "Perheneuvola" not in declined


def test_the_requester_opens_the_answer_on_a_card() -> None:
    card = SAMPLES["en"]["requester.answered"]
    assert by_verb(card, verbs.CONSULT_ANSWER_SHOW)[0]["data"] == {"c_id": 7}
    assert "Yksi asiakastapaaminen" not in json.dumps(card, ensure_ascii=False)
    opened = SAMPLES["en"]["requester.answer_open"]
    shown = " ".join(texts(opened))
    assert "Yksi asiakastapaaminen" in shown and "12:00" in shown  # 10:00 UTC in Helsinki
    assert not by_verb(opened, verbs.CONSULT_WITHDRAW)


def test_the_requester_may_withdraw_while_it_is_open() -> None:
    card = SAMPLES["en"]["requester.waiting"]
    assert by_verb(card, verbs.CONSULT_WITHDRAW)[0]["data"] == {"c_id": 7}
    assert not by_verb(card, verbs.CONSULT_PLACE) + by_verb(card, verbs.CONSULT_APPROVE)


def test_the_coordinators_list_puts_urgent_first_and_shows_the_agendas() -> None:
    card = SAMPLES["en"]["list.coordinator"]
    shows = [a["data"]["c_id"] for a in by_verb(card, verbs.CONSULT_SHOW)]
    assert shows == [9, 8, 7]
    assert any(x.startswith("URGENT") for x in texts(card))
    assert by_verb(card, verbs.CONSULT_FIGURES)
    assert not by_verb(SAMPLES["en"]["list.requester"], verbs.CONSULT_FIGURES)
    news = [a["data"] for a in by_verb(card, verbs.CONSULT_NEW)]
    assert news == [{"urgent": False}, {"urgent": True}]


@pytest.mark.parametrize("lang", LANGS)
def test_every_code_has_a_name(lang: Lang) -> None:
    assert all(category_label(lang, c) for c in CATEGORIES)
    assert all(speciality_label(lang, c) for c in SPECIALITIES)
    assert all(status_label(lang, st) for st in Status)
    assert all(answer_kind_label(lang, k) for k in AnswerKind)


def test_typed_text_is_shown_plain() -> None:
    hostile = replace(
        s.coordinator_on_agenda(),
        question=HOSTILE + "\n" + HOSTILE_LINES,
        background=HOSTILE,
        region=HOSTILE,
        requester=replace(s.REQUESTER, name=HOSTILE),
    )
    for lang in LANGS:
        assert_plain(consultation_card(hostile, lang, s.ZONE))
        assert_plain(
            consultation_card(replace(hostile, parts=frozenset({Part.EXPERT})), lang, s.ZONE)
        )
