"""Consultation requests as each of their people sees them, with fixed, fictional data: for
card tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

from mediation import errors
from mediation.consultation import (
    Answer,
    AnswerKind,
    ConsentBasis,
    ConsultationFigures,
    ConsultationRefused,
    Status,
)
from mediation.consultation_views import (
    AnswerView,
    ConsultationList,
    ConsultationView,
    DayAgenda,
    InvitationLine,
    Part,
    Person,
)

ZONE = "Europe/Helsinki"
CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = date(2026, 3, 10)
AREAS = ("Hyvinkää", "Järvenpää", "Kerava")

REQUESTER = Person(1, "Aino Virtanen")
COORDINATOR = Person(2, "Päivi Korhonen")
PSYCHIATRIST = Person(3, "Bertil Lindqvist")
JUDGE = Person(4, "Sara Holm")
POLICE = Person(5, "Jukka Nieminen")
# Typed by the requester; a test checks it reaches no one who may not read it.
QUESTION = "Miten tukea lapsen tapaamisia, kun toinen vanhempi on uhannut viedä lapsen?"


def requester_waiting() -> ConsultationView:
    return ConsultationView(
        id=7,
        code="2026-K007",
        status=Status.WAITING,
        urgent=False,
        region="Kerava",
        categories=("alienation", "repeated_court_cases"),
        created_at=CREATED,
        viewer=REQUESTER,
        parts=frozenset({Part.REQUESTER}),
        requester=REQUESTER,
        consent_basis=ConsentBasis.CONSENT,
        consent_given_on=date(2026, 2, 27),
        exception_asked_by=None,
        exception_approved_by=None,
        day=None,
        invitations=(),
        question=QUESTION,
        background="Perheneuvola ja lastenvalvoja ovat mukana.",
        birth_years=(2014, 2017),
        capacity=4,
    )


def coordinator_urgent_exception() -> ConsultationView:
    return replace(
        requester_waiting(),
        urgent=True,
        categories=("abduction_threat",),
        viewer=COORDINATOR,
        parts=frozenset({Part.COORDINATOR}),
        consent_basis=ConsentBasis.PENDING,
        consent_given_on=None,
        exception_asked_by=REQUESTER,
        background="",
        birth_years=(),
        justification="Lapsen turvallisuus: perhettä ei voi nyt kysyä.",
        days=((DAY, 2), (date(2026, 3, 17), 4)),
    )


def coordinator_on_agenda() -> ConsultationView:
    return replace(
        requester_waiting(),
        status=Status.ON_AGENDA,
        viewer=COORDINATOR,
        parts=frozenset({Part.COORDINATOR}),
        day=DAY,
        invitations=(
            InvitationLine(PSYCHIATRIST, "child_psychiatry", Answer.ACCEPTED),
            InvitationLine(JUDGE, "district_court", Answer.PENDING),
            InvitationLine(POLICE, "police", Answer.DECLINED),
        ),
        days=((DAY, 3), (date(2026, 3, 17), 1)),
        candidates={"police": (Person(6, "Liisa Mäkinen"),), "law": (Person(8, "Emil Sjöberg"),)},
    )


def expert_asked() -> ConsultationView:
    return replace(
        coordinator_on_agenda(),
        viewer=JUDGE,
        parts=frozenset({Part.EXPERT}),
        days=(),
        candidates={},
    )


def expert_declined() -> ConsultationView:
    return replace(
        expert_asked(),
        viewer=POLICE,
        question=None,
        background=None,
        birth_years=(),
    )


def requester_answered() -> ConsultationView:
    return replace(
        requester_waiting(),
        status=Status.ANSWERED,
        day=DAY,
        invitations=coordinator_on_agenda().invitations,
        answered=True,
        answer_kind=AnswerKind.CLIENT_MEETING,
    )


def requester_answer_open() -> ConsultationView:
    return replace(
        requester_answered(),
        answer=AnswerView(
            AnswerKind.CLIENT_MEETING,
            "Yksi asiakastapaaminen käräjätuomarin ja lastenpsykiatrin kanssa.",
            COORDINATOR,
            datetime(2026, 3, 10, 14, 0, tzinfo=UTC),
            datetime(2026, 3, 24, 10, 0, tzinfo=UTC),
            "Perheneuvola, Kerava",
            (PSYCHIATRIST,),
        ),
    )


def coordinator_list() -> ConsultationList:
    urgent = replace(coordinator_urgent_exception(), id=9, code="2026-K009")
    return ConsultationList(
        COORDINATOR,
        True,
        (urgent, replace(requester_waiting(), id=8, code="2026-K008")),
        (DayAgenda(DAY, (coordinator_on_agenda(),)), DayAgenda(date(2026, 3, 17), ())),
        (),
        4,
    )


def requester_list() -> ConsultationList:
    return ConsultationList(REQUESTER, False, (), (), (requester_answered(),), 4)


FIGURES = ConsultationFigures(
    2026,
    12,
    3,
    {"abduction_threat": 2, "alienation": 7, "violence": 3},
    {"Hyvinkää": 5, "Kerava": 7},
    {"consent": 10, "exception": 2},
    9.5,
    {"recommendation": 6, "client_meeting": 2},
    {"child_psychiatry": 5, "district_court": 2},
)


def consultation_errors() -> list[errors.DomainError]:
    """Every refusal of the consultations, with its parameters."""
    reasons: list[tuple[str, dict[str, object]]] = [
        ("urgent_needs_category", {}),
        ("answered_already", {}),
        ("not_a_day", {}),
        ("day_full", {"capacity": 4}),
        ("not_on_agenda", {}),
        ("requester_only", {}),
        ("withdrawn", {}),
        ("coordinators_only", {}),
        ("answer_not_yours", {}),
    ]
    fields = (
        "region",
        "categories",
        "question",
        "background",
        "birth_years",
        "consent_date",
        "speciality",
        "experts",
        "answer",
        "answer_kind",
        "meeting_at",
        "meeting_day",
        "meeting_time",
        "meeting_place",
        "attendees",
        "day",
    )
    return [
        *(ConsultationRefused(reason, **params) for reason, params in reasons),
        *(errors.InvalidInput(name, "required") for name in fields),
    ]
