"""Sharing the bank's work fairly: whom a coordinator's assign list offers first, and why."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from mediation.views import CaseSummary


@dataclass(frozen=True)
class Roster:
    """The active mediators a coordinator may assign, with what their assign list weighs
    (or by name alone, ``names_only``)."""

    names: tuple[tuple[int, str], ...]  # (mediator id, name)
    term_quota: int  # the packages a mediator may take this term
    term_packages: Mapping[int, int] = field(default_factory=dict)  # by mediator id
    # (lower id, higher id): the cases on which both have held a seat, this one included.
    pairs: Mapping[tuple[int, int], int] = field(default_factory=dict)
    # False: the names alone, whose loads were not read (``names_only``).
    weighed: bool = True

    @classmethod
    def names_only(cls, names: tuple[tuple[int, str], ...]) -> Roster:
        """Whom a card may offer to assign, without their loads: enough for its "Assign"
        button, never for the list itself (``assign_choices`` refuses it)."""
        return cls(names, term_quota=0, weighed=False)

    def times_paired(self, one: int, other: int) -> int:
        return self.pairs.get((min(one, other), max(one, other)), 0) if one != other else 0


@dataclass(frozen=True)
class Workload:
    """What the assign lists weigh: this term's packages and who has shared cases."""

    term_quota: int
    term_packages: Mapping[int, int]  # by mediator id
    pairs: Mapping[tuple[int, int], int]  # as Roster.pairs

    def roster(self, names: tuple[tuple[int, str], ...]) -> Roster:
        return Roster(names, self.term_quota, self.term_packages, self.pairs)


@dataclass(frozen=True)
class AssignChoice:
    """One mediator on an assign list: this term's load, and whether they know the pair."""

    mediator_id: int
    name: str
    term_packages: int
    term_quota: int
    worked_together: int = 0  # other cases shared with the seat holders who stay


def assign_order(choices: Iterable[AssignChoice]) -> list[AssignChoice]:
    """First who has fewest packages this term, then who has not yet worked with the holders."""
    return sorted(
        choices,
        key=lambda c: (c.term_packages, c.worked_together > 0, c.name.casefold(), c.mediator_id),
    )


def assign_choices(
    roster: Roster, summary: CaseSummary, seat: int | None = None
) -> list[AssignChoice]:
    """A case's assign list in the order of ``assign_order``; ``seat`` is the one to be filled,
    so its holder (who would leave) is not counted among those to have worked with."""
    if not roster.weighed:
        raise ValueError("an assign list needs the mediators' loads, not their names alone")
    here = {s.holder_id for s in summary.seats if s.holder_id is not None}
    staying = [
        s.holder_id
        for s in summary.seats
        if s.holder_id is not None and (seat is None or s.n != seat)
    ]
    return assign_order(
        AssignChoice(
            mediator_id,
            name,
            roster.term_packages.get(mediator_id, 0),
            roster.term_quota,
            sum(_shared_before(roster, mediator_id, holder, here) for holder in staying),
        )
        for mediator_id, name in roster.names
    )


def _shared_before(roster: Roster, one: int, other: int, here: set[int]) -> int:
    """Cases the two have shared, this one aside."""
    shared = roster.times_paired(one, other)
    if one != other and one in here and other in here:
        shared -= 1  # both hold a seat on this case: it is one of them
    return max(shared, 0)
