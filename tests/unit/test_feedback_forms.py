"""The feedback forms' rules: what a parent's and a mediator's answers may hold."""

from __future__ import annotations

import pytest

from mediation import errors
from mediation.feedback import (
    ClientAnswer,
    looks_like_token,
    new_token,
    parse_case_feedback,
    parse_client_answer,
    parse_meeting_feedback,
)


def test_a_parent_may_skip_questions_but_not_all_of_them() -> None:
    answer = parse_client_answer({"felt_heard": "4", "good": "  Rauhallista. \r\n"})
    assert answer == ClientAnswer(None, None, 4, None, None, None, "Rauhallista.", "")
    with pytest.raises(errors.InvalidInput):
        parse_client_answer({"good": "   "})


@pytest.mark.parametrize(
    ("form", "field", "problem"),
    [
        ({"settled": "totally"}, "settled", "unknown choice"),
        ({"felt_heard": "6"}, "felt_heard", "unknown choice"),
        ({"child_view": "٣"}, "child_view", "unknown choice"),
        ({"good": "x" * 2001}, "good", "too long"),
        ({"missing": ["a", "b"]}, "missing", "not text"),
    ],
)
def test_answers_that_do_not_fit_are_named(form: dict, field: str, problem: str) -> None:
    with pytest.raises(errors.InvalidForm) as caught:
        parse_client_answer({**form, "recommend": "yes"})
    assert caught.value.problems[field].params["problem"] == problem


def test_control_characters_are_dropped_but_text_is_kept_as_typed() -> None:
    answer = parse_client_answer({"good": "<b>hi</b>\x00\x1b ok\n2"})
    assert answer.good == "<b>hi</b> ok\n2"


def test_tokens_are_random_and_shaped() -> None:
    tokens = {new_token() for _ in range(100)}
    assert len(tokens) == 100 and all(looks_like_token(t) for t in tokens)
    assert not looks_like_token("../../etc/passwd" + "a" * 16)
    assert not looks_like_token("ä" * 32)


def test_meeting_feedback_needs_a_rating_and_the_cooperation() -> None:
    fb = parse_meeting_feedback({"fb_rating": "4", "fb_cooperation": "partly", "fb_note": " x "})
    assert (fb.rating, fb.cooperation, fb.note) == (4, "partly", "x")
    with pytest.raises(errors.InvalidForm) as caught:
        parse_meeting_feedback({"fb_note": "y"})
    assert set(caught.value.problems) == {"fb_rating", "fb_cooperation"}


def test_case_feedback_reads_the_cards_multi_select() -> None:
    fb = parse_case_feedback(
        {"cf_package": "5", "cf_pair": "3", "cf_helped": "pair_work,joint_meetings", "cf_hard": ""}
    )
    assert fb.helped == ("joint_meetings", "pair_work") and fb.hard == ()
    with pytest.raises(errors.InvalidInput):
        parse_case_feedback({"cf_package": "5", "cf_pair": "3", "cf_hard": "boredom"})
