"""How lists of words (languages, topics, birth years) are kept: one space-separated column."""

from __future__ import annotations

from collections.abc import Iterable


def words(values: Iterable[object]) -> str:
    return " ".join(str(v) for v in values)
