"""The rules of feedback on a common time: who answers, what an answer may hold, the
family's link, and a year's figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from mediation import errors
from mediation.common_time import TeamMember
from mediation.common_time_feedback import (
    COMMENT_MAX,
    FAMILY_ANSWERS,
    FamilyAnswer,
    FamilyLink,
    TeamFeedback,
    check_may_give_feedback,
    common_time_feedback_figures,
    family_link_state,
    held_year,
    parse_family_answer,
    parse_team_feedback,
)
from mediation.feedback import LinkState
from tests.unit.test_common_time import (
    AWAY,
    COUNSELLOR,
    LOCAL,
    NOW,
    NURSE,
    THERAPIST,
    consented,
    convened,
    held_at,
    to_held,
)

GOOD = {"useful": "4", "competences_present": "yes", "comment": " Hyvä kokous \r\nKiitos "}


def test_the_convener_and_those_who_accepted_give_feedback_once_the_meeting_is_held() -> None:
    ct = to_held()
    for person in (NURSE, COUNSELLOR, THERAPIST):
        assert check_may_give_feedback(ct, person.id, LOCAL) == held_year(ct, LOCAL) == 2026
    with pytest.raises(errors.NotAllowed):
        check_may_give_feedback(ct, AWAY.id, LOCAL)


def test_no_feedback_before_the_meeting_is_held() -> None:
    ct = consented(convened())
    ct.invite(COUNSELLOR, "family_counselling", NOW)
    ct.answer(COUNSELLOR.id, True, NOW)
    assert held_year(ct, LOCAL) is None
    with pytest.raises(errors.IllegalTransition):
        check_may_give_feedback(ct, COUNSELLOR.id, LOCAL)


def test_a_declined_invitee_did_not_attend() -> None:
    ct = consented(convened("family_counselling"))
    ct.invite(COUNSELLOR, "family_counselling", NOW)
    ct.answer(COUNSELLOR.id, False, NOW)
    ct.invite(TeamMember(7, "Kaisa Kasvatus", COUNSELLOR.competences), "family_counselling", NOW)
    ct.answer(7, True, NOW)
    ct.book(NOW + timedelta(days=7), "room", NOW)
    ct.record_held(NOW + timedelta(days=7))
    check_may_give_feedback(ct, 7, LOCAL)
    with pytest.raises(errors.NotAllowed):
        check_may_give_feedback(ct, COUNSELLOR.id, LOCAL)


def test_an_attendees_answer_is_a_rating_a_yes_or_no_and_a_short_comment() -> None:
    assert parse_team_feedback(GOOD) == TeamFeedback(4, True, "Hyvä kokous \nKiitos")
    assert parse_team_feedback({"useful": 1, "competences_present": "no"}) == TeamFeedback(
        1, False, ""
    )


@pytest.mark.parametrize(
    ("changed", "field"),
    [
        ({"useful": "0"}, "useful"),
        ({"useful": "6"}, "useful"),
        ({"useful": "x"}, "useful"),
        ({"useful": 10**30}, "useful"),
        ({"useful": "9" * 400}, "useful"),
        ({"useful": True}, "useful"),
        ({"useful": ["5"]}, "useful"),
        ({"useful": 4.0}, "useful"),
        ({"useful": ""}, "useful"),
        ({"competences_present": "maybe"}, "competences_present"),
        ({"competences_present": True}, "competences_present"),
        ({"competences_present": None}, "competences_present"),
        ({"comment": "x" * (COMMENT_MAX + 1)}, "comment"),
        ({"comment": "a\x00b"}, "comment"),
        ({"comment": "Hetu 131052-308T"}, "comment"),
        ({"comment": 5}, "comment"),
    ],
)
def test_an_answer_that_does_not_fit_is_refused(changed: dict[str, object], field: str) -> None:
    with pytest.raises(errors.InvalidInput) as refused:
        parse_team_feedback({**GOOD, **changed})
    assert refused.value.params["field"] == field


def test_the_family_may_skip_questions_but_not_all_of_them() -> None:
    assert parse_family_answer({"heard": "5"}) == FamilyAnswer(None, 5, "")
    assert parse_family_answer({"good": "Kiitos"}) == FamilyAnswer(None, None, "Kiitos")
    with pytest.raises(errors.InvalidInput) as empty:
        parse_family_answer({"useful": "", "good": "  "})
    assert empty.value.params["field"] == "answers"


def test_the_familys_problems_are_named_together() -> None:
    with pytest.raises(errors.InvalidForm) as refused:
        parse_family_answer({"useful": "7", "good": "131052-308T"})
    assert set(refused.value.problems) == {"useful", "good"}
    with pytest.raises(errors.InvalidInput):
        parse_family_answer({"heard": "0"})


def test_the_familys_link_takes_a_few_answers_until_it_expires() -> None:
    link = FamilyLink("t" * 32, 1, 2026, NOW + timedelta(days=60))
    assert family_link_state(link, NOW) == LinkState.OPEN
    assert family_link_state(link, NOW + timedelta(days=60)) == LinkState.EXPIRED
    used = FamilyLink("t" * 32, 1, 2026, NOW + timedelta(days=60), uses=FAMILY_ANSWERS)
    assert family_link_state(used, NOW) == LinkState.USED
    assert family_link_state(None, NOW) == LinkState.UNKNOWN


def test_a_years_figures_count_the_answers_and_average_the_ratings() -> None:
    team = [TeamFeedback(5, True), TeamFeedback(4, True), TeamFeedback(2, False, "Puuttui")]
    family = [FamilyAnswer(5, None), FamilyAnswer(4, 3), FamilyAnswer(None, None, "Kiitos")]
    figures = common_time_feedback_figures(team, family)
    assert (figures.team_answers, figures.team_useful, figures.competences_present) == (
        3,
        3.7,
        2,
    )
    assert (figures.family_answers, figures.family_useful, figures.family_heard) == (3, 4.5, 3.0)
    empty = common_time_feedback_figures([], [])
    assert empty.team_useful is None and empty.family_useful is None
    assert empty.team_answers == empty.family_answers == 0


def test_feedback_counts_in_the_banks_year_of_the_meeting() -> None:
    ct = held_at(datetime(2026, 12, 31, 22, 30, tzinfo=UTC))  # 00:30 on 1 January in Helsinki
    assert held_year(ct, LOCAL) == 2027
