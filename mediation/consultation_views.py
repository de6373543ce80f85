"""What a consultation's cards show, and to whom: the view a use case hands the card builders.

The view is built for one person; what they may not see is left out here, not at the card.
The request's texts go to the requester, the coordinators and the experts asked who have
not declined; the answer's text only to those who open it (each reading journaled by the
use case); the justification of an exception to the requester and the coordinators. No
family's identity is stored, so none can be shown.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

from mediation.consultation import Answer, AnswerKind, ConsentBasis, Status


class Part(enum.StrEnum):
    """What the viewer is to the request; one person may be several."""

    REQUESTER = "requester"
    EXPERT = "expert"  # asked, whatever the answer
    COORDINATOR = "coordinator"


@dataclass(frozen=True)
class Person:
    id: int
    name: str


@dataclass(frozen=True)
class InvitationLine:
    person: Person
    speciality: str
    answer: Answer


@dataclass(frozen=True)
class AnswerView:
    """The team's answer, for those who opened it."""

    kind: AnswerKind
    text: str
    by: Person
    at: datetime
    meeting_at: datetime | None
    meeting_place: str
    attendees: tuple[Person, ...]


@dataclass(frozen=True)
class ConsultationView:
    """One consultation request as one person may see it."""

    id: int
    code: str
    status: Status
    urgent: bool
    region: str
    categories: tuple[str, ...]
    created_at: datetime
    viewer: Person
    parts: frozenset[Part]
    requester: Person
    consent_basis: ConsentBasis
    consent_given_on: date | None
    exception_asked_by: Person | None
    exception_approved_by: Person | None
    day: date | None
    invitations: tuple[InvitationLine, ...]
    # The request's texts: None for those who may not read them.
    question: str | None = None
    background: str | None = None
    birth_years: tuple[int, ...] = ()
    justification: str | None = None
    # For coordinators: the next consultation days with the number on each agenda, and who
    # may be asked for each speciality (not asked yet, least asked first).
    days: tuple[tuple[date, int], ...] = ()
    capacity: int = 0
    candidates: Mapping[str, tuple[Person, ...]] = field(default_factory=dict)
    answered: bool = False
    answer_kind: AnswerKind | None = None
    answer: AnswerView | None = None  # only when opened: its reading is journaled

    def has(self, part: Part) -> bool:
        return part in self.parts

    @property
    def my_invitation(self) -> InvitationLine | None:
        mine = [i for i in self.invitations if i.person.id == self.viewer.id]
        return mine[-1] if mine else None


@dataclass(frozen=True)
class DayAgenda:
    """One consultation day and the requests on its agenda, urgent first."""

    day: date
    requests: tuple[ConsultationView, ...]


@dataclass(frozen=True)
class ConsultationList:
    """The viewer's consultations: for a coordinator the team's queue and agendas too."""

    viewer: Person
    coordinator: bool
    waiting: tuple[ConsultationView, ...]  # for coordinators: not yet on an agenda, urgent first
    agendas: tuple[DayAgenda, ...]  # for coordinators: the next consultation days
    mine: tuple[ConsultationView, ...]  # sent or asked of the viewer, newest first
    capacity: int = 0
