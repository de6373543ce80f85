"""The bank's rules for who may sit in which seat, as plain functions.

They raise a :mod:`mediation.errors` error that names the numbers, or return quietly.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime

from mediation import errors
from mediation.case_types import Fill, SeatSpec
from mediation.model import Case, CaseStatus, Mediator, Meeting, MeetingStatus, Seat
from mediation.policy import BankPolicy, Term


@dataclass(frozen=True)
class QuotaUsage:
    """How many packages a mediator holds in a term and in its year."""

    term: Term
    term_used: int
    term_limit: int
    year_used: int
    year_limit: int

    @property
    def term_left(self) -> int:
        return max(0, self.term_limit - self.term_used)

    @property
    def year_left(self) -> int:
        return max(0, self.year_limit - self.year_used)


_SEATS_MOVE = {CaseStatus.OPEN, CaseStatus.PAIRED}


@dataclass(frozen=True)
class CardSnapshot:
    """What a case card showed when it was drawn; it can make an action refused, never allowed."""

    version: int
    status: CaseStatus
    holders: tuple[int | None, ...]  # each seat's holder id, in the order of the case's seats

    @classmethod
    def missing(cls) -> CardSnapshot:
        """A button that does not say what its card showed (drawn before buttons carried it,
        or data made by hand): it cannot be told current, so it never is."""
        return cls(-1, CaseStatus.OPEN, ())


def check_card_current(shown: CardSnapshot | None, case: Case, seat: int | None = None) -> None:
    """A card's action stands only if the case's status and its seat are as the card showed.

    ``seat`` is the seat a seat's action works on; an action on the whole case (a close, a
    cancel) needs every seat unchanged. A seat changed since the card was drawn makes the
    card stale even when it looks the same again (claimed and released since): a button
    sent again from an old card never repeats what was undone meanwhile.
    """
    if shown is None or shown.version == case.version:
        return  # not a card's action (a command, a job), or nothing changed since
    if not 0 <= shown.version < case.version:
        # No snapshot (CardSnapshot.missing()), or a version the case never had: no card
        # drawn from this case shows it.
        raise errors.StaleCard(case.code)
    # Seats fill and empty between open and paired: for a seat's action its holder tells.
    seats_moved = seat is not None and {shown.status, case.status} <= _SEATS_MOVE
    if shown.status is not case.status and not seats_moved:
        raise errors.StaleCard(case.code, status=case.status.value)
    for index, current in enumerate(case.seats):
        if seat is not None and current.n != seat:
            continue
        changed = index >= len(shown.holders) or shown.holders[index] != current.holder_id
        if changed or current.changed_in > shown.version:
            raise errors.StaleCard(case.code, seat=current.n)


def check_fill(case: Case, seat: Seat, fill: Fill) -> None:
    """A seat is filled only in a way its case type declares (claimed, assigned, invited…)."""
    if fill not in case.type.seat_spec(seat.role).fill:
        raise errors.NotAllowed("filling a seat", "the case's type fills it another way")


def check_available(mediator: Mediator, today: date) -> None:
    """Inactive and away mediators cannot take seats."""
    if not mediator.active:
        raise errors.MediatorInactive(mediator.name)
    period = mediator.away_on(today)
    if period is not None:
        raise errors.MediatorAway(mediator.name, period.end.isoformat())


def check_holds_seats(person: Mediator) -> None:
    """A booker books meetings and is never given a seat."""
    if person.is_booker:
        raise errors.BookerHoldsNoSeat(person.name)


def check_language(mediator: Mediator, case: Case) -> None:
    """A mediator must speak the family's language, unless an interpreter is booked."""
    if case.intake.interpreter:
        return
    if not mediator.speaks(case.intake.language):
        raise errors.LanguageMismatch(mediator.name, case.intake.language)


