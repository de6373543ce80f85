"""How long meetings last, when the follow-up is due, and where proposals look."""

from __future__ import annotations

from dataclasses import dataclass, field

from mediation.model import MEDIATION, MeetingKind
from mediation.slots import WorkingHours


def _declared_minutes(kind: MeetingKind) -> int:
    """The pair's declared length of a meeting: the default the bank may tune."""
    template = MEDIATION.template(kind)
    assert template is not None, f"the pair declares {kind} meetings"
    return template.minutes


@dataclass(frozen=True)
class MeetingPolicy:
    """How long meetings last, when the follow-up is due and where proposals look."""

    individual_minutes: int = _declared_minutes(MeetingKind.INDIVIDUAL)
    joint_minutes: int = _declared_minutes(MeetingKind.JOINT)
    child_minutes: int = _declared_minutes(MeetingKind.CHILD)
    follow_up_minutes: int = _declared_minutes(MeetingKind.FOLLOW_UP)
    follow_up_weeks: int = 13  # about three months after the last joint meeting
    search_days: int = 28
    notice_hours: int = 18  # the first slot is at least this far ahead
    slots_shown: int = 6
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    max_held_minutes: int = 480

    def minutes(self, kind: MeetingKind) -> int:
        return {
            MeetingKind.INDIVIDUAL: self.individual_minutes,
            MeetingKind.JOINT: self.joint_minutes,
            MeetingKind.CHILD: self.child_minutes,
            MeetingKind.FOLLOW_UP: self.follow_up_minutes,
        }[kind]
