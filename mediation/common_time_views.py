"""What a common time's cards show, and to whom: the view a use case hands the card builders.

The view is built for one person. What they may not see is left out here, not at the card:
the plan's text only for the family's agreed parties (each reading journaled by the use
case), the candidates to invite only for the convener, the exceptions' justifications only
for the convener and the coordinators.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from mediation.case_types import Step
from mediation.common_time import Answer, JointPlan, Status
from mediation.common_time_feedback import TeamFeedback


class Part(enum.StrEnum):
    """What the viewer is to the case; one person may be several."""

    CONVENER = "convener"
    INVITEE = "invitee"  # invited, whatever the answer
    RESPONSIBLE = "responsible"
    PLAN_PARTY = "plan_party"  # the plan was shared with them
    COORDINATOR = "coordinator"


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class InvitationLine:
    person: Person
    competence: str
    answer: Answer


@dataclass(frozen=True)
class MeetingLine:
    n: int  # the meeting's number in its case
    kind: str  # common_time.COMMON_TIME_KIND or FOLLOW_UP_KIND
    starts_at: datetime
    ends_at: datetime
    room: str
    held: bool
    cancelled: bool
    in_calendar: bool  # the event is in the calendars (False: still on its way)


@dataclass(frozen=True)
class ExceptionLine:
    step: Step
    asked_by: Person
    asked_at: datetime
    approved_by: Person | None
    justification: str | None  # None for those who may not read it


@dataclass(frozen=True)
class ActionLine:
    index: int
    place: str  # common_time.Place value
    what: str
    where: str
    done: bool | None


@dataclass(frozen=True)
class FamilyLinkLine:
    """The family's feedback link: its token (the bot makes the address) and its last day."""

    token: str
    expires_at: datetime


@dataclass(frozen=True)
class CommonTimeView:
    """One common time as one person may see it."""

    id: int
    code: str
    status: Status
    municipality: str
    created_at: datetime
    competences: tuple[str, ...]  # asked for, sorted
    viewer: Person
    parts: frozenset[Part]
    convener: Person
    consented: frozenset[Step]  # steps the family has consented to
    needs_consent: frozenset[Step]  # steps the case type makes wait for consent
    exceptions: tuple[ExceptionLine, ...]
    invitations: tuple[InvitationLine, ...]  # every invitation, in the order made
    uncovered: tuple[str, ...]  # competences no pending or accepted invitation covers
    # For the convener while convening: who may be invited for each competence asked for,
    # least loaded first.
    candidates: Mapping[str, tuple[Person, ...]] = field(default_factory=dict)
    meetings: tuple[MeetingLine, ...] = ()
    responsible: tuple[Person, ...] = ()
    # For naming the responsible worker (convener, once held): the public services' workers.
    responsible_choices: tuple[Person, ...] = ()
    has_plan: bool = False
    plan: JointPlan | None = None  # only for the family's agreed parties
    actions: tuple[ActionLine, ...] = ()  # the plan's actions, with the plan
    plan_shared_with: tuple[Person, ...] = ()  # with the plan
    plan_party_choices: tuple[Person, ...] = ()  # whom the convener may share the plan with
    next_contact: date | None = None  # with the plan
    # For the convener once the meeting is held: the family's feedback link, while it is open.
    family_link: FamilyLinkLine | None = None

    def has(self, part: Part) -> bool:
        return part in self.parts

    @property
    def my_invitation(self) -> InvitationLine | None:
        mine = [i for i in self.invitations if i.person.id == self.viewer.id]
        return mine[-1] if mine else None


@dataclass(frozen=True)
class TimeOption:
    """A free time for a common time's meeting, with the room that is free then."""

    starts_at: datetime
    ends_at: datetime
    room: str
    preferred: bool = False  # inside everyone's preferred hours


@dataclass(frozen=True)
class TeamFeedbackView:
    """An attendee's feedback form on a common time, with their answer once given."""

    ct_id: int
    code: str
    given: TeamFeedback | None
