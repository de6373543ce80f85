"""The consultation request's rules: consent or an approved exception, the urgent route, the
consultation days and their capacity, the experts' answers, the team's answer, the figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from mediation import errors
from mediation.case_types import EXPERT_SPECIALITIES, FAMILY_CENTRE_COMPETENCES, QUALIFICATIONS
from mediation.common_time import COMPETENCES
from mediation.consultation import (
    AnswerKind,
    ConsentBasis,
    Consultation,
    ConsultationDays,
    ConsultationRefused,
    DaySlot,
    Expert,
    Status,
    TeamAnswer,
    agenda_order,
    consultation_figures,
)
from mediation.model import Role
from mediation.policy import BankPolicy
from tests.unit.factories import mediator

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday
LOCAL = BankPolicy().local_date  # Europe/Helsinki
TODAY = NOW.date()
TUESDAY = date(2026, 3, 3)
DAYS = ConsultationDays()
JUDGE = Expert(10, "Sara Holm", frozenset({"district_court"}))
PSYCHIATRIST = Expert(11, "Bertil Lindqvist", frozenset({"child_psychiatry"}))


def sent(**extra: Any) -> Consultation:
    kwargs: dict[str, Any] = {"consent_given_on": date(2026, 2, 27)} | extra
    return Consultation.send(
        "2026-K001", 1, "Kerava", ["alienation"], "What helps the child?", NOW, **kwargs
    )


def test_specialities_are_qualifications_but_not_common_time_competences() -> None:
    assert set(EXPERT_SPECIALITIES) <= set(QUALIFICATIONS)
    assert COMPETENCES == FAMILY_CENTRE_COMPETENCES
    assert not set(EXPERT_SPECIALITIES) & set(COMPETENCES)


def test_a_request_names_no_one_and_refuses_identity_codes() -> None:
    with pytest.raises(errors.InvalidInput, match="identity"):
        sent(background="The father, 010203A123X, ...")
    with pytest.raises(errors.InvalidInput, match="saved"):
        Consultation.send("c", 1, "Kerava", ["other"], "a\x00b", NOW, consent_given_on=TODAY)
    with pytest.raises(errors.InvalidInput):
        sent(birth_years=(1990,))
    assert sent(birth_years=(2017, 2014)).birth_years == (2014, 2017)


def test_without_consent_a_justification_waits_for_another_coordinator() -> None:
    with pytest.raises(errors.InvalidInput, match="required"):
        sent(consent_given_on=None)
    request = sent(consent_given_on=None, justification="The child is at risk.")
    assert request.consent_basis is ConsentBasis.PENDING
    with pytest.raises(errors.ConsentExceptionPending):
        request.place(TUESDAY, DAYS, TODAY, 0)
    requester = mediator(id=1, role=Role.COORDINATOR)
    with pytest.raises(errors.NotAllowed):
        request.approve_exception(requester, NOW)
    assert request.approve_exception(mediator(id=2, role=Role.COORDINATOR), NOW)
    assert not request.approve_exception(mediator(id=2, role=Role.COORDINATOR), NOW)
    assert request.consent_basis is ConsentBasis.EXCEPTION
    assert request.place(TUESDAY, DAYS, TODAY, 0)


def test_a_consent_is_dated_and_not_from_the_future() -> None:
    assert sent().consent_given_on == date(2026, 2, 27)
    with pytest.raises(errors.InvalidInput):
        sent(consent_given_on=TODAY + timedelta(days=5))


def test_the_urgent_route_is_for_violence_or_abduction_and_goes_on_top() -> None:
    with pytest.raises(ConsultationRefused):
        sent(urgent=True)
    urgent = Consultation.send(
        "2026-K002",
        1,
        "Kerava",
        ["abduction_threat"],
        "Now.",
        NOW + timedelta(hours=1),
        urgent=True,
        justification="No time to ask.",
    )
    assert [c.code for c in agenda_order([sent(), urgent])] == ["2026-K002", "2026-K001"]


def test_consultation_days_recur_and_each_agenda_has_a_capacity() -> None:
    days = ConsultationDays.parse("tue 13:00-16:00, thu:9:00-11:00", capacity=2)
    assert days.slots == (DaySlot(1, time(13), time(16)), DaySlot(3, time(9), time(11)))
    assert days.upcoming(TODAY) == [TUESDAY, date(2026, 3, 5), date(2026, 3, 10), date(2026, 3, 12)]
    with pytest.raises(ValueError):
        ConsultationDays.parse("someday 13-16")
    request = sent()
    with pytest.raises(ConsultationRefused):
        request.place(date(2026, 3, 4), days, TODAY, 0)  # a Wednesday
    with pytest.raises(ConsultationRefused):
        request.place(TUESDAY, days, TODAY, 2)
    assert request.place(TUESDAY, days, TODAY, 1) and request.status is Status.ON_AGENDA

    assert not request.place(TUESDAY, days, TODAY, 2), "the same day again"


def test_experts_are_asked_by_speciality_and_answer_once() -> None:
    request = sent()
    with pytest.raises(ConsultationRefused):
        request.ask(JUDGE, "district_court", NOW)  # not on an agenda yet
    request.place(TUESDAY, DAYS, TODAY, 0)
    with pytest.raises(errors.NotQualified):
        request.ask(JUDGE, "police", NOW)
    assert request.ask(JUDGE, "district_court", NOW)
    assert not request.ask(JUDGE, "district_court", NOW)
    with pytest.raises(errors.NotInvited):
        request.reply(PSYCHIATRIST.id, True, NOW)
    assert request.reply(JUDGE.id, False, NOW)
    assert not request.reply(JUDGE.id, False, NOW)
    with pytest.raises(errors.AlreadyAnswered):
        request.reply(JUDGE.id, True, NOW)
    with pytest.raises(errors.InvitationDeclined):
        request.ask(JUDGE, "district_court", NOW)
    assert request.uncovered() == ["district_court"]


def test_a_client_meeting_is_with_experts_who_accepted() -> None:
    request = sent()
    request.place(TUESDAY, DAYS, TODAY, 0)
    request.ask(PSYCHIATRIST, "child_psychiatry", NOW)
    meeting = NOW + timedelta(days=10)
    with pytest.raises(errors.InvalidInput):
        request.give_answer(
            TeamAnswer(AnswerKind.CLIENT_MEETING, "Meet.", 2, NOW, meeting, "", (PSYCHIATRIST.id,))
        )
    request.reply(PSYCHIATRIST.id, True, NOW)
    with pytest.raises(errors.InvalidInput):
        TeamAnswer(AnswerKind.CLIENT_MEETING, "Meet.", 2, NOW)  # no time, no attendees
    request.give_answer(
        TeamAnswer(AnswerKind.CLIENT_MEETING, "Meet.", 2, NOW, meeting, "", (PSYCHIATRIST.id,))
    )
    assert request.status is Status.ANSWERED
    with pytest.raises(ConsultationRefused):
        request.give_answer(TeamAnswer(AnswerKind.STATEMENT, "Again.", 2, NOW))


def test_only_an_urgent_request_is_answered_before_a_day() -> None:
    with pytest.raises(ConsultationRefused):
        sent().give_answer(TeamAnswer(AnswerKind.RECOMMENDATION, "x", 2, NOW))
    urgent = Consultation.send(
        "2026-K003", 1, "Kerava", ["violence"], "Now.", NOW, urgent=True, consent_given_on=TODAY
    )
    urgent.give_answer(TeamAnswer(AnswerKind.MOBILE_PAIR, "The pair goes.", 2, NOW))
    assert urgent.status is Status.ANSWERED


def test_the_requester_withdraws_an_open_request() -> None:
    request = sent()
    with pytest.raises(ConsultationRefused):
        request.withdraw(2)
    request.withdraw(1)
    with pytest.raises(ConsultationRefused):
        request.place(TUESDAY, DAYS, TODAY, 0)


def test_the_years_figures() -> None:
    first = sent()
    first.place(TUESDAY, DAYS, TODAY, 0)
    first.ask(PSYCHIATRIST, "child_psychiatry", NOW)
    first.reply(PSYCHIATRIST.id, True, NOW)
    first.give_answer(TeamAnswer(AnswerKind.STATEMENT, "x", 2, NOW + timedelta(days=8)))
    second = sent(consent_given_on=None, justification="Child's interest.")
    figures = consultation_figures([first, second], 2026, LOCAL)
    assert (figures.requests, figures.urgent) == (2, 0)
    assert figures.by_category == {"alienation": 2}
    assert figures.by_region == {"Kerava": 2}
    assert figures.consent_basis == {"consent": 1, "pending": 1}
    assert figures.days_to_answer == 8.0
    assert figures.answer_kinds == {"statement": 1}
    assert figures.specialities_used == {"child_psychiatry": 1}
    assert consultation_figures([first], 2025, LOCAL).requests == 0


def test_todays_consultation_day_is_offered_until_its_hours_end() -> None:
    days = ConsultationDays.parse("tue 13:00-16:00", shown=2)
    assert days.upcoming(TUESDAY, time(15, 59)) == [TUESDAY, date(2026, 3, 10)]
    assert days.upcoming(TUESDAY, time(16)) == [date(2026, 3, 10), date(2026, 3, 17)]
    with pytest.raises(ConsultationRefused):
        sent().place(TUESDAY, days, TUESDAY, 0, time(17))


def test_a_request_sent_just_after_midnight_on_new_years_day_counts_in_the_new_year() -> None:
    late = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)  # 00:30 on 1 January in Helsinki
    request = Consultation.send(
        "2027-K001", 1, "Kerava", ["alienation"], "What helps?", late, consent_given_on=TODAY
    )
    assert consultation_figures([request], 2026, LOCAL).requests == 0
    assert consultation_figures([request], 2027, LOCAL).requests == 1
