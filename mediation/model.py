"""The mediator bank's model: mediators, cases and their seats, families, meetings."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from mediation import errors
from mediation.case_types import (
    CHILD,
    PARENTS,
    CaseType,
    ConsentRule,
    Facts,
    FollowUp,
    MeetingTemplate,
    OrderRule,
    Outputs,
    SeatSpec,
    Viewer,
)
from mediation.policy import BankPolicy


class Role(enum.StrEnum):
    MEDIATOR = "mediator"
    COORDINATOR = "coordinator"  # a coordinator also mediates
    BOOKER = "booker"  # an office secretary: books first meetings, sees nothing else


class CaseStatus(enum.StrEnum):
    OPEN = "open"
    PAIRED = "paired"
    IN_PROGRESS = "in_progress"
    FOLLOW_UP = "follow_up"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self not in (CaseStatus.CLOSED, CaseStatus.CANCELLED)


class Outcome(enum.StrEnum):
    AGREEMENT = "agreement"
    PARTIAL_AGREEMENT = "partial_agreement"
    NO_AGREEMENT = "no_agreement"
    NOT_SUITABLE = "not_suitable"
    INTERRUPTED = "interrupted"


# A mediation counts towards a mediator's experience only if it was carried out;
# a family screened out or withdrawn at the start taught little about the whole process.
COMPLETING_OUTCOMES = frozenset(
    {Outcome.AGREEMENT, Outcome.PARTIAL_AGREEMENT, Outcome.NO_AGREEMENT}
)

LANGUAGES = ("fi", "sv", "other")
TOPICS = ("custody", "residence", "contact", "maintenance", "other")
REFERRAL_SOURCES = (
    "self",
    "child_welfare_supervisor",
    "family_counselling",
    "maternity_clinic",
    "school",
    "walk_in",
    "court",
    "other",
)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")
DAY_PARTS = ("morning", "afternoon", "evening")
PREFERRED_TIMES = tuple(f"{d}_{p}" for d in WEEKDAYS for p in DAY_PARTS)


class ReleaseReason(enum.StrEnum):
    WITHDRAW = "withdraw"
    CONFLICT_OF_INTEREST = "conflict_of_interest"
    COORDINATOR = "coordinator"


class MeetingKind(enum.StrEnum):
    INDIVIDUAL = "individual"
    JOINT = "joint"
    CHILD = "child"
    FOLLOW_UP = "follow_up"


class MeetingStatus(enum.StrEnum):
    BOOKED = "booked"
    HELD = "held"
    NOT_HELD = "not_held"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class AwayPeriod:
    start: date
    end: date  # inclusive: the last day away

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise errors.InvalidInput("away", "the period ends before it starts")

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass
class Mediator:
    """A person in the bank's registry; identified by their Entra object id."""

    aad_object_id: str
    name: str
    email: str
    employer: str
    languages: frozenset[str]
    role: Role = Role.MEDIATOR
    experienced_mark: bool = False
    active: bool = True
    away: tuple[AwayPeriod, ...] = ()
    completed_cases: int = 0  # read from the bank's closed cases, never written
    id: int | None = None

    @property
    def is_coordinator(self) -> bool:
        return self.role is Role.COORDINATOR

    @property
    def is_booker(self) -> bool:
        return self.role is Role.BOOKER

    def is_experienced(self, policy: BankPolicy) -> bool:
        return self.experienced_mark or self.completed_cases >= policy.experience_threshold

    def away_on(self, day: date) -> AwayPeriod | None:
        return next((p for p in self.away if p.covers(day)), None)

    def speaks(self, language: str) -> bool:
        return language in self.languages


# The follow-up meeting is due about three months after the agreement; the pair is reminded
# two weeks before (the bank may tune both: mediation.reminders.ReminderPolicy).
PAIR_FOLLOW_UP = FollowUp(MeetingKind.FOLLOW_UP, 90, 14, frozenset({"mediator"}))

