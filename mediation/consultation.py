"""Consultation requests to a high-conflict expert team (seed 002).

A professional of the registry sends the expert team a request about a family in a
high-conflict separation: the situation by category, the question to the experts and the
family's consent, recorded with the day it was given. Without consent a request goes only
when the child's interest requires it, with a written justification that a coordinator
other than the requester approves. An urgent request (serious violence, a threat of
abduction) takes fewer fields and alerts the coordinators at once.

The team's coordinators (the mobile pair) place each request on the agenda of one of the
pre-agreed consultation days and ask the experts it needs by speciality; each accepts or
declines. The team answers with a recommendation, a statement, consulting help, a single
client intervention meeting (its agreed time and attendees recorded) or the mobile pair's
support in the field; the requester reads the answer on a card, each reading journaled.

A request holds no family's name or identity code: a case code, the region, the
categories, the texts typed (refused when they hold an identity code) and at most the
children's birth years. Experts therefore never see who the family is.
"""

from __future__ import annotations

import enum
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median

from mediation import errors
from mediation.case_types import (
    CHILD,
    EXPERT_SPECIALITIES,
    PARENTS,
    CaseType,
    ConsentRule,
    Facts,
    Fill,
    MeetingTemplate,
    Outputs,
    SeatSpec,
    Step,
    Viewer,
)
from mediation.common_time import EventState
from mediation.consent import Consent, ConsentException, check_consent
from mediation.intake import has_control_characters, holds_identity_code
from mediation.model import Mediator

CATEGORIES = (
    "violence",
    "abduction_threat",
    "alienation",
    "repeated_court_cases",
    "substance_use",
    "mental_health",
    "culture_immigration",
    "other",
)
# The situations that take the urgent route (seed 002: "lapsikaappauksen uhka, vakavan
# väkivallan uhka").
URGENT_CATEGORIES = ("violence", "abduction_threat")
SPECIALITIES = EXPERT_SPECIALITIES
TEXT_MAX = 2000
REGION_MAX = 100
MAX_CHILDREN = 8
MAX_EXPERTS = 8  # experts asked at once
CONSENT_MAX_AGE_DAYS = 365  # a consent older than this is asked again
MEETING_MINUTES = 90

CLIENT_MEETING_KIND = "client_meeting"

CONSULTATION = CaseType(
    "consultation",
    (
        SeatSpec("requester", fill=frozenset({Fill.CREATOR})),
        SeatSpec("expert", min_count=0, max_count=MAX_EXPERTS, fill=frozenset({Fill.INVITE})),
    ),
    min_experienced=0,
    # The single client intervention meeting: the chosen experts with the family.
    meetings=(MeetingTemplate(CLIENT_MEETING_KIND, 90, frozenset({"expert", PARENTS, CHILD})),),
    # Taking the request to the expert team is convening professionals around the family.
    consent=ConsentRule(frozenset({Step.CONVENE})),
    outputs=Outputs(
        outcomes=(
            "recommendation",
            "statement",
            "consulting_help",
            "client_meeting",
            "mobile_pair",
        )
    ),
    # Nothing of a consultation is ever shown in a channel; no family's identity is stored.
    visibility=(
        (Viewer.SEAT_HOLDER, frozenset({Facts.ANONYMOUS})),
        (Viewer.COORDINATOR, frozenset({Facts.ANONYMOUS})),
    ),
    statistics=(
        "by_category",
        "by_region",
        "consent_basis",
        "days_to_answer",
        "answer_kinds",
        "specialities_used",
    ),
)


class Status(enum.StrEnum):
    WAITING = "waiting"  # sent; waits for a place on a consultation day's agenda
    ON_AGENDA = "on_agenda"  # placed on a day's agenda; experts asked
    ANSWERED = "answered"
    WITHDRAWN = "withdrawn"  # the requester took it back


