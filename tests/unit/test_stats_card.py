"""The statistics card, the small-count rule, medians from day counts and the signed link."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.stats_download import csv_bytes, download_url, link_ok
from cards.i18n import LANGS, Lang, t
from cards.stats import stats_card, written_feedback_card
from cards.verbs import STATS_SHOW, STATS_WRITTEN
from mediation.intake import may_identify
from mediation.stats import (
    Average,
    ClientFeedbackFigures,
    Median,
    MediatorFeedbackFigures,
    MediatorFigures,
    WrittenAnswer,
    YearStats,
    median_of_counts,
    shown,
    written_lines,
)
from tests.e2e.conftest import words
from tests.unit.cards_support import executes, nodes, size
from tests.unit.common_time_samples import NO_FIGURES, year_figures

NOW = datetime(2026, 11, 2, 9, tzinfo=UTC)


def figures(mediators: int = 35) -> YearStats:
    return YearStats(
        year=2026,
        terms=("spring", "autumn"),
        families={"spring": 34, "autumn": 30},
        by_status={("spring", "closed"): 30, ("spring", "cancelled"): 4, ("autumn", "open"): 30},
        by_outcome={
            ("spring", "agreement"): 20,
            ("spring", "not_suitable"): 3,
            ("spring", "interrupted"): 7,
            ("spring", ""): 4,
            ("autumn", ""): 30,
        },
        by_area={"Tuusula": 40, "Kerava": 24},
        by_referral={"self": 50, "school": 14},
        to_pair=Median(3.0, 60),
        to_first_meeting=Median(20.5, 40),
        meetings_held={("spring", "individual"): 60, ("spring", "child"): 4},
        meetings_not_held=2,
        client=ClientFeedbackFigures(
            30, 41, Average(4.4, 40), Average(4.8, 41), Average(None, 0), {"fully": 20}, {"yes": 30}
        ),
        mediator_feedback=MediatorFeedbackFigures(
            50, 60, Average(4.0, 50), Average(4.2, 50), Average(3.9, 200)
        ),
        mediators=tuple(
            MediatorFigures(
                i,
                f"Sovittelija {i}",
                "Kunta",
                {"spring": 2, "autumn": 1},
                4,
                {"spring": 2, "autumn": 2},
                900,
            )
            for i in range(mediators)
        ),
        minutes_by_employer={"Kunta": 31500},
    )


@pytest.mark.parametrize("lang", LANGS)
def test_the_card_holds_a_whole_bank_under_teams_limit(lang: Lang) -> None:
    card = stats_card(lang, figures(), date(2026, 11, 2), "https://x/stats/2026.csv?sig=1")
    assert size(card) < 28_000, size(card)
    assert card["version"] == "1.5"
    written, button = executes(card)
    assert written["verb"] == STATS_WRITTEN and written["data"] == {"year": 2026}
    assert button["verb"] == STATS_SHOW and button["data"] == {"year": 2025}
    assert card["actions"][0]["type"] == "Action.OpenUrl"
    # The chart: one bar per outcome of a term, as coloured columns.
    bars = [n for n in nodes(card) if n.get("type") == "Column" and n.get("style")]
    assert {b["style"] for b in bars} >= {"good", "attention", "emphasis"}


def test_small_counts_outside_the_coordinators_view() -> None:
    assert [shown(n) for n in (0, 1, 4, 5, 12)] == ["0", "< 5", "< 5", "5", "12"]
    assert Average(4.25, 4).withheld and not Average(4.25, 5).withheld
    assert not Average(None, 0).withheld


def few() -> YearStats:
    """A year of one family and a few answers: what a new bank's first months look like."""
    return dataclasses.replace(
        figures(1),
        families={"spring": 1},
        by_status={("spring", "closed"): 1},
        by_outcome={("spring", "agreement"): 1},
        by_area={},
        by_referral={},
        to_pair=Median(2.5, 1),
        client=ClientFeedbackFigures(1, 1, Average(3.0, 1), Average(None, 0), Average(None, 0)),
        mediator_feedback=MediatorFeedbackFigures(
            1, 2, Average(4.5, 2), Average(None, 0), Average(3.5, 6)
        ),
        minutes_by_employer={},
    )


def test_the_card_reads_as_its_language_and_withholds_thin_averages() -> None:
    en = words(stats_card("en", few(), date(2026, 11, 2)))
    assert "(1 answers)" not in en and "1 families" not in en
    assert "2.5 days (1 family)" in en
    assert "3.5 (6 answers)" in en and "3,5" not in en
    assert t("en", "stats.withheld.one", count=1) in en  # the parents' 3.0 of one answer
    assert "4.5" not in en  # the package's average of two answers is withheld too
    assert t("en", "stats.by_employer") not in en  # no hours: no heading over nothing
    assert t("en", "stats.by_area") not in en
    fi = words(stats_card("fi", few(), date(2026, 11, 2)))
    assert "3,5 (6 vastausta)" in fi
    empty = dataclasses.replace(few(), families={}, by_status={}, by_outcome={})
    card = stats_card("en", empty, date(2026, 11, 2))
    assert not [n for n in nodes(card) if n.get("type") == "Column" and n.get("style")]
    assert t("en", "stats.chart") not in words(card)


