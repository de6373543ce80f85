"""Small constructors of Adaptive Card elements, so that each card module reads as a layout."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from cards.verbs import VERBS

Card = dict[str, Any]
Element = dict[str, Any]

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"  # Teams' level for Action.Execute


# What a person typed becomes plain text: the characters that would make Markdown are swapped
# for look-alikes that Teams shows as they are (see ``plain``).
_ZERO_WIDTH_JOINER = "\u200d"
_EVERYWHERE = str.maketrans({"*": "\u2217", "~": "\u223c", "`": "\u02cb"})  # ∗ ∼ ˋ
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")  # not between two letters or digits
_LINK = re.compile(r"\](?=\()")
_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_LINE_MARK = re.compile(r"^([ \t]*)(#|>|=|[-+](?=\s|-|$)|\d{1,9}[.)](?=\s|$))", re.MULTILINE)
_LINE_LOOK_ALIKE = {"#": "\uff03", ">": "\u203a", "=": "\uff1d", "-": "\u2011", "+": "\uff0b"}


def _line_mark(match: re.Match[str]) -> str:
    indent, mark = match.groups()
    if mark[-1] in ".)":  # "1." or "1)": the digits stay, the dot becomes a one-dot leader
        return indent + mark[:-1] + ("\u2024" if mark[-1] == "." else "\uff09")
    return indent + _LINE_LOOK_ALIKE[mark]


def plain(value: str) -> str:
    """Text a person typed, shown as plain text in a TextBlock, a fact or a choice.

    Teams renders Markdown in TextBlocks, facts and choices, and it does not reliably honour
    a backslash escape, so the few characters that would make markup are replaced by
    characters that look the same to a reader but mean nothing to Markdown:

    - ``*``, ``~`` and backticks everywhere (∗ ∼ ˋ): a lone one could pair with another
      on the same line, from the next value the card joins to it;
    - ``_`` unless it stands between two letters or digits (＿): inside a word, as in
      ``first_last@example.fi``, Markdown never reads it as emphasis, and an address a
      coordinator copies stays right;
    - ``](`` of a link gets a zero-width joiner between its brackets, so ``[text](url)``
      stays readable but is no link;
    - ``<`` before a letter, ``/``, ``!`` or ``?`` (‹), so ``<at>`` is no mention and no
      tag is read;
    - at the start of a line only: ``#`` (＃), ``>`` (›), ``=`` (＝), a ``-`` or ``+``
      list marker (‑ ＋) and the dot or parenthesis of ``1.`` / ``1)`` (․ ）), so no
      heading, quote or list begins. A phone number's ``+358`` is no list marker and stays.

    Catalog text is never passed through here: its own Markdown is meant.
    """
    value = value.translate(_EVERYWHERE)
    value = _UNDERSCORE.sub("\uff3f", value)
    value = _LINK.sub("]" + _ZERO_WIDTH_JOINER, value)
    value = _TAG.sub("\u2039", value)
    return _LINE_MARK.sub(_line_mark, value)


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


# What a list may take of a card, serialized as the Bot Framework sends it: Teams refuses a
# message over about 28 KB, and the card's own heading, buttons and the envelope need room.
LIST_BUDGET = 22_000


def fitted(
    groups: Iterable[Sequence[Element]], more: Callable[[int], Element], budget: int = LIST_BUDGET
) -> list[Element]:
    """The elements of as many ``groups`` (a list's entries) as fit in ``budget``, in order,
    then ``more(n)`` saying how many entries were left out."""
    shown: list[Element] = []
    size = 0
    entries = list(groups)
    for n, group in enumerate(entries):
        cost = len(json.dumps(list(group)))
        if size + cost > budget:
            return [*shown, more(len(entries) - n)]
        shown.extend(group)
        size += cost
    return shown


# Teams refuses a message over about 28 KB, counted as sent: UTF-8 JSON. A kilobyte of it
# is the activity around the card.
MESSAGE_BYTES = 27_000
_SHORTEST_CUT = 120
_ELLIPSIS = "…"


def message_bytes(card: Card) -> int:
    return len(json.dumps(card, ensure_ascii=False, separators=(",", ":")).encode("utf-8"))


def fit_message(card: Card, limit: int = MESSAGE_BYTES) -> Card:
    """The card itself when it fits in one Teams message; else a copy whose longest texts
    (shown text, facts and what inputs were refilled with) are cut, longest first, until it
    fits. Lists are fitted where they are built (``fitted``); this is the last guard, for
    long texts people typed: a card Teams refuses would show nothing at all."""
    size = message_bytes(card)
    if size <= limit:
        return card
    shrunk = json.loads(json.dumps(card))
    texts = [
        (node, key)
        for node in _all_nodes(shrunk)
        for key in ("text", "value")
        if isinstance(node.get(key), str) and len(node[key]) > _SHORTEST_CUT
    ]
    while size > limit and texts:
        node, key = max(texts, key=lambda found: len(found[0][found[1]]))
        value = node[key]
        keep = max(_SHORTEST_CUT, len(value) // 2)
        node[key] = value[:keep].rstrip() + _ELLIPSIS
        if keep == _SHORTEST_CUT:
            texts.remove((node, key))
        size = message_bytes(shrunk)
    return shrunk


def _all_nodes(node: Any) -> Iterable[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _all_nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _all_nodes(item)


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


def multiline(element: Element) -> Element:
    """A text input of several lines."""
    return element | {"isMultiline": True}


def notices(notice: str | None, refused: str | None) -> list[Element]:
    """What a card says on top after a click: what was done, or why nothing was."""
    shown: list[Element] = []
    if notice:
        shown.append(text(notice, weight="Bolder", color="Good"))
    if refused:
        shown.append(text(refused, weight="Bolder", color="Attention"))
    return shown


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


# The longest text put back into an input that names no maxLength: longer than any text
# Sopu takes (a family e-mail's body, 4000), and a card stays within one Teams message.
REFILL_MAX = 4000


def refill(card_or_element: Any, typed: Mapping[str, object]) -> None:
    """Put what the person typed back into the inputs of the same ids, in place.

    A form answered with a refusal comes back as it was sent, so nothing typed is lost.
    Values are checked against the input's type: a choice must be one of its choices, a
    number a number within its bounds; anything else keeps the form's own value.
    """
    if isinstance(card_or_element, list):
        for item in card_or_element:
            refill(item, typed)
        return
    if not isinstance(card_or_element, dict):
        return
    kind = str(card_or_element.get("type", ""))
    ident = card_or_element.get("id")
    if kind.startswith("Input.") and isinstance(ident, str) and ident in typed:
        value = _typed_value(card_or_element, typed[ident])
        if value is not None:
            card_or_element["value"] = value
    for child in card_or_element.values():
        if isinstance(child, dict | list):
            refill(child, typed)


def _typed_value(element: Mapping[str, Any], value: object) -> object | None:
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        return None
    kind = element.get("type")
    if kind == "Input.Number":
        try:
            number = float(value)
        except ValueError:
            return None
        low, high = element.get("min", float("-inf")), element.get("max", float("inf"))
        if number != number or not low <= number <= high:  # NaN, or out of bounds
            return None
        return int(number) if number.is_integer() else number
    text_value = str(value)
    if kind == "Input.ChoiceSet":
        allowed = {str(c.get("value")) for c in element.get("choices", [])}
        picked = [v for v in text_value.split(",") if v]
        return text_value if picked and all(v in allowed for v in picked) else None
    if kind == "Input.Toggle":
        return text_value if text_value in ("true", "false") else None
    limit = element.get("maxLength")
    if not isinstance(limit, int):
        limit = REFILL_MAX
    if len(text_value) > limit:
        return None
    return text_value
