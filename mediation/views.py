"""Read models for cards: what each audience may see of a case, and nothing more.

``CaseSummary`` is the anonymous view for the bank channel: by construction it holds no
name, contact, free text or safety information. ``CaseDetails`` is for the pair and the
coordinators, in personal chat only.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time

from mediation.model import Case, Family, Mediator
from mediation.policy import BankPolicy
from mediation.rules import QuotaUsage, meetings_to_cancel, seat_needs_experienced

AGE_BANDS = ((0, 2, "0-2"), (3, 6, "3-6"), (7, 12, "7-12"), (13, 17, "13-17"))


def age_band(birth_year: int, today: date) -> str:
    age = today.year - birth_year
    for low, high, label in AGE_BANDS:
        if low <= age <= high:
            return label
    return "13-17" if age > 17 else "0-2"


@dataclass(frozen=True)
class SeatView:
    n: int
    role: str
    holder_id: int | None
    holder_name: str | None
    holder_is_new: bool
    needs_experienced: bool
    holder_aad: str | None = None  # never shown: whose answer card offers "Release my seat"


@dataclass(frozen=True)
class MeetingAhead:
    """A booked meeting still to come, as the close and cancel forms list it."""

    kind: str
    parent_no: int | None
    starts_at: datetime  # in the bank's time zone


@dataclass(frozen=True)
class CaseSummary:
    case_id: int
    code: str
    type_code: str
    status: str
    outcome: str | None
    area: str
    term: str  # term name, e.g. "spring"
    year: int
    language: str
    interpreter: bool
    children: int
    age_bands: tuple[str, ...]
    topics: tuple[str, ...]
    preferred_times: tuple[str, ...]
    seats: tuple[SeatView, ...]
    # The case's version when read: of two summaries of one case, the higher is the newer.
    version: int = 0
    # Booked meetings from today on: closing or cancelling the case cancels them.
    meetings_ahead: tuple[MeetingAhead, ...] = ()

    @property
    def open_seats(self) -> int:
        return sum(1 for s in self.seats if s.holder_id is None)

    def holds_seat(self, mediator_id: int | None) -> bool:
        return mediator_id is not None and any(s.holder_id == mediator_id for s in self.seats)

    def held_by(self, aad_object_id: str | None) -> bool:
        """Whether the person of this Entra object id holds one of the seats."""
        aad = (aad_object_id or "").lower()
        return bool(aad) and any(s.holder_aad == aad for s in self.seats)


def summarize(
    case: Case, holders: Mapping[int, Mediator], policy: BankPolicy, today: date
) -> CaseSummary:
    if case.id is None:
        raise ValueError("only stored cases can be summarised")
    term = policy.term_of(case.created_at)
    seats = []
    for seat in case.seats:
        holder = holders.get(seat.holder_id) if seat.holder_id is not None else None
        seats.append(
            SeatView(
                n=seat.n,
                role=seat.role,
                holder_id=seat.holder_id,
                holder_name=holder.name if holder else None,
                holder_is_new=bool(holder and not holder.is_experienced(policy)),
                needs_experienced=seat_needs_experienced(case, seat, holders, policy),
                holder_aad=holder.aad_object_id.lower() if holder else None,
            )
        )
    return CaseSummary(
        case_id=case.id,
        code=case.code,
        type_code=case.type.code,
        status=case.status.value,
        outcome=case.outcome.value if case.outcome else None,
        area=case.intake.area,
        term=term.name,
        year=term.year,
        language=case.intake.language,
        interpreter=case.intake.interpreter,
        children=len(case.intake.child_birth_years),
        age_bands=tuple(age_band(y, today) for y in case.intake.child_birth_years),
        topics=case.intake.topics,
        preferred_times=case.intake.preferred_times,
        seats=tuple(seats),
        version=case.version,
        meetings_ahead=tuple(
            MeetingAhead(m.kind.value, m.parent_no, m.starts_at.astimezone(policy.zone))
            for m in meetings_to_cancel(case, datetime.combine(today, time(), policy.zone))
        ),
    )


@dataclass(frozen=True)
class CaseDetails:
    """A family's details as the pair and the coordinators see them."""

    summary: CaseSummary
    family: Family
    referral_source: str
    safety_concern_open: bool
    package_size: int
    excluded_days: tuple[str, ...] = ()  # weekdays that never suit the family


@dataclass(frozen=True)
class QuotaReport:
    """A mediator's own quota card: packages used, cases waiting, experience."""

    mediator: Mediator
    usage: QuotaUsage
    waiting_cases: int
    experienced: bool
