"""What a case type declares: its seats, meetings, consent, outputs, follow-up and views.

A case type is data. The mediators' pair (``mediation.model.MEDIATION``) is one instance;
a team convened around a family is another, declared with the same words, not new code.
Meeting kinds are named by their codes here, so that this vocabulary needs nothing of the
model that uses it.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass, field

# What the registry may record of a person beyond being a mediator: the competences a
# family-centre team offers (seed 004). A seat that needs some names them.
FAMILY_CENTRE_COMPETENCES = (
    "family_counselling",
    "child_welfare",
    "school_social_work",
    "child_health_clinic",
    "family_work",
    "speech_therapy",
    "psychology",
    "early_childhood_special_education",
)
# The specialities of a high-conflict expert team (seed 002): whom its coordinators ask.
EXPERT_SPECIALITIES = (
    "child_psychiatry",
    "adult_psychiatry",
    "neuropsychiatry",
    "forensic_psychiatry",
    "law",
    "district_court",
    "police",
    "child_protection",
    "violence_work",
    "culture_immigration",
)
# The family-law unit's own duties: who works its walk-in service (seed 001).
WALK_IN_SERVICE = "walk_in_service"
UNIT_DUTIES = (WALK_IN_SERVICE,)
QUALIFICATIONS = FAMILY_CENTRE_COMPETENCES + EXPERT_SPECIALITIES + UNIT_DUTIES


class Fill(enum.StrEnum):
    """How a seat gets its holder."""

    CLAIM = "claim"  # a registered professional claims it from the channel's card
    ASSIGN = "assign"  # a coordinator assigns (or re-assigns) it
    INVITE = "invite"  # the convener invites someone, who accepts or declines
    CREATOR = "creator"  # whoever creates the case holds it
    NAMED_BY_FAMILY = "named_by_family"  # the family names the holder at a meeting


class Viewer(enum.StrEnum):
    """Who looks at a case."""

    CHANNEL = "channel"  # everyone in the bank's channel: the anonymous card
    SEAT_HOLDER = "seat_holder"
    COORDINATOR = "coordinator"


class Facts(enum.StrEnum):
    """The groups of a case's facts that a viewer may or may not see."""

    ANONYMOUS = "anonymous"  # what the intake records that names no one (area, term, ages)
    FAMILY = "family"  # names and contact details of the family
    SAFETY = "safety"  # a safety concern recorded at intake or at a meeting
    PLAN = "plan"  # the joint plan agreed with the family


class Step(enum.StrEnum):
    """What a case type may make wait for the family's recorded consent."""

    POST = "post"  # showing the case to the network, even anonymously
    CONVENE = "convene"  # inviting professionals to the family's meeting
    SHARE_PLAN = "share_plan"  # giving the plan to anyone but the family and its worker


@dataclass(frozen=True)
class SeatSpec:
    """What a case type asks of one seat; ``role`` names the kind of professional.

    ``qualifications`` are all needed of a holder (from the registry); ``min_count`` to
    ``max_count`` seats of this kind may be held at once; ``fill`` says how a holder comes.
    """

    role: str
    qualifications: frozenset[str] = frozenset()
    min_count: int = 1
    max_count: int = 1
    fill: frozenset[Fill] = frozenset({Fill.CLAIM, Fill.ASSIGN})

    def __post_init__(self) -> None:
        if not 0 <= self.min_count <= self.max_count or self.max_count < 1:
            raise ValueError(
                f"seat {self.role}: impossible count {self.min_count}-{self.max_count}"
            )
        if not self.fill:
            raise ValueError(f"seat {self.role}: no way to fill it")


@dataclass(frozen=True)
class MeetingTemplate:
    """A kind of meeting the case type books: its length and who attends.

    ``attendees`` names seat roles and the family's side (``FAMILY_SIDE``); a meeting
    ``per_parent`` is held with one parent at a time and names the parent when booked.
    """

    kind: str
    minutes: int
    attendees: frozenset[str]
    per_parent: bool = False
    room: bool = False  # booked with a room (a calendar resource)
    waits_for_safety: bool = False  # not booked while a safety concern is open

    def __post_init__(self) -> None:
        if not 0 < self.minutes <= 8 * 60:
            raise ValueError(f"meeting {self.kind}: {self.minutes} minutes")


# Who attends for the family: the parents (a parent alone at a per-parent meeting) or a child.
PARENTS = "parents"
CHILD = "child"
FAMILY_SIDE = frozenset({PARENTS, CHILD})


