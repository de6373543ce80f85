"""Every card in every language against its golden JSON; UPDATE_GOLDEN=1 rewrites them."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from cards.gallery import ALL_BUILDERS, sample_cards
from cards.i18n import LANGS, Lang
from tests.unit.cards_support import assert_well_formed

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"
SAMPLES = {lang: sample_cards(lang) for lang in LANGS}
CASES = [(lang, name) for lang in LANGS for name in SAMPLES[lang]]


def golden_path(lang: str, name: str) -> Path:
    return GOLDEN / f"{name}.{lang}.json"


@pytest.mark.parametrize(("lang", "name"), CASES)
def test_card_matches_its_golden_snapshot(lang: Lang, name: str) -> None:
    card = SAMPLES[lang][name]
    path = golden_path(lang, name)
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(json.dumps(card, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        return
    assert path.exists(), f"no snapshot {path.name}: run the tests with UPDATE_GOLDEN=1"
    assert json.loads(path.read_text(encoding="utf-8")) == card


def test_no_snapshot_is_left_without_its_card() -> None:
    if UPDATE:
        return
    expected = {golden_path(lang, name).name for lang, name in CASES}
    assert {p.name for p in GOLDEN.glob("*.json")} == expected


@pytest.mark.parametrize(("lang", "name"), CASES)
def test_card_is_well_formed(lang: Lang, name: str) -> None:
    assert_well_formed(SAMPLES[lang][name])


def test_the_gallery_renders_every_builder() -> None:
    rendered = {name.split(".")[0] for name in SAMPLES["en"]}
    assert rendered == set(ALL_BUILDERS)


def test_the_languages_differ_where_they_should() -> None:
    # A card that came out the same in two languages has lost its translation somewhere.
    for name in SAMPLES["en"]:
        assert SAMPLES["fi"][name] != SAMPLES["sv"][name] != SAMPLES["en"][name], name
