"""Small constructors of Adaptive Card elements, so that each card module reads as a layout."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from cards.verbs import VERBS

Card = dict[str, Any]
Element = dict[str, Any]

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"  # Teams' level for Action.Execute


def card(lang: str, body: Iterable[Element], actions: Iterable[Element] = ()) -> Card:
    """A complete top-level card; ``lang`` lets readers and hyphenation pick the language."""
    return {
        "type": "AdaptiveCard",
        "$schema": SCHEMA,
        "version": VERSION,
        "lang": lang,
        "body": list(body),
        "actions": list(actions),
    }


def inline_card(body: Iterable[Element], actions: Iterable[Element] = ()) -> Card:
    """The card folded inside an ``Action.ShowCard``."""
    return {"type": "AdaptiveCard", "body": list(body), "actions": list(actions)}


def text(
    value: str,
    *,
    weight: str | None = None,
    size: str | None = None,
    color: str | None = None,
    subtle: bool = False,
    spacing: str | None = None,
    separator: bool = False,
) -> Element:
    block: Element = {"type": "TextBlock", "text": value, "wrap": True}
    if weight:
        block["weight"] = weight
    if size:
        block["size"] = size
    if color:
        block["color"] = color
    if subtle:
        block["isSubtle"] = True
    if spacing:
        block["spacing"] = spacing
    if separator:
        block["separator"] = True
    return block


def heading(value: str, *, separator: bool = False) -> Element:
    return text(value, weight="Bolder", size="Medium", separator=separator)


def problem(value: str) -> Element:
    """A validation message right under the input it is about."""
    return text(value, color="Attention", spacing="Small")


def facts(pairs: Iterable[tuple[str, str]]) -> Element:
    return {"type": "FactSet", "facts": [{"title": k, "value": v} for k, v in pairs]}


def container(
    items: Iterable[Element], *, style: str | None = None, separator: bool = False
) -> Element:
    box: Element = {"type": "Container", "items": list(items)}
    if style:
        box["style"] = style
    if separator:
        box["separator"] = True
    return box


def execute(title: str, verb: str, data: Mapping[str, Any], *, style: str | None = None) -> Element:
    if verb not in VERBS:
        raise ValueError(f"unknown verb {verb!r}")
    action: Element = {"type": "Action.Execute", "title": title, "verb": verb, "data": dict(data)}
    if style:
        action["style"] = style
    return action


def show_card(title: str, body: Iterable[Element], actions: Iterable[Element] = ()) -> Element:
    return {"type": "Action.ShowCard", "title": title, "card": inline_card(body, actions)}


def action_set(actions: Iterable[Element]) -> Element:
    return {"type": "ActionSet", "actions": list(actions)}


def choices(pairs: Iterable[tuple[str, str]]) -> list[Element]:
    """(value, title) pairs -> ChoiceSet choices."""
    return [{"title": title, "value": value} for value, title in pairs]


def choice_set(
    id_: str,
    label: str,
    options: Sequence[tuple[str, str]],
    *,
    multi: bool = False,
    style: str = "compact",
    value: str | None = None,
    placeholder: str | None = None,
    required_message: str | None = None,
) -> Element:
    element: Element = {"type": "Input.ChoiceSet", "id": id_, "label": label, "style": style}
    if multi:
        element["isMultiSelect"] = True
    if value:
        element["value"] = value
    if placeholder:
        element["placeholder"] = placeholder
    if required_message:
        element["isRequired"] = True
        element["errorMessage"] = required_message
    element["choices"] = choices(options)
    return element


def text_input(
    id_: str,
    label: str,
    *,
    value: str | None = None,
    placeholder: str | None = None,
    style: str | None = None,
    max_length: int | None = None,
    regex: str | None = None,
    required_message: str | None = None,
    error_message: str | None = None,
) -> Element:
    element: Element = {"type": "Input.Text", "id": id_, "label": label}
    if style:
        element["style"] = style
    if value:
        element["value"] = value
    if placeholder:
        element["placeholder"] = placeholder
    if max_length:
        element["maxLength"] = max_length
    if regex:
        element["regex"] = regex
    if required_message:
        element["isRequired"] = True
    message = required_message or error_message
    if message:
        element["errorMessage"] = message
    return element


def toggle(id_: str, title: str, *, on: bool = False) -> Element:
    return {
        "type": "Input.Toggle",
        "id": id_,
        "title": title,
        "value": "true" if on else "false",
        "valueOn": "true",
        "valueOff": "false",
    }


def date_input(id_: str, label: str, *, value: str | None = None) -> Element:
    element: Element = {"type": "Input.Date", "id": id_, "label": label}
    if value:
        element["value"] = value
    return element