class Answer(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class AnswerKind(enum.StrEnum):
    """What the expert team gives (seed 002)."""

    RECOMMENDATION = "recommendation"
    STATEMENT = "statement"
    CONSULTING_HELP = "consulting_help"  # help in thinking it over, for the requester's team
    CLIENT_MEETING = "client_meeting"  # one intervention meeting with the family
    MOBILE_PAIR = "mobile_pair"  # the mobile pair's support in the field


class ConsentBasis(enum.StrEnum):
    """On what the request went to the team: the family's consent or an exception."""

    CONSENT = "consent"
    EXCEPTION = "exception"  # the child's interest, approved by a coordinator
    PENDING = "pending"  # the exception waits for its approval


class ConsultationRefused(errors.DomainError):
    """A rule of the consultations refused; ``reason`` names its message (consult.error.*)."""

    def __init__(self, reason: str, **params: object) -> None:
        super().__init__(f"consultation: {reason}", **params)
        self.key = f"consult.error.{reason}"


def check_text(name: str, value: str, *, required: bool, limit: int = TEXT_MAX) -> str:
    """A typed text, stripped: no control characters but line breaks, no identity codes."""
    value = value.strip()
    if required and not value:
        raise errors.InvalidInput(name, "required")
    if len(value) > limit:
        raise errors.InvalidInput(name, "too long", max=limit)
    if has_control_characters(value.replace("\r\n", "\n").replace("\n", " ")):
        raise errors.InvalidInput(name, "a character that cannot be saved")
    if holds_identity_code(value):
        raise errors.InvalidInput(name, "identity codes are not stored")
    return value


# -- consultation days ----------------------------------------------------------------------

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class DaySlot:
    """A recurring consultation time: a weekday (0 is Monday) and its hours."""

    weekday: int
    start: time
    end: time

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6 or self.end <= self.start:
            raise ValueError(f"consultation day: impossible slot {self}")


@dataclass(frozen=True)
class ConsultationDays:
    """The expert team's pre-agreed consultation days: every week at ``slots``; each day's
    agenda takes ``capacity`` requests (an urgent one goes over it), and a coordinator
    chooses among the next ``shown`` days."""

    slots: tuple[DaySlot, ...] = (DaySlot(1, time(13, 0), time(16, 0)),)
    capacity: int = 4
    shown: int = 4

    def __post_init__(self) -> None:
        if not self.slots or self.capacity < 1 or self.shown < 1:
            raise ValueError("consultation days: slots, a capacity and days shown are needed")

    @classmethod
    def parse(cls, text: str, capacity: int = 4, shown: int = 4) -> ConsultationDays:
        """'tue 13:00-16:00' (or 'tue:13:00-16:00'), several separated by commas."""
        slots = []
        for entry in (e.strip() for e in text.split(",")):
            if not entry:
                continue
            day, _, hours = entry.replace(" ", ":", 1).partition(":")
            first, _, last = hours.strip().partition("-")
            try:
                weekday = WEEKDAY_NAMES.index(day.strip().lower()[:3])
                slots.append(DaySlot(weekday, _clock(first), _clock(last)))
            except ValueError:
                raise ValueError(
                    f"not a consultation day: {entry!r} (e.g. tue 13:00-16:00)"
                ) from None
        return cls(tuple(slots), capacity, shown) if slots else cls(capacity=capacity, shown=shown)

    def slot_of(self, day: date) -> DaySlot | None:
        return next((s for s in self.slots if s.weekday == day.weekday()), None)

    def upcoming(self, today: date, now: time | None = None) -> list[date]:
        """The next ``shown`` consultation days: today's among them until its hours end
        (``now``, the local time of day; None: all of today)."""
        found: list[date] = []
        day = today
        while len(found) < self.shown:
            slot = self.slot_of(day)
            over = day == today and slot is not None and now is not None and now >= slot.end
            if slot is not None and not over:
                found.append(day)
            day += timedelta(days=1)
        return found


def _clock(text: str) -> time:
    """'9:00' or '09:00'."""
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isascii() and hours.isdigit() and minutes.isascii() and len(minutes) == 2):
        raise ValueError(text)
    return time(int(hours), int(minutes))


