"""The `requests` queue card after a flood: filtered, in the queue's order, bounded in size."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from cards.i18n import LANGS, Lang, tn
from cards.requests import QUEUE_BUDGET, QUEUE_SHOWN, RequestView, queue_card
from mediation.requests import RequestStatus
from tests.card_schema import assert_valid_card
from tests.unit.request_samples import RECEIVED, sample

ZONE = ZoneInfo("Europe/Helsinki")
LONGEST_NAME = "Å" * 100  # the contact form's limit


def flood(count: int) -> list[RequestView]:
    """``count`` requests as the queue orders them: the urgent ones first, then the oldest."""
    views = []
    for n in range(1, count + 1):
        request = sample(
            n,
            created_at=RECEIVED + timedelta(minutes=n),
            violence_or_fear=n % 7 == 0,
            parent_name=LONGEST_NAME,
            status=RequestStatus.TAKEN if n % 3 == 0 else RequestStatus.NEW,
            taken_by=2 if n % 3 == 0 else None,
        )
        views.append(RequestView(request, {2: "Ö" * 100}, ZONE, 3))
    return sorted(views, key=lambda v: (not v.request.form.urgent, v.request.created_at))


def request_choices(card: dict[str, object]) -> dict[str, object]:
    body = card["body"]
    assert isinstance(body, list)
    return next(e for e in body if e.get("id") == "request_id")


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("count", [16, 60, 187, 500])
def test_a_flood_of_requests_fits_one_valid_card(lang: Lang, count: int) -> None:
    views = flood(count)
    card = queue_card(views, lang, 2026)
    assert_valid_card(card)  # more than 15 choices: a filtered list
    assert len(json.dumps(card, ensure_ascii=False).encode()) < 28 * 1024
    assert len(json.dumps(card)) <= QUEUE_BUDGET + 2_000  # the choice set and actions
    picker = request_choices(card)
    assert picker["style"] == "filtered"
    listed = [int(c["value"]) for c in picker["choices"]]  # type: ignore[index]
    assert listed == [v.request.id for v in views[: len(listed)]], "the queue's own order"
    assert 0 < len(listed) <= QUEUE_SHOWN
    assert listed[0] == 7, "urgent first"
    more = count - len(listed)
    shown = [b.get("text") for b in card["body"]]  # type: ignore[union-attr]
    if more:
        assert tn(lang, "requests.more", more) in shown
    else:
        assert not any("requests.more" in str(s) for s in shown)


@pytest.mark.parametrize("lang", LANGS)
def test_a_short_queue_lists_everything_and_says_nothing_more(lang: Lang) -> None:
    views = flood(3)
    card = queue_card(views, lang, 2026)
    assert [c["value"] for c in request_choices(card)["choices"]] == ["1", "2", "3"]  # type: ignore[index]
    assert tn(lang, "requests.more", 1) not in json.dumps(card, ensure_ascii=False)


@pytest.mark.parametrize("lang", LANGS)
def test_the_card_counts_the_waiting_it_was_not_given(lang: Lang) -> None:
    views = flood(500)
    card = queue_card(views[:QUEUE_SHOWN], lang, 2026, waiting=500)
    assert card == queue_card(views, lang, 2026)  # the same card from the first ones only
    listed = request_choices(card)["choices"]
    shown = [b.get("text") for b in card["body"]]  # type: ignore[union-attr]
    assert tn(lang, "requests.more", 500 - len(listed)) in shown  # type: ignore[arg-type]
