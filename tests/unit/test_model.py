"""The case lifecycle and the meeting rules the calendar work calls."""

from __future__ import annotations

from datetime import timedelta

import pytest

from mediation import errors
from mediation.model import CaseStatus, Meeting, MeetingKind, MeetingStatus, Outcome
from tests.unit.factories import NOW, case


def paired():  # type: ignore[no-untyped-def]
    c = case()
    c.take_seat(1, 1, NOW)
    c.take_seat(2, 2, NOW)
    return c


def test_full_case_is_paired_and_a_release_reopens_it() -> None:
    c = case()
    c.take_seat(1, 1, NOW)
    assert c.status is CaseStatus.OPEN
    c.take_seat(2, 2, NOW)
    assert c.status is CaseStatus.PAIRED
    assert c.vacate_seat(1) == 1
    assert c.status is CaseStatus.OPEN and c.seat(1).free


def test_the_whole_lifecycle() -> None:
    c = paired()
    c.start()
    c.begin_follow_up()
    c.close(Outcome.AGREEMENT, NOW)
    assert (c.status, c.outcome, c.closed_at) == (CaseStatus.CLOSED, Outcome.AGREEMENT, NOW)


@pytest.mark.parametrize(
    ("setup", "action", "message"),
    [
        (lambda c: None, lambda c: c.start(), "cannot start a case that is open"),
        (
            lambda c: None,
            lambda c: c.begin_follow_up(),
            "cannot move to follow-up a case that is open",
        ),
        (
            lambda c: None,
            lambda c: c.close(Outcome.AGREEMENT, NOW),
            "cannot close a case that is open",
        ),
        (
            lambda c: c.cancel(NOW),
            lambda c: c.cancel(NOW),
            "cannot cancel a case that is cancelled",
        ),
        (
            lambda c: c.cancel(NOW),
            lambda c: c.take_seat(1, 5, NOW),
            "cannot claim a seat on a case that is cancelled",
        ),
    ],
)
def test_illegal_transitions_say_what_and_why(setup, action, message) -> None:  # type: ignore[no-untyped-def]
    c = case()
    setup(c)
    with pytest.raises(errors.IllegalTransition, match=message):
        action(c)


def test_closed_case_cannot_be_cancelled_or_reopened() -> None:
    c = paired()
    c.close(Outcome.NOT_SUITABLE, NOW)
    with pytest.raises(errors.IllegalTransition):
        c.cancel(NOW)
    with pytest.raises(errors.IllegalTransition):
        c.vacate_seat(1)


def test_in_progress_seat_is_replaced_not_emptied() -> None:
    c = paired()
    c.start()
    with pytest.raises(errors.IllegalTransition, match="release a seat"):
        c.vacate_seat(1)
    assert c.replace_holder(1, 7, NOW) == 1
    assert c.holder_ids() == [7, 2] and c.status is CaseStatus.IN_PROGRESS


def test_taking_a_taken_seat_or_both_seats_is_refused() -> None:
    c = case()
    c.take_seat(1, 1, NOW)
    with pytest.raises(errors.SeatTaken):
        c.take_seat(1, 2, NOW)
    with pytest.raises(errors.SameMediatorTwice):
        c.take_seat(2, 1, NOW)
    with pytest.raises(errors.InvalidInput):
        c.seat(3)


def _meeting(kind: MeetingKind, parent: int | None = None, status=MeetingStatus.HELD) -> Meeting:  # type: ignore[no-untyped-def]
    return Meeting(kind, NOW, NOW + timedelta(hours=1), status, parent)


def test_individual_meetings_first() -> None:
    c = paired()
    c.check_can_book(MeetingKind.INDIVIDUAL)
    with pytest.raises(errors.MeetingsOutOfOrder):
        c.check_can_book(MeetingKind.JOINT)
    c.meetings.append(_meeting(MeetingKind.INDIVIDUAL, 1))
    c.meetings.append(_meeting(MeetingKind.INDIVIDUAL, 2, MeetingStatus.BOOKED))
    with pytest.raises(errors.MeetingsOutOfOrder):
        c.check_can_book(MeetingKind.JOINT)
    c.meetings[1].status = MeetingStatus.HELD
    c.check_can_book(MeetingKind.JOINT)


def test_safety_concern_blocks_joint_meetings_until_cleared() -> None:
    c = case(safety=True)
    c.take_seat(1, 1, NOW)
    c.take_seat(2, 2, NOW)
    assert c.safety_concern_open
    c.meetings += [_meeting(MeetingKind.INDIVIDUAL, 1), _meeting(MeetingKind.INDIVIDUAL, 2)]
    with pytest.raises(errors.SafetyConcernOpen):
        c.check_can_book(MeetingKind.JOINT)
    c.check_can_book(MeetingKind.INDIVIDUAL)
    c.clear_safety_concern()
    c.check_can_book(MeetingKind.JOINT)


def test_package_size_bounds_the_meetings() -> None:
    c = paired()
    assert c.package_size == 5
    c.set_package_size(2)
    c.meetings += [_meeting(MeetingKind.INDIVIDUAL, 1), _meeting(MeetingKind.INDIVIDUAL, 2)]
    with pytest.raises(errors.PackageFull):
        c.check_can_book(MeetingKind.JOINT)
    with pytest.raises(errors.InvalidInput):
        c.set_package_size(1)
    c.set_package_size(6)
    c.check_can_book(MeetingKind.JOINT)
