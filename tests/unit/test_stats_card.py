"""The statistics card, the small-count rule, medians from day counts and the signed link."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from bot.stats_download import download_url, link_ok
from cards.i18n import LANGS, Lang
from cards.stats import stats_card
from cards.verbs import STATS_SHOW
from mediation.stats import (
    Average,
    ClientFeedbackFigures,
    Median,
    MediatorFeedbackFigures,
    MediatorFigures,
    YearStats,
    median_of_counts,
    shown,
)
from tests.unit.cards_support import executes, nodes, size

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
    (button,) = executes(card)
    assert button["verb"] == STATS_SHOW and button["data"] == {"year": 2025}
    assert card["actions"][0]["type"] == "Action.OpenUrl"
    # The chart: one bar per outcome of a term, as coloured columns.
    bars = [n for n in nodes(card) if n.get("type") == "Column" and n.get("style")]
    assert {b["style"] for b in bars} >= {"good", "attention", "emphasis"}


def test_small_counts_outside_the_coordinators_view() -> None:
    assert [shown(n) for n in (0, 1, 4, 5, 12)] == ["0", "< 5", "< 5", "5", "12"]
    assert Average(4.25, 4).shown() == "< 5" and Average(4.25, 5).shown() == "4.2"
    assert Average(None, 0).shown() == ""


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
