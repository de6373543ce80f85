"""Case types as data: the pair's declaration, the checks on a declaration, and its rules."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from mediation import errors, rules
from mediation.calendar.policy import MeetingPolicy
from mediation.case_types import (
    CHILD,
    PARENTS,
    CaseType,
    ConsentRule,
    Facts,
    Fill,
    FollowUp,
    MeetingTemplate,
    OrderRule,
    Outputs,
    SeatSpec,
    Step,
    Viewer,
)
from mediation.consent import Consent, ConsentException, check_consent
from mediation.model import (
    MEDIATION,
    Case,
    CaseStatus,
    Meeting,
    MeetingKind,
    MeetingStatus,
    Outcome,
    Role,
)
from mediation.policy import BankPolicy
from mediation.reminders import ReminderPolicy
from mediation.stats import YearStats
from tests.unit.factories import NOW, intake, mediator

P = BankPolicy()

# A small team convened around a family, declared only to exercise the general rules.
TEAM = CaseType(
    "team",
    (
        SeatSpec("convener", fill=frozenset({Fill.CREATOR})),
        SeatSpec(
            "specialist",
            frozenset({"family_counselling"}),
            min_count=2,
            max_count=4,
            fill=frozenset({Fill.INVITE}),
        ),
        SeatSpec("worker", min_count=0, max_count=2, fill=frozenset({Fill.NAMED_BY_FAMILY})),
    ),
    min_experienced=0,
    distinct_employers=True,
    meetings=(
        MeetingTemplate(
            MeetingKind.JOINT, 90, frozenset({"convener", "specialist", PARENTS}), room=True
        ),
        MeetingTemplate(MeetingKind.FOLLOW_UP, 60, frozenset({"worker", PARENTS})),
    ),
    order=(OrderRule(frozenset({MeetingKind.FOLLOW_UP}), MeetingKind.JOINT),),
    consent=ConsentRule(frozenset({Step.CONVENE, Step.SHARE_PLAN})),
    outputs=Outputs(plan=True),
    follow_up=FollowUp(MeetingKind.FOLLOW_UP, 60, 7, frozenset({"worker"})),
    visibility=(
        (Viewer.SEAT_HOLDER, frozenset({Facts.ANONYMOUS, Facts.FAMILY, Facts.PLAN})),
        (Viewer.COORDINATOR, frozenset({Facts.ANONYMOUS})),
    ),
)


def team_case(safety: bool = False) -> Case:
    c = Case.new("2026-050", intake(safety=safety), 99, NOW, P, TEAM)
    c.id = 50
    return c


# -- the pair, declared ----------------------------------------------------------------------


def test_the_pair_is_two_claimable_mediator_seats_one_experienced() -> None:
    assert [s.role for s in MEDIATION.seats] == ["mediator", "mediator"]
    assert all(s.fill == {Fill.CLAIM, Fill.ASSIGN} for s in MEDIATION.seats)
    assert all(
        (s.min_count, s.max_count) == (1, 1) and not s.qualifications for s in MEDIATION.seats
    )
    assert MEDIATION.min_experienced == 1 and not MEDIATION.distinct_employers
    assert MEDIATION.max_seats == 2


def test_the_pairs_meetings_are_the_packages_kinds_and_their_lengths_the_bank_defaults() -> None:
    assert {m.kind for m in MEDIATION.meetings} == set(MeetingKind)
    policy = MeetingPolicy()
    for kind in MeetingKind:
        template = MEDIATION.template(kind)
        assert template is not None and template.minutes == policy.minutes(kind)
        assert not template.room
    individual = MEDIATION.template(MeetingKind.INDIVIDUAL)
    assert individual is not None and individual.per_parent
    waiting = {m.kind for m in MEDIATION.meetings if m.waits_for_safety}
    assert waiting == {MeetingKind.JOINT, MeetingKind.CHILD}
    child = MEDIATION.template(MeetingKind.CHILD)
    assert child is not None and CHILD in child.attendees


def test_the_pairs_order_rule_is_individual_meetings_first() -> None:
    (rule,) = MEDIATION.order
    assert rule.kinds == {MeetingKind.JOINT, MeetingKind.CHILD}
    assert rule.after == MeetingKind.INDIVIDUAL and rule.parents == (1, 2)
    one = {(MeetingKind.INDIVIDUAL.value, 1)}
    both = one | {(MeetingKind.INDIVIDUAL.value, 2)}
    assert MEDIATION.blocking_order(MeetingKind.JOINT, one) is rule
    assert MEDIATION.blocking_order(MeetingKind.CHILD, both) is None
    assert MEDIATION.blocking_order(MeetingKind.INDIVIDUAL, set()) is None
    assert MEDIATION.blocking_order(MeetingKind.FOLLOW_UP, set()) is None


def test_the_pair_needs_no_further_consent_and_ends_with_an_outcome() -> None:
    for step in Step:
        assert not MEDIATION.consent.needs(step)
        check_consent(MEDIATION.consent, "2026-001", step, ())
    assert MEDIATION.outputs.outcomes == tuple(Outcome) and not MEDIATION.outputs.plan


def test_the_pairs_follow_up_is_the_reminders_default() -> None:
    follow = MEDIATION.follow_up
    assert follow is not None and follow.meeting_kind == MeetingKind.FOLLOW_UP
    assert follow.by_roles == {"mediator"}
    defaults = ReminderPolicy()
    assert (follow.after_days, follow.lead_days) == (
        defaults.follow_up_after_days,
        defaults.follow_up_lead_days,
    )


def test_the_channel_sees_no_family_of_the_pair_and_the_pair_and_coordinators_do() -> None:
    assert MEDIATION.visible_to(Viewer.CHANNEL) == {Facts.ANONYMOUS}
    for viewer in (Viewer.SEAT_HOLDER, Viewer.COORDINATOR):
        assert MEDIATION.may_see(viewer, Facts.FAMILY) and MEDIATION.may_see(viewer, Facts.SAFETY)
    assert not MEDIATION.may_see(Viewer.SEAT_HOLDER, Facts.PLAN)


def test_the_pairs_statistics_are_figures_of_the_year() -> None:
    fields = {f.name for f in dataclasses.fields(YearStats)}
    assert MEDIATION.statistics and set(MEDIATION.statistics) <= fields


# -- what a declaration may not say ----------------------------------------------------------


def test_impossible_seats_are_refused() -> None:
    with pytest.raises(ValueError):
        SeatSpec("x", min_count=2, max_count=1)
    with pytest.raises(ValueError):
        SeatSpec("x", min_count=0, max_count=0)
    with pytest.raises(ValueError):
        SeatSpec("x", fill=frozenset())
    with pytest.raises(ValueError):
        CaseType("x", (), 0)
    with pytest.raises(ValueError):
        CaseType("x", (SeatSpec("a"),), 2)
    CaseType("x", (SeatSpec("a", max_count=2),), 2)


def test_meetings_orders_and_follow_ups_must_be_declared_together() -> None:
    common = MeetingTemplate("common", 60, frozenset({"a"}))
    seats = (SeatSpec("a"),)
    with pytest.raises(ValueError, match="twice"):
        CaseType("x", seats, 0, meetings=(common, common))
    with pytest.raises(ValueError, match="undeclared"):
        CaseType("x", seats, 0, meetings=(common,), order=(OrderRule(frozenset({"y"}), "common"),))
    with pytest.raises(ValueError, match="follow-up"):
        CaseType("x", seats, 0, meetings=(common,), follow_up=FollowUp("y", 1, 1, frozenset()))
    with pytest.raises(ValueError, match="attendees"):
        CaseType("x", seats, 0, meetings=(MeetingTemplate("m", 60, frozenset({"b"})),))
    with pytest.raises(ValueError):
        MeetingTemplate("m", 0, frozenset())


def test_no_type_may_show_a_family_or_its_safety_to_the_channel() -> None:
    for facts in (Facts.FAMILY, Facts.SAFETY):
        with pytest.raises(ValueError, match="channel"):
            CaseType("x", (SeatSpec("a"),), 0, visibility=((Viewer.CHANNEL, frozenset({facts})),))


# -- a declared type's rules -----------------------------------------------------------------


def test_a_case_opens_with_the_minimum_of_each_seat() -> None:
    c = team_case()
    assert [s.role for s in c.seats] == ["convener", "specialist", "specialist"]
    assert [s.n for s in c.seats] == [1, 2, 3]


def test_a_type_without_parents_in_its_order_rule_waits_for_one_held_meeting() -> None:
    c = team_case()
    for n in (1, 2, 3):
        c.take_seat(n, n, NOW)
    assert c.status is CaseStatus.PAIRED
    with pytest.raises(errors.MeetingsOutOfOrder):
        c.check_can_book(MeetingKind.FOLLOW_UP)
    c.meetings.append(
        Meeting(MeetingKind.JOINT, NOW, NOW + timedelta(minutes=90), MeetingStatus.HELD)
    )
    c.check_can_book(MeetingKind.FOLLOW_UP)


def test_only_the_types_own_meetings_can_be_booked() -> None:
    c = team_case()
    for n in (1, 2, 3):
        c.take_seat(n, n, NOW)
    with pytest.raises(errors.InvalidInput):
        c.check_can_book(MeetingKind.INDIVIDUAL)


def test_a_safety_concern_holds_back_only_the_meetings_declared_to_wait() -> None:
    c = team_case(safety=True)
    for n in (1, 2, 3):
        c.take_seat(n, n, NOW)
    c.check_can_book(MeetingKind.JOINT)
    pair = Case.new("2026-001", intake(safety=True), 99, NOW, P)
    pair.take_seat(1, 1, NOW)
    pair.take_seat(2, 2, NOW)
    with pytest.raises(errors.SafetyConcernOpen):
        pair.check_can_book(MeetingKind.JOINT)


def test_distinct_employers_where_the_type_asks_and_only_there() -> None:
    c = team_case()
    kerava = dataclasses.replace(mediator("Aino Virtanen", id=1), employer="Kerava")
    same = dataclasses.replace(mediator("Bertil Lindqvist", id=2), employer=" kerava ")
    other = dataclasses.replace(mediator("Sara Holm", id=3), employer="Keusote")
    c.take_seat(1, 1, NOW)
    with pytest.raises(errors.SameEmployer) as exc:
        rules.check_pairing(c, c.seat(2), same, {1: kerava}, P)
    assert exc.value.params == {"name": "Bertil Lindqvist", "employer": " kerava "}
    rules.check_pairing(c, c.seat(2), other, {1: kerava}, P)
    pair = Case.new("2026-001", intake(), 99, NOW, P)
    pair.take_seat(1, 1, NOW)
    rules.check_pairing(pair, pair.seat(2), same, {1: kerava}, P)


def test_a_seat_is_filled_only_the_ways_its_type_declares() -> None:
    c = team_case()
    for n in (1, 2):  # the convener is the creator, the specialists are invited
        with pytest.raises(errors.NotAllowed) as exc:
            rules.check_fill(c, c.seat(n), Fill.CLAIM)
        assert exc.value.params["why"] == "the case's type fills it another way"
    rules.check_fill(c, c.seat(1), Fill.CREATOR)
    rules.check_fill(c, c.seat(2), Fill.INVITE)
    with pytest.raises(errors.NotAllowed):
        rules.check_can_claim(c, c.seat(2), mediator(id=5), {}, P, NOW.date())
    pair = Case.new("2026-001", intake(), 99, NOW, P)
    for fill in (Fill.CLAIM, Fill.ASSIGN):
        rules.check_fill(pair, pair.seat(2), fill)
    with pytest.raises(errors.NotAllowed):
        rules.check_fill(pair, pair.seat(1), Fill.INVITE)


def test_a_role_is_declared_one_way() -> None:
    with pytest.raises(ValueError, match="two ways"):
        CaseType("x", (SeatSpec("a"), SeatSpec("a", fill=frozenset({Fill.INVITE}))), 0)


def test_a_seat_needs_every_qualification_it_declares() -> None:
    specialist = TEAM.seats[1]
    rules.check_qualified(specialist, "Aino", frozenset({"family_counselling", "speech_therapy"}))
    with pytest.raises(errors.NotQualified) as exc:
        rules.check_qualified(specialist, "Aino", frozenset({"speech_therapy"}))
    assert exc.value.params["missing"] == "family_counselling"
    rules.check_qualified(MEDIATION.seats[0], "Aino", frozenset())


def test_viewing_follows_the_declaration() -> None:
    assert TEAM.may_see(Viewer.SEAT_HOLDER, Facts.PLAN)
    assert not TEAM.may_see(Viewer.COORDINATOR, Facts.FAMILY)
    assert TEAM.visible_to(Viewer.CHANNEL) == frozenset()


# -- consent ---------------------------------------------------------------------------------


def test_a_step_that_needs_consent_waits_for_it() -> None:
    rule = TEAM.consent
    with pytest.raises(errors.ConsentMissing) as exc:
        check_consent(rule, "2026-050", Step.CONVENE, ())
    assert exc.value.params == {"code": "2026-050", "step": "convene"}
    check_consent(rule, "2026-050", Step.POST, ())  # the team's card needs none
    given = Consent(frozenset({Step.CONVENE}), recorded_by=1, at=NOW)
    check_consent(rule, "2026-050", Step.CONVENE, (given,))
    with pytest.raises(errors.ConsentMissing):
        check_consent(rule, "2026-050", Step.SHARE_PLAN, (given,))


def test_an_exception_needs_a_written_justification_and_another_coordinators_approval() -> None:
    rule = TEAM.consent
    with pytest.raises(errors.InvalidInput):
        ConsentException(Step.SHARE_PLAN, "   ", asked_by=1, asked_at=NOW)
    with pytest.raises(errors.InvalidInput):
        ConsentException(Step.SHARE_PLAN, "x" * 2001, asked_by=1, asked_at=NOW)
    asked = ConsentException(Step.SHARE_PLAN, "the child's safety", asked_by=1, asked_at=NOW)
    with pytest.raises(errors.ConsentExceptionPending):
        check_consent(rule, "2026-050", Step.SHARE_PLAN, (), (asked,))
    coordinator = mediator("Kaisa Koordinaattori", id=1, role=Role.COORDINATOR)
    with pytest.raises(errors.NotAllowed):
        asked.approve(coordinator, NOW)  # not the one who asked
    with pytest.raises(errors.NotAllowed):
        asked.approve(mediator("Maija Mediator", id=2), NOW)
    approved = asked.approve(mediator("Päivi Korhonen", id=3, role=Role.COORDINATOR), NOW)
    assert approved.approved and approved.approved_by == 3 and approved.approved_at == NOW
    check_consent(rule, "2026-050", Step.SHARE_PLAN, (), (approved,))
    with pytest.raises(errors.ConsentMissing):
        check_consent(rule, "2026-050", Step.CONVENE, (), (approved,))
    strict = ConsentRule(frozenset({Step.SHARE_PLAN}), exception_allowed=False)
    with pytest.raises(errors.ConsentMissing):
        check_consent(strict, "2026-050", Step.SHARE_PLAN, (), (approved,))
