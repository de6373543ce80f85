"""Values read from a card's data: a number, a case, a text, each refused in domain terms."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mediation import errors


def int_of(data: Mapping[str, Any], key: str, *, required: bool = True) -> int | None:
    """A number a card's choice or data carries; the problem says what the user can do."""
    value = data.get(key)
    if value in (None, "") or (isinstance(value, str) and not value.strip()):
        if not required:
            return None
        raise errors.InvalidInput(key, "required")
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    digits = value.strip() if isinstance(value, str) else ""
    # ASCII only: int() would also read other scripts' digits ("١" is 1).
    if digits.isascii() and digits.isdigit() and len(digits) < 12:
        return int(digits)
    raise errors.InvalidInput(key, "unknown choice")


def case_id_of(data: Mapping[str, Any]) -> int:
    """The case a button is about; a button without a readable one points at no case."""
    try:
        value = int_of(data, "case_id")
    except errors.InvalidInput:
        raise errors.CaseNotFound(str(data.get("case_id"))[:20]) from None
    assert value is not None
    return value


def text_of(data: Mapping[str, Any], key: str, limit: int = 500) -> str:
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise errors.InvalidInput(key, "not text")
    if len(value) > limit:
        raise errors.InvalidInput(key, "too long")
    return value