# The mediators' pair, as the bank has always worked: two mediators claim (or are assigned)
# the two seats, one of them experienced; each parent's individual meeting comes before any
# joint or child meeting, and an open safety concern holds those back.
MEDIATION = CaseType(
    "mediation",
    (SeatSpec("mediator"), SeatSpec("mediator")),
    min_experienced=1,
    meetings=(
        MeetingTemplate(
            MeetingKind.INDIVIDUAL, 60, frozenset({"mediator", PARENTS}), per_parent=True
        ),
        MeetingTemplate(
            MeetingKind.JOINT, 90, frozenset({"mediator", PARENTS}), waits_for_safety=True
        ),
        MeetingTemplate(
            MeetingKind.CHILD, 60, frozenset({"mediator", CHILD}), waits_for_safety=True
        ),
        MeetingTemplate(MeetingKind.FOLLOW_UP, 60, frozenset({"mediator", PARENTS})),
    ),
    order=(
        OrderRule(
            frozenset({MeetingKind.JOINT, MeetingKind.CHILD}), MeetingKind.INDIVIDUAL, (1, 2)
        ),
    ),
    # The parents asked for mediation themselves, and the channel's card names no one:
    # nothing the bank does waits for a further consent.
    consent=ConsentRule(),
    outputs=Outputs(outcomes=tuple(Outcome)),
    follow_up=PAIR_FOLLOW_UP,
    visibility=(
        (Viewer.CHANNEL, frozenset({Facts.ANONYMOUS})),
        (Viewer.SEAT_HOLDER, frozenset({Facts.ANONYMOUS, Facts.FAMILY, Facts.SAFETY})),
        (Viewer.COORDINATOR, frozenset({Facts.ANONYMOUS, Facts.FAMILY, Facts.SAFETY})),
    ),
    # The figures of mediation.stats.YearStats the bank's joint meetings go through.
    statistics=(
        "families",
        "by_status",
        "by_outcome",
        "by_area",
        "by_referral",
        "to_pair",
        "to_first_meeting",
        "meetings_held",
        "meetings_not_held",
        "client",
        "mediator_feedback",
        "mediators",
        "minutes_by_employer",
    ),
)
CASE_TYPES: dict[str, CaseType] = {MEDIATION.code: MEDIATION}


@dataclass
class Seat:
    n: int  # 1-based position within the case
    role: str
    holder_id: int | None = None
    taken_at: datetime | None = None
    # The case version whose save changed the holder: a card drawn before it is stale for
    # this seat even when the seat looks as the card showed it (claimed and released since).
    changed_in: int = 0

    @property
    def free(self) -> bool:
        return self.holder_id is None


@dataclass(frozen=True)
class Parent:
    """A parent's contact data: the minimum the pair needs to reach them."""

    name: str
    phone: str
    email: str
    municipality: str = ""
    language: str = ""


@dataclass(frozen=True)
class Child:
    birth_year: int
    first_name: str = ""


@dataclass(frozen=True)
class Family:
    """Identifying client data; seen only by the pair and the coordinators, logged."""

    parents: tuple[Parent, ...]
    children: tuple[Child, ...] = ()


@dataclass
class Meeting:
    kind: MeetingKind
    starts_at: datetime
    ends_at: datetime
    status: MeetingStatus = MeetingStatus.BOOKED
    parent_no: int | None = None  # which parent an individual meeting is for
    held_minutes: int | None = None
    id: int | None = None


@dataclass(frozen=True)
class Intake:
    """What the coordinator records about a family that is not identifying.

    These facts are what the anonymous channel card may show.
    """

    area: str
    language: str
    interpreter: bool
    child_birth_years: tuple[int, ...]
    topics: tuple[str, ...]
    preferred_times: tuple[str, ...]
    referral_source: str
    safety_concern: bool
    # Weekdays (WEEKDAYS), not dates: intake happens weeks before anything is booked, and a
    # family knows which days never suit ("not on Fridays"), not which dates will.
    excluded_days: tuple[str, ...] = ()


