"""The fair-sharing rule of the assign lists: fewest packages first, then pairs not yet met."""

from __future__ import annotations

import pytest

from mediation.policy import BankPolicy
from mediation.sharing import AssignChoice, Roster, assign_choices, assign_order
from mediation.views import CaseSummary, summarize
from tests.unit.factories import NOW, case, mediator

POLICY = BankPolicy()


def choice(mediator_id: int, name: str, packages: int, met: int = 0) -> AssignChoice:
    return AssignChoice(mediator_id, name, packages, 2, met)


def test_the_least_loaded_come_first() -> None:
    ordered = assign_order([choice(1, "Anna", 2), choice(2, "Bertta", 0), choice(3, "Cia", 1)])
    assert [c.mediator_id for c in ordered] == [2, 3, 1]


def test_of_two_as_loaded_who_has_not_met_the_holder_comes_first() -> None:
    ordered = assign_order(
        [choice(1, "Anna", 0, met=1), choice(2, "Bertta", 0), choice(3, "Cia", 1)]
    )
    assert [c.mediator_id for c in ordered] == [2, 1, 3]


def test_a_lighter_load_weighs_more_than_not_having_met() -> None:
    ordered = assign_order([choice(1, "Anna", 1), choice(2, "Bertta", 0, met=3)])
    assert [c.mediator_id for c in ordered] == [2, 1]


def test_names_break_the_remaining_ties_whatever_their_case() -> None:
    ordered = assign_order([choice(1, "bertta", 0), choice(2, "Anna", 0), choice(3, "cia", 0)])
    assert [c.name for c in ordered] == ["Anna", "bertta", "cia"]


def _summary(holders: dict[int, int]) -> CaseSummary:
    """A case whose seat n is held by mediator holders[n] (ids 1..4, named A..D)."""
    people = {i: mediator(name, id=i) for i, name in enumerate("ABCD", start=1)}
    c = case(7)
    for n, who in holders.items():
        c.take_seat(n, who, NOW)
    return summarize(c, people, POLICY, NOW.date())


def test_the_list_counts_the_cases_shared_with_the_holders_before_this_one() -> None:
    roster = Roster(
        ((1, "A"), (2, "B"), (3, "C"), (4, "D")),
        term_quota=2,
        term_packages={1: 1, 2: 1},
        pairs={(1, 2): 3, (1, 3): 1, (2, 4): 2},
    )
    summary = _summary({1: 1, 2: 2})
    by_id = {c.mediator_id: c for c in assign_choices(roster, summary)}
    assert by_id[1].worked_together == 2  # with B: this case itself is not "before"
    assert by_id[2].worked_together == 2
    assert by_id[3].worked_together == 1  # with A
    assert by_id[4].worked_together == 2  # with B
    assert (by_id[1].term_packages, by_id[3].term_packages, by_id[3].term_quota) == (1, 0, 2)


def test_filling_a_seat_weighs_only_the_holder_who_stays() -> None:
    roster = Roster(
        ((1, "A"), (2, "B"), (3, "C"), (4, "D")),
        term_quota=2,
        pairs={(1, 3): 1, (2, 4): 2, (3, 4): 5},
    )
    summary = _summary({1: 1, 2: 2})
    ordered = assign_choices(roster, summary, seat=2)
    # B leaves seat 2: having worked with B counts for nothing, with A for something.
    assert [(c.mediator_id, c.worked_together) for c in ordered] == [(1, 0), (2, 0), (4, 0), (3, 1)]


def test_with_both_seats_held_the_list_counts_both_holders() -> None:
    roster = Roster(((1, "A"), (2, "B"), (3, "C")), term_quota=2, pairs={(1, 3): 1, (2, 3): 2})
    (third,) = [c for c in assign_choices(roster, _summary({1: 1, 2: 2})) if c.mediator_id == 3]
    assert third.worked_together == 3


def test_names_without_their_loads_make_no_assign_list() -> None:
    names = Roster.names_only(((1, "A"), (2, "B")))
    assert names.names == ((1, "A"), (2, "B")) and not names.weighed
    with pytest.raises(ValueError, match="loads"):
        assign_choices(names, _summary({1: 1}))