# -- the request ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Expert:
    """Someone of the expert team, as the registry knows them."""

    id: int
    name: str
    specialities: frozenset[str]
    available: bool = True  # active and not away


@dataclass
class Invitation:
    person_id: int
    speciality: str
    asked_at: datetime
    answer: Answer = Answer.PENDING
    answered_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.answer is not Answer.DECLINED


@dataclass(frozen=True)
class TeamAnswer:
    """The expert team's answer; a client meeting has its agreed time and attendees."""

    kind: AnswerKind
    text: str
    by: int
    at: datetime
    meeting_at: datetime | None = None
    meeting_place: str = ""
    attendees: tuple[int, ...] = ()  # experts at the client meeting

    def __post_init__(self) -> None:
        check_text("answer", self.text, required=True)
        check_text("meeting_place", self.meeting_place, required=False, limit=REGION_MAX)
        meeting = self.kind is AnswerKind.CLIENT_MEETING
        if meeting and self.meeting_at is None:
            raise errors.InvalidInput("meeting_at", "required")
        if meeting and not self.attendees:
            raise errors.InvalidInput("attendees", "required")
        if not meeting and (self.meeting_at is not None or self.attendees):
            raise errors.InvalidInput("meeting_at", "unknown choice")


@dataclass
class MeetingEvent:
    """Where a client meeting stands in its organiser's calendar."""

    organizer: str
    mailboxes: tuple[str, ...]  # the experts who attend
    state: EventState = EventState.CREATE
    event_id: str | None = None


