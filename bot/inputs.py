"""Untrusted input read once, at the edge: request bodies, card data as bounded values.

Anything a client sends in ``action.data`` is untrusted: ids beyond the database's integer
range, durations of ``1e309`` or ``nan``, dates in year 9999 or other scripts' digits
would otherwise travel down to SQL or ``datetime`` arithmetic and fail there. Each reader
here either returns a value in range or raises ``InvalidInput``, which the router turns
into a refusal card in the clicker's language.
"""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from aiohttp import web

from mediation import errors, policy

log = logging.getLogger(__name__)

# PostgreSQL's integer: every id column Sopu has is one.
MAX_ID = 2**31 - 1
# An Entra object id is a GUID (36 characters); the column holding it has room for 64.
MAX_AAD = 64
FIRST_YEAR, LAST_YEAR = policy.FIRST_YEAR, policy.LAST_YEAR
_DIGITS = frozenset("0123456789")


class BodyTooLarge(ValueError):
    """A request body longer than its reader's limit."""


async def read_body(request: web.BaseRequest, limit: int) -> bytes:
    """The whole body of ``request``, read to its end; BodyTooLarge past ``limit`` bytes.

    A body may arrive in pieces, with or without a Content-Length (chunked): one read would
    return only the first piece, so the pieces are gathered and counted until the end.
    """
    if request.content_length is not None and request.content_length > limit:
        raise BodyTooLarge(f"{request.content_length} bytes announced")
    pieces: list[bytes] = []
    size = 0
    async for piece in request.content.iter_any():
        size += len(piece)
        if size > limit:
            raise BodyTooLarge(f"more than {limit} bytes")
        pieces.append(piece)
    return b"".join(pieces)


def client_address(request: web.BaseRequest, proxy_hops: int) -> str:
    """The address of whoever sent ``request``, seen through ``proxy_hops`` trusted proxies.

    Each proxy appends the address it got the request from to X-Forwarded-For, so the
    client's is the one ``proxy_hops`` from the right; what stands further left was written
    by the client and proves nothing. With no trusted proxy the header is ignored.
    """
    if proxy_hops > 0:
        forwarded = [
            part.strip()
            for header in request.headers.getall("X-Forwarded-For", [])
            for part in header.split(",")
        ]
        if len(forwarded) >= proxy_hops:
            found = _address(forwarded[-proxy_hops])
            if found is not None:
                return found
            _misconfigured()
    return request.remote or "-"


@functools.cache
def _misconfigured() -> None:
    # Once per process: every request would say the same, and the per-address limit then
    # counts everyone behind the proxy as one.
    log.warning("X-Forwarded-For holds no address where SOPU_TRUSTED_PROXY_HOPS says")


def _address(entry: str) -> str | None:
    """An address as proxies write it: bare, "v4:port" or "[v6]:port"."""
    text = entry.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]  # v4 with a port; a bare v6 has more colons
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


class NotJson(ValueError):
    """A request body that is not JSON in UTF-8."""


def _no_constant(name: str) -> Any:
    raise NotJson(f"not JSON: {name}")


def read_json(body: bytes) -> Any:
    """The JSON of a request body in UTF-8, the only encoding RFC 8259 allows between systems.

    NaN and Infinity are refused (they are not JSON, though Python's reader takes them),
    and so is nesting deeper than the reader's recursion allows.
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise NotJson("not UTF-8") from None
    try:
        return json.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise NotJson(f"not JSON: {exc.msg}") from None
    except RecursionError:
        raise NotJson("nested too deeply") from None
    except NotJson:
        raise  # NaN or Infinity (_no_constant)
    except ValueError:  # a number of more digits than int() converts (4300 by default)
        raise NotJson("not JSON: a number too long") from None


def whole(
    data: Mapping[str, Any], key: str, *, required: bool = True, low: int = 0, high: int = MAX_ID
) -> int | None:
    """A whole number in [low, high] from card data: a JSON integer or ASCII digits."""
    value = data.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        if not required:
            return None
        raise errors.InvalidInput(key, "required")
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str):
        digits = value.strip()
        # ASCII only: int() also reads other scripts' digits ("١" is 1), and str.isdigit()
        # is true of superscripts ("²") that int() refuses.
        if len(digits) <= len(str(high)) and set(digits) <= _DIGITS:
            number = int(digits)
    if number is None or not low <= number <= high:
        raise errors.InvalidInput(key, "unknown choice")
    return number


def number(value: Any) -> float | None:
    """A finite number from a JSON number or a short decimal text (comma or point), or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return float(value) if abs(value) <= 10**9 else None
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, str) and len(value) < 12:
        text = value.strip().replace(",", ".")
        if text and set(text) <= _DIGITS | {".", "-", "+"}:
            try:
                parsed = float(text)
            except ValueError:
                return None
            return parsed if math.isfinite(parsed) else None
    return None


def text(data: Mapping[str, Any], key: str, limit: int = 500) -> str:
    """Free text from card data, at most ``limit`` characters; absent is empty."""
    value = data.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise errors.InvalidInput(key, "not text")
    if len(value) > limit:
        raise errors.InvalidInput(key, "too long")
    return value


def moment(data: Mapping[str, Any], key: str) -> datetime:
    """A point in time with its UTC offset, between FIRST_YEAR and LAST_YEAR."""
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise errors.InvalidInput(key, "required")
    try:
        found = datetime.fromisoformat(value.strip()[:40])
    except ValueError:
        raise errors.InvalidInput(key, "not a date") from None
    if found.tzinfo is None or found.utcoffset() is None:
        raise errors.InvalidInput(key, "not a date")
    if not FIRST_YEAR <= found.year <= LAST_YEAR:
        raise errors.InvalidInput(key, "not a date")
    return found


def actor_id(value: Any) -> str:
    """The clicker's Entra object id, lower case; empty (nobody in the registry) if unusable.

    A value that no Entra id can be (too long, not text) is never looked up or stored, so
    it cannot reach a database column too short for it.
    """
    if not isinstance(value, str) or len(value) > MAX_AAD:
        return ""
    return value.lower()


def case_id(data: Mapping[str, Any]) -> int:
    """The case a button is about; a button without a readable one points at no case."""
    try:
        value = whole(data, "case_id")
    except errors.InvalidInput:
        raise errors.CaseNotFound(str(data.get("case_id"))[:20]) from None
    assert value is not None
    return value
