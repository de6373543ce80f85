"""How long meetings last, when the follow-up is due, and where proposals look."""

from __future__ import annotations

from dataclasses import dataclass, field

from mediation.model import MeetingKind
from mediation.slots import WorkingHours


@dataclass(frozen=True)
class MeetingPolicy:
    """How long meetings last, when the follow-up is due and where proposals look."""

    individual_minutes: int = 60
    joint_minutes: int = 90
    child_minutes: int = 60
    follow_up_minutes: int = 60
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