@dataclass
class Consultation:
    """One consultation request, from its sending to the team's answer."""

    code: str
    requester_id: int
    region: str
    categories: frozenset[str]
    question: str
    created_at: datetime
    urgent: bool = False
    background: str = ""  # what has been tried, who works with the family
    birth_years: tuple[int, ...] = ()
    consent: Consent | None = None
    consent_given_on: date | None = None  # the day the family gave it
    exception: ConsentException | None = None
    status: Status = Status.WAITING
    day: date | None = None  # the consultation day whose agenda it is on
    invitations: list[Invitation] = field(default_factory=list)
    answer: TeamAnswer | None = None
    id: int | None = None
    version: int = 0
    # The client meeting's event: written into the organiser's calendar after the answer
    # commits, pending here until it is there.
    event: MeetingEvent | None = None

    type: CaseType = field(default=CONSULTATION, init=False)

    @classmethod
    def send(
        cls,
        code: str,
        requester_id: int,
        region: str,
        categories: Iterable[str],
        question: str,
        now: datetime,
        *,
        urgent: bool = False,
        background: str = "",
        birth_years: Sequence[int] = (),
        consent_given_on: date | None = None,
        justification: str = "",
    ) -> Consultation:
        """A professional's request, with the family's consent of a given day or, without it,
        the justification that a coordinator is to approve."""
        chosen = frozenset(categories)
        if not chosen:
            raise errors.InvalidInput("categories", "required")
        if not chosen <= set(CATEGORIES):
            raise errors.InvalidInput("categories", "unknown choice")
        if urgent and not chosen & set(URGENT_CATEGORIES):
            raise ConsultationRefused("urgent_needs_category")
        if len(birth_years) > MAX_CHILDREN:
            raise errors.InvalidInput("birth_years", "too many children for one form")
        for year in birth_years:
            if not now.year - 18 < year <= now.year:
                raise errors.InvalidInput(
                    "birth_years", f"{year} is not the birth year of a child under 18"
                )
        request = cls(
            code,
            requester_id,
            check_text("region", region, required=True, limit=REGION_MAX),
            chosen,
            check_text("question", question, required=True),
            now,
            urgent=urgent,
            background=check_text("background", background, required=False),
            birth_years=tuple(sorted(birth_years)),
        )
        if consent_given_on is not None:
            today = now.date()
            if consent_given_on > today + timedelta(days=1):
                raise errors.InvalidInput("consent_date", "not a date")
            if consent_given_on < today - timedelta(days=CONSENT_MAX_AGE_DAYS):
                raise errors.InvalidInput("consent_date", "the period is already over")
            request.consent = Consent(frozenset({Step.CONVENE}), requester_id, now)
            request.consent_given_on = consent_given_on
        else:
            if not justification.strip():
                raise errors.InvalidInput("justification", "required")
            request.exception = ConsentException(
                Step.CONVENE, justification.strip(), requester_id, now
            )
        return request

    # -- consent ----------------------------------------------------------------------------

    @property
    def consent_basis(self) -> ConsentBasis:
        if self.consent is not None:
            return ConsentBasis.CONSENT
        if self.exception is not None and self.exception.approved:
            return ConsentBasis.EXCEPTION
        return ConsentBasis.PENDING

    def check_consent(self) -> None:
        check_consent(
            self.type.consent,
            self.code,
            Step.CONVENE,
            (self.consent,) if self.consent else (),
            (self.exception,) if self.exception else (),
        )

    def approve_exception(self, approver: Mediator, now: datetime) -> bool:
        """A coordinator other than the requester approves; approved already: False."""
        self._check_open()
        if self.exception is None:
            raise errors.InvalidInput("step", "unknown choice")
        if self.exception.approved:
            return False
        self.exception = self.exception.approve(approver, now)
        return True

    # -- the agenda -------------------------------------------------------------------------

    def place(
        self, day: date, days: ConsultationDays, today: date, on_day: int, now: time | None = None
    ) -> bool:
        """On the agenda of one of the next consultation days; ``on_day`` is how many
        requests that agenda has already. The same day again: False."""
        self._check_open()
        if self.status is Status.ANSWERED:
            raise ConsultationRefused("answered_already")
        self.check_consent()
        if self.day == day:
            return False
        if day not in days.upcoming(today, now):
            raise ConsultationRefused("not_a_day")
        if not self.urgent and on_day >= days.capacity:
            raise ConsultationRefused("day_full", capacity=days.capacity)
        self.day = day
        self.status = Status.ON_AGENDA
        return True

    # -- the experts ------------------------------------------------------------------------

    def invitation_of(self, person_id: int) -> Invitation | None:
        found = [i for i in self.invitations if i.person_id == person_id]
        return found[-1] if found else None

    def ask(self, expert: Expert, speciality: str, now: datetime) -> bool:
        """Ask an expert for one speciality; asked already for it: False."""
        self._check_open()
        if self.status is not Status.ON_AGENDA:
            raise ConsultationRefused("not_on_agenda")
        self.check_consent()
        if speciality not in SPECIALITIES:
            raise errors.InvalidInput("speciality", "unknown choice")
        if speciality not in expert.specialities:
            raise errors.NotQualified(expert.name, "expert", speciality)
        if not expert.available:
            raise errors.MediatorInactive(expert.name)
        if expert.id == self.requester_id:
            raise errors.SameMediatorTwice(expert.name)
        earlier = self.invitation_of(expert.id)
        if earlier is not None:
            if earlier.answer is Answer.DECLINED:
                raise errors.InvitationDeclined(expert.name)
            if earlier.speciality == speciality:
                return False
            raise errors.SameMediatorTwice(expert.name)
        if sum(1 for i in self.invitations if i.open) >= MAX_EXPERTS:
            raise errors.InvalidInput("experts", "too long")
        self.invitations.append(Invitation(expert.id, speciality, now))
        return True

    def reply(self, person_id: int, accept: bool, now: datetime) -> bool:
        """The expert accepts or declines; the same answer again: False."""
        invitation = self.invitation_of(person_id)
        if invitation is None:
            raise errors.NotInvited(self.code)
        wanted = Answer.ACCEPTED if accept else Answer.DECLINED
        if invitation.answer is wanted:
            return False
        if invitation.answer is not Answer.PENDING:
            raise errors.AlreadyAnswered(self.code, invitation.answer.value)
        if self.status is not Status.ON_AGENDA:
            raise ConsultationRefused("not_on_agenda")
        invitation.answer, invitation.answered_at = wanted, now
        return True

    def accepted(self) -> list[Invitation]:
        return [i for i in self.invitations if i.answer is Answer.ACCEPTED]

    def uncovered(self) -> list[str]:
        """Specialities asked of someone whose every invitation was declined."""
        asked = {i.speciality for i in self.invitations}
        covered = {i.speciality for i in self.invitations if i.open}
        return sorted(asked - covered)

    # -- the answer -------------------------------------------------------------------------

    def give_answer(self, answer: TeamAnswer) -> None:
        """The team's answer, after the day's consultation; an urgent request may be answered
        at once (the mobile pair acts before the next day)."""
        self._check_open()
        if self.status is Status.ANSWERED:
            raise ConsultationRefused("answered_already")
        if self.status is not Status.ON_AGENDA and not self.urgent:
            raise ConsultationRefused("not_on_agenda")
        self.check_consent()
        accepted = {i.person_id for i in self.accepted()}
        if not set(answer.attendees) <= accepted:
            raise errors.InvalidInput("attendees", "unknown choice")
        if answer.meeting_at is not None and answer.meeting_at <= answer.at:
            raise errors.InvalidInput("meeting_at", "the period is already over")
        self.answer = answer
        self.status = Status.ANSWERED

    def withdraw(self, by: int) -> None:
        if by != self.requester_id:
            raise ConsultationRefused("requester_only")
        self._check_open()
        if self.status is Status.ANSWERED:
            raise ConsultationRefused("answered_already")
        self.status = Status.WITHDRAWN

    def _check_open(self) -> None:
        if self.status is Status.WITHDRAWN:
            raise ConsultationRefused("withdrawn")


