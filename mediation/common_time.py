"""The family centre's common time (seed 004): a close worker convenes a team around a family.

The convener raises the family's situation with them, records the family's consent and
invites people of the family-centre team with the competences needed; each invitee accepts
or declines, and a decline is replaced from the team. One common-time meeting is booked in
the attendees' common free time, with a room. There the family names a responsible worker
(or two) from a public service, and the convener records the joint plan; the plan goes only
to the parties the family agreed, each reading logged. The responsible worker follows up:
a reminder before the next contact, a follow-up meeting, the plan's actions marked done.

The case type is data (``COMMON_TIME``); this module holds the case's own rules.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from statistics import median

from mediation import errors
from mediation.case_types import (
    CHILD,
    FAMILY_CENTRE_COMPETENCES,
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
from mediation.intake import has_control_characters, holds_identity_code
from mediation.model import Mediator
from mediation.organisations import Organisation, OrganisationKind
from mediation.slots import Schedule, Slot, SlotRequest, find_slots

# The competences a family-centre team offers (seed 004) are qualifications of the registry.
COMPETENCES = FAMILY_CENTRE_COMPETENCES
COMMON_TIME_KIND = "common_time"
FOLLOW_UP_KIND = "follow_up"
MAX_TEAM = 6  # invitees who may attend at once, besides the convener
MAX_RESPONSIBLE = 2  # a responsible worker, or a pair
TEXT_MAX = 1000
# The responsible worker is a professional of a public service (seed 004).
PUBLIC_SERVICES = frozenset({OrganisationKind.MUNICIPALITY, OrganisationKind.WELLBEING_COUNTY})

COMMON_TIME = CaseType(
    "common_time",
    (
        SeatSpec("convener", fill=frozenset({Fill.CREATOR})),
        SeatSpec("team_member", min_count=0, max_count=MAX_TEAM, fill=frozenset({Fill.INVITE})),
        SeatSpec(
            "responsible_worker",
            min_count=0,
            max_count=MAX_RESPONSIBLE,
            fill=frozenset({Fill.NAMED_BY_FAMILY}),
        ),
    ),
    min_experienced=0,
    meetings=(
        MeetingTemplate(
            COMMON_TIME_KIND,
            90,
            frozenset({"convener", "team_member", PARENTS, CHILD}),
            room=True,
        ),
        MeetingTemplate(FOLLOW_UP_KIND, 60, frozenset({"responsible_worker", PARENTS}), room=True),
    ),
    order=(OrderRule(frozenset({FOLLOW_UP_KIND}), COMMON_TIME_KIND),),
    # Nothing is posted to a channel: a common time is convened in personal chat.
    consent=ConsentRule(frozenset({Step.CONVENE, Step.SHARE_PLAN})),
    outputs=Outputs(plan=True),
    # Due at the plan's next contact; 42 days is the due date when no date was agreed.
    follow_up=FollowUp(FOLLOW_UP_KIND, 42, 3, frozenset({"responsible_worker"})),
    visibility=(
        (Viewer.SEAT_HOLDER, frozenset({Facts.ANONYMOUS, Facts.FAMILY})),
        (Viewer.COORDINATOR, frozenset({Facts.ANONYMOUS})),
    ),
    statistics=(
        "by_municipality_month",
        "days_consent_to_meeting",
        "plans_followed_up",
        "competences_invited",
    ),
)


class Status(enum.StrEnum):
    CONVENING = "convening"  # consent recorded or waited for; invitations going out
    BOOKED = "booked"  # the common-time meeting is in the calendars
    HELD = "held"  # the meeting was held; the plan is being written
    FOLLOW_UP = "follow_up"  # the plan is recorded; the responsible worker follows up
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Answer(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"  # the convener took the invitation back (replaced, or not needed)


class EventState(enum.StrEnum):
    """Where a meeting stands in its organiser's calendar."""

    CREATE = "create"  # booked in Sopu, not yet confirmed by the calendar
    SYNCED = "synced"
    CANCEL = "cancel"  # cancelled in Sopu, the calendar not yet told
    CANCELLED = "cancelled"

    @property
    def pending(self) -> bool:
        return self in (EventState.CREATE, EventState.CANCEL)