def check_pairing(
    case: Case,
    seat: Seat,
    candidate: Mediator,
    holders: Mapping[int, Mediator],
    policy: BankPolicy,
) -> None:
    """Enough experience must remain reachable once the candidate sits down.

    For the pair (two seats, one experienced) this reads: two new mediators never share a
    case, and a new mediator's partner must be experienced.
    """
    others = [holders[s.holder_id] for s in case.seats if s.n != seat.n and s.holder_id is not None]
    if candidate.id is not None and any(o.id == candidate.id for o in others):
        raise errors.SameMediatorTwice(candidate.name)
    check_employers(case, candidate, others)
    if candidate.is_experienced(policy):
        return
    experienced = sum(1 for o in others if o.is_experienced(policy))
    free_after = sum(1 for s in case.seats if s.n != seat.n and s.holder_id is None)
    if experienced + free_after < case.type.min_experienced:
        partner = next((o.name for o in others if not o.is_experienced(policy)), "-")
        raise errors.NeedsExperienced(partner)


def check_employers(case: Case, candidate: Mediator, others: list[Mediator]) -> None:
    """Where the case type asks for it, no two holders of a case share an employer."""
    if not case.type.distinct_employers:
        return
    employer = candidate.employer.strip().casefold()
    if any(o.employer.strip().casefold() == employer for o in others):
        raise errors.SameEmployer(candidate.name, candidate.employer)


def check_qualified(spec: SeatSpec, name: str, qualifications: frozenset[str]) -> None:
    """A seat's holder has every qualification the case type asks of that seat."""
    missing = sorted(spec.qualifications - qualifications)
    if missing:
        raise errors.NotQualified(name, spec.role, ", ".join(missing))


def seat_needs_experienced(
    case: Case, seat: Seat, holders: Mapping[int, Mediator], policy: BankPolicy
) -> bool:
    """Whether a free seat can only be taken by an experienced mediator (shown on the card)."""
    if not seat.free:
        return False
    experienced = sum(
        1 for h in case.holder_ids() if h in holders and holders[h].is_experienced(policy)
    )
    free_others = sum(1 for s in case.seats if s.free and s.n != seat.n)
    return experienced + free_others < case.type.min_experienced


def check_quota(usage: QuotaUsage, name: str = "you") -> None:
    """One more package must fit in both the term's and the year's quota."""
    if usage.term_used + 1 > usage.term_limit:
        raise errors.QuotaExceeded(usage.term.name, usage.term_used, usage.term_limit, name)
    if usage.year_used + 1 > usage.year_limit:
        raise errors.QuotaExceeded("year", usage.year_used, usage.year_limit, name)


def quota_problem(usage: QuotaUsage) -> errors.QuotaExceeded | None:
    """The quota refusal a claim would meet, if any (a coordinator may override it)."""
    try:
        check_quota(usage)
    except errors.QuotaExceeded as exc:
        return exc
    return None


def check_can_claim(
    case: Case,
    seat: Seat,
    mediator: Mediator,
    holders: Mapping[int, Mediator],
    policy: BankPolicy,
    today: date,
) -> None:
    """A mediator's own claim of a seat, in the order people ask; the quota, which counts
    the mediator's other cases, is ``check_quota`` after these."""
    check_fill(case, seat, Fill.CLAIM)
    check_available(mediator, today)
    if not seat.free:
        holder = holders.get(seat.holder_id) if seat.holder_id is not None else None
        raise errors.SeatTaken(seat.n, holder.name if holder else "?")
    check_language(mediator, case)
    check_pairing(case, seat, mediator, holders, policy)


def meetings_to_cancel(case: Case, now: datetime) -> list[Meeting]:
    """Closing or cancelling a case cancels its booked meetings that have not yet begun."""
    return sorted(
        (m for m in case.meetings if m.status is MeetingStatus.BOOKED and m.starts_at > now),
        key=lambda m: m.starts_at,
    )


def times_worked_together(cases: list[Case], one: int, other: int, except_case: int) -> int:
    """Two mediators have worked together on each other case where both hold a seat."""
    return sum(1 for c in cases if c.id != except_case and {one, other} <= set(c.holder_ids()))