@dataclass(frozen=True)
class Entry:
    """One line of a consultation's journal; ``detail`` holds ids and codes, never a text."""

    kind: str  # "sent", "placed", "asked", "seen", ...
    actor_id: int | None
    at: datetime
    detail: Mapping[str, object] = field(default_factory=dict)


def agenda_order(requests: Iterable[Consultation]) -> list[Consultation]:
    """Urgent requests first, then the oldest."""
    return sorted(requests, key=lambda c: (not c.urgent, c.created_at, c.code))


# -- statistics ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsultationFigures:
    """A year's consultation requests, as the expert team reports them."""

    year: int
    requests: int
    urgent: int
    by_category: Mapping[str, int]
    by_region: Mapping[str, int]
    consent_basis: Mapping[str, int]
    days_to_answer: float | None  # median, of the answered ones
    answer_kinds: Mapping[str, int]
    specialities_used: Mapping[str, int]  # experts who accepted, by speciality


def consultation_figures(
    requests: Iterable[Consultation], year: int, local_date: Callable[[datetime], date]
) -> ConsultationFigures:
    """Requests sent in ``year``: by category and region, on what basis they went, the
    median days from request to answer, the answers' kinds and the specialities used.
    Years and days are the bank's own (``local_date``), not UTC's."""
    sent = [c for c in requests if local_date(c.created_at).year == year]
    categories: Counter[str] = Counter()
    regions: Counter[str] = Counter()
    basis: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    used: Counter[str] = Counter()
    waits: list[int] = []
    for c in sent:
        categories.update(c.categories)
        regions[c.region] += 1
        basis[c.consent_basis.value] += 1
        used.update(i.speciality for i in c.accepted())
        if c.answer is not None:
            kinds[c.answer.kind.value] += 1
            waits.append((local_date(c.answer.at) - local_date(c.created_at)).days)
    return ConsultationFigures(
        year,
        len(sent),
        sum(1 for c in sent if c.urgent),
        dict(sorted(categories.items())),
        dict(sorted(regions.items())),
        dict(sorted(basis.items())),
        float(median(waits)) if waits else None,
        dict(sorted(kinds.items())),
        dict(sorted(used.items())),
    )