class Place(enum.StrEnum):
    """Where an action of the joint plan happens."""

    HOME = "home"
    DAYCARE_OR_SCHOOL = "daycare_or_school"
    ELSEWHERE = "elsewhere"


@dataclass(frozen=True)
class TeamMember:
    """Someone of the family-centre team, as the registry knows them."""

    id: int
    name: str
    competences: frozenset[str]
    organisation: Organisation | None = None
    available: bool = True  # active, not away, their organisation in the network


@dataclass
class Invitation:
    person_id: int
    competence: str
    invited_at: datetime
    answer: Answer = Answer.PENDING
    answered_at: datetime | None = None

    @property
    def open(self) -> bool:
        """Still counting towards its competence: pending or accepted."""
        return self.answer in (Answer.PENDING, Answer.ACCEPTED)


@dataclass(frozen=True)
class PlanAction:
    """One thing the plan agrees to do, where, and whether it got done."""

    place: Place
    what: str
    where: str = ""  # for an action elsewhere: where
    done: bool | None = None  # None until the follow-up says

    def __post_init__(self) -> None:
        _check_text("what", self.what, required=True)
        _check_text("where", self.where, required=self.place is Place.ELSEWHERE)


@dataclass(frozen=True)
class JointPlan:
    """The joint plan, in the order of the seed's outline."""

    matters: str  # the concrete matters in the child's and family's daily life to change
    actions: tuple[PlanAction, ...]
    follow_up_how: str  # how follow-up happens
    family_reaches_worker: str  # how the family reaches the responsible worker
    next_contact: date
    shared_with: frozenset[int] = frozenset()  # parties beyond the family's own workers

    def __post_init__(self) -> None:
        _check_text("matters", self.matters, required=True)
        _check_text("follow_up_how", self.follow_up_how, required=True)
        _check_text("family_reaches_worker", self.family_reaches_worker, required=True)
        if not self.actions:
            raise errors.InvalidInput("actions", "required")
        if len(self.actions) > 20:
            raise errors.InvalidInput("actions", "too long")


def _check_text(name: str, value: str, *, required: bool) -> None:
    if required and not value.strip():
        raise errors.InvalidInput(name, "required")
    if len(value) > TEXT_MAX:
        raise errors.InvalidInput(name, "too long")
    # Line breaks are the only control characters a typed text keeps.
    if has_control_characters(value.replace("\r\n", "\n").replace("\n", " ")):
        raise errors.InvalidInput(name, "a character that cannot be saved")
    if holds_identity_code(value):
        raise errors.InvalidInput(name, "identity codes are not stored")


@dataclass
class Meeting:
    kind: str
    starts_at: datetime
    ends_at: datetime
    room: str  # a room mailbox (Graph) or a room's name (local calendar)
    held: bool = False
    cancelled: bool = False
    # Its event in the organiser's calendar: written after the booking commits, so a crash
    # in between leaves it pending here, to be written again under the same transaction id.
    organizer: str = ""
    attendees: tuple[str, ...] = ()  # mailboxes, the room's among them
    event_id: str | None = None
    calendar: EventState = EventState.CREATE

    @property
    def live(self) -> bool:
        return not self.cancelled