@dataclass
class Case:
    """A family's mediation, from intake to close; the aggregate that guards its seats."""

    code: str
    type: CaseType
    intake: Intake
    created_at: datetime
    created_by: int
    seats: list[Seat]
    status: CaseStatus = CaseStatus.OPEN
    outcome: Outcome | None = None
    closed_at: datetime | None = None
    safety_concern_open: bool = False
    package_size: int = 5
    meetings: list[Meeting] = field(default_factory=list)
    id: int | None = None
    version: int = 0

    @classmethod
    def new(
        cls,
        code: str,
        intake: Intake,
        created_by: int,
        now: datetime,
        policy: BankPolicy,
        case_type: CaseType = MEDIATION,
    ) -> Case:
        roles = [spec.role for spec in case_type.seats for _ in range(spec.min_count)]
        seats = [Seat(n=i + 1, role=role) for i, role in enumerate(roles)]
        size = max(policy.package_min, min(policy.package_max, 5))
        return cls(
            code=code,
            type=case_type,
            intake=intake,
            created_at=now,
            created_by=created_by,
            seats=seats,
            safety_concern_open=intake.safety_concern,
            package_size=size,
        )

    # -- seats -----------------------------------------------------------------------

    def seat(self, n: int) -> Seat:
        for s in self.seats:
            if s.n == n:
                return s
        raise errors.InvalidInput("seat", f"case {self.code} has no seat {n}", seat=n)

    def seat_of(self, mediator_id: int) -> Seat | None:
        return next((s for s in self.seats if s.holder_id == mediator_id), None)

    def holder_ids(self) -> list[int]:
        return [s.holder_id for s in self.seats if s.holder_id is not None]

    def first_free_seat(self) -> Seat | None:
        return next((s for s in self.seats if s.free), None)

    @property
    def full(self) -> bool:
        return all(not s.free for s in self.seats)

    def take_seat(self, n: int, mediator_id: int, now: datetime) -> None:
        """Put a mediator in a free seat; a full case becomes paired."""
        if self.status not in (CaseStatus.OPEN, CaseStatus.PAIRED):
            raise errors.IllegalTransition("claim a seat on", self.status.value)
        seat = self.seat(n)
        if not seat.free:
            raise errors.SeatTaken(n, str(seat.holder_id))
        if self.seat_of(mediator_id) is not None:
            raise errors.SameMediatorTwice(str(mediator_id))
        self._seat_changed(seat, mediator_id, now)
        if self.full and self.status is CaseStatus.OPEN:
            self.status = CaseStatus.PAIRED

    def _seat_changed(self, seat: Seat, holder_id: int | None, now: datetime | None) -> None:
        # The next save makes the case's version one higher: the seat changed in that one.
        seat.holder_id, seat.taken_at, seat.changed_in = holder_id, now, self.version + 1

    def vacate_seat(self, n: int) -> int:
        """Empty a seat; a paired case goes back to open. Returns the former holder."""
        if self.status not in (CaseStatus.OPEN, CaseStatus.PAIRED):
            # Once meetings run the family keeps a full pair: the coordinator replaces
            # a mediator instead of leaving a seat empty.
            raise errors.IllegalTransition("release a seat of", self.status.value)
        seat = self.seat(n)
        if seat.holder_id is None:
            raise errors.InvalidInput("seat", f"seat {n} is already free", seat=n)
        former = seat.holder_id
        self._seat_changed(seat, None, None)
        if self.status is CaseStatus.PAIRED:
            self.status = CaseStatus.OPEN
        return former

    def replace_holder(self, n: int, mediator_id: int, now: datetime) -> int | None:
        """A coordinator's (re-)assignment: the seat gets a new holder in any active state."""
        if not self.status.active:
            raise errors.IllegalTransition("assign a seat of", self.status.value)
        seat = self.seat(n)
        if seat.holder_id == mediator_id:
            return mediator_id
        other = self.seat_of(mediator_id)
        if other is not None:
            raise errors.SameMediatorTwice(str(mediator_id))
        former = seat.holder_id
        self._seat_changed(seat, mediator_id, now)
        if self.full and self.status is CaseStatus.OPEN:
            self.status = CaseStatus.PAIRED
        return former

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> None:
        """The first meeting is booked: the package is under way."""
        if self.status is not CaseStatus.PAIRED:
            raise errors.IllegalTransition("start", self.status.value)
        self.status = CaseStatus.IN_PROGRESS

    def begin_follow_up(self) -> None:
        if self.status is not CaseStatus.IN_PROGRESS:
            raise errors.IllegalTransition("move to follow-up", self.status.value)
        self.status = CaseStatus.FOLLOW_UP

    def close(self, outcome: Outcome, now: datetime) -> None:
        # A paired case may close too: work done before Sopu booked meetings, or a
        # family screened out before the first meeting was recorded.
        if self.status not in (CaseStatus.PAIRED, CaseStatus.IN_PROGRESS, CaseStatus.FOLLOW_UP):
            raise errors.IllegalTransition("close", self.status.value)
        self.status, self.outcome, self.closed_at = CaseStatus.CLOSED, outcome, now

    def cancel(self, now: datetime) -> None:
        if not self.status.active:
            raise errors.IllegalTransition("cancel", self.status.value)
        self.status, self.closed_at = CaseStatus.CANCELLED, now

    # -- meetings --------------------------------------------------------------------

    def individual_meetings_held(self) -> bool:
        held = {
            m.parent_no
            for m in self.meetings
            if m.kind is MeetingKind.INDIVIDUAL and m.status is MeetingStatus.HELD
        }
        return {1, 2} <= held

    def check_can_book(self, kind: MeetingKind) -> None:
        """The type's order rules and its safety gate; the package's size bounds them all."""
        if self.status not in (CaseStatus.PAIRED, CaseStatus.IN_PROGRESS, CaseStatus.FOLLOW_UP):
            raise errors.IllegalTransition("book a meeting for", self.status.value)
        live = [m for m in self.meetings if m.status is not MeetingStatus.CANCELLED]
        if len(live) >= self.package_size:
            raise errors.PackageFull(self.package_size)
        template = self.type.template(kind)
        if template is None:
            raise errors.InvalidInput("kind", "unknown choice")  # not a meeting of this type
        if template.waits_for_safety and self.safety_concern_open:
            raise errors.SafetyConcernOpen()
        held = {(m.kind, m.parent_no) for m in self.meetings if m.status is MeetingStatus.HELD}
        if self.type.blocking_order(kind, held) is not None:
            raise errors.MeetingsOutOfOrder()

    def raise_safety_concern(self) -> None:
        self.safety_concern_open = True

    def clear_safety_concern(self) -> None:
        self.safety_concern_open = False

    def set_package_size(self, size: int) -> None:
        live = sum(1 for m in self.meetings if m.status is not MeetingStatus.CANCELLED)
        if size < max(1, live):
            raise errors.InvalidInput(
                "package_size", f"{live} meetings are already booked or held", size=size
            )
        self.package_size = size

    def copy(self) -> Case:
        return replace(
            self,
            seats=[replace(s) for s in self.seats],
            meetings=[replace(m) for m in self.meetings],
        )
