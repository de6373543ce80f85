"""A card answer's JSON, put together without msrest, is what msrest would have written."""

from __future__ import annotations

import pytest
from botbuilder.core import serializer_helper
from botbuilder.schema import InvokeResponse

from bot.framework.adapter import card_response, invoke_json
from cards.gallery import sample_cards
from cards.i18n import LANGS, Lang


@pytest.mark.parametrize("lang", LANGS)
def test_every_card_answer_is_written_as_msrest_would(lang: Lang) -> None:
    for name, card in sample_cards(lang).items():
        body = card_response(card).body
        assert invoke_json(body) == serializer_helper(body), name


def test_other_answers_still_go_through_msrest_or_as_they_are() -> None:
    assert invoke_json({"ok": True}) == {"ok": True}
    response = InvokeResponse(status=200, body=InvokeResponse(status=204))
    assert invoke_json(response.body) == serializer_helper(response.body)