def test_the_csv_marks_a_withheld_average_in_words() -> None:
    table = csv_bytes("en", few()).decode("utf-8-sig")
    lines = [line.split(";") for line in table.splitlines()]
    values = {row[1]: row[3] for row in lines}
    assert values[t("en", "stats.avg.felt_heard")] == t("en", "stats.withheld_csv")
    assert values[t("en", "stats.avg.package")] == t("en", "stats.withheld_csv")
    assert values[t("en", "stats.avg.meeting")] == "3.5"
    assert values[t("en", "stats.to_pair")] == t("en", "stats.withheld_csv")


@pytest.mark.parametrize("lang", LANGS)
def test_the_card_holds_the_years_common_time_when_given(lang: Lang) -> None:
    today = date(2026, 11, 2)
    card = stats_card(lang, figures(), today, "https://x/s.csv", common_time=year_figures())
    assert size(card) < 28_000, size(card)
    shown = words(card)
    assert t(lang, "commontime.stats.title") in shown and "Siilinjärvi" in shown
    # Its part comes after the bank's feedback and before the mediators' own lines.
    lines = shown.splitlines()
    feedback, common, people = (
        lines.index(t(lang, k))
        for k in ("stats.mediator_feedback", "commontime.stats.title", "stats.mediators")
    )
    assert feedback < common < people
    assert t(lang, "commontime.stats.title") not in words(stats_card(lang, figures(), today))
    empty = words(stats_card(lang, figures(), today, common_time=NO_FIGURES))
    assert t(lang, "commontime.stats.none", year=2026) in empty


def test_the_csv_has_the_common_times_rows_with_small_counts_masked() -> None:
    table = csv_bytes("en", few(), year_figures()).decode("utf-8-sig")
    rows = [tuple(line.split(";")) for line in table.splitlines()]
    places = t("en", "commontime.stats.by_place")
    assert (places, "Kuopio", "March 2026", "< 5") in rows
    assert (places, "Kuopio", "2026", "5") in rows
    assert (places, "Suonenjoki", "November 2026", "< 5") in rows
    title = t("en", "commontime.stats.title")
    assert (title, t("en", "commontime.stats.held"), "2026", "8") in rows
    assert (title, t("en", "commontime.stats.to_meeting"), "2026", "12.5") in rows
    assert (t("en", "commontime.stats.competences"), "Speech therapy", "2026", "5") in rows
    thin = dataclasses.replace(year_figures(), consent_to_meeting_count=4)
    table = csv_bytes("en", few(), thin).decode("utf-8-sig")
    wait = (title, t("en", "commontime.stats.to_meeting"), "2026", t("en", "stats.withheld_csv"))
    assert ";".join(wait) in table.splitlines()


def test_median_from_grouped_day_counts() -> None:
    assert median_of_counts({}) is None
    assert median_of_counts({3: 1}) == 3
    assert median_of_counts({0: 1, 2: 1, 4: 1, 7: 1}) == 3.0
    assert median_of_counts({1: 5, 9: 4}) == 1
    assert median_of_counts({1: 5, 9: 5}) == 5.0


def test_the_download_link_is_signed_and_expires() -> None:
    key = b"k" * 40
    url = download_url("https://sopu.example.fi", key, 2026, "fi", NOW, 15)
    query = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))
    assert url.startswith("https://sopu.example.fi/stats/2026.csv?")
    assert link_ok(key, 2026, "fi", query["expires"], query["sig"], NOW)
    assert not link_ok(key, 2025, "fi", query["expires"], query["sig"], NOW)
    assert not link_ok(key, 2026, "sv", query["expires"], query["sig"], NOW)
    assert not link_ok(b"x" * 40, 2026, "fi", query["expires"], query["sig"], NOW)
    later = NOW + timedelta(minutes=16)
    assert not link_ok(key, 2026, "fi", query["expires"], query["sig"], later)


def test_what_may_identify_someone_in_a_written_answer() -> None:
    places = ("Järvenpää", "Tuusula – Hyrylä")
    for telling in (
        "Isä 131052-308T ei tullut.",
        "Kirjoitin osoitteeseen aino@example.org",
        "Soittakaa 040 123 4567",
        "Tapaaminen oli hyrylässä",
        "Puhuimme siitä, miten Mikko jaksaa.",
    ):
        assert may_identify(telling, places), telling
    for plain in ("Hyvä ja rauhallinen tapaaminen.", "Sovittelijat kuuntelivat. Kiitos!"):
        assert not may_identify(plain, places), plain


def test_written_answers_come_by_term_and_writer_and_fit_a_card() -> None:
    answers = [
        WrittenAnswer("autumn", "mediator_case", "Toimi hyvin."),
        WrittenAnswer("spring", "parent_missing", "Enemmän aikaa."),
        WrittenAnswer("spring", "parent_good", "Kuunneltiin, kiitos Mikko!"),
        WrittenAnswer("spring", "parent_good", "   "),
    ]
    lines = written_lines(answers, ())
    assert [(w.term, w.source) for w in lines] == [
        ("autumn", "mediator_case"),
        ("spring", "parent_good"),
        ("spring", "parent_missing"),
    ]
    assert [w.may_identify for w in lines] == [False, True, False]
    many = [WrittenAnswer("spring", "parent_good", f"Vastaus {i} " + "x" * 300) for i in range(200)]
    card = written_feedback_card("fi", 2026, written_lines(many, ()), "https://x/w.csv")
    assert size(card) < 28_000
    assert any("ladattavassa" in line for line in words(card).splitlines())