@dataclass(frozen=True)
class OrderRule:
    """Meetings of ``kinds`` wait until an ``after`` meeting is held with each of ``parents``.

    With no parents named, one held ``after`` meeting is enough.
    """

    kinds: frozenset[str]
    after: str
    parents: tuple[int, ...] = ()

    def met(self, held: Collection[tuple[str, int | None]]) -> bool:
        """Whether the held meetings, as (kind, parent) pairs, let the rule's kinds be booked."""
        if not self.parents:
            return any(kind == self.after for kind, _parent in held)
        return all((self.after, parent) in held for parent in self.parents)


@dataclass(frozen=True)
class ConsentRule:
    """The steps that wait for the family's recorded consent.

    An exception (the family cannot be asked, or a child's safety needs the step) takes a
    written justification and a coordinator's approval; both go to the journal.
    """

    steps: frozenset[Step] = frozenset()
    exception_allowed: bool = True

    def needs(self, step: Step) -> bool:
        return step in self.steps


@dataclass(frozen=True)
class Outputs:
    """What a case of the type ends with: an outcome from ``outcomes``, a plan or both."""

    outcomes: tuple[str, ...] = ()
    plan: bool = False


@dataclass(frozen=True)
class FollowUp:
    """The follow-up: a meeting of ``meeting_kind`` due ``after_days`` after the output is
    agreed, with a reminder ``lead_days`` before it is due to whoever follows up."""

    meeting_kind: str
    after_days: int
    lead_days: int
    by_roles: frozenset[str]


@dataclass(frozen=True)
class CaseType:
    """A kind of case: which seats it has, how it meets, what it needs and what it gives.

    The mediation pair is the first type; an expert consultation or a multi-professional
    meeting around a family is another instance of this, not new code.
    ``min_experienced`` seats must end up with experienced holders; with
    ``distinct_employers`` no two holders may share an employer.
    """

    code: str
    seats: tuple[SeatSpec, ...]
    min_experienced: int
    distinct_employers: bool = False
    meetings: tuple[MeetingTemplate, ...] = ()
    order: tuple[OrderRule, ...] = ()
    consent: ConsentRule = field(default_factory=ConsentRule)
    outputs: Outputs = field(default_factory=Outputs)
    follow_up: FollowUp | None = None
    visibility: tuple[tuple[Viewer, frozenset[Facts]], ...] = ()
    statistics: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.seats or not 0 <= self.min_experienced <= self.max_seats:
            raise ValueError(f"case type {self.code}: impossible seat requirements")
        kinds = [m.kind for m in self.meetings]
        if len(set(kinds)) != len(kinds):
            raise ValueError(f"case type {self.code}: a meeting kind declared twice")
        for rule in self.order:
            unknown = (set(rule.kinds) | {rule.after}) - set(kinds)
            if unknown:
                raise ValueError(f"case type {self.code}: order of undeclared {sorted(unknown)}")
        if self.follow_up is not None and self.follow_up.meeting_kind not in kinds:
            raise ValueError(f"case type {self.code}: follow-up by an undeclared meeting")
        roles = {s.role for s in self.seats}
        if any(s != self.seat_spec(s.role) for s in self.seats):
            raise ValueError(f"case type {self.code}: a seat's role declared in two ways")
        for template in self.meetings:
            if not template.attendees <= roles | FAMILY_SIDE:
                raise ValueError(f"case type {self.code}: {template.kind} has unknown attendees")
        if Facts.FAMILY in self.visible_to(Viewer.CHANNEL) or Facts.SAFETY in self.visible_to(
            Viewer.CHANNEL
        ):
            raise ValueError(f"case type {self.code}: the channel never sees a family")

    @property
    def max_seats(self) -> int:
        return sum(s.max_count for s in self.seats)

    def seat_spec(self, role: str) -> SeatSpec:
        return next(s for s in self.seats if s.role == role)

    def template(self, kind: str) -> MeetingTemplate | None:
        return next((m for m in self.meetings if m.kind == kind), None)

    def visible_to(self, viewer: Viewer) -> frozenset[Facts]:
        return next((facts for who, facts in self.visibility if who is viewer), frozenset())

    def may_see(self, viewer: Viewer, facts: Facts) -> bool:
        return facts in self.visible_to(viewer)

    def blocking_order(
        self, kind: str, held: Collection[tuple[str, int | None]]
    ) -> OrderRule | None:
        """The first order rule that a meeting of ``kind`` would break now, if any."""
        return next((r for r in self.order if kind in r.kinds and not r.met(held)), None)