@dataclass
class CommonTime:
    """One family's common time, from the convener's consent to the plan's follow-up."""

    code: str
    convener_id: int
    municipality: str
    created_at: datetime
    competences: frozenset[str]  # what the convener asked for
    status: Status = Status.CONVENING
    consents: tuple[Consent, ...] = ()
    exceptions: tuple[ConsentException, ...] = ()
    invitations: list[Invitation] = field(default_factory=list)
    meetings: list[Meeting] = field(default_factory=list)
    responsible_ids: tuple[int, ...] = ()
    plan: JointPlan | None = None
    id: int | None = None
    version: int = 0
    ended_at: datetime | None = None  # closed or cancelled
    purged_at: datetime | None = None  # its texts erased after the retention time

    type: CaseType = field(default=COMMON_TIME, init=False)

    @classmethod
    def convene(
        cls,
        code: str,
        convener: TeamMember,
        municipality: str,
        competences: Iterable[str],
        now: datetime,
    ) -> CommonTime:
        """The close worker opens the family's common time with the competences it needs."""
        wanted = frozenset(competences)
        if not wanted:
            raise errors.InvalidInput("competences", "required")
        if not wanted <= set(COMPETENCES):
            raise errors.InvalidInput("competences", "unknown choice")
        if len(wanted) > MAX_TEAM:
            raise errors.InvalidInput("competences", "too long")
        _check_text("municipality", municipality, required=True)
        return cls(code, convener.id, municipality.strip(), now, wanted)

    # -- consent ----------------------------------------------------------------------------

    def record_consent(self, consent: Consent) -> None:
        self._check_active()
        if consent.recorded_by != self.convener_id:
            raise errors.NotAllowed("recording consent", "only the convener")
        self.consents = (*self.consents, consent)

    def ask_exception(self, exception: ConsentException) -> None:
        """A step without consent: the justification waits for a coordinator's approval."""
        self._check_active()
        if any(e.step is exception.step and not e.approved for e in self.exceptions):
            return  # asked already: the first justification stands until it is decided
        self.exceptions = (*self.exceptions, exception)

    def approve_exception(self, step: Step, approver: Mediator, now: datetime) -> None:
        """A coordinator other than the asker approves the exception asked for ``step``."""
        self._check_active()
        pending = next((e for e in self.exceptions if e.step is step and not e.approved), None)
        if pending is None:
            if any(e.step is step for e in self.exceptions):
                return  # approved already: a second click
            raise errors.InvalidInput("step", "unknown choice")
        approved = pending.approve(approver, now)
        self.exceptions = tuple(approved if e is pending else e for e in self.exceptions)

    def check_consent(self, step: Step) -> None:
        check_consent(self.type.consent, self.code, step, self.consents, self.exceptions)

    # -- invitations ------------------------------------------------------------------------

    def invitation_of(self, person_id: int) -> Invitation | None:
        found = [i for i in self.invitations if i.person_id == person_id]
        return found[-1] if found else None

    def invite(self, member: TeamMember, competence: str, now: datetime) -> Invitation:
        """Invite a team member for one of the competences asked for (the family agreed)."""
        if self.status is not Status.CONVENING:
            raise errors.IllegalTransition("invite to", self.status.value)
        self.check_consent(Step.CONVENE)
        if competence not in self.competences:
            raise errors.InvalidInput("competence", "unknown choice")
        if competence not in member.competences:
            raise errors.NotQualified(member.name, "team_member", competence)
        if not member.available:
            raise errors.MediatorInactive(member.name)
        if member.id == self.convener_id:
            raise errors.SameMediatorTwice(member.name)
        earlier = self.invitation_of(member.id)
        if earlier is not None and earlier.open:
            if earlier.competence == competence:
                return earlier  # the same invitation twice: a double click
            raise errors.SameMediatorTwice(member.name)
        if earlier is not None and earlier.answer is Answer.DECLINED:
            raise errors.InvitationDeclined(member.name)
        if sum(1 for i in self.invitations if i.open) >= MAX_TEAM:
            raise errors.InvalidInput("team", "too long")
        invitation = Invitation(member.id, competence, now)
        self.invitations.append(invitation)
        return invitation

    def answer(self, person_id: int, accept: bool, now: datetime) -> bool:
        """The invitee's answer; the same answer again changes nothing (returns False)."""
        invitation = self.invitation_of(person_id)
        if invitation is None or invitation.answer is Answer.WITHDRAWN:
            raise errors.NotInvited(self.code)
        wanted = Answer.ACCEPTED if accept else Answer.DECLINED
        if invitation.answer is wanted:
            return False
        if invitation.answer is not Answer.PENDING:
            raise errors.AlreadyAnswered(self.code, invitation.answer.value)
        if self.status is not Status.CONVENING:
            raise errors.IllegalTransition("answer an invitation to", self.status.value)
        invitation.answer, invitation.answered_at = wanted, now
        return True

    def withdraw(self, person_id: int, now: datetime) -> None:
        """The convener takes back a pending invitation (nobody answered, or no longer needed)."""
        invitation = self.invitation_of(person_id)
        if invitation is None or invitation.answer is not Answer.PENDING:
            raise errors.NotInvited(self.code)
        invitation.answer, invitation.answered_at = Answer.WITHDRAWN, now

    def uncovered(self) -> frozenset[str]:
        """The competences asked for that no pending or accepted invitation covers."""
        return self.competences - {i.competence for i in self.invitations if i.open}

    def replacements(self, competence: str, team: Iterable[TeamMember]) -> list[TeamMember]:
        """Who may be invited for a competence: able, available and not asked yet, in the
        order given (the caller puts the least loaded first)."""
        asked = {i.person_id for i in self.invitations}
        return [
            m
            for m in team
            if competence in m.competences
            and m.available
            and m.id not in asked
            and m.id != self.convener_id
        ]

    def attendee_ids(self) -> tuple[int, ...]:
        """The convener and those who accepted."""
        accepted = [i.person_id for i in self.invitations if i.answer is Answer.ACCEPTED]
        return (self.convener_id, *accepted)

    # -- the meeting ------------------------------------------------------------------------

    def check_can_book(self) -> None:
        """Someone has accepted for every competence asked for (a decline is replaced first)."""
        if self.status is not Status.CONVENING:
            raise errors.IllegalTransition("book the common time of", self.status.value)
        accepted = {i.competence for i in self.invitations if i.answer is Answer.ACCEPTED}
        missing = self.competences - accepted
        if missing:
            raise errors.CompetencesMissing(self.code, ", ".join(sorted(missing)))

    def book(
        self, start: datetime, room: str, now: datetime, minutes: int | None = None
    ) -> Meeting:
        self.check_can_book()
        meeting = self._meeting(COMMON_TIME_KIND, start, room, minutes)
        self.meetings.append(meeting)
        self.status = Status.BOOKED
        return meeting

    def record_held(self, now: datetime) -> None:
        meeting = self._live(COMMON_TIME_KIND)
        if self.status is not Status.BOOKED or meeting is None:
            raise errors.IllegalTransition("record the common time of", self.status.value)
        if meeting.starts_at > now:
            raise errors.InvalidInput("held", "the meeting has not begun")
        meeting.held = True
        self.status = Status.HELD

    def name_responsible(self, workers: Sequence[TeamMember]) -> None:
        """The family names a responsible worker, or a pair, from a public service."""
        if self.status is not Status.HELD:
            raise errors.IllegalTransition("name the responsible worker of", self.status.value)
        if not 1 <= len(workers) <= MAX_RESPONSIBLE or len({w.id for w in workers}) != len(workers):
            raise errors.InvalidInput("responsible", "unknown choice")
        for worker in workers:
            org = worker.organisation
            if org is None or org.kind not in PUBLIC_SERVICES:
                raise errors.NotPublicService(worker.name)
            if not worker.available:
                raise errors.MediatorInactive(worker.name)
        self.responsible_ids = tuple(w.id for w in workers)

    def record_plan(self, plan: JointPlan, by: int, today: date) -> None:
        """The convener records the plan; parties beyond the family's workers need consent."""
        if by != self.convener_id:
            raise errors.NotAllowed("recording the plan", "only the convener")
        if self.status is not Status.HELD:
            raise errors.IllegalTransition("record the plan of", self.status.value)
        if not self.responsible_ids:
            raise errors.InvalidInput("responsible", "required")
        if plan.next_contact < today:
            raise errors.InvalidInput("next_contact", "the period is already over")
        if plan.shared_with - self.own_workers():
            self.check_consent(Step.SHARE_PLAN)
        self.plan = plan
        self.status = Status.FOLLOW_UP

    def own_workers(self) -> frozenset[int]:
        """Who always has the plan: the convener and the responsible workers."""
        return frozenset({self.convener_id, *self.responsible_ids})

    def check_may_read_plan(self, person_id: int) -> None:
        """The plan goes only to the family's agreed parties; the caller logs each reading."""
        if self.plan is None or self.purged_at is not None:
            raise errors.NotFound(f"case {self.code} has no plan (yet, or any more)")
        if person_id not in self.own_workers() | self.plan.shared_with:
            raise errors.NotAllowed("reading the plan", "only the family's agreed parties")

    # -- follow-up --------------------------------------------------------------------------

    def follow_up_due(self) -> date | None:
        if self.plan is None or self.status is not Status.FOLLOW_UP:
            return None
        return self.plan.next_contact

    def reminder_due(self, today: date) -> bool:
        """The responsible worker is reminded from a few days before the next contact on,
        until a follow-up meeting is booked."""
        due = self.follow_up_due()
        assert self.type.follow_up is not None
        if due is None or self._live(FOLLOW_UP_KIND) is not None:
            return False
        return today >= due - timedelta(days=self.type.follow_up.lead_days)

    def book_follow_up(
        self, by: int, start: datetime, room: str, now: datetime, minutes: int | None = None
    ) -> Meeting:
        if by not in self.responsible_ids:
            raise errors.NotAllowed("booking the follow-up", "only the responsible worker")
        if self.status is not Status.FOLLOW_UP:
            raise errors.IllegalTransition("book the follow-up of", self.status.value)
        held = [(m.kind, None) for m in self.meetings if m.held]
        if self.type.blocking_order(FOLLOW_UP_KIND, held) is not None:
            raise errors.MeetingsOutOfOrder(COMMON_TIME_KIND)
        if self._live(FOLLOW_UP_KIND) is not None:
            raise errors.PackageFull(1)
        meeting = self._meeting(FOLLOW_UP_KIND, start, room, minutes)
        self.meetings.append(meeting)
        return meeting

    def mark_action(self, by: int, index: int, done: bool) -> None:
        """The responsible worker marks one of the plan's actions done or not done."""
        if by not in self.responsible_ids:
            raise errors.NotAllowed("following up the plan", "only the responsible worker")
        if self.plan is None or self.status is not Status.FOLLOW_UP:
            raise errors.IllegalTransition("follow up the plan of", self.status.value)
        if not 0 <= index < len(self.plan.actions):
            raise errors.InvalidInput("action", "unknown choice")
        actions = list(self.plan.actions)
        actions[index] = replace(actions[index], done=done)
        self.plan = replace(self.plan, actions=tuple(actions))

    def followed_up(self) -> bool:
        """Every action of the plan marked, done or not."""
        return self.plan is not None and all(a.done is not None for a in self.plan.actions)

    def close(self, by: int, now: datetime) -> None:
        if by not in self.responsible_ids:
            raise errors.NotAllowed("closing a case", "only the responsible worker")
        if self.status is not Status.FOLLOW_UP:
            raise errors.IllegalTransition("close", self.status.value)
        self.status, self.ended_at = Status.CLOSED, now

    def cancel(self, by: int, now: datetime) -> None:
        if by != self.convener_id:
            raise errors.NotAllowed("cancelling a case", "only the convener")
        self._check_active()
        self.status, self.ended_at = Status.CANCELLED, now
        for meeting in self.meetings:
            if not meeting.held and not meeting.cancelled and meeting.ends_at > now:
                meeting.cancelled, meeting.calendar = True, EventState.CANCEL

    # -- helpers ----------------------------------------------------------------------------

    def _check_active(self) -> None:
        if self.status in (Status.CLOSED, Status.CANCELLED):
            raise errors.IllegalTransition("change", self.status.value)

    def _live(self, kind: str) -> Meeting | None:
        return next((m for m in self.meetings if m.kind == kind and not m.cancelled), None)

    def _meeting(self, kind: str, start: datetime, room: str, minutes: int | None) -> Meeting:
        template = self.type.template(kind)
        assert template is not None
        if template.room and not room.strip():
            raise errors.InvalidInput("room", "required")
        length = minutes if minutes is not None else template.minutes
        return Meeting(kind, start, start + timedelta(minutes=length), room.strip())


