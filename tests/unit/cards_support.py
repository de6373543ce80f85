"""Walking Adaptive Card dicts in tests: every element, every action, every input, by scope."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from cards.base import Card

MAX_BYTES = 28 * 1000  # Teams' message limit is about 28 KB; measured as sent, escaped JSON


def size(card: Card) -> int:
    """Bytes of the card as the Bot Framework serializes it (ASCII-escaped, with spaces)."""
    return len(json.dumps(card).encode("utf-8"))


def nodes(value: Any) -> Iterator[dict[str, Any]]:
    """Every dict in the card, nested ShowCard cards included."""
    if isinstance(value, dict):
        yield value
        for child in value.values():
            yield from nodes(child)
    elif isinstance(value, list):
        for child in value:
            yield from nodes(child)


def of_type(card: Card, prefix: str) -> list[dict[str, Any]]:
    return [n for n in nodes(card) if str(n.get("type", "")).startswith(prefix)]


def actions(card: Card) -> list[dict[str, Any]]:
    return of_type(card, "Action.")


def executes(card: Card) -> list[dict[str, Any]]:
    return of_type(card, "Action.Execute")


def inputs(card: Card) -> list[dict[str, Any]]:
    return of_type(card, "Input.")


def top_executes(card: Card) -> dict[str, dict[str, Any]]:
    """The card's own Execute buttons (not those folded in a ShowCard), by verb."""
    return {a["verb"]: a for a in card.get("actions", []) if a["type"] == "Action.Execute"}


def show_cards(card: Card) -> dict[str, Card]:
    """Folded cards by their button's title, at any depth."""
    return {a["title"]: a["card"] for a in of_type(card, "Action.ShowCard")}


def texts(card: Card) -> list[str]:
    """Every visible string: text, titles, labels, placeholders, fact values, choices."""
    keys = ("text", "title", "label", "placeholder", "value", "errorMessage")
    return [str(n[k]) for n in nodes(card) for k in keys if k in n and isinstance(n[k], str)]


def scopes(
    card: Card, inherited: tuple[str, ...] = ()
) -> Iterator[tuple[dict[str, Any], tuple[str, ...]]]:
    """Each (Execute action, ids of the inputs it submits).

    A button submits the inputs of its own card and of the cards it is folded in, never
    those of sibling ShowCards (as the Adaptive Cards renderer gathers them).
    """
    own = inherited + tuple(_body_input_ids(card.get("body", [])))
    for action in _card_actions(card):
        if action["type"] == "Action.Execute":
            yield action, own
        elif action["type"] == "Action.ShowCard":
            yield from scopes(action["card"], own)


def _elements(elements: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """A card body's elements, containers opened, folded ShowCard cards left shut."""
    for element in elements:
        yield element
        for key in ("items", "columns"):
            if isinstance(element.get(key), list):
                yield from _elements(element[key])


def _body_input_ids(elements: list[dict[str, Any]]) -> Iterator[str]:
    for element in _elements(elements):
        if str(element.get("type", "")).startswith("Input."):
            yield element["id"]


def _card_actions(card: Card) -> Iterator[dict[str, Any]]:
    yield from card.get("actions", [])
    for element in _elements(card.get("body", [])):
        if element.get("type") == "ActionSet":
            yield from element["actions"]


def assert_well_formed(card: Card) -> None:
    """The structural rules every Sopu card keeps."""
    from cards.i18n import LANGS
    from cards.verbs import (
        BANK_OVERVIEW,
        CARD_REFRESH,
        CASE_CREATE,
        COMMON_TIME_CONVENE,
        COMMON_TIME_LIST,
        COMMON_TIME_NEW,
        MEDIATOR_UPDATE,
        ORGANISATION_UPDATE,
        VERBS,
    )

    assert card["type"] == "AdaptiveCard" and card["version"] == "1.5"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert card["lang"] in LANGS
    assert card["body"] and isinstance(card["actions"], list)
    # A refresh without userIds would make Teams refresh the card for everyone.
    assert all("refresh" not in n for n in nodes(card))
    assert size(card) < MAX_BYTES, size(card)

    for action in actions(card):
        assert action["type"] in ("Action.Execute", "Action.ShowCard"), action["type"]
        assert action["title"].strip()
        if action["type"] == "Action.ShowCard":
            assert action["card"]["type"] == "AdaptiveCard"
    for action, submitted in scopes(card):
        verb, data = action["verb"], action["data"]
        assert verb in VERBS and isinstance(data, dict)
        if verb == MEDIATOR_UPDATE:
            assert isinstance(data.get("mediator_id"), int) or "mediator_id" in submitted
        elif verb == BANK_OVERVIEW:
            assert data == {}  # the registry's way to the overview: nothing to carry
        elif verb == ORGANISATION_UPDATE:
            assert data == {} and "organisation" in submitted  # chosen on the form
        elif verb.startswith("commontime."):
            if verb in (COMMON_TIME_NEW, COMMON_TIME_CONVENE, COMMON_TIME_LIST):
                assert data == {}  # nothing of a common time yet, or all of the viewer's
            else:
                assert isinstance(data["ct_id"], int)
        elif verb.startswith("consult."):
            if verb.endswith((".new", ".send", ".list", ".figures")):
                assert set(data) <= {"urgent", "year"}  # no request yet, or all of the viewer's
            else:
                assert isinstance(data["c_id"], int)
        elif verb.startswith(("shifts.", "shift.", "visit.")):
            if verb.startswith("shifts."):
                assert set(data) <= {"year"}  # the rota is the viewer's, the figures a year's
            elif verb in ("shift.accept", "shift.decline", "shift.withdraw"):
                assert isinstance(data["swap_id"], int)
            else:
                assert isinstance(data["shift_id"], int)
        elif verb != CASE_CREATE:
            assert verb.startswith(("case.", "meeting")) or verb == CARD_REFRESH
            assert isinstance(data["case_id"], int)
        assert not set(data) & set(submitted), "an input would overwrite the button's data"
    assert len(list(scopes(card))) == len(executes(card)), "a button outside any scope"

    ids = [i["id"] for i in inputs(card)]
    assert len(ids) == len(set(ids)), ids
    for element in inputs(card):
        assert element.get("label") or element.get("title"), element["id"]
        if element["type"] == "Input.ChoiceSet":
            values = [c["value"] for c in element["choices"]]
            assert all(isinstance(v, str) and v for v in values)
            assert all(c["title"] for c in element["choices"])
            if "value" in element:
                assert set(element["value"].split(",")) <= set(values), element["id"]
    for block in of_type(card, "TextBlock") + of_type(card, "TextRun"):
        assert isinstance(block["text"], str) and block["text"].strip()
