"""The walk-in service's cards: snapshots (UPDATE_GOLDEN=1), the buttons each view allows,
and no family identity asked anywhere."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cards import verbs
from cards.i18n import LANGS, Lang, error_text, t
from cards.walk_in import figures_card, referral_intake, shift_card, shift_when, shifts_card
from mediation import errors
from mediation.walk_in import (
    Referral,
    ShiftKind,
    VisitKind,
    WalkInFigures,
)
from mediation.walk_in_views import Person, ShiftLine, ShiftsView, ShiftView, SwapLine, VisitLine
from tests.card_schema import assert_valid_card
from tests.unit.cards_support import assert_well_formed, executes, inputs, texts

GOLDEN = Path(__file__).parent / "golden_walk_in"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
ZONE = "Europe/Helsinki"

AINO, BERTTA, CECILIA = Person(2, "Aino Aalto"), Person(3, "Bertta Berg"), Person(4, "Cecilia")
SARI = Person(6, "Sari Sihteeri")


def line(
    n: int, day: date, worker: Person | None, kind: ShiftKind = ShiftKind.WALK_IN
) -> ShiftLine:
    hour = 6 if kind is ShiftKind.WALK_IN else 7  # 8:00 / 9:00 in Helsinki (UTC+2)
    start = datetime(day.year, day.month, day.day, hour, tzinfo=UTC)
    hours = 4 if kind is ShiftKind.WALK_IN else 2
    return ShiftLine(n, kind, day, start, start + timedelta(hours=hours), worker, worker == AINO)


THU = [date(2026, 3, 5), date(2026, 3, 12), date(2026, 3, 19)]
SHIFTS = (
    line(1, THU[0], AINO),
    line(2, date(2026, 3, 9), SARI, ShiftKind.PHONE),
    line(3, THU[1], BERTTA),
    line(4, date(2026, 3, 11), SARI, ShiftKind.PHONE),
    line(5, THU[2], None),
)
OFFER_TO_ME = SwapLine(7, SHIFTS[2], BERTTA, AINO, SHIFTS[0])
MY_OFFER = SwapLine(8, SHIFTS[0], AINO, CECILIA, None)


def rota(coordinator: bool = False, offers: bool = True) -> ShiftsView:
    viewer = Person(1, "Kaisa Koordinaattori") if coordinator else AINO
    return ShiftsView(
        viewer,
        coordinator,
        SHIFTS,
        offers_to_me=(OFFER_TO_ME,) if offers and not coordinator else (),
        my_offers=(MY_OFFER,) if offers and not coordinator else (),
    )


VISITS = (
    VisitLine(11, VisitKind.ADVICE, 30, Referral.NO, False, datetime(2026, 3, 5, 7, tzinfo=UTC)),
    VisitLine(
        12, VisitKind.AGREEMENT, 45, Referral.MEDIATION, True, datetime(2026, 3, 5, 8, tzinfo=UTC)
    ),
)


def during() -> ShiftView:
    return ShiftView(AINO, SHIFTS[0], VISITS, may_record=True)


def before() -> ShiftView:
    return ShiftView(
        AINO,
        SHIFTS[0],
        may_offer=True,
        colleagues=(BERTTA, CECILIA),
        in_return=(SHIFTS[2],),
    )


def offered() -> ShiftView:
    return ShiftView(AINO, SHIFTS[0], open_offer=MY_OFFER)


def coordinator() -> ShiftView:
    view = ShiftView(Person(1, "Kaisa Koordinaattori"), SHIFTS[4], assignable=(CECILIA, AINO))
    return view


FIGURES = WalkInFigures(
    date(2026, 1, 1),
    date(2026, 12, 31),
    shifts=4,
    visits=10,
    by_kind={"advice": 5, "agreement": 3, "paternity": 1, "other": 1},
    minutes=330,
    without_booking=8,
    referrals={"mediation": 2, "elsewhere": 1},
    per_worker=(("Aino Aalto", 2, 0), ("Bertta Berg", 2, 0), ("Sari Sihteeri", 0, 8)),
)


def samples(lang: Lang) -> dict[str, dict[str, Any]]:
    refused = error_text(lang, errors.ShiftRefused("swap_changed", "changed"))
    return {
        "rota": shifts_card(
            rota(),
            lang,
            ZONE,
            notice=t(
                lang,
                "shift.note.offered",
                name="Bertta Berg",
                shift=shift_when(lang, SHIFTS[2], ZONE),
            ),
        ),
        "rota.coordinator": shifts_card(rota(coordinator=True), lang, ZONE),
        "rota.refused": shifts_card(rota(offers=False), lang, ZONE, refused=refused),
        "shift.during": shift_card(during(), lang, ZONE, notice=t(lang, "visit.recorded")),
        "shift.before": shift_card(before(), lang, ZONE),
        "shift.offered": shift_card(offered(), lang, ZONE),
        "shift.coordinator": shift_card(coordinator(), lang, ZONE),
        "shift.refused": shift_card(
            during(),
            lang,
            ZONE,
            refused=error_text(lang, errors.ShiftRefused("minutes", "x", low=5, high=240)),
            typed={"kind": "paternity", "minutes": "500", "referral": "elsewhere"},
        ),
        "figures": figures_card(FIGURES, lang, 2026),
        "figures.empty": figures_card(
            WalkInFigures(date(2025, 1, 1), date(2025, 12, 31), 0, 0, {}, 0, 0, {}), lang, 2025
        ),
        "referral_intake": referral_intake(
            lang,
            t(lang, "visit.note.referred", day="5.3.2026", name="Aino Aalto"),
            ("Hyvinkää", "Kerava"),
        ),
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


def test_the_rota_shows_everyone_and_opens_only_ones_own_shifts() -> None:
    card = SAMPLES["en"]["rota"]
    shown = " ".join(texts(card))
    assert "Bertta Berg" in shown and "Sari Sihteeri" in shown
    assert t("en", "shift.nobody") in shown
    assert [a["data"] for a in by_verb(card, verbs.SHIFT_SHOW)] == [{"shift_id": 1}]
    assert by_verb(card, verbs.SHIFT_ACCEPT)[0]["data"] == {"swap_id": 7}
    assert by_verb(card, verbs.SHIFT_DECLINE)[0]["data"] == {"swap_id": 7}
    assert by_verb(card, verbs.SHIFT_WITHDRAW)[0]["data"] == {"swap_id": 8}
    assert not by_verb(card, verbs.SHIFTS_FIGURES)
    coordinator = SAMPLES["en"]["rota.coordinator"]
    assert len(by_verb(coordinator, verbs.SHIFT_SHOW)) == len(SHIFTS)
    assert by_verb(coordinator, verbs.SHIFTS_FIGURES)


def test_the_visit_form_has_the_inputs_the_bot_reads_and_asks_no_identity() -> None:
    card = SAMPLES["en"]["shift.during"]
    fields = {i["id"]: i for i in inputs(card)}
    assert set(fields) == {"kind", "minutes", "referral", "booked"}
    assert [c["value"] for c in fields["kind"]["choices"]] == [k.value for k in VisitKind]
    assert [c["value"] for c in fields["referral"]["choices"]] == [r.value for r in Referral]
    assert (fields["minutes"]["value"], fields["minutes"]["min"], fields["minutes"]["max"]) == (
        30,
        5,
        240,
    )
    (record,) = by_verb(card, verbs.VISIT_RECORD)
    assert record["data"] == {"shift_id": 1}
    removes = by_verb(card, verbs.VISIT_REMOVE)
    assert [r["data"] for r in removes] == [
        {"shift_id": 1, "visit_id": 11},
        {"shift_id": 1, "visit_id": 12},
    ]
    assert not by_verb(card, verbs.SHIFT_OFFER)


def test_a_refused_visit_keeps_what_was_typed() -> None:
    card = SAMPLES["en"]["shift.refused"]
    assert card["body"][0]["color"] == "Attention"
    values = {i["id"]: i.get("value") for i in inputs(card)}
    assert values["kind"] == "paternity" and values["referral"] == "elsewhere"
    assert values["minutes"] == 30  # out of bounds: the form's own value stays


def test_a_shift_before_it_begins_is_handed_over_to_a_free_colleague() -> None:
    card = SAMPLES["en"]["shift.before"]
    (offer,) = by_verb(card, verbs.SHIFT_OFFER)
    assert offer["data"] == {"shift_id": 1}
    fields = {i["id"]: i for i in inputs(card)}
    assert [c["value"] for c in fields["to_id"]["choices"]] == ["3", "4"]
    assert [c["value"] for c in fields["return_shift_id"]["choices"]] == ["3"]
    assert "isRequired" not in fields["return_shift_id"]
    assert not by_verb(card, verbs.VISIT_RECORD)
    offered_card = SAMPLES["en"]["shift.offered"]
    assert not by_verb(offered_card, verbs.SHIFT_OFFER)
    assert by_verb(offered_card, verbs.SHIFT_WITHDRAW)[0]["data"] == {"swap_id": 8}


def test_a_coordinator_reassigns_from_the_fair_order() -> None:
    card = SAMPLES["en"]["shift.coordinator"]
    (assign,) = by_verb(card, verbs.SHIFT_ASSIGN)
    assert assign["data"] == {"shift_id": 5}
    (choice,) = [i for i in inputs(card) if i["id"] == "worker_id"]
    assert [c["value"] for c in choice["choices"]] == ["4", "2"]


def test_the_figures_say_visits_per_shift_the_share_without_booking_and_the_rota() -> None:
    shown = " ".join(texts(SAMPLES["en"]["figures"]))
    for part in ("10 (2.5 per shift)", "5 (1.2 per shift)", "80 %", "walk-in 2 · phone hours 0"):
        assert part in shown
    assert by_verb(SAMPLES["en"]["figures"], verbs.SHIFTS_FIGURES)[0]["data"] == {"year": 2025}


def test_a_referral_opens_the_intake_with_the_walk_in_as_its_referral() -> None:
    card = SAMPLES["en"]["referral_intake"]
    (referral,) = [i for i in inputs(card) if i["id"] == "referral_source"]
    assert referral["value"] == "walk_in"
    assert card["body"][0]["color"] == "Good"
    assert by_verb(card, verbs.CASE_CREATE)


REASONS = (
    "walk_in_only",
    "not_yours",
    "not_begun",
    "record_over",
    "passed",
    "not_in_rota",
    "not_asked",
    "offer_open",
    "swap_changed",
    "swap_accepted",
    "swap_declined",
    "swap_withdrawn",
    "minutes",
)


@pytest.mark.parametrize("lang", LANGS)
def test_every_refusal_of_a_shift_is_said_in_each_language(lang: Lang) -> None:
    for reason in REASONS:
        err = errors.ShiftRefused(reason, reason, name="Aino", days=3, low=5, high=240)
        assert error_text(lang, err) != t(lang, "error.generic"), reason