@dataclass(frozen=True)
class Entry:
    """One line of a common time's journal; ``detail`` holds ids and codes, never a text."""

    kind: str  # "convened", "invited", "plan_read", ...
    actor_id: int | None
    at: datetime
    detail: Mapping[str, object] = field(default_factory=dict)


def due_for_erasure(cases: Iterable[CommonTime], now: datetime, keep_days: int) -> list[CommonTime]:
    """Ended common times whose texts (the plan, the justifications) have been kept long
    enough; what the statistics count stays."""
    cutoff = now - timedelta(days=keep_days)
    return [
        c for c in cases if c.purged_at is None and c.ended_at is not None and c.ended_at <= cutoff
    ]


# -- finding the time ---------------------------------------------------------------------------


def common_free_time(
    attendees: Sequence[Schedule], rooms: Sequence[Schedule], request: SlotRequest
) -> list[tuple[Slot, str]]:
    """The attendees' common free time with a room free too: each slot with its first free
    room (in the order given), the best few in time order."""
    found: dict[datetime, tuple[Slot, str]] = {}
    for room in rooms:
        for slot in find_slots([*attendees, room], request):
            found.setdefault(slot.start, (slot, room.mailbox))
    ranked = sorted(found.values(), key=lambda f: (not f[0].preferred, f[0].tentative, f[0].start))
    return sorted(ranked[: request.limit], key=lambda f: f[0].start)


