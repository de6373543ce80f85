"""Every card Sopu renders is a valid Adaptive Card 1.5 as Teams reads it (tests/card_schema.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.card_schema import assert_valid_card, schema_problems

HERE = Path(__file__).parent
GOLDEN = sorted(
    [
        *HERE.glob("golden/*.json"),
        *HERE.glob("golden_calendar/*.json"),
        *HERE.glob("golden_common_time/*.json"),
        *HERE.glob("golden_walk_in/*.json"),
    ]
)


def test_the_golden_set_is_there() -> None:
    assert len(GOLDEN) > 80


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_each_golden_card_is_valid(path: Path) -> None:
    assert_valid_card(json.loads(path.read_text(encoding="utf-8")))


def _card(*body: dict[str, Any]) -> dict[str, Any]:
    return {"type": "AdaptiveCard", "version": "1.5", "body": list(body)}


def _choices(n: int) -> list[dict[str, str]]:
    return [{"title": f"Mediator {i}", "value": str(i)} for i in range(n)]


def test_the_oracle_refuses_what_teams_would_not_render() -> None:
    assert schema_problems(_card({"type": "TextBlock"}))  # no text
    assert schema_problems(_card({"type": "TextBlock", "text": "x", "colour": "red"}))
    assert schema_problems(_card({"type": "Input.ChoiceSet", "id": "a", "style": "fancy"}))
    action = {"type": "Action.Execute", "verb": "x", "style": "loud"}
    assert schema_problems({**_card(), "actions": [action]})
    many = {"type": "Input.ChoiceSet", "id": "m", "choices": _choices(35)}
    assert schema_problems(_card(many))


def test_teams_filtered_choice_sets_are_accepted_at_any_length() -> None:
    filtered = {"type": "Input.ChoiceSet", "id": "m", "style": "filtered", "choices": _choices(35)}
    assert schema_problems(_card(filtered)) == []
