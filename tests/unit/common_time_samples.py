"""Common times as each of their people sees them, with fixed, fictional data: for card tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

from cards.common_time_feedback import FamilyLinkShown
from mediation import errors
from mediation.case_types import Step
from mediation.common_time import (
    COMMON_TIME_KIND,
    FOLLOW_UP_KIND,
    Answer,
    CommonTimeFigures,
    JointPlan,
    Place,
    PlanAction,
    Status,
)
from mediation.common_time_feedback import TeamFeedback
from mediation.common_time_views import (
    ActionLine,
    CommonTimeView,
    ExceptionLine,
    InvitationLine,
    MeetingLine,
    Part,
    Person,
    TeamFeedbackView,
    TimeOption,
)

ZONE = "Europe/Helsinki"
CREATED = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MEETING_AT = datetime(2026, 3, 17, 11, 0, tzinfo=UTC)  # Tue 13:00 in Helsinki

CONVENER = Person(1, "Aino Virtanen")
PSYCHOLOGIST = Person(2, "Bertil Lindqvist")
COORDINATOR = Person(3, "Päivi Korhonen")
FAMILY_WORKER = Person(4, "Jukka Nieminen")
SPEECH_THERAPIST = Person(5, "Sara Holm")
OTHER_THERAPIST = Person(6, "Liisa Mäkinen")
SOCIAL_WORKER = Person(7, "Emil Sjöberg")
RESPONSIBLE = Person(8, "Hanna Laine")
TEACHER = Person(9, "Olli Rantanen")

COMPETENCES = ("child_welfare", "family_work", "psychology", "speech_therapy")
CONSENTED = frozenset({Step.CONVENE})
NEEDS = frozenset({Step.CONVENE, Step.SHARE_PLAN})
# Typed by the convener; a test checks none of it reaches a card without the plan.
MATTERS = "Aamut sujuvat: Eetu lähtee kouluun ajallaan ja syö aamupalan."
PLAN = JointPlan(
    matters=MATTERS,
    actions=(
        PlanAction(Place.HOME, "Iltarutiini kuvakortein", done=True),
        PlanAction(Place.DAYCARE_OR_SCHOOL, "Koulun aamuvastaanotto"),
        PlanAction(Place.ELSEWHERE, "Vertaisryhmä vanhemmille", "Perheneuvola, Kerava", False),
    ),
    follow_up_how="Vastuutyöntekijä soittaa kahden viikon välein.",
    family_reaches_worker="Puhelin arkisin 9–11.",
    next_contact=date(2026, 4, 14),
    shared_with=frozenset({TEACHER.id}),
)
ACTIONS = tuple(
    ActionLine(n, a.place.value, a.what, a.where, a.done) for n, a in enumerate(PLAN.actions)
)
JUSTIFICATION = "Lapsen etu: koulu tarvitsee suunnitelman ennen kevätlomaa."


def invitations(*answers: tuple[Person, str, Answer]) -> tuple[InvitationLine, ...]:
    return tuple(InvitationLine(p, c, a) for p, c, a in answers)


CONVENING_TEAM = invitations(
    (PSYCHOLOGIST, "psychology", Answer.ACCEPTED),
    (SPEECH_THERAPIST, "speech_therapy", Answer.DECLINED),
    (FAMILY_WORKER, "family_work", Answer.PENDING),
)
FULL_TEAM = invitations(
    (PSYCHOLOGIST, "psychology", Answer.ACCEPTED),
    (SPEECH_THERAPIST, "speech_therapy", Answer.DECLINED),
    (OTHER_THERAPIST, "speech_therapy", Answer.ACCEPTED),
    (FAMILY_WORKER, "family_work", Answer.ACCEPTED),
    (SOCIAL_WORKER, "child_welfare", Answer.ACCEPTED),
)


def meeting(n: int, kind: str, start: datetime, minutes: int, room: str, **kw: Any) -> MeetingLine:
    base: dict[str, Any] = {"held": False, "cancelled": False, "in_calendar": True}
    return MeetingLine(n, kind, start, start + timedelta(minutes=minutes), room, **{**base, **kw})


COMMON_MEETING = meeting(1, COMMON_TIME_KIND, MEETING_AT, 90, "Perhekeskus, neuvotteluhuone 2")


def view(viewer: Person, parts: set[Part], **kw: Any) -> CommonTimeView:
    """Common time 2026-T07 in Kerava, as ``viewer`` sees it; ``kw`` changes what differs."""
    base: dict[str, Any] = {
        "id": 7,
        "code": "2026-T07",
        "status": Status.CONVENING,
        "municipality": "Kerava",
        "created_at": CREATED,
        "competences": COMPETENCES,
        "viewer": viewer,
        "parts": frozenset(parts),
        "convener": CONVENER,
        "consented": CONSENTED,
        "needs_consent": NEEDS,
        "exceptions": (),
        "invitations": CONVENING_TEAM,
        "uncovered": ("child_welfare", "speech_therapy"),
    }
    return CommonTimeView(**{**base, **kw})


def convener_convening() -> CommonTimeView:
    """A decline to replace, candidates for it, and nobody free for child welfare."""
    return view(
        CONVENER,
        {Part.CONVENER},
        candidates={"speech_therapy": (OTHER_THERAPIST, Person(10, "Kaisa Lehto"))},
    )


def invitee_pending() -> CommonTimeView:
    return view(FAMILY_WORKER, {Part.INVITEE})


def convener_ready() -> CommonTimeView:
    return view(CONVENER, {Part.CONVENER}, invitations=FULL_TEAM, uncovered=())


TIMES = (
    TimeOption(MEETING_AT, MEETING_AT + timedelta(minutes=90), "Perhekeskus, neuvotteluhuone 2"),
    TimeOption(
        MEETING_AT + timedelta(days=1, hours=-2),
        MEETING_AT + timedelta(days=1, hours=-2, minutes=90),
        "Kerava, Kauppakaari 12, sali",
        preferred=True,
    ),
)


def convener_booked() -> CommonTimeView:
    return view(
        CONVENER,
        {Part.CONVENER},
        status=Status.BOOKED,
        invitations=FULL_TEAM,
        uncovered=(),
        meetings=(replace(COMMON_MEETING, in_calendar=False),),
        responsible_choices=(RESPONSIBLE, SOCIAL_WORKER),
    )


def convener_held() -> CommonTimeView:
    return view(
        CONVENER,
        {Part.CONVENER},
        status=Status.HELD,
        invitations=FULL_TEAM,
        uncovered=(),
        meetings=(replace(COMMON_MEETING, held=True),),
        responsible=(RESPONSIBLE,),
        plan_party_choices=(TEACHER, PSYCHOLOGIST),
    )


def responsible_follow_up() -> CommonTimeView:
    follow_up = meeting(2, FOLLOW_UP_KIND, datetime(2026, 4, 14, 7, 0, tzinfo=UTC), 60, "Neuvola")
    return view(
        RESPONSIBLE,
        {Part.RESPONSIBLE},
        status=Status.FOLLOW_UP,
        consented=NEEDS,
        invitations=FULL_TEAM,
        uncovered=(),
        meetings=(replace(COMMON_MEETING, held=True), follow_up),
        responsible=(RESPONSIBLE,),
        has_plan=True,
        plan=PLAN,
        actions=ACTIONS,
        plan_shared_with=(TEACHER,),
        next_contact=PLAN.next_contact,
    )


def coordinator_exception() -> CommonTimeView:
    """A coordinator: one exception approved, one to approve, with their justifications."""
    exceptions = (
        ExceptionLine(Step.CONVENE, CONVENER, CREATED, COORDINATOR, JUSTIFICATION),
        ExceptionLine(Step.SHARE_PLAN, CONVENER, CREATED + timedelta(days=20), None, JUSTIFICATION),
    )
    return view(
        COORDINATOR,
        {Part.COORDINATOR},
        status=Status.HELD,
        consented=frozenset(),
        exceptions=exceptions,
        invitations=FULL_TEAM,
        uncovered=(),
        meetings=(replace(COMMON_MEETING, held=True),),
        responsible=(RESPONSIBLE,),
    )


def list_views() -> list[CommonTimeView]:
    return [
        convener_convening(),
        replace(responsible_follow_up(), id=8, code="2026-T08", municipality="Järvenpää"),
        replace(
            invitee_pending(),
            id=9,
            code="2026-T09",
            status=Status.CANCELLED,
            parts=frozenset({Part.INVITEE, Part.PLAN_PARTY}),
        ),
    ]


def common_time_errors() -> list[errors.DomainError]:
    """The refusals a common time's rules raise with their own fields and statuses."""
    return [
        errors.IllegalTransition("invite to", "booked"),
        errors.IllegalTransition("answer an invitation to", "held"),
        errors.IllegalTransition("record the common time of", "convening"),
        errors.IllegalTransition("change", "cancelled"),
        errors.NotQualified("Aino Virtanen", "team_member", "speech_therapy"),
        errors.CompetencesMissing("2026-T07", "child_welfare, speech_therapy"),
        errors.NotFound("case 2026-T07 has no plan yet"),
        errors.PackageFull(1),
        *(
            errors.InvalidInput(field, problem)
            for field, problem in (
                ("competences", "required"),
                ("competences", "unknown choice"),
                ("municipality", "too long"),
                ("competence", "unknown choice"),
                ("team", "too long"),
                ("step", "unknown choice"),
                ("held", "the meeting has not begun"),
                ("responsible", "unknown choice"),
                ("next_contact", "the period is already over"),
                ("actions", "required"),
                ("action", "unknown choice"),
                ("what", "required"),
                ("where", "required"),
                ("matters", "too long"),
                ("follow_up_how", "required"),
                ("family_reaches_worker", "required"),
                ("justification", "required"),
                ("room", "required"),
                ("person_id", "required"),
            )
        ),
    ]


def year_figures() -> CommonTimeFigures:
    """A family centre's year: three municipalities, a median of half a day, one plan open."""
    return CommonTimeFigures(
        by_municipality_month={
            ("Kuopio", 2): 1,
            ("Kuopio", 3): 4,
            ("Siilinjärvi", 3): 1,
            ("Suonenjoki", 11): 2,
        },
        days_consent_to_meeting=12.5,
        plans=7,
        plans_followed_up=6,
        competences_invited={"family_work": 8, "psychology": 3, "speech_therapy": 5},
        consent_to_meeting_count=8,
    )


NO_FIGURES = CommonTimeFigures({}, None, 0, 0, {})


# -- feedback -----------------------------------------------------------------------------------

FAMILY_LINK = FamilyLinkShown(
    "https://sopu.example.org/feedback/" + "a" * 32,
    "data:image/png;base64,iVBORw0KGgo=",
    date(2026, 5, 1),
)


def feedback_form() -> TeamFeedbackView:
    return TeamFeedbackView(7, "2026-T07", None)


def feedback_given() -> TeamFeedbackView:
    return TeamFeedbackView(7, "2026-T07", TeamFeedback(4, False, "Puheterapeutti puuttui."))