# -- statistics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CommonTimeFigures:
    """A year's common times, as the family centre reports them."""

    by_municipality_month: Mapping[tuple[str, int], int]  # held common times
    days_consent_to_meeting: float | None  # median
    plans: int
    plans_followed_up: int  # every action marked
    competences_invited: Mapping[str, int]
    # How many held common times the median is over (those with the family's consent):
    # a median of a few cases says too much about each of them once it leaves the card.
    consent_to_meeting_count: int = 0


def common_time_figures(
    cases: Iterable[CommonTime], year: int, local_date: Callable[[datetime], date]
) -> CommonTimeFigures:
    """Common times held in a year per municipality and month, the median days from the
    family's consent to the meeting, plans and plans followed up, competences invited.

    Years, months and days are the bank's own (``local_date``): a meeting at 00:30 on the
    first of a month belongs to that month, not to the one before it in UTC."""
    by_place: Counter[tuple[str, int]] = Counter()
    waits: list[int] = []
    invited: Counter[str] = Counter()
    plans = followed = 0
    for case in cases:
        held = next((m for m in case.meetings if m.kind == COMMON_TIME_KIND and m.held), None)
        held_on = local_date(held.starts_at) if held is not None else None
        if held_on is None or held_on.year != year:
            continue
        by_place[(case.municipality, held_on.month)] += 1
        consent = min((c.at for c in case.consents), default=None)
        if consent is not None:
            waits.append((held_on - local_date(consent)).days)
        invited.update(i.competence for i in case.invitations if i.answer is not Answer.WITHDRAWN)
        if case.plan is not None:
            plans += 1
            followed += case.followed_up()
    return CommonTimeFigures(
        dict(sorted(by_place.items())),
        float(median(waits)) if waits else None,
        plans,
        followed,
        dict(sorted(invited.items())),
        len(waits),
    )
