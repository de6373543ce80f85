"""The common time's rules: consent, invitations and their replacements, the meeting with a
room, the responsible worker, the joint plan and who reads it, follow-up and figures."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from mediation import errors
from mediation.case_types import CHILD, PARENTS, Facts, Fill, Step, Viewer
from mediation.common_time import (
    COMMON_TIME,
    COMMON_TIME_KIND,
    FOLLOW_UP_KIND,
    MAX_TEAM,
    Answer,
    CommonTime,
    JointPlan,
    Place,
    PlanAction,
    Status,
    TeamMember,
    common_free_time,
    common_time_figures,
)
from mediation.consent import Consent, ConsentException
from mediation.model import Role
from mediation.organisations import Organisation, OrganisationKind
from mediation.policy import BankPolicy
from mediation.slots import BusyBlock, Schedule, SlotRequest
from tests.unit.factories import mediator

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LOCAL = BankPolicy().local_date  # Europe/Helsinki
TODAY = NOW.date()
CITY = Organisation("Kuopio", OrganisationKind.MUNICIPALITY)
COUNTY = Organisation("Pohjois-Savon hyvinvointialue", OrganisationKind.WELLBEING_COUNTY)
NGO = Organisation("Perhetyö ry", OrganisationKind.NGO)

NURSE = TeamMember(1, "Noora Neuvola", frozenset({"child_health_clinic"}), CITY)
COUNSELLOR = TeamMember(2, "Kalle Kasvatus", frozenset({"family_counselling"}), COUNTY)
COUNSELLOR2 = TeamMember(3, "Kaija Kasvatus", frozenset({"family_counselling"}), COUNTY)
THERAPIST = TeamMember(4, "Pia Puhe", frozenset({"speech_therapy"}), COUNTY)
FAMILY_WORKER = TeamMember(5, "Fanni Perhetyö", frozenset({"family_work"}), NGO)
AWAY = TeamMember(6, "Aaro Poissa", frozenset({"family_counselling"}), COUNTY, available=False)


def convened(*competences: str) -> CommonTime:
    wanted = competences or ("family_counselling", "speech_therapy")
    return CommonTime.convene("2026-Y001", NURSE, "Kuopio", wanted, NOW)


def consented(ct: CommonTime, *steps: Step) -> CommonTime:
    ct.record_consent(Consent(frozenset(steps or (Step.CONVENE,)), NURSE.id, NOW))
    return ct


def plan(next_contact: date = date(2026, 4, 15), shared: frozenset[int] = frozenset()) -> JointPlan:
    return JointPlan(
        matters="Mornings are hard: getting to day care on time.",
        actions=(
            PlanAction(Place.HOME, "An evening routine with pictures"),
            PlanAction(Place.DAYCARE_OR_SCHOOL, "A calm start in the group"),
            PlanAction(Place.ELSEWHERE, "Speech therapy visits", where="Puheterapia"),
        ),
        follow_up_how="A phone call to the parents",
        family_reaches_worker="Phone on weekdays 9-15",
        next_contact=next_contact,
        shared_with=shared,
    )


def to_held() -> CommonTime:
    ct = consented(convened())
    ct.invite(COUNSELLOR, "family_counselling", NOW)
    ct.invite(THERAPIST, "speech_therapy", NOW)
    ct.answer(COUNSELLOR.id, True, NOW)
    ct.answer(THERAPIST.id, True, NOW)
    ct.book(NOW + timedelta(days=7), "room-kirkkokatu@example.org", NOW)
    ct.record_held(NOW + timedelta(days=7, minutes=5))
    return ct


def in_follow_up() -> CommonTime:
    ct = to_held()
    ct.name_responsible([COUNSELLOR])
    ct.record_plan(plan(), NURSE.id, TODAY)
    return ct


# -- the declaration --------------------------------------------------------------------------


def test_the_common_time_is_a_case_type_of_its_own() -> None:
    convener, team, responsible = COMMON_TIME.seats
    assert (convener.role, convener.fill) == ("convener", frozenset({Fill.CREATOR}))
    assert (team.min_count, team.max_count, team.fill) == (0, MAX_TEAM, frozenset({Fill.INVITE}))
    assert (responsible.max_count, responsible.fill) == (2, frozenset({Fill.NAMED_BY_FAMILY}))
    meeting = COMMON_TIME.template(COMMON_TIME_KIND)
    assert meeting is not None and meeting.room
    assert meeting.attendees == {"convener", "team_member", PARENTS, CHILD}
    assert COMMON_TIME.blocking_order(FOLLOW_UP_KIND, set()) is not None
    assert COMMON_TIME.blocking_order(FOLLOW_UP_KIND, {(COMMON_TIME_KIND, None)}) is None
    assert COMMON_TIME.consent.steps == {Step.CONVENE, Step.SHARE_PLAN}
    assert COMMON_TIME.outputs.plan and COMMON_TIME.follow_up is not None
    assert COMMON_TIME.follow_up.by_roles == {"responsible_worker"}
    # Never in the bank's channel; the bank's coordinators see figures, not families.
    assert COMMON_TIME.visible_to(Viewer.CHANNEL) == frozenset()
    assert not COMMON_TIME.may_see(Viewer.COORDINATOR, Facts.FAMILY)
    assert not COMMON_TIME.may_see(Viewer.SEAT_HOLDER, Facts.PLAN)  # the plan has its own rule


def test_a_common_time_is_convened_with_the_competences_it_needs() -> None:
    ct = convened()
    assert ct.status is Status.CONVENING and ct.convener_id == NURSE.id
    for bad in ((), ("astrology",), ("family_counselling", "")):
        with pytest.raises(errors.InvalidInput):
            CommonTime.convene("2026-Y002", NURSE, "Kuopio", bad, NOW)
    with pytest.raises(errors.InvalidInput):
        CommonTime.convene("2026-Y002", NURSE, "  ", ("family_work",), NOW)


# -- consent ----------------------------------------------------------------------------------


def test_nobody_is_invited_before_the_family_consents_or_an_exception_is_approved() -> None:
    ct = convened()
    with pytest.raises(errors.ConsentMissing):
        ct.invite(COUNSELLOR, "family_counselling", NOW)
    with pytest.raises(errors.NotAllowed):
        ct.record_consent(Consent(frozenset({Step.CONVENE}), COUNSELLOR.id, NOW))
    ct.ask_exception(ConsentException(Step.CONVENE, "The parents cannot be reached", 1, NOW))
    ct.ask_exception(ConsentException(Step.CONVENE, "asked twice", 1, NOW))
    assert len(ct.exceptions) == 1 and ct.exceptions[0].justification.startswith("The parents")
    with pytest.raises(errors.ConsentExceptionPending):
        ct.invite(COUNSELLOR, "family_counselling", NOW)
    coordinator = mediator("Kaisa Koordinaattori", id=9, role=Role.COORDINATOR)
    with pytest.raises(errors.InvalidInput):
        ct.approve_exception(Step.SHARE_PLAN, coordinator, NOW)
    ct.approve_exception(Step.CONVENE, coordinator, NOW)
    ct.approve_exception(Step.CONVENE, coordinator, NOW)  # a second click changes nothing
    assert ct.exceptions[0].approved_by == 9
    ct.invite(COUNSELLOR, "family_counselling", NOW)


# -- invitations ------------------------------------------------------------------------------


def test_an_invitation_needs_the_competence_asked_and_held_and_an_available_person() -> None:
    ct = consented(convened())
    with pytest.raises(errors.InvalidInput):
        ct.invite(FAMILY_WORKER, "family_work", NOW)  # not asked for
    with pytest.raises(errors.NotQualified):
        ct.invite(TeamMember(7, "Ville", frozenset(), CITY), "speech_therapy", NOW)
    with pytest.raises(errors.MediatorInactive):
        ct.invite(AWAY, "family_counselling", NOW)
    convener_too = TeamMember(NURSE.id, NURSE.name, frozenset({"family_counselling"}), CITY)
    with pytest.raises(errors.SameMediatorTwice):
        ct.invite(convener_too, "family_counselling", NOW)
    first = ct.invite(COUNSELLOR, "family_counselling", NOW)
    assert ct.invite(COUNSELLOR, "family_counselling", NOW) is first  # a double click
    assert len(ct.invitations) == 1
    both = TeamMember(8, "Kaksi", frozenset({"family_counselling", "speech_therapy"}), CITY)
    ct.invite(both, "speech_therapy", NOW)
    with pytest.raises(errors.SameMediatorTwice):
        ct.invite(both, "family_counselling", NOW)


def test_the_team_has_at_most_six_invitees_at_once() -> None:
    ct = consented(convened("family_counselling"))
    for n in range(MAX_TEAM):
        ct.invite(
            TeamMember(20 + n, f"T{n}", frozenset({"family_counselling"})),
            "family_counselling",
            NOW,
        )
    with pytest.raises(errors.InvalidInput):
        ct.invite(COUNSELLOR, "family_counselling", NOW)


def test_an_invitee_accepts_or_declines_once_and_a_decline_is_replaced_from_the_team() -> None:
    ct = consented(convened())
    ct.invite(COUNSELLOR, "family_counselling", NOW)
    ct.invite(THERAPIST, "speech_therapy", NOW)
    with pytest.raises(errors.NotInvited):
        ct.answer(FAMILY_WORKER.id, True, NOW)
    assert ct.answer(THERAPIST.id, True, NOW) and not ct.answer(THERAPIST.id, True, NOW)
    with pytest.raises(errors.AlreadyAnswered):
        ct.answer(THERAPIST.id, False, NOW)
    assert ct.answer(COUNSELLOR.id, False, NOW)
    assert ct.invitation_of(COUNSELLOR.id).answer is Answer.DECLINED  # type: ignore[union-attr]
    assert ct.uncovered() == {"family_counselling"}
    team = [COUNSELLOR, AWAY, THERAPIST, COUNSELLOR2, NURSE]
    assert ct.replacements("family_counselling", team) == [COUNSELLOR2]
    with pytest.raises(errors.InvitationDeclined):
        ct.invite(COUNSELLOR, "family_counselling", NOW)
    with pytest.raises(errors.CompetencesMissing, match="family_counselling"):
        ct.check_can_book()
    ct.invite(COUNSELLOR2, "family_counselling", NOW)
    assert ct.uncovered() == frozenset()
    with pytest.raises(errors.CompetencesMissing):
        ct.check_can_book()  # invited is not yet accepted
    ct.answer(COUNSELLOR2.id, True, NOW)
    ct.check_can_book()
    assert ct.attendee_ids() == (NURSE.id, THERAPIST.id, COUNSELLOR2.id)


def test_the_convener_may_withdraw_an_unanswered_invitation() -> None:
    ct = consented(convened())
    ct.invite(COUNSELLOR, "family_counselling", NOW)
    ct.withdraw(COUNSELLOR.id, NOW)
    assert ct.uncovered() == {"family_counselling", "speech_therapy"}
    with pytest.raises(errors.NotInvited):
        ct.answer(COUNSELLOR.id, True, NOW)
    with pytest.raises(errors.NotInvited):
        ct.withdraw(COUNSELLOR.id, NOW)
    ct.invite(COUNSELLOR, "family_counselling", NOW)  # asked again, a new invitation
    assert ct.invitation_of(COUNSELLOR.id).answer is Answer.PENDING  # type: ignore[union-attr]


# -- the meeting ------------------------------------------------------------------------------


def test_one_common_time_meeting_with_a_room_then_it_is_held() -> None:
    ct = consented(convened("family_counselling"))
    ct.invite(COUNSELLOR, "family_counselling", NOW)
    ct.answer(COUNSELLOR.id, True, NOW)
    start = NOW + timedelta(days=7)
    with pytest.raises(errors.InvalidInput):
        ct.book(start, "  ", NOW)
    meeting = ct.book(start, "Perhekeskus, sali 2", NOW)
    assert (meeting.kind, meeting.ends_at - meeting.starts_at) == (
        COMMON_TIME_KIND,
        timedelta(minutes=90),
    )
    assert ct.status is Status.BOOKED
    with pytest.raises(errors.IllegalTransition):
        ct.book(start, "Perhekeskus, sali 2", NOW)
    with pytest.raises(errors.IllegalTransition):
        ct.invite(COUNSELLOR2, "family_counselling", NOW)  # the team is settled
    with pytest.raises(errors.InvalidInput):
        ct.record_held(start - timedelta(minutes=1))
    ct.record_held(start)
    assert ct.status.value == "held" and ct.meetings[0].held


def test_the_common_free_time_has_every_attendee_and_a_room_free() -> None:
    monday = date(2026, 3, 9)

    def at(hour: int) -> datetime:
        return datetime.combine(monday, time(hour), tzinfo=UTC)

    nurse = Schedule("noora@example.org", (BusyBlock(at(6), at(8)),))
    counsellor = Schedule("kalle@example.org", (BusyBlock(at(8), at(9)),))
    hall = Schedule("sali@example.org", (BusyBlock(at(9), at(11)),))
    small = Schedule("pieni@example.org")
    request = SlotRequest(at(6), at(14), 90, zone="UTC", limit=8, per_day=8)
    found = common_free_time([nurse, counsellor], [hall, small], request)
    assert found and all(slot.start >= at(9) for slot, _room in found)
    first, room = found[0]
    assert (first.start, room) == (at(9), "pieni@example.org")  # the hall is taken then
    assert any(room == "sali@example.org" for slot, room in found if slot.start >= at(11))
    assert common_free_time([nurse, counsellor], [], request) == []


# -- the responsible worker and the plan -----------------------------------------------------


def test_the_family_names_a_responsible_worker_or_a_pair_from_a_public_service() -> None:
    ct = consented(convened())
    with pytest.raises(errors.IllegalTransition):
        ct.name_responsible([COUNSELLOR])
    ct = to_held()
    with pytest.raises(errors.NotPublicService):
        ct.name_responsible([FAMILY_WORKER])
    for bad in ([], [COUNSELLOR, COUNSELLOR], [COUNSELLOR, THERAPIST, NURSE]):
        with pytest.raises(errors.InvalidInput):
            ct.name_responsible(bad)
    ct.name_responsible([COUNSELLOR, NURSE])
    assert ct.responsible_ids == (COUNSELLOR.id, NURSE.id)


def test_the_plan_has_the_seeds_parts() -> None:
    with pytest.raises(errors.InvalidInput):
        PlanAction(Place.ELSEWHERE, "Visits")  # elsewhere: where?
    with pytest.raises(errors.InvalidInput):
        PlanAction(Place.HOME, " ")
    with pytest.raises(errors.InvalidInput):
        JointPlan("  ", plan().actions, "call", "phone", date(2026, 4, 1))
    with pytest.raises(errors.InvalidInput):
        JointPlan("matters", (), "call", "phone", date(2026, 4, 1))
    with pytest.raises(errors.InvalidInput):
        JointPlan("m" * 1001, plan().actions, "call", "phone", date(2026, 4, 1))


def test_the_convener_records_the_plan_once_the_responsible_worker_is_named() -> None:
    ct = to_held()
    with pytest.raises(errors.InvalidInput):
        ct.record_plan(plan(), NURSE.id, TODAY)  # nobody named yet
    ct.name_responsible([COUNSELLOR])
    with pytest.raises(errors.NotAllowed):
        ct.record_plan(plan(), COUNSELLOR.id, TODAY)
    with pytest.raises(errors.InvalidInput):
        ct.record_plan(plan(next_contact=TODAY - timedelta(days=1)), NURSE.id, TODAY)
    # Sharing with the therapist needs the family's consent to share the plan.
    with pytest.raises(errors.ConsentMissing):
        ct.record_plan(plan(shared=frozenset({THERAPIST.id})), NURSE.id, TODAY)
    ct.record_plan(plan(shared=frozenset({COUNSELLOR.id})), NURSE.id, TODAY)
    assert ct.status is Status.FOLLOW_UP


def test_the_plan_goes_only_to_the_familys_agreed_parties() -> None:
    ct = to_held()
    with pytest.raises(errors.NotFound):
        ct.check_may_read_plan(NURSE.id)
    ct.name_responsible([COUNSELLOR])
    ct.record_consent(Consent(frozenset({Step.SHARE_PLAN}), NURSE.id, NOW))
    ct.record_plan(plan(shared=frozenset({THERAPIST.id})), NURSE.id, TODAY)
    for reader in (NURSE.id, COUNSELLOR.id, THERAPIST.id):
        ct.check_may_read_plan(reader)
    with pytest.raises(errors.NotAllowed):
        ct.check_may_read_plan(COUNSELLOR2.id)


# -- follow-up --------------------------------------------------------------------------------


def test_the_responsible_worker_is_reminded_before_the_next_contact_until_it_is_booked() -> None:
    ct = in_follow_up()
    due = date(2026, 4, 15)
    assert ct.follow_up_due() == due
    assert not ct.reminder_due(due - timedelta(days=4))
    assert ct.reminder_due(due - timedelta(days=3)) and ct.reminder_due(due + timedelta(days=2))
    with pytest.raises(errors.NotAllowed):
        ct.book_follow_up(NURSE.id, NOW + timedelta(days=40), "sali", NOW)
    meeting = ct.book_follow_up(COUNSELLOR.id, NOW + timedelta(days=40), "sali", NOW)
    assert meeting.kind == FOLLOW_UP_KIND and meeting.ends_at - meeting.starts_at == timedelta(
        hours=1
    )
    assert not ct.reminder_due(due)
    with pytest.raises(errors.PackageFull):
        ct.book_follow_up(COUNSELLOR.id, NOW + timedelta(days=41), "sali", NOW)


def test_the_plans_actions_are_marked_and_the_case_closed_by_the_responsible_worker() -> None:
    ct = in_follow_up()
    with pytest.raises(errors.NotAllowed):
        ct.mark_action(NURSE.id, 0, True)
    with pytest.raises(errors.InvalidInput):
        ct.mark_action(COUNSELLOR.id, 3, True)
    ct.mark_action(COUNSELLOR.id, 0, True)
    ct.mark_action(COUNSELLOR.id, 1, False)
    assert not ct.followed_up()
    ct.mark_action(COUNSELLOR.id, 2, True)
    assert ct.followed_up()
    assert [a.done for a in ct.plan.actions] == [True, False, True]  # type: ignore[union-attr]
    with pytest.raises(errors.NotAllowed):
        ct.close(NURSE.id, NOW)
    ct.close(COUNSELLOR.id, NOW)
    assert ct.status is Status.CLOSED
    with pytest.raises(errors.IllegalTransition):
        ct.cancel(NURSE.id, NOW)


def test_only_the_convener_cancels_and_a_cancelled_case_takes_no_consent() -> None:
    ct = convened()
    with pytest.raises(errors.NotAllowed):
        ct.cancel(COUNSELLOR.id, NOW)
    ct.cancel(NURSE.id, NOW)
    with pytest.raises(errors.IllegalTransition):
        consented(ct)


# -- figures ----------------------------------------------------------------------------------


def test_the_years_figures_count_held_common_times_by_municipality_and_month() -> None:
    done = in_follow_up()
    for n in range(3):
        done.mark_action(COUNSELLOR.id, n, True)
    other = to_held()
    other.municipality = "Siilinjärvi"
    booked = consented(convened("family_counselling"))
    booked.invite(COUNSELLOR, "family_counselling", NOW)
    booked.answer(COUNSELLOR.id, True, NOW)
    booked.book(NOW + timedelta(days=3), "sali", NOW)  # not held: not counted
    figures = common_time_figures([done, other, booked], 2026, LOCAL)
    assert figures.by_municipality_month == {("Kuopio", 3): 1, ("Siilinjärvi", 3): 1}
    assert figures.days_consent_to_meeting == 7
    assert figures.consent_to_meeting_count == 2
    assert (figures.plans, figures.plans_followed_up) == (1, 1)
    assert figures.competences_invited == {"family_counselling": 2, "speech_therapy": 2}
    assert common_time_figures([done], 2025, LOCAL).plans == 0


def held_at(moment: datetime) -> CommonTime:
    ct = consented(convened("family_counselling"))
    ct.invite(COUNSELLOR, "family_counselling", NOW)
    ct.answer(COUNSELLOR.id, True, NOW)
    ct.book(moment, "sali", NOW)
    ct.record_held(moment + timedelta(minutes=5))
    return ct


def test_the_figures_count_by_the_banks_own_calendar_not_by_utc() -> None:
    april_first = held_at(datetime(2026, 3, 31, 21, 30, tzinfo=UTC))  # 00:30 in Helsinki
    new_year = held_at(datetime(2026, 12, 31, 22, 30, tzinfo=UTC))  # 00:30 on 1 January
    figures = common_time_figures([april_first, new_year], 2026, LOCAL)
    assert figures.by_municipality_month == {("Kuopio", 4): 1}
    assert common_time_figures([april_first, new_year], 2027, LOCAL).by_municipality_month == {
        ("Kuopio", 1): 1
    }
    # The consent on 2 March, the meeting on 1 April, both in Helsinki: 30 days.
    assert figures.days_consent_to_meeting == 30


def test_a_follow_up_waits_for_a_held_common_time_and_says_so() -> None:
    ct = in_follow_up()
    ct.meetings[0].held = False  # as if the record were lost: the order rule still holds
    with pytest.raises(errors.MeetingsOutOfOrder) as exc:
        ct.book_follow_up(COUNSELLOR.id, NOW + timedelta(days=40), "sali", NOW)
    assert exc.value.key == "error.meeting_order" and exc.value.params == {"after": "common_time"}
    assert errors.MeetingsOutOfOrder().key == "error.individual_meetings_first"  # the pair's
